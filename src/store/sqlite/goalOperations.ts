/** Goal reads and state events on SQLite. */
import { canTransition } from "../../goals/stateMachine.js";
import { InvalidInputError } from "../../errors.js";
import type { GoalStatus } from "../../spec/types.js";
import type { DefinitionCounts, GoalRecord, GoalRow, InvalidFileRow, StateEventInput, StateEventRow, SyncHistoryEntry } from "../types.js";
import type { SqliteDatabase } from "./database.js";
import { StaleSnapshotError } from "../errors.js";

export function appendStateEvent(db: SqliteDatabase, event: StateEventInput & { at: string; expectedFrom: GoalStatus | null }): void {
  db.transaction(() => {
    const current = (db.prepare("SELECT status FROM goal_definitions WHERE goal_id = ?").pluck().get(event.goalId) as GoalStatus | undefined) ?? null;
    if (current !== event.expectedFrom) throw new StaleSnapshotError(event.goalId, event.expectedFrom, current);
    if (current !== null && !canTransition(current, event.to)) {
      throw new InvalidInputError("goal.illegal_transition", `goal ${event.goalId} cannot go from '${current}' to '${event.to}'`);
    }
    db.prepare("UPDATE goal_definitions SET status = ?, updated_at = ?, archived_at = CASE WHEN ? = 'archived' THEN ? ELSE NULL END WHERE goal_id = ?").run(event.to, event.at, event.to, event.at, event.goalId);
    db.prepare("INSERT INTO goal_state_events (goal_id, from_status, to_status, actor, reason, run_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)").run(event.goalId, current, event.to, event.actor, event.reason, event.runId ?? null, event.at);
  }).immediate();
}

export function listGoals(db: SqliteDatabase, includeArchived: boolean): GoalRow[] {
  return db.prepare(`SELECT goal_id, goal_type, title, parent_goal_id, owner_agent, priority, status, status_intent, intent_error, source_path, archived_at
    FROM goal_definitions ${includeArchived ? "" : "WHERE archived_at IS NULL"} ORDER BY priority, title, goal_id`).all() as GoalRow[];
}

export function goalHistory(db: SqliteDatabase, goalId: string): StateEventRow[] {
  return db.prepare("SELECT event_id, goal_id, from_status, to_status, actor, reason, run_id, created_at FROM goal_state_events WHERE goal_id = ? ORDER BY event_id").all(goalId) as StateEventRow[];
}

export function invalidFiles(db: SqliteDatabase): InvalidFileRow[] {
  const rows = db.prepare("SELECT path, kind, object_id, errors FROM spec_files WHERE sync_state = 'invalid' ORDER BY path").all() as { path: string; kind: InvalidFileRow["kind"]; object_id: string | null; errors: string }[];
  return rows.map((r) => ({ path: r.path, kind: r.kind, objectId: r.object_id, problems: JSON.parse(r.errors) as InvalidFileRow["problems"] }));
}

export function recentSyncs(db: SqliteDatabase, limit: number): SyncHistoryEntry[] {
  const rows = db.prepare("SELECT * FROM sync_runs ORDER BY sync_id DESC LIMIT ?").all(limit) as Record<string, unknown>[];
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
  const goals = db.prepare("SELECT status, COUNT(*) AS n FROM goal_definitions WHERE archived_at IS NULL GROUP BY status").all() as { status: GoalStatus; n: number }[];
  const lessons = db.prepare("SELECT COUNT(*) FROM lessons WHERE archived_at IS NULL AND active = 1").pluck().get() as number;
  const rules = db.prepare("SELECT activation_mode, COUNT(*) AS n FROM playbook_rules WHERE archived_at IS NULL GROUP BY activation_mode").all() as { activation_mode: "shadow" | "canary" | "full"; n: number }[];
  return {
    goals: Object.fromEntries(goals.map((g) => [g.status, g.n])),
    lessons,
    rules: Object.fromEntries(rules.map((r) => [r.activation_mode, r.n])),
  };
}

export function getGoal(db: SqliteDatabase, goalId: string): GoalRecord | undefined {
  const row = db.prepare(`SELECT goal_id, goal_type, title, parent_goal_id, owner_agent, priority, status, status_intent, intent_error, source_path,
    archived_at, spec_json, content_hash, source_commit, created_at, updated_at FROM goal_definitions WHERE goal_id = ?`).get(goalId) as (Omit<GoalRecord, "spec"> & { spec_json: string }) | undefined;
  if (row === undefined) return undefined;
  const { spec_json, ...rest } = row;
  return { ...rest, spec: JSON.parse(spec_json) as Record<string, unknown> };
}
