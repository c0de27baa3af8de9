import { describe, expect, it } from "vitest";
import { openGoalOps } from "../src/index.js";
import { runCli, runCliJson, syncedRepo } from "./helpers/cli.js";
import { IDS, validTree } from "./helpers/specs.js";
import { tempRepo } from "./helpers/tempRepo.js";

interface Detail {
  goal_id: string;
  status: string;
  nextStatuses: string[];
  history: { from_status: string | null; to_status: string; actor: string; reason: string }[];
}

describe("goalops goal", () => {
  it("lists goals with their runtime status", async () => {
    const root = await syncedRepo(validTree(), { git: true });
    const text = await runCli(["goal", "list"], { cwd: root });
    expect(text.stdout).toMatch(new RegExp(`^active\\s+p3\\s+objective\\s+${IDS.objective}\\s+Improve reliability$`, "m"));
    const json = await runCliJson<{ goal_id: string; status: string }[]>(["goal", "list", "--json"], { cwd: root });
    expect(json.json.map((g) => [g.goal_id, g.status]).sort()).toEqual([[IDS.objective, "active"], [IDS.kr, "planned"], [IDS.initiative, "planned"]].sort());
  });

  it("changes a status through the state machine and records who, why and when", async () => {
    const root = await syncedRepo(validTree(), { git: true });
    const moved = await runCli(["goal", "transition", IDS.kr, "ready", "--reason", "baseline measured", "--actor", "agent:planner"], { cwd: root });
    expect(moved.stdout).toBe(`${IDS.kr}: planned -> ready`);
    expect(moved.exitCode).toBe(0);
    const shown = await runCliJson<Detail>(["goal", "show", IDS.kr, "--json"], { cwd: root });
    expect(shown.json.status).toBe("ready");
    expect(shown.json.nextStatuses).toEqual(["active", "planned", "blocked", "archived"]);
    expect(shown.json.history.at(-1)).toMatchObject({ from_status: "planned", to_status: "ready", actor: "agent:planner", reason: "baseline measured" });
    const text = await runCli(["goal", "show", IDS.kr], { cwd: root });
    expect(text.stdout).toContain("planned -> ready  by agent:planner: baseline measured");
  });

  it("refuses an illegal change, naming the legal next statuses, and changes nothing", async () => {
    const root = await syncedRepo(validTree(), { git: true });
    const refused = await runCli(["goal", "transition", IDS.kr, "completed", "--reason", "done?"], { cwd: root });
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toContain(`goal ${IDS.kr} is 'planned' and cannot become 'completed'; legal next statuses: ready, blocked, archived`);
    const shown = await runCliJson<Detail>(["goal", "show", IDS.kr, "--json"], { cwd: root });
    expect(shown.json.status).toBe("planned");
  });

  it.each([
    [["goal", "transition", IDS.kr, "finished", "--reason", "x"], 1, "'finished' is not a goal status"],
    [["goal", "show", "goal_01M6B5CJM0W8B9F354SPG2VVZZ"], 1, "no goal 'goal_01M6B5CJM0W8B9F354SPG2VVZZ' in the database"],
    [["goal", "transition", IDS.kr, "ready"], 2, "required option '--reason <text>' not specified"],
  ])("goalops %j exits %i with a clear message", async (args, code, message) => {
    const root = await syncedRepo(validTree(), { git: true });
    const result = await runCli(args, { cwd: root });
    expect(result.exitCode).toBe(code);
    expect(result.stderr).toContain(message);
  });
});

describe("the library", () => {
  it("opens a repository, syncs it and changes a goal's status", async () => {
    const root = tempRepo(validTree());
    const ops = await openGoalOps({ repo: root });
    try {
      expect((await ops.validate()).valid).toBe(true);
      expect((await ops.diff()).counts.added).toBe(5);
      expect((await ops.sync()).counts.added).toBe(5);
      const detail = await ops.goals.transition(IDS.initiative, { to: "ready", reason: "staffed", actor: "agent:test" });
      expect(detail.status).toBe("ready");
      await expect(ops.goals.transition(IDS.initiative, { to: "completed", reason: "x", actor: "agent:test" })).rejects.toMatchObject({ code: "goal.illegal_transition" });
    } finally {
      await ops.close();
    }
  });
});
