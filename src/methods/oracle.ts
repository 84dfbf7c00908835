/**
 * Local gradient oracles (spec §4): the full local gradient ∇f_i, or with `--batch b` a minibatch
 * estimate from b of the worker's rows drawn uniformly without replacement, fresh every call.
 */
import { UsageError } from '../core/errors.js';
import { createRng, type Rng } from '../core/rng.js';
import type { Problem } from '../problems/types.js';
import type { GradientOracle } from './types.js';

export interface OracleOptions {
  /** Rows per worker per call; undefined for full local gradients. */
  batch?: number;
  /** The run's seed; worker i draws from the stream ('batch', i). */
  seed: number;
}

/** ∇f_i(x) on the whole shard; processes N_i rows. */
export class FullGradientOracle implements GradientOracle {
  constructor(private readonly problem: Problem) {}

  gradient(worker: number, x: Float64Array, out: Float64Array): number {
    const objective = this.problem.workers[worker];
    if (objective.gradientOnly) objective.gradientOnly(x, out);
    else objective.gradient(x, out);
    return objective.rows;
  }
}

/**
 * Minibatch gradients. Each worker keeps a permutation of its local rows; a draw is a partial
 * Fisher–Yates shuffle of its first b positions: position t swaps with a uniform position in
 * [t, N_i). Whatever order the permutation is in, this yields a uniform b-subset without
 * replacement, in O(b) time and no allocation, and the sequence of batches is a deterministic
 * function of the seed (each worker has its own stream, so workers do not influence each other).
 */
export class MinibatchOracle implements GradientOracle {
  private readonly permutations: Int32Array[];
  private readonly rngs: Rng[];

  constructor(private readonly problem: Problem, readonly batch: number, seed: number) {
    const smallest = Math.min(...problem.workers.map((w) => w.rows));
    if (!Number.isInteger(batch) || batch < 1) {
      throw new UsageError(`--batch: expected a positive integer number of rows per worker, got ${batch}`);
    }
    if (batch > smallest) {
      throw new UsageError(`--batch: ${batch} is larger than the smallest shard (${smallest} rows); use at most ${smallest} or fewer workers`);
    }
    this.permutations = problem.workers.map((w) => {
      const p = new Int32Array(w.rows);
      for (let r = 0; r < w.rows; r++) p[r] = r;
      return p;
    });
    this.rngs = problem.workers.map((_, i) => createRng(seed, 'batch', i));
  }

  /** Draws worker's next batch; returns its permutation array, whose first `batch` entries are the rows. */
  drawBatch(worker: number): Int32Array {
    const perm = this.permutations[worker];
    const rng = this.rngs[worker];
    const rows = perm.length;
    for (let t = 0; t < this.batch; t++) {
      const j = t + rng.int(rows - t);
      const swap = perm[t];
      perm[t] = perm[j];
      perm[j] = swap;
    }
    return perm;
  }

  gradient(worker: number, x: Float64Array, out: Float64Array): number {
    const rows = this.drawBatch(worker);
    this.problem.workers[worker].batchGradient(x, rows, this.batch, out);
    return this.batch;
  }
}

export function createOracle(problem: Problem, options: OracleOptions): GradientOracle {
  return options.batch === undefined ? new FullGradientOracle(problem) : new MinibatchOracle(problem, options.batch, options.seed);
}
