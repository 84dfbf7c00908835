/**
 * Dataset resolution (spec §6): a PATH is read as is; a NAME is looked up in --data-dir, then
 * $DCOMP_DATA_DIR, then the user cache, then the copies shipped in the package, and otherwise
 * downloaded from the registry's URL into the cache, SHA-256 verified. The caller passes every
 * location in (this layer never reads the environment) and draws any progress bar itself.
 */
import { statSync } from 'node:fs';
import { mkdir, open, rename, rm, type FileHandle } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { join, sep } from 'node:path';
import { DcompError, UsageError } from '../core/errors.js';
import { embeddedDatasetDir, findDataset, loadRegistry, type DatasetInfo } from './datasets.js';
import { readLibsvmFile, textSha256, type LibsvmFile } from './libsvm.js';
import { isBzip2 } from './bzip2.js';

export interface DatasetLocations {
  /** `--data-dir`: searched first; must be a directory when given. */
  dataDir?: string;
  /** `$DCOMP_DATA_DIR`, read by the CLI and passed in. Skipped when it is not a directory. */
  envDataDir?: string;
  /** The user cache root (e.g. ~/.cache/dcomp); datasets live in its `datasets/` subdirectory. */
  cacheDir?: string;
  /** Where the shipped copies live; default the package's `datasets/`. */
  embeddedDir?: string;
  /** Default: the package's registry. */
  registry?: readonly DatasetInfo[];
}

export interface DownloadOptions {
  /** Default: the global fetch. Injectable for tests. */
  fetch?: typeof fetch;
  /** Called as bytes arrive; `total` is undefined when the server does not say. */
  onDownloadProgress?: (received: number, total: number | undefined) => void;
  signal?: AbortSignal;
}

export type ResolveOptions = DatasetLocations & DownloadOptions & {
  /** Allow downloading a NAME that is not found locally (default true). */
  download?: boolean;
};

export type DatasetSource = 'path' | 'data-dir' | 'env' | 'cache' | 'embedded' | 'downloaded';

export interface ResolvedDataset {
  /** The NAME, or the PATH as given. */
  readonly name: string;
  /** The file to read (plain text or .bz2). */
  readonly path: string;
  readonly source: DatasetSource;
  /** The registry entry, for a NAME the registry knows. */
  readonly info: DatasetInfo | undefined;
}

/** How each source is called in messages and in `dcomp datasets list`. */
export const SOURCE_LABELS: Readonly<Record<DatasetSource, string>> = {
  path: 'path',
  'data-dir': '--data-dir',
  env: '$DCOMP_DATA_DIR',
  cache: 'cache',
  embedded: 'embedded',
  downloaded: 'downloaded',
};

/** The directory inside the user cache that holds downloaded datasets. */
export function datasetCacheDir(cacheDir: string): string {
  return join(cacheDir, 'datasets');
}

/** A PATH contains a slash or names an existing file; anything else is a NAME. */
export function isDatasetPath(spec: string): boolean {
  return spec.includes('/') || spec.includes(sep) || isFile(spec);
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** `name`, then `name.bz2`, in `dir`. */
function findIn(dir: string, name: string): string | undefined {
  for (const candidate of [join(dir, name), join(dir, `${name}.bz2`)]) {
    if (isFile(candidate)) return candidate;
  }
  return undefined;
}

function checkName(name: string): void {
  if (name === '' || name === '.' || name === '..') throw new UsageError(`--dataset must be a dataset name or a path, got '${name}'`);
}

/** Every local copy of NAME, in resolution order (no download). */
export function locateDataset(name: string, locations: DatasetLocations = {}): ResolvedDataset[] {
  checkName(name);
  const registry = locations.registry ?? loadRegistry();
  const info = findDataset(name, registry);
  const found: ResolvedDataset[] = [];
  if (locations.dataDir !== undefined) {
    if (!isDirectory(locations.dataDir)) throw new UsageError(`--data-dir must be a directory; ${locations.dataDir} is not one`);
    const path = findIn(locations.dataDir, name);
    if (path !== undefined) found.push({ name, path, source: 'data-dir', info });
  }
  const dirs: [string | undefined, DatasetSource][] = [
    [locations.envDataDir, 'env'],
    [locations.cacheDir === undefined ? undefined : datasetCacheDir(locations.cacheDir), 'cache'],
  ];
  for (const [dir, source] of dirs) {
    if (dir === undefined || dir === '' || !isDirectory(dir)) continue;
    const path = findIn(dir, name);
    if (path !== undefined) found.push({ name, path, source, info });
  }
  if (info?.embedded !== undefined) {
    const path = join(locations.embeddedDir ?? embeddedDatasetDir(), info.embedded);
    if (isFile(path)) found.push({ name, path, source: 'embedded', info });
  }
  return found;
}

/** Where NAME or PATH is read from, downloading a registry dataset into the cache if needed. */
export async function resolveDataset(spec: string, options: ResolveOptions = {}): Promise<ResolvedDataset> {
  if (isDatasetPath(spec)) return { name: spec, path: spec, source: 'path', info: undefined };
  const local = locateDataset(spec, options);
  if (local.length > 0) return local[0];
  const registry = options.registry ?? loadRegistry();
  const info = findDataset(spec, registry);
  if (info === undefined) {
    const searched = searchedPlaces(options);
    throw new DcompError(
      `dataset '${spec}' not found (looked in ${searched}) and not in the registry ` +
        `(known: ${registry.map((d) => d.name).join(', ')}). Pass a path to a LIBSVM file, or put ${spec} in --data-dir.`,
    );
  }
  if (options.download === false) {
    throw new DcompError(`dataset '${spec}' is not available locally (looked in ${searchedPlaces(options)}); run 'dcomp datasets fetch ${spec}'`);
  }
  if (options.cacheDir === undefined) throw new DcompError(`dataset '${spec}' is not available locally and there is no cache directory to download it into`);
  const path = await downloadDataset(info, datasetCacheDir(options.cacheDir), options);
  return { name: spec, path, source: 'downloaded', info };
}

function searchedPlaces(locations: DatasetLocations): string {
  const places: string[] = [];
  if (locations.dataDir !== undefined) places.push(`--data-dir ${locations.dataDir}`);
  if (locations.envDataDir) places.push(`$DCOMP_DATA_DIR ${locations.envDataDir}`);
  if (locations.cacheDir !== undefined) places.push(`cache ${datasetCacheDir(locations.cacheDir)}`);
  return places.length > 0 ? places.join(', ') : 'no directories';
}

function offlineError(info: DatasetInfo, reason: string): DcompError {
  return new DcompError(
    `could not download ${info.name} from ${info.url} (${reason}). To work offline, point --data-dir ` +
      `(or DCOMP_DATA_DIR) at a directory holding a copy of the LIBSVM file named ${info.name} or ${info.name}.bz2.`,
  );
}

function describeNetworkError(err: unknown): string {
  if (err instanceof Error) {
    const cause = (err as Error & { cause?: unknown }).cause;
    if (cause instanceof Error) {
      const code = (cause as NodeJS.ErrnoException).code;
      return code !== undefined ? `${err.message}: ${code}` : `${err.message}: ${cause.message}`;
    }
    return err.message;
  }
  return String(err);
}

/**
 * Downloads a registry dataset into `targetDir` (the cache's datasets directory): streamed into a temp file in the same directory,
 * SHA-256 of the uncompressed text checked, then renamed to `name` (or `name.bz2` if the server sent
 * bzip2). On any failure the temp file is removed, so the cache never holds a partial file.
 */
export async function downloadDataset(info: DatasetInfo, targetDir: string, options: DownloadOptions = {}): Promise<string> {
  const fetchImpl = options.fetch ?? globalThis.fetch;
  try {
    await mkdir(targetDir, { recursive: true });
  } catch (err) {
    throw new DcompError(`cannot create the cache directory ${targetDir}: ${err instanceof Error ? err.message : String(err)}`);
  }
  const temp = join(targetDir, `.${info.name}.${process.pid}.${randomBytes(4).toString('hex')}.part`);
  let handle: FileHandle | undefined;
  try {
    let response: Response;
    try {
      response = await fetchImpl(info.url, { signal: options.signal, redirect: 'follow' });
    } catch (err) {
      throw offlineError(info, describeNetworkError(err));
    }
    if (!response.ok || response.body === null) {
      throw offlineError(info, `HTTP ${response.status}${response.statusText ? ' ' + response.statusText : ''}`);
    }
    // with a content-encoding the body arrives decoded and the length header counts encoded bytes
    const encoded = (response.headers.get('content-encoding') ?? 'identity') !== 'identity';
    const lengthHeader = Number(response.headers.get('content-length'));
    const total = !encoded && Number.isFinite(lengthHeader) && lengthHeader > 0 ? lengthHeader : undefined;
    handle = await open(temp, 'wx');
    const head = new Uint8Array(4);
    let received = 0;
    options.onDownloadProgress?.(0, total);
    try {
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
        if (received < head.length) head.set(chunk.subarray(0, head.length - received), received);
        await handle.write(chunk);
        received += chunk.length;
        options.onDownloadProgress?.(received, total);
      }
    } catch (err) {
      throw offlineError(info, `connection lost after ${received} bytes: ${describeNetworkError(err)}`);
    }
    await handle.close();
    handle = undefined;
    if (total !== undefined && received !== total) throw offlineError(info, `received ${received} of ${total} bytes`);
    const { sha256 } = await textSha256(temp, info.url);
    if (sha256 !== info.sha256) {
      throw new DcompError(
        `${info.url}: the downloaded ${info.name} has SHA-256 ${sha256}, but the registry expects ${info.sha256}; the file was not kept`,
      );
    }
    const finalPath = join(targetDir, isBzip2(head) ? `${info.name}.bz2` : info.name);
    await rename(temp, finalPath);
    return finalPath;
  } catch (err) {
    await handle?.close().catch(() => undefined);
    await rm(temp, { force: true });
    throw err;
  }
}

export interface VerifyResult {
  readonly resolved: ResolvedDataset;
  readonly sha256: string;
  /** The registry's hash, when the dataset is a registry NAME. */
  readonly expected: string | undefined;
  readonly ok: boolean;
}

/** SHA-256 of a resolved dataset's uncompressed text against the registry. */
export async function verifyDataset(resolved: ResolvedDataset): Promise<VerifyResult> {
  const { sha256 } = await textSha256(resolved.path);
  const expected = resolved.source === 'path' ? undefined : resolved.info?.sha256;
  return { resolved, sha256, expected, ok: expected === undefined || expected === sha256 };
}

export function checksumMismatch(path: string, name: string, actual: string, expected: string): DcompError {
  return new DcompError(`${path}: SHA-256 ${actual} does not match the registry's ${expected} for ${name}`);
}

export type LoadedDataset = LibsvmFile & { readonly resolved: ResolvedDataset };

export interface LoadOptions extends ResolveOptions {
  /** `--features d`. */
  features?: number;
  /** The label pair of a training file, to map a test file alike. */
  labels?: readonly number[];
}

/**
 * Resolves NAME or PATH and parses it. A registry NAME is checked against the registry's SHA-256
 * wherever it was found (a different file under a known name would silently change results).
 */
export async function loadDataset(spec: string, options: LoadOptions = {}): Promise<LoadedDataset> {
  const resolved = await resolveDataset(spec, options);
  const data = await readLibsvmFile(resolved.path, { features: options.features, labels: options.labels });
  if (resolved.source !== 'path' && resolved.info !== undefined && data.sha256 !== resolved.info.sha256) {
    throw checksumMismatch(resolved.path, resolved.name, data.sha256, resolved.info.sha256);
  }
  return { ...data, resolved };
}
