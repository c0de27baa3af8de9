/** Goal reads and state events on SQLite. */
import { canTransition } from "../../goals/stateMachine.js";
import { InvalidInputError } from "../../errors.js";
import type { GoalStatus } from "../../spec/types.js";
import type { DefinitionCounts, GoalHeader, GoalRecord, GoalRow, KeyResultValueRow, InvalidFileRow, StateEventInput, StateEventRow, StatusGoalRow, SyncHistoryEntry } from "../types.js";
import { cached, type SqliteDatabase } from "./database.js";
import { StaleSnapshotError } from "../errors.js";

export function appendStateEvent(db: SqliteDatabase, event: StateEventInput & { at: string; expectedFrom: GoalStatus | null }): void {
  db.transaction(() => {
    const current = (cached(db, "SELECT status FROM goal_definitions WHERE goal_id = ?", true).get(event.goalId) as GoalStatus | undefined) ?? null;
    if (current !== event.expectedFrom) throw new StaleSnapshotError(event.goalId, event.expectedFrom, current);
    if (current !== null && !canTransition(current, event.to)) {
      throw new InvalidInputError("goal.illegal_transition", `goal ${event.goalId} cannot go from '${current}' to '${event.to}'`);
    }
    cached(db, "UPDATE goal_definitions SET status = ?, updated_at = ?, archived_at = CASE WHEN ? = 'archived' THEN ? ELSE NULL END WHERE goal_id = ?").run(event.to, event.at, event.to, event.at, event.goalId);
    cached(db, "INSERT INTO goal_state_events (goal_id, from_status, to_status, actor, reason, run_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)").run(event.goalId, current, event.to, event.actor, event.reason, event.runId ?? null, event.at);
  }).immediate();
}

export function listGoals(db: SqliteDatabase, includeArchived: boolean): GoalRow[] {
  return cached(db, `SELECT goal_id, goal_type, title, parent_goal_id, owner_agent, priority, status, status_intent, intent_error, source_path, archived_at
    FROM goal_definitions ${includeArchived ? "" : "WHERE archived_at IS NULL"} ORDER BY priority, title, goal_id`).all() as GoalRow[];
}

export function goalHistory(db: SqliteDatabase, goalId: string): StateEventRow[] {
  return cached(db, "SELECT event_id, goal_id, from_status, to_status, actor, reason, run_id, created_at FROM goal_state_events WHERE goal_id = ? ORDER BY event_id").all(goalId) as StateEventRow[];
}

export function invalidFiles(db: SqliteDatabase): InvalidFileRow[] {
  const rows = cached(db, "SELECT path, kind, object_id, errors FROM spec_files WHERE sync_state = 'invalid' ORDER BY path").all() as { path: string; kind: InvalidFileRow["kind"]; object_id: string | null; errors: string }[];
  return rows.map((r) => ({ path: r.path, kind: r.kind, objectId: r.object_id, problems: JSON.parse(r.errors) as InvalidFileRow["problems"] }));
}

export function recentSyncs(db: SqliteDatabase, limit: number): SyncHistoryEntry[] {
  const rows = cached(db, "SELECT * FROM sync_runs ORDER BY sync_id DESC LIMIT ?").all(limit) as Record<string, unknown>[];
  return rows.map((r) => ({
    syncId: r.sync_id as number,
    trigger: r.trigger as string,
    commit: (r.commit_sha as string | null) ?? null,
    outcome: r.outcome as string,
    counts: { added: r.added as number, changed: r.changed as number, archived: r.archived as number, restored: r.restored as number, invalid: r.invalid as number, unchanged: r.unchanged as number },
    message: (r.message as string | null) ?? null,
    startedAt: r.started_at as string,
    finishedAt: r.finished_at as string,
  }));
}

export function countDefinitions(db: SqliteDatabase): DefinitionCounts {
  const goals = cached(db, "SELECT status, COUNT(*) AS n FROM goal_definitions WHERE archived_at IS NULL GROUP BY status").all() as { status: GoalStatus; n: number }[];
  const lessons = cached(db, "SELECT COUNT(*) FROM lessons WHERE archived_at IS NULL AND active = 1", true).get() as number;
  const rules = cached(db, "SELECT activation_mode, COUNT(*) AS n FROM playbook_rules WHERE archived_at IS NULL GROUP BY activation_mode").all() as { activation_mode: "shadow" | "canary" | "full"; n: number }[];
  return {
    goals: Object.fromEntries(goals.map((g) => [g.status, g.n])),
    lessons,
    rules: Object.fromEntries(rules.map((r) => [r.activation_mode, r.n])),
  };
}

const GOAL_RECORD_COLUMNS = `goal_id, goal_type, title, parent_goal_id, owner_agent, priority, status, status_intent, intent_error, source_path,
    archived_at, spec_json, content_hash, source_commit, created_at, updated_at`;

function toRecord(row: Omit<GoalRecord, "spec"> & { spec_json: string }): GoalRecord {
  const { spec_json, ...rest } = row;
  return { ...rest, spec: JSON.parse(spec_json) as Record<string, unknown> };
}

export function getGoal(db: SqliteDatabase, goalId: string): GoalRecord | undefined {
  const row = cached(db, `SELECT ${GOAL_RECORD_COLUMNS} FROM goal_definitions WHERE goal_id = ?`).get(goalId) as (Omit<GoalRecord, "spec"> & { spec_json: string }) | undefined;
  return row === undefined ? undefined : toRecord(row);
}

export function goalHeader(db: SqliteDatabase, goalId: string): GoalHeader | undefined {
  const row = cached(db, "SELECT goal_id, goal_type, parent_goal_id, archived_at, allowed_capabilities FROM goal_definitions WHERE goal_id = ?").get(goalId) as (Omit<GoalHeader, "allowed_capabilities"> & { allowed_capabilities: string }) | undefined;
  return row === undefined ? undefined : { ...row, allowed_capabilities: JSON.parse(row.allowed_capabilities) as string[] };
}

export function childKeyResultIds(db: SqliteDatabase, goalId: string): string[] {
  return cached(db, "SELECT goal_id FROM goal_definitions WHERE parent_goal_id = ? AND goal_type = 'key_result' AND archived_at IS NULL ORDER BY priority, goal_id", true).all(goalId) as string[];
}

/**
 * Every goal that is not archived, with what `status` shows and what progress and health need.
 * Read as raw rows of the columns it needs: converting 21 columns of 10,000 rows into objects cost
 * more than the rest of `status` together (180 ms against 55 ms), and spec_json is never parsed.
 */
export function statusGoals(db: SqliteDatabase): StatusGoalRow[] {
  const rows = cached(db, `SELECT goal_id, goal_type, title, parent_goal_id, priority, status, intent_error, created_at, time_horizon, metric, unit, baseline, target, direction
    FROM goal_definitions NOT INDEXED WHERE archived_at IS NULL ORDER BY priority, title, goal_id`).raw(true).all() as unknown[][];
  const goals: StatusGoalRow[] = new Array(rows.length);
  for (let i = 0; i < rows.length; i++) {
    const [goal_id, goal_type, title, parent_goal_id, priority, status, intent_error, created_at, time_horizon, metric, unit, baseline, target, direction] = rows[i] as [string, string, string, string | null, number, GoalStatus, string | null, string, string | null, string | null, string, number, number, "increase" | "decrease"];
    const spec: Record<string, unknown> = {};
    if (time_horizon !== null) spec.time_horizon = time_horizon;
    if (metric !== null) spec.key_result = { metric, unit, baseline, target, direction };
    goals[i] = { goal_id, goal_type, title, parent_goal_id, priority, status, intent_error, created_at, spec };
  }
  return goals;
}

export function dependentGoals(db: SqliteDatabase, goalId: string): GoalRecord[] {
  const rows = cached(db, `SELECT ${GOAL_RECORD_COLUMNS} FROM goal_definitions WHERE archived_at IS NULL
    AND EXISTS (SELECT 1 FROM json_each(goal_definitions.dependencies) WHERE json_each.value = ?) ORDER BY priority, goal_id`).all(goalId) as (Omit<GoalRecord, "spec"> & { spec_json: string })[];
  return rows.map(toRecord);
}

export function childGoals(db: SqliteDatabase, goalId: string): GoalRecord[] {
  const rows = cached(db, `SELECT ${GOAL_RECORD_COLUMNS} FROM goal_definitions WHERE parent_goal_id = ? AND archived_at IS NULL ORDER BY priority, goal_id`).all(goalId) as (Omit<GoalRecord, "spec"> & { spec_json: string })[];
  return rows.map(toRecord);
}

export function recordKeyResultValue(db: SqliteDatabase, entry: { goalId: string; value: number; recordedAt: string; source: string | null; runId: string | null; at: string }): KeyResultValueRow {
  return db.transaction(() => {
    const info = cached(db, "INSERT INTO key_results (goal_id, value, recorded_at, source, run_id, created_at) VALUES (?, ?, ?, ?, ?, ?)").run(entry.goalId, entry.value, entry.recordedAt, entry.source, entry.runId, entry.at);
    return cached(db, "SELECT * FROM key_results WHERE value_id = ?").get(info.lastInsertRowid) as KeyResultValueRow;
  }).immediate();
}

export function keyResultHistory(db: SqliteDatabase, goalId: string, limit: number): KeyResultValueRow[] {
  // The latest `limit` values, returned oldest first.
  const rows = cached(db, "SELECT * FROM key_results WHERE goal_id = ? ORDER BY recorded_at DESC, value_id DESC LIMIT ?").all(goalId, limit) as KeyResultValueRow[];
  return rows.reverse();
}

/** A key result's latest value (by the time it was recorded for), or null before its first. */
export function latestKeyResultValue(db: SqliteDatabase, goalId: string): KeyResultValueRow | null {
  return (cached(db, "SELECT * FROM key_results WHERE goal_id = ? ORDER BY recorded_at DESC, value_id DESC LIMIT 1").get(goalId) as KeyResultValueRow | undefined) ?? null;
}

/** latestKeyResultValue of many key results in one statement, by goal id (those with no value are absent). */
export function latestKeyResultValuesOf(db: SqliteDatabase, goalIds: readonly string[]): Map<string, KeyResultValueRow> {
  const rows = cached(db, `SELECT k.* FROM json_each(?) AS ids JOIN key_results AS k ON k.value_id =
    (SELECT value_id FROM key_results WHERE goal_id = ids.value ORDER BY recorded_at DESC, value_id DESC LIMIT 1)`).all(JSON.stringify(goalIds)) as KeyResultValueRow[];
  return new Map(rows.map((row) => [row.goal_id, row]));
}
