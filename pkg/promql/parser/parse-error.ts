import type { PositionRange } from './ast.js';

/**
 * ParseError is a PromQL syntax or type error. Its message is formatted like Prometheus's
 * ParseErr.Error(): `<line>:<col>: parse error: <text>`, where the column counts bytes of the UTF-8
 * query from 1. `positionRange` holds byte offsets into the query, as Prometheus reports them.
 */
export class ParseError extends SyntaxError {
  /** code is the stable error code shared by every ParseError. */
  readonly code = 'TESSERA_PROMQL_PARSE';
  /** positionRange is the [start, end) byte range of the culprit in the query. */
  readonly positionRange: PositionRange;
  /** query is the text that was parsed. */
  readonly query: string;
  /** detail is the bare error text, without the position prefix. */
  readonly detail: string;

  constructor(detail: string, positionRange: PositionRange, query: string) {
    super(`${formatPosition(query, positionRange.start)}: parse error: ${detail}`);
    this.name = 'ParseError';
    this.detail = detail;
    this.positionRange = positionRange;
    this.query = query;
  }
}

/**
 * formatPosition renders a byte offset into the query as Prometheus's `line:col`
 * (PositionRange.StartPosInput): lines count from 1, the column is the byte distance from the
 * last newline before the offset.
 */
export function formatPosition(query: string, bytePos: number): string {
  if (bytePos < 0) return 'unknown position';
  const bytes = new TextEncoder().encode(query);
  if (bytePos > bytes.length) return 'invalid position';
  let line = 1;
  let lastBreak = -1;
  for (let i = 0; i < bytePos; i++) {
    if (bytes[i] === 0x0a) {
      line++;
      lastBreak = i;
    }
  }
  return `${line}:${bytePos - lastBreak}`;
}
