import { describe, expect, it } from "vitest";
import { LedgerPass, type LedgerPassSetup } from "../src/learning/ledgerPass.js";
import type { RunFacts } from "../src/store/types.js";

// The pass is pure: runs in start order in, counts out. Short ids keep the tables readable.
const SINCE = "2026-11-20T00:00:00.000Z";

interface RunSpec {
  id: string;
  goal?: string;
  at: string;
  outcome: "succeeded" | "failed" | "partial";
  verifier?: "passed" | "failed" | "skipped" | null;
  business?: string;
  category?: string | null;
  actions?: string[];
  lessons?: string[];
  rules?: { rule_id: string; in_context?: boolean }[];
  candidates?: string[];
}

function facts(r: RunSpec): RunFacts {
  const candidates = r.candidates !== undefined && r.candidates.length > 0 ? JSON.stringify(r.candidates) : "";
  return [
    r.id, r.goal ?? "g1", r.at, `${r.outcome}|${r.verifier ?? ""}|${r.business ?? "unknown"}|${r.category ?? ""}`,
    JSON.stringify(r.actions ?? []), `${JSON.stringify(r.lessons ?? [])}\u001d${JSON.stringify(r.rules ?? [])}`, candidates,
    candidates === "" ? "" : '{"kr":1}', candidates === "" ? "" : '{"kr":2}',
    r.outcome === "succeeded" ? "the plan" : "",
  ];
}

function pass(runs: RunSpec[], over: Partial<LedgerPassSetup> = {}): LedgerPass {
  const p = new LedgerPass({
    since: SINCE,
    goalTypes: new Map([["g1", "initiative"], ["g2", "key_result"]]),
    lessonCategories: new Map([["les_any", null], ["les_timeout", "execution_timeout"]]),
    reviewed: new Map(),
    collect: { due: true, candidates: true },
    ...over,
  });
  // In two chunks, as the store yields them.
  const rows = runs.map(facts);
  p.add(rows.slice(0, 2));
  p.add(rows.slice(2));
  return p;
}

const day = (d: number, h = 0) => `2026-11-${String(d).padStart(2, "0")}T${String(h).padStart(2, "0")}:00:00.000Z`;

describe("the ledger pass", () => {
  it("groups the window's runs by goal type, each action and failure category, largest first", () => {
    const p = pass([
      { id: "r0", at: day(19), outcome: "failed", actions: ["a"] }, // before the window: not counted
      { id: "r1", at: day(21), outcome: "succeeded", verifier: "passed", actions: ["a", "b"], business: "improved" },
      { id: "r2", at: day(21, 1), outcome: "failed", category: "execution_timeout", actions: ["a"] },
      { id: "r3", at: day(21, 2), outcome: "partial", goal: "g2" },
      { id: "r4", at: day(21, 3), outcome: "succeeded", verifier: "failed", actions: ["a"], goal: "gone" }, // goal not in the database
    ]);
    const { byGroup, byGoalType } = p.outcomes();
    expect(p.runs).toBe(3);
    expect(byGoalType.map((g) => [g.goal_type, g.runs, g.succeeded, g.failed, g.partial, g.verified_success, g.improved, g.unknown])).toEqual([
      ["initiative", 2, 1, 1, 0, 1, 1, 1],
      ["key_result", 1, 0, 0, 1, 0, 0, 1],
    ]);
    expect(byGroup.map((g) => [g.goal_type, g.action, g.failure_category, g.runs])).toEqual([
      ["initiative", "a", null, 1],
      ["initiative", "a", "execution_timeout", 1],
      ["initiative", "b", null, 1],
      ["key_result", null, null, 1],
    ]);
    expect(LedgerPass.total(byGoalType).runs).toBe(3);
  });

  it("counts each rule's window runs with it in the context and without, and their verified successes", () => {
    const p = pass([
      { id: "r1", at: day(21), outcome: "succeeded", verifier: "passed", rules: [{ rule_id: "rule_x" }, { rule_id: "rule_y", in_context: false }] },
      { id: "r2", at: day(21, 1), outcome: "succeeded", verifier: "skipped", rules: [{ rule_id: "rule_x", in_context: true }] },
      { id: "r3", at: day(21, 2), outcome: "failed", rules: [{ rule_id: "rule_y", in_context: false }] },
      { id: "r4", at: day(19), outcome: "succeeded", verifier: "passed", rules: [{ rule_id: "rule_x" }] }, // before the window
    ]);
    expect(Object.fromEntries(p.ruleSides())).toEqual({
      rule_x: { with: { runs: 2, verified: 1 }, without: { runs: 0, verified: 0 } },
      rule_y: { with: { runs: 0, verified: 0 }, without: { runs: 2, verified: 1 } },
    });
  });

  it("judges lesson evidence over every run scanned: validated, contradicted (matching category), applied", () => {
    const p = pass(
      [
        { id: "r1", at: day(10), outcome: "succeeded", verifier: "passed", lessons: ["les_any", "les_timeout"] },
        { id: "r2", at: day(11), outcome: "failed", category: "external_dependency", lessons: ["les_any", "les_timeout"] },
        { id: "r3", at: day(21), outcome: "partial", category: "execution_timeout", lessons: ["les_timeout", "les_unknown"] },
        { id: "r4", at: day(22), outcome: "succeeded", verifier: "failed", lessons: ["les_any"] },
      ],
      { evidenceFor: "les_timeout" },
    );
    expect(Object.fromEntries(p.lessonCounts())).toEqual({
      les_any: { lesson_id: "les_any", applied: 3, validated: 1, contradicted: 1, last_validated_at: day(10) },
      les_timeout: { lesson_id: "les_timeout", applied: 3, validated: 1, contradicted: 1, last_validated_at: day(10) },
    });
    expect(p.evidence().map((e) => [e.run_id, e.verdict])).toEqual([["r3", "contradicted"], ["r2", "applied"], ["r1", "validated"]]);
  });

  it("finds the reviews due: failed and partial runs, and the first success after two or more failures, counting failures from before the window", () => {
    const p = pass(
      [
        { id: "a1", at: day(18), outcome: "failed" }, // before the window: not due, but starts g1's streak
        { id: "b1", at: day(18, 1), outcome: "failed", goal: "g2" },
        { id: "a2", at: day(21), outcome: "partial" },
        { id: "b2", at: day(21, 1), outcome: "succeeded", goal: "g2" }, // one failure before: not notable
        { id: "a3", at: day(21, 2), outcome: "succeeded" }, // two before (one outside the window): notable
        { id: "a4", at: day(21, 3), outcome: "failed" },
        { id: "a5", at: day(21, 4), outcome: "failed" }, // has a review already
        { id: "a6", at: day(21, 5), outcome: "succeeded" },
        { id: "a7", at: day(21, 6), outcome: "succeeded" },
      ],
      { reviewed: new Map([["a5", { candidates: null, metricsBefore: null, metricsAfter: null }]]) },
    );
    // Failed and partial runs by kind (their reviews are written by one statement).
    expect(p.failureKindsDue()).toEqual([{ goal_type: "initiative", first_action: null, failure_category: null, own_candidates: [] }]);
    expect(p.dueReasons()).toEqual({ failed: 1, partial: 1, notable_success: 2 });
    // Notable successes one by one, in start order, with the streak before them and their own candidate.
    expect(p.notableSuccessesDue().map((d) => [d.runId, d.priorFailures, d.ownCandidates])).toEqual([
      ["a3", 2, ["initiative / any action: what worked after 2 failures: the plan"]],
      ["a6", 2, ["initiative / any action: what worked after 2 failures: the plan"]],
    ]);
  });

  it("gives a due failure's review's own lesson candidates to the grouping, shared by the runs of its key", () => {
    const p = pass([
      { id: "f1", at: day(21), outcome: "failed", category: "tool_error", actions: ["call_api"] },
      { id: "f2", at: day(21, 1), outcome: "failed", category: "tool_error", actions: ["call_api", "write"] },
      { id: "f3", at: day(21, 2), outcome: "failed", category: "tool_error", actions: ["call_api"], candidates: ["pin the CLI"] },
      { id: "f4", at: day(21, 3), outcome: "partial" }, // no category: the review proposes nothing of its own
    ]);
    const sources = p.candidates().map((c) => c.source);
    expect(sources.map((s) => s.runId)).toEqual(["f1", "f2", "f3"]);
    const own = "initiative / call_api: validate tool arguments before the call and retry transient tool errors with backoff";
    expect(sources[0]?.texts).toEqual([{ text: own, from: "review" }]);
    expect(sources[1]?.texts).toBe(sources[0]?.texts); // one list for the goal type, first action and category
    expect(sources[2]?.texts).toEqual([{ text: "pin the CLI", from: "agent" }, { text: "pin the CLI", from: "review" }, { text: own, from: "review" }]);
    expect(p.failureKindsDue().map((k) => [k.first_action, k.failure_category, k.own_candidates.length])).toEqual([["call_api", "tool_error", 1], [null, null, 0]]);
  });

  it("reads a run's context lessons and rules however their JSON is laid out", () => {
    const p = new LedgerPass({ since: SINCE, goalTypes: new Map([["g1", "initiative"]]), lessonCategories: new Map([["les_any", null]]), reviewed: new Map(), collect: { due: false, candidates: false } });
    const pretty = '[\n  "les_any"\n]\u001d[\n  { "rule_id": "rule_1", "in_context": false }\n]';
    p.add([["r1", "g1", day(21), "succeeded|passed|unknown|", "[]", pretty, "", "", "", ""]]);
    expect(p.lessonCounts().get("les_any")).toMatchObject({ applied: 1, validated: 1 });
    expect(p.ruleSides().get("rule_1")).toEqual({ with: { runs: 0, verified: 0 }, without: { runs: 1, verified: 1 } });
  });

  it("collects the window's runs that proposed lessons, agents' notes before their existing review's, and a due review's, in start order", () => {
    const p = pass(
      [
        { id: "r0", at: day(19), outcome: "failed", candidates: ["old"] }, // before the window
        { id: "r1", at: day(21), outcome: "failed", category: "execution_timeout", actions: ["query", "write"], candidates: ["split the query"] },
        { id: "r2", at: day(21, 1), outcome: "succeeded", business: "improved" },
        { id: "r3", at: day(21, 2), outcome: "failed" },
      ],
      {
        reviewed: new Map([
          ["r1", { candidates: '["from the review"]', metricsBefore: null, metricsAfter: null }],
          ["r3", { candidates: '["retry later"]', metricsBefore: '{"kr":1}', metricsAfter: '{"kr":1}' }],
        ]),
      },
    );
    expect(p.candidates().map((c) => [c.source.runId, c.source.actionType, c.source.failureCategory, c.source.texts, c.source.keyResultsMoved])).toEqual([
      ["r1", "query", "execution_timeout", [{ text: "split the query", from: "agent" }, { text: "from the review", from: "review" }], true],
      // r2 is due a review now (a notable success): what worked is its review's candidate
      ["r2", "*", null, [{ text: "initiative / any action: what worked after 2 failures: the plan", from: "review" }], false],
      ["r3", "*", null, [{ text: "retry later", from: "review" }], false],
    ]);
    // Runs with a review are not due another; r2 is the first success after two failures.
    expect(p.notableSuccessesDue().map((d) => d.runId)).toEqual(["r2"]);
    expect(p.failureKindsDue()).toEqual([]);
  });
});
