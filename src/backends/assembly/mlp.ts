/**
 * Float64 kernels for the `mlp` problem (forward, loss, backward, accuracy), compiled by AssemblyScript
 * to WebAssembly (`npm run build:wasm`; loaded by ../mlp-wasm.ts). They run the loops of the JS
 * reference in src/problems/mlp.ts in the same order with the same branches; the inner "axpy over
 * units" loops go two lanes at a time (f64x2) and hold eight or sixteen units in registers across the loop over
 * non-zeros or input units (blocking over independent outputs), which changes no unit's order of
 * additions, and exp and log1p are fdlibm's as V8 computes them (./fdlibm.ts), so the results are
 * bitwise those of the JS reference. Full passes on shards with a row-prefix plan (../row-prefix.ts) compute
 * every row's first layer first, in the plan's order, each row from the partial sums of the prefix it shares
 * with the row before (firstLayerByPlan): the same additions in the same order, so the same bits.
 *
 * Memory is owned by the JS side. Every call gets `desc`, the byte offset of an i32 table laid out by
 * the loader (see the D_* indices); pointers in it are byte offsets into this instance's memory, layer
 * offsets are f64 element indices. Nothing here allocates (stub runtime), so the memory never grows.
 */

import { fdlibmExp, fdlibmLog1p, fdlibmLog1p2 } from './fdlibm';

/** V8's Math.exp and Math.log1p, bit for bit, without leaving WebAssembly (see fdlibm.ts). */
export function expLikeV8(x: f64): f64 {
  return fdlibmExp(x);
}

export function log1pLikeV8(x: f64): f64 {
  return fdlibmLog1p(x);
}

/** First byte the JS side may use. */
export function heapBase(): usize {
  return __heap_base;
}

// desc table (i32 entries)
const D_LAYERS = 0;
const D_ROW_PTR = 1;
const D_COL_IDX = 2;
const D_VALUES = 3; // 0: every value is 1
const D_B = 4;
const D_X = 5;
const D_WT = 6;
const D_OUT = 7;
const D_G1T = 8;
const D_Z = 9;
const D_DELTA = 10;
const D_ROW_LIST = 11;
/** The row-prefix plan's table (PL_* entries), or 0: full passes then compute z1 row by row. */
const D_PLAN = 12;
/** The blocked first-layer gradient's table (BG_* entries), or 0: full passes scatter row by row. */
const D_BLOCKED = 13;
/** Per row of a pass, its margin p and e = exp(−|p|) (two f64): the loss is summed after the row loop. */
const D_LOSS_TERMS = 14;

// blocked-gradient table (i32 entries; pointers are byte offsets)
const BG_ROWS_PER_BLOCK = 0;
/** Per block, the index of its first (column, entries) item in BG_ITEMS; blocks + 1 entries. */
const BG_BLOCK_ITEMS = 1;
/** Per item three i32: the byte offset of g1T row j, then the item's entries [start, end) in BG_ENTRIES. */
const BG_ITEMS = 2;
/** Per entry its row's place in the block (its δ₁ is row `place` of BG_DELTAS). */
const BG_ENTRIES = 3;
/** Per entry its value (0: binary data). */
const BG_VALUES = 4;
/** A block's δ₁ rows (rows per block × h₁ f64). */
const BG_DELTAS = 5;
/** The shard's rows (the table covers full passes only). */
const BG_ROWS = 6;


/**
 * g1T[j] += Σ δ₁_r·a_rj over block `block`'s rows r containing column j, ascending — for every element
 * the additions of the row-by-row scatter in the same order (rows of other blocks come before or after
 * all of these), so the same bits; each g1T row is loaded and stored once per block, and its sums stay
 * in registers, sixteen units (eight f64x2) at a time, while the block's entries of column j go by.
 * A row whose δ₁ is all zero adds zeros, which change no sum that starts at +0 (it is never −0), where
 * the scatter skips it.
 */
function blockGradient(table: usize, block: i32, h1: i32, g1T: usize, binary: bool): void {
  const items = <usize>di(table, BG_ITEMS);
  const entries = <usize>di(table, BG_ENTRIES);
  const values = <usize>di(table, BG_VALUES);
  const deltas = <usize>di(table, BG_DELTAS);
  const blockItems = <usize>di(table, BG_BLOCK_ITEMS);
  const first = load<i32>(blockItems + (<usize>block << 2));
  const last = load<i32>(blockItems + (<usize>block << 2), 4);
  for (let t = first; t < last; t++) {
    const item = items + <usize>t * 12;
    const g = g1T + <usize>load<i32>(item);
    // the first layer's sum loop with the block's δ₁ rows in place of W₁ᵀ's: g += Σ δ₁[row]·value
    firstLayerSums(h1, g, g, deltas, 0, entries, values, load<i32>(item, 4), load<i32>(item, 8), binary, false, 0);
  }
}

export function blockGradientBinary(table: usize, block: i32, h1: i32, g1T: usize): void {
  blockGradient(table, block, h1, g1T, true);
}

export function blockGradientValued(table: usize, block: i32, h1: i32, g1T: usize): void {
  blockGradient(table, block, h1, g1T, false);
}
/** sizes[0..layers], then weight offsets, bias offsets and z offsets (layers entries each). */
const D_SIZES = 16;

// plan table (i32 entries; pointers are byte offsets)
/** Rows, then per plan position i: the row order[i], lcp[i] (entries it shares with row order[i − 1]). */
const PL_ROWS = 0;
const PL_ORDER = 1;
const PL_LCP = 2;
/**
 * The entries each row adds beyond its shared prefix, in plan order (so the sweep reads its input as
 * one stream): row order[i]'s are suffixCols/suffixValues[suffixStart[i] .. suffixStart[i+1]) (N + 1
 * i32), columns as i32 and values as f64 (0: binary data).
 */
const PL_SUFFIX_START = 3;
const PL_SUFFIX_COLS = 4;
const PL_SUFFIX_VALUES = 5;
/** P: (maxLength + 1) × h1 f64, P[0] the bias. */
const PL_PREFIX = 6;
/** The rows' z1 of one chunk, chunkRows × h1 f64 (row-major, row r at r − the chunk's first row). */
const PL_Z1_ROWS = 7;
/**
 * Rows per chunk: the plan orders the rows of each chunk [c·chunkRows, (c + 1)·chunkRows) apart (plan
 * positions = the chunk's rows, lcp 0 at its first), so that the z1 buffer holds one chunk and stays
 * in the caches (../row-prefix.ts).
 */
const PL_CHUNK_ROWS = 8;

@inline
function di(desc: usize, i: i32): i32 {
  return load<i32>(desc + (<usize>i << 2));
}

@inline
function pl(plan: usize, i: i32): i32 {
  return load<i32>(plan + (<usize>i << 2));
}

@inline
function f64At(base: usize, i: i32): usize {
  return base + (<usize>i << 3);
}

/**
 * z[u] = init[u] + Σ_k wT[w1 + j_k·h1 + u]·value_k (k = from … to − 1 ascending, columns at `cols`,
 * values at `values` unless binary) for u < h1, into z: sixteen units (eight f64x2 sums) per pass over
 * the entries where h₁ allows, then eight, then one by one (each unit keeps its own order of additions;
 * sixteen at a time halved the passes' index loads and address arithmetic: w8a hidden 32 −6 %). With
 * `keepPrefix`, the sums after each entry are also stored at init + m·stride (m = 1, 2, …), for the
 * rows of the row-prefix plan that share this row's first entries.
 */
@inline
function firstLayerSums(
  h1: i32, z: usize, init: usize, wT: usize, w1: i32, cols: usize, values: usize, from: i32, to: i32, binary: bool,
  keepPrefix: bool, stride: usize,
): void {
  const wide = h1 & ~15;
  for (let c = 0; c < wide; c += 16) {
    let pp = f64At(init, c);
    let a0 = v128.load(pp);
    let a1 = v128.load(pp, 16);
    let a2 = v128.load(pp, 32);
    let a3 = v128.load(pp, 48);
    let a4 = v128.load(pp, 64);
    let a5 = v128.load(pp, 80);
    let a6 = v128.load(pp, 96);
    let a7 = v128.load(pp, 112);
    const colBase = f64At(wT, w1 + c);
    const pz = f64At(z, c);
    for (let k = from; k < to; k++) {
      const j = load<i32>(cols + (<usize>k << 2));
      const pw = colBase + (<usize>(j * h1) << 3);
      // The reference multiplies by the value 1 on binary data, which changes no bit. The first sums
      // (one on binary data, two otherwise) are stored before the other rows' loads — the prefix's own
      // store, or into z, rewritten after the loop: a store keeps the loads after it in order, so that
      // at most seven (six) loaded rows are live beside the eight sums (and the value's splat) in V8's
      // fifteen vector registers; without it V8 loads all eight first and spills a sum on every entry.
      if (keepPrefix) pp += stride;
      const ph = keepPrefix ? pp : pz;
      if (binary) {
        a0 = f64x2.add(a0, v128.load(pw));
        v128.store(ph, a0);
        a1 = f64x2.add(a1, v128.load(pw, 16));
        a2 = f64x2.add(a2, v128.load(pw, 32));
        a3 = f64x2.add(a3, v128.load(pw, 48));
        a4 = f64x2.add(a4, v128.load(pw, 64));
        a5 = f64x2.add(a5, v128.load(pw, 80));
        a6 = f64x2.add(a6, v128.load(pw, 96));
        a7 = f64x2.add(a7, v128.load(pw, 112));
      } else {
        const va = f64x2.splat(load<f64>(f64At(values, k)));
        a0 = f64x2.add(a0, f64x2.mul(v128.load(pw), va));
        a1 = f64x2.add(a1, f64x2.mul(v128.load(pw, 16), va));
        v128.store(ph, a0);
        v128.store(ph, a1, 16);
        a2 = f64x2.add(a2, f64x2.mul(v128.load(pw, 32), va));
        a3 = f64x2.add(a3, f64x2.mul(v128.load(pw, 48), va));
        a4 = f64x2.add(a4, f64x2.mul(v128.load(pw, 64), va));
        a5 = f64x2.add(a5, f64x2.mul(v128.load(pw, 80), va));
        a6 = f64x2.add(a6, f64x2.mul(v128.load(pw, 96), va));
        a7 = f64x2.add(a7, f64x2.mul(v128.load(pw, 112), va));
      }
      if (keepPrefix) {
        if (binary) v128.store(pp, a1, 16);
        v128.store(pp, a2, 32);
        v128.store(pp, a3, 48);
        v128.store(pp, a4, 64);
        v128.store(pp, a5, 80);
        v128.store(pp, a6, 96);
        v128.store(pp, a7, 112);
      }
    }
    v128.store(pz, a0);
    v128.store(pz, a1, 16);
    v128.store(pz, a2, 32);
    v128.store(pz, a3, 48);
    v128.store(pz, a4, 64);
    v128.store(pz, a5, 80);
    v128.store(pz, a6, 96);
    v128.store(pz, a7, 112);
  }
  const blocked = h1 & ~7;
  for (let c = wide; c < blocked; c += 8) {
    let pp = f64At(init, c);
    let a0 = v128.load(pp);
    let a1 = v128.load(pp, 16);
    let a2 = v128.load(pp, 32);
    let a3 = v128.load(pp, 48);
    const colBase = f64At(wT, w1 + c);
    for (let k = from; k < to; k++) {
      const j = load<i32>(cols + (<usize>k << 2));
      const pw = colBase + (<usize>(j * h1) << 3);
      if (binary) {
        a0 = f64x2.add(a0, v128.load(pw));
        a1 = f64x2.add(a1, v128.load(pw, 16));
        a2 = f64x2.add(a2, v128.load(pw, 32));
        a3 = f64x2.add(a3, v128.load(pw, 48));
      } else {
        const va = f64x2.splat(load<f64>(f64At(values, k)));
        a0 = f64x2.add(a0, f64x2.mul(v128.load(pw), va));
        a1 = f64x2.add(a1, f64x2.mul(v128.load(pw, 16), va));
        a2 = f64x2.add(a2, f64x2.mul(v128.load(pw, 32), va));
        a3 = f64x2.add(a3, f64x2.mul(v128.load(pw, 48), va));
      }
      if (keepPrefix) {
        pp += stride;
        v128.store(pp, a0);
        v128.store(pp, a1, 16);
        v128.store(pp, a2, 32);
        v128.store(pp, a3, 48);
      }
    }
    const pz = f64At(z, c);
    v128.store(pz, a0);
    v128.store(pz, a1, 16);
    v128.store(pz, a2, 32);
    v128.store(pz, a3, 48);
  }
  for (let u = blocked; u < h1; u++) {
    let pp = f64At(init, u);
    let sum = load<f64>(pp);
    for (let k = from; k < to; k++) {
      const j = load<i32>(cols + (<usize>k << 2));
      const w = load<f64>(f64At(wT, w1 + j * h1 + u));
      sum += binary ? w * 1.0 : w * load<f64>(f64At(values, k));
      if (keepPrefix) {
        pp += stride;
        store<f64>(pp, sum);
      }
    }
    store<f64>(f64At(z, u), sum);
  }
}

/** One row's z1 from the bias over its CSR entries [start, end). */
@inline
function forwardFirst(h1: i32, z1: usize, bias: usize, wT: usize, w1: i32, colIdx: usize, values: usize, start: i32, end: i32, binary: bool): void {
  firstLayerSums(h1, z1, bias, wT, w1, colIdx, values, start, end, binary, false, 0);
}


/**
 * z1 of the rows of plan positions [first, end) — one chunk, whose rows are first … end − 1 — into
 * z1Rows[(r − first)·h1 ..], in the plan's order. P[m] (prefix + m·h1) holds the partial
 * sums after the first m entries of the current row, P[0] = the bias: row order[i] shares its first
 * lcp[i] entries with the row before, so it starts from P[lcp[i]] and adds only its own suffix (read
 * from the plan's suffix stream), storing each P[m] on the way for the rows after it. Every unit starts
 * from the bias and adds the row's terms in CSR order with the operations of forwardFirst, so each z1
 * element is bitwise forwardFirst's.
 */
@inline
function firstLayerByPlan(plan: usize, h1: i32, bias: usize, wT: usize, w1: i32, binary: bool, first: i32, end: i32): void {
  const order = <usize>pl(plan, PL_ORDER);
  const lcp = <usize>pl(plan, PL_LCP);
  const suffixStart = <usize>pl(plan, PL_SUFFIX_START);
  const cols = <usize>pl(plan, PL_SUFFIX_COLS);
  const values = <usize>pl(plan, PL_SUFFIX_VALUES);
  const prefix = <usize>pl(plan, PL_PREFIX);
  const z1Rows = <usize>pl(plan, PL_Z1_ROWS);
  const stride = <usize>h1 << 3;
  for (let u = 0; u < h1; u++) store<f64>(f64At(prefix, u), load<f64>(f64At(bias, u)));
  for (let i = first; i < end; i++) {
    const r = load<i32>(order + (<usize>i << 2));
    const shared = load<i32>(lcp + (<usize>i << 2));
    const from = load<i32>(suffixStart + (<usize>i << 2));
    const to = load<i32>(suffixStart + (<usize>i << 2), 4);
    firstLayerSums(h1, z1Rows + <usize>(r - first) * stride, prefix + <usize>shared * stride, wT, w1, cols, values, from, to, binary, true, stride);
  }
}

/**
 * Whether the float64 with these bits is > 0 (positive, +Inf included; not ±0, negatives or NaN of
 * either sign), tested on the integer bits: no zero register is needed next to the sixteen sums that
 * forwardDense holds (with a compare against zero there, V8 spilled one of the sums on every input in
 * some builds: loss-only a9a 64,32 8.2 → 11.8 ms).
 */
@inline
function positiveBits(bits: u64): bool {
  return bits - 1 < 0x7ff0000000000000;
}

/**
 * The output unit: cur[0] = bias[0] + Σ_{v: prev[v] > 0} wT[off + v]·prev[v] (v ascending), without a
 * branch per input: an inactive input adds −0, which changes no sum (x + (−0) = x for every float64,
 * −0 and NaN included), where the reference skips it. One row's pattern of active inputs is seen once
 * here, so a branch on it mispredicts about every other input (hidden 32: mlp-gradient −3 to −12 %).
 */
@inline
function forwardOutput(nIn: i32, cur: usize, bias: usize, prev: usize, wT: usize, off: i32): void {
  const zero = f64x2.splat(0);
  const negativeZero = f64x2.splat(-0.0);
  let z = load<f64>(bias);
  const pw = f64At(wT, off);
  let v = 0;
  for (; v + 2 <= nIn; v += 2) {
    const av = v128.load(f64At(prev, v));
    const t = v128.bitselect(f64x2.mul(v128.load(f64At(pw, v)), av), negativeZero, f64x2.gt(av, zero));
    z += f64x2.extract_lane(t, 0);
    z += f64x2.extract_lane(t, 1);
  }
  if (v < nIn) {
    const av = load<f64>(f64At(prev, v));
    if (av > 0) z += load<f64>(f64At(pw, v)) * av;
  }
  store<f64>(cur, z);
}

/**
 * cur[u] = bias[u] + Σ_{v: prev[v] > 0} wT[off + v·nOut + u]·prev[v] (v ascending) for u < nOut, sixteen
 * units at a time in registers where nOut allows, then eight, then one by one (sixteen halve the passes'
 * loads and branches on prev: a9a and w8a hidden 64,32 −5 to −6 %).
 */
@inline
function forwardDense(nIn: i32, nOut: i32, cur: usize, bias: usize, prev: usize, wT: usize, off: i32): void {
  const wide = nOut & ~15;
  for (let c = 0; c < wide; c += 16) {
    let a0 = v128.load(f64At(bias, c));
    let a1 = v128.load(f64At(bias, c), 16);
    let a2 = v128.load(f64At(bias, c), 32);
    let a3 = v128.load(f64At(bias, c), 48);
    let a4 = v128.load(f64At(bias, c), 64);
    let a5 = v128.load(f64At(bias, c), 80);
    let a6 = v128.load(f64At(bias, c), 96);
    let a7 = v128.load(f64At(bias, c), 112);
    let pw = f64At(wT, off + c);
    const stride = <usize>nOut << 3;
    const pc = f64At(cur, c);
    for (let v = 0; v < nIn; v++, pw += stride) {
      const pv = f64At(prev, v);
      if (!positiveBits(load<u64>(pv))) continue;
      const va = v128.load64_splat(pv);
      a0 = f64x2.add(a0, f64x2.mul(v128.load(pw), va));
      a1 = f64x2.add(a1, f64x2.mul(v128.load(pw, 16), va));
      // the first two sums stored (to cur, rewritten after the loop) before the other loads, as in
      // firstLayerSums: six loaded rows live beside the eight sums and the splat, no spill
      v128.store(pc, a0);
      v128.store(pc, a1, 16);
      a2 = f64x2.add(a2, f64x2.mul(v128.load(pw, 32), va));
      a3 = f64x2.add(a3, f64x2.mul(v128.load(pw, 48), va));
      a4 = f64x2.add(a4, f64x2.mul(v128.load(pw, 64), va));
      a5 = f64x2.add(a5, f64x2.mul(v128.load(pw, 80), va));
      a6 = f64x2.add(a6, f64x2.mul(v128.load(pw, 96), va));
      a7 = f64x2.add(a7, f64x2.mul(v128.load(pw, 112), va));
    }
    v128.store(pc, a0);
    v128.store(pc, a1, 16);
    v128.store(pc, a2, 32);
    v128.store(pc, a3, 48);
    v128.store(pc, a4, 64);
    v128.store(pc, a5, 80);
    v128.store(pc, a6, 96);
    v128.store(pc, a7, 112);
  }
  const blocked = nOut & ~7;
  for (let c = wide; c < blocked; c += 8) {
    let a0 = v128.load(f64At(bias, c));
    let a1 = v128.load(f64At(bias, c), 16);
    let a2 = v128.load(f64At(bias, c), 32);
    let a3 = v128.load(f64At(bias, c), 48);
    let pw = f64At(wT, off + c);
    const stride = <usize>nOut << 3;
    for (let v = 0; v < nIn; v++, pw += stride) {
      const pv = f64At(prev, v);
      if (!positiveBits(load<u64>(pv))) continue;
      const va = v128.load64_splat(pv);
      a0 = f64x2.add(a0, f64x2.mul(v128.load(pw), va));
      a1 = f64x2.add(a1, f64x2.mul(v128.load(pw, 16), va));
      a2 = f64x2.add(a2, f64x2.mul(v128.load(pw, 32), va));
      a3 = f64x2.add(a3, f64x2.mul(v128.load(pw, 48), va));
    }
    const pc = f64At(cur, c);
    v128.store(pc, a0);
    v128.store(pc, a1, 16);
    v128.store(pc, a2, 32);
    v128.store(pc, a3, 48);
  }
  for (let u = blocked; u < nOut; u++) {
    let z = load<f64>(f64At(bias, u));
    for (let v = 0; v < nIn; v++) {
      const av = load<f64>(f64At(prev, v));
      if (!(av > 0)) continue;
      z += load<f64>(f64At(wT, off + v * nOut + u)) * av;
    }
    store<f64>(f64At(cur, u), z);
  }
}

/**
 * g1T[j_k·h1 + u] += d1[u]·value_k for the row's non-zeros k (ascending), u < h1; d1 eight units at a
 * time in registers.
 */
@inline
function scatterFirst(h1: i32, g1T: usize, d1: usize, colIdx: usize, values: usize, start: i32, end: i32, binary: bool): void {
  const blocked = h1 & ~7;
  for (let c = 0; c < blocked; c += 8) {
    const d0 = v128.load(f64At(d1, c));
    const e1 = v128.load(f64At(d1, c), 16);
    const e2 = v128.load(f64At(d1, c), 32);
    const e3 = v128.load(f64At(d1, c), 48);
    const gBase = f64At(g1T, c);
    for (let k = start; k < end; k++) {
      const j = load<i32>(colIdx + (<usize>k << 2));
      const pg = gBase + (<usize>(j * h1) << 3);
      if (binary) {
        v128.store(pg, f64x2.add(v128.load(pg), d0));
        v128.store(pg, f64x2.add(v128.load(pg, 16), e1), 16);
        v128.store(pg, f64x2.add(v128.load(pg, 32), e2), 32);
        v128.store(pg, f64x2.add(v128.load(pg, 48), e3), 48);
      } else {
        const va = f64x2.splat(load<f64>(f64At(values, k)));
        v128.store(pg, f64x2.add(v128.load(pg), f64x2.mul(d0, va)));
        v128.store(pg, f64x2.add(v128.load(pg, 16), f64x2.mul(e1, va)), 16);
        v128.store(pg, f64x2.add(v128.load(pg, 32), f64x2.mul(e2, va)), 32);
        v128.store(pg, f64x2.add(v128.load(pg, 48), f64x2.mul(e3, va)), 48);
      }
    }
  }
  for (let u = blocked; u < h1; u++) {
    const du = load<f64>(f64At(d1, u));
    for (let k = start; k < end; k++) {
      const j = load<i32>(colIdx + (<usize>k << 2));
      const pg = f64At(g1T, j * h1 + u);
      store<f64>(pg, load<f64>(pg) + (binary ? du * 1.0 : du * load<f64>(f64At(values, k))));
    }
  }
}

/**
 * For u < nOut with δ[u] ≠ 0 (u ascending): gW[u][v] += δ[u]·relu(a[v]) and below[v] += W[u][v]·δ[u];
 * then below[v] = 0 where a[v] is not > 0. Eight input units v at a time, with their relu(a) and
 * their running below sums in registers across u (each element keeps its own order of additions).
 */
@inline
function backDense(nIn: i32, nOut: i32, dl: usize, gW: usize, a: usize, below: usize, w: usize): void {
  const blocked = nIn & ~7;
  const zero = f64x2.splat(0);
  const stride = <usize>nIn << 3;
  for (let c = 0; c < blocked; c += 8) {
    const pa = f64At(a, c);
    const x0 = v128.load(pa);
    const x1 = v128.load(pa, 16);
    const x2 = v128.load(pa, 32);
    const x3 = v128.load(pa, 48);
    // relu = a where a > 0, else +0 (the JS `av > 0 ? av : 0`, NaN included)
    const r0 = v128.and(x0, f64x2.gt(x0, zero));
    const r1 = v128.and(x1, f64x2.gt(x1, zero));
    const r2 = v128.and(x2, f64x2.gt(x2, zero));
    const r3 = v128.and(x3, f64x2.gt(x3, zero));
    let b0 = zero;
    let b1 = zero;
    let b2 = zero;
    let b3 = zero;
    let pg = f64At(gW, c);
    let pw = f64At(w, c);
    for (let u = 0; u < nOut; u++, pg += stride, pw += stride) {
      const pd = f64At(dl, u);
      // du == 0 (±0, not NaN) tested on the bits: no zero register, as positiveBits in forwardDense
      if ((load<u64>(pd) << 1) == 0) continue;
      const vd = v128.load64_splat(pd);
      v128.store(pg, f64x2.add(v128.load(pg), f64x2.mul(vd, r0)));
      v128.store(pg, f64x2.add(v128.load(pg, 16), f64x2.mul(vd, r1)), 16);
      v128.store(pg, f64x2.add(v128.load(pg, 32), f64x2.mul(vd, r2)), 32);
      v128.store(pg, f64x2.add(v128.load(pg, 48), f64x2.mul(vd, r3)), 48);
      b0 = f64x2.add(b0, f64x2.mul(v128.load(pw), vd));
      b1 = f64x2.add(b1, f64x2.mul(v128.load(pw, 16), vd));
      b2 = f64x2.add(b2, f64x2.mul(v128.load(pw, 32), vd));
      b3 = f64x2.add(b3, f64x2.mul(v128.load(pw, 48), vd));
    }
    // below = +0 where a is not > 0, i.e. where relu is not > 0 (the masks are made again here rather
    // than kept across the loop: kept, they made V8 spill a and redo relu on every iteration)
    const pb = f64At(below, c);
    v128.store(pb, v128.and(b0, f64x2.gt(r0, zero)));
    v128.store(pb, v128.and(b1, f64x2.gt(r1, zero)), 16);
    v128.store(pb, v128.and(b2, f64x2.gt(r2, zero)), 32);
    v128.store(pb, v128.and(b3, f64x2.gt(r3, zero)), 48);
  }
  for (let v = blocked; v < nIn; v++) {
    const av = load<f64>(f64At(a, v));
    const relu = av > 0 ? av : 0;
    let bv: f64 = 0;
    for (let u = 0; u < nOut; u++) {
      const du = load<f64>(f64At(dl, u));
      if (du == 0) continue;
      const pg = f64At(gW, u * nIn + v);
      store<f64>(pg, load<f64>(pg) + du * relu);
      bv += load<f64>(f64At(w, u * nIn + v)) * du;
    }
    store<f64>(f64At(below, v), av > 0 ? bv : 0);
  }
}

/** acc[u] += d[u] for u < n, two at a time (each element one addition, as the scalar loop). */
@inline
function addInto(acc: usize, d: usize, n: i32): void {
  let u = 0;
  for (; u + 2 <= n; u += 2) {
    const pa = f64At(acc, u);
    v128.store(pa, f64x2.add(v128.load(pa), v128.load(f64At(d, u))));
  }
  if (u < n) store<f64>(f64At(acc, u), load<f64>(f64At(acc, u)) + load<f64>(f64At(d, u)));
}

@inline
function storeLossTerm(terms: usize, i: i32, p: f64, e: f64): void {
  store<f64>(terms + (<usize>i << 4), p);
  store<f64>(terms + (<usize>i << 4), e, 8);
}

/**
 * Σ softplus over the pass's rows in order, each term p + log1p(e) (p > 0) or log1p(e) as the row loop
 * computed it, two rows' log1p at a time (fdlibmLog1p2, bitwise the scalar's) and added one after the other.
 */
function lossSum(terms: usize, count: i32): f64 {
  let sum: f64 = 0;
  let i = 0;
  for (; i + 2 <= count; i += 2) {
    const at = terms + (<usize>i << 4);
    const p0 = load<f64>(at);
    const p1 = load<f64>(at, 16);
    const l = fdlibmLog1p2(f64x2.replace_lane(f64x2.splat(load<f64>(at, 8)), 1, load<f64>(at, 24)));
    const l0 = f64x2.extract_lane(l, 0);
    const l1 = f64x2.extract_lane(l, 1);
    sum += p0 > 0 ? p0 + l0 : l0;
    sum += p1 > 0 ? p1 + l1 : l1;
  }
  if (i < count) {
    const p = load<f64>(terms + (<usize>i << 4));
    const e = load<f64>(terms + (<usize>i << 4), 8);
    sum += p > 0 ? p + fdlibmLog1p(e) : fdlibmLog1p(e);
  }
  return sum;
}

/** One lane of fdlibmLog1p2 (for the tests that hold it to V8's Math.log1p). */
export function log1p2LikeV8(x: f64): f64 {
  return f64x2.extract_lane(fdlibmLog1p2(f64x2.splat(x)), 0);
}

/** wT ← x's weight blocks transposed (input-major), at the same offsets. */
function transposeWeights(desc: usize): void {
  const layers = di(desc, D_LAYERS);
  const x = <usize>di(desc, D_X);
  const wT = <usize>di(desc, D_WT);
  for (let l = 0; l < layers; l++) {
    const nIn = di(desc, D_SIZES + l);
    const nOut = di(desc, D_SIZES + l + 1);
    const off = di(desc, D_SIZES + layers + 1 + l);
    for (let u = 0; u < nOut; u++) {
      const row = off + u * nIn;
      for (let v = 0; v < nIn; v++) store<f64>(f64At(wT, off + v * nOut + u), load<f64>(f64At(x, row + v)));
    }
  }
}

/**
 * Forward pass of row r; leaves every layer's pre-activations in z, the first layer's at z1 (returned
 * by firstOf), and returns the logit. z1Row = 0: z1 is computed here (forwardFirst) into z; else it is
 * the address of row r's z1, which firstLayerByPlan left in the chunk's buffer, used where it is.
 */
@inline
function forwardRow(desc: usize, r: i32, binary: bool, z1Row: usize = 0): f64 {
  const layers = di(desc, D_LAYERS);
  const rowPtr = <usize>di(desc, D_ROW_PTR);
  const colIdx = <usize>di(desc, D_COL_IDX);
  const values = <usize>di(desc, D_VALUES);
  const x = <usize>di(desc, D_X);
  const wT = <usize>di(desc, D_WT);
  const zBase = <usize>di(desc, D_Z);
  const wOff = D_SIZES + layers + 1;
  const bOff = wOff + layers;
  const zOff = bOff + layers;
  const h1 = di(desc, D_SIZES + 1);
  const z1 = firstOf(desc, z1Row);
  if (z1Row == 0) {
    const start = load<i32>(rowPtr + (<usize>r << 2));
    const end = load<i32>(rowPtr + (<usize>r << 2), 4);
    forwardFirst(h1, z1, f64At(x, di(desc, bOff)), wT, di(desc, wOff), colIdx, values, start, end, binary);
  }
  // the hidden layers after the first, then the output unit (the last layer has one output)
  for (let l = 1; l < layers - 1; l++) {
    const nIn = di(desc, D_SIZES + l);
    const nOut = di(desc, D_SIZES + l + 1);
    const prev = l == 1 ? z1 : f64At(zBase, di(desc, zOff + l - 1));
    const cur = f64At(zBase, di(desc, zOff + l));
    forwardDense(nIn, nOut, cur, f64At(x, di(desc, bOff + l)), prev, wT, di(desc, wOff + l));
  }
  if (layers > 1) {
    const l = layers - 1;
    const prev = l == 1 ? z1 : f64At(zBase, di(desc, zOff + l - 1));
    forwardOutput(di(desc, D_SIZES + l), f64At(zBase, di(desc, zOff + l)), f64At(x, di(desc, bOff + l)), prev, wT, di(desc, wOff + l));
  }
  return layers == 1 ? load<f64>(z1) : load<f64>(f64At(zBase, di(desc, zOff + layers - 1)));
}

/** Where the row's first-layer pre-activations are: in z, or at z1Row (≠ 0) in the plan chunk's buffer. */
@inline
function firstOf(desc: usize, z1Row: usize): usize {
  const layers = di(desc, D_LAYERS);
  return z1Row != 0 ? z1Row : f64At(<usize>di(desc, D_Z), di(desc, D_SIZES + 3 * layers + 1));
}

/**
 * The backward pass of row r through the layers after the first (δ of the output unit is in place):
 * bias and weight gradients into out, δ of each layer below. Its own function, so that its registers
 * are allocated apart from the forward pass's loops in run (inlined there, the integer test on δ = 0
 * in backDense made V8 spill in forwardDense: a9a 64,32 +10 %; apart, −3 to −4 %).
 */
function backwardDenseLayers(desc: usize, z1Row: usize): void {
  const layers = di(desc, D_LAYERS);
  const x = <usize>di(desc, D_X);
  const out = <usize>di(desc, D_OUT);
  const zBase = <usize>di(desc, D_Z);
  const dBase = <usize>di(desc, D_DELTA);
  const wOff = D_SIZES + layers + 1;
  const bOff = wOff + layers;
  const zOff = bOff + layers;
  for (let l = layers - 1; l >= 1; l--) {
    const nIn = di(desc, D_SIZES + l);
    const nOut = di(desc, D_SIZES + l + 1);
    const dl = f64At(dBase, di(desc, zOff + l));
    const below = f64At(dBase, di(desc, zOff + l - 1));
    const a = l == 1 ? firstOf(desc, z1Row) : f64At(zBase, di(desc, zOff + l - 1));
    const off = di(desc, wOff + l);
    const bo = di(desc, bOff + l);
    addInto(f64At(out, bo), dl, nOut);
    backDense(nIn, nOut, dl, f64At(out, off), a, below, f64At(x, off));
  }
}

/**
 * mode 0: Σ softplus(−b_r z_r) over the rows; 1: the data gradient only (returns 0); 2: both;
 * 3: the number of rows whose sign (z ≥ 0 → +1) matches b. Rows: rowList[0..count) when `useList`,
 * else 0..count−1. The gradient (scaled by `scale` per row) is written to out, zeroed first.
 * A full pass (no row list, count = every row) of modes 0–2 on a shard with a row-prefix plan computes
 * the z1 of each chunk's rows first (firstLayerByPlan) as the row loop reaches the chunk, and takes z1
 * from there: the bits are the same, the first layer's forward work is the plan's trie size instead
 * of nnz.
 */
export function run(desc: usize, count: i32, useList: i32, scale: f64, mode: i32): f64 {
  const layers = di(desc, D_LAYERS);
  const binary = di(desc, D_VALUES) == 0;
  const rowPtr = <usize>di(desc, D_ROW_PTR);
  const colIdx = <usize>di(desc, D_COL_IDX);
  const values = <usize>di(desc, D_VALUES);
  const bPtr = <usize>di(desc, D_B);
  const x = <usize>di(desc, D_X);
  const out = <usize>di(desc, D_OUT);
  const g1T = <usize>di(desc, D_G1T);
  const zBase = <usize>di(desc, D_Z);
  const dBase = <usize>di(desc, D_DELTA);
  const rowList = <usize>di(desc, D_ROW_LIST);
  const wOff = D_SIZES + layers + 1;
  const bOff = wOff + layers;
  const zOff = bOff + layers;
  const p0 = di(desc, D_SIZES);
  const h1 = di(desc, D_SIZES + 1);
  const grad = mode == 1 || mode == 2;
  const withLoss = mode == 0 || mode == 2;
  transposeWeights(desc);
  const plan = <usize>di(desc, D_PLAN);
  const planned = plan != 0 && !useList && mode != 3 && count == pl(plan, PL_ROWS);
  const z1Rows: usize = planned ? <usize>pl(plan, PL_Z1_ROWS) : 0;
  const chunkRows = planned ? pl(plan, PL_CHUNK_ROWS) : 0;
  let inChunk = 0;
  if (grad) {
    // d = the last bias offset + 1 (the output bias is the last parameter)
    const d = di(desc, bOff + layers - 1) + 1;
    memory.fill(out, 0, <usize>d << 3);
    memory.fill(g1T, 0, <usize>(p0 * h1) << 3);
  }
  // Full gradient passes gather the first layer's gradient block by block (blockGradient) instead of
  // scattering each row's δ₁: every row's δ₁ goes to its place in the block's buffer.
  const blockTable = <usize>di(desc, D_BLOCKED);
  const byBlocks = grad && blockTable != 0 && !useList && count == di(blockTable, BG_ROWS);
  const perBlock = byBlocks ? di(blockTable, BG_ROWS_PER_BLOCK) : 0;
  const deltas = byBlocks ? <usize>di(blockTable, BG_DELTAS) : 0;
  let sum: f64 = 0;
  let correct = 0;
  const lossTerms = <usize>di(desc, D_LOSS_TERMS);
  for (let i = 0; i < count; i++) {
    const r = useList ? load<i32>(rowList + (<usize>i << 2)) : i;
    let z1Row: usize = 0;
    if (planned) {
      if (inChunk == 0) {
        // the chunk's z1, rows r … r + chunkRows − 1 (plan positions = rows within a chunk)
        const w1 = di(desc, wOff);
        const bias = f64At(x, di(desc, bOff));
        const wT = <usize>di(desc, D_WT);
        const end = min(count, r + chunkRows);
        if (binary) firstLayerByPlan(plan, h1, bias, wT, w1, true, r, end);
        else firstLayerByPlan(plan, h1, bias, wT, w1, false, r, end);
      }
      z1Row = z1Rows + <usize>(inChunk * h1) * 8;
      inChunk = inChunk + 1 == chunkRows ? 0 : inChunk + 1;
    }
    const logit = planned ? forwardRow(desc, r, binary, z1Row) : binary ? forwardRow(desc, r, true) : forwardRow(desc, r, false);
    const br = load<f64>(f64At(bPtr, r));
    if (mode == 3) {
      const predicted: f64 = logit >= 0 ? 1 : -1;
      if (predicted == br) correct++;
      continue;
    }
    const p = -br * logit;
    let sig: f64;
    // The loss's log1p does not feed the backward: its terms are kept and summed after the loop.
    if (p > 0) {
      const e = fdlibmExp(-p);
      if (withLoss) storeLossTerm(lossTerms, i, p, e);
      sig = 1 / (1 + e);
    } else {
      const e = fdlibmExp(p);
      if (withLoss) storeLossTerm(lossTerms, i, p, e);
      sig = e / (1 + e);
    }
    if (!grad) continue;
    store<f64>(f64At(dBase, di(desc, zOff + layers - 1)), -br * sig * scale);
    backwardDenseLayers(desc, z1Row);
    const d1 = f64At(dBase, di(desc, zOff));
    const b1 = di(desc, bOff);
    addInto(f64At(out, b1), d1, h1);
    if (byBlocks) {
      const place = r % perBlock;
      memory.copy(deltas + <usize>(place * h1) * 8, d1, <usize>h1 << 3);
      if (place == perBlock - 1 || r == count - 1) {
        if (binary) blockGradientBinary(blockTable, r / perBlock, h1, g1T);
        else blockGradientValued(blockTable, r / perBlock, h1, g1T);
      }
      continue;
    }
    let any = false;
    for (let u = 0; u < h1; u++) if (load<f64>(f64At(d1, u)) != 0) any = true;
    if (!any) continue;
    const start = load<i32>(rowPtr + (<usize>r << 2));
    const end = load<i32>(rowPtr + (<usize>r << 2), 4);
    if (binary) scatterFirst(h1, g1T, d1, colIdx, values, start, end, true);
    else scatterFirst(h1, g1T, d1, colIdx, values, start, end, false);
  }
  if (mode == 3) return <f64>correct;
  if (withLoss) sum = lossSum(lossTerms, count);
  if (grad) {
    const w1 = di(desc, wOff);
    for (let u = 0; u < h1; u++) {
      for (let j = 0; j < p0; j++) store<f64>(f64At(out, w1 + u * p0 + j), load<f64>(f64At(g1T, j * h1 + u)));
    }
  }
  return sum;
}

// ---- importance (a), one hidden layer (src/problems/mlp.ts MlpShard.oneHiddenDecrease) ----

// cdesc table (i32 entries), after desc's
const C_COL_PTR = 0;
const C_ROW_IDX = 1;
const C_CSC_VALUES = 2; // 0: binary
const C_HIDDEN = 3; // N × h pre-activations
const C_P = 4;
const C_SIGMA = 5;
const C_SOFTPLUS = 6;
const C_V = 7;
const C_STEPS = 8;
const C_EXP_PLUS = 9;
const C_EXP_MINUS = 10;
const C_SUMS = 11;

@inline
function ci(cdesc: usize, i: i32): usize {
  return <usize>load<i32>(cdesc + (<usize>i << 2));
}

/** Row r's loss change for a logit change dz; em = expm1(−b_r·dz) when known, else NaN. */
@inline
function rowDecrease(bPtr: usize, p: usize, sigma: usize, softplus: usize, r: i32, dz: f64, em: f64): f64 {
  const u = -load<f64>(f64At(bPtr, r)) * dz;
  if (u == 0) return 0;
  if (u <= 1 && u >= -1) return -Math.log1p(load<f64>(f64At(sigma, r)) * (em == em ? em : Math.expm1(u)));
  const q = load<f64>(f64At(p, r)) + u;
  return load<f64>(f64At(softplus, r)) - (q > 0 ? q + Math.log1p(Math.exp(-q)) : Math.log1p(Math.exp(q)));
}

/** steps[u] = η·v[first + u·stride], expPlus/Minus[u] = expm1(±w_u·steps[u]). */
@inline
function prepareUnits(h: i32, x: usize, wOut: i32, v: usize, eta: f64, stride: i32, first: i32, steps: usize, ePlus: usize, eMinus: usize): void {
  for (let u = 0; u < h; u++) {
    const st = eta * load<f64>(f64At(v, first + u * stride));
    store<f64>(f64At(steps, u), st);
    const c = load<f64>(f64At(x, wOut + u)) * st;
    store<f64>(f64At(ePlus, u), Math.expm1(c));
    store<f64>(f64At(eMinus, u), Math.expm1(-c));
  }
}

/** acc[accFirst + u·accStride] += row r's loss change for the h parameters of steps[] with input value a. */
@inline
function addRow(
  h: i32, r: i32, a: f64, hidden: usize, x: usize, wOut: i32, bPtr: usize, p: usize, sigma: usize, softplus: usize,
  steps: usize, ePlus: usize, eMinus: usize, acc: usize, accStride: i32, accFirst: i32,
): void {
  const zr = f64At(hidden, r * h);
  const positive = load<f64>(f64At(bPtr, r)) > 0;
  for (let u = 0; u < h; u++) {
    const st = load<f64>(f64At(steps, u));
    if (st == 0) continue;
    const z = load<f64>(f64At(zr, u));
    const dPre = -st * a;
    const moved = z + dPre;
    let da: f64;
    let em: f64 = NaN;
    if (z > 0) {
      if (moved > 0) {
        da = dPre;
        if (a == 1) em = positive ? load<f64>(f64At(ePlus, u)) : load<f64>(f64At(eMinus, u));
      } else da = -z;
    } else if (moved > 0) da = moved;
    else continue;
    const dz = load<f64>(f64At(x, wOut + u)) * da;
    if (dz != 0) {
      const pa = f64At(acc, accFirst + u * accStride);
      store<f64>(pa, load<f64>(pa) + rowDecrease(bPtr, p, sigma, softplus, r, dz, em));
    }
  }
}

/**
 * Row sums of f_i(x) − f_i(x − η v_j e_j) for every parameter j of a one-hidden-layer network into out
 * (not yet divided by N_i; the JS side adds the regulariser). x and v are in memory already.
 */
export function decreaseOneHidden(desc: usize, cdesc: usize, rows: i32, eta: f64): void {
  const layers = di(desc, D_LAYERS);
  const binary = di(desc, D_VALUES) == 0;
  const bPtr = <usize>di(desc, D_B);
  const x = <usize>di(desc, D_X);
  const out = <usize>di(desc, D_OUT);
  const zBase = <usize>di(desc, D_Z);
  const wOffI = D_SIZES + layers + 1;
  const bOffI = wOffI + layers;
  const p0 = di(desc, D_SIZES);
  const h = di(desc, D_SIZES + 1);
  const w1 = di(desc, wOffI);
  const b1 = di(desc, bOffI);
  const wOut = di(desc, wOffI + 1);
  const bOut = di(desc, bOffI + 1);
  const d = bOut + 1;
  const colPtr = ci(cdesc, C_COL_PTR);
  const rowIdx = ci(cdesc, C_ROW_IDX);
  const cscValues = ci(cdesc, C_CSC_VALUES);
  const hidden = ci(cdesc, C_HIDDEN);
  const p = ci(cdesc, C_P);
  const sigma = ci(cdesc, C_SIGMA);
  const softplus = ci(cdesc, C_SOFTPLUS);
  const v = ci(cdesc, C_V);
  const steps = ci(cdesc, C_STEPS);
  const ePlus = ci(cdesc, C_EXP_PLUS);
  const eMinus = ci(cdesc, C_EXP_MINUS);
  const sums = ci(cdesc, C_SUMS);

  transposeWeights(desc);
  const z1 = f64At(zBase, 0);
  for (let r = 0; r < rows; r++) {
    const logit = binary ? forwardRow(desc, r, true) : forwardRow(desc, r, false);
    const q = -load<f64>(f64At(bPtr, r)) * logit;
    store<f64>(f64At(p, r), q);
    if (q > 0) {
      const e = fdlibmExp(-q);
      store<f64>(f64At(softplus, r), q + fdlibmLog1p(e));
      store<f64>(f64At(sigma, r), 1 / (1 + e));
    } else {
      const e = fdlibmExp(q);
      store<f64>(f64At(softplus, r), fdlibmLog1p(e));
      store<f64>(f64At(sigma, r), e / (1 + e));
    }
    memory.copy(f64At(hidden, r * h), z1, <usize>h << 3);
  }
  memory.fill(out, 0, <usize>d << 3);
  for (let j = 0; j < p0; j++) {
    const start = load<i32>(colPtr + (<usize>j << 2));
    const end = load<i32>(colPtr + (<usize>j << 2), 4);
    if (start == end) continue;
    prepareUnits(h, x, wOut, v, eta, p0, w1 + j, steps, ePlus, eMinus);
    memory.fill(sums, 0, <usize>h << 3);
    for (let k = start; k < end; k++) {
      const r = load<i32>(rowIdx + (<usize>k << 2));
      const a: f64 = binary ? 1.0 : load<f64>(f64At(cscValues, k));
      addRow(h, r, a, hidden, x, wOut, bPtr, p, sigma, softplus, steps, ePlus, eMinus, sums, 1, 0);
    }
    for (let u = 0; u < h; u++) store<f64>(f64At(out, w1 + u * p0 + j), load<f64>(f64At(sums, u)));
  }
  prepareUnits(h, x, wOut, v, eta, 1, b1, steps, ePlus, eMinus);
  for (let r = 0; r < rows; r++) addRow(h, r, 1.0, hidden, x, wOut, bPtr, p, sigma, softplus, steps, ePlus, eMinus, out, 1, b1);
  const stepBias = eta * load<f64>(f64At(v, bOut));
  const emBiasPlus = Math.expm1(stepBias);
  const emBiasMinus = Math.expm1(-stepBias);
  for (let r = 0; r < rows; r++) {
    const zr = f64At(hidden, r * h);
    for (let u = 0; u < h; u++) {
      const a = load<f64>(f64At(zr, u));
      if (!(a > 0)) continue;
      const st = eta * load<f64>(f64At(v, wOut + u));
      if (st != 0) {
        const pa = f64At(out, wOut + u);
        store<f64>(pa, load<f64>(pa) + rowDecrease(bPtr, p, sigma, softplus, r, -st * a, NaN));
      }
    }
    if (stepBias != 0) {
      const em = load<f64>(f64At(bPtr, r)) > 0 ? emBiasPlus : emBiasMinus;
      const pa = f64At(out, bOut);
      store<f64>(pa, load<f64>(pa) + rowDecrease(bPtr, p, sigma, softplus, r, -stepBias, em));
    }
  }
}
