import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRng } from '../src/core/rng.js';
import { TopKSelector } from '../src/compressors/select.js';
import { WasmTopK, wasmTopK } from '../src/backends/select.js';
import { LogregProblem } from '../src/problems/logreg.js';
import { contiguousShards, readDataset } from './problems-fixtures.js';

/** The WebAssembly selector and the JS reference loops on the same input: the same k indices, in the same order. */
function assertSameSelection(keys: Float64Array, n: number, k: number, byAbs: boolean, label: string): void {
  const wasm = new TopKSelector(n);
  const js = new TopKSelector(n, { kernels: 'js' });
  assert.equal(wasm.kernels, 'wasm');
  assert.equal(js.kernels, 'js');
  const a = new Int32Array(k);
  const b = new Int32Array(k);
  wasm.select(keys, n, k, a, byAbs);
  js.select(keys, n, k, b, byAbs);
  assert.deepEqual(a, b, `${label} n=${n} k=${k} byAbs=${byAbs}`);
  if (!byAbs) return;
  // selectWithValues (Top-k's wire message): the same indices, and each value the key at that index
  // as given (sign, −0 and NaN kept), whether the kernel or the JS path wrote it.
  for (const selector of [wasm, js]) {
    const indices = new Int32Array(k).fill(-1);
    const values = new Float64Array(k).fill(12345);
    selector.selectWithValues(keys, n, k, indices, values);
    const count = Math.min(k, n); // k ≥ n: every index, and out[n..k) is left as it was
    assert.deepEqual(indices.subarray(0, count), a.subarray(0, count), `${label} n=${n} k=${k} selectWithValues (${selector.kernels}) indices`);
    for (let t = 0; t < count; t++) {
      assert.ok(Object.is(values[t], keys[indices[t]]), `${label} n=${n} k=${k} (${selector.kernels}) value ${t}: ${values[t]} ≠ key ${keys[indices[t]]}`);
    }
  }
}

const KINDS = ['normal', 'ties', 'three-values', 'nan', 'infinities', 'mostly-zero', 'ascending', 'descending', 'spikes'] as const;

function keysOf(kind: (typeof KINDS)[number], n: number, seed: number): Float64Array {
  const rng = createRng(seed, 'select-wasm', kind, n);
  const v = new Float64Array(n);
  for (let j = 0; j < n; j++) {
    const z = rng.normal();
    switch (kind) {
      case 'normal': v[j] = z; break;
      case 'ties': v[j] = Math.round(z * 4) / 4; break; // heavy ties, ±0 included
      case 'three-values': v[j] = rng.int(3) - 1; break;
      case 'nan': v[j] = rng.int(5) === 0 ? Number.NaN : rng.int(40) === 0 ? -Infinity : z; break;
      case 'infinities': v[j] = rng.int(9) === 0 ? (rng.int(2) ? Infinity : -Infinity) : z; break;
      case 'mostly-zero': v[j] = rng.int(10) === 0 ? z : rng.int(2) ? 0 : -0; break; // a gtopk accumulator
      case 'ascending': v[j] = j; break;
      case 'descending': v[j] = n - j; break;
      case 'spikes': v[j] = j % 97 === 0 ? 1e6 : z; break;
    }
  }
  return v;
}

test('the Top-k kernel is available and is the default of TopKSelector', () => {
  assert.ok(wasmTopK(), 'select-kernels.wasm is built');
  assert.equal(new TopKSelector(10).kernels, 'wasm');
});

test('WebAssembly Top-k picks exactly the JS reference loops\' indices: random keys with ties, NaN, ±∞, ±0, sorted runs, every k', () => {
  // Sizes on both sides of the kernel's plain-introselect limit (256) and of the JS sampling limit (8192).
  for (const n of [1, 2, 3, 7, 24, 25, 112, 255, 256, 257, 300, 1000, 4097, 8192, 8193, 30001]) {
    for (const kind of KINDS) {
      const keys = keysOf(kind, n, 1);
      const ks = new Set([1, 2, Math.max(1, n >> 7), Math.max(1, Math.floor(n / 100)), Math.max(1, Math.floor(n / 10)), n >> 1, n - 1, n]);
      for (const k of ks) {
        if (k < 1) continue;
        for (const byAbs of [true, false]) assertSameSelection(keys, n, k, byAbs, kind);
      }
    }
  }
});

test('WebAssembly Top-k is right when the strided sample misses the threshold (the exact route), and for a prefix of a longer array', () => {
  // Keys at the sampled positions are huge, all others small: the sample's band lies above the k-th key.
  const n = 20000;
  const m = Math.ceil(0.75 * Math.pow(n, 2 / 3));
  const keys = Float64Array.from({ length: n }, (_, j) => 1 + (j % 13) * 1e-3);
  const stride = n / m; // as the kernel computes the sampled positions
  for (let j = 0; j < m; j++) keys[Math.floor(j * stride)] = 1000 + j;
  for (const k of [m - 1, m + 5, 2000, 15000]) for (const byAbs of [true, false]) assertSameSelection(keys, n, k, byAbs, 'sample miss');
  // A prefix (the gtopk tree merges select among the first m of a 2k buffer).
  const long = keysOf('normal', 5000, 3);
  const wasm = new TopKSelector(5000);
  const js = new TopKSelector(5000, { kernels: 'js' });
  const a = new Int32Array(40);
  const b = new Int32Array(40);
  wasm.select(long, 3001, 40, a);
  js.select(long, 3001, 40, b);
  assert.deepEqual(a, b);
  assert.ok(a.every((i) => i < 3001));
});

test('WebAssembly Top-k on real gradients, EF21 differences and accumulators (mushrooms, a9a, w8a) equals the JS loops', () => {
  for (const name of ['mushrooms', 'a9a', 'w8a']) {
    const data = readDataset(name, 6000);
    const problem = new LogregProblem('p', data, 1e-3, 'l2', contiguousShards(data.X.rows, 4));
    const d = problem.d;
    const rng = createRng(2, 'select-real', name);
    const x = Float64Array.from({ length: d }, () => 0.3 * rng.normal());
    const g = new Float64Array(d);
    const h = new Float64Array(d);
    problem.workers[0].gradient(x, g);
    problem.workers[1].gradient(x, h);
    const difference = Float64Array.from(g, (gj, j) => gj - h[j]);
    // An accumulator: many coordinates exactly zero after a previous Top-k consumed them.
    const accumulator = Float64Array.from(g, (gj, j) => (j % 3 === 0 ? 0 : gj));
    for (const [label, keys] of [['gradient', g], ['difference', difference], ['accumulator', accumulator]] as const) {
      for (const k of [1, Math.floor(d / 10), Math.floor(d / 2), d - 1]) {
        for (const byAbs of [true, false]) assertSameSelection(keys, d, k, byAbs, `${name} ${label}`);
      }
    }
  }
});

test('selectors of different capacities share the kernel: a larger input grows its memory and earlier selectors stay correct', () => {
  const small = new TopKSelector(100);
  const keysSmall = keysOf('ties', 100, 4);
  const before = new Int32Array(10);
  small.select(keysSmall, 100, 10, before);
  const large = new TopKSelector(200000);
  const keysLarge = keysOf('normal', 200000, 5);
  const out = new Int32Array(2000);
  large.select(keysLarge, 200000, 2000, out);
  const reference = new Int32Array(2000);
  new TopKSelector(200000, { kernels: 'js' }).select(keysLarge, 200000, 2000, reference);
  assert.deepEqual(out, reference);
  const after = new Int32Array(10);
  small.select(keysSmall, 100, 10, after);
  assert.deepEqual(after, before);
});

test('the Top-k kernel declines an input its memory cannot grow to, writing nothing (TopKSelector then uses the JS loops)', () => {
  const memory = {
    buffer: new ArrayBuffer(65536),
    grow(): number {
      throw new RangeError('WebAssembly.Memory.grow(): Maximum memory size exceeded');
    },
  };
  const fake = new WasmTopK({
    memory, heapBase: () => 1024,
    topkAbs: () => assert.fail('not called'), topkRaw: () => assert.fail('not called'),
  } as unknown as ConstructorParameters<typeof WasmTopK>[0]);
  const out = new Int32Array(3).fill(-1);
  assert.equal(fake.select(new Float64Array(100000), 100000, 3, out, true), false);
  assert.deepEqual([...out], [-1, -1, -1]);
});

test('the kernel\'s Floyd–Rivest selection returns the rank-t value and the count above it, also when its round budget forces the heapsort fallback', () => {
  const kernel = wasmTopK();
  assert.ok(kernel);
  const rng = createRng(5, 'select-wasm', 'floyd-rivest');
  for (const n of [1, 2, 3, 25, 601, 602, 5000, 20011]) {
    for (const kind of ['normal', 'ties', 'three-values', 'ascending', 'descending'] as const) {
      const values = keysOf(kind, n, n).map((v) => (Number.isNaN(v) ? -Infinity : v));
      const sorted = Float64Array.from(values).sort().reverse(); // descending
      for (const t of [0, n - 1, Math.floor(n / 10), Math.floor(n / 2), rng.int(n)]) {
        const want = sorted[t];
        const greater = values.reduce((c, v) => c + (v > want ? 1 : 0), 0);
        for (const budget of [0, 1, 2, 64]) {
          const got = kernel.selectRankForTests(values, t, budget);
          assert.ok(Object.is(got.value, want) || (got.value === 0 && want === 0), `${kind} n=${n} t=${t} budget=${budget}: ${got.value} vs ${want}`);
          assert.equal(got.greater, greater, `${kind} n=${n} t=${t} budget=${budget}: count above`);
        }
      }
    }
  }
});

test('WebAssembly Top-k above 2^17 keys (the banded route) equals the JS loops, a sample miss included', () => {
  const n = (1 << 17) + 3001;
  for (const kind of ['normal', 'ties', 'nan', 'mostly-zero', 'ascending'] as const) {
    const keys = keysOf(kind, n, 11);
    for (const k of [1, 100, Math.floor(n / 10), Math.floor(n / 2)]) assertSameSelection(keys, n, k, true, `banded ${kind}`);
  }
  const m = Math.ceil(0.75 * Math.pow(n, 2 / 3));
  const keys = Float64Array.from({ length: n }, (_, j) => 1 + (j % 13) * 1e-3);
  const stride = n / m;
  for (let j = 0; j < m; j++) keys[Math.floor(j * stride)] = 1000 + j;
  for (const k of [m + 5, 20000]) assertSameSelection(keys, n, k, false, 'banded sample miss');
});
