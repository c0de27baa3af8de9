import { describe, expect, it } from "vitest";
import { CLI, runCli, runCliJson } from "./helpers/cli.js";
import { IDS, goalYaml, validTree } from "./helpers/specs.js";
import { tempRepo } from "./helpers/tempRepo.js";

interface Report {
  valid: boolean;
  filesChecked: number;
  problems: { file: string; line: number; column: number; field: string; code: string; message: string; hint?: string }[];
}

describe("goalops validate", () => {
  it("passes this repository's own example set", async () => {
    const result = await runCli(["validate"]);
    expect(result.stdout).toMatch(/\d+ files valid/);
    expect(result.exitCode).toBe(0);
  });

  it("passes a valid tree and exits 0", async () => {
    const root = tempRepo(validTree());
    const { exitCode, json } = await runCliJson<Report>(["validate", "--json"], { cwd: root });
    expect(json.problems).toEqual([]);
    expect(json.filesChecked).toBe(6);
    expect(exitCode).toBe(0);
  });

  it("reports every problem of every file in one run, each with file:line:col and field", async () => {
    const root = tempRepo({
      ...validTree(),
      "goals/a.yaml": goalYaml({ goal_id: "goal_01M6B5CJM0W8B9F354SPG2VVB0", priority: 9 }),
      "goals/b.yaml": goalYaml({ goal_id: "goal_01M6B5CJM0W8B9F354SPG2VVB1", titel: "typo" }),
    });
    const { exitCode, stdout } = await runCli(["validate"], { cwd: root });
    expect(exitCode).toBe(1);
    expect(stdout).toContain("goals/a.yaml:4:11: error priority: found number 9; must be <= 5");
    expect(stdout).toContain("goals/b.yaml:6:1: error titel: unknown field 'titel'");
    expect(stdout).toContain("hint: did you mean 'title'?");
    expect(stdout).toContain("2 problems in 2 files");
  });

  it("prints GitHub workflow annotations with --format github", async () => {
    const root = tempRepo({ "goals/a.yaml": goalYaml({ goal_id: IDS.objective, priority: 0 }) });
    const { exitCode, stdout } = await runCli(["validate", "--format", "github"], { cwd: root });
    expect(exitCode).toBe(1);
    expect(stdout).toContain("::error file=goals/a.yaml,line=4,col=11,title=goalops%3A priority::found number 0; must be >= 1 (1 (critical) to 5 (low).)");
  });

  it("stops quietly when its output is piped into a reader that closes early", async () => {
    const files = Object.fromEntries(Array.from({ length: 1500 }, (_, i) => [`goals/g${i}.yaml`, goalYaml({ goal_id: `goal_01M6B5CJM0W8B9F354SPGV${String(i).padStart(4, "0")}`, priority: 9 })]));
    const root = tempRepo(files);
    const { execa } = await import("execa");
    const result = await execa("bash", ["-c", `node ${JSON.stringify(CLI)} validate | head -1`], { cwd: root, reject: false });
    expect(result.stdout.split("\n")).toHaveLength(1);
    expect(result.stderr).toBe("");
  });

  it("exits 2 outside a goalops repository", async () => {
    const root = tempRepo({});
    const { exitCode, stderr } = await runCli(["validate", "--repo", `${root}/missing`]);
    expect(exitCode).toBe(2);
    expect(stderr).toContain("no such folder");
  });
});
