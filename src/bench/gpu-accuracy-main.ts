/**
 * `npm run gpu-accuracy -- <mode> <file>…`: the accuracy table of docs/backends.md for one gpu.js
 * mode (webgpu, gl, webasm, cpu) on the given LIBSVM files, as markdown on stdout. Set
 * EGL_PLATFORM=surfaceless for WebGPU on Mesa without a display.
 */
import { basename } from 'node:path';
import { accuracyTable, measureGpuAccuracy, type AccuracyRow } from './gpu-accuracy.js';
import { measureMlpImpAAccuracy } from './gpu-accuracy-mlp-impa.js';
import type { GpuMode } from '../backends/types.js';

const [mode, ...files] = process.argv.slice(2) as [Exclude<GpuMode, 'auto'>, ...string[]];
if (!mode || files.length === 0) {
  process.stderr.write('usage: npm run gpu-accuracy -- <webgpu|gl|webasm|cpu> <libsvm file>...\n');
  process.exit(2);
}
const rows: AccuracyRow[] = [];
for (const file of files) rows.push(...(await measureGpuAccuracy(mode, basename(file), file)));
for (const file of files) rows.push(...(await measureMlpImpAAccuracy(mode, basename(file), file)));
process.stdout.write(`${accuracyTable(rows)}\n`);
