import { describe, expect, test } from 'vitest';
import { parseAlertmanagerUrl, parseAlertmanagersConfig } from './alertmanager-targets.js';

describe('Alertmanager targets', () => {
  test('--alertmanagers.url: static URLs keep their port and path prefix; dns+ defaults to port 9093', () => {
    expect(parseAlertmanagerUrl('http://am:9093')).toEqual({ kind: 'static', scheme: 'http', address: 'am:9093', pathPrefix: '' });
    expect(parseAlertmanagerUrl('https://am.example/prefix/')).toEqual({ kind: 'static', scheme: 'https', address: 'am.example:443', pathPrefix: '/prefix' });
    expect(parseAlertmanagerUrl('dns+http://alertmanager.svc')).toEqual({ kind: 'dns', scheme: 'http', address: 'alertmanager.svc:9093', pathPrefix: '' });
    expect(parseAlertmanagerUrl('dnssrv+http://_web._tcp.am.svc/x')).toEqual({ kind: 'dnssrv', scheme: 'http', address: '_web._tcp.am.svc', pathPrefix: '/x' });
    expect(() => parseAlertmanagerUrl('am:9093')).toThrow(/--alertmanagers.url "am:9093"/);
    expect(() => parseAlertmanagerUrl('ftp://am')).toThrow(/scheme must be http or https/);
  });

  test('--alertmanagers.config: static_configs with scheme, path_prefix and timeout; unsupported parts are errors naming the file', () => {
    const cfg = parseAlertmanagersConfig(
      'alertmanagers:\n  - static_configs: ["am1:9093", "dns+am2:9093"]\n    scheme: https\n    path_prefix: /am\n    timeout: 5s\n    api_version: v2\n  - static_configs: ["am3:9093"]\n',
      'am.yml',
    );
    expect(cfg.targets).toEqual([
      { kind: 'static', scheme: 'https', address: 'am1:9093', pathPrefix: '/am' },
      { kind: 'dns', scheme: 'https', address: 'am2:9093', pathPrefix: '/am' },
      { kind: 'static', scheme: 'http', address: 'am3:9093', pathPrefix: '' },
    ]);
    expect(cfg.timeoutMs).toBe(5000);
    expect(parseAlertmanagersConfig('', 'e.yml')).toEqual({ targets: [], timeoutMs: undefined });
    expect(() => parseAlertmanagersConfig('alertmanagers:\n  - api_version: v1\n', 'am.yml')).toThrow(/am.yml: alertmanagers\[0\]: api_version v1 is not supported/);
    expect(() => parseAlertmanagersConfig('alertmanagers:\n  - static_config: []\n', 'am.yml')).toThrow(/am.yml: alertmanagers\[0\]: unknown field "static_config"/);
    expect(() => parseAlertmanagersConfig('alertmanagers:\n  - file_sd_configs: [{files: [x]}]\n', 'am.yml')).toThrow(/file_sd_configs is not supported yet/);
    expect(() => parseAlertmanagersConfig('foo: 1\n', 'am.yml')).toThrow(/am.yml: want a map with the single key "alertmanagers"/);
    expect(() => parseAlertmanagersConfig('alertmanagers:\n  - timeout: soon\n', 'am.yml')).toThrow(/timeout "soon" is not a duration/);
  });
});
