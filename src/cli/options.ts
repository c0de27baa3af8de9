/** Options shared by commands, as small functions (release-please's habit). */
import type { Command } from "commander";
import { findRepoRoot, loadConfig, type ResolvedConfig } from "../spec/config.js";
import type { SpecFile } from "../spec/specFile.js";
import { problemsOf } from "../spec/validateRepo.js";
import { printProblems } from "./output.js";
import { ExitCode, ExitError } from "./exit.js";

export interface RepoOptions {
  repo?: string;
}

export function withRepo(command: Command): Command {
  return command.option("--repo <dir>", "repository root (default: the nearest folder with goalops.yaml)");
}

export function withJson(command: Command): Command {
  return command.option("--json", "print machine-readable JSON");
}

export interface LoadedRepo {
  config: ResolvedConfig;
  /** goalops.yaml as a checked spec file (validate reports it with the rest). */
  configFile: SpecFile;
}

/** Finds the repository and loads its config; an invalid goalops.yaml is printed and exits 1. */
export function openRepoConfig(options: RepoOptions, json = false): LoadedRepo {
  const root = findRepoRoot(process.cwd(), options.repo);
  const loaded = loadConfig(root);
  if (!loaded.ok) {
    const problems = problemsOf([loaded.file]);
    // The same shape as `validate --json`, so a machine reads one format for "these files are invalid".
    if (json) process.stdout.write(`${JSON.stringify({ valid: false, filesChecked: 1, invalidFiles: 1, problems }, null, 2)}\n`);
    else printProblems(problems, "text", process.stderr);
    throw new ExitError(ExitCode.Invalid);
  }
  return { config: loaded.config, configFile: loaded.file };
}
