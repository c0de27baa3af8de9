/**
 * Key-result values over time: recording them, their history, and the progress and health they
 * give a key result or an objective (rules in krProgress.ts).
 */
import { InvalidInputError } from "../errors.js";
import type { KeyResultSpec } from "../spec/types.js";
import type { GoalOpsStore, GoalRecord, KeyResultValueRow } from "../store/types.js";
import { deadlineOf, type Health, health, krProgress, worstHealth } from "./krProgress.js";

export interface KeyResultValue extends KeyResultValueRow {
  progress: number;
}

export interface KeyResultSummary {
  goal_id: string;
  title: string;
  signal: KeyResultSpec;
  latest: KeyResultValue | null;
  progress: number | null;
  health: Health;
}

export interface KeyResultHistory extends KeyResultSummary {
  values: KeyResultValue[];
}

export interface ObjectiveProgress {
  goal_id: string;
  title: string;
  progress: number | null;
  health: Health;
  keyResults: KeyResultSummary[];
}

export interface RecordOptions {
  /** When the value was measured (ISO 8601); default: now. */
  at?: string;
  source?: string;
  runId?: string;
}

export class KeyResultTracker {
  /** `now`: the tracker's clock (tests pass a fixed one). */
  constructor(private readonly store: GoalOpsStore, readonly now: () => Date = () => new Date()) {}

  async record(goalId: string, value: number, options: RecordOptions = {}): Promise<KeyResultSummary> {
    const goal = await this.requireKeyResult(goalId);
    if (goal.archived_at !== null) throw new InvalidInputError("kr.archived", `key result ${goalId} is archived; values are no longer recorded for it`, { field: "goal_id" });
    if (!Number.isFinite(value)) throw new InvalidInputError("kr.bad_value", `value ${String(value)} is not a finite number`, { field: "value" });
    const recordedAt = options.at === undefined ? this.now() : new Date(options.at);
    if (options.at !== undefined && (Number.isNaN(recordedAt.getTime()) || !/^\d{4}-\d{2}-\d{2}/.test(options.at))) {
      throw new InvalidInputError("kr.bad_time", `at (--at) ${options.at}: not an ISO 8601 date-time (such as 2026-11-24T09:00:00Z)`, { field: "at" });
    }
    // A value that names a run must name a real one: the learning cycle follows that link.
    if (options.runId !== undefined && (await this.store.getRun(options.runId)) === undefined) {
      throw new InvalidInputError("run.not_found", `no run '${options.runId}' (run_id of the value)`, { field: "run_id" });
    }
    await this.store.recordKeyResultValue({ goalId, value, recordedAt: recordedAt.toISOString(), source: options.source ?? null, runId: options.runId ?? null, at: this.now().toISOString() });
    return this.summarize(goal, (await this.store.latestKeyResultValues([goalId])).get(goalId) ?? null);
  }

  /** A key result's latest value, progress and health. */
  async summary(goalId: string): Promise<KeyResultSummary> {
    const goal = await this.requireKeyResult(goalId);
    return this.summarize(goal, (await this.store.latestKeyResultValues([goalId])).get(goalId) ?? null);
  }

  async history(goalId: string, limit = 1000): Promise<KeyResultHistory> {
    const goal = await this.requireKeyResult(goalId);
    const signal = signalOf(goal);
    const values = (await this.store.keyResultHistory(goalId, limit)).map((v) => ({ ...v, progress: krProgress(signal, v.value) }));
    return { ...this.summarize(goal, (await this.store.latestKeyResultValues([goalId])).get(goalId) ?? null), values };
  }

  /** An objective's progress (mean of its key results that have a value) and health (the worst of theirs). */
  async objective(goalId: string): Promise<ObjectiveProgress> {
    const goal = await this.store.getGoal(goalId);
    if (goal === undefined) throw new InvalidInputError("goal.not_found", `no goal '${goalId}' in the database`, { field: "goal_id" });
    const krs = (await this.store.childGoals(goalId)).filter((g) => g.goal_type === "key_result");
    const latest = await this.store.latestKeyResultValues(krs.map((k) => k.goal_id));
    const now = this.now();
    const keyResults = krs.map((k) => this.summarize(k, latest.get(k.goal_id) ?? null, now));
    const measured = keyResults.flatMap((k) => (k.progress === null ? [] : [k.progress]));
    return {
      goal_id: goal.goal_id,
      title: goal.title,
      progress: measured.length === 0 ? null : measured.reduce((a, b) => a + b, 0) / measured.length,
      health: worstHealth(keyResults.map((k) => k.health)),
      keyResults,
    };
  }

  /**
   * Progress and health of a key result from its record and latest value (no database access),
   * at `now` (default: the tracker's clock; a report over many key results reads it once).
   */
  summarize(goal: Pick<GoalRecord, "goal_id" | "title" | "created_at" | "spec">, latestRow: KeyResultValueRow | null, now: Date = this.now()): KeyResultSummary {
    const signal = signalOf(goal);
    const latest = latestRow === null ? null : { ...latestRow, progress: krProgress(signal, latestRow.value) };
    const progress = latest?.progress ?? null;
    const deadline = deadlineOf(goal.spec.time_horizon as string | undefined);
    return { goal_id: goal.goal_id, title: goal.title, signal, latest, progress, health: health(progress, new Date(goal.created_at), deadline, now) };
  }

  private async requireKeyResult(goalId: string): Promise<GoalRecord> {
    const goal = await this.store.getGoal(goalId);
    if (goal === undefined) throw new InvalidInputError("goal.not_found", `no goal '${goalId}' in the database; run 'goalops sync' if its file is new`, { field: "goal_id" });
    if (goal.goal_type !== "key_result") {
      throw new InvalidInputError("kr.not_key_result", `goal ${goalId} is ${goal.goal_type === "objective" ? "an" : "a"} ${goal.goal_type}, not a key_result: values are recorded on key results`, { field: "goal_id" });
    }
    return goal;
  }
}

function signalOf(goal: Pick<GoalRecord, "spec">): KeyResultSpec {
  return goal.spec.key_result as KeyResultSpec;
}
