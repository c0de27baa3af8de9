import { describe, expect, it } from "vitest";
import { DraftTexts, draftReview, type ReviewInput } from "../src/learning/afterActionReview.js";
import type { ReviewedRun } from "../src/store/types.js";

// Reviews drafted with shared texts must be exactly those drafted alone: every combination of
// what a review's texts are made from, drafted in one shared DraftTexts (each twice, interleaved)
// and each with a fresh one.
const goals = [
  { goal_id: "goal_a", title: "Accuracy at 95%", goal_type: "key_result", spec: { success_metrics: ["95% of answers verified"] } },
  { goal_id: "goal_b", title: "Ship the importer", goal_type: "initiative", spec: {} },
] as const;

function runs(): ReviewedRun[] {
  const out: ReviewedRun[] = [];
  let n = 0;
  for (const outcome of ["succeeded", "failed", "partial"] as const)
    for (const category of [null, "tool_error", "verification_failure"])
      for (const verifier of [null, "passed", "failed", "skipped"] as const)
        for (const notes of [null, "  the tool exited with status 137 "])
          for (const plan of [null, "rerun with backoff", "actions a -> b"])
            for (const actions of [[], ["a", "b"], ["a -> b"]])
              for (const metrics of [null, { kr: 1 }]) {
                n++;
                out.push({
                  run_id: `grun_${String(n).padStart(26, "0")}`, goal_id: "goal_a", attempt: 1 + (n % 3), plan_summary: plan, actions_taken: actions,
                  verifier_status: verifier, local_outcome: outcome, business_outcome: n % 5 === 0 ? "improved" : "unknown", failure_category: category,
                  metrics_before: metrics, metrics_after: metrics === null ? null : { kr: n % 2 === 0 ? 1 : 2 }, duration_seconds: n % 7 === 0 ? null : n * 1.5,
                  notes, lesson_candidates: n % 11 === 0 ? ["the agent's own"] : [], started_at: "2026-11-20T00:00:00.000Z",
                });
              }
  return out;
}

describe("reviews drafted from shared texts", () => {
  it("are exactly the reviews drafted alone, and share only frozen lists", () => {
    const shared = new DraftTexts(500); // small: it also starts over along the way
    const inputs: ReviewInput[] = runs().flatMap((run, i) =>
      [0, 2, 5].map((priorFailures) => ({ aarId: `aar_${i}`, run, goal: goals[i % 2] as ReviewInput["goal"], reason: "failed" as const, priorFailures, at: "2026-11-25T00:00:00.000Z" })),
    );
    expect(inputs.length).toBe(3_888);
    for (const round of [1, 2])
      for (const input of inputs) {
        const alone = draftReview(input);
        const together = draftReview(input, shared);
        expect(together, `round ${round}, ${input.run.run_id}`).toEqual(alone);
        for (const list of [together.what_worked, together.what_failed, together.recommended_changes, together.sustain]) expect(Object.isFrozen(list)).toBe(true);
      }
  });
});
