/**
 * The gpu.js backend's worker thread. gpu.js and Dawn live here, not on the main thread: WebGPU
 * readback is asynchronous (mapAsync), while the methods and problems call gradients synchronously,
 * so the main thread posts a request and blocks on a shared flag (bridge.ts) while this thread's
 * event loop runs the device. The data and kernels stay here for the whole run.
 *
 * Every request gets exactly one reply on the reply port, then the flag is raised; gpu.js's console
 * warnings (its fallback notices among them) are collected and returned with the reply instead of
 * being printed, so the caller decides what the user sees.
 */
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import type { GpuMode } from '../types.js';
import { openDevice, openMode, type OpenedDevice } from './device.js';
import { checkKernelClass, LogregProgram, TopKProgram } from './program.js';
import type { ProbeResult, Reply, Request, SharedVectors, TimedKernel, TimingSample } from './protocol.js';

interface WorkerInit {
  readonly flag: SharedArrayBuffer;
  readonly replies: MessagePort;
}

const { flag: flagBuffer, replies } = workerData as WorkerInit;
const flag = new Int32Array(flagBuffer);

let warnings: string[] = [];
for (const level of ['warn', 'log', 'info', 'error'] as const) {
  console[level] = (...args: unknown[]) => {
    warnings.push(args.map((a) => (a instanceof Error ? a.message : String(a))).join(' '));
  };
}

let device: OpenedDevice | undefined;
let logreg: { program: LogregProgram; vectors: Vectors } | undefined;
let topk: { program: TopKProgram; vectors: Vectors } | undefined;

interface Vectors {
  readonly x: Float32Array;
  readonly v: Float32Array;
  readonly weights: Float32Array;
  readonly out: Float32Array;
}

function views(shared: SharedVectors): Vectors {
  return {
    x: new Float32Array(shared.x),
    v: new Float32Array(shared.v),
    weights: new Float32Array(shared.weights),
    out: new Float32Array(shared.out),
  };
}

function requireDevice(): OpenedDevice {
  if (!device) throw new Error('gpu backend: no device opened');
  return device;
}

function requireLogreg(): { program: LogregProgram; vectors: Vectors } {
  if (!logreg) throw new Error('gpu backend: logreg kernels not initialised');
  return logreg;
}

function requireTopK(): { program: TopKProgram; vectors: Vectors } {
  if (!topk) throw new Error('gpu backend: top-k kernel not initialised');
  return topk;
}

/** Copies a kernel result into the shared `out` and returns its length (the reply). */
function publish(vectors: Vectors, result: Float32Array): { result: number } {
  if (result.length > vectors.out.length) throw new Error(`gpu backend: a result of ${result.length} values does not fit the shared buffer (${vectors.out.length})`);
  vectors.out.set(result);
  return { result: result.length };
}

/** Builds and runs a tiny kernel in one mode and reports the class that ran (for `dcomp doctor`). */
async function probe(mode: Exclude<GpuMode, 'auto'>): Promise<ProbeResult> {
  const opened = await openMode(mode);
  if (typeof opened === 'string') return { mode, ok: false, reason: opened };
  const { selected } = opened;
  const base = { mode, device: selected.device, software: selected.software, detail: selected.detail };
  try {
    const kernel = opened.gpu.createKernel(
      function (this: { thread: { x: number } }, a: number[]) {
        return a[this.thread.x] * 2.0 + 1.0;
      },
      { output: [4], precision: 'single' },
    );
    const out = (await kernel(new Float32Array([0, 1, 2, 3]))) as Float32Array;
    const kernelClass = kernel.kernel.constructor.name;
    checkKernelClass(opened, kernel, 'smoke test');
    const expected = [1, 3, 5, 7];
    if (!expected.every((v, i) => out[i] === v)) {
      return { ...base, ok: false, kernelClass, reason: `smoke test returned ${Array.from(out).join(',')}, expected ${expected.join(',')}` };
    }
    kernel.destroy();
    return { ...base, ok: true, kernelClass };
  } catch (err) {
    return { ...base, ok: false, reason: (err as Error).message.split('\n')[0] };
  }
}

const TIMED_NAMES: Readonly<Record<TimedKernel, string>> = {
  gradients: 'iteration: margins, σ, Aᵀr for all shards (x in, n·d out)',
  rowCoefficients: 'margins and σ, all rows',
  columnSums: 'Aᵀr, all shards',
  lossTerms: 'row losses, all rows',
  shardGradient: 'one shard: margins, σ, Aᵀr',
  coordinateDecrease: 'imp-a scores, one shard',
  countLarger: 'top-k threshold (rank counting)',
};

async function time(what: TimedKernel, reps: number): Promise<TimingSample> {
  let call: () => Promise<unknown>;
  if (what === 'countLarger') {
    const { program, vectors } = requireTopK();
    call = () => program.countLarger(vectors.v, program.capacity);
  } else {
    const { program, vectors } = requireLogreg();
    switch (what) {
      case 'gradients':
        call = () => program.gradients(vectors.x);
        break;
      case 'rowCoefficients':
        call = () => program.rowCoefficients(vectors.x);
        break;
      case 'columnSums': {
        const c = await program.rowCoefficients(vectors.x);
        call = () => program.columnSumsOf(c);
        break;
      }
      case 'lossTerms':
        call = () => program.lossTerms(vectors.x);
        break;
      case 'shardGradient':
        call = () => program.shardGradient(0, vectors.x, null);
        break;
      case 'coordinateDecrease':
        call = () => program.coordinateDecrease(0, vectors.x, vectors.x, 0.5);
        break;
    }
  }
  await call();
  const ms: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    await call();
    ms.push(performance.now() - t0);
  }
  const layout = what === 'rowCoefficients' || what === 'gradients' ? ` (${requireLogreg().program.layout.toUpperCase()} rows)` : '';
  return { kernel: TIMED_NAMES[what] + layout, ms };
}

async function handle(req: Request): Promise<{ result: unknown }> {
  switch (req.op) {
    case 'open':
      device = await openDevice(req.mode);
      return { result: { selected: device.selected } };
    case 'logreg.init': {
      logreg?.program.destroy();
      logreg = undefined;
      const t0 = performance.now();
      const program = new LogregProgram(requireDevice(), req.packed, req.layout);
      const kernels = await program.warmUp();
      logreg = { program, vectors: views(req.shared) };
      return { result: { kernels, buildMs: performance.now() - t0 } };
    }
    case 'logreg.gradients': {
      const { program, vectors } = requireLogreg();
      return publish(vectors, await program.gradients(vectors.x));
    }
    case 'logreg.shardGradient': {
      const { program, vectors } = requireLogreg();
      return publish(vectors, await program.shardGradient(req.worker, vectors.x, req.weighted ? vectors.weights : null));
    }
    case 'logreg.lossTerms': {
      const { program, vectors } = requireLogreg();
      return publish(vectors, await program.lossTerms(vectors.x));
    }
    case 'logreg.rowCoefficients': {
      const { program, vectors } = requireLogreg();
      return publish(vectors, await program.rowCoefficients(vectors.x));
    }
    case 'logreg.coordinateDecrease': {
      const { program, vectors } = requireLogreg();
      return publish(vectors, await program.coordinateDecrease(req.worker, vectors.x, vectors.v, req.eta));
    }
    case 'topk.init': {
      topk?.program.destroy();
      topk = undefined;
      const program = new TopKProgram(requireDevice(), req.capacity);
      await program.countLarger(new Float32Array(req.capacity), req.capacity);
      topk = { program, vectors: views(req.shared) };
      return { result: program.runner.device.selected.kernelClass };
    }
    case 'topk.countLarger': {
      const { program, vectors } = requireTopK();
      return publish(vectors, await program.countLarger(vectors.v, req.length));
    }
    case 'time':
      return { result: await time(req.what, req.reps) };
    case 'probe': {
      const results: ProbeResult[] = [];
      for (const mode of req.modes) results.push(await probe(mode));
      return { result: results };
    }
    case 'close':
      logreg?.program.destroy();
      topk?.program.destroy();
      logreg = undefined;
      topk = undefined;
      return { result: null };
  }
}

function reply(message: Reply): void {
  replies.postMessage(message);
  Atomics.store(flag, 0, 1);
  Atomics.notify(flag, 0);
}

parentPort!.on('message', (req: Request) => {
  void handle(req).then(
    ({ result }) => {
      const w = warnings;
      warnings = [];
      reply({ ok: true, result, warnings: w });
    },
    (err: unknown) => {
      const w = warnings;
      warnings = [];
      const e = err instanceof Error ? err : new Error(String(err));
      reply({ ok: false, error: { name: e.name, message: e.message }, warnings: w });
    },
  );
});

// An error outside a request (a rejected promise inside gpu.js, say) is kept for the next reply.
process.on('unhandledRejection', (reason) => warnings.push(`unhandled: ${String(reason)}`));
