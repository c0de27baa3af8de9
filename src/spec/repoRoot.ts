/**
 * Finding the repository, and where its spec files are by default: what a command knows before it
 * reads `goalops.yaml` (config.ts). A module of its own, without the YAML parser and the schemas,
 * so that `goalops sync` can start asking git about the tree while it loads the rest.
 */
import { existsSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { UsageError } from "../errors.js";

export const CONFIG_FILE = "goalops.yaml";

/** The spec folders when goalops.yaml does not name others (its `paths`). */
export const DEFAULT_SPEC_FOLDERS = { goals: "goals", lessons: "lessons", playbooks: "playbooks" } as const;

/** The paths whose git state decides whether the spec files changed: the folders and goalops.yaml. */
export function specPathsOf(folders: { goals: string; lessons: string; playbooks: string }): string[] {
  return [folders.goals, folders.lessons, folders.playbooks, CONFIG_FILE];
}

/** The nearest folder at or above `start` that holds goalops.yaml; `explicit` (--repo) wins. */
export function findRepoRoot(start: string, explicit?: string): string {
  if (explicit !== undefined) {
    const root = resolve(explicit);
    if (!existsSync(root) || !statSync(root).isDirectory()) throw new UsageError("repo.not_found", `--repo ${explicit}: no such folder`);
    if (!existsSync(join(root, CONFIG_FILE))) throw new UsageError("repo.no_config", `--repo ${explicit}: no ${CONFIG_FILE} in ${root}; run 'goalops init ${explicit}' to create one`);
    return root;
  }
  let dir = resolve(start);
  for (;;) {
    if (existsSync(join(dir, CONFIG_FILE))) return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new UsageError("repo.not_found", `no ${CONFIG_FILE} in ${resolve(start)} or any folder above it; run 'goalops init' to create one, or pass --repo DIR`);
    dir = parent;
  }
}
