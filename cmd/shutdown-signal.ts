import type { Logger } from '../pkg/block/index.js';

/** ShutdownSignal is a component's stop signal: aborted by SIGTERM or SIGINT, or by abort(). */
export interface ShutdownSignal {
  readonly signal: AbortSignal;
  /** stopped resolves once the signal has aborted (at once when it already has). */
  stopped(): Promise<void>;
  /** abort aborts the signal from inside (the component stops on its own). */
  abort(): void;
  /** dispose removes the SIGTERM and SIGINT handlers; call it when the component has stopped. */
  dispose(): void;
}

/**
 * shutdownOnSignals returns a ShutdownSignal that aborts on the first SIGTERM or SIGINT, logging
 * `shutting down` with the signal's name. With withReason the abort reason is an Error `received
 * <SIGNAL>`, else the default AbortError.
 */
export function shutdownOnSignals(logger: Logger, withReason = false): ShutdownSignal {
  const ac = new AbortController();
  const onSignal = (sig: string) => () => {
    logger.info('shutting down', { signal: sig });
    if (withReason) ac.abort(new Error(`received ${sig}`));
    else ac.abort();
  };
  const onTerm = onSignal('SIGTERM');
  const onInt = onSignal('SIGINT');
  process.once('SIGTERM', onTerm);
  process.once('SIGINT', onInt);
  return {
    signal: ac.signal,
    stopped: () =>
      new Promise<void>((resolve) => {
        if (ac.signal.aborted) resolve();
        else ac.signal.addEventListener('abort', () => resolve(), { once: true });
      }),
    abort: () => ac.abort(),
    dispose: () => {
      process.off('SIGTERM', onTerm);
      process.off('SIGINT', onInt);
    },
  };
}
