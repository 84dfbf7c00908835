/**
 * A fixed pool of worker threads running one configuration at a time each (`--jobs`, default
 * os.availableParallelism()). The pool only executes; the order in which results are written is the
 * bench's business (src/bench/bench.ts).
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { RunEnvironment } from './runner.js';
import type { RunConfig, RunResult } from './types.js';

export interface WorkerRequest {
  job: number;
  config: RunConfig;
  env: RunEnvironment;
}

export type WorkerReply =
  | { type: 'progress'; job: number; iteration: number }
  | { type: 'done'; job: number; result: RunResult }
  | { type: 'error'; job: number; message: string };

/** Runs one configuration; reports logged iterations as they happen. Rejects only when stopped. */
export type RunExecutor = (config: RunConfig, onProgress: (iteration: number) => void) => Promise<RunResult | { status: 'thrown'; message: string }>;

export function defaultJobs(): number {
  return Math.max(1, availableParallelism());
}

interface Pending {
  job: number;
  config: RunConfig;
  onProgress: (iteration: number) => void;
  resolve: (r: RunResult | { status: 'thrown'; message: string }) => void;
  reject: (err: Error) => void;
}

interface Slot {
  worker: Worker;
  current: Pending | undefined;
}

export class StoppedError extends Error {
  constructor() {
    super('stopped');
  }
}

export class WorkerPool {
  private readonly slots: Slot[] = [];
  private readonly queue: Pending[] = [];
  private nextJob = 0;
  private stopped = false;
  /** The worker script; compiled next to this file (dist/src/bench/worker.js). */
  private readonly script: URL;

  constructor(
    readonly size: number,
    private readonly env: RunEnvironment,
    script: URL = new URL('./worker.js', import.meta.url),
  ) {
    this.script = script;
  }

  readonly execute: RunExecutor = (config, onProgress) =>
    new Promise((resolve, reject) => {
      if (this.stopped) {
        reject(new StoppedError());
        return;
      }
      this.queue.push({ job: this.nextJob++, config, onProgress, resolve, reject });
      this.dispatch();
    });

  private dispatch(): void {
    while (this.queue.length > 0) {
      let slot = this.slots.find((s) => s.current === undefined);
      if (!slot && this.slots.length < this.size) slot = this.spawn();
      if (!slot) return;
      const pending = this.queue.shift()!;
      slot.current = pending;
      // functions do not cross threads; the download progress callback stays on this side
      const { onDownloadProgress: _drop, ...env } = this.env;
      slot.worker.postMessage({ job: pending.job, config: pending.config, env } satisfies WorkerRequest);
    }
  }

  private spawn(): Slot {
    const worker = new Worker(this.script);
    const slot: Slot = { worker, current: undefined };
    worker.on('message', (reply: WorkerReply) => {
      const pending = slot.current;
      if (!pending || pending.job !== reply.job) return;
      if (reply.type === 'progress') {
        pending.onProgress(reply.iteration);
        return;
      }
      slot.current = undefined;
      pending.resolve(reply.type === 'done' ? reply.result : { status: 'thrown', message: reply.message });
      this.dispatch();
    });
    const fail = (message: string) => {
      const pending = slot.current;
      slot.current = undefined;
      const i = this.slots.indexOf(slot);
      if (i >= 0) this.slots.splice(i, 1);
      if (pending) {
        if (this.stopped) pending.reject(new StoppedError());
        else pending.resolve({ status: 'thrown', message });
      }
      if (!this.stopped) this.dispatch();
    };
    worker.on('error', (err) => fail(`worker thread failed: ${err.message}`));
    worker.on('exit', (code) => fail(`worker thread exited with code ${code}`));
    this.slots.push(slot);
    return slot;
  }

  /** Lets idle workers exit (after the last run). */
  async close(): Promise<void> {
    this.stopped = true;
    const slots = this.slots.splice(0);
    await Promise.all(slots.map((s) => s.worker.terminate()));
  }

  /** Stops everything now: queued and running jobs reject with StoppedError. */
  async terminate(): Promise<void> {
    this.stopped = true;
    for (const p of this.queue.splice(0)) p.reject(new StoppedError());
    const slots = this.slots.splice(0);
    for (const s of slots) {
      const p = s.current;
      s.current = undefined;
      p?.reject(new StoppedError());
    }
    await Promise.all(slots.map((s) => s.worker.terminate()));
  }
}
