/**
 * `dcomp run` streams (spec v2 §5): rows are written as they are logged, so an interrupted run keeps
 * every row so far in a valid CSV and exits 130 (SIGINT) / 143 (SIGTERM); memory does not grow with
 * the number of iterations.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { dcompAsync, tempDir } from './bench-cli-helpers.js';
import { parseCsvRecords } from '../src/report/read-csv.js';
import { RUN_COLUMNS } from '../src/report/csv.js';

const cache = tempDir('dcomp-stream-cache-');
const dir = tempDir('dcomp-stream-');
const tiny = join(dir, 'tiny.libsvm');
writeFileSync(tiny, '1 1:1 3:0.5\n-1 2:1\n1 1:0.2 2:0.1 3:1\n-1 3:-1\n');

async function interrupt(signal: NodeJS.Signals): Promise<{ code: number | null; text: string }> {
  const out = join(dir, `${signal}.csv`);
  const child = dcompAsync(['run', '--dataset', tiny, '--method', 'gd', '--step', '0.1', '--iters', '100000000', '--log-every', '1000', '--out', out], cache);
  // wait until rows are on disk, then interrupt
  const start = Date.now();
  while (!(existsSync(out) && statSync(out).size > 2000)) {
    if (Date.now() - start > 30_000) throw new Error('no rows written within 30 s');
    await new Promise((r) => setTimeout(r, 50));
  }
  child.kill(signal);
  const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
  return { code, text: readFileSync(out, 'utf8') };
}

for (const [signal, exit] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
  test(`${signal} stops dcomp run with exit ${exit}, keeping a valid CSV of every row logged so far`, async () => {
    const { code, text } = await interrupt(signal);
    assert.equal(code, exit);
    const records = parseCsvRecords(text);
    assert.deepEqual(records[0].cells, [...RUN_COLUMNS]);
    assert.ok(records.length > 3, `rows kept: ${records.length - 1}`);
    assert.ok(records.every((r) => r.terminated && r.cells.length === RUN_COLUMNS.length), 'every line whole');
    const iterations = records.slice(1).map((r) => Number(r.cells[RUN_COLUMNS.indexOf('iteration')]));
    iterations.forEach((it, i) => assert.equal(it, i * 1000));
  });
}
