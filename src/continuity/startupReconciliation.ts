/**
 * Startup reconciliation (PRD section 9), every step in order, each recorded in the
 * GoalReconciliationReport with what it found and how long it took:
 *   1. load active and blocked goals;
 *   2. load running and checkpointed runs (after an unclean stop, the ones in flight are marked
 *      interrupted);
 *   3. resume the runs the goal's policy allows, park the others with a reason;
 *   4. rebuild open loops (due retries, clarifications, follow-ups);
 *   5. load lessons for the active goal types;
 *   6. load active playbook rules (canary and full);
 *   7. emit the report (stored; `goalops report reconcile`, GET /v1/reports/reconcile).
 *
 * An unclean stop is a start with no clean-shutdown mark after the previous start. Resume policy
 * (a goal's `continuity`): a run with a checkpoint resumes from it unless resume_if_checkpointed is
 * false; a run stopped before any checkpoint is parked unless resume_if_interrupted is true (its
 * work would start again, which is safe only if it is idempotent). A resumed run is the same run
 * with its attempt counted; a parked one waits for `goalops run resume` or a finish.
 */
import { newPrefixedId } from "../ids.js";
import type { GoalOpsStore, OpenRunRow } from "../store/types.js";
import { elapsedMs, type ReportStep, runStep, stepsMarkdown } from "./stepReport.js";

export interface RunDecision {
  runId: string;
  goalId: string;
  interrupted: boolean;
  action: "resume" | "park" | "leave";
  reason: string;
  checkpointRef: string | null;
  dispatched: boolean;
}

/** What happens to one run not finished at start: a pure function of the run, its goal's policy and the stop. */
export function decideRun(run: OpenRunRow, unclean: boolean): RunDecision {
  const base = { runId: run.run_id, goalId: run.goal_id, checkpointRef: run.checkpoint_ref, dispatched: run.dispatched };
  if (run.run_state === "parked") return { ...base, interrupted: false, action: "leave", reason: "parked earlier; waits for `goalops run resume` or a finish" };
  // After a clean stop every run in flight was checkpointed: one running now started while no daemon ran.
  if (run.run_state === "running" && !unclean) return { ...base, interrupted: false, action: "leave", reason: "started while the daemon was stopped; left running" };
  const interrupted = unclean && (run.run_state === "running" || run.run_state === "checkpointed");
  const decision = (action: "resume" | "park", reason: string): RunDecision => ({ ...base, interrupted, action, reason });
  if (run.goal_archived) return decision("park", "its goal is archived");
  if (run.checkpoint_ref !== null) {
    return run.resume_if_checkpointed
      ? decision("resume", `resumed from checkpoint ${run.checkpoint_ref}`)
      : decision("park", "the goal's continuity.resume_if_checkpointed is false");
  }
  return run.resume_if_interrupted
    ? decision("resume", "stopped before any checkpoint; started again (continuity.resume_if_interrupted)")
    : decision("park", "stopped before any checkpoint; continuity.resume_if_interrupted is false");
}

export interface ReconciliationReport {
  report_id: string;
  started_at: string;
  finished_at: string;
  duration_ms: number;
  /** The previous daemon ended without a clean-shutdown mark. */
  unclean_stop: boolean;
  previous_start_at: string | null;
  last_clean_shutdown_at: string | null;
  steps: ReportStep[];
  /** Every run not finished and what was done with it (the daemon re-dispatches resumed dispatched runs). */
  runs: RunDecision[];
}

/** How many items a report lists by name (counts are always whole). */
const LISTED = 50;

export interface ReconcileOptions {
  now?: () => Date;
  /** Kills jobs a crashed daemon left running, before their runs are resumed; returns their run ids. */
  killOrphans?: (runs: readonly OpenRunRow[]) => Promise<string[]>;
}

export async function reconcileAtStartup(store: GoalOpsStore, options: ReconcileOptions = {}): Promise<ReconciliationReport> {
  const now = options.now ?? (() => new Date());
  const started = now();
  const at = started.toISOString();
  const steps: ReportStep[] = [];
  const timed = <T>(step: number, name: string, work: () => Promise<[T, Record<string, unknown>]>) => runStep(steps, step, name, work);
  const mark = await store.markStart(at);

  const goals = await timed(1, "load active and blocked goals", async () => {
    const rows = await store.goalsInStatus(["active", "blocked"]);
    const active = rows.filter((g) => g.status === "active");
    const blocked = rows.filter((g) => g.status === "blocked");
    return [rows, { active: active.length, blocked: blocked.length, blocked_goals: blocked.slice(0, LISTED).map((g) => g.goal_id) }];
  });

  const decisions = await timed(2, "load running and checkpointed runs", async () => {
    let runs = await store.openRuns();
    const orphans = mark.unclean && options.killOrphans !== undefined ? await options.killOrphans(runs) : [];
    // A killed job may have saved a checkpoint on its way out: decide on what the runs hold now.
    if (orphans.length > 0) runs = await store.openRuns();
    const decided = runs.map((r) => decideRun(r, mark.unclean));
    const interrupted = decided.filter((d) => d.interrupted).map((d) => d.runId);
    const byState = countBy(runs.map((r) => r.run_state));
    return [decided, { open_runs: runs.length, by_state: byState, interrupted: interrupted.length, interrupted_runs: interrupted.slice(0, LISTED), orphaned_jobs_killed: orphans }];
  });

  await timed(3, "resume checkpointed runs by policy; park the others", async () => {
    const resumed = decisions.filter((d) => d.action === "resume");
    const parked = decisions.filter((d) => d.action === "park");
    await store.reconcileRuns({
      at,
      interrupted: decisions.filter((d) => d.interrupted).map((d) => d.runId),
      resumed: resumed.map((d) => d.runId),
      parked: parked.map((d) => ({ runId: d.runId, reason: d.reason })),
    });
    const left = decisions.filter((d) => d.action === "leave");
    return [undefined, {
      resumed: resumed.length,
      parked: parked.length,
      left: left.length,
      resumed_runs: resumed.slice(0, LISTED).map(({ runId, goalId, reason }) => ({ run_id: runId, goal_id: goalId, reason })),
      parked_runs: parked.slice(0, LISTED).map(({ runId, goalId, reason }) => ({ run_id: runId, goal_id: goalId, reason })),
    }];
  });

  await timed(4, "rebuild open loops", async () => {
    const counts = await store.openLoopCounts(at);
    const byKind = Object.fromEntries(counts.map((c) => [c.kind, { open: c.open, due: c.due }]));
    return [undefined, { open: counts.reduce((n, c) => n + c.open, 0), due: counts.reduce((n, c) => n + c.due, 0), by_kind: byKind }];
  });

  await timed(5, "load lessons for active goal types", async () => {
    const types = [...new Set(goals.filter((g) => g.status === "active").map((g) => g.goal_type))].sort();
    const counts = await store.lessonCountsByGoalType(types);
    return [undefined, { goal_types: types, lessons: counts.reduce((n, c) => n + c.lessons, 0), by_goal_type: Object.fromEntries(counts.map((c) => [c.goal_type, c.lessons])) }];
  });

  await timed(6, "load active playbook rules", async () => {
    const counts = await store.activeRuleCounts();
    const by = Object.fromEntries(counts.map((c) => [c.mode, c.rules]));
    return [undefined, { canary: by.canary ?? 0, full: by.full ?? 0 }];
  });

  const reportId = newPrefixedId("rec_");
  const report: ReconciliationReport = {
    report_id: reportId,
    started_at: at,
    finished_at: "",
    duration_ms: 0,
    unclean_stop: mark.unclean,
    previous_start_at: mark.previousStartAt,
    last_clean_shutdown_at: mark.lastCleanShutdownAt,
    steps,
    runs: decisions,
  };
  // Step 7 is the write of the report itself: its own time is known only after, so the stored copy says 0.
  const emit: ReportStep = { step: 7, name: "emit GoalReconciliationReport", ms: 0, report_id: reportId };
  steps.push(emit);
  const t0 = performance.now();
  const finished = now();
  report.finished_at = finished.toISOString();
  report.duration_ms = finished.getTime() - started.getTime();
  const { runs, ...summary } = report;
  await store.insertContinuityReport({
    report_id: reportId, kind: "reconcile", clean: !mark.unclean,
    summary: { ...summary, runs: runs.slice(0, 1000) },
    markdown: reconciliationMarkdown(summary),
    started_at: at, finished_at: report.finished_at,
  });
  emit.ms = elapsedMs(t0);
  return report;
}

function countBy(values: readonly string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const v of values) counts[v] = (counts[v] ?? 0) + 1;
  return counts;
}

/** The report as a person reads it (`goalops report reconcile`). */
export function reconciliationMarkdown(report: Omit<ReconciliationReport, "runs">): string {
  const lines = [
    `# GoalReconciliationReport ${report.report_id}`,
    "",
    `Started ${report.started_at}, ${report.duration_ms} ms. Previous stop: ${report.unclean_stop ? `**unclean** (no clean-shutdown mark after the start at ${report.previous_start_at})` : report.previous_start_at === null ? "none (first start)" : `clean at ${report.last_clean_shutdown_at}`}.`,
    "",
  ];
  lines.push(...stepsMarkdown(report.steps));
  return `${lines.join("\n")}\n`;
}
