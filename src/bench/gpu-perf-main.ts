/** Child-process entry of `dcomp perf --backend gpu` (gpu-perf.ts): one mode, records on stdout. */
import { formatGpuPerfLine, gpuPerfHere, type ConcreteGpuMode, type GpuPerfOptions } from './gpu-perf.js';

const { mode, options } = JSON.parse(process.argv[2]) as { mode: ConcreteGpuMode; options: Omit<GpuPerfOptions, 'modes'> };
try {
  const records = await gpuPerfHere(mode, options);
  process.stdout.write(formatGpuPerfLine(records) + '\n', () => process.exit(0));
} catch (err) {
  process.stderr.write(`dcomp-gpu-perf-error: ${(err as Error).message.split('\n')[0]}\n`, () => process.exit(1));
}
