import { test } from 'node:test';
import assert from 'node:assert/strict';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { seriesFromTable } from '../src/report/plot.js';
import { parseResultsCsv } from '../src/report/read-csv.js';
import { linearTicks, logTicks, renderSvg } from '../src/report/svg.js';

const CSV = [
  'run_id,method,compressor,k,step,iteration,grad_norm_sq,bits_up_per_worker',
  'a,gd,identity,,0.5,0,1,0',
  'a,gd,identity,,0.5,10,0.01,3584',
  'a,gd,identity,,0.5,20,0.0001,7168',
  'b,cgd,topk,1,0.5,0,1,0',
  'b,cgd,topk,1,0.5,10,0.1,390',
  'b,cgd,topk,1,0.5,20,0.05,780',
  'c,cgd,topk,8,0.5,0,1,0',
  'c,cgd,topk,8,0.5,10,0.02,3120',
  'c,cgd,topk,8,0.5,20,0,6240',
].join('\n') + '\n';

function countTag(node: unknown, tag: string): number {
  if (Array.isArray(node)) return node.reduce((s, n) => s + countTag(n, tag), 0);
  if (node === null || typeof node !== 'object') return 0;
  let n = 0;
  for (const [key, value] of Object.entries(node)) {
    if (key === tag) n += Array.isArray(value) ? value.length : 1;
    n += countTag(value, tag);
  }
  return n;
}

test('the SVG is well-formed XML with one <path> per series, a legend entry each, and decade ticks on a log axis', () => {
  const series = seriesFromTable(parseResultsCsv(CSV, 'x.csv'), { x: 'iteration', y: 'grad_norm_sq', log: true });
  assert.equal(series.length, 3);
  const svg = renderSvg(series, { x: 'iteration', y: 'grad_norm_sq', log: true });
  assert.equal(XMLValidator.validate(svg), true);
  const doc = new XMLParser({ ignoreAttributes: false, parseTagValue: false }).parse(svg);
  assert.ok(doc.svg, 'root element is <svg>');
  assert.equal(doc.svg['@_xmlns'], 'http://www.w3.org/2000/svg');
  assert.equal(countTag(doc, 'path'), 3);
  const texts = JSON.stringify(doc);
  for (const label of ['gd identity', 'cgd topk k=1', 'cgd topk k=8']) assert.ok(texts.includes(label), `legend has ${label}`);
  for (const tick of ['1e0', '1e-2', '1e-4']) assert.ok(texts.includes(tick), `y tick ${tick}`);
});

test('labels with XML special characters are escaped', () => {
  const svg = renderSvg([{ runId: 'r', label: 'a<b & "c"', xs: [0, 1], ys: [0, 1] }], { x: 'iteration', y: 'loss', log: false });
  assert.equal(XMLValidator.validate(svg), true);
  assert.ok(svg.includes('a&lt;b &amp; &quot;c&quot;'));
});

test('ticks are round numbers covering the range', () => {
  assert.deepEqual(linearTicks(0, 100, 5), [0, 20, 40, 60, 80, 100]);
  assert.deepEqual(linearTicks(0.1, 0.35, 5), [0.1, 0.15, 0.2, 0.25, 0.3, 0.35]);
  assert.deepEqual(logTicks(-4.2, 0.1), [-4, -3, -2, -1, 0]);
});
