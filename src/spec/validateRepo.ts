/**
 * `validate` as a library call: the whole tree (plus goalops.yaml) loaded and checked, reported as
 * a flat list of problems, each with its file.
 */
import { resolve } from "node:path";
import { UsageError } from "../errors.js";
import type { ResolvedConfig } from "./config.js";
import type { SpecProblem } from "./parseYaml.js";
import type { SpecFile } from "./specFile.js";
import { listSpecFiles, loadSpecTree, toRepoPath } from "./specTree.js";

export interface FileProblem extends SpecProblem {
  /** Repository-relative path of the file. */
  file: string;
}

export interface ValidationReport {
  valid: boolean;
  /** How many files were checked (spec files plus goalops.yaml). */
  filesChecked: number;
  invalidFiles: number;
  problems: FileProblem[];
}

/** Flattens the problems of loaded files into one sorted list. */
export function problemsOf(files: readonly SpecFile[]): FileProblem[] {
  return files.flatMap((f) => (f.ok ? [] : f.problems.map((p) => ({ file: f.path, ...p }))));
}

/**
 * Validates the repository. With `only`, reports problems of just those files or folders, but still
 * checks them against the whole tree (a reference is resolved wherever its target lives).
 */
export function validateRepo(config: ResolvedConfig, configFile: SpecFile, only: readonly string[] = []): ValidationReport {
  const listed = listSpecFiles(config);
  const tree = loadSpecTree(config, listed, { withoutHashes: true });
  let files: SpecFile[] = [configFile, ...tree.files];
  if (only.length > 0) {
    const wanted = only.map((p) => toRepoPath(config.root, resolve(p)));
    const outside = wanted.filter((w) => w.startsWith(".."));
    if (outside.length > 0) throw new UsageError("validate.outside_repo", `${outside.join(", ")}: not inside the repository ${config.root}`);
    const matches = (path: string) => wanted.some((w) => w === "" || path === w || path.startsWith(`${w}/`));
    files = files.filter((f) => matches(f.path));
    const unmatched = wanted.filter((w) => w !== "" && !files.some((f) => f.path === w || f.path.startsWith(`${w}/`)));
    if (unmatched.length > 0) {
      throw new UsageError("validate.not_spec_file", `${unmatched.join(", ")}: not a spec file of this repository (goalops reads *.yaml and *.yml under ${config.paths.goals}/, ${config.paths.lessons}/, ${config.paths.playbooks}/, and goalops.yaml)`);
    }
  }
  const problems = problemsOf(files);
  return { valid: problems.length === 0, filesChecked: files.length, invalidFiles: files.filter((f) => !f.ok).length, problems };
}
