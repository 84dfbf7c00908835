/** `dcomp perf --backend gpu` (see src/bench/gpu-perf.ts): resolve datasets, pick the modes, run. */
import { stringify } from 'csv-stringify/sync';
import { probeGpuModes } from '../backends/gpujs/index.js';
import { runGpuPerf, type ConcreteGpuMode } from '../bench/gpu-perf.js';
import { PERF_COLUMNS, perfCsvCells, type MeasureOptions, type PerfRecord } from '../bench/perf.js';
import { resolveDataset, type DatasetLocations } from '../data/resolve.js';
import { UsageError } from '../core/errors.js';
import { prepareGpuEnvironment } from './gpu.js';

export const GPU_PERF_MODES: readonly ConcreteGpuMode[] = ['webgpu', 'gl', 'webasm', 'cpu'];

export interface GpuPerfCliOptions {
  readonly datasets: readonly string[];
  /** --gpu-mode list, or undefined: every mode that runs here. */
  readonly modes?: readonly string[];
  readonly measure: MeasureOptions;
  readonly locations: DatasetLocations;
  readonly log: (line: string) => void;
}

export async function gpuPerfRecords(options: GpuPerfCliOptions): Promise<{ records: PerfRecord[]; csv: string }> {
  const note = prepareGpuEnvironment();
  if (note) options.log(`perf: ${note}`);
  let modes: ConcreteGpuMode[];
  if (options.modes) {
    const bad = options.modes.filter((m) => !GPU_PERF_MODES.includes(m as ConcreteGpuMode));
    if (bad.length) throw new UsageError(`--gpu-mode: unknown ${bad.join(', ')}; expected some of ${GPU_PERF_MODES.join(', ')}`);
    modes = options.modes as ConcreteGpuMode[];
  } else {
    const probes = await probeGpuModes(GPU_PERF_MODES);
    for (const p of probes) options.log(`perf: ${p.mode}: ${p.ok ? `${p.kernelClass} on ${p.device}` : `not available (${p.reason})`}`);
    modes = probes.filter((p) => p.ok).map((p) => p.mode);
  }
  const datasets = [];
  for (const name of options.datasets) datasets.push({ name, path: (await resolveDataset(name, options.locations)).path });
  const records = await runGpuPerf({ datasets, modes, measure: options.measure });
  return { records, csv: stringify([[...PERF_COLUMNS], ...records.map(perfCsvCells)]) };
}
