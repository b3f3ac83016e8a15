import { currentRequestScope } from '../pkg/errors/index.js';

/**
 * installProcessGuards keeps a server component alive when an error escapes every handler: an
 * unhandled promise rejection or an uncaught exception is logged (logfmt on stderr, with the request
 * it came from when the code ran in a RequestScope) and fails that request only. Without them Node
 * ends the process on either, taking every other request with it; only a signal may end a
 * component. Lines are logfmt, or JSON objects with format 'json' (--log.format). Returns a function
 * that removes the guards.
 */
export function installProcessGuards(component: string, write: (line: string) => void = (l) => void process.stderr.write(l), format: 'logfmt' | 'json' = 'logfmt'): () => void {
  const line = (fields: readonly (readonly [string, string])[]): string =>
    format === 'json' ? `${JSON.stringify(Object.fromEntries(fields))}\n` : `${fields.map(([k, v]) => `${k}=${/^[\w.:/+-]+$/.test(v) ? v : JSON.stringify(v)}`).join(' ')}\n`;
  const handle = (kind: string) => (err: unknown) => {
    const scope = currentRequestScope();
    const e = err instanceof Error ? err : undefined;
    const fields: [string, string][] = [
      ['ts', new Date().toISOString()],
      ['level', 'error'],
      ['component', component],
      ['msg', `${kind}; the process keeps running`],
      ...(scope !== undefined ? ([['request', scope.what]] as [string, string][]) : []),
      ['err', e?.message ?? String(err)],
      ...(e?.stack !== undefined ? ([['stack', e.stack]] as [string, string][]) : []),
    ];
    write(line(fields));
    if (scope !== undefined) {
      try {
        scope.fail(err);
      } catch (failErr) {
        write(line([['ts', new Date().toISOString()], ['level', 'error'], ['component', component], ['msg', `fail request after ${kind}`], ['request', scope.what], ['err', String(failErr)]]));
      }
    }
  };
  const onRejection = handle('unhandled rejection');
  const onException = handle('uncaught exception');
  process.on('unhandledRejection', onRejection);
  process.on('uncaughtException', onException);
  return () => {
    process.off('unhandledRejection', onRejection);
    process.off('uncaughtException', onException);
  };
}
