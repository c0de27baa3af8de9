/**
 * What an after-action review is made from, without a model (a PRD non-goal). A review's texts are
 * a template over its run (outcome, verifier, actions, notes, key-result movement), the goal as it
 * was reviewed and the failure taxonomy: the `after_action_reviews` view writes them when a review
 * is read (src/store/migrations/010_aar_inputs.ts), so a review is stored as a narrow row and the
 * learning cycle writes a window's reviews with one statement. What the view cannot know is made
 * here: the goal's intent and the review's own lesson candidates, which the learning cycle also
 * counts. Pure: data in, texts out.
 */
import type { GoalRecord, ReviewedGoal } from "../store/types.js";
import type { FailureCategory } from "../spec/types.js";
import { FAILURE_TAXONOMY } from "./failureTaxonomy.js";

/** The goal as a review quotes it: `<type> "<title>" (<id>), to meet: <success metrics>`. */
export function reviewedGoal(goal: Pick<GoalRecord, "goal_id" | "title" | "goal_type" | "spec">): ReviewedGoal {
  const metrics = (goal.spec.success_metrics as string[] | undefined) ?? [];
  return {
    goal_id: goal.goal_id,
    goal_type: goal.goal_type,
    title: goal.title,
    intent: `${goal.goal_type} "${goal.title}" (${goal.goal_id}), ${metrics.length > 0 ? `to meet: ${metrics.join("; ")}` : "with no success metrics stated"}`,
  };
}

/** A notable success: the first success after `priorFailures` (2 or more) failed or partial runs. */
export interface NotableSuccess {
  priorFailures: number;
  plan: string | null;
  actions: readonly string[];
}

/**
 * The lesson candidates a review proposes beside its agent's own: the taxonomy's recommendation
 * for its failure category, and for a notable success what worked. Keyed by the goal type and the
 * run's first action, so that the same lesson from many runs groups as one.
 */
export function ownLessonCandidates(goalType: string, actions: readonly string[], category: string | null, notable: NotableSuccess | null): string[] {
  const info = category === null ? undefined : FAILURE_TAXONOMY[category as FailureCategory];
  const firstAction = actions[0] ?? "any action";
  const list: string[] = [];
  if (info !== undefined) list.push(`${goalType} / ${firstAction}: ${info.recommendation}`);
  if (notable !== null) list.push(`${goalType} / ${firstAction}: what worked after ${notable.priorFailures} failures: ${notable.plan ?? notable.actions.join(" -> ")}`);
  return list;
}
