import fc from 'fast-check';

// Property tests run with a fixed seed so a CI run is reproducible; set FAST_CHECK_SEED to explore
// other inputs locally. A failing property prints its seed and counterexample either way.
const seed = Number(process.env['FAST_CHECK_SEED'] ?? 20261125);
fc.configureGlobal({ seed });
