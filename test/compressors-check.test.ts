import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkCompressor, normalQuantile, syntheticVectors, type CheckVector, type CompressorCheck } from '../src/compressors/classes.js';
import { COMPRESSORS } from '../src/compressors/registry.js';
import type { CompressContext, Compressor, CompressorSpec } from '../src/compressors/types.js';
import { compressorsCommand, formatCheckTable } from '../src/cli/compressors.js';
import { createRng } from '../src/core/rng.js';
import { DcompError } from '../src/core/errors.js';
import { DATA_DIR } from './data-dir.js';

/** RFC 4180 records (quoted fields with "" escapes), enough to read back our own CSV. */
function csvParse(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') { field += '"'; i++; }
      else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') { row.push(field); field = ''; }
    else if (ch === '\n') { row.push(field); rows.push(row); row = []; field = ''; }
    else field += ch;
  }
  if (field !== '' || row.length > 0) { row.push(field); rows.push(row); }
  return rows;
}

const dataDir = DATA_DIR;

// Only the importance compressors read the context; these checks use the others.
const ctx = {} as CompressContext;

function vectorsFor(d: number, seed: number): CheckVector[] {
  return syntheticVectors(d, createRng(seed, 'test-vectors')).map((v) => ({ label: v.label, x: v.x, ctx }));
}

function run(name: string, d: number, k: number, opts: { samples?: number; confidence?: number; seed?: number; spec?: CompressorSpec } = {}): CompressorCheck {
  const spec = opts.spec ?? COMPRESSORS.get(name)!;
  const compressor = spec.create({ d, floatBits: 32, rng: createRng(opts.seed ?? 0, 'test-compressor', name), values: { k: k } });
  return checkCompressor(name, compressor, vectorsFor(d, opts.seed ?? 0), spec.knownClasses?.(d, k), {
    samples: opts.samples ?? 400,
    confidence: opts.confidence ?? 0.99,
    randomized: spec.randomized,
  });
}

function row(result: CompressorCheck, className: string, constant: string) {
  const r = result.rows.find((x) => x.className === className && x.constant === constant);
  assert.ok(r, `${className} ${constant}`);
  return r;
}

/** Top-k that sends 2·x_i on its support: ‖C‖² = 2⟨C, x⟩ (β = 2 > 1) and ‖C − x‖² = ‖x‖² (no B³). */
const brokenTopk: CompressorSpec = {
  ...COMPRESSORS.get('topk')!,
  name: 'broken-topk',
  create(options) {
    const inner = COMPRESSORS.get('topk')!.create(options);
    return {
      name: 'broken-topk',
      d: options.d,
      compress(v, c) {
        const msg = inner.compress(v, c);
        for (let t = 0; t < msg.nnz; t++) msg.values[t] = 2 * v[msg.indices[t]];
        return msg;
      },
    } satisfies Compressor;
  },
};

test('the normal quantile matches tabled values: 1.959964 at 0.975, 2.575829 at 0.995, 3.290527 at 0.9995', () => {
  assert.ok(Math.abs(normalQuantile(0.975) - 1.959964) < 1e-6);
  assert.ok(Math.abs(normalQuantile(0.995) - 2.575829) < 1e-6);
  assert.ok(Math.abs(normalQuantile(0.9995) - 3.290527) < 1e-6);
  assert.ok(Math.abs(normalQuantile(0.5)) < 1e-12);
});

test('Top-k satisfies B¹(k/d,1), B²(k/d,1) and B³(d/k), attaining them exactly on the equal-magnitude vector', () => {
  const d = 50, k = 5;
  const result = run('topk', d, k);
  assert.deepEqual(result.violations, []);
  for (const [cls, c] of [['B1', 'alpha'], ['B1', 'beta'], ['B2', 'gamma'], ['B2', 'beta'], ['B3', 'delta']]) assert.equal(row(result, cls, c).status, 'ok');
  // |x_i| all equal: ‖top-k‖² = (k/d)‖x‖² exactly, so α = γ = k/d and δ = d/k
  const delta = row(result, 'B3', 'delta');
  assert.equal(delta.worstVector, 'equal-magnitude');
  assert.ok(Math.abs(delta.estimate - d / k) < 1e-12);
  assert.ok(Math.abs(row(result, 'B1', 'alpha').estimate - k / d) < 1e-12);
  assert.equal(row(result, 'B1', 'beta').estimate, 1);
  // deterministic: one draw, a collapsed interval
  assert.equal(result.samples, 1);
  assert.equal(delta.low, delta.high);
});

test('Rand-k is found unbiased with ζ = d/k inside its interval on every vector', () => {
  const d = 40, k = 4;
  const result = run('randk', d, k, { samples: 2000 });
  assert.deepEqual(result.violations, []);
  assert.equal(row(result, 'U', 'bias').status, 'ok');
  assert.equal(row(result, 'U', 'bias').low, 0);
  assert.equal(row(result, 'U', 'zeta').status, 'ok');
  // E‖C‖² = (d/k)‖x‖² for every x: each per-vector interval must contain d/k
  for (const v of result.vectors) {
    assert.ok(v.secondMoment.low <= d / k + 1e-9 && d / k <= v.secondMoment.high + 1e-9, `${v.label}: [${v.secondMoment.low}, ${v.secondMoment.high}]`);
    assert.ok(v.gamma.low <= 1 && 1 <= v.gamma.high, v.label);
  }
});

test('brandk meets B¹(k/d,1), B²(k/d,1), B³(d/k) with equality in expectation, and the intervals accept it', () => {
  const d = 40, k = 8;
  const result = run('brandk', d, k, { samples: 2000 });
  assert.deepEqual(result.violations, []);
  // ‖C‖² = ⟨C, x⟩ on every draw: β is exactly 1 with no spread
  assert.ok(Math.abs(row(result, 'B1', 'beta').estimate - 1) < 1e-12);
});

test('a Top-k that returns 2·x on its support is flagged: β = 2 exceeds 1 (B¹, B²) and δ = ∞ exceeds d/k (B³)', () => {
  const d = 50, k = 5;
  const result = run('broken-topk', d, k, { spec: brokenTopk });
  assert.equal(row(result, 'B1', 'beta').status, 'violated');
  assert.equal(row(result, 'B2', 'beta').status, 'violated');
  assert.equal(row(result, 'B3', 'delta').status, 'violated');
  assert.ok(Math.abs(row(result, 'B1', 'beta').estimate - 2) < 1e-12);
  assert.equal(row(result, 'B3', 'delta').estimate, Infinity);
  // α = 4·(top-k mass)/‖x‖² ≥ 4k/d and γ = 2·(top-k mass)/‖x‖² ≥ 2k/d still hold
  assert.equal(row(result, 'B1', 'alpha').status, 'ok');
  assert.equal(result.violations.length, 3);
  assert.match(result.violations.join('\n'), /broken-topk: B¹\(α,β\): .*β = 2 .* vs known β = 1/);
});

test('a "Rand-k" that forgot the d/k scaling is flagged as biased and below its ζ, although each draw looks plausible', () => {
  const d = 40, k = 4;
  const liar: CompressorSpec = { ...COMPRESSORS.get('brandk')!, knownClasses: COMPRESSORS.get('randk')!.knownClasses, unbiasedZeta: (dd, kk) => dd / kk };
  const result = run('liar', d, k, { spec: liar, samples: 2000 });
  assert.equal(row(result, 'U', 'bias').status, 'violated');
  // E C(x) = (k/d)x: the bias ‖E C − x‖/‖x‖ = 1 − k/d = 0.9 lies inside the reported interval
  const bias = row(result, 'U', 'bias');
  assert.ok(bias.low <= 0.9 && 0.9 <= bias.high + 1e-9, `[${bias.low}, ${bias.high}]`);
});

test('with the stated confidence the check rarely flags a correct compressor: Rand-k over 60 seeds at 80% confidence', () => {
  // ζ is met with equality for every x, so a flag is a false alarm; each worst-case interval has
  // joint coverage ≥ 0.8 and a flag needs the interval entirely above d/k (one side): ≤ 10% expected
  let alarms = 0;
  for (let seed = 1; seed <= 60; seed++) {
    const result = run('randk', 30, 3, { samples: 300, confidence: 0.8, seed });
    if (result.violations.length > 0) alarms++;
  }
  assert.ok(alarms <= 12, `${alarms} false alarms out of 60`);
});

test('the check detects a compressor 30% above its claimed ζ with enough samples', () => {
  const d = 30, k = 3;
  // Rand-k with the scale √1.3·d/k: biased, and E‖C‖² = 1.3·(d/k)‖x‖²
  const randk = COMPRESSORS.get('randk')!;
  const inflated: CompressorSpec = {
    ...randk,
    create(options) {
      const inner = randk.create(options);
      return {
        name: 'inflated',
        d: options.d,
        compress(v, c) {
          const msg = inner.compress(v, c);
          for (let t = 0; t < msg.nnz; t++) msg.values[t] *= Math.sqrt(1.3);
          return msg;
        },
      };
    },
  };
  const result = run('inflated', d, k, { spec: inflated, samples: 4000 });
  assert.equal(row(result, 'U', 'zeta').status, 'violated');
});

test('hosvd is an orthogonal projection of the padded x, so its estimated β is at most 1 on every vector', () => {
  const spec = COMPRESSORS.get('hosvd')!;
  const d = 60;
  const compressor = spec.create({ d, floatBits: 32, rng: createRng(0), values: { ranks: [2] } });
  const result = checkCompressor('hosvd', compressor, vectorsFor(d, 3), undefined, { samples: 10, confidence: 0.99, randomized: false });
  for (const v of result.vectors) assert.ok(v.beta.estimate <= 1 + 1e-12, `${v.label}: ${v.beta.estimate}`);
  assert.ok(row(result, 'B3', 'delta').estimate < Infinity);
  assert.ok(result.rows.every((r) => r.status === 'unknown'));
});

test('the table renders as aligned text, markdown, CSV and LaTeX with one row per compressor and constant', () => {
  const results = [run('topk', 20, 2), run('broken-topk', 20, 2, { spec: brokenTopk })];
  const text = formatCheckTable(results, 'text');
  assert.match(text, /VIOLATED/);
  const textLines = text.trimEnd().split('\n');
  assert.equal(textLines.length, 2 + 14);

  const md = formatCheckTable(results, 'markdown').trimEnd().split('\n');
  assert.equal(md.length, 2 + 14);
  const cols = md[0].split(' | ').length;
  for (const line of md) assert.equal(line.split(/(?<!\\)\|/).length - 2, cols, line);

  const csv = csvParse(formatCheckTable(results, 'csv'));
  assert.deepEqual(csv[0], ['compressor', 'class', 'constant', 'worst_case', 'known', 'estimate', 'ci_low', 'ci_high', 'confidence', 'samples', 'worst_vector', 'status']);
  assert.equal(csv.length, 1 + 14);
  const delta = csv.find((r) => r[0] === 'broken-topk' && r[2] === 'delta')!;
  assert.equal(delta[5], 'inf');
  assert.equal(delta[11], 'violated');
  const topkDelta = csv.find((r) => r[0] === 'topk' && r[2] === 'delta')!;
  assert.equal(Number(topkDelta[4]), 10);

  const latex = formatCheckTable(results, 'latex', 'A caption with 50% & more');
  assert.match(latex, /\\begin\{tabular\}\{llllrrrrrll\}/);
  assert.match(latex, /\\caption\{A caption with 50\\% \\& more\}/);
  const body = latex.split('\n').filter((l) => l.endsWith('\\\\'));
  assert.equal(body.length, 1 + 14);
  for (const l of body) {
    assert.equal(l.split(' & ').length, 11, l);
    assert.doesNotMatch(l, /(?<!\\)[%#_]/, 'special characters are escaped');
  }
  assert.match(latex, /\$\\infty\$/);
});

function capture(registry?: ReadonlyMap<string, CompressorSpec>) {
  const out: string[] = [];
  const err: string[] = [];
  const cmd = compressorsCommand({ stdout: (t) => out.push(t), stderr: (t) => err.push(t), env: {}, compressors: registry });
  cmd.exitOverride();
  return { cmd, out, err };
}

test('`dcomp compressors` lists every registered compressor with its parameters and bit formula', async () => {
  const { cmd, out } = capture();
  await cmd.parseAsync(['--d', '100', '--k', '10'], { from: 'user' });
  const text = out.join('');
  for (const spec of COMPRESSORS.values()) {
    const line = text.split('\n').find((l) => l.startsWith(spec.name + ' '));
    assert.ok(line, spec.name);
    assert.ok(line.includes(spec.bitsFormula), `${spec.name} bits`);
  }
  assert.match(text, /topk .*B³\(δ=10\)/);
  assert.match(text, /randk .*U\(ζ=10\)/);
});

test('`dcomp compressors --check` on mushrooms finds every known bound holding, real gradients included', async () => {
  const { cmd, out, err } = capture();
  await cmd.parseAsync(['--check', '--dataset', 'mushrooms', '--data-dir', dataDir, '--samples', '300', '--format', 'csv'], { from: 'user' });
  const rows = csvParse(out.join(''));
  const names = new Set(rows.slice(1).map((r) => r[0]));
  for (const name of COMPRESSORS.keys()) assert.ok(names.has(name), name);
  assert.ok(rows.slice(1).every((r) => r[11] !== 'violated'));
  assert.ok(rows.some((r) => r[10] === '∇f(0)' || r[10] === '∇f(x~N(0,I))'), 'a real gradient is among the worst-case vectors');
  assert.match(err.join(''), /d = 112 \(mushrooms/);
});

test('`dcomp compressors --check` exits 1 and names the violation for a broken compressor registered only in the test', async () => {
  const registry = new Map([...COMPRESSORS, ['broken-topk', brokenTopk]]);
  const { cmd, out, err } = capture(registry);
  await assert.rejects(
    cmd.parseAsync(['--check', '--dataset', 'none', '--d', '30', '--k', '3', '--compressor', 'topk,broken-topk'], { from: 'user' }),
    (e: unknown) => e instanceof DcompError && e.exitCode === 1 && /3 known bounds violated/.test(e.message),
  );
  assert.match(out.join(''), /broken-topk .*VIOLATED/);
  assert.match(err.join(''), /violated: broken-topk: B³\(δ\)/);
});
