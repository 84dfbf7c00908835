/** Errors that the CLI turns into a message and an exit code (0 ok, 1 failed work/gate, 2 bad usage). */
export class DcompError extends Error {
  constructor(message: string, readonly exitCode: 1 | 2 = 1) {
    super(message);
    this.name = new.target.name;
  }
}

/** A bad option or argument: names the option and what it accepts. Exit code 2. */
export class UsageError extends DcompError {
  constructor(message: string) {
    super(message, 2);
  }
}

/** Malformed input data: names the file, the 1-based line and what was expected. Exit code 1. */
export class DataFormatError extends DcompError {
  constructor(readonly file: string, readonly line: number, detail: string) {
    super(`${file}:${line}: ${detail}`, 1);
  }
}
