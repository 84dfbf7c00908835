/**
 * f* cached on disk per (dataset sha256, problem, λ, split, n, seed, shard sizes, holdout) (spec §2), so that a matrix of
 * runs on the same configuration solves the optimum once. The cache directory is passed in by the
 * caller; this layer never decides where results live.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SPEC_VERSION } from '../core/version.js';
import { solveOptimum, type OptimumOptions } from './optimum.js';
import type { Problem } from './types.js';

export interface OptimumKey {
  readonly datasetSha256: string;
  readonly problem: string;
  readonly l2: number;
  readonly split: string;
  readonly workers: number;
  readonly seed: number;
  /** balanced | floor: the shards' sizes change f when they differ (spec v2 §1). */
  readonly shardSizes?: string;
  /** The holdout share: the training rows differ (spec v2 §1). */
  readonly holdout?: number;
}

export interface CachedOptimum {
  readonly fStar: number;
  readonly gradNorm: number;
}

/** The key in a fixed field order (with the spec version), so equal keys serialise identically. */
function canonicalKey(key: OptimumKey): string {
  return JSON.stringify({
    spec: SPEC_VERSION,
    datasetSha256: key.datasetSha256,
    problem: key.problem,
    l2: key.l2,
    split: key.split,
    workers: key.workers,
    seed: key.seed,
    shardSizes: key.shardSizes ?? 'balanced',
    holdout: key.holdout ?? null,
  });
}

/** Where the cached optimum for `key` lives: <cacheDir>/optimum/<sha256 of the canonical key>.json. */
export function optimumCachePath(key: OptimumKey, cacheDir: string): string {
  const hash = createHash('sha256').update(canonicalKey(key)).digest('hex');
  return join(cacheDir, 'optimum', `${hash}.json`);
}

function readCached(path: string, canonical: string): CachedOptimum | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
  try {
    const parsed = JSON.parse(text) as Record<string, unknown>;
    const { fStar, gradNorm, key } = parsed;
    // A file for another key (hash collision or hand edit) or with damaged numbers is ignored.
    if (typeof fStar !== 'number' || !Number.isFinite(fStar)) return undefined;
    if (typeof gradNorm !== 'number' || !Number.isFinite(gradNorm)) return undefined;
    if (JSON.stringify(key) !== canonical) return undefined;
    return { fStar, gradNorm };
  } catch {
    return undefined;
  }
}

/** Writes to a temporary file in the same directory and renames, so readers never see a partial file. */
function writeAtomically(path: string, text: string): void {
  const dir = join(path, '..');
  mkdirSync(dir, { recursive: true });
  const temp = `${path}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    writeFileSync(temp, text);
    renameSync(temp, path);
  } catch (error) {
    rmSync(temp, { force: true });
    throw error;
  }
}

/**
 * f* and the gradient norm reached, from the cache when present and valid, else solved (and stored
 * when `cacheDir` is given). Undefined for non-convex problems. A cache that cannot be written is not
 * an error: the value is still returned.
 */
export function cachedOptimum(
  problem: Problem,
  key: OptimumKey,
  cacheDir: string | undefined,
  options?: OptimumOptions,
): CachedOptimum | undefined {
  if (!problem.convex) return undefined;
  const canonical = canonicalKey(key);
  const path = cacheDir === undefined ? undefined : optimumCachePath(key, cacheDir);
  if (path !== undefined) {
    const hit = readCached(path, canonical);
    if (hit) return hit;
  }
  const solved = solveOptimum(problem, options);
  if (!solved) return undefined;
  const result = { fStar: solved.fStar, gradNorm: solved.gradNorm };
  if (path !== undefined) {
    try {
      writeAtomically(path, `${JSON.stringify({ key: JSON.parse(canonical), ...result }, null, 2)}\n`);
    } catch {
      // read-only or full cache directory: the run goes on with the freshly computed value
    }
  }
  return result;
}
