/** Options shared by commands, as small functions (release-please's habit). */
import type { Command } from "commander";

export interface RepoOptions {
  repo?: string;
}

export function withRepo(command: Command): Command {
  return command.option("--repo <dir>", "repository root (default: the nearest folder with goalops.yaml)");
}

export function withJson(command: Command): Command {
  return command.option("--json", "print machine-readable JSON");
}
