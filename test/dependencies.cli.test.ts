import { describe, expect, it } from "vitest";
import { runCli, runCliJson } from "./helpers/cli.js";
import { IDS, goalYaml, validTree } from "./helpers/specs.js";
import { tempRepo } from "./helpers/tempRepo.js";

const FIRST = "goal_01M6B5CJM0W8B9F354SPG2VVG0";
const SECOND = "goal_01M6B5CJM0W8B9F354SPG2VVG1";
const WAITER = "goal_01M6B5CJM0W8B9F354SPG2VVG2";

interface Detail {
  status: string;
  heldBlocked?: string;
  history: { from_status: string | null; to_status: string; reason: string }[];
}

function tree(waiterStatus: string) {
  return {
    ...validTree(),
    "goals/first.yaml": goalYaml({ goal_id: FIRST, goal_type: "maintenance", title: "First", status: "active" }),
    "goals/second.yaml": goalYaml({ goal_id: SECOND, goal_type: "maintenance", title: "Second", status: "active" }),
    "goals/waiter.yaml": goalYaml({ goal_id: WAITER, goal_type: "maintenance", title: "Waiter", status: waiterStatus, dependencies: [FIRST, SECOND] }),
  };
}

const show = async (root: string, id: string) => (await runCliJson<Detail>(["goal", "show", id, "--json"], { cwd: root })).json;

describe("dependencies", () => {
  it("holds a goal whose file asks for active blocked until its dependencies complete, then makes it active", async () => {
    const root = tempRepo(tree("active"));
    await runCli(["sync"], { cwd: root });
    const held = await show(root, WAITER);
    expect(held.status).toBe("blocked");
    expect(held.history.at(-1)?.reason).toBe(`waiting on dependencies: ${FIRST} (planned), ${SECOND} (planned) (status intent 'active' in goals/waiter.yaml)`);

    await runCli(["goal", "transition", FIRST, "completed", "--reason", "done"], { cwd: root });
    expect((await show(root, WAITER)).status).toBe("blocked");
    await runCli(["goal", "transition", SECOND, "completed_with_caveats", "--reason", "done, mostly"], { cwd: root });
    const freed = await show(root, WAITER);
    expect(freed.status).toBe("active");
    expect(freed.history.at(-1)).toMatchObject({ from_status: "blocked", to_status: "active", reason: `dependencies completed (last: ${SECOND})` });
  });

  it("turns a requested 'active' into 'blocked' with the reason, and unblocks to ready without an active intent", async () => {
    const root = tempRepo(tree("ready"));
    await runCli(["sync"], { cwd: root });
    const result = await runCliJson<Detail>(["goal", "transition", WAITER, "active", "--reason", "start now", "--json"], { cwd: root });
    expect(result.json.status).toBe("blocked");
    expect(result.json.heldBlocked).toBe(`waiting on dependencies: ${FIRST} (active), ${SECOND} (active)`);
    const again = await runCli(["goal", "transition", WAITER, "active", "--reason", "now?"], { cwd: root });
    expect(again.exitCode).toBe(1);
    expect(again.stderr).toContain(`goal ${WAITER} stays blocked: waiting on dependencies`);
    await runCli(["goal", "transition", FIRST, "completed", "--reason", "done"], { cwd: root });
    await runCli(["goal", "transition", SECOND, "completed", "--reason", "done"], { cwd: root });
    expect((await show(root, WAITER)).status).toBe("ready");
  });

  it("leaves a goal blocked for another reason alone when its dependencies complete", async () => {
    const root = tempRepo(tree("ready"));
    await runCli(["sync"], { cwd: root });
    await runCli(["goal", "transition", WAITER, "blocked", "--reason", "legal review"], { cwd: root });
    await runCli(["goal", "transition", FIRST, "completed", "--reason", "done"], { cwd: root });
    await runCli(["goal", "transition", SECOND, "completed", "--reason", "done"], { cwd: root });
    expect((await show(root, WAITER)).status).toBe("blocked");
    expect((await show(root, IDS.objective)).status).toBe("active");
  });
});
