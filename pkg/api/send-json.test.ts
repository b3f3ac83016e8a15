import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { gunzipSync } from 'node:zlib';
import { request } from 'node:http';
import { afterEach, describe, expect, test } from 'vitest';
import { sendJson } from './send-json.js';

/** FakeRes is a ServerResponse stand-in whose writes complete only when release() is called. */
class FakeRes extends Writable {
  statusCode = 0;
  headersSent = false;
  readonly headers = new Map<string, string>();
  readonly written: string[] = [];
  pending: (() => void)[] = [];
  constructor() {
    super({ highWaterMark: 16, decodeStrings: false });
  }
  setHeader(k: string, v: string): void {
    this.headers.set(k.toLowerCase(), v);
  }
  override _write(chunk: string | Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.headersSent = true;
    this.written.push(String(chunk));
    this.pending.push(() => cb());
  }
  release(): void {
    const p = this.pending;
    this.pending = [];
    for (const f of p) f();
  }
}

const req = { headers: {} } as IncomingMessage;
const asRes = (r: FakeRes) => r as unknown as ServerResponse;
const tick = () => new Promise((r) => setImmediate(r));

function* counted(n: number, piece: string, state: { pulled: number }, failAt = -1): Generator<string> {
  for (let i = 0; i < n; i++) {
    if (i === failAt) throw new Error('serialization failed');
    state.pulled++;
    yield piece;
  }
}

describe('sendJson with a slow client', () => {
  test('pulls a new piece only when the previous write has drained (backpressure)', async () => {
    const res = new FakeRes();
    const state = { pulled: 0 };
    const done = sendJson(req, asRes(res), 200, counted(100, 'x'.repeat(100), state), 250);
    await tick();
    // The first write gathered ≥ 250 chars (3 pieces) plus one piece pulled ahead; then it waits.
    expect(res.written.map((w) => w.length)).toEqual([300]);
    expect(state.pulled).toBe(4);
    await tick();
    expect(state.pulled).toBe(4);
    let finished = false;
    void done.then(() => (finished = true));
    while (!finished) {
      res.release();
      await tick();
    }
    expect(res.written.join('')).toBe('x'.repeat(100 * 100));
    for (const w of res.written) expect(w.length).toBeLessThanOrEqual(2 * 250);
    expect(res.statusCode).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
  });

  test('stops pulling when the client goes away', async () => {
    const res = new FakeRes();
    const state = { pulled: 0 };
    const done = sendJson(req, asRes(res), 200, counted(1000, 'y'.repeat(100), state), 250);
    await tick();
    res.emit('close');
    await done;
    expect(state.pulled).toBeLessThan(10);
  });

  test('an error before the first write leaves the status free; after it, the connection is closed', async () => {
    const early = new FakeRes();
    await expect(sendJson(req, asRes(early), 200, counted(10, 'z', { pulled: 0 }, 2), 250)).rejects.toThrow('serialization failed');
    expect(early.headersSent).toBe(false);
    expect(early.written).toEqual([]);

    const late = new FakeRes();
    const done = sendJson(req, asRes(late), 200, counted(100, 'z'.repeat(100), { pulled: 0 }, 10), 250);
    let failed: unknown;
    void done.catch((err: unknown) => (failed = err));
    while (failed === undefined) {
      late.release();
      await tick();
    }
    expect(String(failed)).toContain('serialization failed');
    expect(late.destroyed).toBe(true);
  });
});

describe('sendJson over HTTP', () => {
  let server: Server | undefined;
  afterEach(async () => {
    if (server !== undefined) await new Promise((r) => server!.close(r));
    server = undefined;
  });

  async function serve(pieces: () => Iterable<string>, pieceSize: number): Promise<{ url: string; writes: number[] }> {
    const writes: number[] = [];
    server = createServer((rq, rs) => {
      const write = rs.write.bind(rs) as (c: unknown) => boolean;
      rs.write = ((c: string | Buffer) => {
        writes.push(c.length);
        return write(c);
      }) as typeof rs.write;
      void sendJson(rq, rs, 200, pieces(), pieceSize);
    });
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
    return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, writes };
  }

  function fetchRaw(url: string, headers: Record<string, string> = {}): Promise<{ headers: IncomingMessage['headers']; body: Buffer }> {
    return new Promise((resolve, reject) => {
      request(url, { headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ headers: res.headers, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      })
        .on('error', reject)
        .end();
    });
  }

  const big = () => Array.from({ length: 3000 }, (_, i) => `{"i":${i},"s":"${'é'.repeat(i % 50)}"},`);

  test('a small answer is one write with a Content-Length', async () => {
    const { url, writes } = await serve(() => ['{"a":', '1}'], 1024);
    const r = await fetchRaw(url);
    expect(r.body.toString()).toBe('{"a":1}');
    expect(r.headers['content-length']).toBe('7');
    expect(writes).toEqual([]); // res.end(body), no res.write
  });

  test('a large answer is streamed in bounded writes and arrives byte-identical', async () => {
    const want = big().join('');
    const { url, writes } = await serve(big, 4096);
    const r = await fetchRaw(url);
    expect(r.headers['transfer-encoding']).toBe('chunked');
    expect(r.body.toString()).toBe(want);
    expect(writes.length).toBeGreaterThan(10);
    for (const w of writes) expect(w).toBeLessThanOrEqual(4096 + 200);
  });

  test('gzip is streamed too', async () => {
    const want = big().join('');
    const { url } = await serve(big, 4096);
    const r = await fetchRaw(url, { 'Accept-Encoding': 'gzip' });
    expect(r.headers['content-encoding']).toBe('gzip');
    expect(gunzipSync(r.body).toString()).toBe(want);
  });
});
