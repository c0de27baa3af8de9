/**
 * Dependencies: a goal whose dependencies are not completed cannot become active. It is held
 * blocked, with the reason, and unblocked (to its intent: active, or else ready) when they complete.
 */
import type { GoalStatus } from "../spec/types.js";

const DONE: readonly GoalStatus[] = ["completed", "completed_with_caveats"];

/** The reason recorded when a goal is held for its dependencies; also how such a block is recognised. */
export const DEPENDENCY_BLOCK_PREFIX = "waiting on dependencies";

/** The dependencies that are not done yet, with their status ('unknown' if not in the database). */
export function unmetDependencies(dependencies: readonly string[], statusOf: (goalId: string) => GoalStatus | undefined): { goal_id: string; status: GoalStatus | "unknown" }[] {
  return dependencies.flatMap((id) => {
    const status = statusOf(id);
    return status !== undefined && DONE.includes(status) ? [] : [{ goal_id: id, status: status ?? "unknown" }];
  });
}

export function dependencyBlockReason(unmet: readonly { goal_id: string; status: string }[]): string {
  return `${DEPENDENCY_BLOCK_PREFIX}: ${unmet.map((d) => `${d.goal_id} (${d.status})`).join(", ")}`;
}

export function isDone(status: GoalStatus): boolean {
  return DONE.includes(status);
}
