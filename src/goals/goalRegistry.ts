/**
 * Goals as operators and agents see them: list, show with history, and status changes through
 * the state machine, each an audited event.
 */
import { InvalidInputError } from "../errors.js";
import { GOAL_STATUSES, type GoalStatus } from "../spec/types.js";
import { StaleSnapshotError } from "../store/errors.js";
import type { GoalOpsStore, GoalRecord, GoalRow, StateEventRow } from "../store/types.js";
import { TRANSITIONS, canTransition } from "./stateMachine.js";

export interface GoalDetail extends GoalRecord {
  history: StateEventRow[];
  /** The statuses the machine allows next. */
  nextStatuses: readonly GoalStatus[];
}

export interface TransitionRequest {
  to: string;
  reason: string;
  /** Who asks: `cli:<user>`, `agent:<id>`, `daemon`. */
  actor: string;
  runId?: string;
}

export function isGoalStatus(value: string): value is GoalStatus {
  return (GOAL_STATUSES as readonly string[]).includes(value);
}

export class GoalRegistry {
  constructor(private readonly store: GoalOpsStore, private readonly now: () => Date = () => new Date()) {}

  list(options: { includeArchived?: boolean } = {}): Promise<GoalRow[]> {
    return this.store.listGoals(options);
  }

  async show(goalId: string): Promise<GoalDetail> {
    const goal = await this.require(goalId);
    return { ...goal, history: await this.store.goalHistory(goalId), nextStatuses: TRANSITIONS[goal.status] };
  }

  /** Moves a goal to `to` if the state machine allows it from its current status; returns the new state. */
  async transition(goalId: string, request: TransitionRequest): Promise<GoalDetail> {
    if (!isGoalStatus(request.to)) {
      throw new InvalidInputError("goal.unknown_status", `'${request.to}' is not a goal status; statuses: ${GOAL_STATUSES.join(", ")}`, { field: "to" });
    }
    if (request.reason.trim() === "") throw new InvalidInputError("goal.reason_required", "a status change needs a reason (--reason)", { field: "reason" });
    const to = request.to;
    for (let attempt = 1; ; attempt++) {
      const goal = await this.require(goalId);
      if (!canTransition(goal.status, to)) {
        const next = TRANSITIONS[goal.status];
        throw new InvalidInputError("goal.illegal_transition", `goal ${goalId} is '${goal.status}' and cannot become '${to}'; legal next statuses: ${next.length > 0 ? next.join(", ") : "none"}`, { field: "to" });
      }
      try {
        await this.store.appendStateEvent({ goalId, from: goal.status, to, actor: request.actor, reason: request.reason, ...(request.runId !== undefined ? { runId: request.runId } : {}), at: this.now().toISOString(), expectedFrom: goal.status });
        return this.show(goalId);
      } catch (error) {
        // Someone else moved the goal between our read and our write: decide again from its new status.
        if (error instanceof StaleSnapshotError && attempt < 3) continue;
        throw error;
      }
    }
  }

  private async require(goalId: string): Promise<GoalRecord> {
    const goal = await this.store.getGoal(goalId);
    if (goal === undefined) throw new InvalidInputError("goal.not_found", `no goal '${goalId}' in the database; run 'goalops sync' if its file is new`, { field: "goal_id" });
    return goal;
  }
}
