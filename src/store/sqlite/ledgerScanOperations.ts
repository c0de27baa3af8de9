/**
 * The learning side's one read of the ledger: the facts of finished runs in start order, streamed
 * in chunks. What the learning cycle counts from them (outcomes, rule and lesson evidence, due
 * reviews, lesson candidates) is computed in TypeScript by src/learning/ledgerPass.ts, in one
 * pass, instead of one SQL scan per question.
 *
 * Reading a row into JavaScript costs more than SQLite's work on it: at a million runs, iterating
 * the rows as arrays of their 14 columns took 3.6-4.9 s, of which SQLite spent about 0.5 s; most
 * of the rest is per value and per row of the driver. So a run comes as 10 texts (the outcome,
 * verifier, business outcome and failure category as one, the context lessons and rules as one;
 * '' for none), and in the table's order SQLite packs 4,096 runs into one text (runs separated by
 * U+001E, fields by U+001F, characters that JSON written by goalops never holds raw and that are
 * taken out of an agent's plan), which JavaScript splits: 2.7-3.3 s for the same runs.
 */
import { LedgerOrderLostError } from "../errors.js";
import type { GoalToReview, RunFacts, ScanFields, WindowReview } from "../types.js";
import { cached, type SqliteDatabase } from "./database.js";

const RUN_SEPARATOR = "\u001e";
const FIELD_SEPARATOR = "\u001f";

// "review": every run also carries its metrics (a run due a review proposes the review's lesson
// candidates, whose impact they measure: any failed or partial run, and a success that turns out
// notable), a success its plan (a notable success's candidate names it). "evidence": the metrics
// only where a lesson candidate needs them. Metrics come only when they differ (equal texts: no
// key result moved), which spares most runs two strings. "outcomes": only what the outcome groups
// count (no run id, no context).
const MOVED = "r.metrics_before IS NOT r.metrics_after";
const FACTS = "ifnull(r.local_outcome, '') || '|' || ifnull(r.verifier_status, '') || '|' || r.business_outcome || '|' || ifnull(r.failure_category, '')";
const columns = (fields: ScanFields): string[] => {
  if (fields === "outcomes") return ["''", "r.goal_id", "r.started_at", FACTS, "r.actions_taken", "'[]' || char(29) || '[]'", "''", "''", "''", "''"];
  const when = fields === "review" ? MOVED : `r.lesson_candidates != '[]' AND ${MOVED}`;
  return [
    "r.run_id", "r.goal_id", "r.started_at", FACTS, "r.actions_taken", "r.context_lessons || char(29) || r.context_rules",
    "CASE WHEN r.lesson_candidates = '[]' THEN '' ELSE r.lesson_candidates END",
    `CASE WHEN ${when} THEN ifnull(r.metrics_before, '') ELSE '' END`, `CASE WHEN ${when} THEN ifnull(r.metrics_after, '') ELSE '' END`,
    fields === "review" ? "CASE WHEN r.local_outcome = 'succeeded' THEN ifnull(replace(replace(r.plan_summary, char(30), ' '), char(31), ' '), '') ELSE '' END" : "''",
  ];
};
const FIELDS: readonly ScanFields[] = ["review", "evidence", "outcomes"];
/** In the started_at index's order, run by run (the fallback when the table's order cannot be mended). */
const BY_INDEX = Object.fromEntries(FIELDS.map((f) => [f, `SELECT ${columns(f).join(", ")} FROM goal_runs r WHERE r.run_state = 'finished' AND r.started_at >= ? AND r.started_at < ? ORDER BY r.started_at, r.run_id`])) as Record<ScanFields, string>;
/**
 * In the table's order, a range of rowids packed into one text. The unary `+` keeps SQLite from
 * walking the started_at index instead, which costs a search of the table per run.
 */
const PACKED = Object.fromEntries(
  FIELDS.map((f) => [f, `SELECT group_concat(${columns(f).join(" || char(31) || ")}, char(30)) FROM goal_runs r
    WHERE r.rowid >= ? AND r.rowid < ? AND r.run_state = 'finished' AND +r.started_at >= ? AND +r.started_at < ?`]),
) as Record<ScanFields, string>;
/** Runs packed per text. */
const PACK_ROWS = 4096;

/** Rows held back to put runs whose rows came in a little out of order (concurrent writers) back in start order. */
const REORDER_WINDOW = 1024;

/** How a scan gets runs in start order: the table's order, mended (see runsInStartOrder), or the started_at index. */
export type StartOrder = "table" | "index";

/**
 * Finished runs started in [from, until), oldest first (ties by run id; any order for "outcomes"),
 * in chunks: as packed (up to 4,096 runs) in the table's order, `chunk` rows at a time by the index.
 * The connection runs no other statement until the iteration ends. In the table's order it may
 * throw LedgerOrderLostError; the caller scans again by "index".
 */
export function* scanFinishedRuns(db: SqliteDatabase, window: { from: string; until: string; fields: ScanFields; order?: StartOrder }, chunk = 256): Generator<RunFacts[]> {
  if (window.order !== "index") {
    yield* window.fields === "outcomes" ? runsInTableOrder(db, window.fields, window.from, window.until) : runsInStartOrder(db, window.fields, window.from, window.until);
    return;
  }
  let out: RunFacts[] = [];
  for (const row of cached(db, BY_INDEX[window.fields]).raw(true).iterate(window.from, window.until) as IterableIterator<RunFacts>) {
    out.push(row);
    if (out.length === chunk) {
      yield out;
      out = [];
    }
  }
  if (out.length > 0) yield out;
}

/**
 * The packs of a scan in the table's order: pack `i` holds the window's finished runs whose rowids
 * are in [first + i * packRows, first + (i + 1) * packRows), from the first run started at or after
 * `from` (a run's row is inserted when it starts) to the last row now. Each pack is read on its
 * own (readPack), in any thread, by any connection.
 */
export interface PackPlan {
  fields: ScanFields;
  from: string;
  until: string;
  first: number;
  packs: number;
  packRows: number;
}

/** The plan of a scan of `db` as it is now; undefined when no pack can hold a run. */
export function planPacks(db: SqliteDatabase, fields: ScanFields, from: string, until: string, packRows = PACK_ROWS): PackPlan | undefined {
  const first = (from === "" ? cached(db, "SELECT min(rowid) FROM goal_runs", true).get() : cached(db, "SELECT min(rowid) FROM goal_runs WHERE started_at >= ?", true).get(from)) as number | null;
  const last = cached(db, "SELECT max(rowid) FROM goal_runs", true).get() as number | null;
  if (first === null || last === null || last < first) return undefined;
  return { fields, from, until, first, packs: Math.floor((last - first) / packRows) + 1, packRows };
}

/** Pack `index` of `plan` as one text (unpackRuns splits it); null when it holds no run of the window. */
export function readPack(db: SqliteDatabase, plan: PackPlan, index: number): string | null {
  const low = plan.first + index * plan.packRows;
  return cached(db, PACKED[plan.fields], true).get(low, low + plan.packRows, plan.from, plan.until) as string | null;
}

/** The window's finished runs in the table's order, as packed texts, in one read transaction (unless the caller has one open). */
export function* packedRunsInTableOrder(db: SqliteDatabase, fields: ScanFields, from: string, until: string, packRows = PACK_ROWS): Generator<string> {
  const own = !db.inTransaction;
  if (own) db.exec("BEGIN");
  try {
    const plan = planPacks(db, fields, from, until, packRows);
    for (let i = 0; plan !== undefined && i < plan.packs; i++) {
      const text = readPack(db, plan, i);
      if (text !== null) yield text;
    }
  } finally {
    if (own && db.inTransaction) db.exec("COMMIT");
  }
}

/** The runs of a packed text, each as its RunFacts. */
export const unpackRuns = (text: string): RunFacts[] => text.split(RUN_SEPARATOR).map((run) => run.split(FIELD_SEPARATOR) as unknown as RunFacts);

/** The window's finished runs in the table's order, a packed text's runs at a time. */
export function* runsInTableOrder(db: SqliteDatabase, fields: ScanFields, from: string, until: string, packRows = PACK_ROWS): Generator<RunFacts[]> {
  for (const text of packedRunsInTableOrder(db, fields, from, until, packRows)) yield unpackRuns(text);
}

const isBefore = (a: RunFacts, b: RunFacts) => a[2] < b[2] || (a[2] === b[2] && a[0] < b[0]);

/**
 * Puts runs read in the table's order back in start order: a run's row is inserted when it
 * starts, so the two agree but for writers that raced each other. Walking the started_at index
 * instead costs a search of the table per run (at a million runs 6.0 s against 3.1 s for the same
 * columns). The runs of each packed text and the last `reorderWindow` runs before them are sorted
 * together, which puts back a run inserted a little late; one later than that (a run after it was
 * given out already) throws LedgerOrderLostError. What is given out is sorted, so only its first
 * run is checked against the last run given before.
 */
export class StartOrderMender {
  private held: RunFacts[] = [];
  private last: RunFacts | undefined;

  constructor(private readonly reorderWindow = REORDER_WINDOW) {}

  /** Takes the next runs in the table's order; gives the runs now certain to come next in start order, if any. */
  take(runs: readonly RunFacts[]): RunFacts[] | undefined {
    const held = this.held;
    for (const run of runs) {
      const tail = held[held.length - 1];
      if (tail === undefined || !isBefore(run, tail)) held.push(run);
      else held.splice(insertionPoint(held, run), 0, run);
    }
    if (held.length <= this.reorderWindow) return undefined;
    this.held = held.slice(held.length - this.reorderWindow);
    return this.give(held.slice(0, held.length - this.reorderWindow));
  }

  /** The runs still held, once the table's runs are all taken. */
  rest(): RunFacts[] | undefined {
    const held = this.held;
    this.held = [];
    return held.length > 0 ? this.give(held) : undefined;
  }

  private give(runs: RunFacts[]): RunFacts[] {
    const first = runs[0];
    if (first !== undefined && this.last !== undefined && isBefore(first, this.last)) throw new LedgerOrderLostError(first[0]);
    this.last = runs[runs.length - 1] ?? this.last;
    return runs;
  }
}

/** The window's finished runs in start order, read in the table's order and mended (StartOrderMender). */
export function* runsInStartOrder(db: SqliteDatabase, fields: ScanFields, from: string, until: string, reorderWindow = REORDER_WINDOW, packRows = PACK_ROWS): Generator<RunFacts[]> {
  const mender = new StartOrderMender(reorderWindow);
  for (const runs of runsInTableOrder(db, fields, from, until, packRows)) {
    const out = mender.take(runs);
    if (out !== undefined) yield out;
  }
  const rest = mender.rest();
  if (rest !== undefined) yield rest;
}

/** The runs of packed texts read in the table's order (a worker's), in start order but for "outcomes", which counts them in any order. */
export async function* runsOfPackedTexts(texts: AsyncIterable<string>, fields: ScanFields): AsyncGenerator<RunFacts[]> {
  const mender = fields === "outcomes" ? undefined : new StartOrderMender();
  for await (const text of texts) {
    const runs = unpackRuns(text);
    const out = mender === undefined ? runs : mender.take(runs);
    if (out !== undefined) yield out;
  }
  const rest = mender?.rest();
  if (rest !== undefined) yield rest;
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
  // The view writes only the column asked for.
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

/** Every goal with what a review quotes of it (archived goals included), in one read: a spec parsed per goal cost 190 ms at 10,000 goals. */
export function goalsToReview(db: SqliteDatabase): GoalToReview[] {
  const rows = cached(db, "SELECT goal_id, goal_type, title, json_extract(spec_json, '$.success_metrics') FROM goal_definitions").raw(true).all() as [string, string, string, string | null][];
  return rows.map(([goal_id, goal_type, title, metrics]) => ({ goal_id, goal_type, title, spec: metrics === null ? {} : { success_metrics: JSON.parse(metrics) as unknown } }));
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
