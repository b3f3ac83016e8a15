import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

/** ReadText reads a small text file, or returns undefined when it is missing or unreadable. */
export type ReadText = (path: string) => string | undefined;

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/**
 * cgroupCpuQuota returns how many CPUs the process's cgroup may use: quota / period of cgroup v2's
 * cpu.max, or of cgroup v1's cpu.cfs_quota_us and cpu.cfs_period_us (a container's CPU limit,
 * e.g. Kubernetes resources.limits.cpu); undefined without a quota or off Linux.
 */
export function cgroupCpuQuota(read: ReadText = readText): number | undefined {
  const self = read('/proc/self/cgroup') ?? '';
  const v2 = /^0::(\/.*)$/m.exec(self)?.[1]?.trim();
  if (v2 !== undefined) {
    for (const dir of v2 === '/' ? ['/sys/fs/cgroup'] : [`/sys/fs/cgroup${v2}`, '/sys/fs/cgroup']) {
      const max = read(`${dir}/cpu.max`);
      if (max === undefined) continue;
      const [quota, period] = max.trim().split(/\s+/);
      if (quota === 'max') return undefined;
      const q = Number(quota);
      const p = Number(period ?? 100_000);
      return q > 0 && p > 0 ? q / p : undefined;
    }
  }
  let v1 = '/';
  for (const line of self.split('\n')) {
    const [, controllers, path] = line.split(':');
    if (controllers !== undefined && path !== undefined && controllers.split(',').includes('cpu')) v1 = path.trim();
  }
  const dirs = ['cpu', 'cpu,cpuacct'].flatMap((c) => (v1 === '/' ? [`/sys/fs/cgroup/${c}`] : [`/sys/fs/cgroup/${c}${v1}`, `/sys/fs/cgroup/${c}`]));
  for (const dir of dirs) {
    const quota = read(`${dir}/cpu.cfs_quota_us`);
    if (quota === undefined) continue;
    const q = Number(quota.trim());
    const p = Number((read(`${dir}/cpu.cfs_period_us`) ?? '100000').trim());
    return q > 0 && p > 0 ? q / p : undefined;
  }
  return undefined;
}

/**
 * availableCores is the number of CPUs this process can use: the cores it may run on, lowered to
 * its cgroup CPU quota rounded down (at least 1), as Thanos's GOMAXPROCS is under automaxprocs.
 */
export function availableCores(read: ReadText = readText, parallelism: number = availableParallelism()): number {
  const quota = cgroupCpuQuota(read);
  return quota === undefined ? parallelism : Math.min(parallelism, Math.max(1, Math.floor(quota)));
}
