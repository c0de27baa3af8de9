import { describe, expect, it } from "vitest";
import { inCanary } from "../src/runs/canary.js";
import { runCli, runCliJson } from "./helpers/cli.js";
import { IDS, goalYaml, lessonYaml, ruleYaml, validTree } from "./helpers/specs.js";
import { tempRepo } from "./helpers/tempRepo.js";

interface Context {
  goal: { goal_id: string };
  chain: { goal_id: string }[];
  keyResults: { goal_id: string; progress: number | null }[];
  lessons: { lesson_id: string }[];
  rules: { rule_id: string; activation_mode: string }[];
  openLoops: { loop_id: string }[];
  note?: string;
}

const FULL_RULE = "rule_01M6B5CJM0W8B9F354SPG2VVF0";
const CANARY_RULE = "rule_01M6B5CJM0W8B9F354SPG2VVF1";
const OTHER_LESSON = "les_01M6B5CJM0W8B9F354SPG2VVF2";

async function repo(): Promise<string> {
  const root = tempRepo({
    ...validTree(),
    "goals/initiative.yaml": goalYaml({ goal_id: IDS.initiative, goal_type: "initiative", title: "Build a harness", parent_goal_id: IDS.kr, allowed_capabilities: ["send_message", "run_tests"] }),
    "playbooks/full.yaml": ruleYaml(FULL_RULE).replace("activation_mode: shadow", "activation_mode: full"),
    "playbooks/canary.yaml": ruleYaml(CANARY_RULE).replace("activation_mode: shadow", "activation_mode: canary\ncanary_share: 0.5"),
    "lessons/other.yaml": lessonYaml(OTHER_LESSON).replace("action_type: send_message", "action_type: crm.update"),
  });
  expect((await runCli(["sync"], { cwd: root })).exitCode).toBe(0);
  return root;
}

describe("goalops context", () => {
  it("holds the goal's chain, key results, applicable lessons, full rules and open loops, never shadow rules", async () => {
    const root = await repo();
    await runCli(["kr", "record", IDS.kr, "87.5"], { cwd: root });
    await runCli(["loop", "add", "--goal", IDS.initiative, "--kind", "follow_up", "--description", "ask QA"], { cwd: root });
    const { json } = await runCliJson<Context>(["context", "--goal", IDS.initiative, "--format", "json"], { cwd: root });
    expect(json.chain.map((g) => g.goal_id)).toEqual([IDS.kr, IDS.objective]);
    expect(json.keyResults).toEqual([expect.objectContaining({ goal_id: IDS.kr, progress: 0.5 })]);
    // The crm.update lesson is outside the goal's capabilities; the shadow rule is never injected.
    expect(json.lessons.map((l) => l.lesson_id)).toEqual([IDS.lesson]);
    expect(json.rules).toEqual([expect.objectContaining({ rule_id: FULL_RULE, activation_mode: "full" })]);
    expect(json.rules.map((r) => r.rule_id)).not.toContain(IDS.rule);
    expect(json.openLoops).toHaveLength(1);
    expect(json.note).toContain("canary rules are drawn per run");

    const md = await runCli(["context", "--goal", IDS.initiative], { cwd: root });
    expect(md.stdout).toMatch(/^# Goal: Build a harness\n/);
    expect(md.stdout).toContain("## Key results\n- Accuracy at 95%: accuracy 80 -> 95 percent; now 87.5 (50%, ");
    expect(md.stdout).toContain("## Open loops\n- follow_up: ask QA");
  });

  it("draws canary rules per run, the same way the run ledger recorded them", async () => {
    const root = await repo();
    for (let i = 0; i < 4; i++) {
      const run = await runCliJson<{ run_id: string; context_rules: { rule_id: string; in_context: boolean }[] }>(["run", "start", IDS.initiative, "--json"], { cwd: root });
      const { json } = await runCliJson<Context>(["context", "--goal", IDS.initiative, "--run", run.json.run_id, "--json"], { cwd: root });
      expect(json.rules.map((r) => r.rule_id).sort()).toEqual(run.json.context_rules.filter((r) => r.in_context).map((r) => r.rule_id).sort());
      const again = await runCliJson<Context>(["context", "--goal", IDS.initiative, "--run", run.json.run_id, "--json"], { cwd: root });
      expect(again.json.rules).toEqual(json.rules);
    }
  }, 60_000);

  it("gives a canary rule to its share of runs, deterministically", () => {
    const ids = Array.from({ length: 2000 }, (_, i) => `grun_${String(i).padStart(26, "0")}`);
    const drawn = ids.filter((id) => inCanary(id, CANARY_RULE, 0.25)).length;
    expect(drawn / ids.length).toBeGreaterThan(0.22);
    expect(drawn / ids.length).toBeLessThan(0.28);
    expect(ids.map((id) => inCanary(id, CANARY_RULE, 0.25))).toEqual(ids.map((id) => inCanary(id, CANARY_RULE, 0.25)));
    expect(ids.filter((id) => inCanary(id, CANARY_RULE, null)).length / ids.length).toBeCloseTo(0.5, 1);
  });
});
