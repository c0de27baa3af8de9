/** Options shared by commands, as small functions (release-please's habit). */
import type { Command } from "commander";
import { UsageError } from "../errors.js";

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
