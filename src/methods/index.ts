/** The methods layer: method specs, gradient oracles, communicators, traffic model, step sizes. */
export type { GradientOracle, Method, MethodEnv, MethodSpec, MethodState, TheoryStepInput, CompressorUse } from './types.js';
export { METHODS, methodSpec } from './registry.js';
export { gdSpec, type GdState } from './gd.js';
export { cgdSpec, type CgdState } from './cgd.js';
export { efSpec, type EfState } from './ef.js';
export { ef21Spec, type Ef21State } from './ef21.js';
export { topkSsgdSpec, type TopkSsgdState } from './topk-ssgd.js';
export { gtopkSpec, type GtopkState } from './gtopk.js';
export { createOracle, FullGradientOracle, MinibatchOracle, type OracleOptions } from './oracle.js';
export { TreeSum, TopKTreeReducer, applyAveragedUpdate, reductionRounds } from './communicator.js';
export * from './traffic.js';
export { parseStep, resolveStep, resolveStepSize, stepFromOption, cgdTheoryStep, ef21TheoryStep, contractionAlpha, type StepChoice, type StepContext } from './step.js';
export type { CountedMethodState } from './common.js';
