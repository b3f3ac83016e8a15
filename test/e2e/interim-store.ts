// TEMPORARY: stands in for `tessera store` until cmd/store.ts lands. Serves the blocks of a local
// dir over the StoreAPI with external labels. Usage: interim-store.ts <dir> <grpc-port> <http-port> k=v...
import { createServer } from 'node:http';
import { Labels } from '../../pkg/labels/index.js';
import { LocalStore, StoreGrpcServer } from '../../pkg/store/index.js';
import { openDB } from '../../pkg/tsdb/index.js';

const [dir, grpcPort, httpPort, ...lbls] = process.argv.slice(2);
const db = await openDB(dir!);
const ext = Labels.fromRecord(Object.fromEntries(lbls.map((l) => l.split('=') as [string, string])));
const minTime = Math.min(...db.blocks.map((b) => b.minTime));
const maxTime = Math.max(...db.blocks.map((b) => b.maxTime));
const srv = new StoreGrpcServer(new LocalStore({ queryable: db, externalLabels: ext, componentType: 'store', timeRange: () => ({ minTime, maxTime }) }));
await srv.listen(`127.0.0.1:${grpcPort}`);
createServer((_req, res) => res.end('ok')).listen(Number(httpPort), '127.0.0.1');
