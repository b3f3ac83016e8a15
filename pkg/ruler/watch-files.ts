import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';

/**
 * watchFiles calls onChange (debounced by debounceMs) when one of files is written, created,
 * renamed or removed, as Prometheus's file SD reacts to file events between its refresh intervals.
 * The directories are watched, so a file replaced by rename (the safe way to update SD files) is
 * seen too. A directory that cannot be watched is skipped (the refresh interval still applies).
 * Returns the function that stops watching.
 */
export function watchFiles(files: readonly string[], onChange: () => void, debounceMs = 100): () => void {
  const byDir = new Map<string, Set<string>>();
  for (const f of files) {
    const p = resolve(f);
    const names = byDir.get(dirname(p)) ?? new Set<string>();
    names.add(basename(p));
    byDir.set(dirname(p), names);
  }
  let timer: NodeJS.Timeout | undefined;
  const fire = (): void => {
    clearTimeout(timer);
    timer = setTimeout(onChange, debounceMs);
    timer.unref();
  };
  const watchers: FSWatcher[] = [];
  for (const [dir, names] of byDir) {
    try {
      const w = watch(dir, { persistent: false }, (_event, name) => {
        if (name === null || names.has(String(name))) fire();
      });
      w.on('error', () => w.close());
      watchers.push(w);
    } catch {
      // not watchable (missing directory, no inotify): the refresh interval still applies
    }
  }
  return () => {
    clearTimeout(timer);
    for (const w of watchers) w.close();
  };
}
