import { describe, expect, test } from 'vitest';
import { ApiError, toApiError } from '../api/index.js';
import { TesseraError } from '../errors/index.js';
import { ErrQueryCanceled, ErrTooManySamples, ParseError, QueryError, parseExpr } from '../promql/index.js';
import { GrpcCode, StoreError } from '../store/index.js';
import { fromWireError, toWireError } from './wire-error.js';

/** roundTrip sends err through structured clone, as postMessage does. */
function roundTrip(err: unknown): Error {
  return fromWireError(structuredClone(toWireError(err)));
}

describe('wire errors', () => {
  test('a PromQL parse error comes back as a ParseError with its position', () => {
    let err: unknown;
    try {
      parseExpr('sum(x');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ParseError);
    const back = roundTrip(err);
    expect(back).toBeInstanceOf(ParseError);
    expect(back).toBeInstanceOf(SyntaxError);
    const p = back as ParseError;
    const o = err as ParseError;
    expect([p.message, p.code, p.positionRange, p.query, p.detail, p.name]).toEqual([o.message, o.code, o.positionRange, o.query, o.detail, o.name]);
    expect(toApiError(back, 'query')).toEqual(toApiError(err, 'query'));
  });

  test.each([
    ['too many samples', new ErrTooManySamples('query execution')],
    ['canceled with its cause', new ErrQueryCanceled('query execution', new ApiError('canceled', 'context canceled'))],
    ['api error', new ApiError('timeout', 'query timed out in query queue')],
    ['store error', new StoreError(GrpcCode.Unavailable, 'receive series from store x: connection refused')],
    ['tessera error', new TesseraError('TESSERA_UNAVAILABLE', 'no store')],
    ['timeout DOMException', AbortSignal.abort(new DOMException('signal timed out', 'TimeoutError')).reason],
    ['plain error with an errorType', Object.assign(new Error('boom'), { errorType: 'unavailable' })],
    ['a string', 'just text'],
  ])('%s keeps its class, code, errorType and message', (_name, err) => {
    const back = roundTrip(err);
    const api = toApiError(back, 'query');
    const want = toApiError(err, 'query');
    expect([api.errorType, api.message, api.code]).toEqual([want.errorType, want.message, want.code]);
    if (err instanceof Error) {
      expect(back.name).toBe(err.name);
      expect(back.message).toBe(err.message);
      const code = (err as { code?: unknown }).code;
      if (typeof code === 'string') expect((back as { code?: unknown }).code).toBe(code); // DOMException's numeric code is not kept
      for (const cls of [QueryError, ApiError, StoreError, TesseraError]) expect(back instanceof cls).toBe(err instanceof cls);
    }
    if (err instanceof StoreError) expect((back as StoreError).grpcCode).toBe(err.grpcCode);
    if (err instanceof ErrQueryCanceled) expect((back.cause as Error).message).toBe('context canceled');
  });
});
