/**
 * Where the spec files stand in git: the commit HEAD is at, and whether the spec paths are clean
 * (no modified, staged, untracked or ignored file under them). One `git status` answers both.
 *
 * A sync that saw a clean tree before and after reading it records that commit; a later sync that
 * finds the same commit and a clean tree knows the files are byte for byte what it synced, without
 * listing or reading them. git's own index does the stat work (with its racy-file rules), in C.
 */
import { execFile } from "node:child_process";
import { git } from "./runGit.js";

export interface GitTreeState {
  /** HEAD's full sha, or null before the first commit. */
  head: string | null;
  /** Whether nothing under the given paths differs from HEAD (ignored files count as differences). */
  clean: boolean;
}

/** The state of `paths` (relative to `root`) in git, or null when `root` is not in a git work tree. */
export function gitTreeState(root: string, paths: readonly string[]): Promise<GitTreeState | null> {
  const args = ["status", "--porcelain=v2", "--branch", "-z", "--ignored=matching", "--untracked-files=all", "--", ...paths];
  return new Promise((resolve) => {
    execFile("git", args, { cwd: root, timeout: 30_000, maxBuffer: 64 * 1024 * 1024 }, (error, stdout) => {
      if (error !== null) {
        resolve(null);
        return;
      }
      let head: string | null = null;
      let clean = true;
      for (const record of stdout.split("\0")) {
        if (record === "") continue;
        if (record.startsWith("# branch.oid ")) {
          const oid = record.slice("# branch.oid ".length);
          head = /^[0-9a-f]{40,64}$/.test(oid) ? oid : null;
        } else if (!record.startsWith("# ")) {
          clean = false;
        }
      }
      resolve({ head, clean });
    });
  });
}

/** A `git status` of some paths, started before the caller knew whether it would need it. */
export interface StartedGitProbe {
  root: string;
  paths: readonly string[];
  state: Promise<GitTreeState | null>;
}

/** Starts `gitTreeState(root, paths)` now, to be used later if the paths are still the ones wanted. */
export function startGitProbe(root: string, paths: readonly string[]): StartedGitProbe {
  return { root, paths, state: gitTreeState(root, paths) };
}

/** HEAD's full sha, or null when the folder is not a git work tree or has no commit yet. */
export async function headCommit(root: string): Promise<string | null> {
  return (await gitTreeState(root, [".goalops-no-such-path"]))?.head ?? null;
}

/** The absolute path of the repository's git folder (.git, or a worktree's), or null outside git. */
export async function gitDirectory(root: string): Promise<string | null> {
  const result = await git(root, ["rev-parse", "--absolute-git-dir"]);
  return result.code === 0 && result.stdout !== "" ? result.stdout : null;
}
