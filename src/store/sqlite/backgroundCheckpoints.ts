/**
 * WAL checkpoints on a thread of their own, for the daemon.
 *
 * An automatic checkpoint runs inside the commit that crosses the threshold and waits there for
 * two fsyncs (the WAL's, then the database's): under a stream of recorded runs that was a tenth of
 * the daemon's time (measured with strace: ~18 ms a checkpoint, one every few hundred commits).
 * Here a worker thread with a connection of its own runs a PASSIVE checkpoint every
 * `intervalMs`: it copies what the WAL holds while the daemon goes on committing (SQLite runs one
 * checkpointer beside the writer), and once it has copied everything the daemon's next commit
 * starts the WAL over, so the file stays small. The daemon's own connection keeps an automatic
 * checkpoint at a far higher threshold, for the case this thread stops.
 *
 * The worker is code evaluated from a string (not a file beside this one): the same code runs from
 * dist/ and from the sources under test, and it loads better-sqlite3 from the path this module
 * resolves, wherever goalops is installed.
 */
import { createRequire } from "node:module";
import { Worker } from "node:worker_threads";

const require = createRequire(import.meta.url);

const WORKER_SOURCE = `
const { parentPort, workerData } = require("node:worker_threads");
const Database = require(workerData.sqlitePath);
const db = new Database(workerData.path, { fileMustExist: true });
db.pragma("busy_timeout = 0");
db.pragma("wal_autocheckpoint = 0");
let checkpoints = 0;
const timer = setInterval(() => {
  try {
    db.pragma("wal_checkpoint(PASSIVE)");
    checkpoints++;
  } catch (error) {
    // Busy (another checkpoint under way) or a transient error: the next tick tries again.
    if (error.code !== "SQLITE_BUSY" && error.code !== "SQLITE_LOCKED") parentPort.postMessage({ error: String(error.message) });
  }
}, workerData.intervalMs);
parentPort.on("message", (message) => {
  if (message === "stop") {
    clearInterval(timer);
    db.close();
    parentPort.postMessage({ stopped: true, checkpoints });
    parentPort.close();
  }
});
`;

export interface BackgroundCheckpointOptions {
  /** How often the worker checkpoints (default 1 s: more often copied the same hot pages again and again). */
  intervalMs?: number;
  /** Called with what went wrong when the worker fails (it then stops; the connection's own automatic checkpoint takes over). */
  onError?: (message: string) => void;
}

export class BackgroundCheckpoints {
  private stopped = false;
  private readonly exited: Promise<void>;

  private constructor(private readonly worker: Worker) {
    this.exited = new Promise((resolve) => worker.once("exit", () => resolve()));
  }

  /** Starts the worker on the database file at `path` (in WAL mode, opened by the caller). */
  static start(path: string, options: BackgroundCheckpointOptions = {}): BackgroundCheckpoints {
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { path, sqlitePath: require.resolve("better-sqlite3"), intervalMs: options.intervalMs ?? 1000 },
    });
    // The worker must not keep a process alive that is otherwise done.
    worker.unref();
    const checkpoints = new BackgroundCheckpoints(worker);
    worker.on("message", (message: { error?: string }) => {
      if (message.error !== undefined) options.onError?.(message.error);
    });
    worker.on("error", (error) => {
      options.onError?.(error.message);
    });
    return checkpoints;
  }

  /** Stops the worker and closes its connection (before the caller closes its own). */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.worker.postMessage("stop");
    const timeout = setTimeout(() => void this.worker.terminate(), 2_000);
    try {
      await this.exited;
    } finally {
      clearTimeout(timeout);
    }
  }
}
