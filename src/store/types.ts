/**
 * The store interface: domain operations, each one transaction, async although SQLite is
 * synchronous, so that a PostgreSQL store can implement the same interface. Nothing outside
 * src/store/ knows which database it talks to.
 */
import type { SpecProblem } from "../spec/parseYaml.js";
import type { ObjectKind } from "../spec/kinds.js";
import type { GoalStatus, StatusIntent } from "../spec/types.js";

export type SyncState = "synced" | "invalid";

/** What the store remembers of one spec file from the last sync. */
export interface FileIndexEntry {
  path: string;
  kind: ObjectKind;
  objectId: string | null;
  hash: string;
  syncState: SyncState;
  /** size:mtime:inode:ctime when last read, if it was not racy (see sync/fileSnapshot.ts). */
  statSignature: string | null;
}

/** What the store holds of one goal, lesson or rule definition. */
export interface StoredObject {
  kind: ObjectKind;
  id: string;
  path: string;
  /** Hash of the file version in force (the last good one). */
  hash: string;
  spec: Record<string, unknown>;
  archived: boolean;
  /** Goals only: runtime status and the last intent applied from the file. */
  status?: GoalStatus;
  statusIntent?: StatusIntent | null;
}

/** Part of the sync snapshot: the index entries of these paths, the definitions with these ids. */
export interface SnapshotScope {
  paths: readonly string[];
  ids: readonly string[];
}

export interface SyncSnapshot {
  files: Map<string, FileIndexEntry>;
  objects: Map<string, StoredObject>;
}

export interface StateEventInput {
  goalId: string;
  from: GoalStatus | null;
  to: GoalStatus;
  actor: string;
  reason: string;
  runId?: string;
}

export type ObjectChange = "added" | "changed" | "moved" | "restored";

export interface ObjectUpsert {
  kind: ObjectKind;
  id: string;
  path: string;
  hash: string;
  spec: Record<string, unknown>;
  change: ObjectChange;
  /** Goals: the runtime status after this sync's events, and the status it is expected to have now. */
  status?: GoalStatus;
  expectedStatus?: GoalStatus | null;
  statusIntent?: StatusIntent | null;
  /** Why the intent could not be reached; null clears it; undefined leaves the recorded one. */
  intentError?: string | null | undefined;
}

export interface ObjectArchive {
  kind: ObjectKind;
  id: string;
  path: string;
  expectedStatus?: GoalStatus;
}

export interface FileStateWrite {
  path: string;
  kind: ObjectKind;
  objectId: string | null;
  hash: string;
  syncState: SyncState;
  problems: SpecProblem[];
  statSignature: string | null;
}

/** Everything one sync writes, decided beforehand by the pure planner (src/sync/reconcilePlan.ts). */
export interface SyncPlanWrite {
  trigger: string;
  commit: string | null;
  at: string;
  upserts: ObjectUpsert[];
  archives: ObjectArchive[];
  stateEvents: StateEventInput[];
  /** Every spec file present now, with its state; files no longer present are removed from the index. */
  files: FileStateWrite[];
  removedFiles: string[];
  counts: SyncCounts;
}

export interface SyncCounts {
  added: number;
  changed: number;
  archived: number;
  restored: number;
  invalid: number;
  unchanged: number;
}

export interface SyncHistoryEntry {
  syncId: number;
  trigger: string;
  commit: string | null;
  outcome: string;
  counts: SyncCounts;
  message: string | null;
  startedAt: string;
  finishedAt: string;
}

export interface GoalRow {
  goal_id: string;
  goal_type: string;
  title: string;
  parent_goal_id: string | null;
  owner_agent: string;
  priority: number;
  status: GoalStatus;
  status_intent: StatusIntent | null;
  intent_error: string | null;
  source_path: string;
  archived_at: string | null;
}

/** What the run ledger needs of a goal, read without its spec (a run is recorded per call). */
export interface GoalHeader {
  goal_id: string;
  goal_type: string;
  parent_goal_id: string | null;
  archived_at: string | null;
  allowed_capabilities: string[];
}

/** One goal as the database holds it: its spec (the last good version) and its runtime state. */
export interface GoalRecord extends GoalRow {
  spec: Record<string, unknown>;
  content_hash: string;
  source_commit: string | null;
  created_at: string;
  updated_at: string;
}

/** A goal as `status` reads it: enough to draw the tree and compute progress and health. */
export type StatusGoalRow = Pick<GoalRecord, "goal_id" | "goal_type" | "title" | "parent_goal_id" | "priority" | "status" | "intent_error" | "created_at" | "spec">;

export interface KeyResultValueRow {
  value_id: number;
  goal_id: string;
  value: number;
  recorded_at: string;
  source: string | null;
  run_id: string | null;
  created_at: string;
}

/**
 * running: in flight. checkpointed: in flight with a resume pointer saved (by its agent, or by the
 * shutdown manager). interrupted: in flight when the daemon stopped uncleanly (set at the next
 * start, then resumed or parked). parked: left for a person by the goal's resume policy
 * (`goalops run resume`, or finish it). finished: done.
 */
export type RunState = "running" | "checkpointed" | "interrupted" | "parked" | "finished";

/** What the daemon recorded of a dispatched run's command. */
export interface RunDispatch {
  command: string[];
  pid: number | null;
  started_at: string;
  exit_code?: number | null;
  signal?: string | null;
  timed_out?: boolean;
  stopped?: boolean;
  start_error?: string | null;
  stdout_tail?: string;
  stderr_tail?: string;
  finished_at?: string;
}

/** A run as the ledger holds it (PRD section 5), list-valued columns parsed. */
export interface RunRecord {
  run_id: string;
  goal_id: string;
  job_id: string | null;
  attempt: number;
  plan_summary: string | null;
  actions_taken: string[];
  verifier_status: "passed" | "failed" | "skipped" | null;
  local_outcome: "succeeded" | "failed" | "partial" | null;
  business_outcome: "improved" | "neutral" | "degraded" | "unknown";
  failure_category: string | null;
  metrics_before: Record<string, number | null> | null;
  metrics_after: Record<string, number | null> | null;
  duration_seconds: number | null;
  checkpoint_ref: string | null;
  /** What the agent saved with its last checkpoint (any JSON), handed back on resume. */
  checkpoint_state: unknown;
  checkpointed_at: string | null;
  run_state: RunState;
  interrupted_at: string | null;
  parked_reason: string | null;
  resumed_at: string | null;
  /** Times this run was resumed; each resume also counts an attempt. */
  resume_count: number;
  dispatch: RunDispatch | null;
  idempotency_key: string | null;
  notes: string | null;
  lesson_candidates: string[];
  context_lessons: string[];
  /**
   * Every playbook rule that applied to the run, with its mode and whether it was put in the
   * context (full, or a drawn canary) or only evaluated (shadow, or a canary not drawn). Runs
   * recorded before migration 7 have no `in_context`: they listed only rules in the context.
   */
  context_rules: ContextRuleEntry[];
  started_at: string;
  finished_at: string | null;
  created_at: string;
  updated_at: string;
}

export interface RunStart {
  runId: string;
  goalId: string;
  jobId: string | null;
  planSummary: string | null;
  idempotencyKey: string | null;
  metricsBefore: Record<string, number | null>;
  contextLessons: string[];
  contextRules: ContextRuleEntry[];
  at: string;
}

export interface RunFinish {
  runId: string;
  outcome: "succeeded" | "failed" | "partial";
  verifier: "passed" | "failed" | "skipped" | null;
  failureCategory: string | null;
  actions: string[];
  notes: string | null;
  lessonCandidates: string[];
  metricsAfter: Record<string, number | null>;
  at: string;
}

export type LoopKind = "retry" | "clarification" | "follow_up";

export interface OpenLoopRecord {
  loop_id: string;
  goal_id: string | null;
  run_id: string | null;
  kind: LoopKind;
  description: string;
  loop_state: "open" | "resolved";
  due_at: string | null;
  attempts: number;
  created_at: string;
  updated_at: string;
  resolved_at: string | null;
  resolution: string | null;
}

/** A run recorded whole, start and finish at once (agents that report after the fact, imports, batches). */
export type FinishedRunWrite = RunStart & Omit<RunFinish, "runId" | "at"> & { finishedAt: string };

export interface StateEventRow {
  event_id: number;
  goal_id: string;
  from_status: GoalStatus | null;
  to_status: GoalStatus;
  actor: string;
  reason: string | null;
  run_id: string | null;
  created_at: string;
}

export interface InvalidFileRow {
  path: string;
  kind: ObjectKind;
  objectId: string | null;
  problems: SpecProblem[];
}

/** What is in force: live goals by runtime status, active lessons, live rules by mode. */
export interface DefinitionCounts {
  goals: Partial<Record<GoalStatus, number>>;
  lessons: number;
  rules: Partial<Record<"shadow" | "canary" | "full", number>>;
}

export interface NoopSyncEntry {
  trigger: string;
  commit: string | null;
  at: string;
  unchanged: number;
  invalid: number;
  /** Files whose content is unchanged but whose stat signature changed (touched, checked out again). */
  signatures: { path: string; statSignature: string | null }[];
  /** Marker of the commit these files were read from with a clean tree, or null (see git/treeState.ts). */
  cleanTreeCommit: string | null;
}

export interface GoalOpsStore extends ContinuityStore {
  /** The file index alone: cheap, for deciding whether anything changed at all. */
  readFileIndex(): Promise<Map<string, FileIndexEntry>>;
  /** The file index and every stored definition; or, given a scope, only what concerns those paths and ids. */
  readSyncSnapshot(scope?: SnapshotScope): Promise<SyncSnapshot>;
  /** Applies a sync plan in one transaction; throws StaleSnapshotError if a goal moved meanwhile. */
  applySyncPlan(plan: SyncPlanWrite): Promise<void>;
  /** Records a sync that found nothing to change (keeps the history and last attempted commit). */
  recordNoopSync(entry: NoopSyncEntry): Promise<void>;
  appendStateEvent(event: StateEventInput & { at: string; expectedFrom: GoalStatus | null }): Promise<void>;
  listGoals(options?: { includeArchived?: boolean }): Promise<GoalRow[]>;
  goalHistory(goalId: string): Promise<StateEventRow[]>;
  getGoal(goalId: string): Promise<GoalRecord | undefined>;
  goalHeader(goalId: string): Promise<GoalHeader | undefined>;
  /** Ids of the key results (not archived) under a goal. */
  childKeyResultIds(goalId: string): Promise<string[]>;
  /** Goals (not archived) that list this goal among their dependencies. */
  dependentGoals(goalId: string): Promise<GoalRecord[]>;
  /** Every goal that is not archived, by priority and title, with what `status` shows (its `spec` holds only time_horizon and key_result). */
  statusGoals(): Promise<StatusGoalRow[]>;
  /** Starts a run; with an idempotency key already used, returns that run instead (`existing: true`). */
  startRun(start: RunStart): Promise<{ run: RunRecord; existing: boolean }>;
  /** Finishes a running or checkpointed run; throws InvalidInputError if it is not (already finished). */
  finishRun(finish: RunFinish): Promise<RunRecord>;
  /** Saves a resume pointer (and the agent's state) on a run not finished. */
  checkpointRun(entry: { runId: string; ref: string; state?: unknown; at: string }): Promise<RunRecord>;
  /** Records finished runs in one transaction; a run whose idempotency key exists is skipped and its id returned. */
  recordFinishedRuns(runs: readonly FinishedRunWrite[]): Promise<{ runId: string; existing: boolean }[]>;
  getRun(runId: string): Promise<RunRecord | undefined>;
  /** The goal a run belongs to (cheaper than reading the run). */
  runGoalId(runId: string): Promise<string | undefined>;
  addLoop(loop: { loopId: string; goalId: string | null; runId: string | null; kind: LoopKind; description: string; dueAt: string | null; at: string }): Promise<OpenLoopRecord>;
  listLoops(filter: { goalId?: string; includeResolved: boolean }): Promise<OpenLoopRecord[]>;
  /** Resolves an open loop; throws InvalidInputError if it is unknown or already resolved. */
  resolveLoop(entry: { loopId: string; resolution: string | null; at: string }): Promise<OpenLoopRecord>;
  /** Active, live lessons and live playbook rules that apply to a goal type. */
  contextCandidates(goalType: string): Promise<{ lessons: { lesson_id: string; action_type: string; lesson_text: string; review_by: string | null }[]; rules: { rule_id: string; title: string; applies_to_action_type: string; rule_text: string; activation_mode: "shadow" | "canary" | "full"; canary_share: number | null }[] }>;
  listRuns(filter: { goalId?: string; limit: number }): Promise<RunRecord[]>;
  /** Children of a goal (not archived), for objective progress. */
  childGoals(goalId: string): Promise<GoalRecord[]>;
  recordKeyResultValue(entry: { goalId: string; value: number; recordedAt: string; source: string | null; runId: string | null; at: string }): Promise<KeyResultValueRow>;
  /** Values of one key result, oldest first. */
  keyResultHistory(goalId: string, limit?: number): Promise<KeyResultValueRow[]>;
  /** The latest value (by recorded_at) of each of these key results that has one. */
  latestKeyResultValues(goalIds: readonly string[]): Promise<Map<string, KeyResultValueRow>>;
  invalidFiles(): Promise<InvalidFileRow[]>;
  recentSyncs(limit?: number): Promise<SyncHistoryEntry[]>;
  getMeta(key: string): Promise<string | null>;
  countDefinitions(): Promise<DefinitionCounts>;
  /** Goals not archived (the prune guard's denominator). */
  countLiveGoals(): Promise<number>;
  /** How many spec files the last sync saw, and how many of them were invalid. */
  fileStateCounts(): Promise<{ total: number; invalid: number }>;
  /** Records the marker of the commit the files were last read from with a clean tree (or clears it). */
  setCleanTreeCommit(marker: string | null): Promise<void>;
  /**
   * The facts of the finished runs started in [from, until), oldest first (ties by run id), in
   * chunks: the learning side's one read of the ledger (src/learning/ledgerPass.ts counts from
   * them). One snapshot: the store may write between chunks, and the scan does not see it.
   * `fields` says what is read (the rest comes back null or empty): see ScanFields. `order`
   * "table" (the default) reads in the order runs were recorded, mending small disorder, and may
   * throw LedgerOrderLostError (src/store/errors.ts) part way; "index" always holds. The store
   * may begin reading at once, before the first chunk is asked for: `close` the scan if it is not
   * iterated to its end.
   */
  scanFinishedRuns(window: { from: string; until: string; fields: ScanFields; order?: "table" | "index" }): LedgerScan;
  /** The reviews that runs started in the window already have, with their lesson candidates. */
  windowReviews(window: { since: string; until: string }): Promise<WindowReview[]>;
  /** Every goal's type by id (archived goals included). */
  goalTypes(): Promise<Map<string, string>>;
  /** Every goal (archived included) with what an after-action review quotes of it. */
  goalsToReview(): Promise<GoalToReview[]>;
  /** How many failed or partial finished runs of a goal come right before `before`. */
  failureStreakBefore(goalId: string, before: string): Promise<number>;
  /** Stores reviews in one transaction (a run that has one keeps it); returns how many were new. */
  insertReviews(reviews: readonly ReviewWrite[]): Promise<number>;
  /**
   * Starts writing a learning cycle's reviews: at once, every failed or partial finished run
   * started in [since, until) that has none and whose goal `goals` holds (as reviewed now), in
   * one statement (their lesson candidates are their kinds': saveReviewKinds); then the reviews
   * given to `add`, in turn. A store may write them while the caller goes on (the SQLite store: in
   * a worker thread with a connection of its own); `finish` says how many were made.
   */
  startReviewWrite(window: { since: string; until: string }, goals: readonly ReviewedGoal[], at: string): ReviewWriter;
  /** Stores kinds of failed runs' own lesson candidates (a kind stored already keeps its candidates). */
  saveReviewKinds(kinds: readonly ReviewKind[]): Promise<void>;
  /** The runs of the reviews made at `at` whose texts are the template's (for a summarizer). */
  templateReviewsAt(at: string): Promise<string[]>;
  /** Replaces texts of a run's review (a summarizer's answer); returns the review. */
  setReviewNarrative(runId: string, narrative: ReviewNarrative, source: "summarizer"): Promise<AfterActionReviewRecord | undefined>;
  /** A review by aar_ id or by its run's id. */
  getAar(id: string): Promise<AfterActionReviewRecord | undefined>;
  listAars(filter: { goalId?: string; limit: number }): Promise<AfterActionReviewRecord[]>;
  listLessons(options: { includeArchived: boolean }): Promise<LessonRow[]>;
  listRules(options: { includeArchived: boolean }): Promise<RuleRow[]>;
  /** A rule's mode changes, oldest first. */
  ruleEvents(ruleId: string): Promise<RuleEventRow[]>;
  /** Rolls a canary or full rule back to shadow at once, with an audited event; nothing if it is shadow already. */
  rollbackRule(entry: { ruleId: string; reason: string; evidence: Record<string, unknown>; actor: string; at: string }): Promise<void>;
  /**
   * Runs `work` in a transaction that is rolled back after, whatever happens: a dry run of
   * operations that write (the learning cycle's --dry-run). For one process at a time (the CLI).
   */
  scratch<T>(work: () => Promise<T>): Promise<T>;
  insertCycleReport(report: { reportId: string; windowStart: string; windowEnd: string; summary: unknown; markdown: string; at: string }): Promise<void>;
  /** Moves the write-ahead log into the database and truncates it, so it stays bounded while readers come and go. */
  checkpointWal(): Promise<{ busy: boolean; walPages: number }>;
  /** Runs SQLite's integrity check; "ok" when the file is sound. */
  integrityCheck(): Promise<string>;
  close(): Promise<void>;
}

/** Outcome counts of one group of finished runs (the learning cycle's aggregation). */
export interface OutcomeGroupRow {
  goal_type: string;
  /** An action from actions_taken; null for the goal-type totals and for runs without actions. */
  action: string | null;
  failure_category: string | null;
  runs: number;
  succeeded: number;
  failed: number;
  partial: number;
  /** Succeeded with the verifier passed. */
  verified_success: number;
  improved: number;
  neutral: number;
  degraded: number;
  unknown: number;
}

export type ReviewReason = "failed" | "partial" | "notable_success" | "manual";

/**
 * A finished run as the learning pass reads it: ten texts, '' for none. The outcome, verifier,
 * business outcome and failure category come as one text joined by '|' (the same few recur: the
 * pass takes each apart once), the context lessons and rules (JSON) as one joined by U+001D,
 * the other JSON columns as their text (parsed once per distinct text); lesson candidates only
 * when there are some; the metrics only when they differ, and only for a run with lesson
 * candidates or (a review scan) any run; the plan only for a success (a review scan: a notable
 * success's lesson candidate names it).
 */
export type RunFacts = readonly [
  runId: string,
  goalId: string,
  startedAt: string,
  /** "<local_outcome>|<verifier_status>|<business_outcome>|<failure_category>" */
  outcome: string,
  actionsTaken: string,
  /** "<context_lessons>\u001d<context_rules>" */
  context: string,
  lessonCandidates: string,
  metricsBefore: string,
  metricsAfter: string,
  planSummary: string,
];

/**
 * What a ledger scan reads: "outcomes" only what the outcome groups count (no run id, no context,
 * in any order); "evidence" also the run id, its context lessons and rules and its lesson
 * candidates (with metrics for those); "review" also the metrics of every run and
 * the plan of a success.
 */
export type ScanFields = "outcomes" | "evidence" | "review";

/** A scan of the finished runs (GoalOpsStore.scanFinishedRuns): its chunks, iterated once; `close` ends it early. */
export interface LedgerScan extends AsyncIterable<readonly RunFacts[]> {
  close(): void;
}

/** A review a run of the window has: its lesson candidates (JSON, null when none) and, with them, its run's metrics. */
export interface WindowReview {
  runId: string;
  candidates: string | null;
  metricsBefore: string | null;
  metricsAfter: string | null;
}

/** An after-action review (PRD section 6) with the four questions of an AAR. */
export interface AfterActionReviewRecord {
  aar_id: string;
  run_id: string;
  goal_id: string;
  review_reason: ReviewReason;
  what_happened: string;
  /** The failure category and the detail, as one line (the PRD's field). */
  root_cause: string | null;
  failure_category: string | null;
  root_cause_detail: string | null;
  what_worked: string[];
  what_failed: string[];
  lesson_candidates: string[];
  recommended_changes: string[];
  /** What was supposed to happen. */
  intended: string;
  /** What happened. */
  actual: string;
  /** Why they differ. */
  difference: string;
  /** What to sustain, and what to improve. */
  sustain: string[];
  improve: string[];
  impact: string;
  detection: string;
  /** template: built from the run; summarizer: rewritten by learning.summarizer. */
  narrative_source: "template" | "summarizer";
  promoted: boolean;
  created_at: string;
}

/** A goal as a review reads it: its spec holds only its success metrics. */
export type GoalToReview = Pick<GoalRecord, "goal_id" | "goal_type" | "title" | "spec">;

/** The goal a review is made for, as it is then: the view quotes its title and intent (src/learning/afterActionReview.ts). */
export interface ReviewedGoal {
  goal_id: string;
  goal_type: string;
  title: string;
  intent: string;
}

/**
 * A review as stored (migration 10): what its texts are made from; the after_action_reviews view
 * writes them. Its id is its run's ("aar_" and the run's ULID).
 */
export interface ReviewWrite {
  run_id: string;
  review_reason: ReviewReason;
  /** A success's failed or partial runs right before it (2 or more: a notable success); 0 otherwise. */
  prior_failures: number;
  goal: ReviewedGoal;
  /** The review's own lesson candidates (the view lists the agent's first). */
  own_candidates: readonly string[];
  created_at: string;
}

/** A learning cycle's reviews being written (GoalOpsStore.startReviewWrite). */
export interface ReviewWriter {
  /** More reviews to write (a run that has one keeps it). */
  add(reviews: readonly ReviewWrite[]): void;
  /** Takes back reviews given to `add` (by run): the pass that found them started over. */
  discard(runIds: readonly string[]): void;
  /** Once everything given is written: how many reviews were made. */
  finish(): Promise<number>;
  /** The caller failed before finish: stop, keeping what was committed (each step is its own transaction). */
  abort(): void;
}

/** A kind of failed run (goal type, first action, failure category) and its review's own lesson candidates. */
export interface ReviewKind {
  goal_type: string;
  first_action: string | null;
  failure_category: string | null;
  own_candidates: readonly string[];
}

/** Texts a review's narrative replaces (a summarizer's answer), by field. */
export type ReviewNarrative = Partial<Pick<AfterActionReviewRecord, "what_happened" | "intended" | "actual" | "difference" | "root_cause_detail" | "impact" | "sustain" | "improve" | "recommended_changes">>;

export interface LessonRow {
  lesson_id: string;
  goal_type: string;
  action_type: string;
  failure_category: string | null;
  lesson_text: string;
  category: string;
  active: boolean;
  /** As the file declares it (the prior of the confidence rule). */
  confidence: number | null;
  review_by: string | null;
  source_path: string;
  archived_at: string | null;
}

export interface LessonEvidenceRow {
  lesson_id: string;
  run_id: string;
  started_at: string;
  verdict: "validated" | "contradicted" | "applied";
}

export interface ContextRuleEntry {
  rule_id: string;
  activation_mode: string;
  in_context?: boolean;
}

export interface RuleRow {
  rule_id: string;
  title: string;
  applies_to_goal_type: string;
  applies_to_action_type: string;
  rule_text: string;
  source_lesson_ids: string[];
  /** The mode its file declares. */
  file_mode: "shadow" | "canary" | "full";
  /** The mode in force: shadow while rolled back, else the file's. */
  mode: "shadow" | "canary" | "full";
  canary_share: number | null;
  rolled_back_at: string | null;
  rollback_reason: string | null;
  source_path: string;
  archived_at: string | null;
}

export interface RuleEventRow {
  event_id: number;
  rule_id: string;
  from_mode: string | null;
  to_mode: string;
  /** file: a file set it; rollback: a regression in the canary. */
  decision: string;
  reason: string;
  evidence: Record<string, unknown>;
  actor: string;
  created_at: string;
}

export interface LessonEvidenceCounts {
  lesson_id: string;
  applied: number;
  validated: number;
  contradicted: number;
  last_validated_at: string | null;
}

/** A run not finished, as startup reconciliation and the shutdown manager read it. */
export interface OpenRunRow {
  run_id: string;
  goal_id: string;
  job_id: string | null;
  attempt: number;
  run_state: Exclude<RunState, "finished">;
  checkpoint_ref: string | null;
  started_at: string;
  /** The goal's continuity policy and dispatch command, from its spec. */
  goal_archived: boolean;
  resume_if_checkpointed: boolean;
  resume_if_interrupted: boolean;
  dispatched: boolean;
  /** The process group of its dispatched job, and whether that job's end was recorded. */
  dispatch_pid: number | null;
  dispatch_finished: boolean;
}

/** What startup reconciliation changes on runs, in one transaction. */
export interface ReconcileRunsWrite {
  at: string;
  interrupted: string[];
  resumed: string[];
  parked: { runId: string; reason: string }[];
}

export interface GoalStatusRow {
  goal_id: string;
  goal_type: string;
  status: GoalStatus;
  priority: number;
  parent_goal_id: string | null;
}

/** A goal as the scheduler, watchdogs and router read it: header, runtime status and spec. */
export interface ScheduledGoalRow {
  goal_id: string;
  goal_type: string;
  status: GoalStatus;
  priority: number;
  parent_goal_id: string | null;
  spec: Record<string, unknown>;
  /** The hash of the file version in force (scheduledGoals only). */
  content_hash?: string;
}

export interface KeyResultSnapshotRow {
  goal_id: string;
  metric: string | null;
  unit: string | null;
  baseline: number;
  target: number;
  direction: "increase" | "decrease";
  value: number | null;
  recorded_at: string | null;
}

export interface ScheduleStateRow {
  goal_id: string;
  cadence: string;
  last_fired_at: string | null;
  last_run_id: string | null;
  last_outcome: string | null;
}

export interface WatchdogAlertRow {
  alert_id: string;
  goal_id: string;
  summary: string;
  details: Record<string, unknown>;
  loop_id: string | null;
  run_id: string | null;
  fired_at: string;
  cleared_at: string | null;
}

export interface ContinuityReportRow {
  report_id: string;
  kind: "reconcile" | "shutdown";
  clean: boolean | null;
  summary: Record<string, unknown>;
  markdown: string;
  started_at: string;
  finished_at: string;
}

/** Run counts of a goal (or every goal) since a time: the watchdogs' and router's statistics. */
export interface RunCountsRow {
  finished: number;
  succeeded: number;
  failed: number;
  partial: number;
  in_flight: number;
  last_started_at: string | null;
}

/** The store operations of continuity: startup reconciliation, shutdown, schedules, watchdogs, dispatch. */
export interface ContinuityStore {
  /** Records this start; says whether the previous one ended without a clean-shutdown mark. */
  markStart(at: string): Promise<{ previousStartAt: string | null; lastCleanShutdownAt: string | null; unclean: boolean }>;
  markCleanShutdown(at: string): Promise<void>;
  /** Live goals in these runtime statuses. */
  goalsInStatus(statuses: readonly GoalStatus[]): Promise<GoalStatusRow[]>;
  /** Live goals of these types, with their specs. */
  goalsOfType(goalTypes: readonly string[]): Promise<ScheduledGoalRow[]>;
  /** Active goals with a review_cadence, with their specs (all, or these ids among them). */
  scheduledGoals(goalIds?: readonly string[]): Promise<ScheduledGoalRow[]>;
  /** Active goals with a review_cadence and the hash of their file version: what the scheduler compares before re-reading. */
  scheduledGoalVersions(): Promise<{ goal_id: string; content_hash: string }[]>;
  /** A goal's runs not finished, oldest first (the agent context lists them to resume). */
  unfinishedRuns(goalId: string): Promise<RunRecord[]>;
  /** Every run not finished, oldest first, with its goal's continuity policy. */
  openRuns(): Promise<OpenRunRow[]>;
  /** Marks runs interrupted, resumes runs (attempt counted) and parks runs, in one transaction. */
  reconcileRuns(write: ReconcileRunsWrite): Promise<void>;
  /** Resumes one parked, interrupted or checkpointed run by hand; its attempt is counted. */
  resumeRun(entry: { runId: string; at: string }): Promise<RunRecord>;
  /** Marks every run in flight (running or checkpointed) checkpointed as it stands (the shutdown manager); returns them. */
  checkpointInFlight(entry: { at: string; runIds?: readonly string[] }): Promise<{ run_id: string; goal_id: string; checkpoint_ref: string | null }[]>;
  /** Open loops by kind, with how many are due by `now`. */
  openLoopCounts(now: string): Promise<{ kind: LoopKind; open: number; due: number }[]>;
  /** Open retry loops due by `now`, oldest due first; only of goals with their own dispatch command if asked. */
  dueRetryLoops(now: string, limit: number, withOwnCommandOnly: boolean): Promise<OpenLoopRecord[]>;
  /** Counts an attempt on a loop and moves its due time (a retry that is being acted on, or deferred). */
  touchLoop(entry: { loopId: string; dueAt: string | null; at: string }): Promise<void>;
  /** Active lessons per goal type, for these goal types. */
  lessonCountsByGoalType(goalTypes: readonly string[]): Promise<{ goal_type: string; lessons: number }[]>;
  /** Rules in force in canary or full mode (not rolled back), per mode. */
  activeRuleCounts(): Promise<{ mode: "canary" | "full"; rules: number }[]>;
  /** Every live key result with its latest value. */
  keyResultSnapshot(): Promise<KeyResultSnapshotRow[]>;
  insertContinuityReport(report: ContinuityReportRow): Promise<void>;
  latestContinuityReport(kind: "reconcile" | "shutdown"): Promise<ContinuityReportRow | undefined>;
  scheduleStates(): Promise<ScheduleStateRow[]>;
  recordScheduleFiring(entry: { goalId: string; cadence: string; firedAt: string; runId: string | null; outcome: string }): Promise<void>;
  /** Finished and in-flight runs of a goal (null: every goal) started since a time. */
  runCounts(goalId: string | null, since: string): Promise<RunCountsRow>;
  /** Records what the daemon ran for a run (and, when it ends, its exit and output). */
  recordDispatch(runId: string, dispatch: RunDispatch): Promise<void>;
  openAlert(goalId: string): Promise<WatchdogAlertRow | undefined>;
  insertAlert(alert: WatchdogAlertRow): Promise<void>;
  clearAlert(entry: { alertId: string; at: string }): Promise<void>;
  listAlerts(filter: { goalId?: string; limit: number }): Promise<WatchdogAlertRow[]>;
}
