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

const INSERT_AAR = `INSERT OR IGNORE INTO after_action_reviews (aar_id, run_id, goal_id, review_reason, what_happened, root_cause, failure_category,
    root_cause_detail, what_worked, what_failed, lesson_candidates, recommended_changes, intended, actual, difference, sustain, improve, impact,
    detection, narrative_source, promoted, created_at)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?)`;

function insertOne(db: SqliteDatabase, aar: AarWrite): boolean {
  return (
    cached(db, INSERT_AAR).run(
      aar.aar_id, aar.run_id, aar.goal_id, aar.review_reason, aar.what_happened, aar.root_cause, aar.failure_category, aar.root_cause_detail,
      JSON.stringify(aar.what_worked), JSON.stringify(aar.what_failed), JSON.stringify(aar.lesson_candidates), JSON.stringify(aar.recommended_changes),
      aar.intended, aar.actual, aar.difference, JSON.stringify(aar.sustain), JSON.stringify(aar.improve), aar.impact, aar.detection, aar.narrative_source, aar.created_at,
    ).changes === 1
  );
}

/** Stores a review; a run has one review, so a second one for the same run returns the first. */
export function insertAar(db: SqliteDatabase, aar: AarWrite): { aar: AfterActionReviewRecord; existing: boolean } {
  const inserted = insertOne(db, aar);
  return { aar: getAar(db, aar.run_id) as AfterActionReviewRecord, existing: !inserted };
}

function insertAarsBody(db: SqliteDatabase, aars: readonly AarWrite[]): number {
  let inserted = 0;
  for (const aar of aars) if (insertOne(db, aar)) inserted++;
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
    ? cached(db, "SELECT * FROM after_action_reviews ORDER BY created_at DESC, aar_id DESC LIMIT ?").all(filter.limit)
    : cached(db, "SELECT * FROM after_action_reviews WHERE goal_id = ? ORDER BY created_at DESC, aar_id DESC LIMIT ?").all(filter.goalId, filter.limit)) as Record<string, unknown>[];
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
