import { GoalOpsError } from "../errors.js";

/** A goal changed status between the snapshot a plan was made from and its write; plan again. */
export class StaleSnapshotError extends GoalOpsError {
  constructor(goalId: string, expected: string | null, found: string | null) {
    super("store.stale_snapshot", `goal ${goalId} is '${found ?? "absent"}', not '${expected ?? "absent"}' as planned; plan again`);
  }
}

/**
 * A scan that reads runs in the table's order met a run inserted much later than its start (a
 * writer that waited long for the lock): the runs already given were not all in start order.
 * The caller scans again, ordered by the started_at index.
 */
export class LedgerOrderLostError extends GoalOpsError {
  constructor(runId: string) {
    super("store.ledger_order_lost", `run ${runId} was recorded well after runs that started later; scan again in start order`);
  }
}

/**
 * Whether `error` says another writer held the database past the store's busy timeout (nothing
 * of the failed operation was written; it can be tried again). The store's own knowledge: SQLite
 * says SQLITE_BUSY, or an extended SQLITE_BUSY_* code.
 */
export function isStoreBusy(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" && code.startsWith("SQLITE_BUSY");
}
