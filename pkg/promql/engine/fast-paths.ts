/**
 * fastPaths switches the engine's whole-query shortcuts: aggregation and vector matching computed
 * once per series instead of once per step, and series of chunk-serving storages (local blocks)
 * decoded chunk by chunk instead of through merged sample iterators. They must give results
 * identical to the plain path; tests turn them off to compare. Not exported from the package.
 */
export const fastPaths = { enabled: true };
