/**
 * Every file a command writes goes through here, so that nothing is lost quietly:
 *
 * - every write is checked: a missing or read-only directory, a directory given as a file, a full disk
 *   become one line naming the path and the cause (a DcompError, exit 1), never exit 0 or a stack;
 * - an output is owned: `<file>.lock` (created with O_EXCL, holding pid, host and command) refuses a
 *   second writer and names the holder; a lock whose process is gone (same host, pid not alive) is stale
 *   and taken over;
 * - an output is never one of the command's inputs (same file by dev+inode, so symlinks and hard links
 *   count) — checked before anything is truncated;
 * - whole-file outputs are written to a temporary file in the same directory, fsynced, then renamed
 *   over the target, so a reader or a crash sees the old file or the new one, never half of one;
 * - append streams (bench, run) write in place and fsync (each write, or on close).
 *
 * Outputs that are not regular files (/dev/stdout, /dev/null, /dev/full, a FIFO) are written directly:
 * no lock, no temporary file (renaming over a device node would replace it).
 *
 * stdout: `guardStdout` turns a failed write to stdout (ENOSPC, EIO, …) into the same one-line error
 * and exit 1; EPIPE (`dcomp … | head`) is the reader's choice and keeps the exit code.
 */
import {
  closeSync, constants, fstatSync, fsyncSync, ftruncateSync, mkdirSync, openSync, readFileSync, realpathSync, renameSync, statSync,
  unlinkSync, writeSync, type Stats,
} from 'node:fs';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { DcompError, UsageError } from '../core/errors.js';
import { escapeControl } from '../core/text.js';

export interface OutputOptions {
  /** Files the command reads (experiment file, datasets, files merged or compared): the output may be none of them. */
  readonly inputs?: readonly string[];
  /** Who writes, recorded in the lock so that a refused second writer learns it (e.g. "dcomp bench e.yaml"). */
  readonly command?: string;
  /**
   * Create missing parent directories (for default paths such as results/<experiment>/…). Off by
   * default: an explicit path whose directory does not exist is a mistake worth reporting.
   */
  readonly createDirectories?: boolean;
}

export interface StreamOptions extends OutputOptions {
  /** Keep the first `keepBytes` bytes of an existing file and append after them (--resume). Default 0: start empty. */
  readonly keepBytes?: number;
  /** fsync after every write (a bench's run blocks survive a crash one by one). Default: fsync on close only. */
  readonly syncEachWrite?: boolean;
}

/** An append-only output. Every method throws a DcompError naming the file and the cause when the system refuses. */
export interface OutputStream {
  /** The output as the user named it ("stdout" for stdout). */
  readonly name: string;
  /** Appends `text`; returns once the bytes are handed to the system (and fsynced with syncEachWrite). */
  write(text: string): void;
  /** fsync what was written so far. */
  sync(): void;
  /** fsync, close and release the lock. Idempotent. */
  close(): void;
}

/** The reason a write failed, for people: "no space left on device (ENOSPC)". */
export function describeWriteError(err: unknown): string {
  const e = err as NodeJS.ErrnoException | undefined;
  const code = e?.code;
  const text: Record<string, string> = {
    ENOENT: 'no such file or directory',
    ENOTDIR: 'a component of the path is not a directory',
    EISDIR: 'is a directory',
    EACCES: 'permission denied',
    EPERM: 'operation not permitted',
    EROFS: 'read-only file system',
    ENOSPC: 'no space left on device',
    EDQUOT: 'disk quota exceeded',
    EFBIG: 'file too large',
    EIO: 'input/output error',
    EEXIST: 'already exists',
    ENAMETOOLONG: 'file name too long',
    ELOOP: 'too many levels of symbolic links',
    EMFILE: 'too many open files',
    EBADF: 'bad file descriptor',
    EPIPE: 'broken pipe (the reader went away)',
    EAGAIN: 'resource temporarily unavailable',
  };
  if (code !== undefined && text[code] !== undefined) return `${text[code]} (${code})`;
  if (code !== undefined) return code;
  return err instanceof Error ? err.message : String(err);
}

function writeFailure(shown: string, err: unknown): DcompError {
  if (err instanceof DcompError) return err;
  return new DcompError(`${escapeControl(shown)}: cannot write: ${describeWriteError(err)}`);
}

function statOrUndefined(path: string): Stats | undefined {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}

/** The nearest ancestor of `path` that exists (for "the directory … does not exist"). */
function missingAncestor(dir: string): string {
  let missing = dir;
  for (let up = dirname(missing); up !== missing && statOrUndefined(up) === undefined; up = dirname(up)) missing = up;
  return missing;
}

interface Target {
  /** As the user wrote it, for messages. */
  readonly shown: string;
  /** Absolute, symlinks of existing components resolved: one spelling per file, for the lock. */
  readonly path: string;
  /** The existing file's stat, if it exists. */
  readonly stat: Stats | undefined;
  /** Not a regular file (device, FIFO, socket): written directly, without lock or temporary file. */
  readonly special: boolean;
}

function resolveTarget(shown: string, createDirectories: boolean): Target {
  if (shown === '') throw new UsageError('--out: expected a file name, got an empty string');
  const absolute = resolve(shown);
  const stat = statOrUndefined(absolute);
  if (stat !== undefined) {
    if (stat.isDirectory()) throw new DcompError(`${escapeControl(shown)}: cannot write: is a directory (EISDIR); give a file name`);
    let real: string;
    try {
      real = realpathSync(absolute);
    } catch (err) {
      throw writeFailure(shown, err);
    }
    return { shown, path: real, stat, special: !stat.isFile() };
  }
  const dir = dirname(absolute);
  let dirStat = statOrUndefined(dir);
  if (dirStat === undefined) {
    if (!createDirectories) {
      const missing = missingAncestor(dir);
      const cause = statOrUndefined(dirname(missing))?.isDirectory() === false ? `${dirname(missing)} is not a directory (ENOTDIR)` : `the directory ${missing} does not exist (ENOENT)`;
      throw new DcompError(`${escapeControl(shown)}: cannot write: ${escapeControl(cause)}`);
    }
    try {
      mkdirSync(dir, { recursive: true });
    } catch (err) {
      throw writeFailure(shown, err);
    }
    dirStat = statOrUndefined(dir);
  }
  if (dirStat === undefined || !dirStat.isDirectory()) {
    throw new DcompError(`${escapeControl(shown)}: cannot write: ${escapeControl(dir)} is not a directory (ENOTDIR)`);
  }
  return { shown, path: join(realpathSync(dir), basename(absolute)), stat: undefined, special: false };
}

/** Refuses an output that is one of the inputs (same device and inode: symlinks and hard links included). */
function checkNotAnInput(target: Target, inputs: readonly string[]): void {
  const out = target.stat ?? statOrUndefined(target.path);
  if (out === undefined) return;
  for (const input of inputs) {
    const s = statOrUndefined(input);
    if (s !== undefined && s.dev === out.dev && s.ino === out.ino && !target.special) {
      throw new UsageError(`${escapeControl(target.shown)}: is also an input of this command (${escapeControl(input)}); writing it would destroy the input. Choose another output file`);
    }
  }
}

// ---------- locks ----------

interface LockHolder {
  readonly pid: number;
  readonly host: string;
  readonly command: string;
  readonly started: string;
}

const heldLocks = new Map<string, string>(); // lock path → our content
let exitHookInstalled = false;

function releaseAllLocks(): void {
  for (const [path, content] of heldLocks) removeLockIfOurs(path, content);
  heldLocks.clear();
}

function removeLockIfOurs(path: string, content: string): void {
  try {
    if (readFileSync(path, 'utf8') === content) unlinkSync(path);
  } catch {
    // already gone: nothing to release
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readHolder(lockPath: string): { text: string; holder: LockHolder | undefined } | undefined {
  let text: string;
  try {
    text = readFileSync(lockPath, 'utf8');
  } catch {
    return undefined; // vanished meanwhile
  }
  try {
    const h = JSON.parse(text) as LockHolder;
    if (Number.isInteger(h.pid) && typeof h.host === 'string') return { text, holder: h };
  } catch {
    // unreadable: reported as such
  }
  return { text, holder: undefined };
}

function describeHolder(h: LockHolder): string {
  return `pid ${h.pid} on ${escapeControl(h.host)}${h.command ? `, ${JSON.stringify(escapeControl(h.command))}` : ''}${h.started ? `, since ${escapeControl(h.started)}` : ''}`;
}

/** Takes `<target>.lock`; throws naming the holder when another live process has it. Returns the release function. */
function acquireLock(target: Target, command: string): () => void {
  const lockPath = `${target.path}.lock`;
  const content = JSON.stringify({ pid: process.pid, host: hostname(), command, started: new Date().toISOString() } satisfies LockHolder) + '\n';
  for (let attempt = 0; attempt < 3; attempt++) {
    let fd: number;
    try {
      fd = openSync(lockPath, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o644);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new DcompError(`${escapeControl(target.shown)}: cannot write: ${describeWriteError(err)} (creating its lock file ${escapeControl(lockPath)})`);
      }
      const found = readHolder(lockPath);
      if (found === undefined) continue; // released between our open and our read: try again
      const h = found.holder;
      if (h === undefined) {
        throw new DcompError(`${escapeControl(target.shown)}: locked by ${escapeControl(lockPath)}, which names no process; if no dcomp is writing this file, remove the lock file`);
      }
      const stale = h.host === hostname() && h.pid !== process.pid && !processAlive(h.pid);
      if (!stale) {
        throw new DcompError(`${escapeControl(target.shown)}: another dcomp is writing this file (${describeHolder(h)}); wait for it to finish or choose another output. Lock: ${escapeControl(lockPath)}`);
      }
      // The holder died (kill -9, crash): take the lock over, unless someone else did meanwhile.
      removeLockIfOurs(lockPath, found.text);
      continue;
    }
    try {
      writeSync(fd, content);
      fsyncSync(fd);
    } catch (err) {
      closeSync(fd);
      try {
        unlinkSync(lockPath);
      } catch {
        // nothing to clean up
      }
      throw writeFailure(target.shown, err);
    }
    closeSync(fd);
    heldLocks.set(lockPath, content);
    if (!exitHookInstalled) {
      exitHookInstalled = true;
      process.on('exit', releaseAllLocks);
    }
    return () => {
      if (heldLocks.get(lockPath) === content) {
        heldLocks.delete(lockPath);
        removeLockIfOurs(lockPath, content);
      }
    };
  }
  throw new DcompError(`${escapeControl(target.shown)}: could not take the lock ${escapeControl(lockPath)} (it keeps changing hands); try again`);
}

// ---------- claims ----------

/**
 * An output reserved for this process: the path checked, the lock taken, the inputs compared. A
 * command takes the claim early (so a bad --out fails before hours of work) and adds inputs known
 * later with `checkInputs` (e.g. dataset files once resolved), then writes with `openStream` or
 * `writeFile`, which take the claim over.
 */
export interface OutputClaim {
  readonly name: string;
  /** Refuses (UsageError, exit 2) when the output is one of `inputs`. */
  checkInputs(inputs: readonly string[]): void;
  /** Opens the output for appending (after keeping `keepBytes` of it); closing the stream releases the claim. */
  openStream(options?: Pick<StreamOptions, 'keepBytes' | 'syncEachWrite'>): OutputStream;
  /** Writes the whole file (temporary file + rename) and releases the claim. */
  writeFile(data: string | Uint8Array): void;
  /** Gives the output up without writing. */
  release(): void;
}

export function claimOutput(path: string, options: OutputOptions = {}): OutputClaim {
  const target = resolveTarget(path, options.createDirectories ?? false);
  checkNotAnInput(target, options.inputs ?? []);
  const release = target.special ? () => {} : acquireLock(target, options.command ?? `dcomp ${process.argv.slice(2).join(' ')}`);
  let used = false;
  const take = () => {
    if (used) throw new Error(`output ${path} used twice`);
    used = true;
  };
  return {
    name: path,
    checkInputs(inputs) {
      try {
        checkNotAnInput(target, inputs);
      } catch (err) {
        release();
        throw err;
      }
    },
    openStream(streamOptions = {}) {
      take();
      try {
        return openStreamAt(target, streamOptions, release);
      } catch (err) {
        release();
        throw err;
      }
    },
    writeFile(data) {
      take();
      try {
        writeWhole(target, data);
      } finally {
        release();
      }
    },
    release() {
      used = true;
      release();
    },
  };
}

/** Opens `path` for appending rows as they come (dcomp run --out, dcomp bench): checked, locked, not an input. */
export function openOutputStream(path: string, options: StreamOptions = {}): OutputStream {
  return claimOutput(path, options).openStream(options);
}

/** Writes a whole file (perf --out, merge --out, plot --svg): checked, locked, not an input, temp file + rename. */
export function writeOutputFile(path: string, data: string | Uint8Array, options: OutputOptions = {}): void {
  claimOutput(path, options).writeFile(data);
}

function writeAll(fd: number, bytes: Uint8Array): void {
  let offset = 0;
  while (offset < bytes.length) offset += writeSync(fd, bytes, offset, bytes.length - offset);
}

function toBytes(data: string | Uint8Array): Uint8Array {
  return typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
}

function writeWhole(target: Target, data: string | Uint8Array): void {
  const bytes = toBytes(data);
  if (target.special) {
    let fd: number | undefined;
    try {
      fd = openSync(target.path, 'w');
      writeAll(fd, bytes);
      closeSync(fd);
      fd = undefined;
    } catch (err) {
      if (fd !== undefined) closeSync(fd);
      throw writeFailure(target.shown, err);
    }
    return;
  }
  const dir = dirname(target.path);
  const temp = join(dir, `.${basename(target.path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  let fd: number | undefined;
  try {
    fd = openSync(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, target.stat ? target.stat.mode & 0o7777 : 0o666);
    writeAll(fd, bytes);
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    renameSync(temp, target.path);
  } catch (err) {
    if (fd !== undefined) closeSync(fd);
    try {
      unlinkSync(temp);
    } catch {
      // never created
    }
    throw writeFailure(target.shown, err);
  }
  syncDirectory(dir);
}

/** Makes a rename durable; some file systems refuse to fsync a directory, which loses nothing we can act on. */
function syncDirectory(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // not supported here
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

function openStreamAt(target: Target, options: Pick<StreamOptions, 'keepBytes' | 'syncEachWrite'>, release: () => void): OutputStream {
  const keep = options.keepBytes ?? 0;
  let fd: number | undefined;
  try {
    fd = openSync(target.path, constants.O_WRONLY | constants.O_CREAT | constants.O_APPEND, 0o666);
    if (!target.special) {
      const size = fstatSync(fd).size;
      if (keep > size) throw new DcompError(`${escapeControl(target.shown)}: has ${size} bytes, fewer than the ${keep} to keep; it changed while being read`);
      if (size !== keep) ftruncateSync(fd, keep);
    }
  } catch (err) {
    if (fd !== undefined) closeSync(fd);
    throw writeFailure(target.shown, err);
  }
  const handle = fd;
  let open = true;
  const fail = (err: unknown): never => {
    if (open) {
      open = false;
      try {
        closeSync(handle);
      } catch {
        // the write error is the one to report
      }
      release();
    }
    throw writeFailure(target.shown, err);
  };
  const sync = () => {
    if (target.special) return;
    try {
      fsyncSync(handle);
    } catch (err) {
      fail(err);
    }
  };
  return {
    name: target.shown,
    write(text) {
      if (!open) throw new DcompError(`${escapeControl(target.shown)}: written after it was closed`);
      try {
        writeAll(handle, toBytes(text));
      } catch (err) {
        fail(err);
      }
      if (options.syncEachWrite) sync();
    },
    sync() {
      if (open) sync();
    },
    close() {
      if (!open) return;
      sync();
      open = false;
      try {
        closeSync(handle);
      } catch (err) {
        release();
        throw writeFailure(target.shown, err);
      }
      release();
    },
  };
}

// ---------- stdout ----------

/** stdout as an OutputStream (failures are reported by guardStdout). */
export function stdoutStream(): OutputStream {
  return {
    name: 'stdout',
    write(text) {
      process.stdout.write(text);
    },
    sync() {},
    close() {},
  };
}

/**
 * Installs the one stdout error handler: EPIPE exits with the exit code so far (the reader stopped
 * reading: `dcomp … | head`); any other failure (a full disk behind `> file`, EIO) is a one-line
 * error and exit 1, so that lost output never passes for success.
 */
export function guardStdout(stream: NodeJS.WriteStream = process.stdout, report: (line: string) => void = (l) => void process.stderr.write(l + '\n')): void {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    report(`dcomp: stdout: cannot write: ${describeWriteError(err)}`);
    process.exit(1);
  });
}
