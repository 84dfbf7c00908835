/** Where dcomp keeps things on this machine. Only the CLI layer reads the environment. */
import { homedir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { isDatasetPath, locateDataset, type DatasetLocations } from '../data/resolve.js';

/**
 * The user cache: `$XDG_CACHE_HOME/dcomp`, or `~/.cache/dcomp` when XDG_CACHE_HOME is unset, empty
 * or relative (the XDG spec says to ignore relative values).
 */
export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env, home: string = homedir()): string {
  const xdg = env.XDG_CACHE_HOME;
  if (xdg !== undefined && xdg !== '' && isAbsolute(xdg)) return join(xdg, 'dcomp');
  return join(home, '.cache', 'dcomp');
}

/** The dataset search path of spec §6 from `--data-dir` and the environment. */
export function datasetLocations(dataDir: string | undefined, env: NodeJS.ProcessEnv = process.env): DatasetLocations {
  const envDataDir = env.DCOMP_DATA_DIR;
  return {
    dataDir,
    envDataDir: envDataDir !== undefined && envDataDir !== '' ? envDataDir : undefined,
    cacheDir: defaultCacheDir(env),
  };
}

/**
 * The files a list of dataset specs may be read from (a PATH as given; every local copy of a NAME),
 * without downloading: what an output must not overwrite. Specs that cannot be located add nothing.
 */
export function datasetInputPaths(specs: Iterable<string>, locations: DatasetLocations): string[] {
  const paths: string[] = [];
  for (const spec of specs) {
    if (isDatasetPath(spec)) {
      paths.push(spec);
      continue;
    }
    try {
      for (const found of locateDataset(spec, locations)) paths.push(found.path);
    } catch {
      // an invalid name or --data-dir is reported where the dataset is read
    }
  }
  return paths;
}
