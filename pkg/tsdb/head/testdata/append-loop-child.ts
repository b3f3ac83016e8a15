// Child process of the kill -9 test (tsdb-wal.test.ts): opens a Tsdb in argv[2], then appends and
// commits batches of 50 series forever, printing "committed <t>" after each commit resolved.
import { Labels } from '../../../labels/index.js';
import { Tsdb } from '../tsdb.js';

const dir = process.argv[2]!;
const db = await Tsdb.open(dir);
const start = db.head.maxTime() > -Infinity ? db.head.maxTime() + 1000 : 1_000_000;
process.stdout.write(`ready ${db.replay.samples}\n`);
const labels = Array.from({ length: 50 }, (_, i) => Labels.fromStrings('__name__', 'rec', 'i', String(i)));
const refs = labels.map(() => 0);
for (let t = start; ; t += 1000) {
  const app = db.appender();
  for (let i = 0; i < labels.length; i++) refs[i] = app.append(refs[i]!, labels[i]!, t, t / 1000 + i);
  await app.commit();
  process.stdout.write(`committed ${t}\n`);
}
