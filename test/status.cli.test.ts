import { describe, expect, it } from "vitest";
import { runCli, runCliJson } from "./helpers/cli.js";
import { IDS, goalYaml, validTree } from "./helpers/specs.js";
import { tempRepo, writeFiles } from "./helpers/tempRepo.js";

interface Node {
  goal_id: string;
  status: string;
  progress: number | null;
  health: string;
  children: Node[];
}

describe("goalops status", () => {
  it("shows the goal tree with status, progress and health, recent runs, and invalid files with file:line", async () => {
    const root = tempRepo(validTree(), { git: true });
    await runCli(["sync"], { cwd: root });
    await runCli(["kr", "record", IDS.kr, "87.5"], { cwd: root });
    const runId = (await runCli(["run", "start", IDS.initiative], { cwd: root })).stdout.trim();
    await runCli(["run", "finish", runId, "--outcome", "failed", "--failure-category", "tool_error"], { cwd: root });
    writeFiles(root, { "goals/objective.yaml": goalYaml({ goal_id: IDS.objective, title: "Improve reliability", status: "active", priority: 0 }) });
    expect((await runCli(["sync"], { cwd: root })).exitCode).toBe(1);

    const { json, exitCode } = await runCliJson<{ goals: Node[]; counts: Record<string, number>; recentRuns: { run_id: string }[]; invalidFiles: { path: string }[] }>(["status", "--json"], { cwd: root });
    expect(exitCode).toBe(0);
    const objective = json.goals.find((g) => g.goal_id === IDS.objective) as Node;
    expect(objective).toMatchObject({ status: "active", progress: 0.5 });
    expect(objective.children).toEqual([expect.objectContaining({ goal_id: IDS.kr, progress: 0.5, children: [expect.objectContaining({ goal_id: IDS.initiative })] })]);
    expect(json.counts).toEqual({ active: 1, planned: 2 });
    expect(json.recentRuns.map((r) => r.run_id)).toEqual([runId]);
    expect(json.invalidFiles.map((f) => f.path)).toEqual(["goals/objective.yaml"]);

    const text = await runCli(["status"], { cwd: root });
    expect(text.stdout).toContain("goals: 3 (2 planned, 1 active)");
    expect(text.stdout).toMatch(/└─ planned\s+\[##########----------\]\s+50% \S+\s+Accuracy at 95%/);
    expect(text.stdout).toContain(`${runId}  ${IDS.initiative}  finished failed (tool_error)`);
    expect(text.stdout).toContain("goals/objective.yaml:4:11: priority: found number 0; must be >= 1");
  });
});
