import { expect, test } from 'vitest';
import { Labels } from '../labels/index.js';
import { Head } from '../tsdb/index.js';
import { chunkForStateLookup } from './for-state-lookup.js';

test('chunkForStateLookup returns the newest ALERTS_FOR_STATE sample of exactly that series inside the window', async () => {
  const head = new Head({ samplesPerChunk: 4 });
  const a = Labels.fromStrings('__name__', 'ALERTS_FOR_STATE', 'alertname', 'A', 'job', 'j');
  const longer = Labels.fromStrings('__name__', 'ALERTS_FOR_STATE', 'alertname', 'A', 'instance', 'i', 'job', 'j');
  for (let t = 1000; t <= 10_000; t += 1000) {
    const app = head.appender();
    app.append(0, a, t, 100 + t / 1000);
    app.append(0, longer, t + 500, 999);
    await app.commit();
  }
  const lookup = chunkForStateLookup(head);
  // several chunks: the newest sample wins, the series with more labels is not mixed in
  expect(await lookup(a, 0, 20_000)).toEqual({ t: 10_000, v: 110 });
  // the window bounds are honoured
  expect(await lookup(a, 0, 5_500)).toEqual({ t: 5_000, v: 105 });
  expect(await lookup(a, 10_001, 20_000)).toBeUndefined();
  expect(await lookup(Labels.fromStrings('__name__', 'ALERTS_FOR_STATE', 'alertname', 'B'), 0, 20_000)).toBeUndefined();
});
