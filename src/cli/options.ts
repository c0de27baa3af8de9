/** Options shared by commands, as small functions (release-please's habit). */
import type { Command } from "commander";
import { UsageError } from "../errors.js";
import { windowStart } from "../spec/interval.js";

export interface RepoOptions {
  repo?: string;
}

export function withRepo(command: Command): Command {
  return command.option("--repo <dir>", "repository root (default: the nearest folder with goalops.yaml)");
}

export function withJson(command: Command): Command {
  return command.option("--json", "print machine-readable JSON");
}

/** `--limit N` as a positive whole number, or a usage error naming the flag. */
export function limitOption(value: string | undefined, code: string): number {
  const limit = Number(value);
  if (!Number.isInteger(limit) || limit < 1) throw new UsageError(code, `--limit ${value}: expected a positive whole number`);
  return limit;
}

/** `--since 7d` (default: learning.since in goalops.yaml, else 7d) as the start of the window. */
export function sinceOption(value: string | undefined, configured: string | undefined, code: string): Date {
  const start = windowStart(value, configured);
  if (start === undefined) throw new UsageError(code, `--since ${value ?? configured}: expected an interval such as 7d, 24h or 4w`);
  return start;
}
