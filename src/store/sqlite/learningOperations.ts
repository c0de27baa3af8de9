/**
 * The learning side's SQL: after-action reviews, lessons and playbook rules. Its read of the
 * ledger is in ledgerScanOperations.ts.
 */
import type { AarWrite, AfterActionReviewRecord, LessonRow, RuleEventRow, RuleRow } from "../types.js";
import { cached, type SqliteDatabase, transaction } from "./database.js";

const AAR_JSON = ["what_worked", "what_failed", "lesson_candidates", "recommended_changes", "sustain", "improve"] as const;

function toAar(row: Record<string, unknown> | undefined): AfterActionReviewRecord | undefined {
  if (row === undefined) return undefined;
  const aar = { ...row } as Record<string, unknown>;
  for (const column of AAR_JSON) aar[column] = JSON.parse(aar[column] as string);
  aar.promoted = aar.promoted === 1;
  return aar as unknown as AfterActionReviewRecord;
}

/**
 * The ids of aar_texts' strings this connection has seen, so a chunk of reviews asks the database
 * only for strings new to it. An id learned in a transaction that is rolled back (the learning
 * cycle's --dry-run, a failed group commit, a failed savepoint) would point at nothing, or at
 * another string once the id is reused; so the connection counts, in a TEMP table (rolled back
 * with everything else), the transactions that added strings, and the ids are forgotten when the
 * count no longer matches the one kept beside them.
 */
interface TextIds {
  ids: Map<string, number>;
  /** Frozen lists by identity: reviews drafted together share them (src/learning/afterActionReview.ts), and frozen, one cannot change. */
  lists: WeakMap<readonly string[], number>;
  epoch: number;
  /** This call added a string and counted it already. */
  counted: boolean;
}

const textIdCache = new WeakMap<SqliteDatabase, TextIds>();
/** Reviews a summarizer rewrote bring strings of their own; beyond this many the cache starts over. */
const MAX_CACHED_TEXTS = 50_000;

/** The connection's ids, checked against rollbacks: once at the start of each write of reviews. */
function textIds(db: SqliteDatabase): TextIds {
  cached(db, "CREATE TEMP TABLE IF NOT EXISTS aar_text_epoch (id INTEGER PRIMARY KEY CHECK (id = 1), n INTEGER NOT NULL)").run();
  const epoch = (cached(db, "SELECT n FROM temp.aar_text_epoch WHERE id = 1", true).get() as number | undefined) ?? 0;
  let state = textIdCache.get(db);
  if (state === undefined) {
    state = { ids: new Map(), lists: new WeakMap(), epoch, counted: false };
    textIdCache.set(db, state);
  }
  if (state.epoch !== epoch || state.ids.size > MAX_CACHED_TEXTS) {
    state.ids.clear();
    state.lists = new WeakMap();
    state.epoch = epoch;
  }
  state.counted = false;
  return state;
}

function textId(db: SqliteDatabase, state: TextIds, text: string): number {
  let id = state.ids.get(text);
  if (id !== undefined) return id;
  id = cached(db, "SELECT text_id FROM aar_texts WHERE text = ?", true).get(text) as number | undefined;
  if (id === undefined) {
    if (!state.counted) {
      // Counted before the string is added, in the same transaction: if it is rolled back, so is the count.
      state.epoch++;
      state.counted = true;
      cached(db, "INSERT OR REPLACE INTO temp.aar_text_epoch (id, n) VALUES (1, ?)").run(state.epoch);
    }
    id = Number(cached(db, "INSERT INTO aar_texts (text) VALUES (?)").run(text).lastInsertRowid);
  }
  state.ids.set(text, id);
  return id;
}

const INSERT_AAR = `INSERT OR IGNORE INTO aar_records (aar_id, run_id, goal_id, review_reason, failure_category, narrative_source, created_at,
    intended_id, difference_id, impact_id, root_cause_id, root_cause_detail_id, detection_id, what_worked_id, what_failed_id,
    lesson_candidates_id, recommended_changes_id, sustain_id, improve_id, actual, what_happened)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;

/** A list's id: the JSON text of the list is the interned string. */
function listId(db: SqliteDatabase, texts: TextIds, items: readonly string[]): number {
  const frozen = Object.isFrozen(items);
  let id = frozen ? texts.lists.get(items) : undefined;
  if (id === undefined) {
    id = textId(db, texts, items.length === 0 ? "[]" : JSON.stringify(items));
    if (frozen) texts.lists.set(items, id);
  }
  return id;
}

function insertOne(db: SqliteDatabase, texts: TextIds, aar: AarWrite): boolean {
  // The view composes the template's what_happened; any other text (a summarizer's) is kept as it is.
  const composed = aar.what_happened === `Intended: ${aar.intended}. Happened: ${aar.actual}. ${aar.impact}.`;
  const recommended = listId(db, texts, aar.recommended_changes);
  return (
    cached(db, INSERT_AAR).run(
      aar.aar_id, aar.run_id, aar.goal_id, aar.review_reason, aar.failure_category, aar.narrative_source, aar.created_at,
      textId(db, texts, aar.intended), textId(db, texts, aar.difference), textId(db, texts, aar.impact),
      aar.root_cause === null ? null : textId(db, texts, aar.root_cause), aar.root_cause_detail === null ? null : textId(db, texts, aar.root_cause_detail),
      textId(db, texts, aar.detection), listId(db, texts, aar.what_worked), listId(db, texts, aar.what_failed), listId(db, texts, aar.lesson_candidates),
      recommended, listId(db, texts, aar.sustain),
      // A drafted review improves what it recommends (the same list).
      aar.improve === aar.recommended_changes ? recommended : listId(db, texts, aar.improve),
      aar.actual, composed ? null : aar.what_happened,
    ).changes === 1
  );
}

function insertAarBody(db: SqliteDatabase, aar: AarWrite): boolean {
  return insertOne(db, textIds(db), aar);
}

/** Stores a review; a run has one review, so a second one for the same run returns the first. */
export function insertAar(db: SqliteDatabase, aar: AarWrite): { aar: AfterActionReviewRecord; existing: boolean } {
  const inserted = transaction(db, insertAarBody).immediate(db, aar);
  return { aar: getAar(db, aar.run_id) as AfterActionReviewRecord, existing: !inserted };
}

function insertAarsBody(db: SqliteDatabase, aars: readonly AarWrite[]): number {
  const texts = textIds(db);
  let inserted = 0;
  for (const aar of aars) if (insertOne(db, texts, aar)) inserted++;
  return inserted;
}

/** Stores many reviews in one transaction (runs that have one already keep it); returns how many were new. */
export function insertAars(db: SqliteDatabase, aars: readonly AarWrite[]): number {
  return transaction(db, insertAarsBody).immediate(db, aars);
}

/** A review by its aar_ id or by its run's grun_ id. */
export function getAar(db: SqliteDatabase, id: string): AfterActionReviewRecord | undefined {
  return toAar(cached(db, "SELECT * FROM after_action_reviews WHERE aar_id = ? OR run_id = ?").get(id, id) as Record<string, unknown> | undefined);
}

export function listAars(db: SqliteDatabase, filter: { goalId?: string; limit: number }): AfterActionReviewRecord[] {
  const rows = (filter.goalId === undefined
    ? // The newest are picked from the narrow rows, then only they are joined to their texts.
      cached(db, `SELECT * FROM after_action_reviews WHERE aar_id IN (SELECT aar_id FROM aar_records ORDER BY created_at DESC, aar_id DESC LIMIT ?)
        ORDER BY created_at DESC, aar_id DESC`).all(filter.limit)
    : // A goal's reviews are found through its runs (goal_runs_goal): a review's goal is its run's,
      // and an index of reviews by goal nearly doubled the time to write them (migration 9).
      cached(db, `SELECT * FROM after_action_reviews WHERE aar_id IN (SELECT v.aar_id FROM goal_runs r JOIN aar_records v ON v.run_id = r.run_id
          WHERE r.goal_id = ? AND v.goal_id = r.goal_id ORDER BY v.created_at DESC, v.aar_id DESC LIMIT ?)
        ORDER BY created_at DESC, aar_id DESC`).all(filter.goalId, filter.limit)) as Record<string, unknown>[];
  return rows.map((r) => toAar(r) as AfterActionReviewRecord);
}

const LESSON_COLUMNS = "lesson_id, goal_type, action_type, failure_category, lesson_text, category, active, confidence, review_by, source_path, archived_at";

export function listLessons(db: SqliteDatabase, options: { includeArchived: boolean }): LessonRow[] {
  const rows = (options.includeArchived
    ? cached(db, `SELECT ${LESSON_COLUMNS} FROM lessons ORDER BY lesson_id`).all()
    : cached(db, `SELECT ${LESSON_COLUMNS} FROM lessons WHERE archived_at IS NULL ORDER BY lesson_id`).all()) as (Omit<LessonRow, "active"> & { active: number })[];
  return rows.map((r) => ({ ...r, active: r.active === 1 }));
}

export function listRules(db: SqliteDatabase, options: { includeArchived: boolean }): RuleRow[] {
  const columns = "rule_id, title, applies_to_goal_type, applies_to_action_type, rule_text, source_lesson_ids, activation_mode AS file_mode, CASE WHEN rolled_back_at IS NULL THEN activation_mode ELSE 'shadow' END AS mode, canary_share, rolled_back_at, rollback_reason, source_path, archived_at";
  const rows = (options.includeArchived
    ? cached(db, `SELECT ${columns} FROM playbook_rules ORDER BY rule_id`).all()
    : cached(db, `SELECT ${columns} FROM playbook_rules WHERE archived_at IS NULL ORDER BY rule_id`).all()) as (Omit<RuleRow, "source_lesson_ids"> & { source_lesson_ids: string })[];
  return rows.map((r) => ({ ...r, source_lesson_ids: JSON.parse(r.source_lesson_ids) as string[] }));
}

export function ruleEvents(db: SqliteDatabase, ruleId: string): RuleEventRow[] {
  const rows = cached(db, "SELECT * FROM rule_mode_events WHERE rule_id = ? ORDER BY event_id").all(ruleId) as (Omit<RuleEventRow, "evidence"> & { evidence: string })[];
  return rows.map((r) => ({ ...r, evidence: JSON.parse(r.evidence) as Record<string, unknown> }));
}

/** Rolls a rule back to shadow at once (until its file changes), with an audited event. */
export function rollbackRule(db: SqliteDatabase, entry: { ruleId: string; reason: string; evidence: Record<string, unknown>; actor: string; at: string }): void {
  const mode = cached(db, "SELECT CASE WHEN rolled_back_at IS NULL THEN activation_mode ELSE 'shadow' END FROM playbook_rules WHERE rule_id = ?", true).get(entry.ruleId) as string | undefined;
  if (mode === undefined || mode === "shadow") return;
  cached(db, "UPDATE playbook_rules SET rolled_back_at = ?, rollback_reason = ?, updated_at = ? WHERE rule_id = ?").run(entry.at, entry.reason, entry.at, entry.ruleId);
  cached(db, "INSERT INTO rule_mode_events (rule_id, from_mode, to_mode, decision, reason, evidence, actor, created_at) VALUES (?, ?, 'shadow', 'rollback', ?, ?, ?, ?)").run(
    entry.ruleId, mode, entry.reason, JSON.stringify(entry.evidence), entry.actor, entry.at,
  );
}
