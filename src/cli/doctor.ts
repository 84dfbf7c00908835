/**
 * `dcomp doctor`: what this machine can run. Node, the float64 WebAssembly kernels, the optional gpu
 * dependencies, every gpu.js mode actually tried (a tiny kernel built and run, each in a child process,
 * the class of the kernel that ran read back), the device and whether it is software, what
 * `--backend gpu` would do, and where datasets and the cache are. The report goes to stdout.
 */
import { existsSync, statSync } from 'node:fs';
import { arch, cpus, platform } from 'node:os';
import { Command } from 'commander';
import { wasmKernelsAvailable, wasmUnavailableReason } from '../backends/wasm.js';
import { optionalPackageVersion } from '../backends/gpujs/api.js';
import { probeGpuModes, type ProbeResult } from '../backends/gpujs/index.js';
import { AUTO_ORDER } from '../backends/gpujs/device.js';
import { loadRegistry } from '../data/datasets.js';
import { datasetCacheDir, locateDataset, SOURCE_LABELS, type DatasetLocations } from '../data/resolve.js';
import { SPEC_VERSION } from '../core/version.js';
import { datasetLocations, defaultCacheDir } from './paths.js';
import { prepareGpuEnvironment } from './gpu.js';

export interface DoctorParams {
  /** --data-dir, $DCOMP_DATA_DIR and the cache, as the CLI resolved them. */
  readonly locations: DatasetLocations & { cacheDir: string };
  /** What was done to the environment for the gpu libraries (EGL_PLATFORM), if anything. */
  readonly environmentNote?: string;
  /** Tests replace the probe. */
  readonly probe?: () => Promise<ProbeResult[]>;
}

export interface DoctorReport {
  readonly node: string;
  readonly machine: string;
  readonly float64Kernels: string;
  readonly optional: ReadonlyArray<{ name: string; version: string | undefined }>;
  readonly probes: readonly ProbeResult[];
  /** What `--backend gpu --gpu-mode auto` would run on, and whether it needs --allow-software-gpu. */
  readonly auto: string;
  readonly environmentNote?: string;
  readonly places: ReadonlyArray<{ what: string; path: string | undefined; state: string }>;
  readonly datasets: ReadonlyArray<{ name: string; where: string }>;
}

function placeState(path: string | undefined): string {
  if (path === undefined || path === '') return 'not set';
  if (!existsSync(path)) return 'does not exist';
  return statSync(path).isDirectory() ? 'directory' : 'not a directory';
}

function autoChoice(probes: readonly ProbeResult[]): string {
  for (const mode of AUTO_ORDER) {
    const p = probes.find((q) => q.mode === mode);
    if (!p?.ok) continue;
    if (mode === 'webasm') return `${p.kernelClass} on the CPU (no GPU here): --backend gpu needs --allow-software-gpu, or --gpu-mode webasm`;
    return p.software
      ? `${p.kernelClass} on ${p.device}: software, so --backend gpu needs --allow-software-gpu`
      : `${p.kernelClass} on ${p.device}`;
  }
  return 'nothing: --backend gpu cannot run here (see the reasons above)';
}

export async function collectDoctorReport(params: DoctorParams): Promise<DoctorReport> {
  const optional = [];
  for (const name of ['gpu.js', 'webgpu', 'gl']) optional.push({ name, version: await optionalPackageVersion(name) });
  const probes = await (params.probe ?? (() => probeGpuModes()))();
  const { locations } = params;
  const places = [
    { what: '--data-dir', path: locations.dataDir, state: placeState(locations.dataDir) },
    { what: '$DCOMP_DATA_DIR', path: locations.envDataDir, state: placeState(locations.envDataDir) },
    { what: 'cache', path: locations.cacheDir, state: placeState(locations.cacheDir) },
    { what: 'dataset cache', path: datasetCacheDir(locations.cacheDir), state: placeState(datasetCacheDir(locations.cacheDir)) },
  ];
  const datasets = loadRegistry().map((info) => {
    let where: string;
    try {
      const found = locateDataset(info.name, locations);
      where = found.length ? `${SOURCE_LABELS[found[0].source]}: ${found[0].path}` : 'not on this machine (downloaded on first use)';
    } catch (err) {
      where = (err as Error).message;
    }
    return { name: info.name, where };
  });
  const cpu = cpus()[0]?.model?.trim() ?? 'unknown CPU';
  return {
    node: process.version,
    machine: `${platform()} ${arch()}, ${cpu}, ${cpus().length} cores`,
    float64Kernels: wasmKernelsAvailable() ? 'WebAssembly (float64, SIMD)' : `JS loops (${wasmUnavailableReason()})`,
    optional,
    probes,
    auto: autoChoice(probes),
    environmentNote: params.environmentNote,
    places,
    datasets,
  };
}

export function formatDoctorReport(r: DoctorReport): string {
  const lines = [
    `node ${r.node} on ${r.machine}; spec version ${SPEC_VERSION}`,
    `cpu backend kernels: ${r.float64Kernels}`,
    `optional dependencies: ${r.optional.map((o) => `${o.name} ${o.version ?? 'not installed'}`).join(', ')}`,
    'gpu.js modes (each built and ran a kernel, class read back):',
    ...r.probes.map((p) =>
      p.ok
        ? `  ${p.mode.padEnd(6)} ok    ${p.kernelClass} on ${p.device}${p.detail ? ` (${p.detail})` : ''}`
        : `  ${p.mode.padEnd(6)} no    ${p.reason}`,
    ),
    `--backend gpu --gpu-mode auto would run: ${r.auto}`,
    ...(r.environmentNote ? [`environment: ${r.environmentNote}`] : []),
    'data:',
    ...r.places.map((p) => `  ${p.what.padEnd(15)} ${p.path ?? ''}${p.path ? ' ' : ''}(${p.state})`),
    ...r.datasets.map((d) => `  ${d.name.padEnd(15)} ${d.where}`),
  ];
  return lines.join('\n') + '\n';
}

const EXAMPLES = `
Examples:
  $ dcomp doctor
  $ dcomp doctor --data-dir ../shared/datasets

On a machine with a GPU, WebGPU should show its adapter without "(software)". Without a display,
EGL_PLATFORM=surfaceless is set for the WebGPU probe (Mesa's OpenGL ES path). See docs/backends.md.`;

export interface DoctorIo {
  readonly stdout?: (text: string) => void;
  readonly env?: NodeJS.ProcessEnv;
  readonly probe?: () => Promise<ProbeResult[]>;
}

export function doctorCommand(io: DoctorIo = {}): Command {
  return new Command('doctor')
    .description('report what this machine can run: Node, kernels, gpu.js modes actually tried, devices, data and cache')
    .option('--data-dir <dir>', 'directory with LIBSVM files (searched first)')
    .addHelpText('after', EXAMPLES)
    .action(async (opts: { dataDir?: string }) => {
      const env = io.env ?? process.env;
      const environmentNote = prepareGpuEnvironment(env);
      const found = datasetLocations(opts.dataDir, env);
      const locations = { ...found, cacheDir: found.cacheDir ?? defaultCacheDir(env) };
      const report = await collectDoctorReport({ locations, environmentNote, probe: io.probe });
      (io.stdout ?? ((t: string) => void process.stdout.write(t)))(formatDoctorReport(report));
    });
}
