/** Child-process entry of the doctor's probe (probe.ts): `node probe-main.js <mode>`. */
import { formatProbeLine, probeHere } from './probe.js';
import type { GpuMode } from '../types.js';

// gpu.js reports fallbacks on the console; only the result line goes to stdout.
for (const level of ['warn', 'log', 'info', 'error'] as const) console[level] = () => {};
const mode = process.argv[2] as Exclude<GpuMode, 'auto'>;
const result = await probeHere(mode);
process.stdout.write(formatProbeLine(result) + '\n', () => process.exit(0));
