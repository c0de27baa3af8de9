/**
 * Dispatch: runs a goal's work as an agent job (src/continuity/agentJob.ts) and records it on the
 * run. The run is started (or, on resume, found) and its dispatch recorded BEFORE the command
 * starts, so a crash between "work started" and "run recorded" leaves a run that startup
 * reconciliation sees; a resumed run's command gets its checkpoint back on stdin, so it continues
 * instead of repeating what it did.
 *
 * The command (a goal's `dispatch.command`, else goalops.yaml's `dispatch.command`) gets on stdin
 * one JSON object: { run_id, goal_id, attempt, trigger, resume: { checkpoint_ref, checkpoint_state }
 * | null, context } and in its environment GOALOPS_RUN_ID, GOALOPS_GOAL_ID, GOALOPS_REPO and, under
 * the daemon, GOALOPS_URL and GOALOPS_TOKEN_FILE (to checkpoint and finish over the API).
 *
 * When the command ends and its run is not finished yet (the agent may finish it itself), the run
 * is finished from the command: its last stdout line when that is a JSON report
 * ({"outcome": ..., "failure_category": ..., "verifier": ..., "actions": [...], "notes": ...}),
 * else exit 0 = succeeded, another exit = failed (tool_error), past the timeout = failed
 * (execution_timeout), not startable = failed (tool_error). A job stopped by the shutdown manager
 * is left unfinished: the shutdown checkpoints its run.
 */
import { readFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import type { GoalOps } from "../index.js";
import type { ResolvedConfig } from "../spec/config.js";
import { intervalMs } from "../spec/interval.js";
import type { DispatchSpec } from "../spec/types.js";
import type { GoalOpsStore, OpenRunRow, RunDispatch, RunRecord } from "../store/types.js";
import type { Logger } from "../daemon/logger.js";
import { type AgentJobResult, type RunningAgentJob, startAgentJob } from "./agentJob.js";
import type { JobStopper } from "./shutdownManager.js";

export interface DispatchRequest {
  goalId: string;
  /** What asked: schedule, retry, resume, router, watchdog, api, cli. */
  trigger: string;
  /** The job id of the run (a retry keeps the failed run's, so attempts count on). */
  jobId?: string | null;
  /** Resume this run instead of starting a new one. */
  resumeRunId?: string;
}

export type DispatchOutcome =
  | { dispatched: true; runId: string; attempt: number; done: Promise<RunRecord | undefined> }
  | { dispatched: false; code: string; reason: string };

export const DEFAULT_TIMEOUT = "10m";
export const DEFAULT_KILL_GRACE = "5s";
export const DEFAULT_MAX_CONCURRENT = 2;

interface RunningJob {
  runId: string;
  goalId: string;
  job: RunningAgentJob;
  settled: Promise<RunRecord | undefined>;
}

/** The command a goal's jobs run, with its limits; undefined when none is configured. */
export function commandFor(goalSpec: Record<string, unknown>, config: ResolvedConfig): { command: string[]; timeoutMs: number; killGraceMs: number } | undefined {
  const own = goalSpec.dispatch as DispatchSpec | undefined;
  const defaults = config.spec.dispatch;
  const command = own?.command ?? defaults?.command;
  if (command === undefined) return undefined;
  return {
    command,
    timeoutMs: intervalMs(own?.timeout ?? defaults?.timeout ?? DEFAULT_TIMEOUT) ?? 600_000,
    killGraceMs: intervalMs(own?.kill_grace ?? defaults?.kill_grace ?? DEFAULT_KILL_GRACE) ?? 5_000,
  };
}

export class Dispatcher implements JobStopper {
  private readonly jobs = new Map<string, RunningJob>();
  private draining = false;

  constructor(
    private readonly ops: GoalOps,
    private readonly store: GoalOpsStore,
    private config: ResolvedConfig,
    private readonly log: Logger,
    /** Extra environment for every job (the daemon's URL and token file). */
    private readonly env: Record<string, string> = {},
  ) {}

  reconfigure(config: ResolvedConfig): void {
    this.config = config;
  }

  drain(): void {
    this.draining = true;
  }

  running(): { runId: string; goalId: string }[] {
    return [...this.jobs.values()].map(({ runId, goalId }) => ({ runId, goalId }));
  }

  /** Whether a job of this goal is running now. */
  busy(goalId: string): boolean {
    for (const j of this.jobs.values()) if (j.goalId === goalId) return true;
    return false;
  }

  async dispatch(request: DispatchRequest): Promise<DispatchOutcome> {
    if (this.draining) return { dispatched: false, code: "daemon.draining", reason: "the daemon is shutting down and dispatches nothing new" };
    const goal = await this.store.getGoal(request.goalId);
    if (goal === undefined) return { dispatched: false, code: "goal.not_found", reason: `no goal '${request.goalId}'` };
    if (goal.archived_at !== null) return { dispatched: false, code: "run.goal_archived", reason: `goal ${request.goalId} is archived` };
    const command = commandFor(goal.spec, this.config);
    if (command === undefined) return { dispatched: false, code: "dispatch.no_command", reason: `goal ${request.goalId} has no dispatch.command, and goalops.yaml has no default dispatch.command` };
    const limit = this.config.spec.dispatch?.max_concurrent ?? DEFAULT_MAX_CONCURRENT;
    if (this.jobs.size >= limit) return { dispatched: false, code: "dispatch.busy", reason: `${this.jobs.size} jobs are running (dispatch.max_concurrent is ${limit})` };

    let run: RunRecord;
    if (request.resumeRunId !== undefined) {
      run = await this.ops.runs.show(request.resumeRunId);
    } else {
      // A new job per dispatch (its attempts start at 1); a retry passes the failed run's job id, so attempts count on.
      const jobId = request.jobId === undefined ? `${request.trigger}:${new Date().toISOString()}` : request.jobId;
      run = await this.ops.runs.start(request.goalId, { ...(jobId !== null ? { jobId } : {}), plan: `dispatched by ${request.trigger}` });
    }
    const startedAt = new Date().toISOString();
    const record: RunDispatch = { command: command.command, pid: null, started_at: startedAt };
    // Recorded before the command starts: a crash from here on leaves a run reconciliation sees.
    await this.store.recordDispatch(run.run_id, record);
    const context = await this.ops.context(request.goalId, { runId: run.run_id });
    const input = JSON.stringify({
      run_id: run.run_id,
      goal_id: run.goal_id,
      attempt: run.attempt,
      trigger: request.trigger,
      resume: run.checkpoint_ref === null ? null : { checkpoint_ref: run.checkpoint_ref, checkpoint_state: run.checkpoint_state },
      context,
    });
    const job = startAgentJob({
      command: command.command,
      input,
      cwd: this.config.root,
      env: { ...this.env, GOALOPS_RUN_ID: run.run_id, GOALOPS_GOAL_ID: run.goal_id, GOALOPS_REPO: this.config.root },
      timeoutMs: command.timeoutMs,
      killGraceMs: command.killGraceMs,
    });
    await this.store.recordDispatch(run.run_id, { ...record, pid: job.pid });
    this.log.info(`dispatched ${run.run_id} for ${run.goal_id} (${request.trigger})`, { run_id: run.run_id, goal_id: run.goal_id, attempt: run.attempt, pid: job.pid ?? undefined, resumed_from: run.checkpoint_ref ?? undefined });
    const settled = job.done
      .then((result) => this.settle(run, record, result))
      .catch((error: unknown) => {
        this.log.error(`recording the end of ${run.run_id} failed`, { run_id: run.run_id, error: error instanceof Error ? error.message : String(error) });
        return undefined;
      })
      .finally(() => this.jobs.delete(run.run_id));
    this.jobs.set(run.run_id, { runId: run.run_id, goalId: run.goal_id, job, settled });
    return { dispatched: true, runId: run.run_id, attempt: run.attempt, done: settled };
  }

  /** Records how the command ended and finishes its run from it, unless the agent finished it or a shutdown stopped it. */
  private async settle(run: RunRecord, record: RunDispatch, result: AgentJobResult): Promise<RunRecord | undefined> {
    await this.store.recordDispatch(run.run_id, {
      ...record, pid: result.pid, exit_code: result.exitCode, signal: result.signal, timed_out: result.timedOut, stopped: result.stopped,
      start_error: result.startError, stdout_tail: result.stdoutTail.slice(-4096), stderr_tail: result.stderrTail.slice(-4096), finished_at: new Date().toISOString(),
    });
    if (result.stopped) {
      this.log.info(`stopped ${run.run_id} (${result.stopReason ?? "stop"}); its run is checkpointed`, { run_id: run.run_id });
      return undefined;
    }
    const current = await this.store.getRun(run.run_id);
    if (current === undefined || current.run_state === "finished") return current;
    const fromExit = finishFromExit(result);
    let finished: RunRecord;
    try {
      finished = await this.ops.runs.finish(run.run_id, result.report !== null && result.startError === null && !result.timedOut ? { ...fromExit, ...finishFromReport(result.report) } : fromExit);
    } catch (error) {
      // A report the ledger refuses (an unknown category, say) must not lose the run's end.
      finished = await this.ops.runs.finish(run.run_id, { ...fromExit, notes: `${fromExit.notes ?? ""} (the job's report was refused: ${(error as Error).message})`.trim() });
    }
    const level = finished.local_outcome === "succeeded" ? "info" : "warn";
    this.log[level](`${run.run_id} ${finished.local_outcome}${finished.failure_category !== null ? ` (${finished.failure_category})` : ""}`, { run_id: run.run_id, goal_id: run.goal_id, exit_code: result.exitCode ?? undefined, timed_out: result.timedOut || undefined });
    return finished;
  }

  /** Stops every running job (SIGTERM, at most `graceMs`, SIGKILL) and waits until their ends are recorded. */
  async stopAll(graceMs: number): Promise<{ runId: string; exitCode: number | null; signal: string | null }[]> {
    const jobs = [...this.jobs.values()];
    const results = await Promise.all(jobs.map(async (j) => ({ runId: j.runId, result: await j.job.stop("daemon shutdown", graceMs) })));
    await Promise.all(jobs.map((j) => j.settled));
    return results.map(({ runId, result }) => ({ runId, exitCode: result.exitCode, signal: result.signal }));
  }
}

function finishFromExit(result: AgentJobResult): { outcome: string; failureCategory?: string; notes?: string } {
  if (result.startError !== null) return { outcome: "failed", failureCategory: "tool_error", notes: `the command could not be started: ${result.startError}` };
  if (result.timedOut) return { outcome: "failed", failureCategory: "execution_timeout", notes: "killed past its timeout (its whole process group)" };
  if (result.exitCode === 0) return { outcome: "succeeded" };
  const lastError = result.stderrTail.trim().split("\n").pop() ?? "";
  return { outcome: "failed", failureCategory: "tool_error", notes: `exit ${result.exitCode ?? result.signal}${lastError !== "" ? `: ${lastError.slice(0, 500)}` : ""}` };
}

function finishFromReport(report: Record<string, unknown>) {
  const text = (v: unknown) => (typeof v === "string" ? v : undefined);
  const list = (v: unknown) => (Array.isArray(v) && v.every((x) => typeof x === "string") ? (v as string[]) : undefined);
  const fields = {
    outcome: text(report.outcome),
    verifier: text(report.verifier),
    failureCategory: text(report.failure_category),
    actions: list(report.actions),
    notes: text(report.notes),
    lessonCandidates: list(report.lesson_candidates),
  };
  return Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined));
}

/**
 * Jobs a daemon killed with -9 left running (their process groups outlive it): killed before their
 * runs are resumed, so the work never runs twice at once. A process counts as the run's job only if
 * its environment names the run (/proc; elsewhere nothing is killed).
 */
export async function killOrphanJobs(runs: readonly OpenRunRow[], log?: Logger): Promise<string[]> {
  const killed: string[] = [];
  for (const run of runs) {
    const pid = run.dispatch_pid;
    if (pid === null || run.dispatch_finished) continue;
    let environ: string;
    try {
      environ = readFileSync(`/proc/${pid}/environ`, "utf8");
    } catch {
      continue; // gone (or not ours to read)
    }
    if (!environ.split("\0").includes(`GOALOPS_RUN_ID=${run.run_id}`)) continue;
    try {
      process.kill(-pid, "SIGKILL");
    } catch {
      continue;
    }
    killed.push(run.run_id);
    log?.warn(`killed the orphaned job of ${run.run_id} (pid ${pid}) left by the previous daemon`, { run_id: run.run_id, pid });
    for (let i = 0; i < 40 && isRunning(pid); i++) await sleep(25);
  }
  return killed;
}

function isRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return !/^\d+ \(.*\) Z/.test(stat); // a zombie has exited
  } catch {
    return false;
  }
}
