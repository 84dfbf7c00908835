/** The one place where the CLI turns process state (env vars, TTY) into a RunEnvironment. */
import cliProgress from 'cli-progress';
import type { RunEnvironment } from '../bench/runner.js';
import type { TerminalPolicy } from './io.js';
import { defaultCacheDir } from './paths.js';

export function runEnvironment(dataDir: string | undefined, policy: TerminalPolicy, env: NodeJS.ProcessEnv = process.env): RunEnvironment {
  return {
    dataDir,
    envDataDir: env.DCOMP_DATA_DIR === '' ? undefined : env.DCOMP_DATA_DIR,
    cacheDir: defaultCacheDir(env),
    onDownloadProgress: policy.progress ? downloadBar() : undefined,
  };
}

/** A download bar on stderr, created on the first progress report. */
function downloadBar(): (received: number, total: number | undefined) => void {
  let bar: cliProgress.SingleBar | undefined;
  return (received, total) => {
    if (!bar) {
      bar = new cliProgress.SingleBar({ stream: process.stderr, format: 'download [{bar}] {percentage}% {value}/{total} bytes', hideCursor: true, clearOnComplete: true }, cliProgress.Presets.shades_classic);
      bar.start(total ?? received, 0);
    }
    if (total !== undefined) bar.setTotal(total);
    bar.update(received);
    if (total !== undefined && received >= total) bar.stop();
  };
}
