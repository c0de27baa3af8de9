import { describe, expect, it } from "vitest";
import { type RetryDecisionInput, backoffCapMs, backoffDelayMs, formatDelay, resolveRetryPolicy, retryDecision } from "../src/continuity/retryPolicy.js";

const failed = (over: Partial<RetryDecisionInput> = {}): RetryDecisionInput => ({
  failureCategory: "tool_error",
  outcome: "failed",
  attempt: 1,
  policy: undefined,
  random: () => 0,
  ...over,
});

describe("retry policy", () => {
  it("does not retry a run that succeeded", () => {
    expect(retryDecision(failed({ outcome: "succeeded", failureCategory: null }))).toEqual({
      retry: false, reason: "succeeded: nothing to retry", maxAttempts: 3,
    });
  });

  it.each(["policy_block", "interpretation_error"])("never retries %s, even when retry_on lists it", (category) => {
    // The schema forbids listing them; a hand-built policy must not get around the rule either.
    const policy = { retry_on: [category] } as unknown as RetryDecisionInput["policy"];
    const decision = retryDecision(failed({ failureCategory: category, policy }));
    expect(decision.retry).toBe(false);
    expect(decision.reason).toBe(`${category} is never retried`);
  });

  it.each(["tool_error", "execution_timeout", "external_dependency"])("retries %s by default", (category) => {
    expect(retryDecision(failed({ failureCategory: category })).retry).toBe(true);
  });

  it.each(["planning_error", "verification_failure", "missing_context", "resource_limit", "run_overlap"])(
    "does not retry %s unless retry_on lists it",
    (category) => {
      const decision = retryDecision(failed({ failureCategory: category }));
      expect(decision).toEqual({ retry: false, reason: `${category} is not in retry_on`, maxAttempts: 3 });
      expect(retryDecision(failed({ failureCategory: category, policy: { retry_on: ["planning_error", "verification_failure", "missing_context", "resource_limit", "run_overlap"] } })).retry).toBe(true);
    },
  );

  it("replaces the default retry_on instead of adding to it", () => {
    expect(retryDecision(failed({ failureCategory: "tool_error", policy: { retry_on: ["planning_error"] } })).reason).toBe("tool_error is not in retry_on");
  });

  it("does not retry a failure without a category", () => {
    expect(retryDecision(failed({ failureCategory: null })).reason).toBe("failed without a failure category: not retried");
  });

  it("treats a partial run like a failed one when it has a category, and leaves it alone otherwise", () => {
    expect(retryDecision(failed({ outcome: "partial", failureCategory: "execution_timeout" })).retry).toBe(true);
    expect(retryDecision(failed({ outcome: "partial", failureCategory: null }))).toEqual({
      retry: false, reason: "partial without a failure category: not retried", maxAttempts: 3,
    });
  });

  it("counts the first attempt: three attempts in all by default", () => {
    expect(retryDecision(failed({ attempt: 1 }))).toMatchObject({ retry: true, nextAttempt: 2, maxAttempts: 3 });
    expect(retryDecision(failed({ attempt: 2 }))).toMatchObject({ retry: true, nextAttempt: 3, maxAttempts: 3 });
    expect(retryDecision(failed({ attempt: 3 }))).toEqual({ retry: false, reason: "attempt 3 of 3: no attempts left", maxAttempts: 3 });
  });

  it("never retries with max_attempts 1", () => {
    expect(retryDecision(failed({ policy: { max_attempts: 1 } }))).toEqual({ retry: false, reason: "attempt 1 of 1: no attempts left", maxAttempts: 1 });
  });

  it("says what happens next in a sentence", () => {
    // attempt 1 failed: cap 30s, random 0.5 -> 15s + 7.5s = 22.5s, read as 23s
    expect(retryDecision(failed({ random: () => 0.5 })).reason).toBe("tool_error is retried: attempt 2 of 3 in 23s");
    expect(retryDecision(failed({ attempt: 2, random: () => 0.5 })).delayMs).toBe(45_000);
  });
});

describe("backoff", () => {
  it("fills in the defaults: 3 attempts, 30s base, 1h cap, the three transient categories", () => {
    expect(resolveRetryPolicy(undefined)).toEqual({
      maxAttempts: 3, baseDelayMs: 30_000, maxDelayMs: 3_600_000, retryOn: ["tool_error", "execution_timeout", "external_dependency"],
    });
    expect(resolveRetryPolicy({ base_delay: "5s", max_delay: "2m", max_attempts: 6 })).toMatchObject({ maxAttempts: 6, baseDelayMs: 5_000, maxDelayMs: 120_000 });
  });

  it("doubles the cap with each failed attempt until max_delay", () => {
    const caps = [1, 2, 3, 4, 5, 6, 7, 8, 9].map((n) => backoffCapMs(n, 30_000, 3_600_000));
    expect(caps).toEqual([30_000, 60_000, 120_000, 240_000, 480_000, 960_000, 1_920_000, 3_600_000, 3_600_000]);
    expect(backoffCapMs(60, 30_000, 3_600_000)).toBe(3_600_000);
  });

  it("caps even the first delay when max_delay is below base_delay", () => {
    expect(backoffCapMs(1, 60_000, 10_000)).toBe(10_000);
  });

  it.each([1, 2, 5, 12])("keeps the jittered delay after attempt %d within [cap/2, cap)", (attempt) => {
    const cap = backoffCapMs(attempt, 30_000, 3_600_000);
    expect(backoffDelayMs(attempt, 30_000, 3_600_000, () => 0)).toBe(cap / 2);
    const high = backoffDelayMs(attempt, 30_000, 3_600_000, () => 0.999);
    expect(high).toBeGreaterThan(cap / 2);
    expect(high).toBeLessThan(cap);
    expect(high).toBe(Math.round(cap / 2 + (0.999 * cap) / 2));
  });

  it("uses the goal's base and max delay in the decision", () => {
    const policy = { base_delay: "10s", max_delay: "25s", max_attempts: 5 };
    expect(retryDecision(failed({ attempt: 1, policy, random: () => 0 })).delayMs).toBe(5_000);
    expect(retryDecision(failed({ attempt: 2, policy, random: () => 0 })).delayMs).toBe(10_000);
    expect(retryDecision(failed({ attempt: 3, policy, random: () => 0 })).delayMs).toBe(12_500);
    expect(retryDecision(failed({ attempt: 4, policy, random: () => 0.999 })).delayMs).toBe(24_988);
  });

  it.each([
    [0, "0s"], [41_000, "41s"], [59_400, "59s"], [60_000, "1m"], [125_000, "2m 5s"], [3_600_000, "1h"], [3_780_000, "1h 3m"],
  ])("writes %d ms as %s", (ms, text) => {
    expect(formatDelay(ms)).toBe(text);
  });
});
