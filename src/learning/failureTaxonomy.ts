/**
 * The failure taxonomy (PRD section 5), with what each category means, where its root cause
 * usually lies, and the change that usually prevents it: the text an after-action review is built
 * from when no model writes it (a PRD non-goal).
 */
import type { FailureCategory } from "../spec/types.js";

export interface FailureCategoryInfo {
  meaning: string;
  /** Where to look for the root cause. */
  rootCause: string;
  /** The change that usually prevents a repeat. */
  recommendation: string;
}

export const FAILURE_TAXONOMY: Record<FailureCategory, FailureCategoryInfo> = {
  interpretation_error: {
    meaning: "the agent misread the goal, the request or its input",
    rootCause: "an ambiguous instruction or input that the agent resolved the wrong way instead of asking",
    recommendation: "state the expected interpretation in the goal (success_metrics, constraints) and ask for clarification when the input is ambiguous",
  },
  planning_error: {
    meaning: "the plan could not reach the goal even when every step worked",
    rootCause: "a missing, wrong or mis-ordered step in the plan",
    recommendation: "check the plan against the goal's success metrics before acting; reuse a plan that worked for this goal type",
  },
  tool_error: {
    meaning: "a tool or API the agent called failed or returned an error",
    rootCause: "the tool call itself (arguments, credentials, rate limit) or the tool's own fault",
    recommendation: "validate tool arguments before the call and retry transient tool errors with backoff",
  },
  execution_timeout: {
    meaning: "the run did not finish within its time limit",
    rootCause: "a slow step, a hang, or a time limit too tight for the work",
    recommendation: "checkpoint long runs, split the work, or raise the limit where the work is known to be long",
  },
  verification_failure: {
    meaning: "the work was done but the verifier did not accept the result",
    rootCause: "a result that does not meet the verifier's check, or a verifier that checks the wrong thing",
    recommendation: "run the verifier's check before reporting success; align the goal's success metrics with the verifier",
  },
  policy_block: {
    meaning: "a policy or permission stopped the action",
    rootCause: "an action outside the goal's allowed capabilities or the agent's permissions",
    recommendation: "keep plans within allowed_capabilities; do not retry a policy block, ask for the permission instead",
  },
  missing_context: {
    meaning: "the agent lacked information it needed",
    rootCause: "context that was not given (a fact, a credential, an earlier result)",
    recommendation: "add the missing fact to the goal or a lesson, or fetch it before acting",
  },
  resource_limit: {
    meaning: "a quota, budget, memory or disk limit was reached",
    rootCause: "work larger than the resources given to it",
    recommendation: "size the work to the budget, or raise the limit for this goal",
  },
  external_dependency: {
    meaning: "a system outside the agent's control failed",
    rootCause: "an outage or error of an external service",
    recommendation: "retry with backoff, and detect the dependency's state before starting",
  },
  bad_schedule_policy: {
    meaning: "the run was started at the wrong time or too often",
    rootCause: "the goal's review cadence or start condition",
    recommendation: "adjust review_cadence or start_condition",
  },
  run_overlap: {
    meaning: "the run overlapped another run of the same goal",
    rootCause: "a schedule shorter than the work, or a retry while the first attempt still ran",
    recommendation: "skip or queue overlapping runs of one goal",
  },
};
