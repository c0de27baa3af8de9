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
  learning?: {
    since?: string;
    promote_score?: number;
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
  "status", "key_result",
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
export const CONFIG_FIELDS = fields<ConfigSpec>()(["version", "paths", "database", "sync", "daemon", "learning", "git", "ingestors"]);
