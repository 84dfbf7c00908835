/**
 * `dcomp run` end to end: the CSV contract of spec §6, reproducibility, usage errors (exit 2),
 * divergence (exit 1), and an EF21 trajectory checked against an independent dense implementation.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { dcomp, tempDir, DATA_DIR } from './bench-cli-helpers.js';
import { EigenvalueDecomposition, Matrix } from 'ml-matrix';
import { RUN_COLUMNS } from '../src/report/csv.js';

const cache = tempDir('dcomp-run-cache-');

function rows(csv: string): Record<string, string>[] {
  const [header, ...lines] = csv.trimEnd().split('\n');
  const cols = header.split(',');
  return lines.map((line) => Object.fromEntries(line.split(',').map((v, i) => [cols[i], v])));
}

function withoutTime(csv: string): string {
  const col = RUN_COLUMNS.indexOf('time_ms');
  return csv.split('\n').map((line) => line.split(',').filter((_, i) => i !== col).join(',')).join('\n');
}

test('dcomp run writes the spec §6 header and one row per logged iteration (0, every m, and the last) to stdout only', () => {
  const r = dcomp(['run', '--dataset', 'mushrooms', '--method', 'cgd', '--compressor', 'topk', '--k', '5', '--iters', '23', '--log-every', '10'], cache);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr, '', 'nothing on stderr when it is not a TTY and all went well');
  const [header] = r.stdout.split('\n');
  assert.deepEqual(header.split(','), [...RUN_COLUMNS]);
  const table = rows(r.stdout);
  assert.deepEqual(table.map((row) => row.iteration), ['0', '10', '20', '23']);
  assert.ok(table.every((row) => row.status === 'ok' && row.precision === 'float64' && row.backend === 'cpu'));
  assert.equal(new Set(table.map((row) => row.run_id)).size, 1);
  // bits: k·(F + ⌈log2 112⌉) = 5·(32 + 7) per worker per step; the master broadcasts d·F
  assert.equal(Number(table[1].bits_up_per_worker), 10 * 5 * 39);
  assert.equal(Number(table[1].bits_down), 10 * 112 * 32);
});

test('dcomp run twice gives the same bytes apart from time_ms (randomized compressor, iid split, normal x0)', () => {
  const args = ['run', '--dataset', 'mushrooms', '--method', 'ef', '--compressor', 'randk', '--k', '7', '--workers', '4', '--step', '0.05', '--iters', '15', '--x0', 'normal:0.1', '--seed', '3'];
  const a = dcomp(args, cache);
  const b = dcomp(args, cache);
  assert.equal(a.status, 0, a.stderr);
  assert.equal(withoutTime(a.stdout), withoutTime(b.stdout));
  const c = dcomp([...args.slice(0, -1), '4'], cache);
  assert.notEqual(withoutTime(a.stdout), withoutTime(c.stdout), 'another seed gives another trajectory');
});

test('bad option values exit 2 and name the option and what it accepts', () => {
  const cases: [string[], RegExp][] = [
    [['--method', 'cgd', '--compressor', 'topk', '--k', 'abc'], /--k.*integer/],
    [['--method', 'cgd', '--compressor', 'topk'], /--k/],
    [['--method', 'cgd', '--compressor', 'topk', '--k', '113'], /--k.*1 ≤ k ≤ d = 112/],
    [['--method', 'cgd', '--compressor', 'top-k', '--k', '3'], /--compressor.*top-k/],
    [['--method', 'sgd'], /--method.*sgd/],
    [['--method', 'gd', '--split', 'random'], /--split.*iid, contiguous, label/],
    [['--method', 'gd', '--step', 'fast'], /--step.*theory/],
    [['--method', 'ef21', '--compressor', 'hosvd', '--ranks', '2'], /--step.*no theory step.*ef21.*hosvd/],
    [['--method', 'ef', '--compressor', 'topk', '--k', '3'], /--step.*ef/],
    [['--method', 'gd', '--compressor', 'topk', '--k', '3'], /--compressor.*gd/],
    [['--method', 'gd', '--x0', 'uniform'], /--x0/],
    [['--method', 'gd', '--workers', '0'], /--workers/],
    [['--method', 'gd', '--workers', '9000'], /--workers.*8124/],
    // with gpu.js: the software-renderer refusal (--backend gpu: …); without it (--omit=optional): --gpu-mode auto: not available
    [['--method', 'gd', '--backend', 'gpu'], /^dcomp: --(backend gpu|gpu-mode auto): /m],
  ];
  for (const [args, message] of cases) {
    const r = dcomp(['run', '--dataset', 'mushrooms', ...args], cache);
    assert.equal(r.status, 2, `${args.join(' ')} → ${r.status}: ${r.stderr}`);
    assert.match(r.stderr, message, args.join(' '));
    assert.equal(r.stdout, '', 'no CSV on a usage error');
  }
});

test('a malformed dataset file fails with exit 1 and names the file and line', () => {
  const dir = tempDir('dcomp-run-bad-');
  const file = join(dir, 'bad.libsvm');
  writeFileSync(file, '1 1:1 2:1\n2 3:1 2:1\n');
  const r = dcomp(['run', '--dataset', file, '--method', 'gd', '--iters', '1'], cache);
  assert.equal(r.status, 1);
  assert.match(r.stderr, new RegExp(`${file.replace(/[.]/g, '\\.')}:2: .*ascending`));
});

test('a diverging run is written with status diverged on its last row, a message on stderr and exit 1', () => {
  const r = dcomp(['run', '--dataset', 'mushrooms', '--method', 'gd', '--step', '1e9', '--iters', '50'], cache);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /diverged/);
  const table = rows(r.stdout);
  assert.equal(table.at(-1)!.status, 'diverged');
  assert.ok(table.slice(0, -1).every((row) => row.status === 'ok'));
  assert.ok(table.length < 51, 'it stopped early');
});

// ---- independent dense float64 implementation of spec §1–§5 for one EF21 + Top-k run ----

function loadDense(path: string): { A: number[][]; b: number[]; d: number } {
  const text = readFileSync(path, 'utf8');
  const raw: { label: number; feats: [number, number][] }[] = [];
  let d = 0;
  for (const line of text.split('\n')) {
    const t = line.trim().split(/\s+/);
    if (t[0] === '') continue;
    const feats = t.slice(1).map((p) => p.split(':').map(Number) as [number, number]);
    for (const [j] of feats) d = Math.max(d, j);
    raw.push({ label: Number(t[0]), feats });
  }
  const labels = [...new Set(raw.map((r) => r.label))].sort((a, b) => a - b);
  const A = raw.map((r) => {
    const row = new Array<number>(d).fill(0);
    for (const [j, v] of r.feats) row[j - 1] = v;
    return row;
  });
  return { A, b: raw.map((r) => (r.label === labels[0] ? -1 : 1)), d };
}

test('ef21 + topk on mushrooms (n = 20, contiguous, theory step) matches an independent dense implementation of the spec to 1e-9', () => {
  const { A, b, d } = loadDense(join(DATA_DIR, 'mushrooms'));
  const n = 20, k = 10, lambda = 1e-3, iters = 30;
  const N = A.length;
  const shards: { A: number[][]; b: number[] }[] = [];
  let start = 0;
  for (let i = 0; i < n; i++) {
    const size = Math.floor(N / n) + (i < N % n ? 1 : 0);
    shards.push({ A: A.slice(start, start + size), b: b.slice(start, start + size) });
    start += size;
  }
  const dot = (u: number[], v: number[]) => u.reduce((s, ui, j) => s + ui * v[j], 0);
  const softplus = (z: number) => Math.max(z, 0) + Math.log1p(Math.exp(-Math.abs(z)));
  const fi = (x: number[], s: (typeof shards)[0]) => s.A.reduce((acc, a, r) => acc + softplus(-s.b[r] * dot(a, x)), 0) / s.A.length + (lambda / 2) * dot(x, x);
  const gi = (x: number[], s: (typeof shards)[0]) => {
    const g = x.map((xj) => lambda * xj);
    s.A.forEach((a, r) => {
      const m = s.b[r] * dot(a, x);
      const c = -s.b[r] / (1 + Math.exp(m)) / s.A.length;
      a.forEach((v, j) => (g[j] += c * v));
    });
    return g;
  };
  const f = (x: number[]) => shards.reduce((s, sh) => s + fi(x, sh), 0) / n;
  const grad = (x: number[]) => shards.map((sh) => gi(x, sh)).reduce((acc, g) => acc.map((v, j) => v + g[j] / n), new Array<number>(d).fill(0));
  // λ_max by a dense symmetric eigendecomposition (ml-matrix), independent of dcomp's Lanczos
  const lambdaMax = (M: number[][]) => Math.max(...new EigenvalueDecomposition(new Matrix(M), { assumeSymmetric: true }).realEigenvalues);
  const gram = (rows: number[][], scale: number) => Array.from({ length: d }, (_, p) => Array.from({ length: d }, (_, q) => rows.reduce((s, a) => s + a[p] * a[q], 0) * scale));
  const grams = shards.map((s) => gram(s.A, 1 / s.A.length));
  const Li = grams.map((G) => lambdaMax(G) / 4 + lambda);
  const mean = grams[0].map((row, p) => row.map((_, q) => grams.reduce((s, G) => s + G[p][q], 0) / n));
  const L = lambdaMax(mean) / 4 + lambda;
  const Ltilde = Math.sqrt(Li.reduce((s, l) => s + l * l, 0) / n);
  const alpha = k / d, theta = 1 - Math.sqrt(1 - alpha), beta = (1 - alpha) / (1 - Math.sqrt(1 - alpha));
  const gamma = 1 / (L + Ltilde * Math.sqrt(beta / theta));
  const topk = (v: number[]) => {
    const keep = v.map((x, j) => j).sort((p, q) => Math.abs(v[q]) - Math.abs(v[p]) || p - q).slice(0, k);
    const out = new Array<number>(d).fill(0);
    for (const j of keep) out[j] = v[j];
    return out;
  };
  let x = new Array<number>(d).fill(0);
  let gis = shards.map((s) => topk(gi(x, s)));
  let g = gis.reduce((acc, gv) => acc.map((v, j) => v + gv[j] / n), new Array<number>(d).fill(0));
  const expected = [{ loss: f(x), gn: dot(grad(x), grad(x)) }];
  for (let t = 1; t <= iters; t++) {
    x = x.map((xj, j) => xj - gamma * g[j]);
    const cs = shards.map((s, i) => topk(gi(x, s).map((v, j) => v - gis[i][j])));
    gis = gis.map((gv, i) => gv.map((v, j) => v + cs[i][j]));
    g = g.map((v, j) => v + cs.reduce((s, c) => s + c[j], 0) / n);
    const gr = grad(x);
    expected.push({ loss: f(x), gn: dot(gr, gr) });
  }

  const r = dcomp(['run', '--dataset', 'mushrooms', '--method', 'ef21', '--compressor', 'topk', '--k', String(k), '--workers', String(n), '--step', 'theory', '--iters', String(iters), '--split', 'contiguous', '--log-every', '1'], cache);
  assert.equal(r.status, 0, r.stderr);
  const table = rows(r.stdout);
  assert.equal(table.length, iters + 1);
  const rel = (a: number, e: number) => Math.abs(a - e) / Math.abs(e);
  assert.ok(rel(Number(table[0].step), gamma) < 1e-9, `step ${table[0].step} vs ${gamma}`);
  table.forEach((row, t) => {
    assert.equal(Number(row.iteration), t);
    assert.ok(rel(Number(row.loss), expected[t].loss) < 1e-9, `loss at ${t}: ${row.loss} vs ${expected[t].loss}`);
    assert.ok(rel(Number(row.grad_norm_sq), expected[t].gn) < 1e-9, `‖∇f‖² at ${t}: ${row.grad_norm_sq} vs ${expected[t].gn}`);
  });
});
