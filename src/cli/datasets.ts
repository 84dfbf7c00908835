/** `dcomp datasets list | fetch NAME | verify [NAME...]`: the named LIBSVM datasets on this machine. */
import { Command } from 'commander';
import cliProgress from 'cli-progress';
import { DcompError, UsageError } from '../core/errors.js';
import { loadRegistry, findDataset, type DatasetInfo } from '../data/datasets.js';
import {
  datasetCacheDir,
  downloadDataset,
  locateDataset,
  verifyDataset,
  SOURCE_LABELS,
  type DatasetLocations,
  type DownloadOptions,
} from '../data/resolve.js';
import { log, terminalPolicy } from './io.js';
import { datasetLocations } from './paths.js';

/** What the command touches outside itself; tests replace these. */
export interface DatasetsCommandIo {
  stdout?: (text: string) => void;
  stderr?: (text: string) => void;
  env?: NodeJS.ProcessEnv;
  fetch?: typeof fetch;
  registry?: readonly DatasetInfo[];
  embeddedDir?: string;
}

const EXAMPLES = `
Examples:
  $ dcomp datasets list
  $ dcomp datasets fetch a9a
  $ dcomp datasets verify --data-dir ../shared/datasets
  $ DCOMP_DATA_DIR=~/libsvm dcomp datasets verify mushrooms w8a

Resolution order for a NAME: --data-dir, $DCOMP_DATA_DIR, the user cache
($XDG_CACHE_HOME/dcomp/datasets or ~/.cache/dcomp/datasets), the embedded copy
(mushrooms only), else a download from the LIBSVM site into the cache.
`;

export function datasetsCommand(io: DatasetsCommandIo = {}): Command {
  const out = io.stdout ?? ((text: string) => void process.stdout.write(text));
  const err = io.stderr ?? log;
  const env = io.env ?? process.env;
  const locationsFor = (dataDir: string | undefined): DatasetLocations => ({
    ...datasetLocations(dataDir, env),
    registry: io.registry,
    embeddedDir: io.embeddedDir,
  });
  const registry = (): readonly DatasetInfo[] => io.registry ?? loadRegistry();

  const command = new Command('datasets')
    .description('List, download and verify the named LIBSVM datasets (registry in datasets/registry.json).')
    .addHelpText('after', EXAMPLES);

  command
    .command('list')
    .description('Table of the known datasets and where each one resolves now.')
    .option('--data-dir <dir>', 'directory searched first for NAME or NAME.bz2')
    .action((options: { dataDir?: string }) => {
      const locations = locationsFor(options.dataDir);
      const rows = registry().map((info) => {
        const found = locateDataset(info.name, locations)[0];
        return [
          info.name,
          String(info.rows),
          String(info.features),
          String(info.nnz),
          found === undefined ? 'not cached' : `${SOURCE_LABELS[found.source]}: ${found.path}`,
        ];
      });
      out(formatTable(['name', 'rows', 'features', 'nnz', 'location'], rows, [false, true, true, true, false]));
    });

  command
    .command('fetch')
    .description('Download NAME into the user cache (SHA-256 verified), unless the cache already has it.')
    .argument('<name>', 'dataset name from the registry')
    .option('--data-dir <dir>', 'directory searched first for NAME or NAME.bz2')
    .option('-q, --quiet', 'no progress bar')
    .action(async (name: string, options: { dataDir?: string; quiet?: boolean }) => {
      const info = knownDataset(name, registry());
      const locations = locationsFor(options.dataDir);
      const cached = locateDataset(name, locations).find((copy) => copy.source === 'cache');
      if (cached !== undefined) {
        err(`${name}: already in the cache at ${cached.path}`);
        return;
      }
      const target = datasetCacheDir(locations.cacheDir as string);
      const policy = terminalPolicy({ quiet: options.quiet }, env);
      const bar = policy.progress
        ? new cliProgress.SingleBar(
            { format: `${name} [{bar}] {percentage}% {value}/{total} bytes`, hideCursor: true, clearOnComplete: true },
            cliProgress.Presets.shades_classic,
          )
        : undefined;
      const download: DownloadOptions = { fetch: io.fetch };
      if (bar !== undefined) {
        let started = false;
        download.onDownloadProgress = (received, total) => {
          if (!started) {
            bar.start(total ?? info.size, 0);
            started = true;
          }
          bar.update(received);
        };
      }
      try {
        const path = await downloadDataset(info, target, download);
        bar?.stop();
        err(`${name}: downloaded and verified, ${path}`);
      } catch (error) {
        bar?.stop();
        throw error;
      }
    });

  command
    .command('verify')
    .description('Check the SHA-256 of every local copy of the named datasets (default: all) against the registry; exit 1 on a mismatch.')
    .argument('[names...]', 'dataset names (default: every dataset in the registry)')
    .option('--data-dir <dir>', 'directory searched first for NAME or NAME.bz2')
    .action(async (names: string[], options: { dataDir?: string }) => {
      const known = registry();
      const explicit = names.length > 0;
      const infos = explicit ? names.map((name) => knownDataset(name, known)) : [...known];
      const locations = locationsFor(options.dataDir);
      const rows: string[][] = [];
      let mismatched = 0;
      let missing = 0;
      let checked = 0;
      for (const info of infos) {
        const copies = locateDataset(info.name, locations);
        if (copies.length === 0) {
          rows.push([info.name, explicit ? 'MISSING' : 'not cached', '', '']);
          if (explicit) {
            missing++;
            err(`${info.name}: no local copy; run 'dcomp datasets fetch ${info.name}' or pass --data-dir`);
          }
          continue;
        }
        for (const copy of copies) {
          const result = await verifyDataset(copy);
          checked++;
          if (result.ok) rows.push([info.name, 'ok', SOURCE_LABELS[copy.source], copy.path]);
          else {
            mismatched++;
            rows.push([info.name, 'MISMATCH', SOURCE_LABELS[copy.source], copy.path]);
            err(`${copy.path}: SHA-256 ${result.sha256} does not match the registry's ${result.expected} for ${info.name}`);
          }
        }
      }
      out(formatTable(['name', 'status', 'where', 'path'], rows, [false, false, false, false]));
      if (mismatched + missing > 0) {
        throw new DcompError(
          `datasets verify: ${mismatched} mismatched, ${missing} missing; ${checked} local cop${checked === 1 ? 'y' : 'ies'} checked`,
        );
      }
    });

  return command;
}

function knownDataset(name: string, registry: readonly DatasetInfo[]): DatasetInfo {
  const info = findDataset(name, registry);
  if (info === undefined) {
    throw new UsageError(`unknown dataset '${name}': expected one of ${registry.map((d) => d.name).join(', ')}`);
  }
  return info;
}

/** Plain aligned columns (no colour: the table may be piped). */
function formatTable(header: string[], rows: string[][], rightAlign: boolean[]): string {
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
  const line = (cells: string[]): string =>
    cells
      .map((cell, c) => (rightAlign[c] ? cell.padStart(widths[c]) : c === cells.length - 1 ? cell : cell.padEnd(widths[c])))
      .join('  ')
      .trimEnd() + '\n';
  return line(header) + rows.map(line).join('');
}

export default datasetsCommand;
