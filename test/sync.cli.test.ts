import { existsSync, renameSync, rmSync, statSync, utimesSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { runCli, runCliJson } from "./helpers/cli.js";
import { IDS, goalYaml, krYaml, validTree } from "./helpers/specs.js";
import { commitAll, tempRepo, writeFiles } from "./helpers/tempRepo.js";
import { specState } from "./helpers/dbState.js";

interface SyncJson {
  outcome: string;
  commit: string | null;
  counts: { added: number; changed: number; archived: number; restored: number; invalid: number; unchanged: number };
  changes: { kind: string; id: string; path: string; change: string; transitions?: { from: string | null; to: string }[]; intentError?: string }[];
  invalid: { path: string; keptId: string | null; problems: { line: number; field: string; code: string }[] }[];
}

function db(root: string) {
  return new Database(join(root, "state/goalops.db"), { readonly: true });
}

function goalRow(root: string, id: string) {
  const d = db(root);
  try {
    return d.prepare("SELECT * FROM goal_definitions WHERE goal_id = ?").get(id) as Record<string, unknown> | undefined;
  } finally {
    d.close();
  }
}

function events(root: string, id: string) {
  const d = db(root);
  try {
    return d.prepare("SELECT from_status, to_status, actor, reason FROM goal_state_events WHERE goal_id = ? ORDER BY event_id").all(id) as { from_status: string | null; to_status: string; actor: string; reason: string }[];
  } finally {
    d.close();
  }
}

const sync = (root: string, ...args: string[]) => runCliJson<SyncJson>(["sync", "--json", ...args], { cwd: root });

describe("goalops sync", () => {
  it("loads a fresh tree: adds every definition and applies status intents through the state machine", async () => {
    const root = tempRepo(validTree(), { git: true });
    const head = (await runCli(["sync"], { cwd: root })).stdout;
    expect(head).toContain("5 added, 0 changed, 0 archived, 0 restored, 0 invalid, 0 unchanged");
    expect(head).toMatch(/in force: 3 goals \(1 active, 2 planned\), 1 active lessons, 1 playbook rules \(1 shadow\)/);

    const row = goalRow(root, IDS.objective);
    expect(row?.status).toBe("active");
    expect(row?.title).toBe("Improve reliability");
    expect(row?.source_path).toBe("goals/objective.yaml");
    const kr = goalRow(root, IDS.kr);
    expect([kr?.metric, kr?.unit, kr?.baseline, kr?.target, kr?.direction]).toEqual(["accuracy", "percent", 80, 95, "increase"]);

    const history = events(root, IDS.objective);
    expect(history.map((e) => [e.from_status, e.to_status])).toEqual([[null, "planned"], ["planned", "ready"], ["ready", "active"]]);
    expect(history[0]?.actor).toMatch(/^git:goals\/objective\.yaml@[0-9a-f]{40}$/);
  });

  it("fills an empty database with a large first sync exactly as a sync through the WAL does", async () => {
    // 1,200 files: past the size where the first sync writes with a rollback journal.
    const many: Record<string, string> = { ...validTree() };
    for (let i = 0; i < 1200; i++) {
      many[`goals/many/g${i}.yaml`] = goalYaml({ goal_id: `goal_01M6B5CJM0W8B9F354SPG2${String(i).padStart(4, "0")}`, goal_type: "initiative", title: `Initiative ${i}`, parent_goal_id: IDS.kr });
    }
    const alone = tempRepo(many, { git: true });
    const watched = tempRepo(many, { git: true });
    // In `watched` another connection has the database open (read), so the sync keeps the WAL.
    expect((await runCli(["status"], { cwd: watched })).exitCode).toBe(0);
    const reader = new Database(join(watched, "state/goalops.db"), { readonly: true });
    reader.prepare("SELECT COUNT(*) FROM goal_definitions").get();
    try {
      for (const root of [alone, watched]) {
        const { json } = await runCliJson<SyncJson>(["sync", "--json"], { cwd: root });
        expect(json.counts).toMatchObject({ added: 1205, invalid: 0 });
      }
    } finally {
      reader.close();
    }
    const state = (root: string) => {
      const d = db(root);
      try {
        return {
          mode: d.pragma("journal_mode", { simple: true }),
          integrity: d.pragma("integrity_check", { simple: true }),
          spec: specState(join(root, "state/goalops.db")),
          events: d.prepare("SELECT goal_id, from_status, to_status, reason FROM goal_state_events ORDER BY goal_id, event_id").all(),
        };
      } finally {
        d.close();
      }
    };
    const a = state(alone);
    expect(a).toMatchObject({ mode: "wal", integrity: "ok" });
    expect(a.spec.goals.length + a.spec.lessons.length + a.spec.rules.length).toBe(1205);
    expect(existsSync(join(alone, "state/goalops.db-journal"))).toBe(false);
    const b = state(watched);
    // The same definitions, statuses, files and state events (the actor names the repository's commit).
    expect(a.spec).toEqual(b.spec);
    expect(a.events).toEqual(b.events);
  }, 60_000);

  it("does not rewrite unchanged files on a re-sync", async () => {
    const root = tempRepo(validTree(), { git: true });
    await sync(root);
    const before = goalRow(root, IDS.objective);
    const again = await sync(root);
    expect(again.json.outcome).toBe("unchanged");
    expect(again.json.counts.unchanged).toBe(5);
    expect(again.exitCode).toBe(0);
    expect(goalRow(root, IDS.objective)?.updated_at).toBe(before?.updated_at);
  });

  it("sees a same-size edit made right after a sync, and ignores a touch that changes no content", async () => {
    const root = tempRepo(validTree());
    await sync(root);
    // Same length, different content, within the same second as the sync: the stat signature of a
    // recently changed file is never trusted, so the content is hashed again.
    writeFiles(root, { "goals/objective.yaml": goalYaml({ goal_id: IDS.objective, title: "Improve reliabilitY", status: "active" }) });
    const edited = await sync(root);
    expect(edited.json.counts.changed).toBe(1);
    expect(goalRow(root, IDS.objective)?.title).toBe("Improve reliabilitY");

    const later = new Date(Date.now() + 5000);
    utimesSync(join(root, "goals/kr.yaml"), later, later);
    const touched = await sync(root);
    expect(touched.json.outcome).toBe("unchanged");
  });

  it("updates only the file whose content changed", async () => {
    const root = tempRepo(validTree(), { git: true });
    await sync(root);
    writeFiles(root, { "goals/objective.yaml": goalYaml({ goal_id: IDS.objective, title: "Improve reliability a lot", status: "active" }) });
    const commit = commitAll(root, "retitle");
    const result = await sync(root);
    expect(result.json.changes).toEqual([{ kind: "goal", id: IDS.objective, path: "goals/objective.yaml", change: "changed" }]);
    expect(result.json.counts).toMatchObject({ changed: 1, unchanged: 4 });
    const row = goalRow(root, IDS.objective);
    expect(row?.title).toBe("Improve reliability a lot");
    expect(row?.source_commit).toBe(commit);
    expect(row?.status).toBe("active");
  });

  it("archives the goal of a deleted file with a state event, keeps its history, and restores it when the file returns", async () => {
    const root = tempRepo({ ...validTree(), "goals/other.yaml": goalYaml({ goal_id: IDS.maintenance, goal_type: "maintenance", title: "Sweep" }) }, { git: true });
    await sync(root);
    rmSync(join(root, "goals/other.yaml"));
    commitAll(root, "drop sweep");
    const result = await sync(root);
    expect(result.json.counts.archived).toBe(1);
    expect(goalRow(root, IDS.maintenance)?.status).toBe("archived");
    expect(goalRow(root, IDS.maintenance)?.archived_at).not.toBeNull();
    expect(events(root, IDS.maintenance).at(-1)).toMatchObject({ from_status: "planned", to_status: "archived", reason: "file goals/other.yaml deleted" });

    writeFiles(root, { "goals/other.yaml": goalYaml({ goal_id: IDS.maintenance, goal_type: "maintenance", title: "Sweep" }) });
    const restored = await sync(root);
    expect(restored.json.changes[0]).toMatchObject({ id: IDS.maintenance, change: "restored" });
    expect(goalRow(root, IDS.maintenance)?.status).toBe("planned");
    expect(goalRow(root, IDS.maintenance)?.archived_at).toBeNull();
    expect(events(root, IDS.maintenance)).toHaveLength(3);
  });

  it("keeps the last good version in force when a file becomes invalid, reports it with file:line, and clears it when fixed", async () => {
    const root = tempRepo(validTree(), { git: true });
    await sync(root);
    writeFiles(root, { "goals/objective.yaml": goalYaml({ goal_id: IDS.objective, title: "Broken now", status: "active", priority: 11 }) });
    const broken = await sync(root);
    expect(broken.exitCode).toBe(1);
    expect(broken.json.invalid).toEqual([
      { path: "goals/objective.yaml", kind: "goal", keptId: IDS.objective, problems: [expect.objectContaining({ line: 4, field: "priority", code: "schema.maximum" })] },
    ]);
    expect(goalRow(root, IDS.objective)?.title).toBe("Improve reliability");
    // The key result under it stays valid: its parent still exists (the last good version).
    expect(broken.json.counts.invalid).toBe(1);

    const text = (await runCli(["sync"], { cwd: root })).stdout;
    expect(text).toContain("! goals/objective.yaml: invalid; the last good version of goal_01M6B5CJM0W8B9F354SPG2VVA0 stays in force");
    expect(text).toContain("goals/objective.yaml:4:11: error priority: found number 11; must be <= 5");

    writeFiles(root, { "goals/objective.yaml": goalYaml({ goal_id: IDS.objective, title: "Fixed", status: "active" }) });
    const fixed = await sync(root);
    expect(fixed.exitCode).toBe(0);
    expect(fixed.json.invalid).toEqual([]);
    expect(goalRow(root, IDS.objective)?.title).toBe("Fixed");
    const d = db(root);
    expect(d.prepare("SELECT COUNT(*) FROM spec_files WHERE sync_state = 'invalid'").pluck().get()).toBe(0);
    d.close();
  });

  it("keeps the last good version when a file stops parsing altogether", async () => {
    const root = tempRepo(validTree());
    await sync(root);
    writeFiles(root, { "goals/kr.yaml": "goal_id: [unclosed\n" });
    const result = await sync(root);
    expect(result.exitCode).toBe(1);
    expect(result.json.invalid[0]).toMatchObject({ path: "goals/kr.yaml", keptId: IDS.kr });
    expect(result.json.counts.archived).toBe(0);
    expect(goalRow(root, IDS.kr)?.archived_at).toBeNull();
  });

  it("treats a renamed file with the same id as a move, not an archive and an add", async () => {
    const root = tempRepo(validTree());
    await sync(root);
    renameSync(join(root, "goals/kr.yaml"), join(root, "goals/renamed-kr.yaml"));
    const result = await sync(root);
    expect(result.json.changes).toEqual([{ kind: "goal", id: IDS.kr, path: "goals/renamed-kr.yaml", change: "moved" }]);
    expect(goalRow(root, IDS.kr)?.source_path).toBe("goals/renamed-kr.yaml");
  });

  it("refuses to archive more than half of the goals without --allow-prune", async () => {
    const extra = Object.fromEntries(
      ["B0", "B1", "B2"].map((n) => [`goals/m-${n}.yaml`, goalYaml({ goal_id: `goal_01M6B5CJM0W8B9F354SPG2VV${n}`, goal_type: "maintenance", title: `Sweep ${n}` })]),
    );
    const root = tempRepo({ ...validTree(), ...extra });
    await sync(root);
    for (const path of ["goals/m-B0.yaml", "goals/m-B1.yaml", "goals/m-B2.yaml", "goals/initiative.yaml"]) rmSync(join(root, path));
    const refused = await runCli(["sync"], { cwd: root });
    expect(refused.exitCode).toBe(1);
    expect(refused.stdout).toContain("this sync would archive 4 of 6 goals (more than 50%); if that is intended, run again with --allow-prune");
    expect(goalRow(root, "goal_01M6B5CJM0W8B9F354SPG2VVB0")?.archived_at).toBeNull();

    const allowed = await sync(root, "--allow-prune");
    expect(allowed.exitCode).toBe(0);
    expect(allowed.json.counts.archived).toBe(4);
  });

  it("reports a status intent the state machine cannot reach instead of forcing it", async () => {
    const root = tempRepo(validTree());
    await sync(root);
    // Move the objective to completed as an agent would (through the state machine), then ask the file for 'ready'.
    const { openStore } = await import("../src/store/openStore.js");
    const store = openStore({ databasePath: join(root, "state/goalops.db"), busyTimeoutMs: 1000 });
    await store.appendStateEvent({ goalId: IDS.objective, from: "active", to: "completed", actor: "agent:test", reason: "done", at: new Date().toISOString(), expectedFrom: "active" });
    await store.close();
    writeFiles(root, { "goals/objective.yaml": goalYaml({ goal_id: IDS.objective, title: "Improve reliability", status: "ready" }) });
    const result = await sync(root);
    expect(result.json.changes[0]?.intentError).toBe("status intent 'ready' cannot be reached from 'completed' (legal next states: archived)");
    const row = goalRow(root, IDS.objective);
    expect(row?.status).toBe("completed");
    expect(row?.intent_error).toContain("cannot be reached from 'completed'");
  });

  it("records the applied and attempted commits and a short history of syncs", async () => {
    const root = tempRepo(validTree(), { git: true });
    await sync(root);
    await sync(root);
    const d = db(root);
    const meta = Object.fromEntries((d.prepare("SELECT key, value FROM goalops_meta").all() as { key: string; value: string }[]).map((r) => [r.key, r.value]));
    const runs = d.prepare("SELECT outcome, added FROM sync_runs ORDER BY sync_id").all();
    d.close();
    expect(meta.last_applied_commit).toMatch(/^[0-9a-f]{40}$/);
    expect(meta.last_attempted_commit).toBe(meta.last_applied_commit);
    expect(runs).toEqual([{ outcome: "applied", added: 5 }, { outcome: "unchanged", added: 0 }]);
  });

  it("exits 2 with a clear message when goalops.yaml is missing", async () => {
    const root = tempRepo({});
    rmSync(join(root, "goalops.yaml"));
    const result = await runCli(["sync"], { cwd: root });
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain("no goalops.yaml in");
    expect(result.stderr).toContain("goalops init");
  });

  it("exits 1 and applies nothing when goalops.yaml itself is invalid", async () => {
    const root = tempRepo({ ...validTree(), "goalops.yaml": "version: 1\nsync:\n  prune_limt: 0.2\n" });
    const result = await runCli(["sync"], { cwd: root });
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain("goalops.yaml:3:3: error sync.prune_limt: unknown field 'prune_limt'");
    expect(result.stderr).toContain("did you mean 'prune_limit'?");
    expect(existsSync(join(root, "state/goalops.db"))).toBe(false);
  });
});

describe("goalops diff", () => {
  it("exits 0 with no changes, 1 with changes, and never writes", async () => {
    const root = tempRepo(validTree());
    const first = await runCli(["diff"], { cwd: root });
    expect(first.exitCode).toBe(1);
    expect(first.stdout).toContain("5 added");
    expect(existsSync(join(root, "state/goalops.db"))).toBe(false);

    await sync(root);
    const dbFile = join(root, "state/goalops.db");
    const mtime = statSync(dbFile).mtimeMs;
    const none = await runCli(["diff"], { cwd: root });
    expect(none.exitCode).toBe(0);

    writeFiles(root, { "goals/kr2.yaml": krYaml("goal_01M6B5CJM0W8B9F354SPG2VVC0", IDS.objective) });
    const some = await runCliJson<SyncJson>(["diff", "--json"], { cwd: root });
    expect(some.exitCode).toBe(1);
    expect(some.json.changes).toEqual([{ kind: "goal", id: "goal_01M6B5CJM0W8B9F354SPG2VVC0", path: "goals/kr2.yaml", change: "added", transitions: [{ from: null, to: "planned" }] }]);
    expect(statSync(dbFile).mtimeMs).toBe(mtime);
    expect(goalRow(root, "goal_01M6B5CJM0W8B9F354SPG2VVC0")).toBeUndefined();
  });

  it("exits 2 on a usage error", async () => {
    const root = tempRepo(validTree());
    const result = await runCli(["diff", "--no-such-flag"], { cwd: root });
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain("unknown option '--no-such-flag'");
  });
});
