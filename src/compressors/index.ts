/** Public surface of the compressors layer. */
export type {
  WireMessage,
  CompressContext,
  Compressor,
  CompressorOptions,
  CompressorTheory,
  KnownClasses,
  CompressorSpec,
} from './types.js';
export { TopKSelector, sortIndicesAscending } from './select.js';
export { indexBits, sparseBits, denseBits, decodeInto, addScaledInto, sparseMessage, denseMessage } from './wire.js';
export { requireK, K_OPTION } from './options.js';
export { identitySpec } from './identity.js';
export { topkSpec } from './topk.js';
export { randkSpec, UniformSubsetSampler } from './randk.js';
export { brandkSpec } from './brandk.js';
export { adaptiveSpec, AdaptiveSampler } from './adaptive.js';
export { COMPRESSORS, compressorSpec } from './registry.js';
