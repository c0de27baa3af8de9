/**
 * Temp repositories built from an inline map of files (changesets' gitdir habit), optionally as a
 * git repository with one commit. Removed after each test file.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync, cpSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { afterAll } from "vitest";

export const PROJECT_ROOT = resolve(import.meta.dirname, "../..");

const created: string[] = [];
afterAll(() => {
  for (const dir of created) rmSync(dir, { recursive: true, force: true });
});

export type FileMap = Record<string, string | Uint8Array>;

/** A minimal valid goalops.yaml. */
export const CONFIG = "version: 1\n";

/** Writes files into a fresh temp folder; with `git`, commits them. Returns the folder. */
export function tempRepo(files: FileMap, options: { git?: boolean; schemas?: boolean } = {}): string {
  const root = mkdtempSync(join(tmpdir(), "goalops-test-"));
  created.push(root);
  writeFiles(root, { "goalops.yaml": CONFIG, ...files });
  if (options.schemas) cpSync(join(PROJECT_ROOT, "schemas"), join(root, "schemas"), { recursive: true });
  if (options.git) {
    git(root, "init", "-q", "-b", "main");
    commitAll(root, "initial");
  }
  return root;
}

export function writeFiles(root: string, files: FileMap): void {
  for (const [path, content] of Object.entries(files)) {
    const full = join(root, path);
    mkdirSync(dirname(full), { recursive: true });
    writeFileSync(full, content);
  }
}

export function git(root: string, ...args: string[]): string {
  return execFileSync("git", ["-c", "user.name=goalops test", "-c", "user.email=test@goalops.invalid", "-c", "commit.gpgsign=false", ...args], { cwd: root, encoding: "utf8" });
}

export function commitAll(root: string, message: string): string {
  git(root, "add", "-A");
  git(root, "commit", "-q", "--allow-empty", "-m", message);
  return git(root, "rev-parse", "HEAD").trim();
}
