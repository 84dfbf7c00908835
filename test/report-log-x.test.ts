import { test } from 'node:test';
import assert from 'node:assert/strict';
import { XMLValidator } from 'fast-xml-parser';
import { interpolate, renderSeries, seriesFromTable } from '../src/report/plot.js';
import { parseResultsCsv } from '../src/report/read-csv.js';
import { renderSvg } from '../src/report/svg.js';

// Bits over four orders of magnitude: a cheap compressor and a dense method.
const CSV = [
  'run_id,method,compressor,iteration,grad_norm_sq,bits_up_per_worker',
  'a,gd,identity,0,1,0',
  'a,gd,identity,1,0.1,10000',
  'a,gd,identity,2,0.01,100000',
  'b,cgd,topk,0,1,0',
  'b,cgd,topk,1,0.5,10',
  'b,cgd,topk,2,0.25,100',
].join('\n') + '\n';

test('log x: the series hold log10 x, and x = 0 (iteration 0 on a bits axis) is left out', () => {
  const table = parseResultsCsv(CSV, 'x.csv');
  const [a, b] = seriesFromTable(table, { x: 'bits_up_per_worker', y: 'grad_norm_sq', log: true, logX: true });
  assert.deepEqual(a.xs, [4, 5]);
  assert.deepEqual(b.xs, [1, 2]);
  assert.deepEqual(b.ys, [Math.log10(0.5), Math.log10(0.25)]);
  // interpolation is linear in log10 x: halfway between 10 and 100 bits in log10 is √1000 ≈ 31.6 bits
  assert.equal(interpolate(b, 1.5), (Math.log10(0.5) + Math.log10(0.25)) / 2);
  const linear = seriesFromTable(table, { x: 'bits_up_per_worker', y: 'grad_norm_sq', log: true });
  assert.deepEqual(linear[1].xs, [0, 10, 100], 'without --log-x nothing changes');
});

test('the terminal plot labels a log x axis in the original units, and both series get their own columns', () => {
  const table = parseResultsCsv(CSV, 'x.csv');
  const series = seriesFromTable(table, { x: 'bits_up_per_worker', y: 'grad_norm_sq', log: true, logX: true });
  const text = renderSeries(series, { x: 'bits_up_per_worker', y: 'grad_norm_sq', log: true, logX: true, color: false, width: 40, height: 6 });
  const lines = text.split('\n');
  const axis = lines.find((l) => /\b10\b/.test(l) && /1\.0e5/.test(l));
  assert.ok(axis, `the x axis reads 10 … 1.0e5 bits:\n${text}`);
  assert.match(text, /bits_up_per_worker \(log scale\)/);
  assert.match(text, /\(log-log\)/);
  // on a linear axis the topk series (≤ 100 bits of 100000) would occupy a single column; on log x it
  // spans the left third (log10 10 … 100 of 1 … 5)
  const grid = lines.filter((l) => l.includes('┤')).map((l) => l.slice(l.indexOf('┤') + 1));
  const columnsOf = (mark: string) => new Set(grid.flatMap((row) => [...row].map((c, i) => (c === mark ? i : -1)).filter((i) => i >= 0))).size;
  assert.ok(columnsOf('+') >= 8, `topk spans several columns:\n${text}`);
});

test('the SVG puts decade ticks labelled 1eN on a log x axis', () => {
  const table = parseResultsCsv(CSV, 'x.csv');
  const series = seriesFromTable(table, { x: 'bits_up_per_worker', y: 'grad_norm_sq', log: true, logX: true });
  const svg = renderSvg(series, { x: 'bits_up_per_worker', y: 'grad_norm_sq', log: true, logX: true });
  assert.equal(XMLValidator.validate(svg), true);
  for (const t of ['1e1', '1e2', '1e3', '1e4', '1e5']) assert.ok(svg.includes(`>${t}</text>`), `tick ${t}`);
  assert.ok(svg.includes('bits_up_per_worker (log scale)'));
});
