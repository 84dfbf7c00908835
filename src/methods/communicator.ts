/**
 * How the workers' vectors are combined, kept apart from what is compressed (GRACE's split of
 * compressor, memory and communicator):
 *  - `TreeSum`: the sum Σ_i v_i of n worker vectors in one fixed association, the recursive-halving
 *    tree below. Every method sums in this order, so methods that agree in exact arithmetic also
 *    agree bit for bit (cgd/ef/ef21 with identity = gd; topk-ssgd and gtopk with k = d = gd).
 *  - `TopKTreeReducer`: gtopk's reduction, the same tree, but every merge keeps only the k largest
 *    |·| of the sum of two sparse vectors, in O(k) memory per node and no dense d-vector.
 *
 * The tree (recursive halving, any n ≥ 1): in round r = 0, 1, …, ⌈log2 n⌉ − 1, node i with
 * i mod 2^{r+1} = 0 receives the partial sum of node i + 2^r if that node exists (i + 2^r < n) and
 * adds it to its own (own + partner); a node whose partner does not exist waits for the next round.
 * Node 0 ends with the total. E.g. n = 5: round 0: 0←1, 2←3 (4 waits); round 1: 0←2 (4 waits);
 * round 2: 0←4, so Σ = ((v0 + v1) + (v2 + v3)) + v4.
 */
import type { WireMessage } from '../compressors/types.js';
import { TopKSelector } from '../compressors/select.js';

/** The pairs (receiver, sender) of each round of the recursive-halving tree. For docs and tests. */
export function reductionRounds(n: number): Array<Array<[number, number]>> {
  const rounds: Array<Array<[number, number]>> = [];
  for (let half = 1; half < n; half *= 2) {
    const pairs: Array<[number, number]> = [];
    for (let i = 0; i + half < n; i += 2 * half) pairs.push([i, i + half]);
    rounds.push(pairs);
  }
  return rounds;
}

/**
 * Σ_i scale_i·v_i over leaves pushed in worker order 0, 1, …, n − 1, associated exactly as the
 * recursive-halving tree. Streaming form: a stack of partial sums of aligned blocks (a binary
 * counter); a pushed leaf merges with the top while the top block has the same size, and at the end
 * the remaining blocks merge from the top (smallest, rightmost) down. Aligned blocks of 2^r leaves
 * are exactly the tree's partial sums after r rounds, and the trailing partial blocks are combined
 * right to left, as the tree combines a node that waited with its left neighbour's block; so the
 * association is the tree's (tested against a round-by-round simulation for n = 1…40).
 * Memory (⌈log2 n⌉ + 1)·d; no allocation per use.
 */
export class TreeSum {
  private readonly slots: Float64Array[];
  private readonly blockSize: Int32Array;
  private depth = 0;

  constructor(readonly d: number, maxLeaves: number) {
    const levels = Math.max(1, Math.ceil(Math.log2(Math.max(1, maxLeaves))) + 2);
    this.slots = Array.from({ length: levels }, () => new Float64Array(d));
    this.blockSize = new Int32Array(levels);
  }

  begin(): void {
    this.depth = 0;
  }

  /** Pushes the leaf scale·v (v dense, length d). */
  addDense(v: Float64Array, scale: number): void {
    const slot = this.slots[this.depth];
    const d = this.d;
    for (let j = 0; j < d; j++) slot[j] = scale * v[j];
    this.pushed();
  }

  /** Pushes the leaf scale·Σ_t values[t] e_{indices[t]} (zeros elsewhere). */
  addSparse(nnz: number, indices: Int32Array, values: Float64Array, scale: number): void {
    const slot = this.slots[this.depth];
    slot.fill(0);
    for (let t = 0; t < nnz; t++) slot[indices[t]] = scale * values[t];
    this.pushed();
  }

  /** Pushes scale·(decoded message). */
  addMessage(message: WireMessage, scale: number): void {
    if (message.format === 'dense') this.addDense(message.values, scale);
    else this.addSparse(message.nnz, message.indices, message.values, scale);
  }

  /** The sum of all pushed leaves (a view valid until the next `begin`). Requires ≥ 1 leaf. */
  finish(): Float64Array {
    if (this.depth === 0) throw new RangeError('TreeSum: no leaves');
    while (this.depth > 1) this.mergeTop();
    return this.slots[0];
  }

  private pushed(): void {
    this.blockSize[this.depth] = 1;
    this.depth++;
    while (this.depth > 1 && this.blockSize[this.depth - 1] === this.blockSize[this.depth - 2]) this.mergeTop();
  }

  /** Lower block += upper block (the lower-ranked node receives). */
  private mergeTop(): void {
    const upper = this.slots[this.depth - 1];
    const lower = this.slots[this.depth - 2];
    const d = this.d;
    for (let j = 0; j < d; j++) lower[j] += upper[j];
    this.blockSize[this.depth - 2] += this.blockSize[this.depth - 1];
    this.depth--;
  }
}

/**
 * x ← x − S/n with S = the tree sum: the averaged update every method applies, in one place so the
 * rounding is the same for all of them.
 */
export function applyAveragedUpdate(x: Float64Array, sum: Float64Array, n: number): void {
  for (let j = 0; j < x.length; j++) x[j] -= sum[j] / n;
}

/**
 * gtopk's tree reduction of n sparse vectors with at most k non-zeros each (spec §4): every merge
 * forms u + w on the union of the supports (a two-pointer merge of ascending index lists) and keeps
 * the k largest |·|, ties by the smaller index. Node buffers hold k pairs, the union 2k; nothing of
 * length d is touched, so a merge costs O(k) on average.
 */
export class TopKTreeReducer {
  /** Node i's current sparse vector: indices ascending in nodeIndices[i][0..nodeNnz[i]). */
  readonly nodeIndices: Int32Array[];
  readonly nodeValues: Float64Array[];
  readonly nodeNnz: Int32Array;
  private readonly unionIndices: Int32Array;
  private readonly unionValues: Float64Array;
  private readonly chosen: Int32Array;
  private readonly selector: TopKSelector;

  constructor(readonly n: number, readonly k: number) {
    this.nodeIndices = Array.from({ length: n }, () => new Int32Array(k));
    this.nodeValues = Array.from({ length: n }, () => new Float64Array(k));
    this.nodeNnz = new Int32Array(n);
    this.unionIndices = new Int32Array(2 * k);
    this.unionValues = new Float64Array(2 * k);
    this.chosen = new Int32Array(k);
    this.selector = new TopKSelector(2 * k);
  }

  /** Runs the ⌈log2 n⌉ rounds; node 0 then holds G̃. The leaves must already be in the node buffers. */
  reduce(): void {
    const n = this.n;
    for (let half = 1; half < n; half *= 2) {
      for (let i = 0; i + half < n; i += 2 * half) this.merge(i, i + half);
    }
  }

  /** Node `into` ← top-k(node `into` + node `from`). */
  merge(into: number, from: number): void {
    const ui = this.nodeIndices[into], uv = this.nodeValues[into], un = this.nodeNnz[into];
    const wi = this.nodeIndices[from], wv = this.nodeValues[from], wn = this.nodeNnz[from];
    const mi = this.unionIndices, mv = this.unionValues;
    let a = 0, b = 0, m = 0;
    while (a < un && b < wn) {
      const ia = ui[a], ib = wi[b];
      if (ia === ib) {
        mi[m] = ia;
        mv[m++] = uv[a++] + wv[b++];
      } else if (ia < ib) {
        mi[m] = ia;
        mv[m++] = uv[a++];
      } else {
        mi[m] = ib;
        mv[m++] = wv[b++];
      }
    }
    while (a < un) {
      mi[m] = ui[a];
      mv[m++] = uv[a++];
    }
    while (b < wn) {
      mi[m] = wi[b];
      mv[m++] = wv[b++];
    }
    const k = this.k;
    if (m <= k) {
      for (let t = 0; t < m; t++) {
        ui[t] = mi[t];
        uv[t] = mv[t];
      }
      this.nodeNnz[into] = m;
      return;
    }
    // Positions in the union ascend with the coordinate index, so the selector's "smaller position
    // wins a tie" is the spec's "smaller index wins", and its ascending output keeps the node sorted.
    this.selector.select(mv, m, k, this.chosen, true);
    for (let t = 0; t < k; t++) {
      const p = this.chosen[t];
      ui[t] = mi[p];
      uv[t] = mv[p];
    }
    this.nodeNnz[into] = k;
  }
}
