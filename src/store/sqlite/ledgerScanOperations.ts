/**
 * The learning side's one read of the ledger: the facts of finished runs in start order, streamed
 * in chunks of raw rows (arrays, not objects: at a million runs the objects cost about half again
 * as much as the scan). What the learning cycle counts from them (outcomes, rule and lesson
 * evidence, due reviews, lesson candidates) is computed in TypeScript by src/learning/ledgerPass.ts,
 * in one pass, instead of one SQL scan per question.
 */
import type { ReviewedRun, RunFacts, ScanFields, WindowReview } from "../types.js";
import { cached, type SqliteDatabase } from "./database.js";
import { toRun } from "./runOperations.js";

// "review": a failed or partial run also carries what its review is drafted from (it is due one
// unless it has one), and its metrics; nothing of the kind for a success (a notable one is read
// by id). "evidence": the metrics only where a lesson candidate needs them for its impact.
// "outcomes": only what the outcome groups count, in no particular order (no sort).
const FOR_REVIEW = "r.local_outcome IN ('failed', 'partial')";
const COUNTED = "r.goal_id, r.started_at, r.local_outcome, r.verifier_status, r.business_outcome, r.failure_category, r.actions_taken";
const WINDOW = "FROM goal_runs r WHERE r.run_state = 'finished' AND r.started_at >= ? AND r.started_at < ?";
const withEvidence = (review: boolean) => {
  const metricsIf = review ? `r.lesson_candidates != '[]' OR ${FOR_REVIEW}` : "r.lesson_candidates != '[]'";
  const reviewFields = review
    ? `CASE WHEN ${FOR_REVIEW} THEN r.attempt END, CASE WHEN ${FOR_REVIEW} THEN r.plan_summary END, CASE WHEN ${FOR_REVIEW} THEN r.notes END, CASE WHEN ${FOR_REVIEW} THEN r.duration_seconds END`
    : "NULL, NULL, NULL, NULL";
  return `SELECT r.run_id, ${COUNTED}, r.context_lessons, r.context_rules, NULLIF(r.lesson_candidates, '[]'),
      CASE WHEN ${metricsIf} THEN r.metrics_before END, CASE WHEN ${metricsIf} THEN r.metrics_after END, ${reviewFields}
    ${WINDOW} ORDER BY r.started_at, r.run_id`;
};
const SCAN: Record<ScanFields, string> = {
  review: withEvidence(true),
  evidence: withEvidence(false),
  outcomes: `SELECT '', ${COUNTED}, '[]', '[]', NULL, NULL, NULL, NULL, NULL, NULL, NULL ${WINDOW}`,
};

/**
 * Finished runs started in [from, until), oldest first (ties by run id; any order for "outcomes"), `chunk` rows at a time
 * (small chunks: rows that die young cost the garbage collector nothing). The connection runs no
 * other statement until the iteration ends.
 */
export function* scanFinishedRuns(db: SqliteDatabase, window: { from: string; until: string; fields: ScanFields }, chunk = 256): Generator<RunFacts[]> {
  const statement = cached(db, SCAN[window.fields]).raw(true);
  let rows: RunFacts[] = [];
  for (const row of statement.iterate(window.from, window.until) as IterableIterator<RunFacts>) {
    rows.push(row);
    if (rows.length === chunk) {
      yield rows;
      rows = [];
    }
  }
  if (rows.length > 0) yield rows;
}

/**
 * The reviews the runs started in the window already have: each with its lesson candidates and,
 * when it has some, its run's metrics (for their impact). Read from the reviews' side (a third of
 * the runs at most, and none yet in a window not reviewed before); like the learning cycle's scan,
 * which starts at the ledger's beginning, its cost grows with the ledger's history.
 */
export function windowReviews(db: SqliteDatabase, window: { since: string; until: string }): WindowReview[] {
  // The reviews' table, not the after_action_reviews view: one of its texts, not all twelve.
  const rows = cached(db, `SELECT v.run_id, NULLIF(t.text, '[]'), CASE WHEN t.text != '[]' THEN r.metrics_before END, CASE WHEN t.text != '[]' THEN r.metrics_after END
      FROM aar_records v CROSS JOIN goal_runs r ON r.run_id = v.run_id LEFT JOIN aar_texts t ON t.text_id = v.lesson_candidates_id
      WHERE r.run_state = 'finished' AND r.started_at >= ? AND r.started_at < ?`).raw(true).all(window.since, window.until) as [string, string | null, string | null, string | null][];
  return rows.map(([runId, candidates, metricsBefore, metricsAfter]) => ({ runId, candidates, metricsBefore, metricsAfter }));
}

/** Every goal's type, archived goals included (their runs still count). */
export function goalTypes(db: SqliteDatabase): Map<string, string> {
  return new Map(cached(db, "SELECT goal_id, goal_type FROM goal_definitions").raw(true).all() as [string, string][]);
}

/** How many failed or partial finished runs of a goal come right before `before` (by start time). */
export function failureStreakBefore(db: SqliteDatabase, goalId: string, before: string): number {
  const statement = cached(db, "SELECT local_outcome FROM goal_runs WHERE goal_id = ? AND run_state = 'finished' AND started_at < ? ORDER BY started_at DESC, run_id DESC", true);
  let streak = 0;
  for (const outcome of statement.iterate(goalId, before) as IterableIterator<string | null>) {
    if (outcome !== "failed" && outcome !== "partial") break;
    streak++;
  }
  return streak;
}

const REVIEWED_COLUMNS = "run_id, goal_id, attempt, plan_summary, actions_taken, verifier_status, local_outcome, business_outcome, failure_category, metrics_before, metrics_after, duration_seconds, notes, lesson_candidates, started_at";

/** Runs by id with the fields a review is drafted from (not whole rows: a third of the cost), in no particular order. */
export function runsToReview(db: SqliteDatabase, runIds: readonly string[]): ReviewedRun[] {
  const rows = cached(db, `SELECT ${REVIEWED_COLUMNS} FROM goal_runs WHERE run_id IN (SELECT value FROM json_each(?))`).all(JSON.stringify(runIds)) as Record<string, unknown>[];
  return rows.map((row) => toRun(row) as ReviewedRun);
}
