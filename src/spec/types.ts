/**
 * TypeScript types of the spec files. They follow `schemas/*.schema.json` by hand; the
 * `*_FIELDS` lists below are checked against both the types (at compile time) and the schemas
 * (by test/schemaTypes.test.ts), so a field added to one and not the other fails the build.
 */
export const GOAL_TYPES = ["objective", "key_result", "initiative", "maintenance", "watchdog", "experiment", "learning"] as const;
export type GoalType = (typeof GOAL_TYPES)[number];

export const STATUS_INTENTS = ["planned", "ready", "active", "archived"] as const;
export type StatusIntent = (typeof STATUS_INTENTS)[number];

export const GOAL_STATUSES = [
  "planned", "ready", "active", "waiting", "retrying", "blocked", "checkpointed",
  "completed", "completed_with_caveats", "failed", "archived",
] as const;
export type GoalStatus = (typeof GOAL_STATUSES)[number];

export const FAILURE_CATEGORIES = [
  "interpretation_error", "planning_error", "tool_error", "execution_timeout", "verification_failure",
  "policy_block", "missing_context", "resource_limit", "external_dependency", "bad_schedule_policy", "run_overlap",
] as const;
export type FailureCategory = (typeof FAILURE_CATEGORIES)[number];

export const LESSON_CATEGORIES = ["anti_pattern", "safe_default", "winning_strategy", "policy_patch"] as const;
export type LessonCategory = (typeof LESSON_CATEGORIES)[number];

export const ACTIVATION_MODES = ["shadow", "canary", "full"] as const;
export type ActivationMode = (typeof ACTIVATION_MODES)[number];

export interface KeyResultSource {
  ingestor: "posthog" | "crm";
  query: string;
  value_path?: string;
}

export interface KeyResultSpec {
  metric: string;
  unit: string;
  baseline: number;
  target: number;
  direction: "increase" | "decrease";
  source?: KeyResultSource;
}

export interface GoalSpec {
  goal_id: string;
  goal_type: GoalType;
  title: string;
  description?: string;
  parent_goal_id?: string;
  owner_agent: string;
  priority: number;
  success_metrics?: string[];
  failure_conditions?: string[];
  constraints?: string[];
  review_cadence?: string;
  start_condition?: string;
  stop_condition?: string;
  time_horizon?: string;
  dependencies?: string[];
  allowed_capabilities?: string[];
  learning_required?: boolean;
  status?: StatusIntent;
  key_result?: KeyResultSpec;
  schedule?: ScheduleSpec;
  continuity?: ContinuitySpec;
  retry?: RetrySpec;
  dispatch?: DispatchSpec;
  watchdog?: WatchdogSpec;
}

/** How `review_cadence` fires in the daemon. */
export interface ScheduleSpec {
  /** IANA time zone the cron expression is read in; default UTC. */
  timezone?: string;
  /** A firing while the goal's previous job still runs: skip it (recorded as run_overlap) or run both. Default skip. */
  overlap?: "skip" | "allow";
  /** Firings missed while the daemon was down: one runs once at start, none drops them. Default one. */
  catch_up?: "one" | "none";
}

/** What startup reconciliation does with this goal's runs that a stop left behind. */
export interface ContinuitySpec {
  /** A run checkpointed (or interrupted after a checkpoint) is resumed from its checkpoint. Default true. */
  resume_if_checkpointed?: boolean;
  /** A run interrupted before any checkpoint is started over (its work must be idempotent). Default false: parked. */
  resume_if_interrupted?: boolean;
}

/** Failure categories that may be retried; policy_block and interpretation_error never are. */
export const RETRYABLE_CATEGORIES = [
  "tool_error", "execution_timeout", "external_dependency", "planning_error", "verification_failure",
  "missing_context", "resource_limit", "bad_schedule_policy", "run_overlap",
] as const;
export type RetryableCategory = (typeof RETRYABLE_CATEGORIES)[number];
export const DEFAULT_RETRY_ON: readonly RetryableCategory[] = ["tool_error", "execution_timeout", "external_dependency"];

/** Retry policy by failure type: exponential backoff with jitter, through open loops. */
export interface RetrySpec {
  /** Attempts in all, the first included. Default 3; 1 means never retry. */
  max_attempts?: number;
  /** Delay before the first retry; doubles each attempt. Default 30s. */
  base_delay?: string;
  /** Longest delay between attempts. Default 1h. */
  max_delay?: string;
  /** Failure categories retried. Default tool_error, execution_timeout, external_dependency. */
  retry_on?: RetryableCategory[];
}

/** The agent command the daemon runs for this goal's jobs (no shell; context as JSON on stdin). */
export interface DispatchSpec {
  /** argv: the program and its arguments. */
  command: string[];
  /** Killed (its whole process group) past this. Default 10m. */
  timeout?: string;
  /** Between SIGTERM and SIGKILL. Default 5s. */
  kill_grace?: string;
}

/** A watchdog goal's condition over key-result values and run statistics, and what it does when it fires. */
export interface WatchdogSpec {
  /** any: one condition is enough; all: every condition must hold. Default any. */
  when?: "any" | "all";
  conditions: WatchdogCondition[];
  action?: WatchdogAction;
}

export const WATCHDOG_MEASURES = ["kr_value", "kr_progress", "failed_runs", "succeeded_runs", "finished_runs", "failure_rate", "success_rate"] as const;
export type WatchdogMeasure = (typeof WATCHDOG_MEASURES)[number];

/** One measured number compared with a value: `{ measure: failed_runs, window: 1h, op: at_least, value: 3 }`. */
export interface WatchdogCondition {
  measure: WatchdogMeasure;
  /** kr_value / kr_progress: the key result (required). Run measures: whose runs (default the watchdog's parent; none: every goal). */
  goal?: string;
  /** Run measures: runs started within this long. Default 24h. */
  window?: string;
  op: "below" | "above" | "at_least" | "at_most";
  value: number;
}

export interface WatchdogAction {
  /** An open loop to create (one at a time while the condition holds). Default: a follow_up describing what fired. */
  open_loop?: { kind?: "follow_up" | "clarification" | "retry"; description?: string };
  /** A goal whose job to dispatch. */
  dispatch?: string;
}

export interface LessonSpec {
  lesson_id: string;
  goal_type: GoalType;
  action_type: string;
  failure_category?: FailureCategory;
  lesson_text: string;
  category: LessonCategory;
  active?: boolean;
  confidence?: number;
  evidence_run_ids?: string[];
  review_by?: string;
}

export interface PlaybookRuleSpec {
  rule_id: string;
  title: string;
  applies_to_goal_type: GoalType;
  applies_to_action_type: string;
  rule_text: string;
  source_lesson_ids?: string[];
  activation_mode: ActivationMode;
  canary_share?: number;
  promoted_at?: string;
}

export interface ConfigSpec {
  version?: 1;
  paths?: { goals?: string; lessons?: string; playbooks?: string; state?: string };
  database?: { path?: string; busy_timeout_ms?: number };
  sync?: { prune_limit?: number; max_file_bytes?: number; rescan_interval?: string };
  daemon?: { host?: string; port?: number; max_body_bytes?: number; shutdown_deadline?: string };
  scheduler?: { timezone?: string; enabled?: boolean };
  dispatch?: { command?: string[]; timeout?: string; kill_grace?: string; capabilities?: string[]; max_concurrent?: number; router_interval?: string };
  learning?: {
    since?: string;
    promote_score?: number;
    max_new_lessons?: number;
    rule_confidence?: number;
    canary_margin?: number;
    canary_min_runs?: number;
    summarizer?: { command: string; args?: string[]; timeout?: string };
  };
  git?: { remote?: string; base_branch?: string; branch_prefix?: string; github_repo?: string };
  ingestors?: {
    posthog?: { host: string; project_id: string | number; api_key_env?: string };
    crm?: { url?: string; file?: string; command?: string[]; token_env?: string };
  };
}

/** Lists every key of T exactly once; fails to compile when a key is missing or unknown. */
type ExactKeys<T, L extends readonly PropertyKey[]> = [Exclude<keyof T, L[number]>] extends [never]
  ? [Exclude<L[number], keyof T>] extends [never] ? L : never
  : never;

function fields<T>() {
  return <const L extends readonly (keyof T)[]>(list: ExactKeys<T, L>): L => list;
}

export const GOAL_FIELDS = fields<GoalSpec>()([
  "goal_id", "goal_type", "title", "description", "parent_goal_id", "owner_agent", "priority",
  "success_metrics", "failure_conditions", "constraints", "review_cadence", "start_condition",
  "stop_condition", "time_horizon", "dependencies", "allowed_capabilities", "learning_required",
  "status", "key_result", "schedule", "continuity", "retry", "dispatch", "watchdog",
]);
export const KEY_RESULT_FIELDS = fields<KeyResultSpec>()(["metric", "unit", "baseline", "target", "direction", "source"]);
export const LESSON_FIELDS = fields<LessonSpec>()([
  "lesson_id", "goal_type", "action_type", "failure_category", "lesson_text", "category", "active",
  "confidence", "evidence_run_ids", "review_by",
]);
export const RULE_FIELDS = fields<PlaybookRuleSpec>()([
  "rule_id", "title", "applies_to_goal_type", "applies_to_action_type", "rule_text", "source_lesson_ids",
  "activation_mode", "canary_share", "promoted_at",
]);
export const CONFIG_FIELDS = fields<ConfigSpec>()(["version", "paths", "database", "sync", "daemon", "scheduler", "dispatch", "learning", "git", "ingestors"]);
