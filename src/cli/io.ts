/**
 * The user's terminal is sacred: data (CSV) goes to stdout or a file, everything else to stderr,
 * and no progress bars, cursor control or colour unless stderr is a TTY, `CI` is unset, `NO_COLOR` is
 * unset and `TERM` is not `dumb`.
 */
import { escapeControl } from '../core/text.js';

export interface TerminalPolicy {
  /** Progress bars and cursor control allowed (stderr is a TTY, not CI, not TERM=dumb, not --quiet). */
  readonly progress: boolean;
  /** ANSI colour allowed on stderr. */
  readonly color: boolean;
}

export function terminalPolicy(options: { quiet?: boolean } = {}, env: NodeJS.ProcessEnv = process.env, stderr: NodeJS.WriteStream = process.stderr): TerminalPolicy {
  const tty = Boolean(stderr.isTTY);
  const ci = env.CI !== undefined && env.CI !== '' && env.CI !== 'false' && env.CI !== '0';
  const noColor = env.NO_COLOR !== undefined && env.NO_COLOR !== '';
  // A dumb terminal cannot move the cursor or draw colours (Emacs shell, some CI log viewers).
  const dumb = env.TERM === 'dumb';
  return {
    progress: tty && !ci && !noColor && !dumb && !options.quiet,
    color: tty && !ci && !noColor && !dumb,
  };
}

/** A line on stderr (logs, warnings); never on stdout. Control characters (from data files) are escaped. */
export function log(message: string): void {
  const line = escapeControl(message.endsWith('\n') ? message.slice(0, -1) : message, { keepNewlines: true });
  process.stderr.write(line + '\n');
}
