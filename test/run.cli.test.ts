import { writeFileSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { execa } from "execa";
import { describe, expect, it } from "vitest";
import { runCli, runCliJson, syncedRepo } from "./helpers/cli.js";
import { IDS } from "./helpers/specs.js";
import { PROJECT_ROOT } from "./helpers/tempRepo.js";

interface Run {
  run_id: string;
  goal_id: string;
  attempt: number;
  run_state: string;
  local_outcome: string | null;
  verifier_status: string | null;
  failure_category: string | null;
  actions_taken: string[];
  lesson_candidates: string[];
  metrics_before: Record<string, number | null>;
  metrics_after: Record<string, number | null> | null;
  duration_seconds: number | null;
  checkpoint_ref: string | null;
  context_lessons: string[];
  existing?: boolean;
}

describe("goalops run", () => {
  it("runs the whole lifecycle: start, checkpoint, finish, show, list", async () => {
    const root = await syncedRepo();
    await runCli(["kr", "record", IDS.kr, "85"], { cwd: root });
    const start = await runCli(["run", "start", IDS.initiative, "--plan", "add a paraphrase suite", "--job-id", "job-7"], { cwd: root });
    expect(start.exitCode).toBe(0);
    const runId = start.stdout.trim();
    expect(runId).toMatch(/^grun_[0-9A-HJKMNP-TV-Z]{26}$/);
    expect((await runCli(["run", "checkpoint", runId, "--ref", "step-3"], { cwd: root })).exitCode).toBe(0);
    await runCli(["kr", "record", IDS.kr, "90"], { cwd: root });
    const finish = await runCliJson<Run>(["run", "finish", runId, "--outcome", "partial", "--verifier", "failed", "--failure-category", "tool_error", "--actions", "run_tests, edit_repository", "--lesson-candidate", "retry flaky tests", "--lesson-candidate", "pin the tool version", "--json"], { cwd: root });
    expect(finish.exitCode).toBe(0);
    expect(finish.json).toMatchObject({
      run_id: runId,
      goal_id: IDS.initiative,
      attempt: 1,
      run_state: "finished",
      local_outcome: "partial",
      verifier_status: "failed",
      failure_category: "tool_error",
      actions_taken: ["run_tests", "edit_repository"],
      lesson_candidates: ["retry flaky tests", "pin the tool version"],
      checkpoint_ref: "step-3",
      // An initiative under a key result moves that key result: its values before and after.
      metrics_before: { [IDS.kr]: 85 },
      metrics_after: { [IDS.kr]: 90 },
      context_lessons: [IDS.lesson],
    });
    expect(finish.json.duration_seconds).toBeGreaterThanOrEqual(0);
    const list = await runCli(["run", "list", "--goal", IDS.initiative], { cwd: root });
    expect(list.stdout).toContain(`${runId}  ${IDS.initiative}  finished partial (tool_error)`);
    const show = await runCli(["run", "show", runId], { cwd: root });
    expect(show.stdout).toContain("lesson?   retry flaky tests");
  });

  it("returns the same run for a repeated idempotency key, and counts attempts per job", async () => {
    const root = await syncedRepo();
    const first = await runCli(["run", "start", IDS.kr, "--idempotency-key", "job-1-try-1", "--job-id", "job-1"], { cwd: root });
    const again = await runCliJson<Run>(["run", "start", IDS.kr, "--idempotency-key", "job-1-try-1", "--job-id", "job-1", "--json"], { cwd: root });
    expect(again.json.run_id).toBe(first.stdout.trim());
    expect(again.json.existing).toBe(true);
    const second = await runCliJson<Run>(["run", "start", IDS.kr, "--idempotency-key", "job-1-try-2", "--job-id", "job-1", "--json"], { cwd: root });
    expect(second.json.attempt).toBe(2);
  });

  it.each([
    [["--outcome", "done"], "outcome 'done' is not one of: succeeded, failed, partial"],
    [["--outcome", "failed", "--failure-category", "bad_luck"], "failure_category 'bad_luck' is not one of: interpretation_error"],
    [["--outcome", "succeeded", "--failure-category", "tool_error"], "a succeeded run has no failure category"],
    [["--outcome", "failed", "--verifier", "maybe"], "verifier 'maybe' is not one of: passed, failed, skipped"],
  ])("refuses finish %j with a clear error", async (args, message) => {
    const root = await syncedRepo();
    const runId = (await runCli(["run", "start", IDS.kr], { cwd: root })).stdout.trim();
    const result = await runCli(["run", "finish", runId, ...args], { cwd: root });
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain(message);
  });

  it("refuses to finish a run twice and to start a run on an archived goal", async () => {
    const root = await syncedRepo();
    const runId = (await runCli(["run", "start", IDS.kr], { cwd: root })).stdout.trim();
    expect((await runCli(["run", "finish", runId, "--outcome", "succeeded"], { cwd: root })).exitCode).toBe(0);
    const twice = await runCli(["run", "finish", runId, "--outcome", "failed"], { cwd: root });
    expect(twice.exitCode).toBe(1);
    expect(twice.stderr).toContain(`run ${runId} already finished`);
    await runCli(["goal", "transition", IDS.initiative, "archived", "--reason", "dropped"], { cwd: root });
    const archived = await runCli(["run", "start", IDS.initiative], { cwd: root });
    expect(archived.exitCode).toBe(1);
    expect(archived.stderr).toContain("is archived; runs cannot be started on it");
  });

  it("records finished runs whole, one or many per transaction, with the same checks as finish", async () => {
    const root = await syncedRepo();
    const { openGoalOps } = await import("../src/index.js");
    const ops = await openGoalOps({ repo: root });
    try {
      await ops.keyResults.record(IDS.kr, 88);
      const one = await ops.runs.record({ goalId: IDS.kr, outcome: "succeeded", startedAt: "2026-11-24T10:00:00Z", finishedAt: "2026-11-24T10:00:30Z", idempotencyKey: "batch-0" });
      const many = await ops.runs.recordMany(Array.from({ length: 50 }, (_, i) => ({ goalId: IDS.initiative, jobId: "job-9", outcome: i % 2 ? "succeeded" : "failed", ...(i % 2 ? {} : { failureCategory: "tool_error" }) })));
      expect(many).toHaveLength(50);
      expect((await ops.runs.record({ goalId: IDS.kr, outcome: "failed", idempotencyKey: "batch-0" })).runId).toBe(one.runId);
      const run = await ops.runs.show(one.runId);
      expect(run).toMatchObject({ run_state: "finished", local_outcome: "succeeded", duration_seconds: 30, metrics_before: { [IDS.kr]: 88 }, attempt: 1 });
      expect((await ops.runs.show(many[49]?.runId as string)).attempt).toBe(50);
      await expect(ops.runs.recordMany([{ goalId: IDS.kr, outcome: "succeeded" }, { goalId: IDS.kr, outcome: "won" }])).rejects.toThrow("outcome 'won' is not one of");
      expect(await ops.runs.list({ limit: 1000 })).toHaveLength(51);
    } finally {
      await ops.close();
    }
  });

  it("fills metrics from the key result's latest value, recorded here or by another process", async () => {
    // The store keeps the latest values it read between runs: a value recorded through this
    // library, or by another process (the CLI here), must reach the next run at once.
    const root = await syncedRepo();
    const { openGoalOps } = await import("../src/index.js");
    const ops = await openGoalOps({ repo: root });
    try {
      const nextRunMetrics = async () => (await ops.runs.show((await ops.runs.record({ goalId: IDS.kr, outcome: "succeeded" })).runId)).metrics_before;
      expect(await nextRunMetrics()).toEqual({ [IDS.kr]: null });
      await ops.keyResults.record(IDS.kr, 61);
      expect(await nextRunMetrics()).toEqual({ [IDS.kr]: 61 });
      expect(await nextRunMetrics()).toEqual({ [IDS.kr]: 61 });
      const cli = await runCli(["kr", "record", IDS.kr, "64"], { cwd: root });
      expect(cli.exitCode).toBe(0);
      // data_version is asked at most once a millisecond: the CLI process took far longer.
      expect(await nextRunMetrics()).toEqual({ [IDS.kr]: 64 });
      await ops.keyResults.record(IDS.kr, 70);
      expect((await ops.keyResults.summary(IDS.kr)).latest?.value).toBe(70);
      expect(await nextRunMetrics()).toEqual({ [IDS.kr]: 70 });
    } finally {
      await ops.close();
    }
  });

  it("loses nothing when eight processes record runs into one database at once", async () => {
    const root = await syncedRepo();
    const script = join(root, "agent.mjs");
    writeFileSync(script, `
      import { openGoalOps } from ${JSON.stringify(join(PROJECT_ROOT, "dist/index.js"))};
      const ops = await openGoalOps({ repo: ${JSON.stringify(root)} });
      for (let i = 0; i < 25; i++) {
        const run = await ops.runs.start(${JSON.stringify(IDS.kr)}, { jobId: "agent-" + process.argv[2], idempotencyKey: "a" + process.argv[2] + "-" + i });
        await ops.runs.finish(run.run_id, { outcome: i % 3 === 0 ? "failed" : "succeeded", ...(i % 3 === 0 ? { failureCategory: "tool_error" } : {}) });
        await ops.keyResults.record(${JSON.stringify(IDS.kr)}, i);
      }
      await ops.close();
    `);
    const results = await Promise.all(Array.from({ length: 8 }, (_, i) => execa(process.execPath, [script, String(i)], { reject: false })));
    for (const r of results) {
      expect(r.stderr).toBe("");
      expect(r.exitCode).toBe(0);
    }
    const db = new Database(join(root, "state/goalops.db"), { readonly: true });
    try {
      expect(db.prepare("SELECT COUNT(*) FROM goal_runs WHERE run_state = 'finished'").pluck().get()).toBe(200);
      expect(db.prepare("SELECT COUNT(DISTINCT job_id || ':' || attempt) FROM goal_runs").pluck().get()).toBe(200);
      expect(db.prepare("SELECT COUNT(*) FROM key_results").pluck().get()).toBe(200);
    } finally {
      db.close();
    }
  }, 60_000);
});
