/**
 * Starting the store's worker threads (reviewWriter.ts, ledgerReader.ts), and the failures they
 * send back. A worker inherits the process's node options (a profiler's, a memory limit), but
 * not those that say what the process itself runs: under `node --input-type=module -e '...'` a
 * worker given them fails to start (ERR_INPUT_TYPE_NOT_ALLOWED).
 */
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";

/** Options naming the main script's source, each followed by its value unless given as --opt=value. */
const SOURCE_OPTIONS = new Set(["-e", "--eval", "-p", "--print", "--input-type"]);

/** The process's node options, less those naming what the main thread runs. */
export function workerExecArgv(execArgv: readonly string[] = process.execArgv): string[] {
  const kept: string[] = [];
  for (let i = 0; i < execArgv.length; i++) {
    const option = execArgv[i] as string;
    if (SOURCE_OPTIONS.has(option)) i++;
    else if (![...SOURCE_OPTIONS].some((o) => o.startsWith("--") && option.startsWith(`${o}=`))) kept.push(option);
  }
  return kept;
}

/**
 * A worker thread running the module at `file` with `workerData`; undefined when that module
 * cannot be a worker (the TypeScript sources under a test runner, not the compiled JavaScript).
 */
export function startWorker(file: URL, workerData: unknown): Worker | undefined {
  if (!file.pathname.endsWith(".js") || !existsSync(fileURLToPath(file))) return undefined;
  return new Worker(file, { workerData, execArgv: workerExecArgv() });
}

/** A failure as a worker posts it: the message, and the SQLite error code when there is one (SQLITE_BUSY: isStoreBusy). */
export interface WorkerFailure {
  error: string;
  code?: string;
}

/** What a worker posts when `error` ended its work. */
export function workerFailure(error: unknown): WorkerFailure {
  const code = (error as { code?: unknown } | null)?.code;
  return { error: error instanceof Error ? error.message : String(error), ...(typeof code === "string" ? { code } : {}) };
}

/** The error this thread throws for a worker's failure: `what` failed, with the worker's message and code. */
export function errorFromWorker(what: string, failure: WorkerFailure): Error {
  return Object.assign(new Error(`${what} failed: ${failure.error}`), failure.code !== undefined ? { code: failure.code } : {});
}
