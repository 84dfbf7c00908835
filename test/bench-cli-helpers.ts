/** Shared helpers of the end-to-end bench tests: spawn `node bin/dcomp` with the real datasets. */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseCsvRecords } from '../src/report/read-csv.js';
import { DATA_DIR } from './data-dir.js';

/** From dist/test/ the repository root is ../.. */
export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const BIN = join(ROOT, 'bin', 'dcomp');
// Absolute, because some tests run dcomp from another working directory.
export { DATA_DIR };

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** A child environment without CI/NO_COLOR, so only "stderr is not a TTY" keeps colours and bars off. */
export function childEnv(cache: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, DCOMP_DATA_DIR: DATA_DIR, XDG_CACHE_HOME: cache };
  delete env.CI;
  delete env.NO_COLOR;
  delete env.FORCE_COLOR;
  return env;
}

export interface Finished {
  status: number | null;
  stdout: string;
  stderr: string;
}

export function dcomp(args: string[], cache: string, cwd: string = ROOT): Finished {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd, env: childEnv(cache), encoding: 'utf8', timeout: 120_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

export function dcompAsync(args: string[], cache: string): ChildProcess {
  return spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env: childEnv(cache), stdio: ['ignore', 'pipe', 'pipe'] });
}

export function writeExperiment(dir: string, name: string, text: string): string {
  const file = join(dir, `${name}.yaml`);
  writeFileSync(file, text);
  return file;
}

/** The CSV with the time_ms cells blanked (the one column allowed to differ between identical benches). */
export function withoutTime(text: string): string {
  const records = parseCsvRecords(text);
  const column = records[0].cells.indexOf('time_ms');
  return records.map((r) => r.cells.map((c, j) => (j === column && r !== records[0] ? '' : c)).join(',')).join('\n');
}
