// Child process of the kill -9 tests (tsdb-wal.test.ts): opens a Tsdb in argv[2] (block duration
// argv[3] ms, default 2h), then appends and commits batches of 50 series forever, one commit per
// second of sample time, printing "committed <t>" after each commit resolved.
import { Labels } from '../../../labels/index.js';
import { Tsdb } from '../tsdb.js';

const dir = process.argv[2]!;
const blockDuration = process.argv[3] === undefined ? undefined : Number(process.argv[3]);
const db = await Tsdb.open(dir, blockDuration === undefined ? {} : { blockDuration, onCompactError: (err) => process.stderr.write(`compact: ${String(err)}\n`) });
const last = db.timeRange().maxTime;
const start = last >= 1_000_000 ? last + 1000 : 1_000_000;
process.stdout.write(`ready ${db.replay.samples} blocks ${db.blocks().length}\n`);
const labels = Array.from({ length: 50 }, (_, i) => Labels.fromStrings('__name__', 'rec', 'i', String(i)));
const refs = labels.map(() => 0);
for (let t = start; ; t += 1000) {
  const app = db.appender();
  for (let i = 0; i < labels.length; i++) refs[i] = app.append(refs[i]!, labels[i]!, t, t / 1000 + i);
  await app.commit();
  process.stdout.write(`committed ${t}\n`);
}
