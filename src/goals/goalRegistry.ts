/**
 * Goals as operators and agents see them: list, show with history, and status changes through
 * the state machine, each an audited event.
 */
import { InvalidInputError } from "../errors.js";
import { GOAL_STATUSES, type GoalStatus } from "../spec/types.js";
import { StaleSnapshotError } from "../store/errors.js";
import type { GoalOpsStore, GoalRecord, GoalRow, StateEventRow } from "../store/types.js";
import { TRANSITIONS, canTransition } from "./stateMachine.js";
import { DEPENDENCY_BLOCK_PREFIX, dependencyBlockReason, isDone, unmetDependencies } from "./dependencies.js";

export interface GoalDetail extends GoalRecord {
  /** Set when a requested 'active' was turned into 'blocked' because dependencies are not completed. */
  heldBlocked?: string;
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
    if (request.reason.trim() === "") throw new InvalidInputError("goal.reason_required", "a status change needs a reason (--reason, or reason in the API)", { field: "reason" });
    for (let attempt = 1; ; attempt++) {
      const goal = await this.require(goalId);
      let to: GoalStatus = request.to;
      let reason = request.reason;
      let heldBlocked: string | undefined;
      if (to === "active") {
        const unmet = await this.unmet(goal);
        if (unmet.length > 0) {
          // Not refused: held blocked with the reason, and unblocked when the dependencies complete.
          heldBlocked = dependencyBlockReason(unmet);
          if (goal.status === "blocked") throw new InvalidInputError("goal.dependencies_unmet", `goal ${goalId} stays blocked: ${heldBlocked}`, { field: "to" });
          to = "blocked";
          reason = `${heldBlocked} (asked for active: ${request.reason})`;
        }
      }
      if (!canTransition(goal.status, to)) {
        const next = TRANSITIONS[goal.status];
        throw new InvalidInputError("goal.illegal_transition", `goal ${goalId} is '${goal.status}' and cannot become '${to}'; legal next statuses: ${next.length > 0 ? next.join(", ") : "none"}`, { field: "to" });
      }
      try {
        await this.store.appendStateEvent({ goalId, from: goal.status, to, actor: request.actor, reason, ...(request.runId !== undefined ? { runId: request.runId } : {}), at: this.now().toISOString(), expectedFrom: goal.status });
        if (isDone(to)) await this.unblockDependents(goalId, request.actor);
        const detail = await this.show(goalId);
        return heldBlocked === undefined ? detail : { ...detail, heldBlocked };
      } catch (error) {
        // Someone else moved the goal between our read and our write: decide again from its new status.
        if (error instanceof StaleSnapshotError && attempt < 3) continue;
        throw error;
      }
    }
  }

  private async unmet(goal: GoalRecord) {
    const dependencies = (goal.spec.dependencies as string[] | undefined) ?? [];
    const statuses = new Map<string, GoalStatus>();
    for (const id of dependencies) {
      const dep = await this.store.getGoal(id);
      if (dep !== undefined) statuses.set(id, dep.status);
    }
    return unmetDependencies(dependencies, (id) => statuses.get(id));
  }

  /** Goals held blocked for their dependencies whose dependencies are now all done: to their intent (active) or ready. */
  private async unblockDependents(goalId: string, actor: string): Promise<void> {
    for (const dependent of await this.store.dependentGoals(goalId)) {
      if (dependent.status !== "blocked") continue;
      const lastEvent = (await this.store.goalHistory(dependent.goal_id)).at(-1);
      // Only holds for dependencies (by this registry or by sync) are lifted; a block for another reason stays.
      if (!lastEvent?.reason?.startsWith(DEPENDENCY_BLOCK_PREFIX)) continue;
      if ((await this.unmet(dependent)).length > 0) continue;
      const to: GoalStatus = dependent.status_intent === "active" ? "active" : "ready";
      try {
        await this.store.appendStateEvent({ goalId: dependent.goal_id, from: "blocked", to, actor, reason: `dependencies completed (last: ${goalId})`, at: this.now().toISOString(), expectedFrom: "blocked" });
      } catch (error) {
        if (!(error instanceof StaleSnapshotError)) throw error; // moved meanwhile: leave it to whoever moved it
      }
    }
  }

  private async require(goalId: string): Promise<GoalRecord> {
    const goal = await this.store.getGoal(goalId);
    if (goal === undefined) throw new InvalidInputError("goal.not_found", `no goal '${goalId}' in the database; run 'goalops sync' if its file is new`, { field: "goal_id" });
    return goal;
  }
}
