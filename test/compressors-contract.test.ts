/**
 * The contract every registered compressor keeps (spec §3), checked property-based with fast-check
 * over the whole COMPRESSORS registry — a compressor added later is covered by adding one line to the
 * registry and, if its bit cost is new, one case to `expectedBits` below (the suite fails until then).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';

import { createRng } from '../src/core/rng.js';
import { UsageError } from '../src/core/errors.js';
import type { LocalObjective } from '../src/problems/types.js';
import type { CompressContext, Compressor, CompressorOptions, CompressorSpec, WireMessage } from '../src/compressors/types.js';
import { COMPRESSORS } from '../src/compressors/registry.js';
import { decodeInto } from '../src/compressors/wire.js';

const SPARSIFIER_NAMES = new Set(['topk', 'randk', 'brandk', 'adaptive', 'imp-a', 'imp-b', 'imp-c']);
/** hosvd runs at multilinear rank 1 in every mode (valid for every dims). */
const HOSVD_RANKS = [1];

/** ⌈log2 d⌉ by counting, independent of the code under test. */
function ceilLog2(d: number): number {
  let b = 0;
  while (2 ** b < d) b++;
  return b;
}

/**
 * Spec §3 default dims for hosvd, by brute force: order 3, smallest largest dim, then smallest
 * product ≥ d, then the lexicographically smallest ascending tuple.
 */
function balancedDims3(d: number): number[] {
  let largest = 1;
  while (largest ** 3 < d) largest++;
  let best: number[] = [];
  let bestProduct = Infinity;
  for (let a = 1; a <= largest; a++) {
    for (let b = a; b <= largest; b++) {
      for (let c = b; c <= largest; c++) {
        const p = a * b * c;
        if (p >= d && p < bestProduct) {
          best = [a, b, c];
          bestProduct = p;
        }
      }
    }
  }
  return best;
}

/** The bit cost spec §3 assigns to one message of compressor `name`. */
function expectedBits(name: string, d: number, k: number, floatBits: number): number {
  if (name === 'identity') return d * floatBits;
  if (SPARSIFIER_NAMES.has(name)) return k * (floatBits + ceilLog2(d));
  if (name === 'hosvd') {
    const dims = balancedDims3(d);
    const r = HOSVD_RANKS[0];
    return floatBits * (r ** dims.length + dims.reduce((sum, n) => sum + n * r, 0));
  }
  throw new Error(`compressor "${name}" is registered but the contract suite has no bit formula for it; add it to expectedBits`);
}

/**
 * f(x) = ½ Σ a_j (x_j − c_j)² with a_j ∈ {1, 2, 3}: a real LocalObjective for the compressors that
 * look at f_i (importance compressors), cheap and exactly known.
 */
function quadraticObjective(d: number): LocalObjective {
  const a = new Float64Array(d);
  const c = new Float64Array(d);
  for (let j = 0; j < d; j++) {
    a[j] = 1 + (j % 3);
    c[j] = ((j * 7) % 5) - 2;
  }
  const loss = (x: Float64Array): number => {
    let f = 0;
    for (let j = 0; j < d; j++) f += 0.5 * a[j] * (x[j] - c[j]) ** 2;
    return f;
  };
  const gradient = (x: Float64Array, out: Float64Array): number => {
    for (let j = 0; j < d; j++) out[j] = a[j] * (x[j] - c[j]);
    return loss(x);
  };
  return { d, rows: 1, loss, gradient, batchGradient: (x, _rows, _count, out) => gradient(x, out) };
}

function contextFor(d: number): CompressContext {
  const x = new Float64Array(d);
  for (let j = 0; j < d; j++) x[j] = 0.25 * (j % 4) - 0.3;
  return { x, objective: quadraticObjective(d), stepSize: 0.1 };
}

function optionsFor(spec: CompressorSpec, d: number, k: number, floatBits: number, seed: number): CompressorOptions {
  const declared = new Set(spec.options.map((o) => o.name));
  return {
    d,
    floatBits,
    rng: createRng(seed, 'contract', spec.name),
    values: { ...(declared.has('k') ? { k } : {}), ...(declared.has('ranks') ? { ranks: HOSVD_RANKS } : {}) },
  };
}

function decoded(msg: WireMessage, d: number): Float64Array {
  const out = new Float64Array(d);
  decodeInto(msg, out);
  return out;
}

/** A snapshot of the message (it is reused by the next compress call). */
function snapshot(msg: WireMessage, d: number) {
  return {
    format: msg.format,
    bits: msg.bits,
    nnz: msg.nnz,
    indices: Array.from(msg.indices.subarray(0, msg.format === 'sparse' ? msg.nnz : 0)),
    dense: Array.from(decoded(msg, d)),
  };
}

function checkMessage(spec: CompressorSpec, msg: WireMessage, d: number, k: number, floatBits: number): void {
  assert.equal(msg.bits, expectedBits(spec.name, d, k, floatBits), `${spec.name}: bits`);
  const out = decoded(msg, d);
  assert.equal(out.length, d);
  for (let i = 0; i < d; i++) assert.ok(Number.isFinite(out[i]), `${spec.name}: C(x)[${i}] = ${out[i]} is not finite`);
  if (msg.format === 'sparse') {
    assert.ok(Number.isInteger(msg.nnz) && msg.nnz >= 0 && msg.nnz <= k, `${spec.name}: nnz ${msg.nnz} not in [0, k=${k}]`);
    const seen = new Set<number>();
    for (let t = 0; t < msg.nnz; t++) {
      const i = msg.indices[t];
      assert.ok(Number.isInteger(i) && i >= 0 && i < d, `${spec.name}: index ${i} outside [0, ${d})`);
      assert.ok(!seen.has(i), `${spec.name}: index ${i} sent twice`);
      seen.add(i);
      assert.ok(Number.isFinite(msg.values[t]), `${spec.name}: value ${msg.values[t]} not finite`);
    }
  } else {
    assert.equal(msg.format, 'dense');
    assert.ok(msg.values.length >= d, `${spec.name}: dense message shorter than d`);
  }
}

/** d in [1, 24], k in [1, d], x with many zeros and ties among ordinary doubles, a seed and F. */
const inputArb = fc.integer({ min: 1, max: 24 }).chain((d) =>
  fc.record({
    d: fc.constant(d),
    k: fc.integer({ min: 1, max: d }),
    x: fc.array(
      fc.oneof(
        fc.integer({ min: -3, max: 3 }),
        fc.double({ min: -1e3, max: 1e3, noNaN: true, noDefaultInfinity: true }),
      ),
      { minLength: d, maxLength: d },
    ),
    seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
    floatBits: fc.constantFrom(16, 32, 64),
  }),
);

const RUNS = { numRuns: 60, seed: 20240601 };
const specs = [...COMPRESSORS.values()];

test('the registry maps each name to the spec of that name, with its description and bit formula', () => {
  assert.ok(specs.length >= 5);
  for (const [name, spec] of COMPRESSORS) {
    assert.equal(spec.name, name);
    assert.ok(spec.description.length > 0 && spec.bitsFormula.length > 0, name);
    const k = spec.options.find((o) => o.name === 'k');
    assert.equal(k !== undefined, SPARSIFIER_NAMES.has(name), `${name}: declares k iff it is a sparsifier`);
    if (k) assert.equal(k.required, true, `${name}: k is required`);
  }
});

for (const spec of specs) {
  const name = spec.name;

  test(`${name}: C(x) has length d, is finite, and a sparse message holds at most k distinct valid indices`, () => {
    fc.assert(
      fc.property(inputArb, ({ d, k, x, seed, floatBits }) => {
        const c = spec.create(optionsFor(spec, d, k, floatBits, seed));
        assert.equal(c.d, d);
        const v = Float64Array.from(x);
        checkMessage(spec, c.compress(v, contextFor(d)), d, k, floatBits);
      }),
      RUNS,
    );
  });

  test(`${name}: bits equal the spec §3 formula (${spec.bitsFormula}) for every d, k and F`, () => {
    for (const d of [1, 2, 3, 4, 5, 8, 9, 100, 129]) {
      for (const k of [1, Math.max(1, d >> 1), d]) {
        for (const floatBits of [16, 32, 64]) {
          const c = spec.create(optionsFor(spec, d, k, floatBits, 1));
          const v = new Float64Array(d).map((_, i) => Math.sin(i + 1));
          assert.equal(c.compress(v, contextFor(d)).bits, expectedBits(name, d, k, floatBits), `d=${d} k=${k} F=${floatBits}`);
        }
      }
    }
  });

  test(`${name}: compress leaves its inputs unchanged and reuses one preallocated message`, () => {
    fc.assert(
      fc.property(inputArb, ({ d, k, x, seed, floatBits }) => {
        const c = spec.create(optionsFor(spec, d, k, floatBits, seed));
        const v = Float64Array.from(x);
        const ctx = contextFor(d);
        const xBefore = Array.from(ctx.x);
        const first = c.compress(v, ctx);
        const second = c.compress(v, ctx);
        assert.equal(second, first, 'the same message object on every call');
        assert.deepEqual(Array.from(v), x);
        assert.deepEqual(Array.from(ctx.x), xBefore);
      }),
      RUNS,
    );
  });

  test(`${name}: the zero vector compresses to the zero vector at the formula's bit cost`, () => {
    for (const d of [1, 2, 7, 30]) {
      for (const k of [1, d]) {
        const c = spec.create(optionsFor(spec, d, k, 32, 3));
        const msg = c.compress(new Float64Array(d), contextFor(d));
        checkMessage(spec, msg, d, k, 32);
        assert.deepEqual(Array.from(decoded(msg, d)), new Array(d).fill(0), `d=${d} k=${k}`);
      }
    }
  });

  if (spec.randomized) {
    test(`${name}: the same seed gives the same sequence of outputs (randomized)`, () => {
      fc.assert(
        fc.property(inputArb, ({ d, k, x, seed, floatBits }) => {
          const a = spec.create(optionsFor(spec, d, k, floatBits, seed));
          const b = spec.create(optionsFor(spec, d, k, floatBits, seed));
          const v = Float64Array.from(x);
          const ctx = contextFor(d);
          for (let call = 0; call < 3; call++) {
            assert.deepEqual(snapshot(b.compress(v, ctx), d), snapshot(a.compress(v, ctx), d), `call ${call}`);
          }
        }),
        RUNS,
      );
    });
  } else {
    test(`${name}: the same input gives the same output, on the same instance and on a fresh one (deterministic)`, () => {
      fc.assert(
        fc.property(inputArb, ({ d, k, x, seed, floatBits }) => {
          const a = spec.create(optionsFor(spec, d, k, floatBits, seed));
          const b = spec.create(optionsFor(spec, d, k, floatBits, seed + 1));
          const v = Float64Array.from(x);
          const ctx = contextFor(d);
          const once = snapshot(a.compress(v, ctx), d);
          assert.deepEqual(snapshot(a.compress(v, ctx), d), once);
          assert.deepEqual(snapshot(b.compress(v, ctx), d), once);
        }),
        RUNS,
      );
    });
  }

  if (spec.options.some((o) => o.name === 'k')) {
    test(`${name}: create rejects a missing or out-of-range k with a UsageError naming --k`, () => {
      const d = 10;
      for (const k of [undefined, 0, -1, 11, 2.5, Number.NaN, Infinity]) {
        const base = optionsFor(spec, d, 1, 32, 0);
        const options: CompressorOptions = { ...base, values: { ...base.values, k } };
        assert.throws(
          () => spec.create(options),
          (err: unknown) => err instanceof UsageError && err.message.includes('--k'),
          `k = ${k}`,
        );
      }
    });
  }

  const classes = spec.knownClasses?.(10, 3);
  if (classes !== undefined) {
    test(`${name}: its known class constants are positive numbers`, () => {
      for (const [cls, constants] of Object.entries(classes)) {
        for (const [key, value] of Object.entries(constants as Record<string, number>)) {
          assert.ok(Number.isFinite(value) && value > 0, `${cls}.${key} = ${value}`);
        }
      }
    });
  }
}

/** ‖C(x) − x‖² and ‖x‖² of one compression. */
function errorAndNorm(c: Compressor, v: Float64Array): { err: number; norm: number } {
  const out = decoded(c.compress(v, contextFor(v.length)), v.length);
  let err = 0;
  let norm = 0;
  for (let i = 0; i < v.length; i++) {
    err += (out[i] - v[i]) ** 2;
    norm += v[i] ** 2;
  }
  return { err, norm };
}

test('topk: ‖C(x) − x‖² ≤ (1 − k/d)‖x‖² exactly (integer vectors: every sum is exact)', () => {
  const topk = COMPRESSORS.get('topk')!;
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 40 }).chain((d) =>
        fc.record({
          k: fc.integer({ min: 1, max: d }),
          x: fc.array(fc.integer({ min: -1000, max: 1000 }), { minLength: d, maxLength: d }),
        }),
      ),
      ({ k, x }) => {
        const d = x.length;
        const { err, norm } = errorAndNorm(topk.create(optionsFor(topk, d, k, 32, 0)), Float64Array.from(x));
        // d·err ≤ (d − k)·norm, all integers below 2^53
        assert.ok(d * err <= (d - k) * norm, `d=${d} k=${k}: ${d}·${err} > ${d - k}·${norm}`);
      },
    ),
    { numRuns: 300, seed: 7 },
  );
});

test('topk: ‖C(x) − x‖² ≤ (1 − k/d)‖x‖² on arbitrary doubles (up to 1e-12 relative rounding)', () => {
  const topk = COMPRESSORS.get('topk')!;
  fc.assert(
    fc.property(inputArb, ({ d, k, x }) => {
      const { err, norm } = errorAndNorm(topk.create(optionsFor(topk, d, k, 32, 0)), Float64Array.from(x));
      assert.ok(err <= (1 - k / d) * norm * (1 + 1e-12) + 1e-300, `d=${d} k=${k}: ${err} > ${(1 - k / d) * norm}`);
    }),
    { numRuns: 300, seed: 8 },
  );
});
