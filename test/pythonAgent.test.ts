/**
 * The Python example agent (examples/python/agent.py) against the real daemon, as a Python user
 * runs it: `python3 agent.py` in the repository, the daemon found through state/daemon.lock.
 */
import { spawnSync } from "node:child_process";
import { createServer } from "node:net";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DaemonProcess, startDaemonProcess } from "./helpers/daemon.js";
import { IDS, validTree } from "./helpers/specs.js";
import { PROJECT_ROOT, tempRepo } from "./helpers/tempRepo.js";

const AGENT = join(PROJECT_ROOT, "examples/python/agent.py");
const RUN_ID = /grun_[0-9A-HJKMNP-TV-Z]{26}/;
const hasPython = spawnSync("python3", ["--version"]).status === 0;

interface AgentResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** Runs the agent with only the environment given (no GOALOPS_URL leaking in from the shell). */
async function agent(args: string[], options: { cwd: string; env?: Record<string, string> }): Promise<AgentResult> {
  const result = await execa("python3", [AGENT, ...args], {
    cwd: options.cwd,
    reject: false,
    extendEnv: false,
    env: { PATH: process.env.PATH ?? "", ...options.env },
    timeout: 20_000,
  });
  return { exitCode: result.exitCode ?? -1, stdout: String(result.stdout), stderr: String(result.stderr) };
}

/** A loopback port where nothing listens (taken, then freed). */
async function deadPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe.skipIf(!hasPython)("examples/python/agent.py against the daemon", () => {
  let root: string;
  let d: DaemonProcess;

  beforeAll(async () => {
    root = tempRepo(validTree(), { git: true });
    d = await startDaemonProcess(root);
  });
  afterAll(async () => {
    if (d.child.exitCode === null) await d.stop();
  });

  it("--help teaches the usage", async () => {
    const r = await agent(["--help"], { cwd: root });
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain("usage: agent.py");
    expect(r.stdout).toContain("--idempotency-key");
    expect(r.stdout).toContain("--stop-after-step N");
    expect(r.stdout).toContain("state/daemon.lock");
  });

  it("finds the daemon through state/daemon.lock, records a run and a key-result value, and finishes the run", async () => {
    const r = await agent(["--value", "91.5"], { cwd: root });
    expect(r.stderr).toBe("");
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/^daemon http:\/\/127\.0\.0\.1:\d+ \(from \.\/state\/daemon\.lock\): (ok|degraded), version /m);
    // It picked the key result, read its context and showed the markdown for the prompt.
    expect(r.stdout).toContain(`goal ${IDS.kr} (key_result`);
    expect(r.stdout).toContain("context: 0 lessons, 0 playbook rules");
    expect(r.stdout).toContain("# Goal: Accuracy at 95%");
    const runId = /^run_id: (grun_\w+)$/m.exec(r.stdout)?.[1];
    expect(runId).toMatch(RUN_ID);

    const run = await d.api("GET", `/v1/runs/${runId}`);
    expect(run.status).toBe(200);
    expect(run.json).toMatchObject({ run_id: runId, goal_id: IDS.kr, run_state: "finished", local_outcome: "succeeded", verifier_status: "passed", actions_taken: ["read_context", "record_kr"] });

    const values = await d.api("GET", `/v1/key-results/${IDS.kr}/values`);
    expect(values.status).toBe(200);
    expect(values.json.values).toContainEqual(expect.objectContaining({ value: 91.5, source: "python-agent", run_id: runId }));
  });

  it("with the same idempotency key, a second run gets the same run back and records nothing twice", async () => {
    const env = { GOALOPS_URL: d.url };
    const args = ["--goal", IDS.kr, "--idempotency-key", "nightly-2026-11-24", "--json"];
    const first = await agent(args, { cwd: root, env });
    expect(first.stderr).toBe("");
    expect(first.exitCode).toBe(0);
    const one = JSON.parse(first.stdout);
    expect(one).toMatchObject({ goal_id: IDS.kr, outcome: "succeeded", kr_value: 90, replayed: false });
    // "degraded" when the file watcher had to fall back to polling: the API serves all the same.
    expect(["ok", "degraded"]).toContain(one.health);
    expect(one.run_id).toMatch(RUN_ID);

    const second = await agent(args, { cwd: root, env });
    expect(second.stderr).toBe("");
    expect(second.exitCode).toBe(0);
    const two = JSON.parse(second.stdout);
    expect(two).toMatchObject({ run_id: one.run_id, outcome: "succeeded", kr_value: 90, replayed: true });

    const values = await d.api("GET", `/v1/key-results/${IDS.kr}/values`);
    expect(values.json.values.filter((v: { run_id: string }) => v.run_id === one.run_id)).toHaveLength(1);
    const runs = await d.api("GET", `/v1/runs?goal_id=${IDS.kr}`);
    expect(runs.json.runs.filter((r: { idempotency_key: string }) => r.idempotency_key === "nightly-2026-11-24")).toHaveLength(1);
  });

  it("an unknown goal: exit 1 with the API's error, naming the field", async () => {
    const r = await agent(["--goal", "goal_nope"], { cwd: root });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain("HTTP 404 goal.not_found (field 'goal_id')");
    const apiError = JSON.parse(r.stderr.trim().split("\n").at(-1) as string);
    expect(apiError).toEqual({ error: { code: "goal.not_found", message: expect.stringContaining("goal_nope"), field: "goal_id" } });
  });

  it("nothing listening at the URL: exit 2 and a clear message", async () => {
    const url = `http://127.0.0.1:${await deadPort()}`;
    const r = await agent(["--url", url], { cwd: root });
    expect(r.exitCode).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain(`cannot connect to ${url}: connection refused`);
    expect(r.stderr).toContain("is `goalops daemon` running?");
  });

  it("no daemon for the repository (no lock file): exit 2 and a clear message", async () => {
    const other = tempRepo({});
    const r = await agent([], { cwd: other });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain("no goalops daemon runs for the repository");
  });

  it("the daemon stops cleanly afterwards", async () => {
    const { code } = await d.stop();
    expect(code).toBe(0);
  });
});

describe.skipIf(!hasPython)("examples/python/agent.py across a daemon restart", () => {
  it("stopped after step 1, then the daemon restarted: the next invocation finishes the same run, doing steps 2 and 3 only", async () => {
    const root = tempRepo(validTree(), { git: true });
    const first = await startDaemonProcess(root);
    const stopped = await agent(["--stop-after-step", "1", "--json"], { cwd: root });
    expect(stopped.stderr).toBe("");
    expect(stopped.exitCode).toBe(0);
    const one = JSON.parse(stopped.stdout);
    expect(one).toMatchObject({ goal_id: IDS.kr, attempt: 1, run_state: "checkpointed", outcome: null, resumed: false, steps_done: [1], stopped_after_step: 1, kr_value: null });
    const runId: string = one.run_id;
    expect(runId).toMatch(RUN_ID);
    const checkpointed = await first.api("GET", `/v1/runs/${runId}`);
    expect(checkpointed.json).toMatchObject({ run_state: "checkpointed", checkpoint_ref: "step-1", checkpoint_state: { done: 1 }, attempt: 1 });
    expect((await first.stop()).code).toBe(0);

    // The new daemon resumes the checkpointed run at startup; the agent finds it in its context.
    const second = await startDaemonProcess(root);
    try {
      const resumed = await agent([], { cwd: root });
      expect(resumed.stderr).toBe("");
      expect(resumed.exitCode).toBe(0);
      expect(resumed.stdout).toContain(`run ${runId} was resumed by the daemon (attempt 2)`);
      expect(resumed.stdout).toContain(`from checkpoint step-1 {"done": 1}: 1 of 3 steps done`);
      expect(resumed.stdout).toMatch(/^step 1\/3 \(plan\): skipped, done before \(checkpoint step-1\)$/m);
      expect(resumed.stdout).toMatch(/^step 2\/3 \(act\): done; checkpoint step-2$/m);
      expect(resumed.stdout).toMatch(/^step 3\/3 \(measure\): recorded \w+ = 90 percent: .*; checkpoint step-3$/m);
      expect(resumed.stdout).not.toMatch(/started \(attempt/);
      expect(resumed.stdout).toMatch(new RegExp(`^run_id: ${runId}$`, "m"));

      const run = await second.api("GET", `/v1/runs/${runId}`);
      expect(run.json).toMatchObject({ run_id: runId, run_state: "finished", attempt: 2, resume_count: 1, local_outcome: "succeeded", checkpoint_ref: "step-3" });
      const runs = await second.api("GET", `/v1/runs?goal_id=${IDS.kr}`);
      expect(runs.json.runs).toHaveLength(1);
      const values = await second.api("GET", `/v1/key-results/${IDS.kr}/values`);
      expect(values.json.values.filter((v: { run_id: string }) => v.run_id === runId)).toHaveLength(1);
    } finally {
      if (second.child.exitCode === null) await second.stop();
    }
  });
});
