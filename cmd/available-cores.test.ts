import { describe, expect, test } from 'vitest';
import { availableCores, cgroupCpuQuota } from './available-cores.js';
import { workerThreadsFlag } from './query.js';

const files = (m: Record<string, string>) => (path: string) => m[path];

describe('availableCores', () => {
  test('cgroup v2: cpu.max quota / period, of the process cgroup or the root', () => {
    expect(cgroupCpuQuota(files({ '/proc/self/cgroup': '0::/\n', '/sys/fs/cgroup/cpu.max': '200000 100000\n' }))).toBe(2);
    expect(cgroupCpuQuota(files({ '/proc/self/cgroup': '0::/\n', '/sys/fs/cgroup/cpu.max': 'max 100000\n' }))).toBeUndefined();
    expect(cgroupCpuQuota(files({ '/proc/self/cgroup': '0::/kubepods/pod1/c1\n', '/sys/fs/cgroup/kubepods/pod1/c1/cpu.max': '150000 100000\n' }))).toBe(1.5);
    expect(cgroupCpuQuota(files({ '/proc/self/cgroup': '0::/kubepods/pod1/c1\n', '/sys/fs/cgroup/cpu.max': '50000 100000\n' }))).toBe(0.5);
  });

  test('cgroup v1: cpu.cfs_quota_us / cpu.cfs_period_us; -1 is no quota', () => {
    const self = '4:memory:/x\n2:cpu,cpuacct:/\n';
    expect(cgroupCpuQuota(files({ '/proc/self/cgroup': self, '/sys/fs/cgroup/cpu/cpu.cfs_quota_us': '300000\n', '/sys/fs/cgroup/cpu/cpu.cfs_period_us': '100000\n' }))).toBe(3);
    expect(cgroupCpuQuota(files({ '/proc/self/cgroup': self, '/sys/fs/cgroup/cpu/cpu.cfs_quota_us': '-1\n', '/sys/fs/cgroup/cpu/cpu.cfs_period_us': '100000\n' }))).toBeUndefined();
    expect(cgroupCpuQuota(files({ '/proc/self/cgroup': '3:cpu:/docker/abc\n', '/sys/fs/cgroup/cpu/docker/abc/cpu.cfs_quota_us': '100000', '/sys/fs/cgroup/cpu/docker/abc/cpu.cfs_period_us': '100000' }))).toBe(1);
    expect(cgroupCpuQuota(files({}))).toBeUndefined();
  });

  test('the quota rounded down (at least 1) caps the cores: auto worker threads follow a container CPU limit', () => {
    const limit = (cpuMax: string) => files({ '/proc/self/cgroup': '0::/\n', '/sys/fs/cgroup/cpu.max': cpuMax });
    expect(availableCores(limit('max 100000'), 64)).toBe(64);
    expect(availableCores(limit('400000 100000'), 64)).toBe(4);
    expect(availableCores(limit('150000 100000'), 64)).toBe(1);
    expect(availableCores(limit('50000 100000'), 64)).toBe(1);
    expect(availableCores(limit('1600000 100000'), 2)).toBe(2);
    // A pod limited to 1 CPU on a 64-core node evaluates on the main thread, not in 8 workers.
    expect(workerThreadsFlag('auto', availableCores(limit('100000 100000'), 64))).toBe(0);
    expect(workerThreadsFlag('auto', availableCores(limit('300000 100000'), 64))).toBe(3);
  });
});
