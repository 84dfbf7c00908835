/**
 * The cases of `dcomp perf` and their baselines (issues 3, 4 and 5, "Performance").
 *
 * Every case builds its inputs from the real components (data reader, logreg, compressor and method
 * registries) the way `prepareRun` does, but without solving f* (not needed to time an iteration):
 * contiguous split, λ = 1e-3, F = 32. Step sizes come from the dataset's smoothness (1/L; the EF21
 * theory step for ef21), the same numbers are handed to the baselines.
 *
 * Baselines run in their own processes before our measurements (never concurrently with them):
 *  - grad_csr.c, compiled with `cc -O2`, `-O3` and `-O3 -march=native` into a temp dir, for the full
 *    gradient, on our exact CSR arrays: the reference loop, a two-pass CSC gather and its
 *    pattern-only form (binary data), each timed; the row's baseline is the fastest by the median.
 *    Every variant's gradient and loss are compared with ours (max difference relative to max |entry|);
 *  - numpy_baseline.py (numpy + scipy, its own LIBSVM parser) for everything else; for each method
 *    it also reports x after 3 steps from zero, for each compressor C(v), compared with ours.
 * A case whose module fails becomes an error row and the rest go on.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createRng } from '../core/rng.js';
import { parseLibsvm, readLibsvmFile } from '../data/libsvm.js';
import { resolveDataset } from '../data/resolve.js';
import { splitShards } from '../data/split.js';
import { syntheticSparse } from '../data/synthetic.js';
import type { LabeledData } from '../data/types.js';
import { compressorSpec } from '../compressors/registry.js';
import type { CompressContext, Compressor, WireMessage } from '../compressors/types.js';
import { hosvdDims } from '../compressors/hosvd.js';
import { methodSpec } from '../methods/registry.js';
import { createOracle } from '../methods/oracle.js';
import type { MethodEnv } from '../methods/types.js';
import { problemSpec } from '../problems/registry.js';
import type { Problem } from '../problems/types.js';
import { mlpGradientFlops, mlpLayout, mlpSpec, type MlpProblem } from '../problems/mlp.js';
import {
  bestTimeRatio, collectGarbage, DEFAULT_MEASURE, measureSync, summarize, throughputSamples, timeRatio,
  type BaselineFigure, type MeasureOptions, type PerfRecord, type PerfUnit, type Stats,
} from './perf.js';

const run = promisify(execFile);

/** Case groups in the order they run; `--cases` selects among these. */
export const CASE_GROUPS = [
  'parse', 'gradient', 'topk', 'gd', 'ef21-topk', 'imp-a', 'imp-b', 'imp-c', 'hosvd', 'cgd-imp-a', 'ef21-hosvd', 'topk-ssgd', 'gtopk',
  'mlp-gradient', 'mlp-imp-a', 'scale',
] as const;
export type CaseGroup = (typeof CASE_GROUPS)[number];

export const DEFAULT_DATASETS = ['mushrooms', 'a9a', 'w8a'];

/**
 * The `scale` cases (issue 13): seeded synthetic sparse problems (src/data/synthetic.ts, binary
 * values, 20–50 non-zeros per row) of N rows and d columns, timed for gd (n = 1), ef21 + topk
 * (n = 20) and gtopk (n = 16), both with k = d/100. `--scale` picks the grid; the points are in
 * increasing size, so the peak RSS reported after each is that of the largest built so far.
 */
export const SCALES = ['small', 'medium', 'large'] as const;
export type Scale = (typeof SCALES)[number];
export const SCALE_GRIDS: Readonly<Record<Scale, readonly { readonly rows: number; readonly cols: number }[]>> = {
  small: [{ rows: 1e5, cols: 1e5 }, { rows: 3e5, cols: 1e5 }, { rows: 1e5, cols: 1e6 }],
  medium: [{ rows: 1e5, cols: 1e5 }, { rows: 3e5, cols: 1e5 }, { rows: 1e6, cols: 1e5 }, { rows: 1e5, cols: 1e6 }, { rows: 3e5, cols: 1e6 }],
  large: [
    { rows: 1e5, cols: 1e5 }, { rows: 3e5, cols: 1e5 }, { rows: 1e6, cols: 1e5 }, { rows: 1e5, cols: 1e6 }, { rows: 3e5, cols: 1e6 },
    { rows: 1e6, cols: 1e6 },
  ],
};
const SCALE_NNZ = { min: 20, max: 50 };
const SCALE_METHODS: readonly { readonly method: string; readonly compressor: string; readonly n: number }[] = [
  { method: 'gd', compressor: 'identity', n: 1 },
  { method: 'ef21', compressor: 'topk', n: 20 },
  { method: 'gtopk', compressor: 'topk', n: 16 },
];
export const TOPK_DIMS = [1e3, 1e4, 1e5, 1e6];
/** Workers for gd / ef21 cases (issue 3) and the S-SGD cases (issue 5). */
export const ITERATION_WORKERS = 20;
/** gd on one worker (issue 13's first row: one full gradient and step against numpy) and on ITERATION_WORKERS. */
const GD_WORKERS = [1, ITERATION_WORKERS];
export const SSGD_WORKERS: Readonly<Record<string, readonly number[]>> = { mushrooms: [16], a9a: [16, 64], w8a: [16, 64] };
const DEFAULT_SSGD_WORKERS = [16];
const L2 = 1e-3;
const FLOAT_BITS = 32;
const INNER_STEPS = 20;
const HOSVD_RANK = 2;
/** Steps from x⁰ = 0 after which a method's iterate is compared with the baseline's. */
const CHECK_STEPS = 3;

export interface PerfOptions {
  readonly datasets: readonly string[];
  /** Groups to run (default: all). */
  readonly cases?: readonly CaseGroup[];
  readonly measure?: MeasureOptions;
  /** Run the C and numpy baselines (default true). */
  readonly baselines?: boolean;
  /** The grid of the `scale` cases (default small), or its points themselves (N rows × d columns). */
  readonly scale?: Scale | readonly { readonly rows: number; readonly cols: number }[];
  readonly dataDir?: string;
  readonly envDataDir?: string;
  readonly cacheDir?: string;
  /** Environment of the baseline processes (the CLI passes its own); BLAS threads are set to 1 on top. */
  readonly childEnv?: NodeJS.ProcessEnv;
  /** Python interpreter and C compiler commands (default python3, cc). */
  readonly python?: string;
  readonly cc?: string;
  /** Called between cases (never during a measurement) with what is about to happen. */
  readonly onProgress?: (message: string) => void;
}

/** What the figures were measured on. */
export interface PerfEnvironment {
  readonly cpu: string;
  readonly cores: number;
  readonly node: string;
  readonly numpy?: string;
  readonly scipy?: string;
  readonly cc?: string;
  /** Why a baseline did not run, if it did not. */
  readonly baselineNotes: string[];
}

export interface PerfResult {
  readonly records: PerfRecord[];
  readonly environment: PerfEnvironment;
}

/** Our side of a case, built just before it is measured. */
interface Prepared {
  /** The operation timed. */
  run(): unknown;
  /** Bytes processed per call (MB/s cases). */
  bytes?: number;
  /** A result vector to compare with the baseline's `check`. */
  check?(): Float64Array;
  /** Appended to the row's note after the measurement (e.g. a divergence warning). */
  after?(): string | undefined;
  /** Work per call (scale cases): the note then gives the time per non-zero and per nnz + n·d. */
  perUnit?: { readonly nnz: number; readonly nd: number };
  /** Floating-point operations per call: the row's note then gives GFLOP/s. */
  flops?: number;
}

interface CaseDef {
  readonly group: CaseGroup;
  readonly dataset: string;
  readonly params: string;
  readonly unit: PerfUnit;
  /** The numpy baseline's op, when there is one. */
  readonly numpyOp?: Record<string, unknown>;
  /** Compared with the C gradient loop instead of numpy. */
  readonly cBaseline?: boolean;
  prepare(): Prepared;
}

interface LoadedDataset {
  readonly name: string;
  readonly path: string;
  readonly bytes: Uint8Array;
  readonly data: LabeledData;
  /** 1/L of the n = 1 problem; used as the step of gd-like methods and η of the importance compressors. */
  readonly invL: number;
  /** The EF21 theory step (topk, k = d/10) for the same L. */
  readonly ef21Step: number;
  readonly k: number;
  readonly problems: Map<number, Problem>;
}

/** max_j |a_j − b_j| / max_j |b_j|: the largest difference relative to the vector's scale. */
export function maxRelativeDifference(ours: ArrayLike<number>, theirs: ArrayLike<number>): number {
  if (ours.length !== theirs.length) return NaN;
  let diff = 0;
  let scale = 0;
  for (let j = 0; j < ours.length; j++) {
    diff = Math.max(diff, Math.abs(ours[j] - theirs[j]));
    scale = Math.max(scale, Math.abs(theirs[j]));
  }
  return scale === 0 ? diff : diff / scale;
}

/** The per-call cases' point, reproducible in every language: x_j = 0.1·sin(j + 1). */
export function testPoint(d: number): Float64Array {
  const x = new Float64Array(d);
  for (let j = 0; j < d; j++) x[j] = 0.1 * Math.sin(j + 1);
  return x;
}

function problemFor(ds: LoadedDataset, n: number): Problem {
  let p = ds.problems.get(n);
  if (!p) {
    p = problemSpec('logreg').create(ds.data, { values: { l2: L2 }, shards: splitShards(ds.data, n, 'contiguous') });
    ds.problems.set(n, p);
  }
  return p;
}

function decode(msg: WireMessage, d: number): Float64Array {
  const out = new Float64Array(d);
  if (msg.format === 'dense') out.set(msg.values.subarray(0, d));
  else for (let t = 0; t < msg.nnz; t++) out[msg.indices[t]] = msg.values[t];
  return out;
}

interface MethodSetup {
  readonly method: string;
  readonly compressor: string;
  readonly n: number;
  readonly k?: number;
  readonly ranks?: number[];
  readonly step: number;
}

/** A method iteration: prepareRun's assembly without f*, then init from zeros. */
function methodRunner(ds: LoadedDataset, setup: MethodSetup): { step(): void; x(): Float64Array } {
  const problem = problemFor(ds, setup.n);
  const d = problem.d;
  const cSpec = compressorSpec(setup.compressor);
  const compressors: Compressor[] = [];
  for (let i = 0; i < setup.n; i++) {
    compressors.push(cSpec.create({ d, floatBits: FLOAT_BITS, rng: createRng(0, 'compressor', i), values: { k: setup.k, ranks: setup.ranks } }));
  }
  const env: MethodEnv = {
    problem, compressors, stepSize: setup.step, floatBits: FLOAT_BITS, k: setup.k, oracle: createOracle(problem, { seed: 0 }),
  };
  const method = methodSpec(setup.method).create();
  const state = method.init(new Float64Array(d), env);
  return { step: () => method.step(state, env), x: () => state.x };
}

function methodPrepared(ds: LoadedDataset, setup: MethodSetup): Prepared {
  const timed = methodRunner(ds, setup);
  return {
    run: timed.step,
    check() {
      const fresh = methodRunner(ds, setup);
      for (let t = 0; t < CHECK_STEPS; t++) fresh.step();
      return Float64Array.from(fresh.x());
    },
    after() {
      const x = timed.x();
      for (let j = 0; j < x.length; j++) if (!Number.isFinite(x[j])) return 'iterate became non-finite during timing';
      return undefined;
    },
  };
}

function compressorPrepared(ds: LoadedDataset, name: string, k: number | undefined, ranks: number[] | undefined): Prepared {
  const problem = problemFor(ds, 1);
  const d = problem.d;
  const x = testPoint(d);
  const v = new Float64Array(d);
  problem.gradient(x, v);
  const compressor = compressorSpec(name).create({
    d, floatBits: FLOAT_BITS, rng: createRng(0, 'compressor', 0), values: { k, ranks, inner_steps: INNER_STEPS },
  });
  const ctx: CompressContext = { x, objective: problem.workers[0], stepSize: ds.invL };
  return {
    run: () => compressor.compress(v, ctx),
    check: () => decode(compressor.compress(v, ctx), d),
  };
}

/** A synthetic problem of the `scale` grid as a LoadedDataset (steps from a row-norm bound on L). */
function syntheticDataset(rows: number, cols: number): LoadedDataset {
  const data = syntheticSparse({ rows, cols, minNnz: SCALE_NNZ.min, maxNnz: SCALE_NNZ.max, seed: 0 });
  // L ≤ ¼·max_r ‖a_r‖² + λ for logistic regression (‖a_r‖² = its non-zeros here): O(nnz), where the
  // exact λ_max (Lanczos on every shard) would cost more than the benchmark; a safe, smaller step.
  let longest = 0;
  for (let r = 0; r < rows; r++) longest = Math.max(longest, data.X.rowPtr[r + 1] - data.X.rowPtr[r]);
  const L = 0.25 * longest + L2;
  const k = Math.max(1, Math.floor(cols / 100));
  const smoothness = { L, Li: new Float64Array(Math.max(...SCALE_METHODS.map((m) => m.n))).fill(L), Ltilde: L };
  const ef21 = methodSpec('ef21').theoryStep({ smoothness, compressor: compressorSpec('topk'), d: cols, k });
  return {
    name: 'synthetic', path: '', bytes: new Uint8Array(0), data, invL: 1 / L, ef21Step: typeof ef21 === 'number' ? ef21 : 1 / L, k,
    problems: new Map(),
  };
}

function scaleCaseDefinitions(scale: Scale | readonly { readonly rows: number; readonly cols: number }[]): CaseDef[] {
  const defs: CaseDef[] = [];
  for (const { rows, cols } of typeof scale === 'string' ? SCALE_GRIDS[scale] : scale) {
    // One problem per grid point, made by its first case and dropped after its last.
    const point: { ds?: LoadedDataset } = {};
    SCALE_METHODS.forEach((m, index) => {
      const last = index === SCALE_METHODS.length - 1;
      defs.push({
        group: 'scale', dataset: 'synthetic', unit: 'us',
        params: `${m.method}${m.compressor === 'identity' ? '' : `+${m.compressor}`} n=${m.n} N=${rows} d=${cols}`,
        prepare() {
          const ds = (point.ds ??= syntheticDataset(rows, cols));
          const step = m.method === 'ef21' ? ds.ef21Step : ds.invL;
          const setup: MethodSetup = { method: m.method, compressor: m.compressor, n: m.n, k: m.compressor === 'topk' ? ds.k : undefined, step };
          const timed = methodRunner(ds, setup);
          const nnz = ds.data.X.rowPtr[rows];
          return {
            run: timed.step,
            after() {
              const x = timed.x();
              let finite = true;
              for (let j = 0; j < x.length && finite; j++) finite = Number.isFinite(x[j]);
              if (last) point.ds = undefined;
              return `nnz ${nnz}; peak RSS ${Math.round(process.resourceUsage().maxRSS / 1024)} MB` + (finite ? '' : '; iterate became non-finite during timing');
            },
            perUnit: { nnz, nd: m.n * cols },
          };
        },
      });
    });
  }
  return defs;
}

function caseDefinitions(
  datasets: readonly LoadedDataset[], groups: ReadonlySet<CaseGroup>, scale: Scale | readonly { readonly rows: number; readonly cols: number }[],
): CaseDef[] {
  const defs: CaseDef[] = [];
  const want = (g: CaseGroup) => groups.has(g);
  for (const g of CASE_GROUPS) {
    if (!want(g)) continue;
    if (g === 'scale') {
      defs.push(...scaleCaseDefinitions(scale));
      continue;
    }
    if (g === 'topk') {
      for (const d of TOPK_DIMS) {
        for (const k of [d / 100, d / 10]) {
          defs.push({
            group: g, dataset: '', params: `d=${d} k=${k}`, unit: 'us', numpyOp: { op: 'topk', d, k },
            prepare() {
              const rng = createRng(0, 'perf', 'topk', d);
              const v = new Float64Array(d);
              for (let j = 0; j < d; j++) v[j] = rng.normal();
              const c = compressorSpec('topk').create({ d, floatBits: FLOAT_BITS, rng: createRng(0, 'compressor', 0), values: { k } });
              const ctx = { x: v, objective: undefined, stepSize: 0 } as unknown as CompressContext;
              return { run: () => c.compress(v, ctx) };
            },
          });
        }
      }
      continue;
    }
    for (const ds of datasets) {
      const d = ds.data.X.cols;
      const k = ds.k;
      const base = { group: g, dataset: ds.name };
      switch (g) {
        case 'parse':
          defs.push({
            ...base, params: `${(ds.bytes.length / 1e6).toFixed(2)} MB`, unit: 'MB/s', numpyOp: { op: 'parse', path: ds.path, reps: 3 },
            prepare: () => ({ run: () => parseLibsvm(ds.bytes, { file: ds.path }), bytes: ds.bytes.length }),
          });
          break;
        case 'gradient':
          defs.push({
            ...base, params: 'n=1', unit: 'us', cBaseline: true,
            prepare() {
              const problem = problemFor(ds, 1);
              const x = testPoint(d);
              const out = new Float64Array(d);
              return {
                run: () => problem.gradient(x, out),
                check: () => {
                  const loss = problem.gradient(x, out);
                  return Float64Array.from([...out, loss]);
                },
              };
            },
          });
          break;
        case 'gd':
        case 'ef21-topk':
        case 'cgd-imp-a':
        case 'ef21-hosvd': {
          const setups: MethodSetup[] =
            g === 'gd' ? GD_WORKERS.map((n) => ({ method: 'gd', compressor: 'identity', n, step: ds.invL }))
            : g === 'ef21-topk' ? [{ method: 'ef21', compressor: 'topk', n: ITERATION_WORKERS, k, step: ds.ef21Step }]
            : g === 'cgd-imp-a' ? [{ method: 'cgd', compressor: 'imp-a', n: 1, k, step: ds.invL }]
            : [{ method: 'ef21', compressor: 'hosvd', n: ITERATION_WORKERS, ranks: [HOSVD_RANK], step: ds.ef21Step }];
          for (const setup of setups) {
            const params = `n=${setup.n}` + (setup.k !== undefined ? ` k=${setup.k}` : '') + (setup.ranks ? ` r=${HOSVD_RANK}` : '');
            defs.push({
              ...base, params, unit: 'us',
              numpyOp: { op: g, dataset: ds.name, n: setup.n, k: setup.k, r: HOSVD_RANK, dims: hosvdDims(d), step: setup.step, check_steps: CHECK_STEPS },
              prepare: () => methodPrepared(ds, setup),
            });
          }
          break;
        }
        case 'imp-a':
        case 'imp-b':
        case 'imp-c':
        case 'hosvd': {
          const isHosvd = g === 'hosvd';
          defs.push({
            ...base, params: isHosvd ? `r=${HOSVD_RANK} dims=${hosvdDims(d).join('x')}` : g === 'imp-a' ? `k=${k}` : `k=${k} M=${INNER_STEPS}`, unit: 'us',
            numpyOp: { op: g, dataset: ds.name, n: 1, k, M: INNER_STEPS, r: HOSVD_RANK, dims: hosvdDims(d), step: ds.invL },
            prepare: () => compressorPrepared(ds, g, isHosvd ? undefined : k, isHosvd ? [HOSVD_RANK] : undefined),
          });
          break;
        }
        case 'topk-ssgd':
        case 'gtopk':
          for (const n of SSGD_WORKERS[ds.name] ?? DEFAULT_SSGD_WORKERS) {
            const setup: MethodSetup = { method: g, compressor: 'topk', n, k, step: ds.invL };
            defs.push({
              ...base, params: `n=${n} k=${k}`, unit: 'us',
              numpyOp: { op: g, dataset: ds.name, n, k, step: ds.invL, check_steps: CHECK_STEPS },
              prepare: () => methodPrepared(ds, setup),
            });
          }
          break;
        case 'mlp-gradient':
        case 'mlp-imp-a':
          defs.push(...mlpCases(g, ds));
          break;
      }
    }
  }
  return defs;
}

const caseId = (c: Pick<CaseDef, 'group' | 'dataset' | 'params'>): string => `${c.group}|${c.dataset}|${c.params}`;

function describe(err: unknown): string {
  return err instanceof Error ? err.message.split('\n')[0] : String(err);
}

/** Where a baseline source lives: next to this file (tsx) or in the source tree (from dist/). */
function baselineSource(name: string): string | undefined {
  for (const rel of [`./baselines/${name}`, `../../../src/bench/baselines/${name}`]) {
    const path = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(path)) return path;
  }
  return undefined;
}

async function loadDataset(name: string, options: PerfOptions): Promise<LoadedDataset> {
  const resolved = await resolveDataset(name, { dataDir: options.dataDir, envDataDir: options.envDataDir, cacheDir: options.cacheDir });
  const data = await readLibsvmFile(resolved.path, { file: resolved.path });
  const bytes = readFileSync(resolved.path);
  const d = data.X.cols;
  const k = Math.max(1, Math.floor(d / 10));
  const ds: LoadedDataset = { name, path: resolved.path, bytes, data, invL: NaN, ef21Step: NaN, k, problems: new Map() };
  const smoothness = problemFor(ds, 1).smoothness();
  if (!smoothness) throw new Error(`${name}: logreg has no smoothness constants`);
  const ef21 = methodSpec('ef21').theoryStep({ smoothness, compressor: compressorSpec('topk'), d, k });
  return { ...ds, invL: 1 / smoothness.L, ef21Step: typeof ef21 === 'number' ? ef21 : 1 / smoothness.L };
}

/** Writes our CSR, labels, the test point and λ in grad_csr.c's input layout. */
function gradCsrInput(data: LabeledData, x: Float64Array): Buffer {
  const { X, b } = data;
  const nnz = X.rowPtr[X.rows];
  const head = new BigInt64Array([BigInt(X.rows), BigInt(X.cols), BigInt(nnz)]);
  const parts = [
    head, X.rowPtr.subarray(0, X.rows + 1), X.colIdx.subarray(0, nnz), X.values.subarray(0, nnz), b, x, new Float64Array([L2]),
  ];
  return Buffer.concat(parts.map((p) => Buffer.from(p.buffer, p.byteOffset, p.byteLength)));
}

interface BaselineRun {
  figures: Map<string, BaselineFigure>;
  /** The baseline's check vector per case, compared once ours is known. */
  checks: Map<string, Float64Array>;
  /** Further result vectors of the same case (the other C variants), compared with ours as well. */
  extraChecks: Map<string, Float64Array[]>;
  errors: Map<string, string>;
}

/** Compiler flag sets of the C baseline, and the loops of grad_csr.c run with each (see its header). */
const C_BUILDS: readonly { readonly flags: readonly string[]; readonly loops: readonly string[] }[] = [
  { flags: ['-O2'], loops: ['ref'] },
  { flags: ['-O3'], loops: ['ref', 'csc', 'pattern'] },
  { flags: ['-O3', '-march=native'], loops: ['ref', 'csc', 'pattern'] },
];

/** True when every stored value of X is exactly 1 (the C pattern loop applies). */
function binaryValues(data: LabeledData): boolean {
  const { values, rowPtr, rows } = data.X;
  for (let k = 0; k < rowPtr[rows]; k++) if (values[k] !== 1) return false;
  return true;
}

async function runCBaseline(defs: CaseDef[], datasets: Map<string, LoadedDataset>, options: PerfOptions, measure: MeasureOptions, env: { cc?: string; notes: string[] }, out: BaselineRun): Promise<void> {
  const gradientDefs = defs.filter((c) => c.cBaseline);
  if (gradientDefs.length === 0) return;
  const source = baselineSource('grad_csr.c');
  const cc = options.cc ?? 'cc';
  if (!source) {
    env.notes.push('C baseline: grad_csr.c not found (run from a source checkout)');
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'dcomp-perf-'));
  try {
    // One executable per flag set; a flag set the compiler rejects (-march=native elsewhere) is skipped.
    const builds: { flags: string; exe: string; loops: readonly string[] }[] = [];
    for (const [i, build] of C_BUILDS.entries()) {
      const exe = join(dir, `grad_csr_${i}`);
      try {
        await run(cc, [...build.flags, '-o', exe, source, '-lm'], { env: options.childEnv });
        builds.push({ flags: build.flags.join(' '), exe, loops: build.loops });
      } catch (err) {
        env.notes.push(`C baseline: ${cc} ${build.flags.join(' ')} failed (${describe(err)})`);
      }
    }
    if (builds.length === 0) {
      env.notes.push(`C baseline: no working compiler (${cc})`);
      return;
    }
    const { stdout, stderr } = await run(cc, ['--version'], { env: options.childEnv }).catch(() => ({ stdout: '', stderr: '' }));
    env.cc = `${cc} ${builds.map((b) => b.flags).join(' | ')} (${(stdout || stderr).split('\n')[0].trim()})`;
    for (const [index, def] of gradientDefs.entries()) {
      const ds = datasets.get(def.dataset)!;
      const binary = binaryValues(ds.data);
      try {
        // Numbered files: a dataset given as a path has slashes in its name.
        const input = join(dir, `dataset-${index}.in`);
        writeFileSync(input, gradCsrInput(ds.data, testPoint(ds.data.X.cols)));
        const variants: { variant: string; stats: Stats; result: Float64Array }[] = [];
        for (const build of builds) {
          for (const loop of build.loops) {
            if (loop === 'pattern' && !binary) continue;
            const variant = `${loop} ${build.flags}`;
            options.onProgress?.(`perf: C baseline, gradient on ${ds.name}, ${variant}`);
            const output = join(dir, `dataset-${index}.out`);
            const { stdout: json } = await run(
              build.exe, [loop, input, output, String(measure.reps), String(measure.minTimeMs), String(measure.warmupMs), String(measure.targetSampleMs)],
              { maxBuffer: 64 << 20 },
            );
            const parsed = JSON.parse(json) as { samples_us: number[] };
            const result = readFileSync(output);
            variants.push({ variant, stats: summarize(parsed.samples_us), result: new Float64Array(result.buffer.slice(result.byteOffset, result.byteOffset + result.byteLength)) });
          }
        }
        const best = variants.reduce((a, b) => (b.stats.median < a.stats.median ? b : a));
        out.figures.set(caseId(def), {
          kind: 'c', stats: best.stats, variant: best.variant, variants: variants.map(({ variant, stats }) => ({ variant, stats })),
        });
        out.checks.set(caseId(def), best.result);
        // Every variant must agree with ours too; the row reports the largest difference of any.
        out.extraChecks.set(caseId(def), variants.map((v) => v.result));
      } catch (err) {
        out.errors.set(caseId(def), `C baseline failed: ${describe(err)}`);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function runNumpyBaseline(defs: CaseDef[], datasets: Map<string, LoadedDataset>, options: PerfOptions, measure: MeasureOptions, env: { numpy?: string; scipy?: string; notes: string[] }, out: BaselineRun): Promise<void> {
  const numpyDefs = defs.filter((c) => c.numpyOp);
  if (numpyDefs.length === 0) return;
  const source = baselineSource('numpy_baseline.py');
  const python = options.python ?? 'python3';
  if (!source) {
    env.notes.push('numpy baseline: numpy_baseline.py not found (run from a source checkout)');
    return;
  }
  try {
    await run(python, ['-c', 'import numpy, scipy'], { env: options.childEnv });
  } catch {
    env.notes.push(`numpy baseline: ${python} with numpy and scipy not available`);
    return;
  }
  const used = new Set(numpyDefs.map((c) => c.dataset).filter((d) => d !== ''));
  const config = {
    reps: measure.reps, min_time_ms: measure.minTimeMs, warmup_ms: measure.warmupMs, target_sample_ms: measure.targetSampleMs,
    max_time_ms: measure.maxTimeMs, l2: L2,
    datasets: [...used].map((name) => ({ name, path: datasets.get(name)!.path })),
    ops: numpyDefs.map((c) => ({ id: caseId(c), ...c.numpyOp })),
  };
  const dir = mkdtempSync(join(tmpdir(), 'dcomp-perf-'));
  try {
    const configPath = join(dir, 'config.json');
    writeFileSync(configPath, JSON.stringify(config));
    options.onProgress?.(`perf: numpy baseline, ${numpyDefs.length} cases (one python process)`);
    // Single-threaded BLAS, like dcomp and the C loop: a fair comparison, and on a small busy machine
    // OpenBLAS's threads were measured to make a 32k-element dot product ~10x slower.
    const childEnv = { ...options.childEnv, OPENBLAS_NUM_THREADS: '1', OMP_NUM_THREADS: '1', MKL_NUM_THREADS: '1' };
    const { stdout } = await run(python, [source, configPath], { maxBuffer: 256 << 20, timeout: 60 * 60 * 1000, env: childEnv });
    const parsed = JSON.parse(stdout) as {
      numpy: string; scipy: string;
      results: Record<string, { samples_us: number[]; check?: number[]; note?: string }>;
      errors: Record<string, string>;
    };
    env.numpy = parsed.numpy;
    env.scipy = parsed.scipy;
    const byId = new Map(numpyDefs.map((c) => [caseId(c), c]));
    for (const [id, r] of Object.entries(parsed.results)) {
      const def = byId.get(id);
      const bytes = def?.unit === 'MB/s' ? datasets.get(def.dataset)?.bytes.length : undefined;
      const samples = bytes !== undefined ? throughputSamples(r.samples_us, bytes) : r.samples_us;
      out.figures.set(id, { kind: 'numpy', stats: summarize(samples), check: r.note });
      if (r.check) out.checks.set(id, Float64Array.from(r.check));
    }
    for (const [id, message] of Object.entries(parsed.errors)) out.errors.set(id, `numpy baseline failed: ${message}`);
  } catch (err) {
    env.notes.push(`numpy baseline failed: ${describe(err)}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function cpuModel(): string {
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8').split('\n').find((l) => l.startsWith('model name'));
    if (line) return line.slice(line.indexOf(':') + 1).trim();
  } catch {
    // not Linux: fall back to what Node reports
  }
  return cpus()[0]?.model ?? 'unknown';
}

function errorRecord(def: Pick<CaseDef, 'group' | 'dataset' | 'params' | 'unit'>, error: string): PerfRecord {
  return { case: def.group, dataset: def.dataset, params: def.params, unit: def.unit, error };
}

/** Runs the selected cases (and baselines) and returns one record per case; prints nothing. */
export async function runPerf(options: PerfOptions): Promise<PerfResult> {
  const measure = options.measure ?? DEFAULT_MEASURE;
  const groups = new Set<CaseGroup>(options.cases ?? CASE_GROUPS);
  const envInfo: { cc?: string; numpy?: string; scipy?: string; notes: string[] } = { notes: [] };
  const records: PerfRecord[] = [];

  const datasets = new Map<string, LoadedDataset>();
  const datasetErrors: PerfRecord[] = [];
  const needsData = [...groups].some((g) => g !== 'topk' && g !== 'scale');
  if (needsData) {
    for (const name of options.datasets) {
      options.onProgress?.(`perf: loading ${name}`);
      try {
        datasets.set(name, await loadDataset(name, options));
      } catch (err) {
        datasetErrors.push({ case: 'dataset', dataset: name, params: '', unit: 'us', error: describe(err) });
      }
    }
  }
  let defs: CaseDef[];
  try {
    defs = caseDefinitions([...datasets.values()], groups, options.scale ?? 'small');
  } catch (err) {
    return { records: [...datasetErrors, { case: 'setup', dataset: '', params: '', unit: 'us', error: describe(err) }], environment: environment(envInfo) };
  }

  const baselines: BaselineRun = { figures: new Map(), checks: new Map(), extraChecks: new Map(), errors: new Map() };
  if (options.baselines !== false) {
    await runCBaseline(defs, datasets, options, measure, envInfo, baselines);
    await runNumpyBaseline(defs, datasets, options, measure, envInfo, baselines);
  }

  records.push(...datasetErrors);
  for (const def of defs) {
    const id = caseId(def);
    options.onProgress?.(`perf: ${def.group} ${def.dataset} ${def.params}`.replace(/\s+/g, ' ').trim());
    let prepared: Prepared;
    try {
      prepared = def.prepare();
    } catch (err) {
      records.push(errorRecord(def, describe(err)));
      continue;
    }
    let stats: Stats;
    let inner: number;
    try {
      collectGarbage();
      const m = measureSync(prepared.run, measure);
      inner = m.inner;
      stats = def.unit === 'MB/s' ? summarize(throughputSamples(m.samplesUs, prepared.bytes ?? 0)) : m.stats;
    } catch (err) {
      records.push(errorRecord(def, describe(err)));
      continue;
    }
    const notes: string[] = [];
    if (def.unit === 'MB/s' && prepared.bytes) notes.push(`whole file ${formatMs(prepared.bytes / stats.median / 1e3)} ms`);
    const baseline = baselines.figures.get(id);
    let figure: BaselineFigure | undefined = baseline;
    const theirs = baselines.checks.get(id);
    if (baseline && theirs && prepared.check) {
      try {
        const ours = prepared.check();
        let diff = maxRelativeDifference(ours, theirs);
        for (const other of baselines.extraChecks.get(id) ?? []) diff = Math.max(diff, maxRelativeDifference(ours, other));
        const what = def.cBaseline || def.group === 'mlp-gradient' ? 'gradient and loss' : def.numpyOp && 'check_steps' in def.numpyOp ? `x after ${CHECK_STEPS} steps` : 'C(v)';
        const against = baseline.variants ? `every ${baseline.kind} variant` : baseline.kind;
        figure = { ...baseline, check: [baseline.check, `${what} vs ${against}: max rel diff ${diff.toPrecision(2)}`].filter(Boolean).join('; ') };
      } catch (err) {
        notes.push(`check failed: ${describe(err)}`);
      }
    }
    if (baseline?.variants) {
      const list = baseline.variants.map((v) => `${v.variant} ${formatMs(v.stats.median)}`).join(', ');
      notes.push(`baseline = best C variant (${baseline.variant}); C medians µs: ${list}`);
    }
    const baselineError = baselines.errors.get(id);
    if (baselineError) notes.push(baselineError);
    if (prepared.perUnit) {
      const { nnz, nd } = prepared.perUnit;
      notes.push(`${((stats.median * 1e3) / nnz).toPrecision(3)} ns/nnz, ${((stats.median * 1e3) / (nnz + nd)).toPrecision(3)} ns per (nnz + n·d)`);
    }
    const after = prepared.after?.();
    if (after) notes.push(after);
    if (prepared.flops) notes.push(gflopsNote(prepared.flops, stats, baseline?.stats));
    records.push({
      case: def.group, dataset: def.dataset, params: def.params, unit: def.unit, stats, inner, baseline: figure,
      ratio: timeRatio(def.unit, stats, baseline?.stats), ratioBest: bestTimeRatio(def.unit, stats, baseline?.stats), note: notes.length ? notes.join('; ') : undefined,
    });
  }
  return { records, environment: environment(envInfo) };
}

function formatMs(ms: number): string {
  return ms >= 100 ? ms.toFixed(0) : ms.toPrecision(3);
}

function environment(info: { cc?: string; numpy?: string; scipy?: string; notes: string[] }): PerfEnvironment {
  return { cpu: cpuModel(), cores: cpus().length, node: process.version, numpy: info.numpy, scipy: info.scipy, cc: info.cc, baselineNotes: info.notes };
}

// ---- mlp (issue 10) ----

/** Hidden layers of the mlp gradient cases; imp-a runs on the first (one hidden layer, the fast path). */
export const MLP_HIDDEN: readonly (readonly number[])[] = [[32], [64, 32]];
/** η of the mlp imp-a case (mlp has no 1/L): the step of experiments/kasiuk-mlp.yaml's middle grid point. */
const MLP_IMP_A_STEP = 0.5;

function mlpProblem(ds: LoadedDataset, hidden: readonly number[]): MlpProblem {
  return mlpSpec.create(ds.data, { values: { hidden: [...hidden], l2: 0 }, shards: splitShards(ds.data, 1, 'contiguous') });
}

function mlpCases(group: 'mlp-gradient' | 'mlp-imp-a', ds: LoadedDataset): CaseDef[] {
  const nnz = ds.data.X.rowPtr[ds.data.X.rows];
  const base = { group, dataset: ds.name, unit: 'us' as const };
  if (group === 'mlp-gradient') {
    return MLP_HIDDEN.map((hidden) => ({
      ...base,
      params: `hidden=${hidden.join(',')} n=1`,
      numpyOp: { op: 'mlp-gradient', dataset: ds.name, hidden },
      prepare(): Prepared {
        const problem = mlpProblem(ds, hidden);
        const x = testPoint(problem.d);
        const out = new Float64Array(problem.d);
        return {
          run: () => problem.gradient(x, out),
          check: () => {
            const loss = problem.gradient(x, out);
            return Float64Array.from([...out, loss]);
          },
          flops: mlpGradientFlops(problem.layout, ds.data.X.rows, nnz),
        };
      },
    }));
  }
  const hidden = MLP_HIDDEN[0];
  const d = mlpLayout(ds.data.X.cols, hidden).d;
  const k = Math.max(1, Math.floor(d / 10));
  return [{
    ...base,
    params: `hidden=${hidden.join(',')} k=${k} eta=${MLP_IMP_A_STEP}`,
    numpyOp: { op: 'mlp-imp-a', dataset: ds.name, hidden, k, step: MLP_IMP_A_STEP },
    prepare(): Prepared {
      const problem = mlpProblem(ds, hidden);
      const x = testPoint(problem.d);
      const v = new Float64Array(problem.d);
      problem.gradient(x, v);
      const compressor = compressorSpec('imp-a').create({ d: problem.d, floatBits: FLOAT_BITS, rng: createRng(0, 'compressor', 0), values: { k } });
      const ctx: CompressContext = { x, objective: problem.workers[0], stepSize: MLP_IMP_A_STEP };
      return { run: () => compressor.compress(v, ctx), check: () => decode(compressor.compress(v, ctx), problem.d) };
    },
  }];
}

/** "N FLOP/call; ours X GFLOP/s, baseline Y GFLOP/s" at the medians. */
function gflopsNote(flops: number, ours: Stats, baseline: Stats | undefined): string {
  const rate = (s: Stats) => (flops / s.median / 1e3).toFixed(2); // FLOP per µs = MFLOP/s
  return `${flops.toExponential(3)} FLOP/call; ${rate(ours)} GFLOP/s` + (baseline ? ` (baseline ${rate(baseline)} GFLOP/s)` : '');
}
