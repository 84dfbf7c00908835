/**
 * The gpu.js backend's worker thread. gpu.js and Dawn live here, not on the main thread: WebGPU
 * readback is asynchronous (mapAsync), while the methods and problems call gradients synchronously,
 * so the main thread posts a request and blocks on a shared flag (bridge.ts) while this thread's
 * event loop runs the device. The data and kernels stay here for the whole run.
 *
 * One worker serves every backend of the process (sessions): headless-gl's native module can be
 * loaded by one thread of a process only ("Module did not self-register" in a second thread), so a
 * second run in the same process must find GL in the thread that already has it.
 *
 * Every request gets exactly one reply on the reply port, then the flag is raised; gpu.js's console
 * warnings (its fallback notices among them) are collected and returned with the reply instead of
 * being printed, so the caller decides what the user sees.
 */
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import { openDevice, type OpenedDevice } from './device.js';
import { LogregProgram, MlpProgram, TopKProgram } from './program.js';
import { MlpImpAProgram } from './mlp-impa-kernels.js';
import type { Reply, Request, SharedVectors, TimedKernel, TimingSample } from './protocol.js';

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

interface Vectors {
  readonly x: Float32Array;
  readonly v: Float32Array;
  readonly weights: Float32Array;
  readonly rows: Float32Array;
  readonly out: Float32Array;
}

/** One GpuBackend's state: several may be open at once in this one worker. */
class Session {
  device: OpenedDevice | undefined;
  logreg: { program: LogregProgram; vectors: Vectors } | undefined;
  topk: { program: TopKProgram; vectors: Vectors } | undefined;
  mlp: { program: MlpProgram; vectors: Vectors } | undefined;
  mlpImpA: { program: MlpImpAProgram; vectors: Vectors } | undefined;

  requireDevice(): OpenedDevice {
    if (!this.device) throw new Error('gpu backend: no device opened');
    return this.device;
  }

  requireLogreg(): { program: LogregProgram; vectors: Vectors } {
    if (!this.logreg) throw new Error('gpu backend: logreg kernels not initialised');
    return this.logreg;
  }

  requireMlp(): { program: MlpProgram; vectors: Vectors } {
    if (!this.mlp) throw new Error('gpu backend: mlp kernels not initialised');
    return this.mlp;
  }

  requireTopK(): { program: TopKProgram; vectors: Vectors } {
    if (!this.topk) throw new Error('gpu backend: top-k kernel not initialised');
    return this.topk;
  }

  close(): void {
    this.logreg?.program.destroy();
    this.topk?.program.destroy();
    this.mlpImpA?.program.destroy();
    this.mlpImpA = undefined;
    this.mlp?.program.destroy();
    this.mlp = undefined;
    this.logreg = undefined;
    this.topk = undefined;
    this.device = undefined;
  }
}

const sessions = new Map<number, Session>();

function views(shared: SharedVectors): Vectors {
  return {
    x: new Float32Array(shared.x),
    v: new Float32Array(shared.v),
    weights: new Float32Array(shared.weights),
    rows: new Float32Array(shared.rows),
    out: new Float32Array(shared.out),
  };
}

/** Copies a kernel result into the shared `out` and returns its length (the reply). */
function publish(vectors: Vectors, result: Float32Array): { result: number } {
  if (result.length > vectors.out.length) throw new Error(`gpu backend: a result of ${result.length} values does not fit the shared buffer (${vectors.out.length})`);
  vectors.out.set(result);
  return { result: result.length };
}

const TIMED_NAMES: Readonly<Record<TimedKernel, string>> = {
  gradients: 'iteration: margins, σ, Aᵀr for all shards (x in, n·d out)',
  rowCoefficients: 'margins and σ, all rows',
  columnSums: 'Aᵀr, all shards',
  lossTerms: 'row losses, all rows',
  shardGradient: 'one shard: margins, σ, Aᵀr',
  coordinateDecrease: 'imp-a scores, one shard',
};

async function time(session: Session, what: TimedKernel, reps: number): Promise<TimingSample> {
  let call: () => Promise<unknown>;
  {
    const { program, vectors } = session.requireLogreg();
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
  const layout = what === 'rowCoefficients' || what === 'gradients' ? ` (${session.requireLogreg().program.layout.toUpperCase()} rows)` : '';
  return { kernel: TIMED_NAMES[what] + layout, ms };
}

async function handle(id: number, req: Request): Promise<{ result: unknown }> {
  if (req.op === 'open') {
    const session = new Session();
    session.device = await openDevice(req.mode);
    sessions.set(id, session);
    return { result: { selected: session.device.selected } };
  }
  const session = sessions.get(id);
  if (!session) throw new Error(`gpu backend: session ${id} is not open`);
  switch (req.op) {
    case 'logreg.init': {
      session.logreg?.program.destroy();
      session.logreg = undefined;
      const t0 = performance.now();
      const program = new LogregProgram(session.requireDevice(), req.packed, req.layout);
      const kernels = await program.warmUp();
      session.logreg = { program, vectors: views(req.shared) };
      return { result: { kernels, buildMs: performance.now() - t0 } };
    }
    case 'logreg.gradients': {
      const { program, vectors } = session.requireLogreg();
      return publish(vectors, await program.gradients(vectors.x));
    }
    case 'logreg.shardGradient': {
      const { program, vectors } = session.requireLogreg();
      return publish(vectors, await program.shardGradient(req.worker, vectors.x, req.weighted ? vectors.weights : null));
    }
    case 'logreg.lossTerms': {
      const { program, vectors } = session.requireLogreg();
      return publish(vectors, await program.lossTerms(vectors.x));
    }
    case 'logreg.rowCoefficients': {
      const { program, vectors } = session.requireLogreg();
      return publish(vectors, await program.rowCoefficients(vectors.x));
    }
    case 'logreg.columnSums': {
      const { program, vectors } = session.requireLogreg();
      return publish(vectors, await program.columnSumsOf(vectors.rows));
    }
    case 'logreg.coordinateDecrease': {
      const { program, vectors } = session.requireLogreg();
      return publish(vectors, await program.coordinateDecrease(req.worker, vectors.x, vectors.v, req.eta));
    }
    case 'mlp.init': {
      session.mlp?.program.destroy();
      session.mlp = undefined;
      const t0 = performance.now();
      const program = new MlpProgram(session.requireDevice(), req.packed, req.shape);
      const kernels = await program.warmUp();
      session.mlp = { program, vectors: views(req.shared) };
      return { result: { kernels, buildMs: performance.now() - t0 } };
    }
    case 'mlp.evaluate': {
      const { program, vectors } = session.requireMlp();
      const weights = req.weighted ? vectors.weights : null;
      const gradientsLength = program.packed.workers * program.shape.params;
      const needed = gradientsLength + 2 * program.packed.totalRows;
      if (needed > vectors.out.length) throw new Error(`gpu backend: mlp results of ${needed} values do not fit the shared buffer (${vectors.out.length})`);
      if (req.gradients) {
        const { gradients, terms } = await program.evaluate(vectors.x, weights);
        vectors.out.set(gradients);
        vectors.out.set(terms, gradientsLength);
      } else {
        vectors.out.set((await program.rowTerms(vectors.x, weights)).terms, gradientsLength);
      }
      return { result: needed };
    }
    case 'mlp.time': {
      const { program, vectors } = session.requireMlp();
      return { result: await program.timeKernels(vectors.x, req.reps) };
    }
    case 'mlpImpA.init': {
      session.mlpImpA?.program.destroy();
      session.mlpImpA = undefined;
      const t0 = performance.now();
      const program = new MlpImpAProgram(session.requireDevice(), req.packed, req.shape);
      const kernels = await program.warmUp();
      session.mlpImpA = { program, vectors: views(req.shared) };
      return { result: { kernels, buildMs: performance.now() - t0 } };
    }
    case 'mlpImpA.scores': {
      if (!session.mlpImpA) throw new Error('gpu backend: mlp imp-a kernels not initialised');
      const { program, vectors } = session.mlpImpA;
      return publish(vectors, await program.decreaseSums(req.worker, vectors.x, vectors.v, req.eta));
    }
    case 'topk.init': {
      session.topk?.program.destroy();
      session.topk = undefined;
      const program = new TopKProgram(session.requireDevice(), req.capacity);
      const zeros = new Float32Array(req.capacity);
      await program.threshold(zeros, zeros, req.capacity, 1, req.capacity);
      session.topk = { program, vectors: views(req.shared) };
      return { result: program.runner.device.selected.kernelClass };
    }
    case 'topk.threshold': {
      const { program, vectors } = session.requireTopK();
      const cap = program.capacity;
      return { result: await program.threshold(vectors.v.subarray(0, cap), vectors.v.subarray(cap, 2 * cap), req.length, req.k, req.numbers) };
    }
    case 'time':
      return { result: await time(session, req.what, req.reps) };
    case 'close':
      session.close();
      sessions.delete(id);
      return { result: null };
  }
}

function reply(message: Reply): void {
  replies.postMessage(message);
  Atomics.store(flag, 0, 1);
  Atomics.notify(flag, 0);
}

parentPort!.on('message', ({ session, request }: { session: number; request: Request }) => {
  void handle(session, request).then(
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
