// A query worker module that loads but never says it is ready (as a worker stuck while loading):
// an interval keeps its thread alive. Used by worker-query-engine.test.ts.
setInterval(() => {}, 1000);
