/**
 * The learning side's one read of the ledger: the facts of finished runs in start order, streamed
 * in chunks of raw rows (arrays, not objects: at a million runs the objects cost about half again
 * as much as the scan). What the learning cycle counts from them (outcomes, rule and lesson
 * evidence, due reviews, lesson candidates) is computed in TypeScript by src/learning/ledgerPass.ts,
 * in one pass, instead of one SQL scan per question.
 */
import { LedgerOrderLostError } from "../errors.js";
import type { RunFacts, ScanFields, WindowReview } from "../types.js";
import { cached, type SqliteDatabase } from "./database.js";

// "review": every run also carries its metrics (a run due a review proposes the review's lesson
// candidates, whose impact they measure: any failed or partial run, and a success that turns out
// notable), a success its plan (a notable success's candidate names it). "evidence": the metrics
// only where a lesson candidate needs them. Metrics come only when they differ (equal texts: no
// key result moved), which spares most runs two strings. "outcomes": only what the outcome groups
// count, in no particular order (no sort).
const MOVED = "r.metrics_before IS NOT r.metrics_after";
const COUNTED = "r.goal_id, r.started_at, r.local_outcome, r.verifier_status, r.business_outcome, r.failure_category, r.actions_taken";
const WINDOW = "FROM goal_runs r WHERE r.run_state = 'finished' AND r.started_at >= ? AND r.started_at < ?";
const withEvidence = (review: boolean) => {
  const when = review ? MOVED : `r.lesson_candidates != '[]' AND ${MOVED}`;
  const metrics = `CASE WHEN ${when} THEN r.metrics_before END, CASE WHEN ${when} THEN r.metrics_after END`;
  return `SELECT r.run_id, ${COUNTED}, r.context_lessons, r.context_rules, NULLIF(r.lesson_candidates, '[]'), ${metrics},
      ${review ? "CASE WHEN r.local_outcome = 'succeeded' THEN r.plan_summary END" : "NULL"}
    ${WINDOW} ORDER BY r.started_at, r.run_id`;
};
const SCAN: Record<ScanFields, string> = {
  review: withEvidence(true),
  evidence: withEvidence(false),
  outcomes: `SELECT '', ${COUNTED}, '[]', '[]', NULL, NULL, NULL, NULL ${WINDOW}`,
};

/**
 * Runs in the table's order, from the first run started at or after `from` (found in the
 * started_at index; the table from its beginning for BEGINNING; `from` is bound again for it). The unary `+` keeps SQLite from
 * walking that index instead, which costs a search of the table per run.
 */
const rowidFrom = (fromBeginning: boolean) => (fromBeginning ? "" : " AND r.rowid >= (SELECT min(rowid) FROM goal_runs WHERE started_at >= ?)");
const byRowid = (ordered: string, fromBeginning: boolean) =>
  ordered.replace("r.started_at >= ? AND r.started_at < ?", `+r.started_at >= ? AND +r.started_at < ?${rowidFrom(fromBeginning)}`).replace("ORDER BY r.started_at, r.run_id", "ORDER BY r.rowid");
type OrderedFields = Exclude<ScanFields, "outcomes">;
const BY_ROWID: Record<OrderedFields, [fromBeginning: string, later: string]> = {
  review: [byRowid(SCAN.review, true), byRowid(SCAN.review, false)],
  evidence: [byRowid(SCAN.evidence, true), byRowid(SCAN.evidence, false)],
};

/** Rows held back to put runs whose rows came in a little out of order (concurrent writers) back in start order. */
const REORDER_WINDOW = 1024;

/** How a scan gets runs in start order: the table's order, mended (see runsInStartOrder), or the started_at index. */
export type StartOrder = "table" | "index";

/**
 * Finished runs started in [from, until), oldest first (ties by run id; any order for "outcomes"),
 * `chunk` rows at a time (small chunks: rows that die young cost the garbage collector nothing).
 * The connection runs no other statement until the iteration ends. In the table's order it may
 * throw LedgerOrderLostError; the caller scans again by "index".
 */
export function* scanFinishedRuns(db: SqliteDatabase, window: { from: string; until: string; fields: ScanFields; order?: StartOrder }, chunk = 256): Generator<RunFacts[]> {
  const rows =
    window.fields === "outcomes" || window.order === "index"
      ? (cached(db, SCAN[window.fields]).raw(true).iterate(window.from, window.until) as IterableIterator<RunFacts>)
      : runsInStartOrder(db, window.fields, window.from, window.until);
  let out: RunFacts[] = [];
  for (const row of rows) {
    out.push(row);
    if (out.length === chunk) {
      yield out;
      out = [];
    }
  }
  if (out.length > 0) yield out;
}

const isBefore = (a: RunFacts, b: RunFacts) => a[2] < b[2] || (a[2] === b[2] && a[0] < b[0]);

/**
 * The window's finished runs in start order, read in the table's order: a run's row is inserted
 * when it starts, so the two agree but for writers that raced each other. Walking the started_at
 * index instead costs a search of the table per run (at a million runs 6.0 s against 3.1 s for the
 * same columns). Rows are held `reorderWindow` deep and sorted, which puts back a run inserted a
 * little late; one later than that (a run after it was given out already) throws
 * LedgerOrderLostError.
 */
export function* runsInStartOrder(db: SqliteDatabase, fields: OrderedFields, from: string, until: string, reorderWindow = REORDER_WINDOW): Generator<RunFacts> {
  const held: RunFacts[] = [];
  let last: RunFacts | undefined;
  const give = function* (rows: readonly RunFacts[]) {
    for (const next of rows) {
      if (last !== undefined && isBefore(next, last)) throw new LedgerOrderLostError(next[0]);
      last = next;
      yield next;
    }
  };
  const rows = from === "" ? cached(db, BY_ROWID[fields][0]).raw(true).iterate(from, until) : cached(db, BY_ROWID[fields][1]).raw(true).iterate(from, until, from);
  for (const row of rows as IterableIterator<RunFacts>) {
    const tail = held[held.length - 1];
    if (tail === undefined || !isBefore(row, tail)) held.push(row);
    else held.splice(insertionPoint(held, row), 0, row);
    if (held.length >= 2 * reorderWindow) yield* give(held.splice(0, reorderWindow));
  }
  yield* give(held);
}

/** Where `row` goes in the sorted `held` (after its equals). */
function insertionPoint(held: readonly RunFacts[], row: RunFacts): number {
  let lo = 0;
  let hi = held.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (isBefore(row, held[mid] as RunFacts)) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/**
 * The reviews the runs started in the window already have: each with its lesson candidates and,
 * when it has some, its run's metrics (for their impact). Read from the reviews' side (a third of
 * the runs at most, and none yet in a window not reviewed before); like the learning cycle's scan,
 * which starts at the ledger's beginning, its cost grows with the ledger's history.
 */
export function windowReviews(db: SqliteDatabase, window: { since: string; until: string }): WindowReview[] {
  // The view composes only the column asked for.
  const rows = cached(db, `SELECT a.run_id, NULLIF(a.lesson_candidates, '[]'), CASE WHEN a.lesson_candidates != '[]' AND ${MOVED} THEN r.metrics_before END,
      CASE WHEN a.lesson_candidates != '[]' AND ${MOVED} THEN r.metrics_after END
      FROM after_action_reviews a CROSS JOIN goal_runs r ON r.run_id = a.run_id
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
