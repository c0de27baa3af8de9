/**
 * The real daemon, as a subprocess on temp git repositories: live sync of edits, atomic saves,
 * deletions, a checkout of 1,000 files, an invalid file and its fix, a bad goalops.yaml; the end
 * state equal to what `goalops sync` gives; the lock; clean shutdown.
 */
import { cpSync, mkdtempSync, readFileSync, renameSync, rmSync, unlinkSync, writeFileSync, existsSync, chmodSync, statSync } from "node:fs";
import { createHash } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { runCli, runCliJson } from "./helpers/cli.js";
import { eventually, startDaemonProcess } from "./helpers/daemon.js";
import { type SpecState, specState } from "./helpers/dbState.js";
import { goalYaml, IDS, krYaml, validTree } from "./helpers/specs.js";
import { commitAll, git, tempRepo, writeFiles } from "./helpers/tempRepo.js";

/** The content hash the database holds for a file, read as another process would. */
function storedHash(root: string, path: string): string | undefined {
  const db = new Database(join(root, "state/goalops.db"), { readonly: true });
  try {
    return (db.prepare("SELECT content_hash FROM spec_files WHERE path = ?").pluck().get(path) as string | undefined) ?? undefined;
  } finally {
    db.close();
  }
}

function fileState(root: string, path: string): { sync_state: string; errors: string } | undefined {
  const db = new Database(join(root, "state/goalops.db"), { readonly: true });
  try {
    return db.prepare("SELECT sync_state, errors FROM spec_files WHERE path = ?").get(path) as { sync_state: string; errors: string } | undefined;
  } finally {
    db.close();
  }
}

function hashOf(root: string, path: string): string {
  return createHash("sha256").update(readFileSync(join(root, path))).digest("hex");
}

/** Waits until the database holds the file's current bytes (or, with `gone`, no longer lists it). */
async function synced(root: string, path: string, gone = false): Promise<void> {
  await eventually(() => {
    const stored = storedHash(root, path);
    if (gone) return stored === undefined ? true : undefined;
    return stored === hashOf(root, path) ? true : undefined;
  }, 10_000, `${path} synced`);
}

/** What the definitions in force are, without runtime status: the archived ones a fresh database never saw are left out. */
function inForce(state: SpecState) {
  const live = (rows: unknown[]) => (rows as Record<string, unknown>[]).filter((r) => r.archived === 0).map(({ status: _s, ...rest }) => rest);
  return { goals: live(state.goals), lessons: live(state.lessons), rules: live(state.rules), files: state.files };
}

/**
 * The daemon's database against `goalops sync`: a copy of it, synced by the CLI, changes nothing;
 * and a fresh sync of the same files into an empty database holds the same definitions.
 */
async function expectSameAsSync(root: string): Promise<void> {
  const copy = mkdtempSync(join(tmpdir(), "goalops-copy-"));
  try {
    for (const entry of ["goalops.yaml", "goals", "lessons", "playbooks"]) if (existsSync(join(root, entry))) cpSync(join(root, entry), join(copy, entry), { recursive: true });
    const fresh = await runCli(["sync"], { cwd: copy });
    expect(fresh.exitCode, fresh.stderr).toBe(0);
    const freshState = specState(join(copy, "state/goalops.db"));
    rmSync(join(copy, "state"), { recursive: true, force: true });

    const source = new Database(join(root, "state/goalops.db"), { readonly: true });
    await source.backup(join(copy, "state-copy.db"));
    source.close();
    const daemonState = specState(join(copy, "state-copy.db"));
    expect(inForce(daemonState)).toEqual(inForce(freshState));

    // The same database, synced in full by the CLI: nothing to change.
    writeFileSync(join(copy, "goalops.yaml"), `${readFileSync(join(root, "goalops.yaml"), "utf8")}\ndatabase:\n  path: state-copy.db\n`);
    const again = await runCliJson<{ wouldChange: boolean; outcome: string }>(["sync", "--json"], { cwd: copy });
    expect(again.json.wouldChange, again.stdout).toBe(false);
    expect(specState(join(copy, "state-copy.db"))).toEqual(daemonState);
  } finally {
    rmSync(copy, { recursive: true, force: true });
  }
}

describe("goalops daemon: live sync", () => {
  it("follows edits, atomic saves, renames and deletions, and ends where goalops sync ends", async () => {
    const root = tempRepo(validTree(), { git: true });
    const d = await startDaemonProcess(root);
    expect((await d.api("GET", "/v1/goals")).json.goals).toHaveLength(3);

    // A plain edit.
    writeFiles(root, { "goals/kr.yaml": krYaml(IDS.kr, IDS.objective).replace("target: 95", "target: 97") });
    await synced(root, "goals/kr.yaml");
    expect((await d.api("GET", `/v1/goals/${IDS.kr}`)).json.spec.key_result.target).toBe(97);

    // An editor's atomic save: a temp file, renamed over the original.
    writeFileSync(join(root, "goals/.kr.yaml.swp"), krYaml(IDS.kr, IDS.objective).replace("target: 95", "target: 98"));
    renameSync(join(root, "goals/.kr.yaml.swp"), join(root, "goals/kr.yaml"));
    await synced(root, "goals/kr.yaml");
    expect((await d.api("GET", `/v1/goals/${IDS.kr}`)).json.spec.key_result.target).toBe(98);

    // Two quick writes to one file: the second is what stays.
    writeFiles(root, { "goals/objective.yaml": goalYaml({ goal_id: IDS.objective, title: "First", status: "active" }) });
    writeFiles(root, { "goals/objective.yaml": goalYaml({ goal_id: IDS.objective, title: "Second", status: "active" }) });
    await synced(root, "goals/objective.yaml");
    expect((await d.api("GET", `/v1/goals/${IDS.objective}`)).json.title).toBe("Second");

    // A rename keeps the goal; a deletion archives it.
    renameSync(join(root, "goals/initiative.yaml"), join(root, "goals/harness.yaml"));
    await synced(root, "goals/harness.yaml");
    await synced(root, "goals/initiative.yaml", true);
    expect((await d.api("GET", `/v1/goals/${IDS.initiative}`)).json.source_path).toBe("goals/harness.yaml");
    unlinkSync(join(root, "goals/harness.yaml"));
    await synced(root, "goals/harness.yaml", true);
    expect((await d.api("GET", `/v1/goals/${IDS.initiative}`)).json.status).toBe("archived");

    // A new folder of files.
    writeFiles(root, {
      "goals/team/a.yaml": goalYaml({ goal_id: "goal_01M6B5CJM0W8B9F354SPG2VVB0", title: "A" }),
      "goals/team/b.yaml": goalYaml({ goal_id: "goal_01M6B5CJM0W8B9F354SPG2VVB1", title: "B", dependencies: ["goal_01M6B5CJM0W8B9F354SPG2VVB0"] }),
    });
    await synced(root, "goals/team/a.yaml");
    await synced(root, "goals/team/b.yaml");

    await expectSameAsSync(root);
    expect(await d.stop()).toEqual({ code: 0, signal: null });
  });

  it("keeps the last good version of a file that turns invalid, reports where, and clears it when fixed", async () => {
    const root = tempRepo(validTree(), { git: true });
    const d = await startDaemonProcess(root);
    writeFiles(root, { "goals/kr.yaml": krYaml(IDS.kr, IDS.objective).replace("direction: increase", "direction: upward") });
    const logged = await d.waitForLog((l) => l.file === "goals/kr.yaml" && l.level === "warn");
    expect(logged).toMatchObject({ line: expect.any(Number), column: expect.any(Number), field: "key_result.direction" });

    // The API: the file's problem with its place; the goal as it was.
    const sync = (await d.api("GET", "/v1/sync")).json;
    expect(sync.invalidFiles).toEqual([expect.objectContaining({ path: "goals/kr.yaml", problems: [expect.objectContaining({ line: 12, field: "key_result.direction" })] })]);
    expect((await d.api("GET", `/v1/goals/${IDS.kr}`)).json.spec.key_result.direction).toBe("increase");
    // goalops status, as a person runs it beside the daemon.
    const status = await runCli(["status"], { cwd: root });
    expect(status.stdout).toMatch(/goals\/kr\.yaml:12:\d+/);
    expect(status.stdout).toContain(`daemon: running (pid ${d.pid}, ${d.url})`);
    expect((await d.api("GET", "/v1/health")).json.status).toBe("ok");

    // A half-written file (cut mid-line) never reaches the database either.
    writeFileSync(join(root, "goals/objective.yaml"), "goal_id: goal_01M6B5CJM0W8B9F354SPG2VVA0\ngoal_type: objec");
    await eventually(() => (fileState(root, "goals/objective.yaml")?.sync_state === "invalid" ? true : undefined));
    expect((await d.api("GET", `/v1/goals/${IDS.objective}`)).json.goal_type).toBe("objective");

    writeFiles(root, { "goals/kr.yaml": krYaml(IDS.kr, IDS.objective), "goals/objective.yaml": validTree()["goals/objective.yaml"] as string });
    await d.waitForLog((l) => l.file === "goals/kr.yaml" && String(l.msg).includes("no longer invalid"));
    await synced(root, "goals/kr.yaml");
    await synced(root, "goals/objective.yaml");
    expect((await d.api("GET", "/v1/sync")).json.invalidFiles).toEqual([]);
    await expectSameAsSync(root);
    await d.stop();
  });

  it("survives a sync that fails (the database locked by another writer) and catches up after", async () => {
    const root = tempRepo({ ...validTree(), "goalops.yaml": "version: 1\ndatabase:\n  busy_timeout_ms: 100\n" }, { git: true });
    const d = await startDaemonProcess(root);
    const other = new Database(join(root, "state/goalops.db"));
    other.exec("BEGIN IMMEDIATE");
    writeFiles(root, { "goals/kr.yaml": krYaml(IDS.kr, IDS.objective).replace("target: 95", "target: 99") });
    await d.waitForLog((l) => l.level === "error" && String(l.msg).startsWith("sync failed"));
    const health = (await d.api("GET", "/v1/health")).json;
    expect(health).toMatchObject({ status: "degraded", last_sync: { outcome: "failed", trigger: "watch" } });
    const busy = await d.api("POST", "/v1/runs", { goal_id: IDS.kr });
    expect(busy).toMatchObject({ status: 503, json: { error: { code: "store.busy" } } });
    expect(await d.api("POST", "/v1/sync", {})).toMatchObject({ status: 503, json: { error: { code: "sync.failed" } } });
    other.exec("ROLLBACK");
    other.close();
    // The next look at the file (an edit, or the periodic rescan) applies it.
    await d.api("POST", "/v1/sync", {});
    await synced(root, "goals/kr.yaml");
    expect((await d.api("GET", `/v1/goals/${IDS.kr}`)).json.spec.key_result.target).toBe(99);
    expect((await d.api("GET", "/v1/health")).json.status).toBe("ok");
    await d.stop();
  });

  it("checks a new goalops.yaml before applying it; an invalid one keeps the running config", async () => {
    const root = tempRepo(validTree(), { git: true });
    const d = await startDaemonProcess(root);
    writeFileSync(join(root, "goalops.yaml"), "version: 1\nsync:\n  prune_limit: 7\n");
    await d.waitForLog((l) => String(l.msg).includes("goalops.yaml is invalid"));
    const health = (await d.api("GET", "/v1/health")).json;
    expect(health.status).toBe("degraded");
    expect(health.config_error[0]).toMatch(/^goalops\.yaml:3:\d+: /);
    // Still syncing with the running config.
    writeFiles(root, { "goals/kr.yaml": krYaml(IDS.kr, IDS.objective).replace("target: 95", "target: 96") });
    await synced(root, "goals/kr.yaml");

    // A valid config with new folders: the daemon watches and syncs those.
    writeFiles(root, { "objectives/o.yaml": goalYaml({ goal_id: "goal_01M6B5CJM0W8B9F354SPG2VVC0", title: "Elsewhere" }) });
    writeFileSync(join(root, "goalops.yaml"), "version: 1\npaths:\n  goals: objectives\nsync:\n  prune_limit: 1\n");
    await synced(root, "objectives/o.yaml");
    expect((await d.api("GET", "/v1/health")).json.config_error).toBeNull();
    writeFiles(root, { "objectives/p.yaml": goalYaml({ goal_id: "goal_01M6B5CJM0W8B9F354SPG2VVC1", title: "Watched" }) });
    await synced(root, "objectives/p.yaml");
    await d.stop();
  });

  it("follows a git checkout of 1,000 files and back, ending where goalops sync ends", async () => {
    const root = tempRepo({ ...validTree(), "goalops.yaml": "version: 1\nsync:\n  prune_limit: 1\n" }, { git: true });
    git(root, "checkout", "-q", "-b", "many");
    const many: Record<string, string> = {};
    for (let i = 0; i < 1000; i++) {
      const id = `goal_01M6B5CJM0W8B9F354SPG2${String(i).padStart(4, "0")}`;
      many[`goals/many/g${i}.yaml`] = goalYaml({ goal_id: id, goal_type: "initiative", title: `Initiative ${i}`, parent_goal_id: IDS.kr });
    }
    writeFiles(root, many);
    commitAll(root, "a thousand initiatives");
    git(root, "checkout", "-q", "main");

    const d = await startDaemonProcess(root);
    git(root, "checkout", "-q", "many");
    await eventually(async () => ((await d.api("GET", "/v1/goals")).json.goals.length === 1003 ? true : undefined), 30_000, "1,003 goals");
    await expectSameAsSync(root);

    git(root, "checkout", "-q", "main");
    await eventually(async () => ((await d.api("GET", "/v1/goals")).json.goals.length === 3 ? true : undefined), 30_000, "back to 3 goals");
    await expectSameAsSync(root);
    expect(d.logs.filter((l) => l.level === "error")).toEqual([]);
    await d.stop();
  }, 120_000);
});

describe("goalops daemon: lifecycle", () => {
  it("allows one daemon per repository, takes over a stale lock, and stops cleanly on SIGTERM", async () => {
    const root = tempRepo(validTree(), { git: true });
    // A lock left by a process that is gone (a crash).
    writeFiles(root, { "state/daemon.lock": JSON.stringify({ pid: 2 ** 22 + 7, started_at: "2026-01-01T00:00:00Z" }) });
    const d = await startDaemonProcess(root);
    expect(d.logs.some((l) => String(l.msg).includes("stale daemon lock"))).toBe(true);
    expect(JSON.parse(readFileSync(join(root, "state/daemon.lock"), "utf8"))).toMatchObject({ pid: d.pid, url: d.url });

    const second = await runCli(["daemon", "--port", "0"], { cwd: root });
    expect(second.exitCode).toBe(2);
    expect(second.stderr).toContain(`a goalops daemon (pid ${d.pid}`);

    expect(await d.stop()).toEqual({ code: 0, signal: null });
    expect(d.logs.at(-1)?.msg).toBe("stopped cleanly");
    expect(existsSync(join(root, "state/daemon.lock"))).toBe(false);
    const db = new Database(join(root, "state/goalops.db"), { readonly: true });
    expect(db.pragma("integrity_check", { simple: true })).toBe("ok");
    db.close();
  });

  it("finishes a request in flight before it stops; a second signal exits at once", async () => {
    const root = tempRepo(validTree(), { git: true });
    const d = await startDaemonProcess(root);
    const run = (await d.api("POST", "/v1/runs", { goal_id: IDS.kr })).json;
    const body = JSON.stringify({ outcome: "succeeded", verifier: "passed" });
    const { request } = await import("node:http");
    const url = new URL(`${d.url}/v1/runs/${run.run_id}/finish`);
    const response = new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = request(url, { method: "POST", headers: { Authorization: `Bearer ${d.token}`, "Content-Type": "application/json", "Content-Length": Buffer.byteLength(body) } }, (res) => {
        let text = "";
        res.setEncoding("utf8").on("data", (c: string) => (text += c)).on("end", () => resolve({ status: res.statusCode ?? 0, text }));
      });
      req.on("error", reject);
      req.write(body.slice(0, 10));
      // The rest of the body after the daemon was told to stop.
      setTimeout(() => {
        d.child.kill("SIGTERM");
        setTimeout(() => req.end(body.slice(10)), 300);
      }, 200);
    });
    const finished = await response;
    expect(finished.status).toBe(200);
    expect(JSON.parse(finished.text).run_state).toBe("finished");
    expect(await d.exited).toEqual({ code: 0, signal: null });

    // Held by a request that never completes, the first signal waits; the second one does not.
    const d2 = await startDaemonProcess(root);
    const hanging = request(new URL(`${d2.url}/v1/runs`), { method: "POST", headers: { Authorization: `Bearer ${d2.token}`, "Content-Type": "application/json", "Content-Length": "100" } });
    hanging.on("error", () => undefined);
    hanging.write("{");
    await new Promise((r) => setTimeout(r, 200));
    d2.child.kill("SIGTERM");
    await d2.waitForLog((l) => String(l.msg).startsWith("shutting down"));
    d2.child.kill("SIGTERM");
    expect((await d2.exited).code).toBe(143);
    hanging.destroy();
  });

  it("refuses to start when the token file or the state folder is open to other users", async () => {
    const root = tempRepo(validTree(), { git: true });
    const d = await startDaemonProcess(root);
    await d.stop();
    expect(statSync(join(root, "state/token")).mode & 0o777).toBe(0o600);
    expect(statSync(join(root, "state")).mode & 0o777).toBe(0o700);
    chmodSync(join(root, "state/token"), 0o644);
    const refused = await runCli(["daemon", "--port", "0"], { cwd: root });
    expect(refused.exitCode).toBe(2);
    expect(refused.stderr).toContain("chmod 600");
    chmodSync(join(root, "state/token"), 0o600);
    chmodSync(join(root, "state"), 0o755);
    const refusedFolder = await runCli(["daemon", "--port", "0"], { cwd: root });
    expect(refusedFolder.exitCode).toBe(2);
    expect(refusedFolder.stderr).toContain("chmod 700");
    expect(existsSync(join(root, "state/daemon.lock"))).toBe(false);
  });
});
