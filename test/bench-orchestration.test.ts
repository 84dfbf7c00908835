import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runBench, selectBest } from '../src/bench/bench.js';
import type { RunUnit } from '../src/bench/matrix.js';
import type { RunExecutor } from '../src/bench/pool.js';
import { planResume } from '../src/bench/resume.js';
import type { MetricRow, RunConfig, RunLabels, RunResult } from '../src/bench/types.js';
import { normalizeConfig } from '../src/bench/config.js';

const LABELS: RunLabels = { stepUsed: 0.5, params: '', x0: 'zeros', backend: 'cpu', device: 'cpu', precision: 'float64' };
import { csvHeader } from '../src/report/csv.js';
import { parseResultsCsv } from '../src/report/read-csv.js';

function config(k: number, step = 'theory', iters = 4): RunConfig {
  return normalizeConfig({ dataset: 'd', method: 'cgd', compressor: 'topk', k, workers: 2, step, iters, log_every: 2 });
}

function rows(iters: number, scale: number, stopAt = iters): MetricRow[] {
  const out: MetricRow[] = [];
  for (let t = 0; t <= stopAt; t += 2) {
    out.push({ iteration: t, epoch: t, loss: scale / (t + 1), lossGap: undefined, gradNormSq: scale / (t + 1) ** 2, trainAcc: 0.5, testAcc: undefined, bitsUpPerWorker: 10 * t, bitsUpTotal: 20 * t, bitsDown: 5 * t, timeMs: 1 });
  }
  return out;
}

/** A stand-in for the worker pool: results depend only on the config; completion order is scrambled by delays. */
function fakeExecutor(delays: number[], behaviour: (c: RunConfig) => 'ok' | 'diverge' | 'throw' = () => 'ok'): RunExecutor {
  let call = 0;
  return async (c) => {
    const delay = delays[call++ % delays.length];
    await new Promise((r) => setTimeout(r, delay));
    const id = `id-k${c.options.k}-${c.step}`;
    const mode = behaviour(c);
    if (mode === 'throw') return { status: 'thrown', message: 'boom' };
    const scale = (c.options.k as number) * (c.step === 'theory*2' ? 0.5 : 1);
    if (mode === 'diverge') return { status: 'diverged', runId: id, config: c, labels: { ...LABELS, stepUsed: 1e6 }, rows: rows(c.iters, 1e12, 2), message: 'diverged' };
    return { status: 'completed', runId: id, config: c, labels: LABELS, rows: rows(c.iters, scale) } satisfies RunResult;
  };
}

function units(n: number): RunUnit[] {
  return Array.from({ length: n }, (_, i) => ({ index: i, runs: [{ config: config(i + 1), id: `id-k${i + 1}-theory` }] }));
}

async function bench(u: RunUnit[], jobs: number, execute: RunExecutor): Promise<{ text: string; outcome: Awaited<ReturnType<typeof runBench>> }> {
  let text = csvHeader(true);
  const outcome = await runBench({ experiment: 'e', units: u, jobs, execute, write: (t) => (text += t) });
  return { text, outcome };
}

test('the output is the same bytes in matrix order whatever the number of jobs and the completion order', async () => {
  const one = await bench(units(6), 1, fakeExecutor([5]));
  const four = await bench(units(6), 4, fakeExecutor([30, 1, 20, 2, 10, 3]));
  assert.equal(four.text, one.text);
  const table = parseResultsCsv(one.text, 'x');
  assert.deepEqual([...new Set(table.rows.map((r) => r.run_id))], ['id-k1-theory', 'id-k2-theory', 'id-k3-theory', 'id-k4-theory', 'id-k5-theory', 'id-k6-theory']);
});

test('a run that throws is recorded as errored with one row and the matrix goes on', async () => {
  const { text, outcome } = await bench(units(3), 2, fakeExecutor([1], (c) => (c.options.k === 2 ? 'throw' : 'ok')));
  const table = parseResultsCsv(text, 'x');
  const errored = table.rows.filter((r) => r.k === '2');
  assert.equal(errored.length, 1);
  assert.equal(errored[0].status, 'errored');
  assert.equal(table.rows.filter((r) => r.k === '3').length, 3);
  assert.equal(outcome.failed.length, 1);
  assert.equal(outcome.written, 3);
});

test('select best keeps the completed step with the lowest final grad norm and skips diverged ones', async () => {
  const sweep: RunUnit = { index: 0, runs: ['theory*1', 'theory*2', 'theory*4'].map((s) => ({ config: config(1, s), id: `id-k1-${s}` })) };
  const { text, outcome } = await bench([sweep], 3, fakeExecutor([1], (c) => (c.step === 'theory*4' ? 'diverge' : 'ok')));
  assert.deepEqual([...new Set(parseResultsCsv(text, 'x').rows.map((r) => r.run_id))], ['id-k1-theory*2']);
  assert.equal(outcome.failed.length, 0);
  const allFailed = [1, 2].map((i) => ({ status: 'errored', rows: [], runId: String(i) }) as unknown as RunResult);
  assert.equal(selectBest(allFailed), 0);
});

test('resume cuts a partial trailing run (cut mid-line or at a line end) and keeps the complete ones', async () => {
  const u = units(3);
  const { text } = await bench(u, 1, fakeExecutor([1]));
  const lines = text.split('\n');
  // header + 3 rows per run: run 2 starts at line index 4
  const run1End = lines.slice(0, 4).join('\n').length + 1;
  for (const cut of [run1End + 5, run1End + lines[4].length + 1, text.length - 3]) {
    const partial = text.slice(0, cut);
    const plan = planResume(partial, 'f.csv', u, 'e');
    const expectedDone = cut >= text.length - 3 ? 2 : 1;
    assert.equal(plan.done, expectedDone, `cut at ${cut}`);
    assert.equal(partial.slice(0, plan.keepBytes), lines.slice(0, 1 + 3 * expectedDone).join('\n') + '\n');
    let resumed = partial.slice(0, plan.keepBytes);
    await runBench({ experiment: 'e', units: u.slice(plan.done), jobs: 2, execute: fakeExecutor([1]), write: (t) => (resumed += t) });
    assert.equal(resumed, text);
  }
});

test('resume refuses a file written by another experiment', async () => {
  const { text } = await bench(units(2), 1, fakeExecutor([1]));
  assert.throws(() => planResume(text, 'f.csv', units(2), 'other'), /f\.csv:2: --resume: run 1 of the file \(experiment "e"/);
});
