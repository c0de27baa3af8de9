/** Exit codes of every goalops command. */
export const ExitCode = {
  Ok: 0,
  /** The input is invalid, a check failed, or (for diff) there are changes. */
  Invalid: 1,
  /** Usage or environment error. */
  Usage: 2,
} as const;

/** Thrown by a command that has printed its result and wants a non-zero exit code. */
export class ExitError extends Error {
  constructor(readonly exitCode: number) {
    super(`exit ${exitCode}`);
    this.name = "ExitError";
  }
}
