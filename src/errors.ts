/**
 * The error hierarchy of goalops. Every error carries a stable `code`; errors about a place in a
 * file also carry `file`, `line`, `column` and `field`. The CLI maps them to exit codes in one place.
 */
export interface ErrorLocation {
  file?: string;
  line?: number;
  column?: number;
  field?: string;
}

export class GoalOpsError extends Error {
  readonly code: string;
  readonly file?: string;
  readonly line?: number;
  readonly column?: number;
  readonly field?: string;

  constructor(code: string, message: string, options: ErrorLocation & { cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    if (options.file !== undefined) this.file = options.file;
    if (options.line !== undefined) this.line = options.line;
    if (options.column !== undefined) this.column = options.column;
    if (options.field !== undefined) this.field = options.field;
  }
}

/** The user's input (a spec file, an argument value) is invalid: exit code 1. */
export class InvalidInputError extends GoalOpsError {}

/** The command was used wrongly or the environment is not usable (no repo, unreadable db): exit code 2. */
export class UsageError extends GoalOpsError {}

/** The database could not be opened, migrated or written. */
export class StoreError extends GoalOpsError {}
