/**
 * The shutdown manager (PRD section 10), every step in order, each recorded in the shutdown
 * summary (`goalops report shutdown`, GET /v1/reports/shutdown):
 *   1. drain: new dispatches and run starts are refused with a clear error;
 *   2. checkpoint in-flight runs: dispatched jobs are stopped (SIGTERM to their process group, so
 *      an agent can save a checkpoint over the API within its kill grace), requests in flight
 *      finish and the API closes, then every running run is marked checkpointed, keeping its
 *      agent's last resume pointer;
 *   3. snapshot key-result values and progress;
 *   4. flush open loops and pending retries (they are rows already; the write-ahead log is
 *      checkpointed into the database file);
 *   5. write the "what was happening" summary;
 *   6. mark last_clean_shutdown_at (the next start sees a clean stop).
 * With a deadline: a job still running when it passes is killed at once and its run checkpointed
 * as it stands; the remaining steps are database writes of a few milliseconds and always run.
 */
import { newPrefixedId } from "../ids.js";
import { krProgress } from "../goals/krProgress.js";
import type { GoalOpsStore } from "../store/types.js";
import { elapsedMs, type ReportStep, runStep, stepsMarkdown } from "./stepReport.js";

/** The daemon's running agent jobs, as the shutdown manager stops them. */
export interface JobStopper {
  /** Jobs running now. */
  running(): { runId: string; goalId: string }[];
  /** Stops every job: SIGTERM, then SIGKILL once `graceMs` (at most) has passed. */
  stopAll(graceMs: number): Promise<{ runId: string; exitCode: number | null; signal: string | null }[]>;
}

export interface ShutdownOptions {
  reason: string;
  /** Epoch ms by which the shutdown should be done. */
  deadline: number;
  /** Sets the drain flag (the API and the dispatcher refuse new work). */
  drain: () => void;
  /** After the jobs are stopped: lets work already accepted finish (requests in flight); its details join step 2. */
  settle?: () => Promise<Record<string, unknown>>;
  jobs?: JobStopper;
  /** What else was happening, from the daemon: schedules, last sync, watcher. */
  happening?: () => Promise<Record<string, unknown>>;
  now?: () => Date;
}

export interface ShutdownSummary {
  report_id: string;
  reason: string;
  started_at: string;
  finished_at: string;
  duration_ms: number;
  deadline_reached: boolean;
  steps: ReportStep[];
}

const LISTED = 50;

export async function shutDown(store: GoalOpsStore, options: ShutdownOptions): Promise<ShutdownSummary> {
  const now = options.now ?? (() => new Date());
  const started = now();
  const steps: ReportStep[] = [];
  let deadlineReached = false;
  const timed = (step: number, name: string, work: () => Promise<Record<string, unknown>>) => runStep(steps, step, name, async () => [undefined, await work()]);

  await timed(1, "drain: refuse new dispatches and run starts", async () => {
    options.drain();
    return { reason: options.reason };
  });

  await timed(2, "checkpoint in-flight runs", async () => {
    const jobs = options.jobs?.running() ?? [];
    let stopped: Awaited<ReturnType<JobStopper["stopAll"]>> = [];
    if (options.jobs !== undefined && jobs.length > 0) {
      const grace = Math.max(0, options.deadline - Date.now());
      stopped = await options.jobs.stopAll(grace);
      deadlineReached = Date.now() >= options.deadline;
    }
    // After the jobs (which may save a checkpoint over the API on SIGTERM), before the checkpoints:
    // requests in flight, a finish among them, land first.
    const settled = (await options.settle?.()) ?? {};
    const checkpointed = await store.checkpointInFlight({ at: now().toISOString() });
    return {
      ...settled,
      jobs_stopped: stopped.length,
      runs_checkpointed: checkpointed.length,
      with_resume_pointer: checkpointed.filter((r) => r.checkpoint_ref !== null).length,
      checkpointed_runs: checkpointed.slice(0, LISTED).map((r) => ({ run_id: r.run_id, goal_id: r.goal_id, checkpoint_ref: r.checkpoint_ref })),
      deadline_reached: deadlineReached,
    };
  });

  await timed(3, "snapshot key-result values", async () => {
    const krs = await store.keyResultSnapshot();
    const values = krs.map((k) => ({
      goal_id: k.goal_id,
      metric: k.metric,
      value: k.value,
      recorded_at: k.recorded_at,
      progress: k.value === null ? null : Math.round(krProgress(k, k.value) * 1000) / 1000,
    }));
    return {
      key_results: krs.length,
      with_value: values.filter((v) => v.value !== null).length,
      values: values.slice(0, 200).map((v) => ({ ...v, text: `${v.goal_id} ${v.metric}: ${v.value === null ? "no value yet" : `${v.value} (${Math.round((v.progress ?? 0) * 100)}%)`}` })),
    };
  });

  await timed(4, "flush open loops and pending retries", async () => {
    const counts = await store.openLoopCounts(now().toISOString());
    const wal = await store.checkpointWal();
    return {
      open: counts.reduce((n, c) => n + c.open, 0),
      due: counts.reduce((n, c) => n + c.due, 0),
      pending_retries: counts.find((c) => c.kind === "retry")?.open ?? 0,
      by_kind: Object.fromEntries(counts.map((c) => [c.kind, { open: c.open, due: c.due }])),
      wal_checkpointed: !wal.busy,
    };
  });

  const reportId = newPrefixedId("shut_");
  const write: ReportStep = { step: 5, name: "write the shutdown summary", ms: 0, report_id: reportId };
  const mark: ReportStep = { step: 6, name: "mark last_clean_shutdown_at", ms: 0, at: "" };
  const t0 = performance.now();
  const happening = (await options.happening?.()) ?? {};
  Object.assign(write, { happening });
  steps.push(write, mark);
  const finished = now();
  mark.at = finished.toISOString();
  const summary: ShutdownSummary = {
    report_id: reportId, reason: options.reason, started_at: started.toISOString(), finished_at: finished.toISOString(),
    duration_ms: finished.getTime() - started.getTime(), deadline_reached: deadlineReached, steps,
  };
  await store.insertContinuityReport({
    report_id: reportId, kind: "shutdown", clean: true, summary: { ...summary }, markdown: shutdownMarkdown(summary),
    started_at: summary.started_at, finished_at: summary.finished_at,
  });
  write.ms = elapsedMs(t0);
  const t1 = performance.now();
  await store.markCleanShutdown(mark.at as string);
  mark.ms = elapsedMs(t1);
  return summary;
}

/** The summary as a person reads it (`goalops report shutdown`). */
export function shutdownMarkdown(summary: ShutdownSummary): string {
  const lines = [
    `# Shutdown summary ${summary.report_id}`,
    "",
    `${summary.started_at}: ${summary.reason}; ${summary.duration_ms} ms${summary.deadline_reached ? ", **deadline reached** (what was left was checkpointed as it stood)" : ""}.`,
    "",
  ];
  lines.push(...stepsMarkdown(summary.steps));
  return `${lines.join("\n")}\n`;
}
