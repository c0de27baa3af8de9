/**
 * Reads a scan's packs of runs (ledgerScanOperations.ts: planPacks, readPack) with two threads:
 * this one, and a worker thread with a connection of its own. SQLite's share of a scan (packing
 * the rows, about a third of it) then runs on the other core while the learning pass counts in
 * this one. The two claim packs from one shared counter: the worker pack after pack, this thread
 * only when the next pack it needs is not there yet (at the start, while the worker boots, and
 * whenever the pass outruns the worker). The texts are given in pack order whoever read them.
 *
 * The worker stays at most READ_AHEAD packs ahead of what this thread took (it waits on a shared
 * counter), so that a slow pass never has the ledger copied into its memory.
 *
 * Each thread reads in a read transaction of its own, begun when it reads its first pack: a run
 * is read once, as of the scan's start or of the moment the worker joined (tens of milliseconds
 * later). Runs recorded after the scan began lie past its last pack and are not read.
 */
import { isMainThread, parentPort, workerData } from "node:worker_threads";
import type { ScanFields } from "../types.js";
import { errorFromWorker, startWorker, type WorkerFailure, workerFailure } from "./workerThread.js";
import { type OpenOptions, openDatabase, type SqliteDatabase } from "./database.js";
import { type PackPlan, planPacks, readPack } from "./ledgerScanOperations.js";

/** Packs the worker may have read past the one this thread takes next (each about 1.5 MB of text). */
const READ_AHEAD = 4;
// The shared counters: packs this thread took (in order), the next pack to claim, and a flag set
// when no more packs are wanted.
const TAKEN = 0;
const NEXT = 1;
const STOP = 2;

type FromWorker = { pack: number; text: string | null } | { done: true } | WorkerFailure;

const WORKER_FILE = new URL(import.meta.url);

/**
 * The window's finished runs in the table's order, as packed texts (unpackRuns splits one), in
 * pack order. Reads on `db` (a connection this reader may hold a read transaction on) and, given
 * `worker` and more than one pack, in a worker thread on its own connection to that file. The
 * plan is made, and the worker started, at once. Iterated once; `close` (or the end of the
 * iteration, a `break` or an error in the loop) ends the reads and stops the worker.
 */
export class PackedRunReader implements AsyncIterable<string> {
  private readonly counters = new Int32Array(new SharedArrayBuffer(3 * Int32Array.BYTES_PER_ELEMENT));
  private readonly plan: PackPlan | undefined;
  private readonly ownTransaction: boolean;
  /** Packs read and not taken yet, by index (null: no run of the window in it). */
  private readonly read = new Map<number, string | null>();
  private failure: WorkerFailure | undefined;
  private workerDone = true;
  private closed = false;
  private wake: (() => void) | undefined;
  /** Packs this thread read itself (the rest came from the worker). */
  packsReadHere = 0;
  /** Settles when the worker has exited (at once when there is none). */
  readonly workerExited: Promise<void>;

  constructor(
    private readonly db: SqliteDatabase,
    job: { fields: ScanFields; from: string; until: string; packRows?: number },
    worker?: { path: string; options: OpenOptions },
  ) {
    this.ownTransaction = !db.inTransaction;
    if (this.ownTransaction) db.exec("BEGIN");
    this.plan = planPacks(db, job.fields, job.from, job.until, job.packRows);
    const thread =
      this.plan !== undefined && this.plan.packs >= 2 && worker !== undefined
        ? startWorker(WORKER_FILE, { path: worker.path, options: { ...worker.options, readonly: true }, plan: this.plan, counters: this.counters })
        : undefined;
    if (thread === undefined) {
      this.workerExited = Promise.resolve();
      return;
    }
    this.workerDone = false;
    thread.on("message", (message: FromWorker) => {
      if ("pack" in message) this.read.set(message.pack, message.text);
      else if ("done" in message) this.workerDone = true;
      else this.failure ??= message;
      this.wake?.();
    });
    thread.once("error", (error) => {
      this.failure ??= workerFailure(error);
      this.wake?.();
    });
    this.workerExited = new Promise((resolve) => {
      thread.once("exit", (code) => {
        if (!this.workerDone) this.failure ??= { error: `the ledger reader stopped (exit ${code}) before it finished` };
        this.wake?.();
        resolve();
      });
    });
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<string> {
    try {
      const packs = this.plan?.packs ?? 0;
      for (let next = 0; next < packs && !this.closed; next++) {
        for (let waited = false; !this.read.has(next); ) {
          if (this.failure !== undefined) throw errorFromWorker("reading the ledger", this.failure);
          // The worker's packs come in as messages, between turns of the event loop: one turn
          // first, so that this thread reads a pack only when it would otherwise wait.
          if (!this.workerDone && !waited) {
            await new Promise((resolve) => setImmediate(resolve));
            waited = true;
            continue;
          }
          waited = false;
          const claimed = Atomics.add(this.counters, NEXT, 1);
          if (claimed < packs) {
            this.read.set(claimed, readPack(this.db, this.plan as PackPlan, claimed));
            this.packsReadHere++;
          } else {
            // Every pack is claimed: the one needed is the worker's, on its way.
            await new Promise<void>((resolve) => {
              this.wake = () => {
                this.wake = undefined;
                resolve();
              };
            });
          }
        }
        const text = this.read.get(next) as string | null;
        this.read.delete(next);
        Atomics.store(this.counters, TAKEN, next + 1);
        Atomics.notify(this.counters, TAKEN);
        if (text !== null) yield text;
      }
    } finally {
      this.close();
    }
  }

  /** No more packs are wanted: the worker ends its read and exits on its own; this thread's read transaction ends. */
  close(): void {
    this.closed = true;
    Atomics.store(this.counters, STOP, 1);
    Atomics.notify(this.counters, TAKEN);
    this.read.clear();
    if (this.ownTransaction && this.db.inTransaction) this.db.exec("COMMIT");
  }
}

// The worker: claims pack after pack and posts each, waiting while it is READ_AHEAD packs past
// the one the main thread takes next; one read transaction; the connection closes whatever happens.
if (!isMainThread && parentPort !== null && (workerData as { counters?: Int32Array } | undefined)?.counters !== undefined) {
  const port = parentPort;
  const { path, options, plan, counters } = workerData as { path: string; options: OpenOptions; plan: PackPlan; counters: Int32Array };
  let message: FromWorker = { done: true };
  try {
    const db = openDatabase(path, options);
    try {
      db.exec("BEGIN");
      for (;;) {
        if (Atomics.load(counters, STOP) !== 0) break;
        const pack = Atomics.add(counters, NEXT, 1);
        if (pack >= plan.packs) break;
        for (let taken = Atomics.load(counters, TAKEN); pack - taken >= READ_AHEAD && Atomics.load(counters, STOP) === 0; taken = Atomics.load(counters, TAKEN)) {
          Atomics.wait(counters, TAKEN, taken);
        }
        if (Atomics.load(counters, STOP) !== 0) break;
        port.postMessage({ pack, text: readPack(db, plan, pack) } satisfies FromWorker);
      }
    } finally {
      db.close();
    }
  } catch (error) {
    message = workerFailure(error);
  }
  port.postMessage(message);
  port.close();
}
