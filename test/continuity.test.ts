/**
 * Continuity end to end, with the real daemon as a subprocess: clean stop and start, kill -9 with
 * runs in flight and retries due, the shutdown deadline, schedules (firing, overlap), watchdogs,
 * retries with backoff, and dispatched commands that succeed, fail and hang.
 */
import { existsSync, readFileSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runCli, runCliJson } from "./helpers/cli.js";
import { eventually, startDaemonProcess } from "./helpers/daemon.js";
import { goalYaml, IDS, krYaml } from "./helpers/specs.js";
import { PROJECT_ROOT, tempRepo } from "./helpers/tempRepo.js";

const AGENT = join(PROJECT_ROOT, "test/fixtures/agent/agent.mjs");
const G = {
  worker: "goal_01M6B5CJM0W8B9F354SPG2VVB0",
  agentRun: "goal_01M6B5CJM0W8B9F354SPG2VVB1",
  strict: "goal_01M6B5CJM0W8B9F354SPG2VVB2",
  flaky: "goal_01M6B5CJM0W8B9F354SPG2VVB3",
  watchdog: "goal_01M6B5CJM0W8B9F354SPG2VVB4",
};

/** An initiative under the test KR whose jobs run test/fixtures/agent/agent.mjs in `mode`. */
function agentGoal(id: string, mode: string[], extra = "", dispatchExtra = "", priority = 2): string {
  return `goal_id: ${id}
goal_type: initiative
title: Work ${id.slice(-2)}
parent_goal_id: ${IDS.kr}
owner_agent: agent-1
priority: ${priority}
status: active
allowed_capabilities: [step]
dispatch:
  command: ${JSON.stringify([process.execPath, AGENT, ...mode])}
${dispatchExtra}${extra}`;
}

function repo(goals: Record<string, string>, config = ""): string {
  return tempRepo({
    "goalops.yaml": `version: 1\n${config}`,
    "goals/objective.yaml": goalYaml({ goal_id: IDS.objective, title: "Improve reliability", status: "active" }),
    "goals/kr.yaml": krYaml(IDS.kr, IDS.objective, "status: active\n"),
    ...goals,
  }, { git: true });
}

const ok = (r: { status: number; json: unknown }) => {
  expect(r.status, JSON.stringify(r.json)).toBeLessThan(300);
  // biome-ignore lint/suspicious/noExplicitAny: route bodies
  return r.json as any;
};

async function reportJson(root: string, kind: "reconcile" | "shutdown") {
  // biome-ignore lint/suspicious/noExplicitAny: report bodies
  return (await runCliJson<any>(["report", kind, "--json"], { cwd: root })).json;
}

const stepNamed = (report: { steps: { step: number; name: string }[] }, n: number) => report.steps.find((s) => s.step === n) as Record<string, unknown>;

describe("continuity", () => {
  it("a clean stop checkpoints what is in flight and a start resumes it; each report shows every step and nothing is lost", async () => {
    const root = repo({ [`goals/${G.agentRun}.yaml`]: agentGoal(G.agentRun, ["sleep", "1"]) });
    let d = await startDaemonProcess(root);
    const first = await reportJson(root, "reconcile");
    expect(first.unclean_stop).toBe(false);
    expect(first.previous_start_at).toBeNull();

    const run = ok(await d.api("POST", "/v1/runs", { goal_id: G.agentRun, job_id: "job-a" }));
    ok(await d.api("POST", `/v1/runs/${run.run_id}/checkpoint`, { ref: "page-3", state: { cursor: 3 } }));
    const plain = ok(await d.api("POST", "/v1/runs", { goal_id: IDS.kr }));
    ok(await d.api("POST", `/v1/key-results/${IDS.kr}/values`, { value: 90 }));
    const loop = ok(await d.api("POST", "/v1/loops", { kind: "clarification", description: "which recipient?", goal_id: G.agentRun, due: "1h" }));

    expect(await d.stop()).toMatchObject({ code: 0 });
    const shutdown = await reportJson(root, "shutdown");
    expect(shutdown.steps.map((s: { step: number }) => s.step)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(stepNamed(shutdown, 2)).toMatchObject({ runs_checkpointed: 2, with_resume_pointer: 1, deadline_reached: false });
    expect(stepNamed(shutdown, 3)).toMatchObject({ key_results: 1, with_value: 1 });
    expect(stepNamed(shutdown, 4)).toMatchObject({ open: 1 });
    expect((await runCli(["report", "shutdown"], { cwd: root })).stdout).toContain("mark last_clean_shutdown_at");
    // biome-ignore lint/suspicious/noExplicitAny: run JSON
    const checkpointed = (await runCliJson<any>(["run", "show", run.run_id, "--json"], { cwd: root })).json;
    expect(checkpointed).toMatchObject({ run_state: "checkpointed", checkpoint_ref: "page-3", checkpoint_state: { cursor: 3 } });

    d = await startDaemonProcess(root);
    const second = await reportJson(root, "reconcile");
    expect(second.unclean_stop).toBe(false);
    expect(second.steps.map((s: { name: string }) => s.name)).toEqual([
      "load active and blocked goals", "load running and checkpointed runs", "resume checkpointed runs by policy; park the others",
      "rebuild open loops", "load lessons for active goal types", "load active playbook rules", "emit GoalReconciliationReport",
    ]);
    expect(stepNamed(second, 1)).toMatchObject({ active: 3 });
    expect(stepNamed(second, 3)).toMatchObject({ resumed: 1, parked: 1 });
    expect(stepNamed(second, 4)).toMatchObject({ open: 1 });
    const resumed = ok(await d.api("GET", `/v1/runs/${run.run_id}`));
    // The same run, its attempt counted, its checkpoint kept for the agent.
    expect(resumed).toMatchObject({ run_state: "running", attempt: 2, resume_count: 1, checkpoint_ref: "page-3", checkpoint_state: { cursor: 3 } });
    expect(ok(await d.api("GET", `/v1/runs/${plain.run_id}`))).toMatchObject({ run_state: "parked", parked_reason: expect.stringContaining("before any checkpoint") });
    // The agent learns from its context what to resume, and from where.
    expect(ok(await d.api("GET", `/v1/goals/${G.agentRun}/context`)).unfinishedRuns).toMatchObject([{ run_id: run.run_id, attempt: 2, checkpoint_ref: "page-3", checkpoint_state: { cursor: 3 } }]);
    expect((await d.api("GET", `/v1/goals/${G.agentRun}/context?format=md`)).text).toContain(`${run.run_id} (running, attempt 2): checkpoint page-3 {"cursor":3}`);
    expect(ok(await d.api("GET", "/v1/reports/reconcile")).report_id).toBe(second.report_id);
    expect(ok(await d.api("GET", "/v1/loops")).loops.map((l: { loop_id: string }) => l.loop_id)).toEqual([loop.loop_id]);
    expect(ok(await d.api("GET", `/v1/key-results/${IDS.kr}/values`)).values.map((v: { value: number }) => v.value)).toEqual([90]);
    // A parked run goes on by hand.
    expect((await runCliJson(["run", "resume", plain.run_id, "--json"], { cwd: root })).json).toMatchObject({ run_state: "running", attempt: 2 });
    await d.stop();
  }, 60_000);

  it("a clean stop lets a dispatched job checkpoint on SIGTERM; the next start dispatches it again from there", async () => {
    const root = repo({ [`goals/${G.worker}.yaml`]: agentGoal(G.worker, ["steps", "5", "200"]) });
    let d = await startDaemonProcess(root);
    const job = ok(await d.api("POST", "/v1/dispatch", { goal_id: G.worker }));
    await eventually(() => (readFileSync(join(root, "work.log"), "utf8").split("\n").length > 2 ? true : undefined), 10_000, "two steps done");
    expect(await d.stop()).toMatchObject({ code: 0 });
    const shutdown = await reportJson(root, "shutdown");
    expect(stepNamed(shutdown, 2)).toMatchObject({ jobs_stopped: 1, runs_checkpointed: 1, with_resume_pointer: 1 });
    // biome-ignore lint/suspicious/noExplicitAny: run JSON
    const stopped = (await runCliJson<any>(["run", "show", job.run_id, "--json"], { cwd: root })).json;
    expect(stopped).toMatchObject({ run_state: "checkpointed", checkpoint_ref: expect.stringMatching(/^sigterm-after-step-\d$/), dispatch: { stopped: true } });

    d = await startDaemonProcess(root);
    expect(stepNamed(await reportJson(root, "reconcile"), 3)).toMatchObject({ resumed: 1, parked: 0 });
    const done = await eventually(async () => {
      const r = ok(await d.api("GET", `/v1/runs/${job.run_id}`));
      return r.run_state === "finished" ? r : undefined;
    }, 15_000, "the resumed run finished");
    expect(done).toMatchObject({ local_outcome: "succeeded", attempt: 2, resume_count: 1 });
    expect(readFileSync(join(root, "work.log"), "utf8").trim().split("\n")).toEqual([1, 2, 3, 4, 5].map((n) => `${job.run_id} step ${n}`));
    const starts = readFileSync(join(root, "starts.log"), "utf8").trim().split("\n");
    expect(starts).toEqual([`${job.run_id} attempt 1 api from 0`, `${job.run_id} attempt 2 resume from ${stopped.checkpoint_state.done}`]);
    await d.stop();
  }, 60_000);

  it("after kill -9, the start names the unclean stop, kills the orphaned job, resumes or parks each run by policy, and repeats no work", async () => {
    const root = repo({
      [`goals/${G.worker}.yaml`]: agentGoal(G.worker, ["steps", "6", "150"]),
      [`goals/${G.agentRun}.yaml`]: agentGoal(G.agentRun, ["sleep", "1"]),
      [`goals/${G.strict}.yaml`]: agentGoal(G.strict, ["sleep", "1"], "continuity:\n  resume_if_checkpointed: false\n"),
      [`goals/${G.flaky}.yaml`]: agentGoal(G.flaky, ["steps", "1", "10"], "retry:\n  base_delay: 3s\n  max_delay: 3s\n"),
    });
    let d = await startDaemonProcess(root);
    const dispatched = ok(await d.api("POST", "/v1/dispatch", { goal_id: G.worker }));
    const uncheckpointed = ok(await d.api("POST", "/v1/runs", { goal_id: G.agentRun }));
    const strict = ok(await d.api("POST", "/v1/runs", { goal_id: G.strict }));
    ok(await d.api("POST", `/v1/runs/${strict.run_id}/checkpoint`, { ref: "half" }));
    ok(await d.api("POST", `/v1/key-results/${IDS.kr}/values`, { value: 91 }));
    const flaky = ok(await d.api("POST", "/v1/runs", { goal_id: G.flaky, job_id: "flaky-job" }));
    const failed = ok(await d.api("POST", `/v1/runs/${flaky.run_id}/finish`, { outcome: "failed", failure_category: "external_dependency" }));
    expect(failed.retry).toMatchObject({ retry: true, nextAttempt: 2 });
    await eventually(() => (readFileSync(join(root, "work.log"), "utf8").split("\n").length > 3 ? true : undefined), 10_000, "two steps done");

    d.child.kill("SIGKILL");
    await d.exited;
    d = await startDaemonProcess(root);
    const report = await reportJson(root, "reconcile");
    expect(report.unclean_stop).toBe(true);
    expect((await runCli(["report", "reconcile"], { cwd: root })).stdout).toContain("**unclean**");
    expect(stepNamed(report, 2)).toMatchObject({ interrupted: 3, orphaned_jobs_killed: [dispatched.run_id] });
    const byRun = new Map(report.runs.map((r: { runId: string }) => [r.runId, r]));
    expect(byRun.get(dispatched.run_id)).toMatchObject({ action: "resume", interrupted: true });
    expect(byRun.get(uncheckpointed.run_id)).toMatchObject({ action: "park", reason: expect.stringContaining("resume_if_interrupted is false") });
    expect(byRun.get(strict.run_id)).toMatchObject({ action: "park", reason: expect.stringContaining("resume_if_checkpointed is false") });

    // Nothing acknowledged before the kill is lost: runs, the retry loop, the key-result value.
    expect(ok(await d.api("GET", `/v1/key-results/${IDS.kr}/values`)).values.map((v: { value: number }) => v.value)).toEqual([91]);
    expect(ok(await d.api("GET", "/v1/runs?limit=100")).runs.map((r: { run_id: string }) => r.run_id)).toEqual(expect.arrayContaining([dispatched.run_id, uncheckpointed.run_id, strict.run_id, flaky.run_id]));
    // The resumed job goes on after its checkpoint and finishes; every step done exactly once.
    const done = await eventually(async () => {
      const r = ok(await d.api("GET", `/v1/runs/${dispatched.run_id}`));
      return r.run_state === "finished" ? r : undefined;
    }, 20_000, "the resumed run finished");
    expect(done).toMatchObject({ local_outcome: "succeeded", attempt: 2, resume_count: 1 });
    const steps = readFileSync(join(root, "work.log"), "utf8").trim().split("\n");
    expect(steps).toEqual([1, 2, 3, 4, 5, 6].map((n) => `${dispatched.run_id} step ${n}`));
    const starts = readFileSync(join(root, "starts.log"), "utf8").trim().split("\n").filter((l) => l.startsWith(dispatched.run_id));
    expect(starts).toHaveLength(2);
    expect(Number(starts[1]?.split(" from ")[1])).toBeGreaterThan(1);

    // The retry that was due survives and is dispatched, as attempt 2 of the same job.
    const retried = await eventually(async () => {
      const runs = ok(await d.api("GET", `/v1/runs?goal_id=${G.flaky}`)).runs;
      return runs.length === 2 ? runs : undefined;
    }, 15_000, "the retry dispatched");
    expect(retried[0]).toMatchObject({ job_id: "flaky-job", attempt: 2 });
    // Its loop is resolved with the run that retried it (right after the dispatch).
    await eventually(async () => (ok(await d.api("GET", "/v1/loops")).loops.some((l: { kind: string }) => l.kind === "retry") ? undefined : true), 5_000, "the retry loop resolved");
    const resolved = ok(await d.api("GET", "/v1/loops?include_resolved=true")).loops.find((l: { kind: string }) => l.kind === "retry");
    expect(resolved).toMatchObject({ loop_state: "resolved", resolution: `retried as ${retried[0].run_id} (attempt 2)` });
    await d.stop();
  }, 90_000);

  it("a shutdown past its deadline checkpoints what is left as it stands", async () => {
    // kill_grace far past the deadline: the deadline must win.
    const root = repo({ [`goals/${G.worker}.yaml`]: agentGoal(G.worker, ["ignore-term"], "", "  kill_grace: 60s\n") }, "daemon:\n  shutdown_deadline: 1s\n");
    const d = await startDaemonProcess(root);
    const job = ok(await d.api("POST", "/v1/dispatch", { goal_id: G.worker }));
    await eventually(() => (existsSync(join(root, "ignoring.pid")) ? true : undefined), 10_000, "the job started");
    const pid = Number(readFileSync(join(root, "ignoring.pid"), "utf8"));
    const started = Date.now();
    expect(await d.stop()).toMatchObject({ code: 0 });
    expect(Date.now() - started).toBeLessThan(6_000);
    const summary = await reportJson(root, "shutdown");
    expect(summary.deadline_reached).toBe(true);
    expect(stepNamed(summary, 2)).toMatchObject({ jobs_stopped: 1, runs_checkpointed: 1 });
    expect(() => process.kill(pid, 0)).toThrow();
    // biome-ignore lint/suspicious/noExplicitAny: run JSON
    const run = (await runCliJson<any>(["run", "show", job.run_id, "--json"], { cwd: root })).json;
    expect(run).toMatchObject({ run_state: "checkpointed", dispatch: { stopped: true } });
  }, 60_000);

  it("fires a seconds-level schedule, skips and records an overlapping firing, runs a learning goal's cycle, and lists schedules", async () => {
    const root = repo({
      [`goals/${G.worker}.yaml`]: agentGoal(G.worker, ["sleep", "2500"], 'review_cadence: "* * * * * *"\n'),
      // A learning goal without a command runs the learning cycle in the daemon at each firing.
      [`goals/${G.strict}.yaml`]: goalYaml({ goal_id: G.strict, goal_type: "learning", title: "Weekly learning", status: "active", review_cadence: "2s" }),
    });
    const d = await startDaemonProcess(root);
    const runs = await eventually(async () => {
      const all = ok(await d.api("GET", `/v1/runs?goal_id=${G.worker}`)).runs;
      return all.some((r: { failure_category: string }) => r.failure_category === "run_overlap") && all.some((r: { job_id: string }) => r.job_id.startsWith("schedule:")) ? all : undefined;
    }, 15_000, "a firing and an overlap");
    const overlap = runs.find((r: { failure_category: string }) => r.failure_category === "run_overlap");
    expect(overlap).toMatchObject({ local_outcome: "failed", run_state: "finished", notes: expect.stringContaining("previous job was still running") });
    const schedules = await eventually(async () => {
      const all = ok(await d.api("GET", "/v1/schedules"));
      return all.last_firings.length === 2 ? all : undefined;
    }, 10_000, "both goals fired");
    expect(schedules.schedules).toEqual(expect.arrayContaining([expect.objectContaining({ goal_id: G.worker, cadence: "* * * * * *", timezone: "UTC", overlap: "skip" })]));
    const learning = schedules.last_firings.find((f: { goal_id: string }) => f.goal_id === G.strict);
    expect(learning.last_outcome).toMatch(/^learning cycle lcr_/);
    await d.waitForLog((l) => String(l.msg).startsWith("learning cycle lcr_"));
    await d.stop();
  }, 60_000);

  it("after downtime, catches up a missed firing once at start (catch_up: one), not with catch_up: none", async () => {
    const review = (id: string, catchUp: string) => goalYaml({ goal_id: id, goal_type: "maintenance", title: `Sweep ${catchUp}`, status: "active", review_cadence: "3s" }).concat(`schedule:\n  catch_up: ${catchUp}\n`);
    const root = repo({ [`goals/${G.worker}.yaml`]: review(G.worker, "one"), [`goals/${G.strict}.yaml`]: review(G.strict, "none") });
    let d = await startDaemonProcess(root);
    // Without a dispatch command a firing opens one "scheduled review" loop per goal.
    await eventually(async () => (ok(await d.api("GET", "/v1/schedules")).last_firings.length === 2 ? true : undefined), 10_000, "both fired");
    expect(ok(await d.api("GET", `/v1/loops?goal_id=${G.worker}`)).loops[0].description).toContain("Scheduled review");
    await d.stop();
    await new Promise((r) => setTimeout(r, 3_500)); // a firing is missed while no daemon runs
    d = await startDaemonProcess(root);
    const caughtUp = await d.waitForLog((l) => String(l.msg).startsWith("catching up"), 2_500);
    expect(caughtUp.goal_id).toBe(G.worker);
    const firings = await eventually(async () => {
      const last = ok(await d.api("GET", "/v1/schedules")).last_firings;
      return last.find((f: { goal_id: string; last_outcome: string }) => f.goal_id === G.worker && f.last_outcome.endsWith("(catch-up)")) ? last : undefined;
    }, 5_000, "the catch-up recorded");
    expect(firings.find((f: { goal_id: string }) => f.goal_id === G.worker).last_outcome).toBe(`review already open (${ok(await d.api("GET", `/v1/loops?goal_id=${G.worker}`)).loops[0].loop_id}) (catch-up)`);
    expect(d.logs.filter((l) => String(l.msg).startsWith("catching up"))).toHaveLength(1);
    await d.stop();
  }, 60_000);

  it("follows an edited review_cadence and an archived goal without a restart", async () => {
    const file = `goals/${G.worker}.yaml`;
    const sweep = (cadence: string) => goalYaml({ goal_id: G.worker, goal_type: "maintenance", title: "Sweep", status: "active", review_cadence: cadence });
    const root = repo({ [file]: sweep("1h") });
    const d = await startDaemonProcess(root);
    expect(ok(await d.api("GET", "/v1/schedules")).schedules).toMatchObject([{ goal_id: G.worker, cadence: "1h" }]);
    writeFileSync(join(root, file), sweep("1s"));
    await eventually(async () => (ok(await d.api("GET", "/v1/schedules")).last_firings.some((f: { goal_id: string }) => f.goal_id === G.worker) ? true : undefined), 10_000, "the edited cadence fired");
    unlinkSync(join(root, file));
    await eventually(async () => (ok(await d.api("GET", "/v1/schedules")).schedules.length === 0 ? true : undefined), 10_000, "the archived goal unscheduled");
    await d.stop();
  }, 60_000);

  it("fires a watchdog on run statistics: an alert, its open loop and its recovery dispatch, once while it holds", async () => {
    const root = repo({
      [`goals/${G.agentRun}.yaml`]: agentGoal(G.agentRun, ["sleep", "1"]),
      [`goals/${G.worker}.yaml`]: agentGoal(G.worker, ["sleep", "1"]),
      [`goals/${G.watchdog}.yaml`]: `goal_id: ${G.watchdog}
goal_type: watchdog
title: Verifier failures
owner_agent: ops
priority: 1
status: active
review_cadence: 1s
watchdog:
  conditions:
    - { measure: failed_runs, goal: ${G.agentRun}, window: 1h, op: at_least, value: 2 }
  action:
    open_loop: { kind: follow_up, description: Look at the failing verifier }
    dispatch: ${G.worker}
`,
    });
    const d = await startDaemonProcess(root);
    for (let i = 0; i < 2; i++) {
      const run = ok(await d.api("POST", "/v1/runs", { goal_id: G.agentRun }));
      ok(await d.api("POST", `/v1/runs/${run.run_id}/finish`, { outcome: "failed", failure_category: "verification_failure" }));
    }
    const alerts = await eventually(async () => {
      const a = ok(await d.api("GET", "/v1/alerts")).alerts;
      return a.length > 0 ? a : undefined;
    }, 10_000, "the watchdog fired");
    expect(alerts[0]).toMatchObject({ goal_id: G.watchdog, cleared_at: null, summary: expect.stringContaining("failed_runs") });
    await d.waitForLog((l) => String(l.msg).startsWith(`watchdog ${G.watchdog} fired`));
    await new Promise((r) => setTimeout(r, 2_500)); // more firings while it holds: no second alert
    expect(ok(await d.api("GET", "/v1/alerts")).alerts).toHaveLength(1);
    const loops = ok(await d.api("GET", `/v1/loops?goal_id=${G.watchdog}`)).loops;
    expect(loops).toMatchObject([{ kind: "follow_up", description: "Look at the failing verifier", loop_id: alerts[0].loop_id }]);
    // The recovery dispatch: one job of the named goal, recorded on the alert.
    const recovery = ok(await d.api("GET", `/v1/runs?goal_id=${G.worker}`)).runs;
    expect(recovery).toMatchObject([{ run_id: alerts[0].run_id, job_id: expect.stringMatching(new RegExp(`^watchdog:${G.watchdog}:`)) }]);
    await d.stop();
  }, 60_000);

  it("retries a failing dispatched job with backoff up to max_attempts, as attempts of one job", async () => {
    const root = repo({ [`goals/${G.flaky}.yaml`]: agentGoal(G.flaky, ["fail"], "retry:\n  max_attempts: 3\n  base_delay: 1s\n  max_delay: 2s\n") });
    const d = await startDaemonProcess(root);
    ok(await d.api("POST", "/v1/dispatch", { goal_id: G.flaky }));
    const runs = await eventually(async () => {
      const all = ok(await d.api("GET", `/v1/runs?goal_id=${G.flaky}`)).runs;
      return all.length === 3 && all.every((r: { run_state: string }) => r.run_state === "finished") ? all.reverse() : undefined;
    }, 20_000, "three attempts");
    expect(runs.map((r: { attempt: number }) => r.attempt)).toEqual([1, 2, 3]);
    expect(new Set(runs.map((r: { job_id: string }) => r.job_id)).size).toBe(1);
    for (const r of runs) expect(r).toMatchObject({ local_outcome: "failed", failure_category: "tool_error", notes: expect.stringContaining("the tool broke") });
    // Backoff: at least half the cap (1s, then 2s) between attempts.
    const gaps = runs.slice(1).map((r: { started_at: string }, i: number) => Date.parse(r.started_at) - Date.parse(runs[i].finished_at));
    expect(gaps[0]).toBeGreaterThanOrEqual(450);
    expect(gaps[1]).toBeGreaterThanOrEqual(950);
    // The last attempt is not retried: no retry loop is left open.
    await new Promise((r) => setTimeout(r, 1_500));
    expect(ok(await d.api("GET", "/v1/loops")).loops).toEqual([]);
    expect(ok(await d.api("GET", `/v1/runs?goal_id=${G.flaky}`)).runs).toHaveLength(3);
    await d.stop();
  }, 60_000);

  it("records a dispatched command's end: a JSON report, a failure exit, and a hang past its timeout with its process tree killed", async () => {
    const root = repo({
      [`goals/${G.worker}.yaml`]: agentGoal(G.worker, ["report"]),
      [`goals/${G.flaky}.yaml`]: agentGoal(G.flaky, ["fail"], "retry:\n  max_attempts: 1\n"),
      [`goals/${G.agentRun}.yaml`]: agentGoal(G.agentRun, ["hang"], "", "  timeout: 1s\n  kill_grace: 1s\n"),
    });
    const d = await startDaemonProcess(root);
    const finished = async (runId: string) =>
      eventually(async () => {
        const r = ok(await d.api("GET", `/v1/runs/${runId}`));
        return r.run_state === "finished" ? r : undefined;
      }, 15_000, `${runId} finished`);
    const reported = await finished(ok(await d.api("POST", "/v1/dispatch", { goal_id: G.worker })).run_id);
    expect(reported).toMatchObject({ local_outcome: "partial", failure_category: "verification_failure", actions_taken: ["draft"], notes: "half done", dispatch: { exit_code: 0 } });
    expect(reported.dispatch.stdout_tail).toContain("working");
    const failedRun = await finished(ok(await d.api("POST", "/v1/dispatch", { goal_id: G.flaky })).run_id);
    expect(failedRun).toMatchObject({ local_outcome: "failed", failure_category: "tool_error", dispatch: { exit_code: 3 } });
    expect(failedRun.dispatch.stderr_tail).toContain("the tool broke");
    const hung = await finished(ok(await d.api("POST", "/v1/dispatch", { goal_id: G.agentRun })).run_id);
    expect(hung).toMatchObject({ local_outcome: "failed", failure_category: "execution_timeout", dispatch: { timed_out: true } });
    const grandchild = Number(readFileSync(join(root, "grandchild.pid"), "utf8"));
    await eventually(() => {
      try {
        const stat = readFileSync(`/proc/${grandchild}/stat`, "utf8");
        return / Z /.test(stat) ? true : undefined; // a zombie has exited
      } catch {
        return true;
      }
    }, 5_000, "the grandchild killed");
    // Without a command, dispatch is refused with the reason.
    const refused = await d.api("POST", "/v1/dispatch", { goal_id: IDS.kr });
    expect(refused).toMatchObject({ status: 409, json: { dispatched: false, code: "dispatch.no_command" } });
    await d.stop();
  }, 60_000);

  it("goalops dispatch runs a job without the daemon, and --dry-run shows the router's ranking and exclusions", async () => {
    const root = repo({
      [`goals/${G.worker}.yaml`]: agentGoal(G.worker, ["sleep", "10"]),
      [`goals/${G.flaky}.yaml`]: agentGoal(G.flaky, ["fail"], "retry:\n  max_attempts: 1\n", "", 1),
      [`goals/${G.strict}.yaml`]: goalYaml({ goal_id: G.strict, goal_type: "initiative", title: "No command", parent_goal_id: IDS.kr, status: "active" }),
    });
    expect((await runCli(["sync"], { cwd: root })).exitCode).toBe(0);
    // biome-ignore lint/suspicious/noExplicitAny: router JSON
    const routed = (await runCliJson<any>(["dispatch", "--dry-run", "--json"], { cwd: root })).json;
    expect(routed.ranked.map((r: { goalId: string }) => r.goalId)).toEqual([G.flaky, G.worker]);
    expect(routed.excluded).toMatchObject([{ goalId: G.strict, reason: expect.stringContaining("dispatch command") }]);
    const failed = await runCli(["dispatch"], { cwd: root });
    expect(failed.exitCode).toBe(1);
    expect(failed.stdout.trim()).toMatch(/^grun_\w+ {2}failed \(tool_error\) {2}exit 3$/);
    const succeeded = await runCli(["dispatch", G.worker], { cwd: root });
    expect(succeeded).toMatchObject({ exitCode: 0, stdout: expect.stringMatching(/succeeded {2}exit 0/) });
    const refused = await runCli(["dispatch", G.strict], { cwd: root });
    expect(refused).toMatchObject({ exitCode: 1, stderr: expect.stringContaining("no dispatch.command") });
  }, 60_000);
});
