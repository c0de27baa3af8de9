/**
 * Runs the ledger pass (src/learning/ledgerPass.ts) over the store: what it needs to know first
 * (goal types, lessons, the window's existing reviews), then the finished runs, streamed.
 */
import type { GoalOpsStore, LedgerScan, ScanFields } from "../store/types.js";
import { LedgerOrderLostError } from "../store/errors.js";
import { LedgerPass, type LedgerPassSetup } from "./ledgerPass.js";

/** Before every run and after every run (ISO times compare as text). */
export const BEGINNING = "";
export const END = "9999-12-31T23:59:59.999Z";

export interface LedgerScanOptions {
  /** The window: outcomes, rules, due reviews and candidates count runs started in [since, until). */
  since: string;
  until: string;
  /** Where the scan starts (default `since`): earlier runs feed lesson evidence and failure streaks. */
  from?: string;
  /**
   * What to collect beside the counts: "due" the runs due a review (with what their reviews are
   * drafted from) and the runs that proposed lessons; "candidates" only the latter. Either reads
   * the window's existing reviews first (their runs are not due; their candidates count).
   */
  collect?: "due" | "candidates";
  /** Only the outcome groups are wanted (a narrower, unordered read). */
  outcomesOnly?: boolean;
  evidenceFor?: string;
}

export interface ScanHooks {
  /** Called once what the pass needs first is read (the window's existing reviews among it), before the runs are. */
  beforeScan?: () => Promise<void>;
  /** Called after each chunk the pass took in. */
  afterChunk?: (pass: LedgerPass) => void;
  /** The scan starts over (in the started_at index's order) with a new pass: forget what the old one gave. */
  onRestart?: () => void;
}

/**
 * Reads the runs in the order the ledger recorded them, which is their start order but for
 * writers that raced each other by more than the store mends; then it starts over in the
 * started_at index's order (slower by about half), with a new pass.
 */
export async function scanLedger(store: GoalOpsStore, options: LedgerScanOptions, hooks: ScanHooks = {}): Promise<LedgerPass> {
  const window = { from: options.from ?? options.since, until: options.until, fields: fieldsFor(options) };
  // Opened first: the store may read the runs while the rest is read and the hooks run.
  const tableOrder = store.scanFinishedRuns(window);
  try {
    const [goalTypes, lessons, reviewed] = await Promise.all([
      store.goalTypes(),
      store.listLessons({ includeArchived: true }),
      options.collect !== undefined ? store.windowReviews({ since: options.since, until: options.until }) : Promise.resolve([]),
    ]);
    const setup: LedgerPassSetup = {
      since: options.since,
      goalTypes,
      lessonCategories: new Map(lessons.map((l) => [l.lesson_id, l.failure_category])),
      reviewed: new Map(reviewed.map(({ runId, ...review }) => [runId, review])),
      collect: { due: options.collect === "due", candidates: options.collect !== undefined },
      ...(options.evidenceFor !== undefined ? { evidenceFor: options.evidenceFor } : {}),
    };
    await hooks.beforeScan?.();
    const scan = async (runs: LedgerScan) => {
      const pass = new LedgerPass(setup);
      for await (const chunk of runs) {
        pass.add(chunk);
        hooks.afterChunk?.(pass);
      }
      return pass;
    };
    try {
      return await scan(tableOrder);
    } catch (error) {
      if (!(error instanceof LedgerOrderLostError)) throw error;
      hooks.onRestart?.();
      const byIndex = store.scanFinishedRuns({ ...window, order: "index" });
      try {
        return await scan(byIndex);
      } finally {
        byIndex.close();
      }
    }
  } finally {
    tableOrder.close();
  }
}

/** What the scan must read for what the pass is asked to collect. */
function fieldsFor(options: LedgerScanOptions): ScanFields {
  if (options.collect === "due") return "review";
  const evidence = options.collect !== undefined || options.evidenceFor !== undefined;
  return options.outcomesOnly && !evidence ? "outcomes" : "evidence";
}

/** Lesson evidence of every run: a scan whose window is empty. */
export function scanLessonEvidence(store: GoalOpsStore, evidenceFor?: string): Promise<LedgerPass> {
  return scanLedger(store, { from: BEGINNING, since: END, until: END, ...(evidenceFor !== undefined ? { evidenceFor } : {}) });
}
