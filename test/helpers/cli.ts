/** Runs the built CLI (dist/cli/main.js) as a subprocess, as a user would. */
import { execa } from "execa";
import { join } from "node:path";
import { validTree } from "./specs.js";
import { PROJECT_ROOT, tempRepo } from "./tempRepo.js";

export const CLI = join(PROJECT_ROOT, "dist/cli/main.js");

export interface CliResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export async function runCli(args: string[], options: { cwd?: string; input?: string; env?: Record<string, string>; timeoutMs?: number } = {}): Promise<CliResult> {
  const result = await execa(process.execPath, [CLI, ...args], {
    cwd: options.cwd ?? PROJECT_ROOT,
    reject: false,
    // A process that does not exit by then is killed (its exit code then reads -1).
    ...(options.timeoutMs !== undefined ? { timeout: options.timeoutMs } : {}),
    env: { NO_COLOR: "1", ...options.env },
    ...(options.input !== undefined ? { input: options.input } : {}),
  });
  return { exitCode: result.exitCode ?? -1, stdout: String(result.stdout), stderr: String(result.stderr) };
}

/** Runs the CLI and parses its stdout as JSON. */
export async function runCliJson<T = unknown>(args: string[], options: { cwd?: string } = {}): Promise<CliResult & { json: T }> {
  const result = await runCli(args, options);
  let json: T;
  try {
    json = JSON.parse(result.stdout) as T;
  } catch {
    throw new Error(`stdout is not JSON (exit ${result.exitCode}):\n${result.stdout}\n${result.stderr}`);
  }
  return { ...result, json };
}

/** A temp repository holding `files` (default: the small valid tree), synced by the real CLI. */
export async function syncedRepo(files: Record<string, string> = validTree(), options: { git?: boolean } = {}): Promise<string> {
  const root = tempRepo(files, options);
  const sync = await runCli(["sync"], { cwd: root });
  if (sync.exitCode !== 0) throw new Error(`sync failed in the test repository (exit ${sync.exitCode}):\n${sync.stdout}\n${sync.stderr}`);
  return root;
}
