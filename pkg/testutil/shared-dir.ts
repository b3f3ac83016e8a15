import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * SHARED_DIR is the project's shared/ folder (specs, PromQL scripts, the data generator). It sits
 * beside the repository checkout (`<checkout>/../shared`), both here and in CI, which clones the
 * repository elsewhere; TESSERA_SHARED_DIR overrides it.
 */
export const SHARED_DIR = process.env['TESSERA_SHARED_DIR'] ?? resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'shared');

/** GEN_OPENMETRICS is the realistic OpenMetrics data generator (shared/bench/gen-openmetrics.mjs). */
export const GEN_OPENMETRICS = process.env['TESSERA_GEN_OPENMETRICS'] ?? join(SHARED_DIR, 'bench', 'gen-openmetrics.mjs');

/** PROMQL_TESTS_DIR holds the upstream PromQL test scripts (the engine's specification). */
export const PROMQL_TESTS_DIR = join(SHARED_DIR, 'promql-tests');
