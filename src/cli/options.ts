/** Options shared by commands, as small functions (release-please's habit). */
import type { Command } from "commander";
import { UsageError } from "../errors.js";
import { startGitProbe, type StartedGitProbe } from "../git/treeState.js";
import { windowStart } from "../spec/interval.js";
import { DEFAULT_SPEC_FOLDERS, findRepoRoot, specPathsOf } from "../spec/repoRoot.js";

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

/**
 * `git status` on the repository's spec paths, started before the library loads (sync and diff):
 * on a large tree git takes about as long as loading goalops, and a no-op sync waited for it
 * after. Asked about the default paths; sync uses it only if goalops.yaml names no others.
 * Undefined when there is no repository here (the library then says so).
 */
export function startSpecGitProbe(options: RepoOptions): StartedGitProbe | undefined {
  let root: string;
  try {
    root = findRepoRoot(process.cwd(), options.repo);
  } catch {
    return undefined;
  }
  return startGitProbe(root, specPathsOf(DEFAULT_SPEC_FOLDERS));
}
