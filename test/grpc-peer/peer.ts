/**
 * The Go gRPC peer (test/grpc-peer/main.go) for tests that need a non-Node gRPC server: built with
 * `go build` into os.tmpdir(), cached by a hash of main.go, go.mod and go.sum, and fed frames that
 * Tessera's own storepb encoders wrote.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { access, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import {
  encodeInfoResponse,
  encodeLabelNamesResponse,
  encodeLabelValuesResponse,
  encodeLegacyInfoResponse,
  encodeSeriesResponse,
  type InfoResponse,
  type LegacyInfoResponse,
  type SeriesResponse,
} from '../../pkg/storepb/index.js';
import { startProcess, waitFor, type ManagedProcess } from '../../pkg/testutil/index.js';

const run = promisify(execFile);
const SRC = dirname(fileURLToPath(import.meta.url));

/** PeerBuild says where the peer binary is and how long getting it took. */
export interface PeerBuild {
  readonly bin: string;
  readonly cached: boolean;
  readonly ms: number;
}

/** buildGrpcPeer returns the peer binary, building it with go (the binary at goBin) unless a build of the same sources is cached. */
export async function buildGrpcPeer(goBin: string): Promise<PeerBuild> {
  const t0 = Date.now();
  const h = createHash('sha256');
  for (const f of ['main.go', 'go.mod', 'go.sum']) h.update(f).update(await readFile(join(SRC, f)));
  const dir = join(tmpdir(), `tessera-grpc-peer-${h.digest('hex').slice(0, 16)}`);
  const bin = join(dir, 'grpc-peer');
  try {
    await access(bin);
    return { bin, cached: true, ms: Date.now() - t0 };
  } catch {
    // not built yet
  }
  await mkdir(dir, { recursive: true });
  const tmp = `${bin}.${process.pid}.tmp`;
  try {
    await run(goBin, ['build', '-o', tmp, '.'], { cwd: SRC, timeout: 600_000, maxBuffer: 16 << 20, env: { ...process.env, CGO_ENABLED: '0' } });
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(`build test/grpc-peer with ${goBin}: ${e.message}\n${e.stdout ?? ''}${e.stderr ?? ''}`, { cause: err });
  }
  await rename(tmp, bin); // atomic: a concurrent build of the same sources replaces it with the same thing
  return { bin, cached: false, ms: Date.now() - t0 };
}

/** PeerFrames are the answers the peer replays, whatever it is asked. */
export interface PeerFrames {
  readonly info: InfoResponse;
  readonly legacyInfo: LegacyInfoResponse;
  readonly labelNames: readonly string[];
  readonly labelValues: readonly string[];
  readonly series: Iterable<SeriesResponse>;
}

/** writePeerFrames encodes frames into dir in the layout main.go reads; returns the number of Series frames. */
export async function writePeerFrames(dir: string, frames: PeerFrames): Promise<number> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'info.bin'), encodeInfoResponse(frames.info));
  await writeFile(join(dir, 'store-info.bin'), encodeLegacyInfoResponse(frames.legacyInfo));
  await writeFile(join(dir, 'label-names.bin'), encodeLabelNamesResponse({ names: frames.labelNames, warnings: [] }));
  await writeFile(join(dir, 'label-values.bin'), encodeLabelValuesResponse({ values: frames.labelValues, warnings: [] }));
  const parts: Uint8Array[] = [];
  let n = 0;
  for (const f of frames.series) {
    const msg = encodeSeriesResponse(f);
    const head = new Uint8Array(4);
    new DataView(head.buffer).setUint32(0, msg.length);
    parts.push(head, msg);
    n++;
  }
  await writeFile(join(dir, 'series.bin'), Buffer.concat(parts));
  return n;
}

/** RunningPeer is a started peer and its gRPC address. */
export interface RunningPeer {
  readonly process: ManagedProcess;
  readonly address: string;
}

/** startGrpcPeer starts the peer over a frames dir on a free port and waits until it says where it listens. */
export async function startGrpcPeer(bin: string, framesDir: string): Promise<RunningPeer> {
  const proc = startProcess(bin, ['-frames', framesDir, '-listen', '127.0.0.1:0']);
  try {
    const address = await waitFor('grpc-peer to listen', async () => {
      if (proc.proc.exitCode !== null) throw new Error(`grpc-peer exited with ${proc.proc.exitCode}: ${proc.output()}`);
      return /listening (\S+)/.exec(proc.output())?.[1];
    }, 30_000, 50);
    return { process: proc, address };
  } catch (err) {
    await proc.kill();
    throw err;
  }
}
