/**
 * Synchronous calls into the backend worker (worker.ts). The main thread posts a request and blocks
 * in Atomics.wait on a shared flag; the worker answers on a MessageChannel port and raises the
 * flag; the main thread then takes the answer with receiveMessageOnPort. So the synchronous Problem
 * and LocalObjective interfaces can sit on top of WebGPU's asynchronous readback, at the cost of a
 * thread hop per call (tens of µs, against kernel times of milliseconds here).
 */
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import type { Reply, Request } from './protocol.js';

/** The worker answers every request; this long means it is stuck (or died), not slow. */
export const DEFAULT_CALL_TIMEOUT_MS = 300_000;

export class GpuWorkerError extends Error {}

export class SyncWorker {
  private readonly flag = new Int32Array(new SharedArrayBuffer(4));
  private readonly replies: MessagePort;
  private readonly worker: Worker;
  private closed = false;
  /** gpu.js console output collected in the worker, oldest first (drained by takeWarnings). */
  private readonly warnings: string[] = [];

  constructor(workerUrl: URL = new URL('./worker.js', import.meta.url)) {
    const { port1, port2 } = new MessageChannel();
    this.replies = port1;
    this.worker = new Worker(workerUrl, {
      workerData: { flag: this.flag.buffer, replies: port2 },
      transferList: [port2],
    });
    // Neither the worker nor its port may keep the process alive after the run.
    this.worker.unref();
    this.replies.unref();
  }

  get alive(): boolean {
    return !this.closed;
  }

  call<T>(request: Request, session = 0, timeoutMs = DEFAULT_CALL_TIMEOUT_MS): T {
    if (this.closed) throw new GpuWorkerError('gpu backend: the worker was shut down');
    Atomics.store(this.flag, 0, 0);
    this.worker.postMessage({ session, request });
    const deadline = Date.now() + timeoutMs;
    while (Atomics.load(this.flag, 0) === 0) {
      const left = deadline - Date.now();
      if (left <= 0 || Atomics.wait(this.flag, 0, 0, left) === 'timed-out') {
        this.dispose();
        throw new GpuWorkerError(`gpu backend: the worker did not answer ${request.op} within ${Math.round(timeoutMs / 1000)} s`);
      }
    }
    const message = receiveMessageOnPort(this.replies)?.message as Reply | undefined;
    if (!message) throw new GpuWorkerError(`gpu backend: the worker raised the flag for ${request.op} without a reply`);
    this.warnings.push(...message.warnings);
    if (!message.ok) {
      const err = new GpuWorkerError(message.error.message);
      err.name = message.error.name === 'Error' ? 'GpuWorkerError' : message.error.name;
      throw err;
    }
    return message.result as T;
  }

  takeWarnings(): string[] {
    return this.warnings.splice(0, this.warnings.length);
  }

  /** Terminates the worker (it is unref'd, so a process that never calls this still exits). */
  dispose(): void {
    if (this.closed) return;
    this.closed = true;
    this.replies.close();
    void this.worker.terminate();
  }
}

let shared: SyncWorker | undefined;

/** The process's one backend worker, started on first use (see worker.ts for why only one). */
export function sharedWorker(): SyncWorker {
  if (!shared?.alive) shared = new SyncWorker();
  return shared;
}

/** Ends the shared worker (tests, long-lived processes); the next backend starts a new one. */
export function shutdownGpuWorker(): void {
  shared?.dispose();
  shared = undefined;
}

let nextSession = 1;

/** One backend's calls on the shared worker (the worker keeps each session's device and kernels apart). */
export class WorkerSession {
  readonly id = nextSession++;
  constructor(private readonly worker: SyncWorker = sharedWorker()) {}

  call<T>(request: Request, timeoutMs = DEFAULT_CALL_TIMEOUT_MS): T {
    return this.worker.call<T>(request, this.id, timeoutMs);
  }

  takeWarnings(): string[] {
    return this.worker.takeWarnings();
  }
}
