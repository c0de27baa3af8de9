/**
 * The learning side's SQL: after-action reviews, lessons and playbook rules. Its read of the
 * ledger is in ledgerScanOperations.ts.
 */
import type { AfterActionReviewRecord, LessonRow, ReviewedGoal, ReviewKind, ReviewNarrative, ReviewWrite, RuleEventRow, RuleRow } from "../types.js";
import { cached, type SqliteDatabase, transaction } from "./database.js";

const AAR_JSON = ["what_worked", "what_failed", "lesson_candidates", "recommended_changes", "sustain", "improve"] as const;

function toAar(row: Record<string, unknown> | undefined): AfterActionReviewRecord | undefined {
  if (row === undefined) return undefined;
  const aar = { ...row } as Record<string, unknown>;
  for (const column of AAR_JSON) aar[column] = JSON.parse(aar[column] as string);
  aar.promoted = aar.promoted === 1;
  return aar as unknown as AfterActionReviewRecord;
}

/** Ids of the texts and goals a write refers to, each looked up (or added) once per write. */
class ReviewRefs {
  private readonly texts = new Map<string, number>();
  private readonly lists = new WeakMap<readonly string[], number>();
  private readonly goals = new Map<string, number>();
  private readonly goalIds = new WeakMap<ReviewedGoal, number>();

  constructor(private readonly db: SqliteDatabase) {}

  /** A list's id in aar_texts (its JSON text); a frozen list (shared by many keys) is known by identity. */
  list(items: readonly string[]): number {
    const frozen = Object.isFrozen(items);
    const known = frozen ? this.lists.get(items) : undefined;
    if (known !== undefined) return known;
    const id = this.textId(items.length === 0 ? "[]" : JSON.stringify(items));
    if (frozen) this.lists.set(items, id);
    return id;
  }

  private textId(text: string): number {
    let id = this.texts.get(text);
    if (id === undefined) {
      cached(this.db, "INSERT OR IGNORE INTO aar_texts (text) VALUES (?)").run(text);
      id = cached(this.db, "SELECT text_id FROM aar_texts WHERE text = ?", true).get(text) as number;
      this.texts.set(text, id);
    }
    return id;
  }

  /** A goal's id in aar_goals; the caller keeps one object per goal, so it is known by identity. */
  goal(goal: ReviewedGoal): number {
    let id = this.goalIds.get(goal);
    if (id !== undefined) return id;
    const key = `${goal.goal_id}\0${goal.goal_type}\0${goal.title}\0${goal.intent}`;
    id = this.goals.get(key);
    if (id === undefined) {
      cached(this.db, "INSERT OR IGNORE INTO aar_goals (goal_id, goal_type, title, intent) VALUES (?, ?, ?, ?)").run(goal.goal_id, goal.goal_type, goal.title, goal.intent);
      id = cached(this.db, "SELECT goal_text_id FROM aar_goals WHERE goal_id = ? AND goal_type = ? AND title = ? AND intent = ?", true).get(goal.goal_id, goal.goal_type, goal.title, goal.intent) as number;
      this.goals.set(key, id);
    }
    this.goalIds.set(goal, id);
    return id;
  }
}

// Reviews come as one JSON list of [run_id, goal_id, reason, prior_failures, goal_text_id,
// candidates (a JSON list's text), created_at]: a cycle's notable successes (63,000 at a million
// runs) in two statements instead of a call and a text lookup each.
const INSERT_REVIEW_TEXTS = "INSERT OR IGNORE INTO aar_texts (text) SELECT DISTINCT json_extract(e.value, '$[5]') FROM json_each(?) e";
const REVIEW_COLUMNS = "run_id, goal_id, review_reason, prior_failures, goal_text_id, candidates_id, narrative_source, created_at";
const insertReviewsInto = (table: string) => `INSERT OR IGNORE INTO ${table} (${REVIEW_COLUMNS})
  SELECT json_extract(e.value, '$[0]'), json_extract(e.value, '$[1]'), json_extract(e.value, '$[2]'), json_extract(e.value, '$[3]'), json_extract(e.value, '$[4]'),
    t.text_id, 'template', json_extract(e.value, '$[6]')
  FROM json_each(?) e CROSS JOIN aar_texts t ON t.text = json_extract(e.value, '$[5]')`;
const INSERT_REVIEWS = insertReviewsInto("aar_reviews");
const STAGE_REVIEWS = insertReviewsInto("temp.staged_reviews");

function insertReviewsBody(db: SqliteDatabase, reviews: readonly ReviewWrite[], statement = INSERT_REVIEWS): number {
  const refs = new ReviewRefs(db);
  const rows = JSON.stringify(reviews.map((r) => [r.run_id, r.goal.goal_id, r.review_reason, r.prior_failures, refs.goal(r.goal), r.own_candidates.length === 0 ? "[]" : JSON.stringify(r.own_candidates), r.created_at]));
  cached(db, INSERT_REVIEW_TEXTS).run(rows);
  return cached(db, statement).run(rows).changes;
}

function stagedReviews(db: SqliteDatabase): void {
  cached(db, `CREATE TEMP TABLE IF NOT EXISTS staged_reviews (run_id TEXT PRIMARY KEY, goal_id TEXT NOT NULL, review_reason TEXT NOT NULL, prior_failures INTEGER NOT NULL,
    goal_text_id INTEGER, candidates_id INTEGER, narrative_source TEXT NOT NULL, created_at TEXT NOT NULL) WITHOUT ROWID`).run();
}

/**
 * Keeps reviews aside in a TEMP table (in memory, out of the WAL) until insertStagedReviews. A
 * learning cycle's notable successes fall at random places of the reviews' table: written as they
 * were found, 1,000 at a time, each batch rewrote most of the table's pages (about 230 MB of WAL
 * at a million runs); kept aside, they are written in one transaction, in key order.
 */
export function stageReviews(db: SqliteDatabase, reviews: readonly ReviewWrite[]): void {
  stagedReviews(db);
  transaction(db, insertReviewsBody).immediate(db, reviews, STAGE_REVIEWS);
}

/** Takes staged reviews back (by run). */
export function unstageReviews(db: SqliteDatabase, runIds: readonly string[]): void {
  stagedReviews(db);
  cached(db, "DELETE FROM temp.staged_reviews WHERE run_id IN (SELECT value FROM json_each(?))").run(JSON.stringify(runIds));
}

function insertStagedReviewsBody(db: SqliteDatabase): number {
  stagedReviews(db);
  const made = cached(db, `INSERT OR IGNORE INTO aar_reviews (${REVIEW_COLUMNS}) SELECT ${REVIEW_COLUMNS} FROM temp.staged_reviews ORDER BY run_id`).run().changes;
  cached(db, "DELETE FROM temp.staged_reviews").run();
  return made;
}

/** Writes the staged reviews (a run that has a review keeps it); returns how many were new. */
export function insertStagedReviews(db: SqliteDatabase): number {
  return transaction(db, insertStagedReviewsBody).immediate(db);
}

/** Stores reviews in one transaction (a run that has a review keeps it); returns how many were new. */
export function insertReviews(db: SqliteDatabase, reviews: readonly ReviewWrite[]): number {
  return transaction(db, insertReviewsBody).immediate(db, reviews);
}

// The window's failed and partial runs, in the table's order from the window's first run (as the
// learning scan reads them: the started_at index would cost a search of the table per run), each
// with its goal as reviewed. A run with a review is left as it is.
const INSERT_FAILURE_REVIEWS = `INSERT OR IGNORE INTO aar_reviews (${REVIEW_COLUMNS})
  SELECT r.run_id, r.goal_id, r.local_outcome, 0, g.goal_text_id, NULL, 'template', @at
  FROM goal_runs r CROSS JOIN temp.aar_due_goals g ON g.goal_id = r.goal_id
  WHERE r.rowid >= (SELECT min(rowid) FROM goal_runs WHERE started_at >= @since) AND r.run_state = 'finished'
    AND r.local_outcome IN ('failed', 'partial') AND +r.started_at >= @since AND +r.started_at < @until`;

function insertFailureReviewsBody(db: SqliteDatabase, window: { since: string; until: string }, goals: readonly ReviewedGoal[], at: string): number {
  cached(db, "CREATE TEMP TABLE IF NOT EXISTS aar_due_goals (goal_id TEXT PRIMARY KEY, goal_text_id INTEGER NOT NULL) WITHOUT ROWID").run();
  const refs = new ReviewRefs(db);
  for (const goal of goals) cached(db, "INSERT OR REPLACE INTO temp.aar_due_goals VALUES (?, ?)").run(goal.goal_id, refs.goal(goal));
  const made = cached(db, INSERT_FAILURE_REVIEWS).run({ at, since: window.since, until: window.until }).changes;
  cached(db, "DELETE FROM temp.aar_due_goals").run();
  return made;
}

/** Reviews the window's failed and partial runs that have none and whose goal `goals` holds, in one statement. */
export function insertFailureReviews(db: SqliteDatabase, window: { since: string; until: string }, goals: readonly ReviewedGoal[], at: string): number {
  return transaction(db, insertFailureReviewsBody).immediate(db, window, goals, at);
}

function saveReviewKindsBody(db: SqliteDatabase, kinds: readonly ReviewKind[]): void {
  const refs = new ReviewRefs(db);
  for (const k of kinds) cached(db, "INSERT OR IGNORE INTO aar_kinds VALUES (?, ?, ?, ?)").run(k.goal_type, k.first_action ?? "", k.failure_category ?? "", refs.list(k.own_candidates));
}

/** Stores kinds of failed runs' own lesson candidates; a kind stored already keeps its own. */
export function saveReviewKinds(db: SqliteDatabase, kinds: readonly ReviewKind[]): void {
  transaction(db, saveReviewKindsBody).immediate(db, kinds);
}

/** The runs of the reviews made at `at` that read the template's texts (read in full: for a summarizer, reviews one by one anyway). */
export function templateReviewsAt(db: SqliteDatabase, at: string): string[] {
  return cached(db, "SELECT run_id FROM aar_reviews WHERE created_at = ? AND narrative IS NULL ORDER BY run_id", true).all(at) as string[];
}

/** Replaces texts of a run's review, keeping the others. */
export function setReviewNarrative(db: SqliteDatabase, runId: string, narrative: ReviewNarrative, source: "summarizer"): AfterActionReviewRecord | undefined {
  cached(db, "UPDATE aar_reviews SET narrative = json_patch(ifnull(narrative, '{}'), ?), narrative_source = ? WHERE run_id = ?").run(JSON.stringify(narrative), source, runId);
  return getAar(db, runId);
}

/** A review by its aar_ id or by its run's grun_ id. */
export function getAar(db: SqliteDatabase, id: string): AfterActionReviewRecord | undefined {
  // An aar_ id is its run's (migration 10), or one a review from before kept: found by key either way.
  const ulid = id.startsWith("aar_") ? id.slice(4) : id;
  const runId = cached(db, "SELECT run_id FROM aar_reviews WHERE run_id IN (?, ?, ?) UNION ALL SELECT run_id FROM aar_reviews WHERE aar_id = ? LIMIT 1", true).get(id, `grun_${ulid}`, ulid, id) as string | undefined;
  return runId === undefined ? undefined : toAar(cached(db, "SELECT * FROM after_action_reviews WHERE run_id = ?").get(runId) as Record<string, unknown> | undefined);
}

export function listAars(db: SqliteDatabase, filter: { goalId?: string; limit: number }): AfterActionReviewRecord[] {
  const rows = (filter.goalId === undefined
    ? // The newest are picked from the narrow rows, then only they are joined to their texts.
      cached(db, `SELECT * FROM after_action_reviews WHERE run_id IN (SELECT run_id FROM aar_reviews ORDER BY created_at DESC, run_id DESC LIMIT ?)
        ORDER BY created_at DESC, run_id DESC`).all(filter.limit)
    : // A goal's reviews are found through its runs (goal_runs_goal): a review's goal is its run's,
      // and an index of reviews by goal nearly doubled the time to write them (migration 9).
      cached(db, `SELECT * FROM after_action_reviews WHERE run_id IN (SELECT v.run_id FROM goal_runs r JOIN aar_reviews v ON v.run_id = r.run_id
          WHERE r.goal_id = ? AND v.goal_id = r.goal_id ORDER BY v.created_at DESC, v.run_id DESC LIMIT ?)
        ORDER BY created_at DESC, run_id DESC`).all(filter.goalId, filter.limit)) as Record<string, unknown>[];
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
