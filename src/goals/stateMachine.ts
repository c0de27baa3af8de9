/**
 * The goal state machine of PRD section 4, as one transition table. Every status change anywhere in
 * goalops goes through `canTransition`; sync reaches a file's status intent by `pathToStatus`.
 */
import type { GoalStatus } from "../spec/types.js";

/**
 * Legal next states. Beyond the PRD's diagram: any non-archived goal may be archived (a deleted
 * file or an `archived` intent), an archived goal may return to planned (its file restored), a
 * blocked goal returns to ready or active when what blocked it clears, and waiting/retrying return
 * to active.
 */
export const TRANSITIONS: Readonly<Record<GoalStatus, readonly GoalStatus[]>> = {
  planned: ["ready", "blocked", "archived"],
  ready: ["active", "planned", "blocked", "archived"],
  active: ["waiting", "retrying", "blocked", "checkpointed", "completed", "completed_with_caveats", "failed", "archived"],
  waiting: ["active", "retrying", "blocked", "failed", "archived"],
  retrying: ["active", "waiting", "blocked", "failed", "archived"],
  blocked: ["ready", "active", "failed", "archived"],
  checkpointed: ["active", "failed", "archived"],
  completed: ["archived"],
  completed_with_caveats: ["archived"],
  failed: ["archived"],
  archived: ["planned"],
};

export function canTransition(from: GoalStatus, to: GoalStatus): boolean {
  return TRANSITIONS[from].includes(to);
}

/**
 * The shortest chain of legal transitions from one status to another (excluding `from`), or
 * undefined when `to` cannot be reached. Passing through `avoid` states is not allowed: sync never
 * walks a goal through blocked, failed, completed or archived (and back) to reach an intent.
 */
export function pathToStatus(from: GoalStatus, to: GoalStatus, avoid: readonly GoalStatus[] = ["blocked", "failed", "completed", "completed_with_caveats", "waiting", "retrying", "checkpointed", "archived"]): GoalStatus[] | undefined {
  if (from === to) return [];
  const previous = new Map<GoalStatus, GoalStatus>();
  const queue: GoalStatus[] = [from];
  const seen = new Set<GoalStatus>([from]);
  while (queue.length > 0) {
    const current = queue.shift() as GoalStatus;
    for (const next of TRANSITIONS[current]) {
      if (seen.has(next) || (next !== to && avoid.includes(next))) continue;
      seen.add(next);
      previous.set(next, current);
      if (next === to) {
        const path: GoalStatus[] = [to];
        let step = current;
        while (step !== from) {
          path.unshift(step);
          step = previous.get(step) as GoalStatus;
        }
        return path;
      }
      queue.push(next);
    }
  }
  return undefined;
}
