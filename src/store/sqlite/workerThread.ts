/**
 * Starting the store's worker threads (reviewWriter.ts, ledgerReader.ts). A worker inherits the
 * process's node options (a profiler's, a memory limit), but not those that say what the process
 * itself runs: under `node --input-type=module -e '...'` a worker given them fails to start
 * (ERR_INPUT_TYPE_NOT_ALLOWED).
 */
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

/** A worker thread running `file` with `workerData`. */
export function startWorker(file: URL, workerData: unknown): Worker {
  return new Worker(file, { workerData, execArgv: workerExecArgv() });
}
