/**
 * Continuity on SQLite: the start and clean-shutdown marks, runs left behind by a stop, the
 * reconciliation and shutdown reports, schedule firings, watchdog alerts, dispatch records.
 * Reads that run at every start over a large ledger use the partial index of runs not finished.
 */
import { InvalidInputError } from "../../errors.js";
import type { GoalStatus } from "../../spec/types.js";
import type {
  ContinuityReportRow, GoalStatusRow, KeyResultSnapshotRow, LoopKind, OpenLoopRecord, OpenRunRow, ReconcileRunsWrite, RunCountsRow, RunDispatch,
  RunRecord, ScheduledGoalRow, ScheduleStateRow, WatchdogAlertRow,
} from "../types.js";
import { cached, type SqliteDatabase, transaction } from "./database.js";
import { getRun, toRun } from "./runOperations.js";
import { getMeta, setMeta } from "./syncOperations.js";

export function markStart(db: SqliteDatabase, at: string): { previousStartAt: string | null; lastCleanShutdownAt: string | null; unclean: boolean } {
  return db.transaction(() => {
    const previousStartAt = getMeta(db, "last_start_at");
    const lastCleanShutdownAt = getMeta(db, "last_clean_shutdown_at");
    // Unclean: a daemon started before and no clean-shutdown mark was written after that start.
    const unclean = previousStartAt !== null && (lastCleanShutdownAt === null || lastCleanShutdownAt < previousStartAt);
    setMeta(db, "last_start_at", at);
    return { previousStartAt, lastCleanShutdownAt, unclean };
  }).immediate();
}

export function markCleanShutdown(db: SqliteDatabase, at: string): void {
  setMeta(db, "last_clean_shutdown_at", at);
}

const GOAL_COLUMNS = "goal_id, goal_type, status, priority, parent_goal_id, spec_json";

function toScheduledGoal(row: Record<string, unknown>): ScheduledGoalRow {
  const { spec_json, ...rest } = row;
  return { ...(rest as Omit<ScheduledGoalRow, "spec">), spec: JSON.parse(spec_json as string) as Record<string, unknown> };
}

export function goalsInStatus(db: SqliteDatabase, statuses: readonly GoalStatus[]): GoalStatusRow[] {
  const marks = statuses.map(() => "?").join(", ");
  return db.prepare(`SELECT goal_id, goal_type, status, priority, parent_goal_id FROM goal_definitions WHERE archived_at IS NULL AND status IN (${marks}) ORDER BY priority, goal_id`).all(...statuses) as GoalStatusRow[];
}

/** Live goals of these types, with their specs (the router's candidates and the key results they serve). */
export function goalsOfType(db: SqliteDatabase, goalTypes: readonly string[]): ScheduledGoalRow[] {
  const marks = goalTypes.map(() => "?").join(", ");
  return (db.prepare(`SELECT ${GOAL_COLUMNS} FROM goal_definitions WHERE archived_at IS NULL AND goal_type IN (${marks}) ORDER BY goal_id`).all(...goalTypes) as Record<string, unknown>[]).map(toScheduledGoal);
}

/** Active goals with a cadence, each with the hash of its file version (the scheduler re-reads only what changed). */
export function scheduledGoalVersions(db: SqliteDatabase): { goal_id: string; content_hash: string }[] {
  return cached(db, "SELECT goal_id, content_hash FROM goal_definitions WHERE status = 'active' AND archived_at IS NULL AND review_cadence IS NOT NULL").all() as { goal_id: string; content_hash: string }[];
}

export function scheduledGoals(db: SqliteDatabase, goalIds?: readonly string[]): ScheduledGoalRow[] {
  const rows = goalIds === undefined
    ? cached(db, `SELECT ${GOAL_COLUMNS}, content_hash FROM goal_definitions WHERE status = 'active' AND archived_at IS NULL AND review_cadence IS NOT NULL ORDER BY goal_id`).all()
    : cached(db, `SELECT ${GOAL_COLUMNS}, content_hash FROM goal_definitions WHERE goal_id IN (SELECT value FROM json_each(?)) AND status = 'active' AND archived_at IS NULL AND review_cadence IS NOT NULL ORDER BY goal_id`).all(JSON.stringify(goalIds));
  return (rows as Record<string, unknown>[]).map(toScheduledGoal);
}

export function unfinishedRuns(db: SqliteDatabase, goalId: string): RunRecord[] {
  const rows = cached(db, "SELECT * FROM goal_runs WHERE goal_id = ? AND run_state <> 'finished' ORDER BY started_at, run_id LIMIT 100").all(goalId) as Record<string, unknown>[];
  return rows.map((r) => toRun(r) as RunRecord);
}

/**
 * Reads through the partial index of runs not finished, named: without statistics SQLite prefers
 * the started_at index for the ORDER BY and walks every run of the ledger (0.4 s at a million).
 */
export function openRuns(db: SqliteDatabase): OpenRunRow[] {
  const rows = cached(db, `SELECT r.run_id, r.goal_id, r.job_id, r.attempt, r.run_state, r.checkpoint_ref, r.started_at,
      g.archived_at IS NOT NULL AS goal_archived,
      COALESCE(json_extract(g.spec_json, '$.continuity.resume_if_checkpointed'), 1) AS resume_if_checkpointed,
      COALESCE(json_extract(g.spec_json, '$.continuity.resume_if_interrupted'), 0) AS resume_if_interrupted,
      r.dispatch IS NOT NULL AS dispatched,
      json_extract(r.dispatch, '$.pid') AS dispatch_pid,
      json_extract(r.dispatch, '$.finished_at') IS NOT NULL AS dispatch_finished
    FROM goal_runs r INDEXED BY goal_runs_open JOIN goal_definitions g ON g.goal_id = r.goal_id
    WHERE r.run_state <> 'finished' ORDER BY r.started_at, r.run_id`).all() as Record<string, unknown>[];
  return rows.map((r) => ({
    ...(r as unknown as OpenRunRow),
    goal_archived: r.goal_archived === 1,
    resume_if_checkpointed: r.resume_if_checkpointed === 1,
    resume_if_interrupted: r.resume_if_interrupted === 1,
    dispatched: r.dispatched === 1,
    dispatch_finished: r.dispatch_finished === 1,
  }));
}

function reconcileRunsBody(db: SqliteDatabase, write: ReconcileRunsWrite): void {
  const interrupt = cached(db, "UPDATE goal_runs SET run_state = 'interrupted', interrupted_at = ?, updated_at = ? WHERE run_id = ? AND run_state <> 'finished'");
  for (const id of write.interrupted) interrupt.run(write.at, write.at, id);
  const resume = cached(db, `UPDATE goal_runs SET run_state = 'running', attempt = attempt + 1, resume_count = resume_count + 1, resumed_at = ?,
    parked_reason = NULL, updated_at = ? WHERE run_id = ? AND run_state <> 'finished'`);
  for (const id of write.resumed) resume.run(write.at, write.at, id);
  const park = cached(db, "UPDATE goal_runs SET run_state = 'parked', parked_reason = ?, updated_at = ? WHERE run_id = ? AND run_state <> 'finished'");
  for (const p of write.parked) park.run(p.reason, write.at, p.runId);
}

export function reconcileRuns(db: SqliteDatabase, write: ReconcileRunsWrite): void {
  transaction(db, reconcileRunsBody).immediate(db, write);
}

function resumeRunBody(db: SqliteDatabase, entry: { runId: string; at: string }): RunRecord {
  const run = getRun(db, entry.runId);
  if (run === undefined) throw new InvalidInputError("run.not_found", `no run '${entry.runId}'`, { field: "run_id" });
  if (run.run_state === "finished") throw new InvalidInputError("run.already_finished", `run ${entry.runId} is finished; only a parked, interrupted or checkpointed run can be resumed`, { field: "run_id" });
  if (run.run_state === "running") throw new InvalidInputError("run.already_running", `run ${entry.runId} is running already`, { field: "run_id" });
  reconcileRunsBody(db, { at: entry.at, interrupted: [], resumed: [entry.runId], parked: [] });
  return getRun(db, entry.runId) as RunRecord;
}

export function resumeRun(db: SqliteDatabase, entry: { runId: string; at: string }): RunRecord {
  return transaction(db, resumeRunBody).immediate(db, entry);
}

/** Every run in flight (running, or checkpointed by its agent) is marked checkpointed now. */
function checkpointInFlightBody(db: SqliteDatabase, entry: { at: string; runIds?: readonly string[] }) {
  // `<> 'finished'` lets SQLite use the partial index of open runs; the IN alone scans the ledger.
  const select = "SELECT run_id, goal_id, checkpoint_ref FROM goal_runs WHERE run_state <> 'finished' AND run_state IN ('running', 'checkpointed')";
  const rows = (entry.runIds === undefined
    ? cached(db, select).all()
    : entry.runIds.map((id) => cached(db, `${select} AND run_id = ?`).get(id)).filter((r) => r !== undefined)) as { run_id: string; goal_id: string; checkpoint_ref: string | null }[];
  // The resume pointer stays the agent's last one; a run never checkpointed keeps none (resume policy decides).
  const update = cached(db, "UPDATE goal_runs SET run_state = 'checkpointed', checkpointed_at = ?, updated_at = ? WHERE run_id = ?");
  for (const r of rows) update.run(entry.at, entry.at, r.run_id);
  return rows;
}

export function checkpointInFlight(db: SqliteDatabase, entry: { at: string; runIds?: readonly string[] }) {
  return transaction(db, checkpointInFlightBody).immediate(db, entry);
}

export function openLoopCounts(db: SqliteDatabase, now: string): { kind: LoopKind; open: number; due: number }[] {
  return cached(db, "SELECT kind, COUNT(*) AS open, SUM(due_at IS NOT NULL AND due_at <= ?) AS due FROM open_loops WHERE loop_state = 'open' GROUP BY kind ORDER BY kind").all(now) as { kind: LoopKind; open: number; due: number }[];
}

export function dueRetryLoops(db: SqliteDatabase, now: string, limit: number, withOwnCommandOnly: boolean): OpenLoopRecord[] {
  if (!withOwnCommandOnly) return cached(db, "SELECT * FROM open_loops WHERE loop_state = 'open' AND due_at <= ? AND kind = 'retry' ORDER BY due_at, created_at LIMIT ?").all(now, limit) as OpenLoopRecord[];
  return cached(db, `SELECT l.* FROM open_loops l JOIN goal_definitions g ON g.goal_id = l.goal_id
    WHERE l.loop_state = 'open' AND l.due_at <= ? AND l.kind = 'retry' AND g.archived_at IS NULL AND json_extract(g.spec_json, '$.dispatch.command') IS NOT NULL
    ORDER BY l.due_at, l.created_at LIMIT ?`).all(now, limit) as OpenLoopRecord[];
}

export function touchLoop(db: SqliteDatabase, entry: { loopId: string; dueAt: string | null; at: string }): void {
  cached(db, "UPDATE open_loops SET attempts = attempts + 1, due_at = ?, updated_at = ? WHERE loop_id = ?").run(entry.dueAt, entry.at, entry.loopId);
}

export function lessonCountsByGoalType(db: SqliteDatabase, goalTypes: readonly string[]): { goal_type: string; lessons: number }[] {
  if (goalTypes.length === 0) return [];
  const marks = goalTypes.map(() => "?").join(", ");
  return db.prepare(`SELECT goal_type, COUNT(*) AS lessons FROM lessons WHERE active = 1 AND archived_at IS NULL AND goal_type IN (${marks}) GROUP BY goal_type ORDER BY goal_type`).all(...goalTypes) as { goal_type: string; lessons: number }[];
}

export function activeRuleCounts(db: SqliteDatabase): { mode: "canary" | "full"; rules: number }[] {
  return cached(db, "SELECT activation_mode AS mode, COUNT(*) AS rules FROM playbook_rules WHERE archived_at IS NULL AND rolled_back_at IS NULL AND activation_mode IN ('canary', 'full') GROUP BY activation_mode ORDER BY activation_mode").all() as { mode: "canary" | "full"; rules: number }[];
}

export function keyResultSnapshot(db: SqliteDatabase): KeyResultSnapshotRow[] {
  return cached(db, `SELECT g.goal_id, g.metric, g.unit, g.baseline, g.target, g.direction,
      (SELECT value FROM key_results k WHERE k.goal_id = g.goal_id ORDER BY recorded_at DESC, value_id DESC LIMIT 1) AS value,
      (SELECT recorded_at FROM key_results k WHERE k.goal_id = g.goal_id ORDER BY recorded_at DESC, value_id DESC LIMIT 1) AS recorded_at
    FROM goal_definitions g WHERE g.goal_type = 'key_result' AND g.archived_at IS NULL ORDER BY g.goal_id`).all() as KeyResultSnapshotRow[];
}

export function insertContinuityReport(db: SqliteDatabase, report: ContinuityReportRow): void {
  cached(db, "INSERT INTO continuity_reports (report_id, kind, clean, summary, markdown, started_at, finished_at) VALUES (?, ?, ?, ?, ?, ?, ?)").run(
    report.report_id, report.kind, report.clean === null ? null : report.clean ? 1 : 0, JSON.stringify(report.summary), report.markdown, report.started_at, report.finished_at,
  );
}

export function latestContinuityReport(db: SqliteDatabase, kind: "reconcile" | "shutdown"): ContinuityReportRow | undefined {
  const row = cached(db, "SELECT * FROM continuity_reports WHERE kind = ? ORDER BY started_at DESC, report_id DESC LIMIT 1").get(kind) as Record<string, unknown> | undefined;
  if (row === undefined) return undefined;
  return { ...(row as unknown as ContinuityReportRow), clean: row.clean === null ? null : row.clean === 1, summary: JSON.parse(row.summary as string) as Record<string, unknown> };
}

export function scheduleStates(db: SqliteDatabase): ScheduleStateRow[] {
  return cached(db, "SELECT goal_id, cadence, last_fired_at, last_run_id, last_outcome FROM schedule_state ORDER BY goal_id").all() as ScheduleStateRow[];
}

export function recordScheduleFiring(db: SqliteDatabase, entry: { goalId: string; cadence: string; firedAt: string; runId: string | null; outcome: string }): void {
  cached(db, `INSERT INTO schedule_state (goal_id, cadence, last_fired_at, last_run_id, last_outcome, updated_at) VALUES (?, ?, ?, ?, ?, ?)
    ON CONFLICT(goal_id) DO UPDATE SET cadence = excluded.cadence, last_fired_at = excluded.last_fired_at, last_run_id = excluded.last_run_id,
      last_outcome = excluded.last_outcome, updated_at = excluded.updated_at`).run(entry.goalId, entry.cadence, entry.firedAt, entry.runId, entry.outcome, entry.firedAt);
}

const COUNTS = `SELECT COUNT(*) FILTER (WHERE run_state = 'finished') AS finished,
    COUNT(*) FILTER (WHERE local_outcome = 'succeeded') AS succeeded,
    COUNT(*) FILTER (WHERE local_outcome = 'failed') AS failed,
    COUNT(*) FILTER (WHERE local_outcome = 'partial') AS partial,
    COUNT(*) FILTER (WHERE run_state IN ('running', 'checkpointed')) AS in_flight,
    MAX(started_at) AS last_started_at
  FROM goal_runs`;

export function runCounts(db: SqliteDatabase, goalId: string | null, since: string): RunCountsRow {
  return (goalId === null
    ? cached(db, `${COUNTS} WHERE started_at >= ?`).get(since)
    : cached(db, `${COUNTS} WHERE goal_id = ? AND started_at >= ?`).get(goalId, since)) as RunCountsRow;
}

export function recordDispatch(db: SqliteDatabase, runId: string, dispatch: RunDispatch): void {
  cached(db, "UPDATE goal_runs SET dispatch = ?, updated_at = ? WHERE run_id = ?").run(JSON.stringify(dispatch), dispatch.finished_at ?? dispatch.started_at, runId);
}

function toAlert(row: Record<string, unknown> | undefined): WatchdogAlertRow | undefined {
  return row === undefined ? undefined : { ...(row as unknown as WatchdogAlertRow), details: JSON.parse(row.details as string) as Record<string, unknown> };
}

export function openAlert(db: SqliteDatabase, goalId: string): WatchdogAlertRow | undefined {
  return toAlert(cached(db, "SELECT * FROM watchdog_alerts WHERE goal_id = ? AND cleared_at IS NULL ORDER BY fired_at DESC LIMIT 1").get(goalId) as Record<string, unknown> | undefined);
}

export function insertAlert(db: SqliteDatabase, alert: WatchdogAlertRow): void {
  cached(db, "INSERT INTO watchdog_alerts (alert_id, goal_id, summary, details, loop_id, run_id, fired_at, cleared_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)").run(
    alert.alert_id, alert.goal_id, alert.summary, JSON.stringify(alert.details), alert.loop_id, alert.run_id, alert.fired_at, alert.cleared_at,
  );
}

export function clearAlert(db: SqliteDatabase, entry: { alertId: string; at: string }): void {
  cached(db, "UPDATE watchdog_alerts SET cleared_at = ? WHERE alert_id = ? AND cleared_at IS NULL").run(entry.at, entry.alertId);
}

export function listAlerts(db: SqliteDatabase, filter: { goalId?: string; limit: number }): WatchdogAlertRow[] {
  const rows = (filter.goalId === undefined
    ? cached(db, "SELECT * FROM watchdog_alerts ORDER BY fired_at DESC LIMIT ?").all(filter.limit)
    : cached(db, "SELECT * FROM watchdog_alerts WHERE goal_id = ? ORDER BY fired_at DESC LIMIT ?").all(filter.goalId, filter.limit)) as Record<string, unknown>[];
  return rows.map((r) => toAlert(r) as WatchdogAlertRow);
}
