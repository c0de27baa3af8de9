/**
 * Commits proposed files on a proposal branch without touching the user's working tree, index,
 * stash or current branch: the commit is made in a separate `git worktree` that is removed after.
 * An existing branch is continued, never reset, so a commit a person added to it stays.
 */
import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync, openSync, fsyncSync, closeSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { UsageError } from "../errors.js";
import { git, gitOk } from "./runGit.js";

/** ISO 8601 week, as 2026-W48. */
export function isoWeek(date: Date): string {
  const d = new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate()));
  const day = d.getUTCDay() || 7;
  d.setUTCDate(d.getUTCDate() + 4 - day);
  const yearStart = new Date(Date.UTC(d.getUTCFullYear(), 0, 1));
  const week = Math.ceil(((d.getTime() - yearStart.getTime()) / 86_400_000 + 1) / 7);
  return `${d.getUTCFullYear()}-W${String(week).padStart(2, "0")}`;
}

/** Writes a file so that a reader never sees half of it: a temp file in the same folder, fsync, rename. */
function writeAtomically(path: string, text: string): void {
  mkdirSync(dirname(path), { recursive: true });
  const temp = join(dirname(path), `.goalops-${process.pid}-${Date.now()}.tmp`);
  writeFileSync(temp, text);
  const fd = openSync(temp, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temp, path);
}

export interface CommitResult {
  branch: string;
  /** The new commit, or null when the branch already held exactly these files. */
  commit: string | null;
  /** The branch's head after (the new commit, or the head it had). */
  head: string;
  created: boolean;
}

/**
 * Commits `files` (paths relative to the goalops root) on `branch`, made from `baseBranch` (or
 * HEAD when there is no such branch) if it does not exist yet.
 */
export async function commitOnProposalBranch(root: string, options: { branch: string; baseBranch: string; files: { path: string; text: string }[]; message: string; remote?: string }): Promise<CommitResult> {
  const top = await gitOk(root, ["rev-parse", "--show-toplevel"], "finding the git repository");
  const prefix = relative(top, root);
  const check = await git(root, ["check-ref-format", "--branch", options.branch]);
  if (check.code !== 0) throw new UsageError("git.bad_branch", `'${options.branch}' is not a valid branch name (git.branch_prefix in goalops.yaml)`);
  // With a remote, what others pushed to the branch is the base: their commits are never lost.
  let remoteHead: string | null = null;
  if (options.remote !== undefined) {
    const fetched = await git(root, ["fetch", "--quiet", options.remote, `refs/heads/${options.branch}`]);
    if (fetched.code === 0) remoteHead = await gitOk(root, ["rev-parse", "FETCH_HEAD"], "reading the fetched branch");
  }
  let exists = (await git(root, ["rev-parse", "--verify", "--quiet", `refs/heads/${options.branch}`])).code === 0;
  if (!exists && remoteHead !== null) {
    await gitOk(root, ["branch", "--quiet", options.branch, remoteHead], "making the branch from the remote's");
    exists = true;
  }
  const baseExists = (await git(root, ["rev-parse", "--verify", "--quiet", `refs/heads/${options.baseBranch}`])).code === 0;
  const worktree = mkdtempSync(join(tmpdir(), "goalops-learn-"));
  rmSync(worktree, { recursive: true, force: true }); // git worktree add wants to create it
  const add = exists ? ["worktree", "add", "--quiet", worktree, options.branch] : ["worktree", "add", "--quiet", "-b", options.branch, worktree, baseExists ? options.baseBranch : "HEAD"];
  await gitOk(root, add, "making a worktree for the proposal");
  try {
    if (remoteHead !== null) {
      const merged = await git(worktree, ["merge", "--ff-only", "--quiet", remoteHead]);
      if (merged.code !== 0) throw new UsageError("git.diverged", `the branch ${options.branch} here and on ${options.remote} have diverged; merge them (git merge ${options.remote}/${options.branch} on that branch) and run again`);
    }
    for (const f of options.files) writeAtomically(join(worktree, prefix, f.path), f.text);
    const paths = options.files.map((f) => join(prefix, f.path));
    await gitOk(worktree, ["add", "--", ...paths], "staging the proposal");
    const staged = await git(worktree, ["diff", "--cached", "--quiet"]);
    if (staged.code === 0) {
      return { branch: options.branch, commit: null, head: await gitOk(worktree, ["rev-parse", "HEAD"], "reading the branch"), created: !exists };
    }
    // The user's identity when git has one; otherwise goalops's own, for this commit only.
    const identity = (await git(worktree, ["config", "user.email"])).code === 0 ? [] : ["-c", "user.name=goalops learn", "-c", "user.email=goalops@localhost"];
    await gitOk(worktree, [...identity, "commit", "--quiet", "--no-verify", "-m", options.message], "committing the proposal");
    const head = await gitOk(worktree, ["rev-parse", "HEAD"], "reading the new commit");
    return { branch: options.branch, commit: head, head, created: !exists };
  } finally {
    await git(root, ["worktree", "remove", "--force", worktree]);
    rmSync(worktree, { recursive: true, force: true });
    await git(root, ["worktree", "prune"]);
  }
}

/** Pushes the branch (never forced: a rejected push means someone else pushed; fetch and run again). */
export async function pushBranch(root: string, remote: string, branch: string): Promise<void> {
  await gitOk(root, ["push", "--quiet", remote, `refs/heads/${branch}:refs/heads/${branch}`], `pushing ${branch} to ${remote}`);
}
