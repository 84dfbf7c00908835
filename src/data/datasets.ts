/** The dataset registry `datasets/registry.json`: what dcomp knows about each named LIBSVM dataset. */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { DcompError } from '../core/errors.js';

const datasetSchema = z.object({
  name: z.string().regex(/^[A-Za-z0-9._-]+$/),
  /** Where the LIBSVM page serves the file. */
  url: z.url(),
  /** SHA-256 (hex) of the uncompressed LIBSVM text. */
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  rows: z.number().int().positive(),
  /** Largest feature index in the file. */
  features: z.number().int().positive(),
  nnz: z.number().int().nonnegative(),
  /** The two raw labels, ascending: [0] → -1, [1] → +1. */
  labels: z.array(z.number()).length(2),
  /** Bytes of the uncompressed text. */
  size: z.number().int().positive(),
  /** File name of the copy shipped in `datasets/`, when there is one. */
  embedded: z.string().optional(),
  note: z.string().optional(),
});

const registrySchema = z.object({
  datasets: z.array(datasetSchema),
});

export type DatasetInfo = z.infer<typeof datasetSchema>;

let cachedRoot: string | undefined;
let cachedRegistry: readonly DatasetInfo[] | undefined;

/**
 * The package root: the nearest ancestor of this module holding `datasets/registry.json`. Found by
 * walking up so it is the same from `src/data` (tsx) and `dist/src/data` (compiled).
 */
export function packageRoot(): string {
  if (cachedRoot !== undefined) return cachedRoot;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'datasets', 'registry.json'))) {
      cachedRoot = dir;
      return dir;
    }
    const parent = dirname(dir);
    if (parent === dir) throw new DcompError('cannot find datasets/registry.json above ' + fileURLToPath(import.meta.url));
    dir = parent;
  }
}

/** Directory of the copies shipped with the package (`datasets/`). */
export function embeddedDatasetDir(): string {
  return join(packageRoot(), 'datasets');
}

/** Parses and checks a registry document. */
export function parseRegistry(json: unknown, file = 'datasets/registry.json'): DatasetInfo[] {
  const parsed = registrySchema.safeParse(json);
  if (!parsed.success) {
    throw new DcompError(`${file}: not a valid dataset registry: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  }
  const names = new Set<string>();
  for (const d of parsed.data.datasets) {
    if (names.has(d.name)) throw new DcompError(`${file}: dataset ${d.name} is listed twice`);
    names.add(d.name);
    if (!(d.labels[0] < d.labels[1])) throw new DcompError(`${file}: ${d.name}: labels must be ascending`);
  }
  return parsed.data.datasets;
}

/** The registry shipped with the package (read once). */
export function loadRegistry(): readonly DatasetInfo[] {
  if (cachedRegistry !== undefined) return cachedRegistry;
  const file = join(packageRoot(), 'datasets', 'registry.json');
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new DcompError(`${file}: cannot read the dataset registry: ${err instanceof Error ? err.message : String(err)}`);
  }
  cachedRegistry = parseRegistry(json, file);
  return cachedRegistry;
}

export function findDataset(name: string, registry: readonly DatasetInfo[] = loadRegistry()): DatasetInfo | undefined {
  return registry.find((d) => d.name === name);
}
