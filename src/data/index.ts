export type { CsrMatrix, LabeledData, SplitMode } from './types.js';
export { SPLIT_MODES } from './types.js';
export { parseLibsvm, readLibsvmFile, textSha256, streamText, parseDecimal, LibsvmParser } from './libsvm.js';
export type { LibsvmOptions, LibsvmFileOptions, LibsvmFile } from './libsvm.js';
export { isBzip2, bunzip2, bunzip2Chunks } from './bzip2.js';
export { splitShards, rowOrder, SPLIT_RNG_STREAM, holdoutRows, holdoutSplit, HOLDOUT_RNG_STREAM } from './split.js';
export type { HoldoutRows } from './split.js';
export { selectRows, selectLabeledRows, toCsc, toDense, nnzOf } from './csr.js';
export type { CscMatrix } from './csr.js';
export { loadRegistry, findDataset, parseRegistry, packageRoot, embeddedDatasetDir } from './datasets.js';
export type { DatasetInfo } from './datasets.js';
export {
  resolveDataset,
  locateDataset,
  downloadDataset,
  verifyDataset,
  loadDataset,
  isDatasetPath,
  datasetCacheDir,
  SOURCE_LABELS,
} from './resolve.js';
export type {
  DatasetLocations,
  DownloadOptions,
  ResolveOptions,
  DatasetSource,
  ResolvedDataset,
  VerifyResult,
  LoadedDataset,
  LoadOptions,
} from './resolve.js';
