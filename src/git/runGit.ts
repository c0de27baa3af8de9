/** Running git: no shell, arguments as an array, the exit code and both outputs back. */
import { execFile } from "node:child_process";
import { UsageError } from "../errors.js";

export function git(cwd: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile("git", args, { cwd, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === "number" ? error.code : 1) : 0, stdout: stdout.trim(), stderr: stderr.trim() });
    });
  });
}

export async function gitOk(cwd: string, args: string[], what: string): Promise<string> {
  const result = await git(cwd, args);
  if (result.code !== 0) throw new UsageError("git.failed", `${what} failed: git ${args.join(" ")}: ${result.stderr || result.stdout}`);
  return result.stdout;
}
