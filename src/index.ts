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
import { findRepoRoot, loadConfig, type ResolvedConfig } from "./spec/config.js";
import { problemsOf, validateRepo, type ValidationReport } from "./spec/validateRepo.js";
import { InvalidInputError } from "./errors.js";
import { GoalRegistry } from "./goals/goalRegistry.js";
import { KeyResultTracker } from "./goals/krTracker.js";
import { RunLedger } from "./runs/runLedger.js";
import { OpenLoops } from "./runs/openLoops.js";
import { type AgentContext, buildContext } from "./goals/agentContext.js";
import { buildStatus, type StatusReport } from "./goals/statusReport.js";
import { openStore } from "./store/openStore.js";
import type { GoalOpsStore } from "./store/types.js";
import { syncRepo, type SyncOptions, type SyncReport } from "./sync/syncRepo.js";

export interface OpenOptions {
  /** Repository root (the folder holding goalops.yaml); default: the nearest one at or above `cwd`. */
  repo?: string;
  cwd?: string;
}

export interface GoalOps {
  readonly config: ResolvedConfig;
  readonly goals: GoalRegistry;
  readonly keyResults: KeyResultTracker;
  readonly runs: RunLedger;
  readonly loops: OpenLoops;
  /** What an agent working on a goal should know; `runId` draws the canary rules of that run. */
  context(goalId: string, options?: { runId?: string; agent?: string }): Promise<AgentContext>;
  /** The goal tree with status, health and progress; recent runs; files that failed the last sync. */
  status(options?: { recentRuns?: number }): Promise<StatusReport>;
  /** Checks every spec file (schemas and cross-file rules). */
  validate(paths?: readonly string[]): Promise<ValidationReport>;
  /** One reconcile of the files into the database. */
  sync(options?: Omit<SyncOptions, "dryRun">): Promise<SyncReport>;
  /** What a sync would change, without changing anything. */
  diff(options?: Omit<SyncOptions, "dryRun">): Promise<SyncReport>;
  close(): Promise<void>;
}

/** Opens a goalops repository and its database. Throws UsageError (no repo) or InvalidInputError (bad goalops.yaml). */
export async function openGoalOps(options: OpenOptions = {}): Promise<GoalOps> {
  const root = findRepoRoot(options.cwd ?? process.cwd(), options.repo);
  const loaded = loadConfig(root);
  if (!loaded.ok) {
    const first = problemsOf([loaded.file])[0];
    throw new InvalidInputError("config.invalid", `goalops.yaml is invalid: ${first?.message ?? "see goalops validate"}`, first === undefined ? {} : { file: first.file, line: first.line, column: first.column, field: first.field });
  }
  const config = loaded.config;
  const configFile = loaded.file;
  const store: GoalOpsStore = openStore(config);
  const keyResults = new KeyResultTracker(store);
  return {
    config,
    goals: new GoalRegistry(store),
    keyResults,
    context: (goalId, o = {}) => buildContext(store, keyResults, goalId, o),
    status: (o = {}) => buildStatus(store, keyResults, o),
    runs: new RunLedger(store),
    loops: new OpenLoops(store),
    validate: (paths = []) => validateRepo(config, configFile, paths),
    sync: (o = {}) => syncRepo(config, store, o),
    diff: (o = {}) => syncRepo(config, store, { ...o, dryRun: true }),
    close: () => store.close(),
  };
}

export { GoalOpsError, InvalidInputError, StoreError, UsageError } from "./errors.js";
export type { GoalDetail, TransitionRequest } from "./goals/goalRegistry.js";
export { TRANSITIONS, canTransition } from "./goals/stateMachine.js";
export type { KeyResultHistory, KeyResultSummary, KeyResultValue, ObjectiveProgress, RecordOptions } from "./goals/krTracker.js";
export { type Health, health, krProgress } from "./goals/krProgress.js";
export type { ResolvedConfig } from "./spec/config.js";
export type { ValidationReport, FileProblem } from "./spec/validateRepo.js";
export type { SyncReport, SyncOptions } from "./sync/syncRepo.js";
export type { FinishedRunInput, FinishRunOptions, StartRunOptions } from "./runs/runLedger.js";
export type { AddLoopOptions } from "./runs/openLoops.js";
export { type AgentContext, contextMarkdown } from "./goals/agentContext.js";
export type { StatusNode, StatusReport } from "./goals/statusReport.js";
export type { OpenLoopRecord, RunRecord, GoalRecord, GoalRow, KeyResultValueRow, StateEventRow, SyncCounts } from "./store/types.js";
export type { GoalSpec, LessonSpec, PlaybookRuleSpec, ConfigSpec, GoalStatus, GoalType, FailureCategory } from "./spec/types.js";
