/**
 * `npm run gpu-mlp-measure -- <mode> [--hidden 16,8] <file>…`: the mlp rows of docs/backends.md for one
 * gpu.js mode on the given LIBSVM files (hidden 32 unless --hidden, n = 20 workers, iid split seed 0),
 * as markdown on stdout:
 * the largest relative error (max |a − r| / max |r|) of each kernel's output against float64 at two
 * points, x⁰ (the seeded He initialisation, seed 0) and the iterate after 100 float64 gd steps
 * (γ = 0.5), and the time of one all-shards pass (every worker's gradient at a fresh x, from the
 * main thread, the worker hop included) beside the 20 float64 cpu gradients (WebAssembly kernels),
 * median and p10–p90 over ≥ 30 samples. Set EGL_PLATFORM=surfaceless for WebGPU on Mesa without a display.
 */
import { basename } from 'node:path';
import { performance } from 'node:perf_hooks';
import { GpuBackend } from '../backends/gpujs/index.js';
import { maxRelativeError } from '../backends/accuracy.js';
import type { GpuMode } from '../backends/types.js';
import { checkAgainstReference } from '../problems/gpu-check.js';
import { measuredNetwork } from './gpu-measure-network.js';
import { checkGpuMlpGradients, GpuMlpProblem, mlpCheckBounds } from '../problems/mlp-gpu.js';

const WORKERS = 20;

function sigmoid(p: number): number {
  if (p > 0) return 1 / (1 + Math.exp(-p));
  const e = Math.exp(p);
  return e / (1 + e);
}

function softplus(p: number): number {
  return p > 0 ? p + Math.log1p(Math.exp(-p)) : Math.log1p(Math.exp(p));
}

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * (sorted.length - 1) + 0.5))];
}

function ms(v: number): string {
  return v >= 1 ? `${v.toPrecision(3)} ms` : `${(v * 1000).toPrecision(3)} µs`;
}

/** Median and p10–p90 of `call` over ≥ 30 samples and ≥ 300 ms, after one warm-up. */
function timeIt(call: (rep: number) => void): string {
  call(-1);
  const samples: number[] = [];
  const t0 = performance.now();
  for (let rep = 0; samples.length < 30 || performance.now() - t0 < 300; rep++) {
    const t = performance.now();
    call(rep);
    samples.push(performance.now() - t);
  }
  samples.sort((a, b) => a - b);
  return `${ms(quantile(samples, 0.5))} (${ms(quantile(samples, 0.1)).replace(/ .*/, '')}–${ms(quantile(samples, 0.9))})`;
}

async function measure(mode: Exclude<GpuMode, 'auto'>, hidden: number[], file: string): Promise<string[]> {
  const name = basename(file);
  const { reference, x0, trained } = await measuredNetwork(file, hidden, WORKERS);
  const d = reference.d;
  const g = new Float64Array(d);
  const backend = await GpuBackend.open(mode);
  try {
    const sizes = reference.layout.sizes;
    const kernels = backend.mlpKernels(reference.workers.map((w) => ({ A: w.A, b: w.b })), { inputs: sizes[0], hidden, params: d });
    const problem = new GpuMlpProblem(reference, kernels);
    const N = reference.totalRows;
    const outs = reference.workers.map(() => new Float64Array(d));
    const terms = new Float64Array(N);
    const c32 = new Float64Array(N);
    const c64 = new Float64Array(N);
    const t64 = new Float64Array(N);
    const worst = new Map<string, { e: number; at: string }>();
    const note = (kernel: string, e: number, at: string) => {
      const w = worst.get(kernel);
      if (!w || !(e <= w.e)) worst.set(kernel, { e, at });
    };
    for (const [at, x] of [['x⁰', x0], ['after 100 gd steps', trained]] as const) {
      kernels.evaluate(x, outs, terms);
      kernels.lastRowCoefficients(c32);
      let base = 0;
      let eGrad = 0;
      for (let i = 0; i < WORKERS; i++) {
        const w = reference.workers[i];
        const z = new Float64Array(w.rows);
        w.logits(w.A, x, z);
        for (let r = 0; r < w.rows; r++) {
          const p = -w.b[r] * z[r];
          c64[base + r] = (-w.b[r] * sigmoid(p)) / w.rows;
          t64[base + r] = softplus(p);
        }
        base += w.rows;
        w.gradient(x, g);
        eGrad = Math.max(eGrad, maxRelativeError(outs[i], g));
      }
      note('row coefficients c_r (forward through every layer)', maxRelativeError(c32, c64), at);
      note('loss terms softplus(−b_r z_r)', maxRelativeError(terms, t64), at);
      note('local gradients ∇f_i, all shards (one pass)', eGrad, at);
      note('∇f_i, error / summed terms (the contract, tolerance 1e-4)', checkGpuMlpGradients(problem, x).maxScaledError, at);
      const raw = checkAgainstReference(problem.workers, reference.workers, x, problem.label, 'mlp gradient', Number.POSITIVE_INFINITY, (i) => ({
        scale: mlpCheckBounds(reference, reference.workers[i], x).scale,
      }));
      note('∇f_i, error / summed terms without the kink allowance', raw.maxScaledError, at);
    }
    const net = sizes.join(' → ');
    const rows = [...worst].map(([kernel, { e, at }]) => `| ${name} | ${net} | ${mode} | ${kernel} | ${e.toExponential(1)} (${at}) |`);
    const kinks = reference.workers.reduce((k, w) => k + mlpCheckBounds(reference, w, x0).kinks, 0);
    rows.push(`| ${name} | ${net} | ${mode} | pre-activations at a ReLU kink at x⁰ (all shards) | ${kinks} |`);
    const x = x0.slice();
    const gpu = timeIt((rep) => {
      x[0] = x0[0] + 1e-6 * (rep + 2); // a fresh point each time
      kernels.evaluate(x, outs, terms);
    });
    const cpu = timeIt(() => {
      for (const w of reference.workers) w.gradientOnly(x, g);
    });
    rows.push(`| ${name} | ${net} | ${mode} | time of one all-shards pass: gpu ${gpu}, float64 cpu ${cpu} | |`);
    return rows;
  } finally {
    backend.dispose();
  }
}

const [mode, ...rest] = process.argv.slice(2) as [Exclude<GpuMode, 'auto'>, ...string[]];
let hidden = [32];
if (rest[0] === '--hidden') {
  hidden = (rest[1] ?? '').split(',').map(Number);
  rest.splice(0, 2);
}
if (!mode || rest.length === 0 || !hidden.every((h) => Number.isInteger(h) && h >= 1)) {
  process.stderr.write('usage: npm run gpu-mlp-measure -- <webgpu|gl|webasm|cpu> [--hidden 16,8] <libsvm file>...\n');
  process.exit(2);
}
for (const file of rest) process.stdout.write(`${(await measure(mode, hidden, file)).join('\n')}\n`);
