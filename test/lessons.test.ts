/**
 * Lessons: candidate fingerprints, scoring and the promotion threshold (pure), and over a real
 * ledger the evidence of each lesson (validated, contradicted, with the runs behind them), the
 * confidence rule and staleness, through the library and the CLI.
 */
import { describe, expect, it } from "vitest";
import { openGoalOps } from "../src/index.js";
import { type CandidateSource, groupCandidates, keyResultsMoved, lessonFingerprint, normaliseLessonText, runImpact } from "../src/learning/lessonCandidates.js";
import { confidenceOf } from "../src/learning/lessons.js";
import { runCli, runCliJson, syncedRepo } from "./helpers/cli.js";
import { goalYaml, IDS, lessonYaml, validTree } from "./helpers/specs.js";

const source = (runId: string, texts: CandidateSource["texts"], extra: Partial<CandidateSource> = {}): CandidateSource => ({
  runId, goalType: "initiative", actionType: "send_message", failureCategory: "tool_error", businessOutcome: "unknown", keyResultsMoved: false, texts, ...extra,
});

describe("lesson candidates", () => {
  it("fingerprints the same lesson alike whatever its case, punctuation, ids and numbers", () => {
    expect(normaliseLessonText("Retry grun_01M6B5CJM0W8B9F354SPG2VVA9 after 30 s, then STOP!")).toBe("retry after # s then stop");
    const a = lessonFingerprint("initiative", "send_message", "tool_error", "Confirm the recipient before sending.");
    expect(lessonFingerprint("initiative", "send_message", "tool_error", "confirm the recipient  before sending")).toBe(a);
    expect(lessonFingerprint("initiative", "send_message", null, "Confirm the recipient before sending.")).not.toBe(a);
    expect(lessonFingerprint("initiative", "call_api", "tool_error", "Confirm the recipient before sending.")).not.toBe(a);
  });

  it("scores frequency (distinct runs) x mean impact, and promotes at the threshold", () => {
    expect(runImpact({ businessOutcome: "unknown", keyResultsMoved: false })).toBe(1);
    expect(runImpact({ businessOutcome: "degraded", keyResultsMoved: true })).toBe(2.5);
    expect(runImpact({ businessOutcome: "neutral", keyResultsMoved: false })).toBe(1);
    // A key result moved: a value after the run differs from the one before (none is null).
    expect(keyResultsMoved(null, null)).toBe(false);
    expect(keyResultsMoved('{"k":1}', '{"k":1}')).toBe(false);
    expect(keyResultsMoved('{"k":1}', '{"k":2}')).toBe(true);
    expect(keyResultsMoved('{"j":1,"k":1}', '{"k":1.0,"j":1}')).toBe(false); // another text, the same values
    expect(keyResultsMoved('{"k":1,"gone":5}', '{"k":1}')).toBe(false); // only the values after count
    expect(keyResultsMoved(null, '{"k":null}')).toBe(false);
    expect(keyResultsMoved(null, '{"k":0}')).toBe(true);
    expect(keyResultsMoved('{"k":3}', null)).toBe(false);
    const groups = groupCandidates(
      [
        // One run saying it as its note and in its review counts once.
        source("grun_1", [{ text: "Confirm the recipient.", from: "agent" }, { text: "confirm the recipient", from: "review" }]),
        source("grun_2", [{ text: "Confirm the recipient.", from: "agent" }], { businessOutcome: "degraded" }),
        source("grun_3", [{ text: "Wait for the gateway.", from: "review" }]),
      ],
      3,
    );
    expect(groups[0]).toMatchObject({ text: "Confirm the recipient.", run_ids: ["grun_1", "grun_2"], frequency: 2, impact: 1.5, score: 3, from_agents: 2, from_reviews: 1, promote: true });
    expect(groups[1]).toMatchObject({ text: "Wait for the gateway.", frequency: 1, score: 1, promote: false });
  });

  it("has a confidence rule that starts at the prior, rises with validations and falls with contradictions", () => {
    expect(confidenceOf(0, 0, null)).toBe(0.5);
    expect(confidenceOf(0, 0, 0.8)).toBeCloseTo(0.8);
    expect(confidenceOf(3, 0, 0.5)).toBeGreaterThan(confidenceOf(2, 0, 0.5));
    expect(confidenceOf(2, 1, 0.5)).toBeLessThan(confidenceOf(2, 0, 0.5));
    expect(confidenceOf(98, 0, 0.5)).toBeGreaterThan(0.98);
  });
});

describe("lessons over the ledger", () => {
  it("counts each lesson's validations and contradictions with their runs, its confidence and staleness", async () => {
    const stale = "les_01M6B5CJM0W8B9F354SPG2VVB8";
    const root = await syncedRepo({
      ...validTree(),
      "lessons/ask.yaml": `${lessonYaml(IDS.lesson)}review_by: "2020-01-01"\n`,
      "lessons/old.yaml": lessonYaml(stale).replace("goal_type: initiative", "goal_type: maintenance").concat('review_by: "2020-01-01"\n'),
      "goals/chore.yaml": goalYaml({ goal_id: IDS.maintenance, goal_type: "maintenance", title: "Rotate keys" }),
    });
    const ops = await openGoalOps({ repo: root });
    const runs = await ops.runs.recordMany([
      { goalId: IDS.initiative, outcome: "succeeded", verifier: "passed" },
      { goalId: IDS.initiative, outcome: "succeeded" },
      { goalId: IDS.initiative, outcome: "succeeded", verifier: "failed" }, // applied only
      { goalId: IDS.initiative, outcome: "failed", failureCategory: "tool_error", lessonCandidates: ["Confirm the recipient."] },
    ]);
    const [ask, old] = await ops.lessons.list();
    expect(ask).toMatchObject({ lesson_id: IDS.lesson, times_applied: 4, times_validated: 2, times_contradicted: 1, current_confidence: 0.6, stale: false });
    expect(old).toMatchObject({ lesson_id: stale, times_applied: 0, current_confidence: 0.5, stale: true, last_validated_at: null });
    const detail = await ops.lessons.show(IDS.lesson);
    expect(new Map(detail.evidence.map((e) => [e.run_id, e.verdict]))).toEqual(
      new Map([[runs[0]?.runId, "validated"], [runs[1]?.runId, "validated"], [runs[2]?.runId, "applied"], [runs[3]?.runId, "contradicted"]]),
    );
    await ops.reviews.create(runs[3]?.runId as string);
    const candidates = await ops.lessons.candidates({ since: new Date(Date.now() - 3_600_000) });
    expect(candidates.find((c) => c.text === "Confirm the recipient.")).toMatchObject({ frequency: 1, from_agents: 1, from_reviews: 1, goal_type: "initiative", action_type: "*", failure_category: "tool_error" });
    await ops.close();

    const list = await runCli(["lesson", "list"], { cwd: root });
    expect(list.stdout).toContain(`${IDS.lesson}  initiative/send_message  confidence 0.60  applied 4, validated 2, contradicted 1`);
    expect(list.stdout).toContain("[STALE]");
    const shown = await runCli(["lesson", "show", IDS.lesson], { cwd: root });
    expect(shown.stdout).toContain(`${runs[3]?.runId}  contradicted`);
    const json = await runCliJson<{ promote: boolean }[]>(["lesson", "candidates", "--since", "1d", "--json"], { cwd: root });
    expect(json.json.length).toBeGreaterThan(0);
    expect((await runCli(["lesson", "show", "les_01M6B5CJM0W8B9F354SPG2VVZZ"], { cwd: root })).stderr).toContain("no lesson 'les_01M6B5CJM0W8B9F354SPG2VVZZ'");
  });
});
