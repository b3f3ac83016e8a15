import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** PROMQL_TESTS_COMMIT is the Prometheus commit whose scripts ratchet.json was recorded against. */
const PROMQL_TESTS_COMMIT = 'd15adb9ad7e5d9fbde3a9a8f30200593a5a14d86';

/** The optional default place: `shared/promql-tests` beside the checkout (the project's CI has it). */
const besideCheckout = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'shared', 'promql-tests');

/**
 * requirePromqlTests returns the directory of the upstream PromQL test scripts (the engine's
 * specification, data from the Prometheus repository): `TESSERA_PROMQL_TESTS` when set (a missing
 * directory there is an error), else `../shared/promql-tests` beside the checkout when present.
 * Otherwise it prints one message saying where to get them and returns undefined, so the tests
 * that need them skip; this is not a failure even under CI=true (a fresh clone has no scripts).
 */
export function requirePromqlTests(): string | undefined {
  const env = process.env['TESSERA_PROMQL_TESTS'];
  if (env !== undefined && env !== '') {
    if (!existsSync(env)) throw new Error(`TESSERA_PROMQL_TESTS=${env}: no such directory of PromQL test scripts`);
    return env;
  }
  if (existsSync(besideCheckout)) return besideCheckout;
  console.warn(
    `\n*** SKIPPING tests that need the upstream PromQL test scripts: TESSERA_PROMQL_TESTS is not set and ${besideCheckout} does not exist. ` +
      `They are promql/promqltest/testdata/*.test of the Prometheus repository (https://github.com/prometheus/prometheus, ` +
      `commit ${PROMQL_TESTS_COMMIT} matches ratchet.json); point TESSERA_PROMQL_TESTS at that directory. ***\n`,
  );
  return undefined;
}
