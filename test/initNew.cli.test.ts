import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runCli, runCliJson } from "./helpers/cli.js";
import { tempRepo } from "./helpers/tempRepo.js";

describe("goalops init", () => {
  it("scaffolds a repository where validate and sync pass at once", async () => {
    const root = tempRepo({});
    const dir = join(root, "fresh");
    const init = await runCli(["init", dir]);
    expect(init.exitCode).toBe(0);
    expect(init.stdout).toContain("created goalops.yaml");
    expect(init.stdout).toContain("created .github/workflows/goalops-validate.yml");
    expect(readFileSync(join(dir, ".gitignore"), "utf8")).toContain("state/*");
    expect(readFileSync(join(dir, "goals/example-objective.yaml"), "utf8")).toMatch(/^# yaml-language-server: \$schema=\.\.\/schemas\/goal\.schema\.json/);

    expect((await runCli(["validate"], { cwd: dir })).exitCode).toBe(0);
    const sync = await runCli(["sync"], { cwd: dir });
    expect(sync.stdout).toContain("2 added");
    expect(sync.exitCode).toBe(0);
  });

  it("never overwrites existing files", async () => {
    const root = tempRepo({ "goalops.yaml": "version: 1\n# mine\n" });
    const init = await runCliJson<{ created: string[]; kept: string[] }>(["init", root, "--json"]);
    expect(init.json.kept).toContain("goalops.yaml");
    expect(readFileSync(join(root, "goalops.yaml"), "utf8")).toBe("version: 1\n# mine\n");
  });
});

describe("goalops new", () => {
  it("writes a valid goal, key result, lesson and rule, each with a fresh prefixed ULID", async () => {
    const root = tempRepo({});
    const objective = await runCliJson<{ id: string; path: string }>(["new", "goal", "--title", "Grow activation", "--json"], { cwd: root });
    expect(objective.exitCode).toBe(0);
    expect(objective.json.id).toMatch(/^goal_[0-9A-HJKMNP-TV-Z]{26}$/);
    expect(objective.json.path).toBe("goals/grow-activation.yaml");

    const kr = await runCliJson<{ id: string; path: string }>(["new", "goal", "--type", "key_result", "--title", "Activation 40%", "--parent", objective.json.id, "--metric", "activation", "--unit", "percent", "--baseline", "31", "--target", "40", "--json"], { cwd: root });
    expect(kr.exitCode).toBe(0);
    expect(kr.json.id).not.toBe(objective.json.id);
    const lesson = await runCliJson<{ id: string }>(["new", "lesson", "--text", "Ask first.", "--goal-type", "initiative", "--json"], { cwd: root });
    expect(lesson.json.id).toMatch(/^les_[0-9A-HJKMNP-TV-Z]{26}$/);
    const rule = await runCliJson<{ id: string; path: string }>(["new", "rule", "--title", "Ask first", "--text", "Ask first.", "--goal-type", "initiative", "--source-lesson", lesson.json.id, "--json"], { cwd: root });
    expect(rule.json.id).toMatch(/^rule_[0-9A-HJKMNP-TV-Z]{26}$/);
    expect(readFileSync(join(root, rule.json.path), "utf8")).toContain("activation_mode: shadow");

    const validate = await runCli(["validate"], { cwd: root });
    expect(validate.stdout).toContain("5 files valid");
    expect(validate.exitCode).toBe(0);
  });

  it("refuses to write a file that would be invalid, naming the field", async () => {
    const root = tempRepo({});
    const result = await runCli(["new", "goal", "--title", "X", "--priority", "9"], { cwd: root });
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain("the new goal would not be valid");
    expect(result.stderr).toContain("priority: found number 9; must be <= 5");
  });

  it("refuses to overwrite an existing file", async () => {
    const root = tempRepo({});
    await runCli(["new", "goal", "--title", "Same"], { cwd: root });
    const again = await runCli(["new", "goal", "--title", "Same"], { cwd: root });
    expect(again.exitCode).toBe(2);
    expect(again.stderr).toContain("goals/same.yaml already exists");
  });
});

describe("goalops --help", () => {
  it("lists every command and explains exit codes", async () => {
    const help = await runCli(["--help"]);
    expect(help.exitCode).toBe(0);
    for (const command of ["init", "new", "validate", "sync", "diff"]) expect(help.stdout).toContain(command);
    expect(help.stdout).toContain("Exit codes: 0 ok, 1 invalid input or a failed check, 2 usage or environment error.");
  });
});
