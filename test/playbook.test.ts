/**
 * Playbook rules: the evaluation rule (pure: shadow, canary, full; promote, roll back, wait), and
 * over a real ledger a canary whose runs with the rule do worse, rolled back at once with an
 * audited event, out of agents' context, and back in force when its file changes.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { openGoalOps } from "../src/index.js";
import { evaluateRule } from "../src/learning/ruleEvaluation.js";
import { runCli, syncedRepo } from "./helpers/cli.js";
import { IDS, ruleYaml, validTree } from "./helpers/specs.js";

const options = { minRuns: 10, margin: 0.05 };
const side = (runs: number, verified: number) => ({ runs, verified });

describe("rule evaluation", () => {
  it("promotes a shadow rule once it has a baseline", () => {
    expect(evaluateRule({ mode: "shadow", with: side(0, 0), without: side(9, 5) }, options)).toMatchObject({ decision: "inconclusive", to: "shadow" });
    expect(evaluateRule({ mode: "shadow", with: side(0, 0), without: side(10, 5) }, options)).toMatchObject({ decision: "promote", to: "canary" });
  });

  it("judges a canary only with enough runs on each side, rolls back a regression beyond the margin, promotes after 3 validations", () => {
    expect(evaluateRule({ mode: "canary", with: side(9, 0), without: side(50, 40) }, options).decision).toBe("inconclusive");
    const regression = evaluateRule({ mode: "canary", with: side(20, 10), without: side(20, 16) }, options);
    expect(regression).toMatchObject({ decision: "rollback", to: "shadow" });
    expect(regression.reason).toContain("with the rule 10/20 verified (50%), without 16/20 (80%)");
    // 75% against 80% is exactly the 5% margin: not a regression.
    expect(evaluateRule({ mode: "canary", with: side(20, 15), without: side(20, 16) }, options).decision).toBe("promote");
    expect(evaluateRule({ mode: "canary", with: side(10, 2), without: side(10, 2) }, options)).toMatchObject({ decision: "inconclusive" });
    expect(evaluateRule({ mode: "canary", with: side(10, 3), without: side(10, 2) }, options)).toMatchObject({ decision: "promote", to: "full" });
    expect(evaluateRule({ mode: "full", with: side(100, 1), without: side(0, 0) }, options).decision).toBe("inconclusive");
  });
});

describe("playbook rules over the ledger", () => {
  it("rolls a regressing canary back at once, audits it, keeps it out of context, and restores it when its file changes", async () => {
    const canary = ruleYaml(IDS.rule, [IDS.lesson]).replace("activation_mode: shadow", "activation_mode: canary\ncanary_share: 0.5");
    const root = await syncedRepo({ ...validTree(), "goalops.yaml": "version: 1\nlearning:\n  canary_min_runs: 3\n", "playbooks/confirm.yaml": canary });
    const ops = await openGoalOps({ repo: root });
    // Runs given the rule fail; runs without it succeed, verified.
    for (let i = 0; i < 16; i++) {
      const run = await ops.runs.start(IDS.initiative);
      const withRule = run.context_rules.find((r) => r.rule_id === IDS.rule)?.in_context;
      expect(withRule).toBeTypeOf("boolean");
      await ops.runs.finish(run.run_id, withRule ? { outcome: "failed", failureCategory: "tool_error" } : { outcome: "succeeded", verifier: "passed" });
    }
    const since = new Date(Date.now() - 3_600_000);
    const [before] = await ops.playbook.list({ since });
    expect(before?.mode).toBe("canary");
    expect(before?.evaluation.decision).toBe("rollback");
    expect((before?.with_rule.runs ?? 0) + (before?.without_rule.runs ?? 0)).toBe(16);

    const [after] = await ops.playbook.evaluate({ since, apply: true, actor: "test" });
    expect(after).toMatchObject({ mode: "shadow", file_mode: "canary", rolled_back_at: expect.any(String), evaluation: { decision: "inconclusive" } });
    // Out of every context from now on.
    for (let i = 0; i < 5; i++) {
      const run = await ops.runs.start(IDS.initiative);
      expect(run.context_rules.find((r) => r.rule_id === IDS.rule)).toMatchObject({ activation_mode: "shadow", in_context: false });
    }
    const shown = await ops.playbook.show(IDS.rule, { since });
    expect(shown.events.map((e) => [e.from_mode, e.to_mode, e.decision, e.actor])).toEqual([
      [null, "canary", "file", "git:playbooks/confirm.yaml"],
      ["canary", "shadow", "rollback", "test"],
    ]);
    expect(shown.events[1]?.evidence).toMatchObject({ with_rule: { verified: 0 }, without_rule: { runs: expect.any(Number) } });
    await ops.close();

    const text = await runCli(["playbook", "show", IDS.rule], { cwd: root });
    expect(text.stdout).toContain("canary -> shadow  rollback by test: regression beyond the 5% margin");

    // A reviewed change to the file puts it back in force.
    writeFileSync(join(root, "playbooks/confirm.yaml"), canary.replace("Confirm an ambiguous recipient before sending.", "Confirm an ambiguous recipient by name before sending."));
    expect((await runCli(["sync"], { cwd: root })).exitCode).toBe(0);
    const list = await runCli(["playbook", "list", "--json"], { cwd: root });
    expect(JSON.parse(list.stdout)[0]).toMatchObject({ mode: "canary", rolled_back_at: null });
  });
});
