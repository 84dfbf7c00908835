/** Splitting the rows across n workers (spec §1). */
import { UsageError } from '../core/errors.js';
import type { Rng } from '../core/rng.js';
import type { LabeledData, SplitMode } from './types.js';
import { selectLabeledRows } from './csr.js';

/** Stream name for the split's generator: `createRng(seed, SPLIT_RNG_STREAM)`. */
export const SPLIT_RNG_STREAM = 'split';

/** How the ordered rows are cut (spec v2 §1, `--shard-sizes`). */
export type ShardSizes = 'balanced' | 'floor';
export const SHARD_SIZES: readonly ShardSizes[] = ['balanced', 'floor'];

/**
 * Row indices owned by each worker: the rows are ordered (iid: Fisher–Yates shuffle with `rng`;
 * contiguous: file order; label: stable sort by label, -1 first), then cut into `workers` contiguous
 * shards: `balanced` — sizes differ by at most one, the first N mod n shards one row longer; `floor` —
 * ⌊N/n⌋ rows each and the last shard also takes the remainder (the EF21 authors' experiment code).
 */
export function splitShards(data: Pick<LabeledData, 'b' | 'source'>, workers: number, mode: SplitMode, rng?: Rng, sizes: ShardSizes = 'balanced'): Int32Array[] {
  const n = data.b.length;
  if (!Number.isInteger(workers) || workers < 1 || workers > n) {
    throw new UsageError(`--workers must be an integer from 1 to ${n} (the rows of ${data.source}), got ${workers}`);
  }
  const order = rowOrder(data.b, mode, rng);
  const base = Math.floor(n / workers);
  const longer = n % workers;
  const shards: Int32Array[] = [];
  let start = 0;
  for (let i = 0; i < workers; i++) {
    const size = sizes === 'floor' ? (i === workers - 1 ? n - start : base) : base + (i < longer ? 1 : 0);
    shards.push(order.slice(start, start + size));
    start += size;
  }
  return shards;
}

/** The order of the rows before cutting (exported for tests and tools). */
export function rowOrder(b: Float64Array, mode: SplitMode, rng?: Rng): Int32Array {
  const n = b.length;
  const order = new Int32Array(n);
  switch (mode) {
    case 'contiguous':
      for (let i = 0; i < n; i++) order[i] = i;
      return order;
    case 'iid': {
      if (rng === undefined) throw new Error('splitShards: --split iid needs a seeded rng');
      for (let i = 0; i < n; i++) order[i] = i;
      for (let i = n - 1; i > 0; i--) {
        const j = rng.int(i + 1);
        const t = order[i];
        order[i] = order[j];
        order[j] = t;
      }
      return order;
    }
    case 'label': {
      // labels are ±1, so a stable sort is two passes: the -1 rows, then the +1 rows, each in file order
      let next = 0;
      for (let i = 0; i < n; i++) if (b[i] < 0) order[next++] = i;
      for (let i = 0; i < n; i++) if (!(b[i] < 0)) order[next++] = i;
      return order;
    }
    default: {
      const unknown: never = mode;
      throw new UsageError(`--split must be one of iid, contiguous, label; got ${String(unknown)}`);
    }
  }
}

/** Stream name for the holdout permutation: `createRng(seed, HOLDOUT_RNG_STREAM)` (spec §1: its own stream). */
export const HOLDOUT_RNG_STREAM = 'holdout';

/** Row indices of a holdout split, each list ascending (file order). */
export interface HoldoutRows {
  readonly train: Int32Array;
  readonly test: Int32Array;
}

/**
 * `--holdout f` (spec §1): the N rows are permuted (Fisher–Yates with `rng`) and the last ⌈f·N⌉ rows
 * of the permutation are the test set, the others the training set. Both lists are returned in file
 * order, so that `--split contiguous` and `--split label` keep meaning file order on the training rows.
 * O(N). Requires 0 < f < 1 and at least one training row.
 */
export function holdoutRows(rows: number, fraction: number, rng: Rng): HoldoutRows {
  if (!(typeof fraction === 'number' && fraction > 0 && fraction < 1)) {
    throw new UsageError(`--holdout: expected a number > 0 and < 1 (the share of rows held out as the test set), got ${fraction}`);
  }
  const testCount = Math.ceil(fraction * rows);
  if (testCount >= rows) {
    throw new UsageError(`--holdout: ${fraction} of ${rows} rows leaves no training row (⌈f·N⌉ = ${testCount}); use a smaller fraction`);
  }
  const order = new Int32Array(rows);
  for (let i = 0; i < rows; i++) order[i] = i;
  for (let i = rows - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const t = order[i];
    order[i] = order[j];
    order[j] = t;
  }
  const isTest = new Uint8Array(rows);
  for (let i = rows - testCount; i < rows; i++) isTest[order[i]] = 1;
  const train = new Int32Array(rows - testCount);
  const test = new Int32Array(testCount);
  let a = 0;
  let b = 0;
  for (let r = 0; r < rows; r++) {
    if (isTest[r]) test[b++] = r;
    else train[a++] = r;
  }
  return { train, test };
}

/** The training and test sets of `--holdout f` as datasets of their own (same d and label mapping). */
export function holdoutSplit(data: LabeledData, fraction: number, rng: Rng): { train: LabeledData; test: LabeledData } {
  const { train, test } = holdoutRows(data.b.length, fraction, rng);
  return {
    train: { ...selectLabeledRows(data, train), source: data.source },
    test: { ...selectLabeledRows(data, test), source: `${data.source} (holdout ${fraction})` },
  };
}
