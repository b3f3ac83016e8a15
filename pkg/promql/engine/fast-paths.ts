/**
 * fastPaths switches the engine's whole-query evaluation shortcuts (aggregation and vector
 * matching computed once per series instead of once per step). They must give results identical
 * to per-step evaluation; tests turn them off to compare. Not exported from the package.
 */
export const fastPaths = { enabled: true };
