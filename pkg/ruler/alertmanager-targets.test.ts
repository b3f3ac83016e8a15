import { describe, expect, test } from 'vitest';
import { alertmanagerConfigFromUrl, parseAlertmanagerUrl, parseAlertmanagersConfig } from './alertmanager-targets.js';
import { parseQueryConfig } from './query-config.js';

describe('Alertmanager targets', () => {
  test('--alertmanagers.url: static URLs keep their port and path prefix; dns+ defaults to port 9093', () => {
    expect(parseAlertmanagerUrl('http://am:9093')).toEqual({ kind: 'static', scheme: 'http', address: 'am:9093', pathPrefix: '' });
    expect(parseAlertmanagerUrl('https://am.example/prefix/')).toEqual({ kind: 'static', scheme: 'https', address: 'am.example:443', pathPrefix: '/prefix' });
    expect(parseAlertmanagerUrl('dns+http://alertmanager.svc')).toEqual({ kind: 'dns', scheme: 'http', address: 'alertmanager.svc:9093', pathPrefix: '' });
    expect(parseAlertmanagerUrl('dnssrv+http://_web._tcp.am.svc/x')).toEqual({ kind: 'dnssrv', scheme: 'http', address: '_web._tcp.am.svc', pathPrefix: '/x' });
    expect(() => parseAlertmanagerUrl('am:9093')).toThrow(/--alertmanagers.url "am:9093"/);
    expect(() => parseAlertmanagerUrl('ftp://am')).toThrow(/scheme must be http or https/);
  });

  test('--alertmanagers.url: user:password in the URL becomes basic auth (as Thanos), dns+ keeps its prefix for discovery', () => {
    expect(alertmanagerConfigFromUrl('https://u:p%40ss@am:9443/x/', 5000)).toEqual({
      http: { basicAuth: { username: 'u', password: 'p@ss' } },
      timeoutMs: 5000,
      endpoints: { scheme: 'https', pathPrefix: '/x', staticAddresses: ['am:9443'], fileSd: [] },
    });
    expect(alertmanagerConfigFromUrl('dns+http://am.svc', 1).endpoints.staticAddresses).toEqual(['dns+am.svc:9093']);
  });

  test('--alertmanagers.config: http_config, static and file SD, scheme, path_prefix, timeout; unsupported parts are errors naming the file', () => {
    const cfg = parseAlertmanagersConfig(
      [
        'alertmanagers:',
        '  - static_configs: ["am1:9093", "dns+am2:9093"]',
        '    scheme: https',
        '    path_prefix: /am/',
        '    timeout: 5s',
        '    api_version: v2',
        '    http_config:',
        '      basic_auth: {username: u, password_file: /pw}',
        '      tls_config: {ca_file: /ca.crt, server_name: am.test, insecure_skip_verify: false}',
        '      proxy_url: http://proxy:3128',
        '  - file_sd_configs: [{files: [/sd.json, /sd.yml], refresh_interval: 10s}, {files: [/other.yml]}]',
        '    http_config: {bearer_token_file: /token}',
        '',
      ].join('\n'),
      'am.yml',
    );
    expect(cfg).toEqual([
      {
        http: { basicAuth: { username: 'u', passwordFile: '/pw' }, tls: { caFile: '/ca.crt', serverName: 'am.test', insecureSkipVerify: false }, proxyUrl: new URL('http://proxy:3128') },
        endpoints: { scheme: 'https', pathPrefix: '/am', staticAddresses: ['am1:9093', 'dns+am2:9093'], fileSd: [] },
        timeoutMs: 5000,
      },
      {
        http: { bearerTokenFile: '/token' },
        endpoints: { scheme: 'http', pathPrefix: '', staticAddresses: [], fileSd: [{ files: ['/sd.json', '/sd.yml'], refreshIntervalMs: 10_000 }, { files: ['/other.yml'], refreshIntervalMs: 300_000 }] },
        timeoutMs: 10_000,
      },
    ]);
    expect(parseAlertmanagersConfig('', 'e.yml')).toEqual([]);
    for (const [text, want] of [
      ['alertmanagers:\n  - api_version: v1\n', /am.yml: alertmanagers\[0\]: api_version v1 is not supported \(only v2/],
      ['alertmanagers:\n  - api_version: v3\n', /expected Alertmanager API version to be one of \[v1 v2\] but got "v3"/],
      ['alertmanagers:\n  - static_config: []\n', /am.yml: alertmanagers\[0\]: unknown field "static_config"/],
      ['alertmanagers:\n  - file_sd_configs: [{files: []}]\n', /file_sd_configs\[0\]: files must be a non-empty list/],
      ['alertmanagers:\n  - file_sd_configs: [{files: ["/sd/*.json"]}]\n', /glob patterns are not supported/],
      ['alertmanagers:\n  - file_sd_configs: [{files: [/x], refresh_interval: never}]\n', /refresh_interval "never" is not a positive duration/],
      ['alertmanagers:\n  - http_config: {basic_auth: {username: u, password: p, password_file: /f}}\n', /http_config: at most one of basic_auth password & password_file/],
      ['alertmanagers:\n  - http_config: {bearer_token: t, basic_auth: {username: u}}\n', /at most one of basic_auth, bearer_token & bearer_token_file/],
      ['alertmanagers:\n  - http_config: {tls_config: {cert_file: /c}}\n', /client cert file "\/c" specified without client key file/],
      ['alertmanagers:\n  - http_config: {oauth2: {}}\n', /http_config: unknown field "oauth2"/],
      ['alertmanagers:\n  - http_config: {proxy_url: "socks5://p:1"}\n', /only http:\/\/ proxies are supported/],
      ['alertmanagers:\n  - static_configs: ["http://am:9093"]\n', /must be an address \(host:port\), without a scheme/],
      ['foo: 1\n', /am.yml: want a map with the single key "alertmanagers"/],
      ['alertmanagers:\n  - timeout: soon\n', /timeout "soon" is not a duration/],
    ] as const) {
      expect(() => parseAlertmanagersConfig(text, 'am.yml'), text).toThrow(want);
    }
  });

  test('--query.config: a list of http_config + endpoints; grpc_config refused', () => {
    expect(parseQueryConfig('- static_configs: [q1:10902]\n  scheme: https\n  path_prefix: thanos\n  http_config: {bearer_token: t}\n- file_sd_configs: [{files: [/q.yml], refresh_interval: 1m}]\n', 'q.yml')).toEqual([
      { http: { bearerToken: 't' }, endpoints: { scheme: 'https', pathPrefix: '/thanos', staticAddresses: ['q1:10902'], fileSd: [] } },
      { http: {}, endpoints: { scheme: 'http', pathPrefix: '', staticAddresses: [], fileSd: [{ files: ['/q.yml'], refreshIntervalMs: 60_000 }] } },
    ]);
    expect(() => parseQueryConfig('- grpc_config: {endpoint_addresses: [q:10901]}\n', 'q.yml')).toThrow(/q.yml: \[0\]: grpc_config is not supported/);
    expect(() => parseQueryConfig('static_configs: [q:1]\n', 'q.yml')).toThrow(/q.yml: want a list/);
    expect(() => parseQueryConfig('- statics: [q:1]\n', 'q.yml')).toThrow(/unknown field "statics"/);
  });
});
