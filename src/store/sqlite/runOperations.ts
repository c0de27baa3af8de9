/** The run ledger on SQLite: each operation one IMMEDIATE transaction. */
import { InvalidInputError } from "../../errors.js";
import type { FinishedRunWrite, RunFinish, RunRecord, RunStart } from "../types.js";
import { cached, type SqliteDatabase, transaction } from "./database.js";

const JSON_COLUMNS = ["actions_taken", "metrics_before", "metrics_after", "lesson_candidates", "context_lessons", "context_rules", "checkpoint_state", "dispatch"] as const;

/** A run from its row, as read (the row is changed in place: every caller passes one just read). */
export function toRun(row: Record<string, unknown> | undefined): RunRecord | undefined {
  if (row === undefined) return undefined;
  const run = row;
  // A row of some columns only (a review's, say) has the rest undefined: left as they are.
  for (const column of JSON_COLUMNS) if (run[column] !== undefined) run[column] = run[column] === null ? null : JSON.parse(run[column] as string);
  return run as unknown as RunRecord;
}

export function getRun(db: SqliteDatabase, runId: string): RunRecord | undefined {
  return toRun(cached(db, "SELECT * FROM goal_runs WHERE run_id = ?").get(runId) as Record<string, unknown> | undefined);
}

/** The idempotent start: the run already started with this key, or a new one. */
function startRunBody(db: SqliteDatabase, start: RunStart): { run: RunRecord; existing: boolean } {
  if (start.idempotencyKey !== null) {
    const existing = toRun(cached(db, "SELECT * FROM goal_runs WHERE idempotency_key = ?").get(start.idempotencyKey) as Record<string, unknown> | undefined);
    if (existing !== undefined) {
      if (existing.goal_id !== start.goalId) {
        throw new InvalidInputError("run.idempotency_conflict", `idempotency key '${start.idempotencyKey}' was used for run ${existing.run_id} of goal ${existing.goal_id}, not ${start.goalId}`, { field: "idempotency_key" });
      }
      return { run: existing, existing: true };
    }
  }
  const attempt = nextAttempt(db, start.goalId, start.jobId);
  cached(db, `INSERT INTO goal_runs (run_id, goal_id, job_id, attempt, plan_summary, metrics_before, run_state, idempotency_key,
      context_lessons, context_rules, started_at, created_at, updated_at)
    VALUES (?, ?, ?, ?, ?, ?, 'running', ?, ?, ?, ?, ?, ?)`).run(
    start.runId, start.goalId, start.jobId, attempt, start.planSummary, JSON.stringify(start.metricsBefore), start.idempotencyKey,
    JSON.stringify(start.contextLessons), JSON.stringify(start.contextRules), start.at, start.at, start.at,
  );
  // The row as written (column defaults included), without reading it back.
  const run: RunRecord = {
    run_id: start.runId, goal_id: start.goalId, job_id: start.jobId, attempt, plan_summary: start.planSummary, actions_taken: [],
    verifier_status: null, local_outcome: null, business_outcome: "unknown", failure_category: null, metrics_before: start.metricsBefore,
    metrics_after: null, duration_seconds: null, checkpoint_ref: null, checkpoint_state: null, checkpointed_at: null, run_state: "running",
    interrupted_at: null, parked_reason: null, resumed_at: null, resume_count: 0, dispatch: null, idempotency_key: start.idempotencyKey, notes: null,
    lesson_candidates: [], context_lessons: start.contextLessons, context_rules: start.contextRules, started_at: start.at, finished_at: null,
    created_at: start.at, updated_at: start.at,
  };
  return { run, existing: false };
}

/** 1 + the largest earlier attempt of this goal and job id (runs without one count together). */
function nextAttempt(db: SqliteDatabase, goalId: string, jobId: string | null): number {
  return ((cached(db, "SELECT MAX(attempt) FROM goal_runs WHERE goal_id = ? AND job_id IS ?", true).get(goalId, jobId) as number | null) ?? 0) + 1;
}

/**
 * Starting and finishing write one statement each (atomic on its own): inside a caller's
 * transaction (the daemon's group commit) they need no savepoint of their own.
 */
export function startRun(db: SqliteDatabase, start: RunStart): { run: RunRecord; existing: boolean } {
  return db.inTransaction ? startRunBody(db, start) : transaction(db, startRunBody).immediate(db, start);
}

/**
 * The finish, given the run's row as this connection wrote it at its start when it has one: then
 * one UPDATE that also checks the row is still as written, and no read (the read and its JSON were
 * a tenth of the daemon's time per run). The check covers every column another write changes
 * (a checkpoint, an interruption, a resume, a dispatch, a finish: each sets updated_at too); when
 * it fails, the run is read and finished as any other.
 */
function finishRunBody(db: SqliteDatabase, finish: RunFinish, started?: RunRecord): RunRecord {
  if (started !== undefined && started.run_id === finish.runId) {
    const duration = durationSeconds(started.started_at, finish.at);
    const changed = cached(db, `UPDATE goal_runs SET ${FINISH_COLUMNS} WHERE run_id = ? AND updated_at = ? AND run_state = 'running'
        AND checkpointed_at IS NULL AND interrupted_at IS NULL AND parked_reason IS NULL AND resume_count = 0 AND dispatch IS NULL`).run(
      ...finishValues(finish, duration), finish.runId, started.updated_at,
    ).changes;
    if (changed === 1) return finishedRecord(started, finish, duration);
  }
  const run = getRun(db, finish.runId);
  if (run === undefined) throw new InvalidInputError("run.not_found", `no run '${finish.runId}'`, { field: "run_id" });
  if (run.run_state === "finished") {
    throw new InvalidInputError("run.already_finished", `run ${finish.runId} already finished at ${run.finished_at} (${run.local_outcome}); a run is finished once`, { field: "run_id" });
  }
  const duration = durationSeconds(run.started_at, finish.at);
  cached(db, `UPDATE goal_runs SET ${FINISH_COLUMNS} WHERE run_id = ?`).run(...finishValues(finish, duration), finish.runId);
  return finishedRecord(run, finish, duration);
}

const FINISH_COLUMNS = `local_outcome = ?, verifier_status = ?, failure_category = ?, actions_taken = ?, notes = ?,
  lesson_candidates = ?, metrics_after = ?, duration_seconds = ?, run_state = 'finished', finished_at = ?, updated_at = ?`;

function finishValues(finish: RunFinish, duration: number): unknown[] {
  return [
    finish.outcome, finish.verifier, finish.failureCategory, JSON.stringify(finish.actions), finish.notes, JSON.stringify(finish.lessonCandidates),
    JSON.stringify(finish.metricsAfter), duration, finish.at, finish.at,
  ];
}

function durationSeconds(startedAt: string, finishedAt: string): number {
  return Math.max(0, (Date.parse(finishedAt) - Date.parse(startedAt)) / 1000);
}

function finishedRecord(run: RunRecord, finish: RunFinish, duration: number): RunRecord {
  return {
    ...run, local_outcome: finish.outcome, verifier_status: finish.verifier, failure_category: finish.failureCategory, actions_taken: finish.actions, notes: finish.notes,
    lesson_candidates: finish.lessonCandidates, metrics_after: finish.metricsAfter, duration_seconds: duration, run_state: "finished", finished_at: finish.at, updated_at: finish.at,
  };
}

/** Finishes a run; `started`: its row as this connection wrote it at its start, if it has it (see finishRunBody). */
export function finishRun(db: SqliteDatabase, finish: RunFinish, started?: RunRecord): RunRecord {
  return db.inTransaction ? finishRunBody(db, finish, started) : transaction(db, finishRunBody).immediate(db, finish, started);
}

/** The goal a run belongs to, without reading the run. */
export function runGoalId(db: SqliteDatabase, runId: string): string | undefined {
  return (cached(db, "SELECT goal_id FROM goal_runs WHERE run_id = ?", true).get(runId) as string | undefined) ?? undefined;
}

function checkpointRunBody(db: SqliteDatabase, entry: { runId: string; ref: string; state?: unknown; at: string }): RunRecord {
  const run = getRun(db, entry.runId);
  if (run === undefined) throw new InvalidInputError("run.not_found", `no run '${entry.runId}'`, { field: "run_id" });
  if (run.run_state === "finished") throw new InvalidInputError("run.already_finished", `run ${entry.runId} is finished; only a running run can be checkpointed`, { field: "run_id" });
  const state = entry.state === undefined ? null : entry.state;
  // A parked or interrupted run stays so (its agent may still be saving progress); the rest are checkpointed.
  const runState = run.run_state === "parked" || run.run_state === "interrupted" ? run.run_state : "checkpointed";
  cached(db, "UPDATE goal_runs SET checkpoint_ref = ?, checkpoint_state = ?, checkpointed_at = ?, run_state = ?, updated_at = ? WHERE run_id = ?").run(
    entry.ref, state === null ? null : JSON.stringify(state), entry.at, runState, entry.at, entry.runId,
  );
  return { ...run, checkpoint_ref: entry.ref, checkpoint_state: state, checkpointed_at: entry.at, run_state: runState, updated_at: entry.at };
}

export function checkpointRun(db: SqliteDatabase, entry: { runId: string; ref: string; state?: unknown; at: string }): RunRecord {
  return transaction(db, checkpointRunBody).immediate(db, entry);
}

export function listRuns(db: SqliteDatabase, filter: { goalId?: string; limit: number }): RunRecord[] {
  const rows = (filter.goalId === undefined
    ? cached(db, "SELECT * FROM goal_runs ORDER BY started_at DESC, run_id DESC LIMIT ?").all(filter.limit)
    : cached(db, "SELECT * FROM goal_runs WHERE goal_id = ? ORDER BY started_at DESC, run_id DESC LIMIT ?").all(filter.goalId, filter.limit)) as Record<string, unknown>[];
  return rows.map((r) => toRun(r) as RunRecord);
}

export function contextCandidates(db: SqliteDatabase, goalType: string) {
  const lessons = cached(db, "SELECT lesson_id, action_type, lesson_text, review_by FROM lessons WHERE goal_type = ? AND active = 1 AND archived_at IS NULL ORDER BY lesson_id").all(goalType) as { lesson_id: string; action_type: string; lesson_text: string; review_by: string | null }[];
  const rules = cached(db, "SELECT rule_id, title, applies_to_action_type, rule_text, CASE WHEN rolled_back_at IS NULL THEN activation_mode ELSE 'shadow' END AS activation_mode, canary_share FROM playbook_rules WHERE applies_to_goal_type = ? AND archived_at IS NULL ORDER BY rule_id").all(goalType) as { rule_id: string; title: string; applies_to_action_type: string; rule_text: string; activation_mode: "shadow" | "canary" | "full"; canary_share: number | null }[];
  return { lessons, rules };
}

const finishedStatements = new WeakMap<SqliteDatabase, ReturnType<typeof prepareFinished>>();

function prepareFinished(db: SqliteDatabase) {
  return {
    byKey: cached(db, "SELECT run_id, goal_id FROM goal_runs WHERE idempotency_key = ?"),
    insert: cached(db, `INSERT INTO goal_runs (run_id, goal_id, job_id, attempt, plan_summary, actions_taken, verifier_status, local_outcome,
        failure_category, metrics_before, metrics_after, duration_seconds, run_state, idempotency_key, notes, lesson_candidates,
        context_lessons, context_rules, started_at, finished_at, created_at, updated_at)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'finished', ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
  };
}

function recordFinishedRunsBody(db: SqliteDatabase, runs: readonly FinishedRunWrite[]): { runId: string; existing: boolean }[] {
  let statements = finishedStatements.get(db);
  if (statements === undefined) {
    statements = prepareFinished(db);
    finishedStatements.set(db, statements);
  }
  const { byKey, insert } = statements;
  return runs.map((r) => {
    if (r.idempotencyKey !== null) {
      const existing = byKey.get(r.idempotencyKey) as { run_id: string; goal_id: string } | undefined;
      if (existing !== undefined) {
        if (existing.goal_id !== r.goalId) throw new InvalidInputError("run.idempotency_conflict", `idempotency key '${r.idempotencyKey}' was used for run ${existing.run_id} of goal ${existing.goal_id}, not ${r.goalId}`, { field: "idempotency_key" });
        return { runId: existing.run_id, existing: true };
      }
    }
    const attempt = nextAttempt(db, r.goalId, r.jobId);
    const duration = Math.max(0, (Date.parse(r.finishedAt) - Date.parse(r.at)) / 1000);
    insert.run(
      r.runId, r.goalId, r.jobId, attempt, r.planSummary, JSON.stringify(r.actions), r.verifier, r.outcome, r.failureCategory,
      JSON.stringify(r.metricsBefore), JSON.stringify(r.metricsAfter), duration, r.idempotencyKey, r.notes, JSON.stringify(r.lessonCandidates),
      JSON.stringify(r.contextLessons), JSON.stringify(r.contextRules), r.at, r.finishedAt, r.finishedAt, r.finishedAt,
    );
    return { runId: r.runId, existing: false };
  });
}

export function recordFinishedRuns(db: SqliteDatabase, runs: readonly FinishedRunWrite[]): { runId: string; existing: boolean }[] {
  return transaction(db, recordFinishedRunsBody).immediate(db, runs);
}
