/** Splitting the rows across n workers (spec §1). */
import { UsageError } from '../core/errors.js';
import type { Rng } from '../core/rng.js';
import type { LabeledData, SplitMode } from './types.js';

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
