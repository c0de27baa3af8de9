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
