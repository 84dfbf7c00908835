/**
 * The user's terminal is sacred: data (CSV) goes to stdout or a file, everything else to stderr,
 * and no progress bars or colour unless stderr is a TTY, `CI` is unset and `NO_COLOR` is unset.
 */
export interface TerminalPolicy {
  /** Progress bars allowed (stderr is a TTY, not CI, not --quiet). */
  readonly progress: boolean;
  /** ANSI colour allowed on stderr. */
  readonly color: boolean;
}

export function terminalPolicy(options: { quiet?: boolean } = {}, env: NodeJS.ProcessEnv = process.env, stderr: NodeJS.WriteStream = process.stderr): TerminalPolicy {
  const tty = Boolean(stderr.isTTY);
  const ci = env.CI !== undefined && env.CI !== '' && env.CI !== 'false' && env.CI !== '0';
  const noColor = env.NO_COLOR !== undefined && env.NO_COLOR !== '';
  return {
    progress: tty && !ci && !noColor && !options.quiet,
    color: tty && !ci && !noColor,
  };
}

/** A line on stderr (logs, warnings); never on stdout. */
export function log(message: string): void {
  process.stderr.write(message.endsWith('\n') ? message : message + '\n');
}
