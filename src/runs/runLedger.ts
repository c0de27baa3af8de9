/**
 * The run ledger (PRD section 5): every attempt at a goal is a run, started and finished through
 * here. A run records the key-result values before and after, its duration, its attempt number,
 * and the lessons and playbook rules its context held (for crediting outcomes to them later).
 */
import { InvalidInputError } from "../errors.js";
import { newPrefixedId } from "../ids.js";
import { FAILURE_CATEGORIES, type RetrySpec } from "../spec/types.js";
import type { GoalHeader, GoalOpsStore, RunRecord } from "../store/types.js";
import { selectApplicable } from "../goals/agentContext.js";
import { type RetryDecision, retryDecision } from "../continuity/retryPolicy.js";

export const LOCAL_OUTCOMES = ["succeeded", "failed", "partial"] as const;
export const VERIFIER_STATUSES = ["passed", "failed", "skipped"] as const;

export interface StartRunOptions {
  jobId?: string;
  plan?: string;
  /** A repeated key returns the run it started the first time, instead of a new one. */
  idempotencyKey?: string;
}

export interface FinishRunOptions {
  outcome: string;
  verifier?: string;
  failureCategory?: string;
  actions?: string[];
  notes?: string;
  lessonCandidates?: string[];
}

/** A run reported whole, after the fact: what `start` and `finish` take, plus its times. */
export interface FinishedRunInput extends StartRunOptions, FinishRunOptions {
  goalId: string;
  /** ISO times; default: both now. */
  startedAt?: string;
  finishedAt?: string;
}

export class RunLedger {
  constructor(
    private readonly store: GoalOpsStore,
    private readonly now: () => Date = () => new Date(),
    /** The jitter of retry backoff. */
    private readonly random: () => number = Math.random,
  ) {}

  async start(goalId: string, options: StartRunOptions = {}): Promise<RunRecord & { existing: boolean }> {
    const goal = await this.store.goalHeader(goalId);
    if (goal === undefined) throw new InvalidInputError("goal.not_found", `no goal '${goalId}' in the database; run 'goalops sync' if its file is new`, { field: "goal_id" });
    if (goal.archived_at !== null) throw new InvalidInputError("run.goal_archived", `goal ${goalId} is archived; runs cannot be started on it`, { field: "goal_id" });
    const runId = newPrefixedId("grun_");
    const context = await this.contextFor(goal, runId);
    const { run, existing } = await this.store.startRun({
      runId,
      goalId,
      jobId: options.jobId ?? null,
      planSummary: options.plan ?? null,
      idempotencyKey: options.idempotencyKey ?? null,
      metricsBefore: await this.metricsOf(goal),
      contextLessons: context.lessons,
      contextRules: context.rules,
      at: this.now().toISOString(),
    });
    return { ...run, existing };
  }

  /**
   * Finishes a run. A failed or partial run whose failure category the goal's retry policy retries
   * gets a retry open loop, due after the backoff (src/continuity/retryPolicy.ts); `retry` says
   * what was decided.
   */
  async finish(runId: string, options: FinishRunOptions): Promise<RunRecord & { retry?: RetryDecision & { loop_id?: string; due_at?: string } }> {
    const { outcome, verifier, failureCategory } = checkFinish(options);
    const goalId = await this.store.runGoalId(runId);
    if (goalId === undefined) throw new InvalidInputError("run.not_found", `no run '${runId}'`, { field: "run_id" });
    const goal = (await this.store.goalHeader(goalId)) as GoalHeader;
    const run = await this.store.finishRun({
      runId,
      outcome,
      verifier,
      failureCategory,
      actions: options.actions ?? [],
      notes: options.notes ?? null,
      lessonCandidates: options.lessonCandidates ?? [],
      metricsAfter: await this.metricsOf(goal),
      at: this.now().toISOString(),
    });
    if (outcome === "succeeded" || failureCategory === null) return run;
    return { ...run, retry: await this.scheduleRetry(run) };
  }

  /** A retry loop for a failed run, when the goal's policy retries its failure category. */
  private async scheduleRetry(run: RunRecord): Promise<RetryDecision & { loop_id?: string; due_at?: string }> {
    const goal = await this.store.getGoal(run.goal_id);
    const decision = retryDecision({
      failureCategory: run.failure_category,
      outcome: run.local_outcome ?? "failed",
      attempt: run.attempt,
      policy: goal?.spec.retry as RetrySpec | undefined,
      random: this.random,
    });
    if (!decision.retry) return decision;
    const now = this.now();
    const due = new Date(now.getTime() + (decision.delayMs ?? 0)).toISOString();
    const loop = await this.store.addLoop({
      loopId: newPrefixedId("loop_"), goalId: run.goal_id, runId: run.run_id, kind: "retry",
      description: `retry after ${run.failure_category}: ${decision.reason}`, dueAt: due, at: now.toISOString(),
    });
    return { ...decision, loop_id: loop.loop_id, due_at: due };
  }

  /** Resumes a parked, interrupted or checkpointed run by hand: the same run, its attempt counted. */
  resume(runId: string): Promise<RunRecord> {
    return this.store.resumeRun({ runId, at: this.now().toISOString() });
  }

  /** Records one finished run in one transaction; returns its id (the first run's id for a repeated idempotency key). */
  async record(run: FinishedRunInput): Promise<{ runId: string; existing: boolean }> {
    return (await this.recordMany([run]))[0] as { runId: string; existing: boolean };
  }

  /**
   * Records finished runs in one transaction (for agents that report in batches, and imports).
   * Each is checked as `finish` checks; the goal, its key-result values and its context candidates
   * are read once per goal for the whole batch.
   */
  async recordMany(runs: readonly FinishedRunInput[]): Promise<{ runId: string; existing: boolean }[]> {
    const now = this.now().toISOString();
    const perGoal = new Map<string, { goal: GoalHeader; metrics: Record<string, number | null>; candidates: Awaited<ReturnType<GoalOpsStore["contextCandidates"]>> }>();
    // Context candidates depend only on the goal type: read once per type for the batch.
    const perType = new Map<string, Awaited<ReturnType<GoalOpsStore["contextCandidates"]>>>();
    const writes = [];
    for (const [i, run] of runs.entries()) {
      let cached = perGoal.get(run.goalId);
      if (cached === undefined) {
        const goal = await this.store.goalHeader(run.goalId);
        if (goal === undefined) throw new InvalidInputError("goal.not_found", `run ${i + 1}: no goal '${run.goalId}' in the database`, { field: "goal_id" });
        if (goal.archived_at !== null) throw new InvalidInputError("run.goal_archived", `run ${i + 1}: goal ${run.goalId} is archived; runs cannot be recorded on it`, { field: "goal_id" });
        let candidates = perType.get(goal.goal_type);
        if (candidates === undefined) {
          candidates = await this.store.contextCandidates(goal.goal_type);
          perType.set(goal.goal_type, candidates);
        }
        cached = { goal, metrics: await this.metricsOf(goal), candidates };
        perGoal.set(run.goalId, cached);
      }
      const checked = checkFinish(run);
      const runId = newPrefixedId("grun_");
      const { lessons, evaluated } = selectApplicable(cached.goal.allowed_capabilities, cached.candidates, runId);
      const startedAt = run.startedAt ?? now;
      const finishedAt = run.finishedAt ?? now;
      for (const [field, value] of [["started_at", startedAt], ["finished_at", finishedAt]] as const) {
        if (Number.isNaN(Date.parse(value)) || !/^\d{4}-\d{2}-\d{2}/.test(value)) throw new InvalidInputError("run.bad_time", `run ${i + 1}: ${field} '${value}' is not an ISO 8601 time`, { field });
      }
      writes.push({
        runId, goalId: run.goalId, jobId: run.jobId ?? null, planSummary: run.plan ?? null, idempotencyKey: run.idempotencyKey ?? null,
        metricsBefore: cached.metrics, metricsAfter: cached.metrics, contextLessons: lessons.map((l) => l.lesson_id),
        contextRules: evaluated, at: new Date(startedAt).toISOString(),
        ...checked, actions: run.actions ?? [], notes: run.notes ?? null, lessonCandidates: run.lessonCandidates ?? [], finishedAt: new Date(finishedAt).toISOString(),
      });
    }
    return this.store.recordFinishedRuns(writes);
  }

  /**
   * Saves a resume pointer, and optionally the agent's state (any JSON, at most 64 KiB), on a run
   * not finished: a resumed run is handed both back, so nothing done before it is repeated.
   */
  checkpoint(runId: string, ref: string, state?: unknown): Promise<RunRecord> {
    if (ref.trim() === "") throw new InvalidInputError("run.empty_ref", "a checkpoint needs a resume pointer (--ref, or ref in the API)", { field: "ref" });
    if (state !== undefined && JSON.stringify(state).length > 65_536) throw new InvalidInputError("run.state_too_large", "checkpoint state is over 64 KiB; keep the state small and point at larger data with the ref", { field: "state" });
    return this.store.checkpointRun({ runId, ref, ...(state === undefined ? {} : { state }), at: this.now().toISOString() });
  }

  async show(runId: string): Promise<RunRecord> {
    const run = await this.store.getRun(runId);
    if (run === undefined) throw new InvalidInputError("run.not_found", `no run '${runId}'`, { field: "run_id" });
    return run;
  }

  list(filter: { goalId?: string; limit?: number } = {}): Promise<RunRecord[]> {
    return this.store.listRuns({ ...(filter.goalId !== undefined ? { goalId: filter.goalId } : {}), limit: filter.limit ?? 50 });
  }

  /**
   * The key results a goal's work moves: itself (a key result), its key results (an objective),
   * its parent (an initiative under a key result), or its parent objective's key results.
   */
  private async relatedKeyResults(goal: GoalHeader): Promise<string[]> {
    if (goal.goal_type === "key_result") return [goal.goal_id];
    const children = (id: string) => this.store.childKeyResultIds(id);
    if (goal.goal_type === "objective") return children(goal.goal_id);
    if (goal.parent_goal_id === null) return [];
    const parent = await this.store.goalHeader(goal.parent_goal_id);
    if (parent === undefined) return [];
    if (parent.goal_type === "key_result") return [parent.goal_id];
    return parent.goal_type === "objective" ? children(parent.goal_id) : [];
  }

  private async metricsOf(goal: GoalHeader): Promise<Record<string, number | null>> {
    const ids = await this.relatedKeyResults(goal);
    const latest = await this.store.latestKeyResultValues(ids);
    return Object.fromEntries(ids.map((id) => [id, latest.get(id)?.value ?? null]));
  }

  /** The lessons and rules a run's context holds: the same selection `goalops context --run` shows. */
  private async contextFor(goal: GoalHeader, runId: string) {
    const { lessons, evaluated } = selectApplicable(goal.allowed_capabilities, await this.store.contextCandidates(goal.goal_type), runId);
    return { lessons: lessons.map((l) => l.lesson_id), rules: evaluated };
  }
}

function checkFinish(options: FinishRunOptions) {
  const outcome = oneOf(options.outcome, LOCAL_OUTCOMES, "outcome");
  const verifier = options.verifier === undefined ? null : oneOf(options.verifier, VERIFIER_STATUSES, "verifier");
  const failureCategory = options.failureCategory === undefined ? null : oneOf(options.failureCategory, FAILURE_CATEGORIES, "failure_category");
  if (failureCategory !== null && outcome === "succeeded") {
    throw new InvalidInputError("run.failure_on_success", "a succeeded run has no failure category; use --outcome partial or failed", { field: "failure_category" });
  }
  return { outcome, verifier, failureCategory };
}

function oneOf<T extends string>(value: string, allowed: readonly T[], field: string): T {
  if (!(allowed as readonly string[]).includes(value)) throw new InvalidInputError(`run.bad_${field}`, `${field} '${value}' is not one of: ${allowed.join(", ")}`, { field });
  return value as T;
}
