import { GoalOpsError } from "../errors.js";

/** A goal changed status between the snapshot a plan was made from and its write; plan again. */
export class StaleSnapshotError extends GoalOpsError {
  constructor(goalId: string, expected: string | null, found: string | null) {
    super("store.stale_snapshot", `goal ${goalId} is '${found ?? "absent"}', not '${expected ?? "absent"}' as planned; plan again`);
  }
}
