/**
 * The daemon's HTTP API, called as an agent would over loopback: what each route answers, and
 * what it refuses (no token, a foreign Host or Origin, bodies that are not JSON, too large, or
 * with a wrong field), always with a JSON error naming the field, never a 500. Then `kill -9` in a
 * burst of run recordings: the database is sound and holds every run the API acknowledged.
 */
import { request } from "node:http";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROUTES } from "../src/api/routes.js";
import { type DaemonProcess, startDaemonProcess } from "./helpers/daemon.js";
import { IDS, validTree } from "./helpers/specs.js";
import { PROJECT_ROOT, tempRepo } from "./helpers/tempRepo.js";

/** A raw request, to send what fetch will not (another Host header, a lying Content-Length). */
// biome-ignore lint/suspicious/noExplicitAny: the JSON of many routes; see helpers/daemon.ts
function raw(d: DaemonProcess, options: { method?: string; path: string; headers?: Record<string, string>; body?: string }): Promise<{ status: number; json: any }> {
  return new Promise((resolve, reject) => {
    const url = new URL(d.url);
    const req = request({ host: url.hostname, port: url.port, method: options.method ?? "GET", path: options.path, headers: options.headers ?? {} }, (res) => {
      let text = "";
      res.setEncoding("utf8").on("data", (c: string) => (text += c)).on("end", () => resolve({ status: res.statusCode ?? 0, json: text === "" ? null : JSON.parse(text) }));
    });
    req.on("error", reject);
    req.end(options.body);
  });
}

describe("the HTTP API", () => {
  let root: string;
  let d: DaemonProcess;
  beforeAll(async () => {
    root = tempRepo(validTree(), { git: true });
    d = await startDaemonProcess(root);
  });
  afterAll(async () => {
    await d.stop();
  });

  it("answers health without a token, and nothing else", async () => {
    const health = await fetch(`${d.url}/v1/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: "ok", watcher: { mode: "native" }, files: { total: 5, invalid: 0 } });
    for (const path of ["/v1/goals", "/v1/status", "/v1/sync", "/v1/runs", "/v1/loops"]) {
      const response = await fetch(`${d.url}${path}`);
      expect(response.status, path).toBe(401);
      expect(response.headers.get("www-authenticate")).toContain("Bearer");
    }
    const wrong = await d.api("GET", "/v1/goals", undefined, { Authorization: `Bearer ${"0".repeat(64)}` });
    expect(wrong).toMatchObject({ status: 401, json: { error: { code: "auth.invalid" } } });
    // A path that is not plain is read as URL reads it: dot segments resolved, "//" a host.
    const port = new URL(d.url).port;
    expect((await raw(d, { path: "/v1/goals/../health", headers: { Host: `127.0.0.1:${port}` } })).status).toBe(200);
    expect((await raw(d, { path: "/v1/goals/..%2Fhealth", headers: { Host: `127.0.0.1:${port}` } })).status).toBe(401);
  });

  it("refuses a Host that is not its address, and a foreign Origin", async () => {
    const port = new URL(d.url).port;
    expect((await raw(d, { path: "/v1/health", headers: { Host: `attacker.example:${port}` } })).json.error.code).toBe("request.host");
    expect((await raw(d, { path: "/v1/health", headers: { Host: "127.0.0.1:1" } })).status).toBe(403);
    expect((await raw(d, { path: "/v1/health", headers: { Host: `localhost:${port}` } })).status).toBe(200);
    const foreign = await raw(d, { path: "/v1/goals", headers: { Host: `127.0.0.1:${port}`, Origin: "http://attacker.example", Authorization: `Bearer ${d.token}` } });
    expect(foreign).toMatchObject({ status: 403, json: { error: { code: "request.origin" } } });
  });

  it("serves goals, context, key results, runs with idempotency keys, loops and sync status", async () => {
    const goals = (await d.api("GET", "/v1/goals")).json.goals;
    expect(goals.map((g: { goal_id: string }) => g.goal_id).sort()).toEqual([IDS.objective, IDS.kr, IDS.initiative].sort());
    expect((await d.api("GET", `/v1/goals?goal_type=key_result`)).json.goals).toHaveLength(1);

    const context = await d.api("GET", `/v1/goals/${IDS.initiative}/context?agent=a1`);
    expect(context.json.goal.goal_id).toBe(IDS.initiative);
    const markdown = await d.api("GET", `/v1/goals/${IDS.initiative}/context?format=md`);
    expect(markdown.text).toContain("Build a harness");

    const value = await d.api("POST", `/v1/key-results/${IDS.kr}/values`, { value: 88, source: "test" });
    expect(value.status).toBe(201);
    expect((await d.api("GET", `/v1/key-results/${IDS.kr}/values`)).json.values.map((v: { value: number }) => v.value)).toEqual([88]);

    const first = await d.api("POST", "/v1/runs", { goal_id: IDS.kr, job_id: "job-1", idempotency_key: "key-1" });
    expect(first.status).toBe(201);
    const again = await d.api("POST", "/v1/runs", { goal_id: IDS.kr, job_id: "job-1", idempotency_key: "key-1" });
    expect(again.status).toBe(200);
    expect(again.json.run_id).toBe(first.json.run_id);
    expect((await d.api("POST", `/v1/runs/${first.json.run_id}/checkpoint`, { ref: "step-2" })).json.checkpoint_ref).toBe("step-2");
    const finished = await d.api("POST", `/v1/runs/${first.json.run_id}/finish`, { outcome: "failed", failure_category: "tool_error", actions: ["call_api"], lesson_candidates: ["retry the API once"] });
    expect(finished.json).toMatchObject({ run_state: "finished", local_outcome: "failed", failure_category: "tool_error", metrics_after: { [IDS.kr]: 88 } });
    // tool_error is retried by default: a retry loop is due after the backoff.
    expect(finished.json.retry).toMatchObject({ retry: true, nextAttempt: 2, maxAttempts: 3 });
    expect(finished.json.retry.loop_id).toMatch(/^loop_/);
    expect((await d.api("POST", `/v1/runs/${first.json.run_id}/finish`, { outcome: "succeeded" })).status).toBe(409);
    expect((await d.api("GET", `/v1/runs?goal_id=${IDS.kr}`)).json.runs).toHaveLength(1);
    expect((await d.api("GET", `/v1/runs/${first.json.run_id}`)).json.lesson_candidates).toEqual(["retry the API once"]);

    const loop = await d.api("POST", "/v1/loops", { kind: "retry", description: "retry the call", run_id: first.json.run_id, due: "15m" });
    expect(loop.status).toBe(201);
    expect((await d.api("GET", "/v1/loops")).json.loops.map((l: { loop_id: string }) => l.loop_id).sort()).toEqual([loop.json.loop_id, finished.json.retry.loop_id].sort());
    expect((await d.api("POST", `/v1/loops/${loop.json.loop_id}/resolve`, { resolution: "done" })).json.loop_state).toBe("resolved");

    const transition = await d.api("POST", `/v1/goals/${IDS.initiative}/transition`, { to: "ready", reason: "planned out", actor: "agent:planner" });
    expect(transition.json.status).toBe("ready");
    const illegal = await d.api("POST", `/v1/goals/${IDS.initiative}/transition`, { to: "completed", reason: "skip ahead" });
    expect(illegal.status).toBe(409);
    expect(illegal.json.error.message).toContain("legal next statuses");

    // Learning: the failed run's review, outcomes, lessons, rules.
    const review = await d.api("POST", "/v1/aars", { run_id: first.json.run_id });
    expect(review).toMatchObject({ status: 201, json: { run_id: first.json.run_id, failure_category: "tool_error", existing: false } });
    expect((await d.api("POST", "/v1/aars", { run_id: first.json.run_id })).status).toBe(200);
    expect((await d.api("GET", `/v1/aars/${review.json.aar_id}`)).json.run_id).toBe(first.json.run_id);
    expect((await d.api("GET", `/v1/aars?goal_id=${IDS.kr}`)).json.aars).toHaveLength(1);
    expect((await d.api("GET", "/v1/reports/learning?since=1d")).json.totals).toMatchObject({ runs: 1, failed: 1 });
    expect((await d.api("GET", "/v1/reports/learning?since=soon")).json.error).toMatchObject({ code: "request.bad_query", field: "since" });
    expect((await d.api("GET", "/v1/lessons")).json.lessons.map((l: { lesson_id: string }) => l.lesson_id)).toEqual([IDS.lesson]);
    expect((await d.api("GET", `/v1/lessons/${IDS.lesson}`)).json.evidence).toEqual([]);
    expect((await d.api("GET", "/v1/playbook")).json.rules[0]).toMatchObject({ rule_id: IDS.rule, mode: "shadow" });
    expect((await d.api("GET", `/v1/playbook/${IDS.rule}`)).json.events[0]).toMatchObject({ to_mode: "shadow", decision: "file" });

    const sync = (await d.api("GET", "/v1/sync")).json;
    expect(sync).toMatchObject({ invalidFiles: [], recent: [expect.objectContaining({ trigger: "daemon:start" })] });
    expect((await d.api("POST", "/v1/sync", {})).json.outcome).toMatch(/unchanged|applied/);
    expect((await d.api("GET", "/v1/status")).json.goals).toHaveLength(1);
  });

  it("answers bad input with a 4xx naming the field, never a 500", async () => {
    const cases: [string, string, unknown, number, string, string?][] = [
      ["POST", "/v1/runs", { goal_id: 42 }, 400, "request.bad_field", "goal_id"],
      ["POST", "/v1/runs", {}, 400, "request.missing_field", "goal_id"],
      ["POST", "/v1/runs", { goal_id: IDS.kr, idempotency: "typo" }, 400, "request.unknown_field", "idempotency"],
      ["POST", "/v1/runs", { goal_id: "goal_01M6B5CJM0W8B9F354SPG2VVZZ" }, 404, "goal.not_found", "goal_id"],
      ["POST", "/v1/runs", "{not json", 400, "request.bad_json"],
      ["POST", "/v1/runs", "[1,2]", 400, "request.not_object"],
      ["POST", "/v1/runs/grun_01M6B5CJM0W8B9F354SPG2VVZZ/finish", { outcome: "succeeded" }, 404, "run.not_found"],
      ["POST", `/v1/key-results/${IDS.kr}/values`, { value: "high" }, 400, "request.bad_field", "value"],
      ["POST", `/v1/key-results/${IDS.objective}/values`, { value: 1 }, 400, "kr.not_key_result", "goal_id"],
      ["GET", "/v1/runs?limit=0", undefined, 400, "request.bad_query", "limit"],
      ["POST", `/v1/key-results/${IDS.kr}/values`, { value: 1, run_id: "grun_01M6B5CJM0W8B9F354SPG2VVZZ" }, 404, "run.not_found", "run_id"],
      ["POST", `/v1/key-results/${IDS.kr}/values`, "{\"value\": 1e400}", 400, "request.bad_field", "value"],
      ["GET", "/v1/goals/%E0%A4%A/context", undefined, 400, "request.bad_path"],
      ["GET", "/v1/goals/goal_01M6B5CJM0W8B9F354SPG2VVZZ/context?format=xml", undefined, 400, "request.bad_query", "format"],
      ["GET", "/v1/nothing", undefined, 404, "request.no_route"],
      ["GET", "/v1/runs/x/finish", undefined, 405, "request.method"],
      ["GET", `/v1/goals/${IDS.kr}/context?format=pdf`, undefined, 400, "request.bad_query", "format"],
    ];
    for (const [method, path, body, status, code, field] of cases) {
      const response = await d.api(method, path, body);
      expect(response.status, `${method} ${path} ${JSON.stringify(body)}`).toBe(status);
      expect(response.json.error.code, `${method} ${path}`).toBe(code);
      if (field !== undefined) expect(response.json.error.field).toBe(field);
    }
    const failed = await d.api("POST", "/v1/runs/grun_x/finish", { outcome: "succeeded", failure_category: "bad_luck" });
    expect(failed.status).toBeLessThan(500);

    const port = new URL(d.url).port;
    const headers = { Host: `127.0.0.1:${port}`, Authorization: `Bearer ${d.token}` };
    expect((await raw(d, { method: "POST", path: "/v1/runs", headers: { ...headers, "Content-Type": "text/plain" }, body: "{}" })).status).toBe(415);
    const big = JSON.stringify({ goal_id: IDS.kr, plan: "x".repeat(1_100_000) });
    expect((await raw(d, { method: "POST", path: "/v1/runs", headers: { ...headers, "Content-Type": "application/json" }, body: big })).json.error.code).toBe("request.too_large");
    expect(d.logs.filter((l) => l.level === "error")).toEqual([]);
  });

  it("refuses a body that goes past the limit without declaring its length, and survives a client leaving mid-body", async () => {
    const url = new URL(d.url);
    const headers = { Host: `127.0.0.1:${url.port}`, Authorization: `Bearer ${d.token}`, "Content-Type": "application/json" };
    // Chunked: no Content-Length to refuse up front, so the limit is found while reading.
    const chunked = await new Promise<{ status: number; json: { error: { code: string } } }>((resolve, reject) => {
      const req = request({ host: url.hostname, port: url.port, method: "POST", path: "/v1/runs", headers: { ...headers, "Transfer-Encoding": "chunked" } }, (res) => {
        let text = "";
        res.setEncoding("utf8").on("data", (c: string) => (text += c)).on("end", () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(text) }));
      });
      req.on("error", reject);
      req.write(`{"goal_id": "${IDS.kr}", "plan": "`);
      for (let i = 0; i < 12; i++) req.write("x".repeat(100_000));
      req.end('"}');
    });
    expect(chunked.status).toBe(413);
    expect(chunked.json.error.code).toBe("request.too_large");
    // A client that sends half a body and goes away: nothing is recorded, nothing fails.
    const runsBefore = (await d.api("GET", "/v1/runs?limit=1000")).json.runs.length;
    await new Promise<void>((resolve) => {
      const req = request({ host: url.hostname, port: url.port, method: "POST", path: "/v1/runs", headers: { ...headers, "Content-Length": "1000" } });
      req.on("error", () => resolve());
      req.write(`{"goal_id": "${IDS.kr}",`, () => setTimeout(() => req.destroy(), 50));
    });
    const after = await d.api("POST", "/v1/runs", { goal_id: IDS.kr });
    expect(after.status).toBe(201);
    expect((await d.api("GET", "/v1/runs?limit=1000")).json.runs.length).toBe(runsBefore + 1);
    expect(d.logs.filter((l) => l.level === "error")).toEqual([]);
  });

  it("is documented route by route in the README, each with a curl line", () => {
    const readme = readFileSync(join(PROJECT_ROOT, "README.md"), "utf8");
    for (const route of ROUTES) {
      const curlPath = route.path.replace(/:([a-z_]+)/g, (_m, name: string) => `$${name.toUpperCase()}`);
      expect(readme, `${route.method} ${route.path}`).toContain(`${route.method} ${route.path}`);
      expect(readme, `curl for ${route.method} ${route.path}`).toMatch(new RegExp(`curl[^\\n]*${curlPath.replace(/[$?]/g, "\\$&")}`));
    }
  });
});

describe("kill -9 in a burst of run recordings", () => {
  it("leaves a sound database holding every run the API acknowledged", async () => {
    const root = tempRepo(validTree(), { git: true });
    const d = await startDaemonProcess(root);
    const started: string[] = [];
    const finished: string[] = [];
    let killed = false;
    const client = async () => {
      while (!killed) {
        try {
          const start = await d.api("POST", "/v1/runs", { goal_id: IDS.kr });
          if (start.status !== 201) continue;
          started.push(start.json.run_id);
          const finish = await d.api("POST", `/v1/runs/${start.json.run_id}/finish`, { outcome: "succeeded" });
          if (finish.status === 200) finished.push(start.json.run_id);
        } catch {
          return; // the daemon is gone
        }
      }
    };
    const clients = Array.from({ length: 6 }, client);
    await new Promise((r) => setTimeout(r, 800));
    d.child.kill("SIGKILL");
    killed = true;
    await Promise.all(clients);
    expect((await d.exited).signal).toBe("SIGKILL");
    expect(finished.length).toBeGreaterThan(20);

    const db = new Database(join(root, "state/goalops.db"));
    expect(db.pragma("integrity_check", { simple: true })).toBe("ok");
    const states = new Map((db.prepare("SELECT run_id, run_state FROM goal_runs").all() as { run_id: string; run_state: string }[]).map((r) => [r.run_id, r.run_state]));
    db.close();
    for (const id of started) expect(states.has(id), id).toBe(true);
    for (const id of finished) expect(states.get(id), id).toBe("finished");
  });
});
