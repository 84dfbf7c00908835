/**
 * Worker-thread entry of the bench pool: receives run requests, calls `runOne`, posts progress
 * (throttled) and the result back. A run that throws is reported as an error; the thread lives on.
 */
import { parentPort } from 'node:worker_threads';
import { runOne, type RunEnvironment } from './runner.js';
import type { RunConfig } from './types.js';
import type { WorkerReply, WorkerRequest } from './pool.js';

const PROGRESS_INTERVAL_MS = 100;

if (parentPort) {
  const port = parentPort;
  port.on('message', (request: WorkerRequest) => {
    void handle(request.job, request.config, request.env).then((reply) => port.postMessage(reply));
  });
}

async function handle(job: number, config: RunConfig, env: RunEnvironment): Promise<WorkerReply> {
  let lastPost = 0;
  try {
    const result = await runOne(config, env, {
      onRow(row) {
        const now = Date.now();
        if (now - lastPost < PROGRESS_INTERVAL_MS) return;
        lastPost = now;
        parentPort?.postMessage({ type: 'progress', job, iteration: row.iteration } satisfies WorkerReply);
      },
    });
    return { type: 'done', job, result };
  } catch (err) {
    return { type: 'error', job, message: err instanceof Error ? err.message : String(err) };
  }
}
