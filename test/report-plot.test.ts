import { test } from 'node:test';
import assert from 'node:assert/strict';
import { interpolate, renderSeries, seriesFromTable } from '../src/report/plot.js';
import { parseCsvRecords, parseResultsCsv } from '../src/report/read-csv.js';

const CSV = [
  'run_id,method,compressor,k,iteration,loss,grad_norm_sq,bits_up_per_worker',
  'a,gd,identity,,0,1,1,0',
  'a,gd,identity,,10,0.5,0.01,1000',
  'b,ef21,topk,1,0,1,1,40',
  'b,ef21,topk,1,10,0.8,0.1,440',
  'b,ef21,topk,1,20,nan,nan,840',
].join('\n') + '\n';

test('series are interpolated only inside their own x range, never extrapolated', () => {
  const series = seriesFromTable(parseResultsCsv(CSV, 'x.csv'), { x: 'bits_up_per_worker', y: 'loss', log: false });
  const [a, b] = series;
  assert.equal(interpolate(a, 500), 0.75);
  assert.equal(interpolate(b, 240), 0.9);
  assert.ok(Number.isNaN(interpolate(b, 20)), 'b starts at 40 bits: nothing before');
  assert.ok(Number.isNaN(interpolate(b, 600)), 'b has no finite value after 440 bits');
  assert.deepEqual(b.xs, [40, 440]);
});

test('log scale plots log10 of the values and labels series by the columns that differ', () => {
  const series = seriesFromTable(parseResultsCsv(CSV, 'x.csv'), { x: 'iteration', y: 'grad_norm_sq', log: true });
  assert.deepEqual(series[0].ys, [0, -2]);
  assert.deepEqual(series.map((s) => s.label), ['gd identity', 'ef21 topk k=1']);
});

test('the terminal plot has no ANSI codes without colour, and colours each series with it', () => {
  const series = seriesFromTable(parseResultsCsv(CSV, 'x.csv'), { x: 'iteration', y: 'grad_norm_sq', log: true });
  const plain = renderSeries(series, { x: 'iteration', y: 'grad_norm_sq', log: true, color: false, width: 30, height: 8 });
  assert.ok(!plain.includes('\u001b'));
  assert.match(plain, / \*\s+gd identity/);
  assert.match(plain, / \+\s+ef21 topk k=1/);
  assert.match(plain, /1\.0e-2|0\.01/);
  const coloured = renderSeries(series, { x: 'iteration', y: 'grad_norm_sq', log: true, color: true, width: 30, height: 8 });
  assert.ok(coloured.includes('\u001b[34m') && coloured.includes('\u001b[31m'));
});

test('an unknown --y column is a usage error naming the accepted ones', () => {
  assert.throws(() => seriesFromTable(parseResultsCsv(CSV, 'x.csv'), { x: 'iteration', y: 'speed', log: false }), /--y: unknown column "speed"; accepted: grad_norm_sq/);
});

test('CSV records keep quoted fields and report a last line cut short', () => {
  const records = parseCsvRecords('a,b\n"x,1","say ""hi"""\n1,2');
  assert.deepEqual(records.map((r) => r.cells), [['a', 'b'], ['x,1', 'say "hi"'], ['1', '2']]);
  assert.deepEqual(records.map((r) => r.terminated), [true, true, false]);
  assert.equal(records[1].end, 'a,b\n"x,1","say ""hi"""\n'.length);
});
