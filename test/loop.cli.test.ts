import { describe, expect, it } from "vitest";
import { runCli, runCliJson, syncedRepo } from "./helpers/cli.js";
import { IDS } from "./helpers/specs.js";

interface Loop {
  loop_id: string;
  goal_id: string | null;
  run_id: string | null;
  kind: string;
  loop_state: string;
  due_at: string | null;
  resolution: string | null;
}

describe("goalops loop", () => {
  it("opens loops on a run and a goal, lists them soonest first, and resolves them; they persist across processes", async () => {
    const root = await syncedRepo();
    const runId = (await runCli(["run", "start", IDS.kr], { cwd: root })).stdout.trim();
    const retry = await runCliJson<Loop>(["loop", "add", "--run", runId, "--kind", "retry", "--description", "retry after the rate limit", "--due", "15m", "--json"], { cwd: root });
    expect(retry.json).toMatchObject({ goal_id: IDS.kr, run_id: runId, kind: "retry", loop_state: "open" });
    expect(Date.parse(retry.json.due_at as string) - Date.now()).toBeGreaterThan(14 * 60_000);
    const ask = (await runCli(["loop", "add", "--goal", IDS.objective, "--kind", "clarification", "--description", "which Telegram group?", "--due", "2026-01-01T00:00:00Z"], { cwd: root })).stdout.trim();
    const list = await runCliJson<Loop[]>(["loop", "list", "--json"], { cwd: root });
    expect(list.json.map((l) => l.loop_id)).toEqual([ask, retry.json.loop_id]);
    const resolved = await runCliJson<Loop>(["loop", "resolve", ask, "--note", "the ops group", "--json"], { cwd: root });
    expect(resolved.json).toMatchObject({ loop_state: "resolved", resolution: "the ops group" });
    expect((await runCliJson<Loop[]>(["loop", "list", "--json"], { cwd: root })).json).toHaveLength(1);
    expect((await runCliJson<Loop[]>(["loop", "list", "--all", "--json"], { cwd: root })).json).toHaveLength(2);
    const again = await runCli(["loop", "resolve", ask], { cwd: root });
    expect(again.exitCode).toBe(1);
    expect(again.stderr).toContain(`loop ${ask} was resolved at`);
  });

  it.each([
    [["--goal", IDS.kr, "--kind", "someday", "--description", "x"], "kind 'someday' is not one of: retry, clarification, follow_up"],
    [["--kind", "retry", "--description", "x"], "an open loop belongs to a goal or a run"],
    [["--goal", IDS.kr, "--kind", "retry", "--description", "x", "--due", "soon"], "due (--due) soon: expected an ISO 8601 time or an interval"],
  ])("refuses loop add %j", async (args, message) => {
    const root = await syncedRepo();
    const result = await runCli(["loop", "add", ...args], { cwd: root });
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain(message);
  });
});
