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

/**
 * Shares the texts and lists that repeat from review to review (the goal's intent, the taxonomy's
 * meaning and remedy, the lists): the same string or array object each time, keyed by what it is
 * made from. The store looks each text up among those it has stored; a string it has seen costs
 * nothing to find again, a new one must be copied flat and hashed (about 1.2 KB a review). Keys
 * are short values and objects (the goal record the caller keeps per goal); it starts over past
 * a size, so that texts unique to one run (an agent's notes) do not accumulate.
 */
export class DraftTexts {
  private root = new Map<unknown, unknown>();
  private size = 0;

  constructor(private readonly limit = 20_000) {}

  get<T>(key: readonly unknown[], build: () => T): T {
    let node = this.root;
    for (let i = 0; i < key.length - 1; i++) {
      let next = node.get(key[i]) as Map<unknown, unknown> | undefined;
      if (next === undefined) {
        next = new Map();
        node.set(key[i], next);
      }
      node = next;
    }
    const last = key[key.length - 1];
    if (node.has(last)) return node.get(last) as T;
    const value = build();
    // A shared list is frozen: no review can change another's, and the store may know it by identity.
    if (Array.isArray(value)) Object.freeze(value);
    if (++this.size > this.limit) {
      this.root = new Map();
      this.size = 0;
    } else node.set(last, value);
    return value;
  }
}

/** The review of a run. Its lists may be shared with other reviews drafted with the same `texts`: read them, do not change them. */
export function draftReview(input: ReviewInput, texts: DraftTexts = new DraftTexts()): AarWrite {
  const { run, goal } = input;
  const category = (run.failure_category ?? null) as FailureCategory | null;
  const info = category === null ? null : FAILURE_TAXONOMY[category];
  const actions = run.actions_taken;
  const actionText = actions.length === 0 ? "no actions recorded" : `actions ${actions.join(" -> ")}`;
  // Exact, where the joined text is not ("a -> b" or "a", "b").
  const actionsKey = actions.length === 0 ? "" : JSON.stringify(actions);
  const outcome = run.local_outcome;
  const plan = run.plan_summary;
  const succeeded = outcome === "succeeded";
  // Only a success's count of failures before it shows in its texts.
  const notable = succeeded && input.priorFailures >= 2 ? input.priorFailures : 0;
  const notes = run.notes !== null && run.notes.trim() !== "" ? run.notes.trim() : null;
  const verifierFailed = run.verifier_status === "failed";

  const intended = texts.get(["intended", goal, plan], () => {
    const metrics = (goal.spec.success_metrics as string[] | undefined) ?? [];
    return [
      `${goal.goal_type} "${goal.title}" (${goal.goal_id})`,
      metrics.length > 0 ? `to meet: ${metrics.join("; ")}` : "with no success metrics stated",
      plan !== null ? `plan: ${plan}` : "no plan recorded",
    ].join(", ");
  });
  const verifier = run.verifier_status === null ? "no verifier" : `verifier ${run.verifier_status}`;
  const duration = run.duration_seconds === null ? "" : ` in ${formatSeconds(run.duration_seconds)}`;
  const actual = `run ${run.run_id} (attempt ${run.attempt}) ${outcome ?? "did not finish"}${duration}, ${verifier}, ${actionText}${category !== null ? `, failure category ${category}` : ""}`;
  const moves = keyResultMoves(run);
  const impact = moves.length > 0 ? impactText(moves, run.business_outcome) : texts.get(["impact", run.business_outcome], () => impactText(moves, run.business_outcome));

  const difference = texts.get(["difference", outcome, notable, category, verifierFailed, notes], () => {
    let text: string;
    if (succeeded) text = notable > 0 ? `none this time: it succeeded after ${notable} failed or partial runs of this goal` : "none: the run met its goal";
    else if (info !== null) text = `${category}: ${info.meaning}`;
    else text = `the run ${outcome ?? "did not finish"} without a failure category; classify it to learn from it`;
    if (verifierFailed && category !== "verification_failure") text += "; the verifier rejected the result";
    if (notes !== null) text += `. The agent noted: ${notes}`;
    return text;
  });

  const rootCauseDetail = info === null ? null : (notes ?? info.rootCause);
  const rootCause = category === null ? null : texts.get(["rootCause", category, notes], () => `${category}: ${rootCauseDetail}`);
  const verifierMissing = run.verifier_status === null || run.verifier_status === "skipped";
  const recommended = texts.get(["recommended", category, isFailure(outcome), verifierMissing, notable > 0 ? goal : null, notable > 0 ? plan : null], () => {
    const list: string[] = [];
    if (info !== null) list.push(info.recommendation);
    if (isFailure(outcome) && category === null) list.push("record a failure_category when a run fails, so reviews can name the cause");
    if (verifierMissing) list.push("verify this goal's runs (a verifier result tells success from a claim of success)");
    if (notable > 0) list.push(`reuse this run's approach for "${goal.title}"${plan !== null ? ` (plan: ${plan})` : ""}`);
    return list;
  });

  const whatWorked = texts.get(["worked", outcome, actionsKey], () =>
    succeeded ? (actions.length > 0 ? [...actions] : ["the run as planned"]) : outcome === "partial" && actions.length > 0 ? actions.map((a) => `${a} (in part)`) : [],
  );
  const whatFailed = texts.get(["failed", outcome, category], () => (succeeded ? [] : [info !== null ? `${category}: ${info.meaning}` : `the run ${outcome ?? "did not finish"}`]));
  const firstAction = actions[0] ?? "any action";
  const buildCandidates = (): string[] => {
    const list = [...run.lesson_candidates];
    if (info !== null) list.push(`${goal.goal_type} / ${firstAction}: ${info.recommendation}`);
    if (notable > 0) list.push(`${goal.goal_type} / ${firstAction}: what worked after ${notable} failures: ${plan ?? actions.join(" -> ")}`);
    return list;
  };
  // An agent's own candidates make the list the run's own.
  const candidates = run.lesson_candidates.length > 0 ? buildCandidates() : texts.get(["candidates", goal.goal_type, firstAction, category, notable, notable > 0 ? plan : null, notable > 0 ? actionsKey : null], buildCandidates);

  const sustain = texts.get(["sustain", outcome, actionsKey, plan, run.verifier_status === "passed"], () =>
    succeeded ? [`${actionText}${plan !== null ? ` (plan: ${plan})` : ""}`] : run.verifier_status === "passed" ? ["the verified part of the work"] : [],
  );
  return {
    aar_id: input.aarId,
    run_id: run.run_id,
    goal_id: goal.goal_id,
    review_reason: input.reason,
    what_happened: `Intended: ${intended}. Happened: ${actual}. ${impact}.`,
    root_cause: rootCause,
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

function keyResultMoves(run: ReviewedRun): string[] {
  const before = run.metrics_before ?? {};
  const after = run.metrics_after ?? {};
  return Object.keys({ ...before, ...after }).flatMap((kr) => {
    const a = before[kr] ?? null;
    const b = after[kr] ?? null;
    if (a === b) return [];
    const delta = a !== null && b !== null ? ` (${b - a >= 0 ? "+" : ""}${round(b - a)})` : "";
    return [`${kr} ${a ?? "none"} -> ${b ?? "none"}${delta}`];
  });
}

function impactText(moves: readonly string[], businessOutcome: string): string {
  const business = businessOutcome === "unknown" ? "business outcome unknown" : `business outcome ${businessOutcome}`;
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
