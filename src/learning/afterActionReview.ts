/**
 * An after-action review drafted from a run, without a model (a PRD non-goal): the run's outcome,
 * verifier, actions, notes and key-result movement, the failure taxonomy's meaning of its
 * category, and the four questions of an after-action review. Pure: data in, review out.
 */
import type { AarWrite, GoalRecord, ReviewedRun, ReviewReason } from "../store/types.js";
import type { FailureCategory } from "../spec/types.js";
import { FAILURE_TAXONOMY } from "./failureTaxonomy.js";

export interface ReviewInput {
  aarId: string;
  run: ReviewedRun;
  goal: Pick<GoalRecord, "goal_id" | "title" | "goal_type" | "spec">;
  reason: ReviewReason;
  /** Failed or partial runs of the goal right before this one (a success after 2 or more is notable). */
  priorFailures: number;
  at: string;
}

const isFailure = (outcome: string | null | undefined) => outcome === "failed" || outcome === "partial";

export function draftReview(input: ReviewInput): AarWrite {
  const { run, goal } = input;
  const category = (run.failure_category ?? null) as FailureCategory | null;
  const info = category === null ? null : FAILURE_TAXONOMY[category];
  const actions = run.actions_taken;
  const actionText = actions.length === 0 ? "no actions recorded" : `actions ${actions.join(" -> ")}`;
  const metrics = (goal.spec.success_metrics as string[] | undefined) ?? [];
  const priorFailures = input.priorFailures;

  const intended = [
    `${goal.goal_type} "${goal.title}" (${goal.goal_id})`,
    metrics.length > 0 ? `to meet: ${metrics.join("; ")}` : "with no success metrics stated",
    run.plan_summary !== null ? `plan: ${run.plan_summary}` : "no plan recorded",
  ].join(", ");
  const verifier = run.verifier_status === null ? "no verifier" : `verifier ${run.verifier_status}`;
  const duration = run.duration_seconds === null ? "" : ` in ${formatSeconds(run.duration_seconds)}`;
  const actual = `run ${run.run_id} (attempt ${run.attempt}) ${run.local_outcome ?? "did not finish"}${duration}, ${verifier}, ${actionText}${category !== null ? `, failure category ${category}` : ""}`;
  const impact = impactOf(run);

  let difference: string;
  if (run.local_outcome === "succeeded") {
    difference = priorFailures >= 2 ? `none this time: it succeeded after ${priorFailures} failed or partial runs of this goal` : "none: the run met its goal";
  } else if (info !== null) {
    difference = `${category}: ${info.meaning}`;
  } else {
    difference = `the run ${run.local_outcome ?? "did not finish"} without a failure category; classify it to learn from it`;
  }
  if (run.verifier_status === "failed" && category !== "verification_failure") difference += "; the verifier rejected the result";
  if (run.notes !== null && run.notes.trim() !== "") difference += `. The agent noted: ${run.notes.trim()}`;

  const rootCauseDetail = info === null ? null : run.notes !== null && run.notes.trim() !== "" ? run.notes.trim() : info.rootCause;
  const recommended: string[] = [];
  if (info !== null) recommended.push(info.recommendation);
  if (isFailure(run.local_outcome) && category === null) recommended.push("record a failure_category when a run fails, so reviews can name the cause");
  if (run.verifier_status === null || run.verifier_status === "skipped") recommended.push("verify this goal's runs (a verifier result tells success from a claim of success)");
  if (run.local_outcome === "succeeded" && priorFailures >= 2) recommended.push(`reuse this run's approach for "${goal.title}"${run.plan_summary !== null ? ` (plan: ${run.plan_summary})` : ""}`);

  const succeeded = run.local_outcome === "succeeded";
  const whatWorked = succeeded ? (actions.length > 0 ? [...actions] : ["the run as planned"]) : run.local_outcome === "partial" && actions.length > 0 ? actions.map((a) => `${a} (in part)`) : [];
  const whatFailed = succeeded ? [] : [info !== null ? `${category}: ${info.meaning}` : `the run ${run.local_outcome ?? "did not finish"}`];
  const firstAction = actions[0] ?? "any action";
  const candidates = [...run.lesson_candidates];
  if (info !== null) candidates.push(`${goal.goal_type} / ${firstAction}: ${info.recommendation}`);
  if (succeeded && priorFailures >= 2) candidates.push(`${goal.goal_type} / ${firstAction}: what worked after ${priorFailures} failures: ${run.plan_summary ?? actions.join(" -> ")}`);

  const sustain = succeeded ? [`${actionText}${run.plan_summary !== null ? ` (plan: ${run.plan_summary})` : ""}`] : run.verifier_status === "passed" ? ["the verified part of the work"] : [];
  return {
    aar_id: input.aarId,
    run_id: run.run_id,
    goal_id: goal.goal_id,
    review_reason: input.reason,
    what_happened: `Intended: ${intended}. Happened: ${actual}. ${impact}.`,
    root_cause: category === null ? null : `${category}: ${rootCauseDetail}`,
    failure_category: category,
    root_cause_detail: rootCauseDetail,
    what_worked: whatWorked,
    what_failed: whatFailed,
    lesson_candidates: candidates,
    recommended_changes: recommended,
    intended,
    actual,
    difference,
    sustain,
    improve: recommended,
    impact,
    detection: detectionOf(run),
    narrative_source: "template",
    created_at: input.at,
  };
}

function impactOf(run: ReviewedRun): string {
  const before = run.metrics_before ?? {};
  const after = run.metrics_after ?? {};
  const moves = Object.keys({ ...before, ...after }).flatMap((kr) => {
    const a = before[kr] ?? null;
    const b = after[kr] ?? null;
    if (a === b) return [];
    const delta = a !== null && b !== null ? ` (${b - a >= 0 ? "+" : ""}${round(b - a)})` : "";
    return [`${kr} ${a ?? "none"} -> ${b ?? "none"}${delta}`];
  });
  const business = run.business_outcome === "unknown" ? "business outcome unknown" : `business outcome ${run.business_outcome}`;
  return `${moves.length > 0 ? `key results moved: ${moves.join(", ")}` : "no key-result movement during the run"}; ${business}`;
}

function detectionOf(run: ReviewedRun): string {
  if (run.local_outcome === "succeeded") return run.verifier_status === "passed" ? "success confirmed by the verifier" : "success reported by the agent (not verified)";
  if (run.verifier_status === "failed") return "detected by the verifier";
  if (run.verifier_status === "passed") return "reported by the agent although the verifier passed";
  return "reported by the agent's own outcome (no verifier ran)";
}

function formatSeconds(seconds: number): string {
  return seconds < 120 ? `${round(seconds)} s` : `${round(seconds / 60)} min`;
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}
