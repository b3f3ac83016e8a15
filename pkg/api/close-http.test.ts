import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, test } from 'vitest';
import { closeHttp } from './close-http.js';

/** get asks the server once; resolves with the body, or with the error that ended the request. */
function get(port: number): Promise<{ body?: string; error?: Error }> {
  return new Promise((resolve) => {
    const req = request({ port, host: '127.0.0.1', path: '/' }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ body }));
      res.on('error', (error) => resolve({ error }));
    });
    req.on('error', (error) => resolve({ error }));
    req.end();
  });
}

describe('closeHttp', () => {
  let server: Server | undefined;
  afterEach(() => {
    server?.closeAllConnections();
    server?.close();
  });

  /** A server whose one request waits until release() is called; `arrived` resolves when it is in flight. */
  async function held(): Promise<{ port: number; arrived: Promise<void>; release: () => void }> {
    let release!: () => void;
    let arrived!: () => void;
    const released = new Promise<void>((r) => (release = r));
    const inFlight = new Promise<void>((r) => (arrived = r));
    server = createServer((_req, res) => {
      arrived();
      void released.then(() => res.end('done'));
    });
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
    return { port: (server.address() as AddressInfo).port, arrived: inFlight, release };
  }

  test('a request in flight finishes within the grace period, then the server is closed', async () => {
    const h = await held();
    const answer = get(h.port);
    await h.arrived;
    const closed = closeHttp(server!, 600_000);
    h.release();
    expect(await answer).toEqual({ body: 'done' });
    await closed;
    expect(server!.listening).toBe(false);
  });

  test('a request still in flight when the grace period ends is cut', async () => {
    const h = await held();
    const answer = get(h.port);
    await h.arrived;
    await closeHttp(server!, 0);
    expect(server!.listening).toBe(false);
    expect((await answer).error).toBeInstanceOf(Error);
  });
});
