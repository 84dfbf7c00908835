// Placeholder signature (filled in by the lead engineer): runs one configuration end to end.
import type { MetricRow, RunConfig, RunResult } from './types.js';

export interface RunEnvironment {
  /** --data-dir */
  dataDir?: string;
  /** $DCOMP_DATA_DIR, passed in by the CLI (lower layers never read the environment). */
  envDataDir?: string;
  /** User cache dir (datasets, f* cache). */
  cacheDir: string;
  /** Report download progress (CLI draws a bar on a TTY). */
  onDownloadProgress?: (received: number, total: number | undefined) => void;
}

export interface RunHooks {
  onRow?(row: MetricRow): void;
  signal?: AbortSignal;
}

export declare function runOne(config: RunConfig, env: RunEnvironment, hooks?: RunHooks): Promise<RunResult>;
