/** Where the tests read the real LIBSVM files: $DCOMP_DATA_DIR (CI: ../shared/datasets), as an absolute path. */
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

// From dist/test/ the repository root is ../.., and ../shared sits beside the repository.
export const DATA_DIR = resolve(process.env.DCOMP_DATA_DIR ?? fileURLToPath(new URL('../../../shared/datasets', import.meta.url)));

/** The path of a named dataset file in DATA_DIR. */
export function datasetPath(name: string): string {
  return join(DATA_DIR, name);
}
