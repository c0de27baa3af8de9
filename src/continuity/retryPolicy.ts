/**
 * Retry policy by failure type: whether a finished run is tried again, and after how long.
 * A pure function of the run's outcome, its failure category, the attempt number, the goal's
 * `retry` block and a random source; it reads no clock and no database.
 *
 * Rules:
 * - a run that succeeded is never retried; nor is a failed or partial run without a failure
 *   category (nothing says the failure is transient);
 * - policy_block and interpretation_error are never retried, even when `retry.retry_on` lists them:
 *   a retry would hit the same policy or the same misreading;
 * - any other category is retried only when it is in `retry.retry_on` (default tool_error,
 *   execution_timeout, external_dependency); a partial run counts as failed when it has a category;
 * - `retry.max_attempts` counts attempts in all, the first included (default 3; 1 means never):
 *   after attempt n fails, attempt n + 1 follows only while n < max_attempts;
 * - the delay before the retry that follows failed attempt n (1-based) is exponential backoff with
 *   "equal jitter": cap = min(max_delay, base_delay * 2^(n-1)), delay = cap/2 + random() * cap/2,
 *   so it lies in [cap/2, cap). base_delay defaults to 30s, max_delay to 1h.
 */
import { DEFAULT_RETRY_ON, type RetrySpec } from "../spec/types.js";
import { intervalMs } from "../spec/interval.js";

/** Categories no configuration can make retryable. */
export const NEVER_RETRIED: readonly string[] = ["policy_block", "interpretation_error"];

export const DEFAULT_MAX_ATTEMPTS = 3;
export const DEFAULT_BASE_DELAY = "30s";
export const DEFAULT_MAX_DELAY = "1h";

export interface RetryDecision {
  retry: boolean;
  /** One sentence saying why, for logs, open loops and the API. */
  reason: string;
  /** Milliseconds to wait before the next attempt (only when retry is true). */
  delayMs?: number;
  /** The 1-based number of the next attempt (only when retry is true). */
  nextAttempt?: number;
  maxAttempts: number;
}

export interface RetryDecisionInput {
  failureCategory: string | null;
  outcome: "succeeded" | "failed" | "partial";
  /** The attempt that just finished, 1-based. */
  attempt: number;
  policy: RetrySpec | undefined;
  /** A number in [0, 1); Math.random in production, fixed in tests. */
  random: () => number;
}

/** A goal's retry block with every default filled in. */
export interface ResolvedRetryPolicy {
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  retryOn: readonly string[];
}

/** The goal's retry block with defaults applied (an interval the schema would reject falls back to its default). */
export function resolveRetryPolicy(policy: RetrySpec | undefined): ResolvedRetryPolicy {
  const maxAttempts = policy?.max_attempts;
  return {
    maxAttempts: maxAttempts === undefined || !Number.isFinite(maxAttempts) ? DEFAULT_MAX_ATTEMPTS : Math.max(1, Math.floor(maxAttempts)),
    baseDelayMs: intervalMs(policy?.base_delay ?? DEFAULT_BASE_DELAY) ?? (intervalMs(DEFAULT_BASE_DELAY) as number),
    maxDelayMs: intervalMs(policy?.max_delay ?? DEFAULT_MAX_DELAY) ?? (intervalMs(DEFAULT_MAX_DELAY) as number),
    retryOn: policy?.retry_on ?? DEFAULT_RETRY_ON,
  };
}

/** The longest wait before the retry that follows failed attempt `attempt`: min(max, base * 2^(attempt-1)). */
export function backoffCapMs(attempt: number, baseDelayMs: number, maxDelayMs: number): number {
  return Math.min(maxDelayMs, baseDelayMs * 2 ** (Math.max(1, attempt) - 1));
}

/** The jittered wait before the retry that follows failed attempt `attempt`: cap/2 + random * cap/2, whole milliseconds. */
export function backoffDelayMs(attempt: number, baseDelayMs: number, maxDelayMs: number, random: () => number): number {
  const cap = backoffCapMs(attempt, baseDelayMs, maxDelayMs);
  const r = Math.min(Math.max(random(), 0), 1);
  return Math.round(cap / 2 + (r * cap) / 2);
}

/** Whether (and when) the run that just finished is tried again. */
export function retryDecision(input: RetryDecisionInput): RetryDecision {
  const policy = resolveRetryPolicy(input.policy);
  const { maxAttempts } = policy;
  const no = (reason: string): RetryDecision => ({ retry: false, reason, maxAttempts });

  if (input.outcome === "succeeded") return no("succeeded: nothing to retry");
  const category = input.failureCategory;
  if (category === null || category === "") return no(`${input.outcome} without a failure category: not retried`);
  if (NEVER_RETRIED.includes(category)) return no(`${category} is never retried`);
  if (!policy.retryOn.includes(category)) return no(`${category} is not in retry_on`);
  if (input.attempt >= maxAttempts) return no(`attempt ${input.attempt} of ${maxAttempts}: no attempts left`);

  const nextAttempt = Math.max(1, input.attempt) + 1;
  const delayMs = backoffDelayMs(input.attempt, policy.baseDelayMs, policy.maxDelayMs, input.random);
  return {
    retry: true,
    reason: `${category} is retried: attempt ${nextAttempt} of ${maxAttempts} in ${formatDelay(delayMs)}`,
    delayMs,
    nextAttempt,
    maxAttempts,
  };
}

/** A delay as people read it: '41s', '2m 5s', '1h', '1h 3m' (seconds rounded). */
export function formatDelay(ms: number): string {
  const seconds = Math.round(ms / 1000);
  if (seconds < 60) return `${seconds}s`;
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  if (h > 0) return m > 0 ? `${h}h ${m}m` : `${h}h`;
  return s > 0 ? `${m}m ${s}s` : `${m}m`;
}
