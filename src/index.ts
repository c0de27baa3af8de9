/**
 * The goalops library: the same operations as the CLI, typed, for agents and tools in TypeScript.
 * The CLI (and later the HTTP API) are thin layers over it.
 *
 *   import { openGoalOps } from "goalops";
 *   const ops = await openGoalOps({ repo: "." });
 *   await ops.sync();
 *   await ops.goals.transition("goal_...", { to: "active", reason: "kick-off", actor: "agent:planner" });
 *   await ops.close();
 */
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { findRepoRoot, loadConfig, type ResolvedConfig } from "./spec/config.js";
import { type FileProblem, problemsOf, validateRepo, type ValidationReport } from "./spec/validateRepo.js";
import { InvalidInputError } from "./errors.js";
import { GoalRegistry } from "./goals/goalRegistry.js";
import { KeyResultTracker } from "./goals/krTracker.js";
import { RunLedger } from "./runs/runLedger.js";
import { OpenLoops } from "./runs/openLoops.js";
import { AfterActionReviews } from "./learning/afterActionReviews.js";
import { OutcomeAggregator } from "./learning/outcomeAggregator.js";
import { Lessons } from "./learning/lessons.js";
import { Playbook } from "./learning/playbook.js";
import type { LearnOptions, LearningCycleResult } from "./learning/learningCycle.js";
import { type AgentContext, buildContext } from "./goals/agentContext.js";
import { Continuity } from "./continuity/continuity.js";
import type { RouterResult } from "./continuity/initiativeRouter.js";
import type { Logger } from "./daemon/logger.js";
import type { RunRecord } from "./store/types.js";

/** Dispatch and the router, loaded when used: they bring execa, which every other command would pay for at start. */
async function dispatchParts(ops: GoalOps, store: GoalOpsStore, config: ResolvedConfig, log?: Logger) {
  const [{ Dispatcher }, { DaemonJobs }, { createLogger }] = await Promise.all([import("./continuity/dispatcher.js"), import("./continuity/daemonJobs.js"), import("./daemon/logger.js")]);
  const logger = log ?? createLogger("text", () => undefined);
  const dispatcher = new Dispatcher(ops, store, config, logger);
  return { dispatcher, jobs: new DaemonJobs(ops, store, config, dispatcher, logger) };
}
import { buildStatus, type StatusReport } from "./goals/statusReport.js";
import { openStore } from "./store/openStore.js";
import type { GoalOpsStore } from "./store/types.js";
import { syncRepo, type SyncOptions, type SyncReport } from "./sync/syncRepo.js";
import { type SyncStatus, syncStatus } from "./sync/syncStatus.js";

export interface OpenOptions {
  /** Repository root (the folder holding goalops.yaml); default: the nearest one at or above `cwd`. */
  repo?: string;
  cwd?: string;
  /**
   * Use this store instead of opening the configured database (the daemon shares one connection
   * between its API and its sync). The caller closes it; `close()` leaves it open.
   */
  store?: GoalOpsStore;
  /** Use this database file instead of the configured one (a ledger copied in for a CI learning job). */
  databasePath?: string;
}

export interface GoalOps {
  readonly config: ResolvedConfig;
  readonly goals: GoalRegistry;
  readonly keyResults: KeyResultTracker;
  readonly runs: RunLedger;
  readonly loops: OpenLoops;
  /** After-action reviews of runs (PRD section 6). */
  readonly reviews: AfterActionReviews;
  /** The ledger's outcomes grouped by goal type, action and failure category. */
  readonly outcomes: OutcomeAggregator;
  /** Lessons with their evidence and confidence, and lesson candidates. */
  readonly lessons: Lessons;
  /** Playbook rules with their evidence and evaluation (promote, roll back, wait). */
  readonly playbook: Playbook;
  /** The initiative router's ranking of the work toward active key results (nothing dispatched). */
  route(): Promise<RouterResult>;
  /**
   * Runs a goal's job (without a goal: the router's first) in this process and waits for its end;
   * the daemon does the same for schedules, retries and POST /v1/dispatch.
   */
  dispatch(options?: { goalId?: string; trigger?: string; log?: Logger }): Promise<{ dispatched: false; code: string; reason: string } | { dispatched: true; run: RunRecord }>;
  /** Continuity: the last startup reconciliation and shutdown reports, watchdog alerts. */
  readonly continuity: Continuity;
  /** The learning cycle: reviews, lessons, rules, proposals as files (and a commit on the week's branch). */
  learn(options: LearnOptions): Promise<LearningCycleResult>;
  /** What an agent working on a goal should know; `runId` draws the canary rules of that run. */
  context(goalId: string, options?: { runId?: string; agent?: string }): Promise<AgentContext>;
  /** The goal tree with status, health and progress; recent runs; files that failed the last sync. */
  status(options?: { recentRuns?: number }): Promise<StatusReport>;
  /** Where syncing stands: last applied and attempted commits, recent syncs, files that failed. */
  syncStatus(options?: { recent?: number }): Promise<SyncStatus>;
  /** Checks every spec file (schemas and cross-file rules). */
  validate(paths?: readonly string[]): Promise<ValidationReport>;
  /** One reconcile of the files into the database. */
  sync(options?: Omit<SyncOptions, "dryRun">): Promise<SyncReport>;
  /** What a sync would change, without changing anything. */
  diff(options?: Omit<SyncOptions, "dryRun">): Promise<SyncReport>;
  close(): Promise<void>;
}

/** goalops.yaml is invalid: every problem, with file, line and field. */
export class InvalidConfigError extends InvalidInputError {
  constructor(readonly problems: FileProblem[]) {
    const first = problems[0];
    super("config.invalid", `goalops.yaml is invalid: ${first?.message ?? "see goalops validate"}`, first === undefined ? {} : { file: first.file, line: first.line, column: first.column, field: first.field });
  }
}

/**
 * Opens a goalops repository. The database is opened on first use (validating needs none), and
 * `diff` without a database compares against an empty one in memory: it never creates a file.
 * Throws UsageError (no repository) or InvalidConfigError (bad goalops.yaml).
 */
export async function openGoalOps(options: OpenOptions = {}): Promise<GoalOps> {
  const root = findRepoRoot(options.cwd ?? process.cwd(), options.repo);
  const loaded = loadConfig(root);
  if (!loaded.ok) throw new InvalidConfigError(problemsOf([loaded.file]));
  const config = options.databasePath === undefined ? loaded.config : { ...loaded.config, databasePath: resolve(options.databasePath) };
  const configFile = loaded.file;
  let store: GoalOpsStore | undefined = options.store;
  const getStore = (): GoalOpsStore => {
    store ??= openStore(config);
    return store;
  };
  let goals: GoalRegistry | undefined;
  let keyResults: KeyResultTracker | undefined;
  let runs: RunLedger | undefined;
  let loops: OpenLoops | undefined;
  let reviews: AfterActionReviews | undefined;
  let outcomes: OutcomeAggregator | undefined;
  let lessons: Lessons | undefined;
  let playbook: Playbook | undefined;
  let continuity: Continuity | undefined;
  const tracker = (): KeyResultTracker => {
    keyResults ??= new KeyResultTracker(getStore());
    return keyResults;
  };
  const ops: GoalOps = {
    config,
    get goals() {
      goals ??= new GoalRegistry(getStore());
      return goals;
    },
    get keyResults() {
      return tracker();
    },
    get runs() {
      runs ??= new RunLedger(getStore());
      return runs;
    },
    get loops() {
      loops ??= new OpenLoops(getStore());
      return loops;
    },
    get reviews() {
      reviews ??= new AfterActionReviews(getStore(), config);
      return reviews;
    },
    get outcomes() {
      outcomes ??= new OutcomeAggregator(getStore());
      return outcomes;
    },
    get lessons() {
      lessons ??= new Lessons(getStore(), config);
      return lessons;
    },
    get playbook() {
      playbook ??= new Playbook(getStore(), config);
      return playbook;
    },
    get continuity() {
      continuity ??= new Continuity(getStore());
      return continuity;
    },
    async route() {
      const { jobs } = await dispatchParts(ops, getStore(), config);
      return jobs.route({ dispatch: false });
    },
    async dispatch(o = {}) {
      const { dispatcher, jobs } = await dispatchParts(ops, getStore(), config, o.log);
      const trigger = o.trigger ?? "cli";
      const outcome = o.goalId !== undefined
        ? await dispatcher.dispatch({ goalId: o.goalId, trigger })
        : ((await jobs.route({ dispatch: true, trigger })).dispatched ?? { dispatched: false as const, code: "dispatch.nothing_to_route", reason: "the router found no initiative to dispatch (goalops dispatch --dry-run says why)" });
      if (!outcome.dispatched) return outcome;
      const run = (await outcome.done) ?? (await ops.runs.show(outcome.runId));
      return { dispatched: true, run };
    },
    async learn(o) {
      // Loaded when used: the cycle brings yaml's Document API and git, which the other operations never need.
      const { LearningCycle } = await import("./learning/learningCycle.js");
      return new LearningCycle(getStore(), config, { reviews: ops.reviews, lessons: ops.lessons, playbook: ops.playbook }).run(o);
    },
    context: (goalId, o = {}) => buildContext(getStore(), tracker(), goalId, o),
    status: (o = {}) => buildStatus(getStore(), tracker(), { ...o, stateDir: config.stateDir }),
    syncStatus: (o = {}) => syncStatus(getStore(), o),
    validate: async (paths = []) => validateRepo(config, configFile, paths),
    sync: (o = {}) => syncRepo(config, getStore(), o),
    diff: async (o = {}) => {
      if (store === undefined && !existsSync(config.databasePath)) {
        const empty = openStore({ ...config, databasePath: ":memory:" });
        try {
          return await syncRepo(config, empty, { ...o, dryRun: true });
        } finally {
          await empty.close();
        }
      }
      return syncRepo(config, getStore(), { ...o, dryRun: true });
    },
    close: async () => {
      if (options.store === undefined) await store?.close();
    },
  };
  return ops;
}

export { GoalOpsError, InvalidInputError, StoreError, UsageError } from "./errors.js";
export type { GoalDetail, TransitionRequest } from "./goals/goalRegistry.js";
export { TRANSITIONS, canTransition } from "./goals/stateMachine.js";
export type { KeyResultHistory, KeyResultSummary, KeyResultValue, ObjectiveProgress, RecordOptions } from "./goals/krTracker.js";
export { type Health, health, krProgress } from "./goals/krProgress.js";
export type { ResolvedConfig } from "./spec/config.js";
export type { ValidationReport, FileProblem } from "./spec/validateRepo.js";
export type { SyncReport, SyncOptions } from "./sync/syncRepo.js";
export type { SyncStatus, SyncPosition } from "./sync/syncStatus.js";
export type { FinishedRunInput, FinishRunOptions, StartRunOptions } from "./runs/runLedger.js";
export type { AddLoopOptions } from "./runs/openLoops.js";
export type { CreatedReview, DueReviews } from "./learning/afterActionReviews.js";
export type { OutcomeGroup, OutcomeReport } from "./learning/outcomeAggregator.js";
export { FAILURE_TAXONOMY } from "./learning/failureTaxonomy.js";
export { type LessonDetail, type LessonStanding, confidenceOf } from "./learning/lessons.js";
export { type LessonCandidateGroup, lessonFingerprint, normaliseLessonText } from "./learning/lessonCandidates.js";
export type { RuleDetail, RuleStanding } from "./learning/playbook.js";
export type { LearnOptions, LearningCycleResult } from "./learning/learningCycle.js";
export type { ProposedFile } from "./learning/proposals.js";
export { evaluateRule, type RuleDecision, type RuleEvidence } from "./learning/ruleEvaluation.js";
export { type AgentContext, contextMarkdown } from "./goals/agentContext.js";
export type { StatusNode, StatusReport } from "./goals/statusReport.js";
export type { GoalOpsStore, AfterActionReviewRecord, OutcomeGroupRow } from "./store/types.js";
export type { ContinuityReportRow, WatchdogAlertRow, ScheduleStateRow, RunDispatch, RunState } from "./store/types.js";
export type { ReconciliationReport, RunDecision } from "./continuity/startupReconciliation.js";
export type { ShutdownSummary } from "./continuity/shutdownManager.js";
export type { RouterResult, RankedCandidate, RouterExclusion } from "./continuity/initiativeRouter.js";
export type { OpenLoopRecord, RunRecord, GoalRecord, GoalRow, KeyResultValueRow, StateEventRow, SyncCounts } from "./store/types.js";
export type { GoalSpec, LessonSpec, PlaybookRuleSpec, ConfigSpec, GoalStatus, GoalType, FailureCategory } from "./spec/types.js";
