import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import { describe, expect, test } from 'vitest';
import { Labels } from '../labels/index.js';
import { AlertStateProto, RulesRequestType, decodeRulesRequest, decodeRulesResponse, encodeRulesRequest, encodeRulesResponse, type RulesResponse } from './index.js';

// Reference: protobufjs loading proto/rules/rulespb/rpc.proto (Thanos's field numbers).
const protoDir = join(fileURLToPath(import.meta.url), '../../../proto');
const root = new protobuf.Root();
root.resolvePath = (_origin, target) => (target.startsWith('google/') ? target : join(protoDir, target));
root.loadSync(['rules/rulespb/rpc.proto']);
const T = (name: string) => root.lookupType(name);
const toObjOpts: protobuf.IConversionOptions = { longs: String, enums: String, defaults: false, arrays: true, oneofs: true };

const T0 = 1_700_000_000_000;
const ls = (...nv: string[]) => Labels.fromStrings(...nv);
const lsObj = (l: Labels) => ({ labels: l.toArray().map((x) => ({ name: x.name, value: x.value })) });

const sample: RulesResponse = {
  group: {
    name: 'g',
    file: '/etc/rules/a.yml',
    interval: 30,
    evaluationDurationSeconds: 0.0012,
    lastEvaluation: T0 + 123.5,
    limit: 7,
    partialResponseStrategy: 1,
    rules: [
      {
        type: 'alerting',
        state: AlertStateProto.FIRING,
        name: 'HighLoad',
        query: 'load > 1',
        durationSeconds: 60,
        labels: ls('replica', 'r1', 'severity', 'page'),
        annotations: ls('summary', '{{ $value }}'),
        alerts: [{ labels: ls('alertname', 'HighLoad', 'job', 'j'), annotations: ls('summary', '2.5'), state: AlertStateProto.FIRING, activeAt: T0 - 5000, value: '2.5e+00', partialResponseStrategy: 1 }],
        health: 'ok',
        lastError: '',
        evaluationDurationSeconds: 0.0003,
        lastEvaluation: T0,
        keepFiringForSeconds: 120,
      },
      { type: 'recording', name: 'job:x', query: 'sum(x)', labels: Labels.EMPTY, health: 'err', lastError: 'boom', evaluationDurationSeconds: 0, lastEvaluation: undefined },
    ],
  },
};

const expectedObj = {
  group: {
    name: 'g',
    file: '/etc/rules/a.yml',
    interval: 30,
    evaluationDurationSeconds: 0.0012,
    lastEvaluation: { seconds: '1700000000', nanos: 123500000 },
    limit: '7',
    PartialResponseStrategy: 'ABORT',
    rules: [
      {
        alert: {
          state: 'FIRING',
          name: 'HighLoad',
          query: 'load > 1',
          durationSeconds: 60,
          labels: lsObj(ls('replica', 'r1', 'severity', 'page')),
          annotations: lsObj(ls('summary', '{{ $value }}')),
          alerts: [{ labels: lsObj(ls('alertname', 'HighLoad', 'job', 'j')), annotations: lsObj(ls('summary', '2.5')), state: 'FIRING', activeAt: { seconds: '1699999995' }, value: '2.5e+00', PartialResponseStrategy: 'ABORT' }],
          health: 'ok',
          evaluationDurationSeconds: 0.0003,
          lastEvaluation: { seconds: '1700000000' },
          keepFiringForSeconds: 120,
        },
        result: 'alert',
      },
      // Go's zero time for a never-evaluated rule: 0001-01-01T00:00:00Z
      { recording: { name: 'job:x', query: 'sum(x)', labels: { labels: [] }, health: 'err', lastError: 'boom', lastEvaluation: { seconds: '-62135596800' } }, result: 'recording' },
    ],
  },
  result: 'group',
};

describe('Rules API codec against protobufjs', () => {
  test('a RulesResponse group decodes in protobufjs to the expected message, and back', () => {
    const bytes = encodeRulesResponse(sample);
    const obj = T('thanos.RulesResponse').toObject(T('thanos.RulesResponse').decode(bytes), toObjOpts);
    expect(obj).toEqual(expectedObj);
    const back = decodeRulesResponse(T('thanos.RulesResponse').encode(T('thanos.RulesResponse').fromObject(expectedObj)).finish());
    expect(back.group?.rules).toHaveLength(2);
    expect(back).toEqual(sample);
  });

  test('warnings and requests round-trip', () => {
    expect(decodeRulesResponse(encodeRulesResponse({ warning: 'partial' }))).toEqual({ warning: 'partial' });
    const req = { type: RulesRequestType.ALERT, partialResponseStrategy: 1 as const, matcherString: ['{a="b"}'], ruleName: ['x', 'y'], ruleGroup: ['g'], file: ['f'] };
    const bytes = encodeRulesRequest(req);
    expect(T('thanos.RulesRequest').toObject(T('thanos.RulesRequest').decode(bytes), toObjOpts)).toEqual({
      type: 'ALERT',
      partialResponseStrategy: 'ABORT',
      matcherString: ['{a="b"}'],
      ruleName: ['x', 'y'],
      ruleGroup: ['g'],
      file: ['f'],
    });
    expect(decodeRulesRequest(bytes)).toEqual(req);
    expect(decodeRulesRequest(new Uint8Array(0))).toEqual({ type: 0, partialResponseStrategy: 0, matcherString: [], ruleName: [], ruleGroup: [], file: [] });
  });
});
