/**
 * The learning cycle's first steps over a real ledger: outcome aggregation (counts, verified
 * success, business mix, by goal type, action and failure category, within a window), and
 * after-action reviews (content for every failure category, notable successes, one per run, the
 * optional summarizer and its failures), through the library and the CLI.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { openGoalOps } from "../src/index.js";
import { openStore } from "../src/store/openStore.js";
import { FAILURE_TAXONOMY } from "../src/learning/failureTaxonomy.js";
import { FAILURE_CATEGORIES } from "../src/spec/types.js";
import { runCli, runCliJson, syncedRepo } from "./helpers/cli.js";
import { IDS } from "./helpers/specs.js";
import { writeFiles } from "./helpers/tempRepo.js";

const HOUR = 3_600_000;
const ago = (hours: number) => new Date(Date.now() - hours * HOUR).toISOString();

describe("outcome aggregation", () => {
  it("groups the window's finished runs by goal type, action and failure category", async () => {
    const root = await syncedRepo();
    const ops = await openGoalOps({ repo: root });
    await ops.runs.recordMany([
      { goalId: IDS.kr, outcome: "succeeded", verifier: "passed", actions: ["send_message"], startedAt: ago(5), finishedAt: ago(5) },
      { goalId: IDS.kr, outcome: "succeeded", verifier: "skipped", actions: ["send_message"], startedAt: ago(4), finishedAt: ago(4) },
      { goalId: IDS.kr, outcome: "failed", verifier: "failed", failureCategory: "tool_error", actions: ["send_message", "call_api"], startedAt: ago(3), finishedAt: ago(3) },
      { goalId: IDS.initiative, outcome: "partial", failureCategory: "execution_timeout", startedAt: ago(2), finishedAt: ago(2) },
      // Outside the window.
      { goalId: IDS.kr, outcome: "failed", failureCategory: "policy_block", actions: ["send_message"], startedAt: ago(24 * 10), finishedAt: ago(24 * 10) },
    ]);
    await ops.runs.start(IDS.kr); // running: not an outcome yet
    const report = await ops.outcomes.aggregate({ since: new Date(Date.now() - 7 * 24 * HOUR) });
    expect(report.totals).toMatchObject({ runs: 4, succeeded: 2, failed: 1, partial: 1, verified_success: 1, unknown: 4, verified_success_rate: 0.25, failure_rate: 0.5 });
    expect(report.byGoalType.map((g) => [g.goal_type, g.runs])).toEqual([["key_result", 3], ["initiative", 1]]);
    const group = (action: string | null, category: string | null) => report.byGroup.find((g) => g.action === action && g.failure_category === category);
    expect(group("send_message", null)).toMatchObject({ goal_type: "key_result", runs: 2, verified_success: 1 });
    expect(group("send_message", "tool_error")).toMatchObject({ runs: 1, failed: 1 });
    expect(group("call_api", "tool_error")).toMatchObject({ runs: 1 });
    expect(group(null, "execution_timeout")).toMatchObject({ goal_type: "initiative", partial: 1 });
    expect(report.byGroup.some((g) => g.failure_category === "policy_block")).toBe(false);
    await ops.close();

    const cli = await runCliJson<{ totals: { runs: number } }>(["report", "learning", "--since", "30d", "--json"], { cwd: root });
    expect(cli.json.totals.runs).toBe(5);
    const text = await runCli(["report", "learning"], { cwd: root });
    expect(text.stdout).toMatch(/key_result \/ send_message \/ tool_error\s+1/);
    expect((await runCli(["report", "learning", "--since", "soon"], { cwd: root })).stderr).toContain("--since soon: expected an interval");
  });
});

describe("after-action reviews", () => {
  it("reviews a failed run of every failure category with the taxonomy's cause and remedy", async () => {
    const root = await syncedRepo();
    const ops = await openGoalOps({ repo: root });
    const recorded = await ops.runs.recordMany(
      FAILURE_CATEGORIES.map((category, i) => ({ goalId: IDS.initiative, outcome: "failed", verifier: i % 2 === 0 ? "failed" : "skipped", failureCategory: category, actions: ["call_api"], startedAt: ago(10 - i / 10), finishedAt: ago(10 - i / 10) })),
    );
    for (const [i, category] of FAILURE_CATEGORIES.entries()) {
      const { review } = await ops.reviews.create(recorded[i]?.runId as string);
      const info = FAILURE_TAXONOMY[category];
      expect(review).toMatchObject({ failure_category: category, review_reason: "failed", root_cause: `${category}: ${info.rootCause}`, narrative_source: "template" });
      expect(review.difference).toContain(info.meaning);
      expect(review.recommended_changes).toContain(info.recommendation);
      expect(review.what_failed).toEqual([`${category}: ${info.meaning}`]);
      expect(review.lesson_candidates).toContain(`initiative / call_api: ${info.recommendation}`);
      expect(review.intended).toContain('"Build a harness"');
      expect(review.detection).toBe(i % 2 === 0 ? "detected by the verifier" : "reported by the agent's own outcome (no verifier ran)");
    }
    await ops.close();
  });

  it("uses the agent's notes and lesson candidates, the key-result movement, and makes one review per run", async () => {
    const root = await syncedRepo();
    const ops = await openGoalOps({ repo: root });
    await ops.keyResults.record(IDS.kr, 80);
    const run = await ops.runs.start(IDS.kr, { plan: "retry the flaky send" });
    await ops.keyResults.record(IDS.kr, 84);
    await ops.runs.finish(run.run_id, { outcome: "partial", verifier: "passed", failureCategory: "external_dependency", actions: ["send_message"], notes: "the gateway returned 503 twice", lessonCandidates: ["check the gateway status first"] });
    const first = await ops.reviews.create(run.run_id);
    expect(first.existing).toBe(false);
    expect(first.review.root_cause).toBe("external_dependency: the gateway returned 503 twice");
    expect(first.review.difference).toContain("The agent noted: the gateway returned 503 twice");
    expect(first.review.impact).toContain(`${IDS.kr} 80 -> 84 (+4)`);
    expect(first.review.lesson_candidates[0]).toBe("check the gateway status first");
    expect(first.review.what_worked).toEqual(["send_message (in part)"]);
    expect(first.review.sustain).toEqual(["the verified part of the work"]);
    expect(first.review.intended).toContain("plan: retry the flaky send");
    const again = await ops.reviews.create(run.run_id);
    expect(again).toMatchObject({ existing: true, review: { aar_id: first.review.aar_id } });
    expect((await ops.reviews.show(first.review.aar_id)).run_id).toBe(run.run_id);
    const running = await ops.runs.start(IDS.kr);
    await expect(ops.reviews.create(running.run_id)).rejects.toThrow(/is running; a review is made of a finished run/);
    await ops.close();
  });

  it("reviews what is due: failed and partial runs, and a success after two or more failures", async () => {
    const root = await syncedRepo();
    const ops = await openGoalOps({ repo: root });
    const at = (h: number) => ({ startedAt: ago(h), finishedAt: ago(h) });
    const ids = await ops.runs.recordMany([
      { goalId: IDS.kr, outcome: "failed", failureCategory: "tool_error", ...at(9) },
      { goalId: IDS.kr, outcome: "partial", failureCategory: "tool_error", ...at(8) },
      { goalId: IDS.kr, outcome: "succeeded", verifier: "passed", actions: ["send_message"], plan: "send with a retry", ...at(7) }, // notable
      { goalId: IDS.kr, outcome: "succeeded", ...at(6) }, // ordinary
      { goalId: IDS.initiative, outcome: "failed", failureCategory: "planning_error", ...at(5) },
      { goalId: IDS.initiative, outcome: "succeeded", ...at(4) }, // one failure before: ordinary
    ]);
    const due = await ops.reviews.createDue({ since: new Date(Date.now() - 24 * HOUR) });
    expect(due).toEqual({ made: 4, byReason: { failed: 2, partial: 1, notable_success: 1 }, summarizerErrors: 0 });
    const reviews = await ops.reviews.list();
    expect(new Map(reviews.map((r) => [r.run_id, r.review_reason]))).toEqual(
      new Map([
        [ids[0]?.runId, "failed"],
        [ids[1]?.runId, "partial"],
        [ids[2]?.runId, "notable_success"],
        [ids[4]?.runId, "failed"],
      ]),
    );
    const notable = reviews.find((r) => r.review_reason === "notable_success");
    expect(notable?.difference).toBe("none this time: it succeeded after 2 failed or partial runs of this goal");
    expect(notable?.recommended_changes).toContain('reuse this run\'s approach for "Accuracy at 95%" (plan: send with a retry)');
    expect(notable?.what_worked).toEqual(["send_message"]);
    expect(await ops.reviews.createDue({ since: new Date(Date.now() - 24 * HOUR) })).toEqual({ made: 0, byReason: {}, summarizerErrors: 0 });
    expect(await ops.reviews.list({ goalId: IDS.kr })).toHaveLength(3);
    await ops.close();

    const list = await runCli(["aar", "list"], { cwd: root });
    expect(list.stdout.trim().split("\n")).toHaveLength(4);
    const shown = await runCli(["aar", "show", ids[0]?.runId as string], { cwd: root });
    expect(shown.stdout).toContain("What was supposed to happen:");
    expect(shown.stdout).toContain("Root cause: tool_error:");
    const created = await runCliJson<{ existing: boolean; review_reason: string }>(["aar", "create", ids[3]?.runId as string, "--json"], { cwd: root });
    expect(created.json).toMatchObject({ existing: false, review_reason: "manual" });
    expect((await runCli(["aar", "show", "aar_01M6B5CJM0W8B9F354SPG2VVZZ"], { cwd: root })).stderr).toContain("no review 'aar_01M6B5CJM0W8B9F354SPG2VVZZ'");
  });

  it("reviews what is due in an in-memory database too (one connection: the scan is read before the reviews are written)", async () => {
    const root = await syncedRepo();
    const store = openStore({ databasePath: ":memory:", busyTimeoutMs: 1000 });
    const ops = await openGoalOps({ repo: root, store });
    try {
      await ops.sync();
      const at = (h: number) => ({ startedAt: ago(h), finishedAt: ago(h) });
      // Enough failures that reviews are written while the scan has rows left (a chunk is 256 runs).
      const failures = Array.from({ length: 700 }, (_, i) => ({ goalId: IDS.kr, outcome: "failed" as const, failureCategory: "tool_error" as const, startedAt: ago(3 + i / 1000), finishedAt: ago(3) }));
      await ops.runs.recordMany([...failures, { goalId: IDS.kr, outcome: "partial", failureCategory: "tool_error", ...at(2) }, { goalId: IDS.kr, outcome: "succeeded", ...at(1) }]);
      expect(await ops.reviews.createDue({ since: new Date(Date.now() - 24 * HOUR) })).toEqual({ made: 702, byReason: { failed: 700, partial: 1, notable_success: 1 }, summarizerErrors: 0 });
    } finally {
      await ops.close();
      await store.close();
    }
  });

  it("lets learning.summarizer rewrite the narrative, and keeps the drafted one when it fails", async () => {
    const root = await syncedRepo();
    writeFileSync(join(root, "summarize.mjs"), `let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => { const r = JSON.parse(s); process.stdout.write(JSON.stringify({ what_happened: "Summarized: " + r.run_id, improve: ["one thing"] })); });\n`);
    writeFileSync(join(root, "broken.mjs"), `process.stderr.write("model unavailable"); process.exit(3);\n`);
    writeFileSync(join(root, "slow.mjs"), `setTimeout(() => {}, 10000);\n`);
    const ops = await openGoalOps({ repo: root });
    const runs = await ops.runs.recordMany([1, 2, 3].map(() => ({ goalId: IDS.kr, outcome: "failed", failureCategory: "tool_error" })));
    await ops.close();
    const review = async (script: string, runId: string, timeout = "10s") => {
      writeFiles(root, { "goalops.yaml": `version: 1\nlearning:\n  summarizer:\n    command: ${process.execPath}\n    args: [${script}]\n    timeout: ${timeout}\n` });
      const o = await openGoalOps({ repo: root });
      try {
        return await o.reviews.create(runId);
      } finally {
        await o.close();
      }
    };
    const good = await review("summarize.mjs", runs[0]?.runId as string);
    expect(good.review).toMatchObject({ narrative_source: "summarizer", what_happened: `Summarized: ${runs[0]?.runId}`, improve: ["one thing"] });
    expect(good.review.root_cause).toContain("tool_error"); // fields it did not answer stay as drafted
    const broken = await review("broken.mjs", runs[1]?.runId as string);
    expect(broken.review.narrative_source).toBe("template");
    expect(broken.summarizerError).toContain("exited with 3: model unavailable");
    const slow = await review("slow.mjs", runs[2]?.runId as string, "1s");
    expect(slow.review.narrative_source).toBe("template");
    expect(slow.summarizerError).toContain("took longer than 1s");
  });
});
