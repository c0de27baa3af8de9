/** The commit a working tree is at, for naming the source of a sync (`git:<path>@<commit>`). */
import { execFile } from "node:child_process";

/**
 * HEAD's full sha, or null when the folder is not a git work tree or has no commit yet. A plain
 * `git rev-parse` (no library): sync calls it on every run, and it must stay cheap.
 */
export function headCommit(root: string): Promise<string | null> {
  return new Promise((resolve) => {
    execFile("git", ["rev-parse", "--verify", "--quiet", "HEAD"], { cwd: root, timeout: 10_000 }, (error, stdout) => {
      const sha = stdout.trim();
      resolve(error === null && /^[0-9a-f]{40,64}$/.test(sha) ? sha : null);
    });
  });
}
