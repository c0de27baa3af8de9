/**
 * The sync's operations on SQLite: reading what the database holds of the spec files, and applying
 * a reconcile plan in one IMMEDIATE transaction.
 */
import { StaleSnapshotError } from "../errors.js";
import type { ObjectKind } from "../../spec/kinds.js";
import type { GoalSpec, GoalStatus, LessonSpec, PlaybookRuleSpec, StatusIntent } from "../../spec/types.js";
import type { FileIndexEntry, NoopSyncEntry, SnapshotScope, ObjectUpsert, StoredObject, SyncPlanWrite, SyncSnapshot } from "../types.js";
import { cached, type SqliteDatabase, withRollbackJournal } from "./database.js";

/** How many sync runs the history keeps. */
const SYNC_HISTORY_LIMIT = 100;
/** Objects a first sync writes before it is worth leaving the WAL for it (see withRollbackJournal). */
const ROLLBACK_JOURNAL_MIN_UPSERTS = 1_000;


const FILE_INDEX_COLUMNS = "path, kind, object_id, content_hash, sync_state, stat_signature";
type FileIndexRow = [string, ObjectKind, string | null, string, "synced" | "invalid", string | null];

export function readFileIndex(db: SqliteDatabase, paths?: readonly string[]): Map<string, FileIndexEntry> {
  const rows = (
    paths === undefined
      ? db.prepare(`SELECT ${FILE_INDEX_COLUMNS} FROM spec_files`).raw().all()
      : cached(db, `SELECT ${FILE_INDEX_COLUMNS} FROM spec_files WHERE path IN (SELECT value FROM json_each(?))`).raw().all(JSON.stringify(paths))
  ) as FileIndexRow[];
  const index = new Map<string, FileIndexEntry>();
  for (const [path, kind, objectId, hash, syncState, statSignature] of rows) index.set(path, { path, kind, objectId, hash, syncState, statSignature });
  return index;
}

const OBJECT_TABLES = [
  { kind: "goal", table: "goal_definitions", idColumn: "goal_id", goalColumns: ", status, status_intent" },
  { kind: "lesson", table: "lessons", idColumn: "lesson_id", goalColumns: "" },
  { kind: "rule", table: "playbook_rules", idColumn: "rule_id", goalColumns: "" },
] as const;

/**
 * The file index and the stored definitions: all of them, or (a scope) the index entries of some
 * paths and the definitions with some ids.
 */
export function readSyncSnapshot(db: SqliteDatabase, scope?: SnapshotScope): SyncSnapshot {
  const objects = new Map<string, StoredObject>();
  for (const { kind, table, idColumn, goalColumns } of OBJECT_TABLES) {
    const columns = `${idColumn}, source_path, content_hash, spec_json, archived_at${goalColumns}`;
    const rows = (
      scope === undefined
        ? db.prepare(`SELECT ${columns} FROM ${table}`).raw().all()
        : cached(db, `SELECT ${columns} FROM ${table} WHERE ${idColumn} IN (SELECT value FROM json_each(?))`).raw().all(JSON.stringify(scope.ids))
    ) as [string, string, string, string, string | null, GoalStatus?, (StatusIntent | null)?][];
    for (const [id, path, hash, spec, archivedAt, status, statusIntent] of rows) {
      const object: StoredObject = { kind, id, path, hash, spec: JSON.parse(spec) as Record<string, unknown>, archived: archivedAt !== null };
      if (kind === "goal") Object.assign(object, { status, statusIntent });
      objects.set(id, object);
    }
  }
  return { files: readFileIndex(db, scope?.paths), objects };
}

export function getMeta(db: SqliteDatabase, key: string): string | null {
  const row = db.prepare("SELECT value FROM goalops_meta WHERE key = ?").get(key) as { value: string | null } | undefined;
  return row?.value ?? null;
}

export function setMeta(db: SqliteDatabase, key: string, value: string | null): void {
  db.prepare("INSERT INTO goalops_meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value").run(key, value);
}

function json(value: unknown, fallback: unknown = []): string {
  return JSON.stringify(value ?? fallback);
}

/** upsertGoal's VALUES: 32 positional parameters (goalParams gives them) and archived_at. */
const GOAL_PARAMETERS = `${Array.from({ length: 32 }, () => "?").join(", ")}, NULL`;

/** Prepared statements of one connection, made once (preparing is a large share of a small sync). */
function statements(db: SqliteDatabase) {
  return {
    goalStatus: db.prepare("SELECT status FROM goal_definitions WHERE goal_id = ?").pluck(),
    upsertGoal: db.prepare(`
      INSERT INTO goal_definitions (goal_id, goal_type, title, description, parent_goal_id, owner_agent, priority,
        success_metrics, failure_conditions, constraints, review_cadence, start_condition, stop_condition, time_horizon,
        dependencies, allowed_capabilities, learning_required, status, status_intent, intent_error,
        metric, unit, baseline, target, direction, kr_source,
        source_path, content_hash, source_commit, spec_json, created_at, updated_at, archived_at)
      VALUES (${GOAL_PARAMETERS})
      ON CONFLICT(goal_id) DO UPDATE SET goal_type = excluded.goal_type, title = excluded.title, description = excluded.description,
        parent_goal_id = excluded.parent_goal_id, owner_agent = excluded.owner_agent, priority = excluded.priority,
        success_metrics = excluded.success_metrics, failure_conditions = excluded.failure_conditions, constraints = excluded.constraints,
        review_cadence = excluded.review_cadence, start_condition = excluded.start_condition, stop_condition = excluded.stop_condition,
        time_horizon = excluded.time_horizon, dependencies = excluded.dependencies, allowed_capabilities = excluded.allowed_capabilities,
        learning_required = excluded.learning_required, status = excluded.status, status_intent = excluded.status_intent,
        intent_error = CASE WHEN ? THEN goal_definitions.intent_error ELSE excluded.intent_error END,
        metric = excluded.metric, unit = excluded.unit, baseline = excluded.baseline, target = excluded.target,
        direction = excluded.direction, kr_source = excluded.kr_source, source_path = excluded.source_path,
        content_hash = excluded.content_hash, source_commit = excluded.source_commit, spec_json = excluded.spec_json,
        updated_at = excluded.updated_at, archived_at = NULL`),
    upsertLesson: db.prepare(`
      INSERT INTO lessons (lesson_id, goal_type, action_type, failure_category, lesson_text, evidence_run_ids, confidence, category,
        active, review_by, source_path, content_hash, source_commit, spec_json, created_at, updated_at, archived_at)
      VALUES (@lesson_id, @goal_type, @action_type, @failure_category, @lesson_text, @evidence_run_ids, @confidence, @category,
        @active, @review_by, @source_path, @content_hash, @source_commit, @spec_json, @at, @at, NULL)
      ON CONFLICT(lesson_id) DO UPDATE SET goal_type = excluded.goal_type, action_type = excluded.action_type,
        failure_category = excluded.failure_category, lesson_text = excluded.lesson_text, evidence_run_ids = excluded.evidence_run_ids,
        confidence = excluded.confidence, category = excluded.category, active = excluded.active, review_by = excluded.review_by,
        source_path = excluded.source_path, content_hash = excluded.content_hash, source_commit = excluded.source_commit,
        spec_json = excluded.spec_json, updated_at = excluded.updated_at, archived_at = NULL`),
    upsertRule: db.prepare(`
      INSERT INTO playbook_rules (rule_id, title, applies_to_goal_type, applies_to_action_type, rule_text, source_lesson_ids,
        activation_mode, canary_share, promoted_at, source_path, content_hash, source_commit, spec_json, created_at, updated_at, archived_at)
      VALUES (@rule_id, @title, @applies_to_goal_type, @applies_to_action_type, @rule_text, @source_lesson_ids,
        @activation_mode, @canary_share, @promoted_at, @source_path, @content_hash, @source_commit, @spec_json, @at, @at, NULL)
      ON CONFLICT(rule_id) DO UPDATE SET title = excluded.title, applies_to_goal_type = excluded.applies_to_goal_type,
        applies_to_action_type = excluded.applies_to_action_type, rule_text = excluded.rule_text,
        source_lesson_ids = excluded.source_lesson_ids, activation_mode = excluded.activation_mode, canary_share = excluded.canary_share,
        promoted_at = excluded.promoted_at, source_path = excluded.source_path, content_hash = excluded.content_hash,
        source_commit = excluded.source_commit, spec_json = excluded.spec_json, updated_at = excluded.updated_at, archived_at = NULL,
        rolled_back_at = CASE WHEN playbook_rules.content_hash = excluded.content_hash THEN playbook_rules.rolled_back_at ELSE NULL END,
        rollback_reason = CASE WHEN playbook_rules.content_hash = excluded.content_hash THEN playbook_rules.rollback_reason ELSE NULL END`),
    ruleMode: db.prepare("SELECT CASE WHEN rolled_back_at IS NULL THEN activation_mode ELSE 'shadow' END FROM playbook_rules WHERE rule_id = ?").pluck(),
    insertRuleEvent: db.prepare("INSERT INTO rule_mode_events (rule_id, from_mode, to_mode, decision, reason, actor, created_at) VALUES (?, ?, ?, 'file', ?, ?, ?)"),
    archiveGoal: db.prepare("UPDATE goal_definitions SET status = 'archived', archived_at = @at, updated_at = @at WHERE goal_id = @id"),
    archiveLesson: db.prepare("UPDATE lessons SET archived_at = @at, updated_at = @at WHERE lesson_id = @id"),
    archiveRule: db.prepare("UPDATE playbook_rules SET archived_at = @at, updated_at = @at WHERE rule_id = @id"),
    insertEvent: db.prepare("INSERT INTO goal_state_events (goal_id, from_status, to_status, actor, reason, run_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)"),
    upsertFile: db.prepare(`
      INSERT INTO spec_files (path, kind, object_id, content_hash, sync_state, errors, last_attempted_commit, last_applied_commit, last_attempted_at, last_applied_at, stat_signature)
      VALUES (@path, @kind, @object_id, @content_hash, @sync_state, @errors, @commit, @applied_commit, @at, @applied_at, @stat_signature)
      ON CONFLICT(path) DO UPDATE SET kind = excluded.kind, stat_signature = excluded.stat_signature, object_id = excluded.object_id, content_hash = excluded.content_hash,
        sync_state = excluded.sync_state, errors = excluded.errors, last_attempted_commit = excluded.last_attempted_commit,
        last_attempted_at = excluded.last_attempted_at,
        last_applied_commit = COALESCE(excluded.last_applied_commit, spec_files.last_applied_commit),
        last_applied_at = COALESCE(excluded.last_applied_at, spec_files.last_applied_at)`),
    deleteFile: db.prepare("DELETE FROM spec_files WHERE path = ?"),
    anyFile: db.prepare("SELECT 1 FROM spec_files LIMIT 1").pluck(),
    setSignature: db.prepare("UPDATE spec_files SET stat_signature = ? WHERE path = ?"),
    insertSyncRun: db.prepare(`INSERT INTO sync_runs (trigger, commit_sha, outcome, added, changed, archived, restored, invalid, unchanged, message, started_at, finished_at)
      VALUES (@trigger, @commit, @outcome, @added, @changed, @archived, @restored, @invalid, @unchanged, @message, @at, @finished_at)`),
    trimSyncRuns: db.prepare(`DELETE FROM sync_runs WHERE sync_id <= (SELECT sync_id FROM sync_runs ORDER BY sync_id DESC LIMIT 1 OFFSET ${SYNC_HISTORY_LIMIT})`),
  };
}

type Statements = ReturnType<typeof statements>;
const statementCache = new WeakMap<SqliteDatabase, Statements>();

function prepared(db: SqliteDatabase): Statements {
  let s = statementCache.get(db);
  if (s === undefined) {
    s = statements(db);
    statementCache.set(db, s);
  }
  return s;
}

/**
 * A goal's row as positional parameters, in the order of upsertGoal's VALUES and then whether to
 * keep the recorded intent error. Named parameters cost better-sqlite3 a property lookup by name
 * per column: about a tenth of writing 10,000 goals.
 */
function goalParams(u: ObjectUpsert, commit: string | null, at: string): unknown[] {
  const g = u.spec as unknown as GoalSpec;
  const kr = g.key_result;
  return [
    g.goal_id, g.goal_type, g.title, g.description ?? null, g.parent_goal_id ?? null, g.owner_agent, g.priority,
    json(g.success_metrics), json(g.failure_conditions), json(g.constraints), g.review_cadence ?? null, g.start_condition ?? null,
    g.stop_condition ?? null, g.time_horizon ?? null, json(g.dependencies), json(g.allowed_capabilities), g.learning_required ? 1 : 0,
    u.status as GoalStatus, u.statusIntent ?? null, u.intentError ?? null,
    kr?.metric ?? null, kr?.unit ?? null, kr?.baseline ?? null, kr?.target ?? null, kr?.direction ?? null, kr?.source === undefined ? null : JSON.stringify(kr.source),
    u.path, u.hash, commit, JSON.stringify(u.spec), at, at,
    u.intentError === undefined ? 1 : 0,
  ];
}

function lessonParams(u: ObjectUpsert, commit: string | null, at: string) {
  const l = u.spec as unknown as LessonSpec;
  return {
    lesson_id: l.lesson_id, goal_type: l.goal_type, action_type: l.action_type, failure_category: l.failure_category ?? null,
    lesson_text: l.lesson_text, evidence_run_ids: json(l.evidence_run_ids), confidence: l.confidence ?? null, category: l.category,
    active: l.active === false ? 0 : 1, review_by: l.review_by ?? null, source_path: u.path, content_hash: u.hash,
    source_commit: commit, spec_json: JSON.stringify(u.spec), at,
  };
}

function ruleParams(u: ObjectUpsert, commit: string | null, at: string) {
  const r = u.spec as unknown as PlaybookRuleSpec;
  return {
    rule_id: r.rule_id, title: r.title, applies_to_goal_type: r.applies_to_goal_type, applies_to_action_type: r.applies_to_action_type,
    rule_text: r.rule_text, source_lesson_ids: json(r.source_lesson_ids), activation_mode: r.activation_mode,
    canary_share: r.canary_share ?? null, promoted_at: r.promoted_at ?? null, source_path: u.path, content_hash: u.hash,
    source_commit: commit, spec_json: JSON.stringify(u.spec), at,
  };
}

export function applySyncPlan(db: SqliteDatabase, plan: SyncPlanWrite): void {
  const s = prepared(db);
  const { commit, at } = plan;
  const checkStatus = (goalId: string, expected: GoalStatus | null | undefined) => {
    if (expected === undefined) return;
    const found = (s.goalStatus.get(goalId) as GoalStatus | undefined) ?? null;
    if (found !== expected) throw new StaleSnapshotError(goalId, expected, found);
  };
  // The first sync of a large tree fills an empty database: a rollback journal writes it once.
  const fillsEmptyDatabase = plan.upserts.length >= ROLLBACK_JOURNAL_MIN_UPSERTS && s.anyFile.get() === undefined;
  const apply = db.transaction(() => {
    for (const u of plan.upserts) {
      if (u.kind === "goal") {
        // A goal the plan adds has no status to check; its insert is the whole write.
        if (u.change !== "added") checkStatus(u.id, u.expectedStatus);
        s.upsertGoal.run(goalParams(u, commit, at));
      } else if (u.kind === "lesson") {
        s.upsertLesson.run(lessonParams(u, commit, at));
      } else {
        // A mode set (or changed) by a file is an audited event, as a rollback is.
        const before = (s.ruleMode.get(u.id) as string | undefined) ?? null;
        const params = ruleParams(u, commit, at);
        s.upsertRule.run(params);
        const after = s.ruleMode.get(u.id) as string;
        if (before !== after) s.insertRuleEvent.run(u.id, before, after, `activation_mode '${after}' in ${u.path}`, commit === null ? `git:${u.path}` : `git:${u.path}@${commit}`, at);
      }
    }
    for (const a of plan.archives) {
      if (a.kind === "goal") {
        checkStatus(a.id, a.expectedStatus);
        s.archiveGoal.run({ id: a.id, at });
      } else if (a.kind === "lesson") {
        s.archiveLesson.run({ id: a.id, at });
      } else {
        s.archiveRule.run({ id: a.id, at });
      }
    }
    for (const e of plan.stateEvents) s.insertEvent.run(e.goalId, e.from, e.to, e.actor, e.reason, e.runId ?? null, at);
    for (const f of plan.files) {
      const applied = f.syncState === "synced";
      s.upsertFile.run({
        path: f.path, kind: f.kind, object_id: f.objectId, content_hash: f.hash, sync_state: f.syncState, errors: JSON.stringify(f.problems),
        commit, applied_commit: applied ? commit : null, at, applied_at: applied ? at : null, stat_signature: f.statSignature,
      });
    }
    for (const path of plan.removedFiles) s.deleteFile.run(path);
    setMeta(db, "last_attempted_commit", commit);
    setMeta(db, "last_attempted_at", at);
    // Until the caller knows the tree was clean throughout, the files may differ from any commit.
    setMeta(db, "clean_tree_commit", null);
    if (plan.counts.invalid === 0) {
      setMeta(db, "last_applied_commit", commit);
      setMeta(db, "last_applied_at", at);
    }
    const outcome = plan.counts.invalid > 0 ? "partial" : "applied";
    s.insertSyncRun.run({ trigger: plan.trigger, commit, outcome, ...plan.counts, message: null, at, finished_at: new Date().toISOString() });
    s.trimSyncRuns.run();
  });
  if (fillsEmptyDatabase) withRollbackJournal(db, () => apply.immediate());
  else apply.immediate();
}

export function recordNoopSync(db: SqliteDatabase, entry: NoopSyncEntry): void {
  const s = prepared(db);
  db.transaction(() => {
    for (const f of entry.signatures) s.setSignature.run(f.statSignature, f.path);
    setMeta(db, "clean_tree_commit", entry.cleanTreeCommit);
    setMeta(db, "last_attempted_commit", entry.commit);
    setMeta(db, "last_attempted_at", entry.at);
    if (entry.invalid === 0) {
      setMeta(db, "last_applied_commit", entry.commit);
      setMeta(db, "last_applied_at", entry.at);
    }
    s.insertSyncRun.run({ trigger: entry.trigger, commit: entry.commit, outcome: "unchanged", added: 0, changed: 0, archived: 0, restored: 0, invalid: entry.invalid, unchanged: entry.unchanged, message: null, at: entry.at, finished_at: new Date().toISOString() });
    s.trimSyncRuns.run();
  }).immediate();
}

export function fileStateCounts(db: SqliteDatabase): { total: number; invalid: number } {
  const row = db.prepare("SELECT COUNT(*) AS total, COALESCE(SUM(sync_state = 'invalid'), 0) AS invalid FROM spec_files").get() as { total: number; invalid: number };
  return { total: row.total, invalid: row.invalid };
}
