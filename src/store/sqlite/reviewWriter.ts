/**
 * Writes a learning cycle's reviews while its pass over the ledger goes on: first every failed or
 * partial run's review of the window (one INSERT ... SELECT: 1.5-2 s at a million runs), then the
 * notable successes' as the pass finds them (63,000 rows at random places of the reviews' table at
 * a million runs), kept aside and written in key order at the end. In a worker thread with a
 * connection of its own, so that the pass has the other core; or, where no worker can run or the
 * writes must be seen by this connection, in this thread: the same steps either way.
 */
import { isMainThread, parentPort, workerData } from "node:worker_threads";
import type { ReviewedGoal, ReviewWriter, ReviewWrite } from "../types.js";
import { errorFromWorker, startWorker, type WorkerFailure, workerFailure } from "./workerThread.js";
import { type OpenOptions, openDatabase, type SqliteDatabase } from "./database.js";
import { insertFailureReviews, insertStagedReviews, stageReviews, unstageReviews } from "./learningOperations.js";

export interface ReviewJob {
  window: { since: string; until: string };
  goals: readonly ReviewedGoal[];
  at: string;
}

type ToWorker = { reviews: readonly ReviewWrite[] } | { discard: readonly string[] } | { finish: true } | { abort: true };
type FromWorker = { made: number } | WorkerFailure;

const WORKER_FILE = new URL(import.meta.url);

/**
 * The write's steps on one connection, in whichever thread: the failed runs' reviews at once, the
 * reviews added kept aside (stageReviews) and written in key order by `finish`.
 */
class ReviewSteps {
  private readonly made: number;

  constructor(
    private readonly db: SqliteDatabase,
    job: ReviewJob,
  ) {
    this.made = insertFailureReviews(db, job.window, job.goals, job.at);
  }

  add(reviews: readonly ReviewWrite[]): void {
    stageReviews(this.db, reviews);
  }

  discard(runIds: readonly string[]): void {
    unstageReviews(this.db, runIds);
  }

  finish(): number {
    return this.made + insertStagedReviews(this.db);
  }
}

/** The writer in this thread, on `db`, each step through `write` in turn (the caller's transaction, if any, holds them). */
export function reviewWriterHere(db: SqliteDatabase, job: ReviewJob, write: <T>(op: () => T) => Promise<T>): ReviewWriter {
  const steps = write(() => new ReviewSteps(db, job));
  let queue: Promise<unknown> = steps;
  const next = <T>(step: (s: ReviewSteps) => T): Promise<T> => {
    const done = queue.then(() => steps).then((s) => write(() => step(s)));
    queue = done;
    return done;
  };
  return {
    // A failure here surfaces from finish(), which waits for every step before it.
    add: (reviews) => void next((s) => s.add(reviews)).catch(() => undefined),
    discard: (runIds) => void next((s) => s.discard(runIds)).catch(() => undefined),
    finish: () => next((s) => s.finish()),
    // The steps queued go on in this thread's order, each a transaction of its own, as they would have.
    abort: () => undefined,
  };
}

/**
 * The writer in a worker thread with its own connection to `path`; undefined when no worker can
 * run this module (the TypeScript sources under a test runner).
 */
export function reviewWriterInWorker(path: string, options: OpenOptions, job: ReviewJob): ReviewWriter | undefined {
  const worker = startWorker(WORKER_FILE, { path, options, job });
  if (worker === undefined) return undefined;
  const done = new Promise<number>((resolve, reject) => {
    let answered = false;
    worker.once("message", (message: FromWorker) => {
      answered = true;
      if ("error" in message) reject(errorFromWorker("writing the reviews", message));
      else resolve(message.made);
    });
    worker.once("error", (error) => {
      answered = true;
      reject(error);
    });
    worker.once("exit", (code) => {
      if (!answered) reject(new Error(`the review writer stopped (exit ${code}) before it answered`));
    });
  });
  // Awaited by finish(); a failure before that is not an unhandled rejection.
  done.catch(() => undefined);
  const send = (message: ToWorker) => worker.postMessage(message);
  return {
    add: (reviews) => send({ reviews }),
    discard: (runIds) => send({ discard: runIds }),
    finish: () => {
      send({ finish: true });
      return done;
    },
    // A worker waits for messages until finish: without this, a failed cycle would never exit.
    // Asked, not terminated: a worker terminated inside a SQLite call that then fails aborts the
    // whole process (better-sqlite3 cannot throw into a terminating thread).
    abort: () => send({ abort: true }),
  };
}

// The worker: the failed runs' reviews at once, then each message in turn; an error ends it.
if (!isMainThread && parentPort !== null && (workerData as { job?: ReviewJob } | undefined)?.job !== undefined) {
  const port = parentPort;
  const { path, options, job } = workerData as { path: string; options: OpenOptions; job: ReviewJob };
  let db: SqliteDatabase | undefined;
  const end = (message: FromWorker) => {
    port.postMessage(message);
    // The reviews into the database file now, while the cycle finishes in the main thread (its
    // connection's close would do it there: 80 ms at 100,000 runs).
    if (db !== undefined && "made" in message) db.pragma("wal_checkpoint(PASSIVE)");
    db?.close();
    port.close();
  };
  try {
    db = openDatabase(path, options);
    const steps = new ReviewSteps(db, job);
    port.on("message", (message: ToWorker) => {
      try {
        if ("reviews" in message) steps.add(message.reviews);
        else if ("discard" in message) steps.discard(message.discard);
        else if ("abort" in message) {
          db?.close();
          port.close();
        } else end({ made: steps.finish() });
      } catch (error) {
        end(workerFailure(error));
      }
    });
  } catch (error) {
    end(workerFailure(error));
  }
}
