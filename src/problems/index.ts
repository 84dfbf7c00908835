/** Public surface of the problems layer. */
export type { LocalObjective, Problem, ProblemOptions, ProblemSpec, Smoothness } from './types.js';
export { PROBLEMS, problemSpec } from './registry.js';
export { logregSpec, logregNonconvexSpec, LogregProblem, LogregShard, softplus, sigmoid } from './logreg.js';
export type { RegulariserKind, LogregSpec } from './logreg.js';
export { symmetricLambdaMax, gramLambdaMax, averagedGramLambdaMax, logregSmoothness } from './smoothness.js';
export type { LambdaMaxOptions, LambdaMaxResult } from './smoothness.js';
export { solveOptimum } from './optimum.js';
export type { HessianVectorProblem, OptimumOptions, OptimumResult } from './optimum.js';
export { cachedOptimum, optimumCachePath } from './optimum-cache.js';
export type { OptimumKey, CachedOptimum } from './optimum-cache.js';
export { mlpSpec, MlpProblem, MlpShard, mlpLayout, mlpInitialize, mlpGradientFlops, MLP_OPTIONS } from './mlp.js';
export type { MlpLayout, MlpKernelChoice, MlpCreateOptions, MlpSpec } from './mlp.js';
export { initialPoint, INIT_RNG_STREAM } from './initial-point.js';
