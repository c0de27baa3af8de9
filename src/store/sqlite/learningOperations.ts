/** The learning cycle's SQL: outcome aggregation over the ledger, and after-action reviews. */
import type { AarWrite, AfterActionReviewRecord, LessonCandidateRow, LessonEvidenceCounts, LessonEvidenceRow, LessonRow, OutcomeGroupRow, ReviewCandidateRef, RuleEventRow, RuleOutcomeRow, RuleRow, RunRecord } from "../types.js";
import { cached, type SqliteDatabase, transaction } from "./database.js";
import { toRun } from "./runOperations.js";

const OUTCOME_COUNTS = `COUNT(*) AS runs,
  COUNT(*) FILTER (WHERE r.local_outcome = 'succeeded') AS succeeded, COUNT(*) FILTER (WHERE r.local_outcome = 'failed') AS failed,
  COUNT(*) FILTER (WHERE r.local_outcome = 'partial') AS partial,
  COUNT(*) FILTER (WHERE r.local_outcome = 'succeeded' AND r.verifier_status = 'passed') AS verified_success,
  COUNT(*) FILTER (WHERE r.business_outcome = 'improved') AS improved, COUNT(*) FILTER (WHERE r.business_outcome = 'neutral') AS neutral,
  COUNT(*) FILTER (WHERE r.business_outcome = 'degraded') AS degraded, COUNT(*) FILTER (WHERE r.business_outcome = 'unknown') AS unknown`;

/**
 * Finished runs started in [since, until), grouped by goal type, action and failure category (a
 * run with several actions counts once under each; a run without any under a null action), and by
 * goal type alone.
 */
export function aggregateOutcomes(db: SqliteDatabase, window: { since: string; until: string }): { byGroup: OutcomeGroupRow[]; byGoalType: OutcomeGroupRow[] } {
  const byGroup = cached(db, `SELECT g.goal_type, a.value AS action, r.failure_category, ${OUTCOME_COUNTS}
      FROM goal_runs r JOIN goal_definitions g ON g.goal_id = r.goal_id LEFT JOIN json_each(r.actions_taken) a
      WHERE r.run_state = 'finished' AND r.started_at >= ? AND r.started_at < ?
      GROUP BY g.goal_type, a.value, r.failure_category ORDER BY runs DESC, g.goal_type, a.value, r.failure_category`).all(window.since, window.until) as OutcomeGroupRow[];
  const byGoalType = cached(db, `SELECT g.goal_type, NULL AS action, NULL AS failure_category, ${OUTCOME_COUNTS}
      FROM goal_runs r JOIN goal_definitions g ON g.goal_id = r.goal_id
      WHERE r.run_state = 'finished' AND r.started_at >= ? AND r.started_at < ?
      GROUP BY g.goal_type ORDER BY runs DESC, g.goal_type`).all(window.since, window.until) as OutcomeGroupRow[];
  return { byGroup, byGoalType };
}

/**
 * Finished runs started in the window that have no review yet and need one: every failed or
 * partial run, and a notable success (the first success after two or more failures of its goal),
 * each with the number of failed or partial runs of its goal right before it. The window
 * functions run over four narrow columns; the whole rows are read later, a chunk at a time.
 */
export function runsToReview(db: SqliteDatabase, window: { since: string; until: string }): ReviewCandidateRef[] {
  return cached(db, `WITH numbered AS (
        SELECT r.run_id, r.goal_id, r.started_at, r.local_outcome, ROW_NUMBER() OVER (PARTITION BY r.goal_id ORDER BY r.started_at, r.run_id) AS rn
        FROM goal_runs r
        WHERE r.run_state = 'finished' AND r.goal_id IN (SELECT DISTINCT goal_id FROM goal_runs WHERE started_at >= ? AND started_at < ?)),
      streaks AS (
        SELECT n.run_id, n.started_at, n.local_outcome, n.rn - 1 - COALESCE(MAX(CASE WHEN n.local_outcome NOT IN ('failed', 'partial') THEN n.rn END)
          OVER (PARTITION BY n.goal_id ORDER BY n.rn ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS prior_failures
        FROM numbered n)
      SELECT s.run_id AS runId, CASE WHEN s.local_outcome = 'succeeded' THEN 'notable_success' ELSE s.local_outcome END AS reason, s.prior_failures AS priorFailures
      FROM streaks s
      WHERE s.started_at >= ? AND s.started_at < ?
        AND (s.local_outcome IN ('failed', 'partial') OR (s.local_outcome = 'succeeded' AND s.prior_failures >= 2))
        AND NOT EXISTS (SELECT 1 FROM after_action_reviews v WHERE v.run_id = s.run_id)
      ORDER BY s.started_at, s.run_id`).all(window.since, window.until, window.since, window.until) as ReviewCandidateRef[];
}

/** Whole runs by id (for a chunk of review candidates), in no particular order. */
export function runsById(db: SqliteDatabase, runIds: readonly string[]): RunRecord[] {
  return (cached(db, "SELECT * FROM goal_runs WHERE run_id IN (SELECT value FROM json_each(?))").all(JSON.stringify(runIds)) as Record<string, unknown>[]).map((r) => toRun(r) as RunRecord);
}

/** The outcomes of a goal's finished runs started before a time, newest first. */
export function earlierOutcomes(db: SqliteDatabase, goalId: string, before: string, limit: number): string[] {
  return cached(db, "SELECT local_outcome FROM goal_runs WHERE goal_id = ? AND run_state = 'finished' AND started_at < ? ORDER BY started_at DESC, run_id DESC LIMIT ?", true).all(goalId, before, limit) as string[];
}

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

/**
 * Finished runs in the window that proposed lessons (the agent's own, or their reviews'), one at
 * a time: at a million runs they do not fit in memory at once. The connection runs no other
 * statement until the iteration ends.
 */
export function lessonCandidateRows(db: SqliteDatabase, window: { since: string; until: string }): IterableIterator<LessonCandidateRow> {
  return cached(db, `SELECT r.run_id, g.goal_type, COALESCE(json_extract(r.actions_taken, '$[0]'), '*') AS action_type, r.failure_category,
        r.business_outcome, r.metrics_before, r.metrics_after, r.lesson_candidates AS agent_candidates, v.lesson_candidates AS review_candidates
      FROM goal_runs r JOIN goal_definitions g ON g.goal_id = r.goal_id LEFT JOIN after_action_reviews v ON v.run_id = r.run_id
      WHERE r.run_state = 'finished' AND r.started_at >= ? AND r.started_at < ?
        AND (r.lesson_candidates != '[]' OR (v.lesson_candidates IS NOT NULL AND v.lesson_candidates != '[]'))
      ORDER BY r.started_at, r.run_id`).iterate(window.since, window.until) as IterableIterator<LessonCandidateRow>;
}

const LESSON_COLUMNS = "lesson_id, goal_type, action_type, failure_category, lesson_text, category, active, confidence, review_by, source_path, archived_at";

export function listLessons(db: SqliteDatabase, options: { includeArchived: boolean }): LessonRow[] {
  const rows = (options.includeArchived
    ? cached(db, `SELECT ${LESSON_COLUMNS} FROM lessons ORDER BY lesson_id`).all()
    : cached(db, `SELECT ${LESSON_COLUMNS} FROM lessons WHERE archived_at IS NULL ORDER BY lesson_id`).all()) as (Omit<LessonRow, "active"> & { active: number })[];
  return rows.map((r) => ({ ...r, active: r.active === 1 }));
}

const VALIDATED = "r.local_outcome = 'succeeded' AND COALESCE(r.verifier_status, '') != 'failed'";
const CONTRADICTED = "r.local_outcome IN ('failed', 'partial') AND (l.failure_category IS NULL OR r.failure_category = l.failure_category)";

/**
 * The runs whose context held a lesson, with what each says of it: `validated` (succeeded, not
 * rejected by its verifier) or `contradicted` (failed or partial, with the lesson's failure
 * category when it has one); otherwise `applied` only. Newest first.
 */
export function lessonEvidence(db: SqliteDatabase, lessonId: string): LessonEvidenceRow[] {
  return cached(db, `SELECT j.value AS lesson_id, r.run_id, r.started_at,
        CASE WHEN ${VALIDATED} THEN 'validated' WHEN ${CONTRADICTED} THEN 'contradicted' ELSE 'applied' END AS verdict
      FROM goal_runs r, json_each(r.context_lessons) j JOIN lessons l ON l.lesson_id = j.value
      WHERE r.run_state = 'finished' AND j.value = ? ORDER BY r.started_at DESC, r.run_id DESC`).all(lessonId) as LessonEvidenceRow[];
}

/** The same verdicts counted per lesson, in one pass over the ledger. */
export function lessonEvidenceCounts(db: SqliteDatabase): LessonEvidenceCounts[] {
  return cached(db, `SELECT j.value AS lesson_id, COUNT(*) AS applied, COUNT(*) FILTER (WHERE ${VALIDATED}) AS validated,
        COUNT(*) FILTER (WHERE ${CONTRADICTED} AND NOT (${VALIDATED})) AS contradicted,
        MAX(CASE WHEN ${VALIDATED} THEN r.started_at END) AS last_validated_at
      FROM goal_runs r, json_each(r.context_lessons) j JOIN lessons l ON l.lesson_id = j.value
      WHERE r.run_state = 'finished' GROUP BY j.value`).all() as LessonEvidenceCounts[];
}
/** Finished runs started since a time that each rule applied to, with it in the context and without. */
export function ruleOutcomes(db: SqliteDatabase, since: string): RuleOutcomeRow[] {
  return cached(db, `SELECT json_extract(j.value, '$.rule_id') AS rule_id, COALESCE(json_extract(j.value, '$.in_context'), 1) AS in_context,
        COUNT(*) AS runs, COUNT(*) FILTER (WHERE r.local_outcome = 'succeeded' AND r.verifier_status = 'passed') AS verified
      FROM goal_runs r, json_each(r.context_rules) j
      WHERE r.run_state = 'finished' AND r.started_at >= ?
      GROUP BY 1, 2`).all(since) as RuleOutcomeRow[];
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
