/**
 * `--backend gpu` for one run: open the gpu.js device, apply the software rule, swap the float64
 * problem for its gpu counterpart and check the first iterate's gradients against float64.
 * For the runner (prepareRun) to call; the CLI layer must have called prepareGpuEnvironment
 * (src/cli/gpu.ts) first, since the device libraries read the process environment.
 */
import { UsageError } from '../core/errors.js';
import { GpuBackend, GpuUnavailableError, mlpCellLimit, type RowLayout } from '../backends/gpujs/index.js';
import type { BackendLabel, GpuMode, TopKKernels } from '../backends/types.js';
import { LogregProblem } from '../problems/logreg.js';
import { checkGpuGradients, GpuLogregProblem, logregShardData, type GradientCheck } from '../problems/logreg-gpu.js';
import { MlpProblem } from '../problems/mlp.js';
import { checkGpuMlpGradients, GpuMlpProblem } from '../problems/mlp-gpu.js';
import { checkGpuMlpScores } from '../problems/mlp-gpu-impa.js';
import type { Problem } from '../problems/types.js';

export interface GpuRunOptions {
  /** --gpu-mode */
  readonly mode: GpuMode;
  /** --allow-software-gpu */
  readonly allowSoftware: boolean;
  /** Margins layout (default auto: measured in docs/backends.md). */
  readonly layout?: RowLayout | 'auto';
  /** The run's compressor is topk: also build the top-k threshold kernels (GpuRun.topK). */
  readonly topK?: boolean;
  /** The run's compressor is imp-a, with this η (the step): the mlp's scores then run on the device, checked at x⁰. */
  readonly impAStep?: number;
}

export interface GpuRun {
  readonly problem: GpuLogregProblem | GpuMlpProblem;
  readonly backend: GpuBackend;
  /** The CSV's backend, device, precision. */
  readonly label: BackendLabel;
  /** The accuracy contract at x⁰. */
  readonly check: GradientCheck;
  /** The top-k threshold on the device, for every worker's topk compressor (when asked for). */
  readonly topK?: TopKKernels;
  /** One line each for the run log: the device, skipped modes, the accuracy check. */
  readonly log: string[];
}

/**
 * Throws UsageError (exit 2) when the mode is not available here, when only a software device is
 * (unless allowed), or when the problem has no gpu kernels; DcompError (exit 1) when the float32
 * gradients at x0 break the accuracy contract. The caller disposes `backend` after the run.
 */
export async function prepareGpuRun(reference: Problem, x0: Float64Array, options: GpuRunOptions): Promise<GpuRun> {
  if (!(reference instanceof LogregProblem || reference instanceof MlpProblem)) {
    throw new UsageError(`--backend gpu: problem ${reference.name} has no gpu kernels yet (logreg, logreg-nonconvex and mlp have); use --backend cpu`);
  }
  if (reference instanceof MlpProblem) {
    const shape = { inputs: reference.layout.sizes[0], hidden: reference.hidden, params: reference.d };
    const tooLarge = mlpCellLimit(shape, reference.totalRows, reference.workers.length);
    if (tooLarge) {
      throw new UsageError(
        `--hidden ${reference.hidden.join(',')}: on --backend gpu ${tooLarge}, but float32 indices are exact only below 2^24 = 16777216; use smaller layers, fewer --workers, or --backend cpu`,
      );
    }
  }
  let backend: GpuBackend;
  try {
    backend = await GpuBackend.open(options.mode);
  } catch (err) {
    if (err instanceof GpuUnavailableError) throw new UsageError(err.message.startsWith("--gpu-mode") ? err.message : `--gpu-mode ${options.mode}: ${err.message}`);
    throw err;
  }
  try {
    const refusal = backend.refusal(options.allowSoftware);
    if (refusal) throw new UsageError(refusal);
    let problem: GpuLogregProblem | GpuMlpProblem;
    let check: GradientCheck;
    let what: string;
    let impALine: string | undefined;
    if (reference instanceof MlpProblem) {
      const sizes = reference.layout.sizes;
      const kernels = backend.mlpKernels(
        reference.workers.map((w) => ({ A: w.A, b: w.b })),
        { inputs: sizes[0], hidden: reference.hidden, params: reference.d },
      );
      problem = new GpuMlpProblem(reference, kernels);
      check = checkGpuMlpGradients(problem, x0);
      what = `mlp ${sizes.join(' → ')}`;
      if (options.impAStep !== undefined) impALine = mlpImpAOnDevice(backend, reference, problem, x0, options.impAStep);
    } else {
      const kernels = backend.logregKernels(logregShardData(reference), { layout: options.layout });
      problem = new GpuLogregProblem(reference, kernels);
      check = checkGpuGradients(problem, x0);
      what = `${kernels.layout.toUpperCase()} rows`;
    }
    const topK = options.topK ? backend.topKKernels(reference.d) : undefined;
    const { selected } = backend;
    const log = [
      `gpu backend: ${problem.label.backend} on ${selected.device}${selected.detail ? ` (${selected.detail})` : ''}, float32, ${what}`,
      ...selected.skipped.map((s) => `gpu backend: skipped ${s}`),
      ...(topK ? [`gpu backend: topk on the device (${topK.label.backend}): the k-th largest float32 |v_j| by a radix search over the key bits (8 passes of 16 candidates), ties in float32 to the smaller index; every worker's compressor`] : []),
      `gpu backend: gradients at x⁰ within ${check.maxScaledError.toExponential(2)} of float64 relative to the summed terms (tolerance ${check.tolerance.toExponential(0)}), ${check.maxRelativeError.toExponential(2)} relative to the largest entry`,
      ...(impALine ? [impALine] : []),
      ...backend.takeWarnings().map((w) => `gpu.js: ${w}`),
    ];
    return { problem, backend, label: problem.label, check, topK, log };
  } catch (err) {
    backend.dispose();
    throw err;
  }
}

/**
 * imp-a on the gpu mlp: with one hidden layer the scores run on the device (mlp-impa-kernels.ts),
 * checked at x⁰ against float64 (throws DcompError beyond the tolerance); deeper networks keep the
 * float64 scores. Returns the run-log line saying which.
 */
function mlpImpAOnDevice(backend: GpuBackend, reference: MlpProblem, problem: GpuMlpProblem, x0: Float64Array, eta: number): string {
  const sizes = reference.layout.sizes;
  if (sizes.length !== 3) return `gpu backend: imp-a scores in float64 on the cpu (the gpu imp-a kernels cover one hidden layer, this network has ${sizes.length - 2})`;
  problem.coordinateKernels = backend.mlpImpAKernels(
    reference.workers.map((w) => ({ A: w.A, b: w.b })),
    { inputs: sizes[0], hidden: sizes[1], params: reference.d },
  );
  const c = checkGpuMlpScores(problem, x0, eta);
  return `gpu backend: imp-a scores on the device, at x⁰ (v = ∇f_i, η = ${eta}) within ${c.maxScaledError.toExponential(2)} of float64 relative to the summed terms (tolerance ${c.tolerance.toExponential(0)}), ${c.maxRelativeError.toExponential(2)} relative to the largest score`;
}
