/**
 * What the daemon's scheduled work does, by goal:
 * - a watchdog goal checks its condition (src/continuity/watchdog.ts); when it fires it records an
 *   alert and runs its recovery action (an open loop, a dispatch), once while it keeps holding;
 *   when it stops holding the alert is cleared;
 * - a goal with a dispatch command (its own, or goalops.yaml's default) dispatches a job;
 * - a learning goal without one runs the learning cycle in the daemon (report stored, nothing
 *   committed: proposals go through `goalops learn --commit` in CI);
 * - any other goal gets a follow_up open loop "scheduled review" (one open at a time).
 * Also: due retry loops are dispatched (a goal without a command leaves its retries to its agent),
 * and the initiative router picks the next work.
 */
import type { GoalOps } from "../index.js";
import { newPrefixedId } from "../ids.js";
import type { ResolvedConfig } from "../spec/config.js";
import { intervalMs, windowStart } from "../spec/interval.js";
import type { WatchdogSpec } from "../spec/types.js";
import type { GoalOpsStore, ScheduledGoalRow } from "../store/types.js";
import type { Logger } from "../daemon/logger.js";
import { commandFor, type DispatchOutcome, type Dispatcher } from "./dispatcher.js";
import { type RouterCandidate, type RouterKeyResult, type RouterResult, ROUTED_GOAL_TYPES, routeInitiatives } from "./initiativeRouter.js";
import type { Firing } from "./scheduler.js";
import { evaluateWatchdog, type RunCounts, runWindowKey, type WatchdogVerdict, watchdogNeeds } from "./watchdog.js";

const REVIEW_PREFIX = "Scheduled review";
/** A retry that cannot be dispatched now (jobs busy) is tried again this much later. */
const RETRY_DEFER_MS = 5_000;
const DAY_MS = 86_400_000;

export class DaemonJobs {
  constructor(
    private readonly ops: GoalOps,
    private readonly store: GoalOpsStore,
    private config: ResolvedConfig,
    private readonly dispatcher: Dispatcher,
    private readonly log: Logger,
    private readonly now: () => Date = () => new Date(),
  ) {}

  reconfigure(config: ResolvedConfig): void {
    this.config = config;
  }

  /** One firing of a goal's review_cadence. */
  async fire(goal: ScheduledGoalRow, firing: Firing): Promise<{ outcome: string; runId?: string | null }> {
    if (goal.goal_type === "watchdog" && goal.spec.watchdog !== undefined) return this.checkWatchdog(goal);
    if (commandFor(goal.spec, this.config) !== undefined) {
      const outcome = await this.dispatcher.dispatch({ goalId: goal.goal_id, trigger: firing.catchUp ? "schedule:catch-up" : "schedule" });
      return outcome.dispatched ? { outcome: `dispatched ${outcome.runId}`, runId: outcome.runId } : { outcome: `not dispatched: ${outcome.reason}` };
    }
    if (goal.goal_type === "learning") {
      const since = windowStart(undefined, this.config.spec.learning?.since, this.now()) as Date;
      const result = await this.ops.learn({ since });
      this.log.info(`learning cycle ${result.reportId}: ${result.reviews.made} reviews, ${result.proposals.length} proposals, ${result.rollbacks.length} rollbacks`, { goal_id: goal.goal_id, report_id: result.reportId });
      return { outcome: `learning cycle ${result.reportId}` };
    }
    const open = (await this.store.listLoops({ goalId: goal.goal_id, includeResolved: false })).find((l) => l.description.startsWith(REVIEW_PREFIX));
    if (open !== undefined) return { outcome: `review already open (${open.loop_id})` };
    const loop = await this.ops.loops.add({ kind: "follow_up", goalId: goal.goal_id, description: `${REVIEW_PREFIX} of "${String(goal.spec.title)}" is due (review_cadence ${String(goal.spec.review_cadence)})` });
    return { outcome: `review loop ${loop.loop_id}` };
  }

  /** A skipped overlapping firing, recorded as a run with failure category run_overlap. */
  async recordOverlap(goal: ScheduledGoalRow, firing: Firing): Promise<string> {
    const { runId } = await this.ops.runs.record({
      goalId: goal.goal_id, outcome: "failed", failureCategory: "run_overlap", jobId: `schedule:${firing.at.toISOString()}`,
      notes: "skipped: the goal's previous job was still running at this firing (schedule.overlap: skip)",
      startedAt: firing.at.toISOString(), finishedAt: firing.at.toISOString(),
    });
    return runId;
  }

  /** Reads what the watchdog's conditions need, evaluates them, and alerts (or clears the alert). */
  async checkWatchdog(goal: ScheduledGoalRow): Promise<{ outcome: string; runId?: string | null }> {
    const spec = goal.spec.watchdog as WatchdogSpec;
    const verdict = await this.evaluate(spec, goal.parent_goal_id);
    const open = await this.store.openAlert(goal.goal_id);
    const at = this.now().toISOString();
    if (!verdict.fired) {
      if (open === undefined) return { outcome: "quiet" };
      await this.store.clearAlert({ alertId: open.alert_id, at });
      this.log.info(`watchdog ${goal.goal_id} cleared: ${verdict.summary}`, { goal_id: goal.goal_id, alert_id: open.alert_id });
      return { outcome: `cleared ${open.alert_id}` };
    }
    if (open !== undefined) return { outcome: `still firing (${open.alert_id})` };
    const alertId = newPrefixedId("alert_");
    this.log.warn(`watchdog ${goal.goal_id} fired: ${verdict.summary}`, { goal_id: goal.goal_id, alert_id: alertId });
    const action = spec.action ?? {};
    const loop = await this.ops.loops.add({
      kind: action.open_loop?.kind ?? "follow_up",
      goalId: goal.goal_id,
      description: action.open_loop?.description ?? `${String(goal.spec.title)}: ${verdict.summary}`,
    });
    let dispatched: DispatchOutcome | undefined;
    if (action.dispatch !== undefined) {
      dispatched = await this.dispatcher.dispatch({ goalId: action.dispatch, trigger: `watchdog:${goal.goal_id}` });
      if (!dispatched.dispatched) this.log.warn(`watchdog ${goal.goal_id}: recovery dispatch of ${action.dispatch} refused: ${dispatched.reason}`, { goal_id: goal.goal_id });
    }
    const runId = dispatched?.dispatched ? dispatched.runId : null;
    await this.store.insertAlert({
      alert_id: alertId, goal_id: goal.goal_id, summary: verdict.summary, details: { conditions: verdict.conditions, dispatch: dispatched?.dispatched === false ? dispatched.reason : undefined },
      loop_id: loop.loop_id, run_id: runId, fired_at: at, cleared_at: null,
    });
    return { outcome: `fired ${alertId}`, runId };
  }

  private async evaluate(spec: WatchdogSpec, parentGoalId: string | null): Promise<WatchdogVerdict> {
    const needs = watchdogNeeds(spec, parentGoalId);
    const keyResults = new Map<string, { value: number | null; progress: number | null }>();
    for (const id of needs.keyResults) {
      try {
        const summary = await this.ops.keyResults.summary(id);
        keyResults.set(id, { value: summary.latest?.value ?? null, progress: summary.progress });
      } catch {
        keyResults.set(id, { value: null, progress: null }); // not a key result (any more): unknown
      }
    }
    const runs = new Map<string, RunCounts>();
    const now = this.now().getTime();
    for (const w of needs.runWindows) {
      const counts = await this.store.runCounts(w.goal, new Date(now - w.windowMs).toISOString());
      runs.set(runWindowKey(w.goal, w.windowMs), counts);
    }
    return evaluateWatchdog(spec, parentGoalId, { keyResults, runs });
  }

  /** Dispatches due retry loops of goals with a command; each loop is resolved with the run that retries it. */
  async dispatchDueRetries(): Promise<number> {
    const now = this.now();
    const withOwnCommandOnly = this.config.spec.dispatch?.command === undefined;
    let dispatched = 0;
    for (const loop of await this.store.dueRetryLoops(now.toISOString(), 20, withOwnCommandOnly)) {
      if (loop.goal_id === null) continue;
      const failed = loop.run_id === null ? undefined : await this.store.getRun(loop.run_id);
      const outcome = await this.dispatcher.dispatch({ goalId: loop.goal_id, trigger: "retry", jobId: failed?.job_id ?? null });
      if (outcome.dispatched) {
        dispatched++;
        await this.ops.loops.resolve(loop.loop_id, `retried as ${outcome.runId} (attempt ${outcome.attempt})`);
      } else {
        await this.store.touchLoop({ loopId: loop.loop_id, dueAt: new Date(now.getTime() + RETRY_DEFER_MS).toISOString(), at: now.toISOString() });
        this.log.debug(`retry ${loop.loop_id} deferred: ${outcome.reason}`, { loop_id: loop.loop_id });
        if (outcome.code === "daemon.draining" || outcome.code === "dispatch.busy") break;
      }
    }
    return dispatched;
  }

  /** The router's ranking of the work toward active key results; with `dispatch`, the first is dispatched. */
  async route(options: { dispatch: boolean; trigger?: string }): Promise<RouterResult & { dispatched?: DispatchOutcome }> {
    const [candidates, keyResultGoals, everyGoal] = await Promise.all([
      this.store.goalsOfType(ROUTED_GOAL_TYPES),
      this.store.goalsOfType(["key_result"]),
      this.store.listGoals(),
    ]);
    const statusOf = new Map(everyGoal.map((g) => [g.goal_id, g.status]));
    const keyResults: RouterKeyResult[] = [];
    for (const kr of keyResultGoals) {
      const summary = await this.ops.keyResults.summary(kr.goal_id);
      keyResults.push({ goalId: kr.goal_id, status: kr.status, health: summary.health, progress: summary.progress, parentGoalId: kr.parent_goal_id });
    }
    const since = new Date(this.now().getTime() - DAY_MS).toISOString();
    const routerCandidates: RouterCandidate[] = [];
    for (const goal of candidates) {
      const counts = await this.store.runCounts(goal.goal_id, since);
      routerCandidates.push({
        goalId: goal.goal_id, goalType: goal.goal_type, status: goal.status, priority: goal.priority, parentGoalId: goal.parent_goal_id,
        dependenciesMet: ((goal.spec.dependencies as string[] | undefined) ?? []).every((d) => statusOf.get(d) === "completed" || statusOf.get(d) === "completed_with_caveats"),
        allowedCapabilities: (goal.spec.allowed_capabilities as string[] | undefined) ?? [],
        constraints: (goal.spec.constraints as string[] | undefined) ?? [],
        hasCommand: commandFor(goal.spec, this.config) !== undefined,
        inFlight: Math.max(counts.in_flight, this.dispatcher.busy(goal.goal_id) ? 1 : 0),
        runsToday: counts.finished + counts.in_flight,
        lastRunAt: counts.last_started_at,
      });
    }
    const result = routeInitiatives({ candidates: routerCandidates, keyResults, agentCapabilities: this.config.spec.dispatch?.capabilities ?? null });
    const first = result.ranked[0];
    if (!options.dispatch || first === undefined) return result;
    return { ...result, dispatched: await this.dispatcher.dispatch({ goalId: first.goalId, trigger: options.trigger ?? "router" }) };
  }
}

/** How often the daemon looks for due retries. */
export const RETRY_POLL_MS = 1_000;

/** The router's own interval from goalops.yaml (dispatch.router_interval), if it is on. */
export function routerIntervalMs(config: ResolvedConfig): number | undefined {
  const interval = config.spec.dispatch?.router_interval;
  return interval === undefined ? undefined : intervalMs(interval);
}
