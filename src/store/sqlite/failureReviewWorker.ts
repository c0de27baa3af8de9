/**
 * A worker thread that writes a window's failed and partial runs' reviews with a connection of
 * its own (learningOperations.insertFailureReviews), so that the learning cycle's pass over the
 * ledger goes on meanwhile on the other core: at a million runs the write takes 1.5-2 s.
 */
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";
import type { ReviewedGoal } from "../types.js";
import { type OpenOptions, openDatabase } from "./database.js";
import { insertFailureReviews } from "./learningOperations.js";

interface FailureReviewJob {
  path: string;
  options: OpenOptions;
  window: { since: string; until: string };
  goals: readonly ReviewedGoal[];
  at: string;
}

const WORKER_FILE = new URL(import.meta.url);

/**
 * Starts the write in a worker thread; resolves to how many reviews it made. Undefined when no
 * worker can run this module (the TypeScript sources under a test runner): write in this thread.
 */
export function writeFailureReviewsInWorker(job: FailureReviewJob): Promise<number> | undefined {
  if (!WORKER_FILE.pathname.endsWith(".js") || !existsSync(fileURLToPath(WORKER_FILE))) return undefined;
  return new Promise<number>((resolve, reject) => {
    const worker = new Worker(WORKER_FILE, { workerData: job });
    let answered = false;
    worker.once("message", (message: { made?: number; error?: string }) => {
      answered = true;
      if (message.error !== undefined) reject(new Error(message.error));
      else resolve(message.made ?? 0);
    });
    worker.once("error", (error) => {
      answered = true;
      reject(error);
    });
    worker.once("exit", (code) => {
      if (!answered) reject(new Error(`the review writer stopped (exit ${code}) before it answered`));
    });
  });
}

if (!isMainThread && parentPort !== null && (workerData as FailureReviewJob | undefined)?.path !== undefined) {
  const job = workerData as FailureReviewJob;
  const db = openDatabase(job.path, job.options);
  try {
    parentPort.postMessage({ made: insertFailureReviews(db, job.window, job.goals, job.at) });
  } catch (error) {
    parentPort.postMessage({ error: (error as Error).message });
  } finally {
    db.close();
  }
}
