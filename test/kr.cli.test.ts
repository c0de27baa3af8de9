import { describe, expect, it } from "vitest";
import { openGoalOps } from "../src/index.js";
import { runCli, runCliJson } from "./helpers/cli.js";
import { IDS, krYaml, validTree } from "./helpers/specs.js";
import { tempRepo, writeFiles } from "./helpers/tempRepo.js";

interface History {
  progress: number | null;
  health: string;
  values: { value: number; recorded_at: string; source: string | null; progress: number }[];
}

const DECREASING_KR = "goal_01M6B5CJM0W8B9F354SPG2VVE0";

async function repoWithValues(): Promise<string> {
  const root = tempRepo(validTree());
  writeFiles(root, {
    "goals/kr-decrease.yaml": krYaml(DECREASING_KR, IDS.objective).replace("baseline: 80", "baseline: 10").replace("target: 95", "target: 2").replace("direction: increase", "direction: decrease"),
  });
  expect((await runCli(["sync"], { cwd: root })).exitCode).toBe(0);
  return root;
}

describe("goalops kr", () => {
  it("records values with time and source, and shows their history with progress", async () => {
    const root = await repoWithValues();
    expect((await runCli(["kr", "record", IDS.kr, "84.5", "--at", "2026-11-01T09:00:00Z", "--source", "nightly"], { cwd: root })).exitCode).toBe(0);
    const second = await runCli(["kr", "record", IDS.kr, "87.5", "--at", "2026-11-02T09:00:00Z"], { cwd: root });
    expect(second.stdout).toContain("[##########----------]  50%");
    const history = await runCliJson<History>(["kr", "history", IDS.kr, "--json"], { cwd: root });
    expect(history.json.values.map((v) => [v.value, v.recorded_at, v.source, v.progress])).toEqual([
      [84.5, "2026-11-01T09:00:00.000Z", "nightly", 0.3],
      [87.5, "2026-11-02T09:00:00.000Z", null, 0.5],
    ]);
    expect(history.json.progress).toBe(0.5);
  });

  it("measures progress downward for a decrease key result, clamped at the target", async () => {
    const root = await repoWithValues();
    const half = await runCliJson<{ progress: number }>(["kr", "record", DECREASING_KR, "6", "--json"], { cwd: root });
    expect(half.json.progress).toBe(0.5);
    const beyond = await runCliJson<{ progress: number; health: string }>(["kr", "record", DECREASING_KR, "1", "--json"], { cwd: root });
    expect(beyond.json).toMatchObject({ progress: 1, health: "on_track" });
  });

  it.each([
    [["kr", "record", IDS.objective, "5"], 1, "is an objective, not a key_result"],
    [["kr", "record", IDS.kr, "lots"], 2, "value 'lots' is not a number"],
    [["kr", "record", IDS.kr, "5", "--at", "yesterday"], 1, "at (--at) yesterday: not an ISO 8601 date-time"],
    [["kr", "history", "goal_01M6B5CJM0W8B9F354SPG2VVZZ"], 1, "no goal 'goal_01M6B5CJM0W8B9F354SPG2VVZZ' in the database"],
  ])("goalops %j exits %i with a clear message", async (args, code, message) => {
    const root = await repoWithValues();
    const result = await runCli(args, { cwd: root });
    expect(result.exitCode).toBe(code);
    expect(result.stderr).toContain(message);
  });

  it("gives an objective the mean progress of its measured key results and the worst health", async () => {
    const root = await repoWithValues();
    const ops = await openGoalOps({ repo: root });
    try {
      expect((await ops.keyResults.objective(IDS.objective)).progress).toBeNull();
      await ops.keyResults.record(IDS.kr, 95);
      await ops.keyResults.record(DECREASING_KR, 10);
      const objective = await ops.keyResults.objective(IDS.objective);
      expect(objective.progress).toBe(0.5);
      expect(objective.keyResults.map((k) => [k.goal_id, k.progress]).sort()).toEqual([[IDS.kr, 1], [DECREASING_KR, 0]].sort());
      expect(objective.health).toBe("off_track");
    } finally {
      await ops.close();
    }
  });
});
