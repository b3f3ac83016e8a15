// Type declarations for snappyjs (block format), which ships without types; used by pkg/prompb and pkg/storepb.
declare module 'snappyjs' {
  export function compress<T extends Uint8Array | ArrayBuffer>(input: T): T;
  export function uncompress<T extends Uint8Array | ArrayBuffer>(input: T, maxLength?: number): T;
}
