/**
 * Open loops: work a goal is waiting on (a retry, a clarification, a follow-up), linked to its goal
 * and run, with a due time. They live in the database, so they survive restarts.
 */
import { intervalMs } from "../spec/interval.js";
import { InvalidInputError } from "../errors.js";
import { newPrefixedId } from "../ids.js";
import type { GoalOpsStore, LoopKind, OpenLoopRecord } from "../store/types.js";

export const LOOP_KINDS: readonly LoopKind[] = ["retry", "clarification", "follow_up"];

export interface AddLoopOptions {
  kind: string;
  description: string;
  goalId?: string;
  runId?: string;
  /** When it is due: an ISO 8601 time, or an interval from now ('15m', '2h', '1d'). */
  due?: string;
}

/** An ISO time, or now plus an interval such as 90s, 15m, 2h, 1d, 1w. */
export function parseDue(due: string, now: Date): Date | undefined {
  const ms = intervalMs(due);
  if (ms !== undefined) return new Date(now.getTime() + ms);
  const date = new Date(due);
  return /^\d{4}-\d{2}-\d{2}/.test(due) && !Number.isNaN(date.getTime()) ? date : undefined;
}

export class OpenLoops {
  constructor(private readonly store: GoalOpsStore, private readonly now: () => Date = () => new Date()) {}

  async add(options: AddLoopOptions): Promise<OpenLoopRecord> {
    if (!(LOOP_KINDS as readonly string[]).includes(options.kind)) throw new InvalidInputError("loop.bad_kind", `kind '${options.kind}' is not one of: ${LOOP_KINDS.join(", ")}`, { field: "kind" });
    if (options.description.trim() === "") throw new InvalidInputError("loop.no_description", "an open loop needs a description", { field: "description" });
    if (options.goalId === undefined && options.runId === undefined) throw new InvalidInputError("loop.unlinked", "an open loop belongs to a goal or a run: give --goal or --run (goal_id or run_id in the API)", { field: "goal_id" });
    let goalId = options.goalId ?? null;
    if (options.runId !== undefined) {
      const run = await this.store.getRun(options.runId);
      if (run === undefined) throw new InvalidInputError("run.not_found", `no run '${options.runId}'`, { field: "run_id" });
      if (goalId !== null && goalId !== run.goal_id) throw new InvalidInputError("loop.goal_mismatch", `run ${run.run_id} belongs to goal ${run.goal_id}, not ${goalId}`, { field: "goal_id" });
      goalId = run.goal_id;
    }
    if (goalId !== null && (await this.store.getGoal(goalId)) === undefined) throw new InvalidInputError("goal.not_found", `no goal '${goalId}' in the database`, { field: "goal_id" });
    const now = this.now();
    const due = options.due === undefined ? null : parseDue(options.due, now);
    if (due === undefined) throw new InvalidInputError("loop.bad_due", `due (--due) ${options.due}: expected an ISO 8601 time or an interval such as 15m, 2h, 1d`, { field: "due_at" });
    return this.store.addLoop({ loopId: newPrefixedId("loop_"), goalId, runId: options.runId ?? null, kind: options.kind as LoopKind, description: options.description, dueAt: due === null ? null : due.toISOString(), at: now.toISOString() });
  }

  list(filter: { goalId?: string; includeResolved?: boolean } = {}): Promise<OpenLoopRecord[]> {
    return this.store.listLoops({ ...(filter.goalId !== undefined ? { goalId: filter.goalId } : {}), includeResolved: filter.includeResolved ?? false });
  }

  resolve(loopId: string, resolution?: string): Promise<OpenLoopRecord> {
    return this.store.resolveLoop({ loopId, resolution: resolution ?? null, at: this.now().toISOString() });
  }
}
