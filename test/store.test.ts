import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { SCHEMA_VERSION, migrate, openDatabase, withRollbackJournal } from "../src/store/sqlite/database.js";
import { MIGRATIONS } from "../src/store/migrations/index.js";
import { openStore } from "../src/store/openStore.js";
import { isStoreBusy } from "../src/store/errors.js";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function dbPath(): string {
  const dir = mkdtempSync(join(tmpdir(), "goalops-store-"));
  dirs.push(dir);
  return join(dir, "state", "goalops.db");
}

const PRD_TABLES: Record<string, string[]> = {
  goal_definitions: ["goal_id", "goal_type", "title", "description", "parent_goal_id", "owner_agent", "priority", "success_metrics", "failure_conditions", "constraints", "review_cadence", "start_condition", "stop_condition", "time_horizon", "dependencies", "allowed_capabilities", "learning_required", "status", "created_at", "updated_at"],
  key_results: ["goal_id", "value", "recorded_at"],
  goal_state_events: ["goal_id", "from_status", "to_status", "actor", "reason", "created_at"],
  goal_runs: ["run_id", "goal_id", "job_id", "attempt", "plan_summary", "actions_taken", "verifier_status", "local_outcome", "business_outcome", "failure_category", "metrics_before", "metrics_after", "duration_seconds", "checkpoint_ref"],
  outcome_records: ["run_id", "business_outcome"],
  after_action_reviews: ["aar_id", "run_id", "goal_id", "what_happened", "root_cause", "what_worked", "what_failed", "lesson_candidates", "recommended_changes", "promoted", "created_at"],
  lessons: ["lesson_id", "goal_type", "action_type", "lesson_text", "evidence_run_ids", "confidence", "category", "active", "times_applied", "times_validated", "created_at"],
  playbook_rules: ["rule_id", "title", "applies_to_goal_type", "applies_to_action_type", "rule_text", "source_lesson_ids", "activation_mode", "promoted_at"],
  open_loops: ["loop_id", "goal_id", "run_id"],
  learning_cycle_reports: ["report_id"],
};

describe("the SQLite store", () => {
  it("creates the PRD's ten tables with the PRD's column names, in WAL mode", () => {
    const db = openDatabase(dbPath());
    try {
      for (const [table, columns] of Object.entries(PRD_TABLES)) {
        const actual = (db.prepare(`PRAGMA table_info(${table})`).all() as { name: string }[]).map((c) => c.name);
        expect(actual, table).toEqual(expect.arrayContaining(columns));
      }
      expect(db.pragma("journal_mode", { simple: true })).toBe("wal");
      expect(db.pragma("busy_timeout", { simple: true })).toBe(5000);
      expect(db.pragma("user_version", { simple: true })).toBe(SCHEMA_VERSION);
    } finally {
      db.close();
    }
  });

  it("writes a large fill with a rollback journal when it has the database to itself, and returns to WAL", () => {
    const path = dbPath();
    const db = openDatabase(path);
    try {
      const modeInside = () => db.pragma("journal_mode", { simple: true });
      expect(withRollbackJournal(db, modeInside)).toBe("delete");
      expect(db.pragma("journal_mode", { simple: true })).toBe("wal");
      expect(db.pragma("synchronous", { simple: true })).toBe(1); // NORMAL again
      // A failing write rolls back and still leaves WAL on.
      expect(() => withRollbackJournal(db, () => db.transaction(() => {
        db.prepare("INSERT INTO goalops_meta (key, value) VALUES ('x', 'y')").run();
        throw new Error("boom");
      })())).toThrow("boom");
      expect(db.pragma("journal_mode", { simple: true })).toBe("wal");
      expect(db.prepare("SELECT value FROM goalops_meta WHERE key = 'x'").get()).toBeUndefined();
      // Another connection that has read the database keeps it in WAL: the write goes through the WAL, at once.
      const other = new Database(path);
      other.prepare("SELECT COUNT(*) FROM goalops_meta").get();
      try {
        const started = performance.now();
        expect(withRollbackJournal(db, modeInside)).toBe("wal");
        expect(performance.now() - started).toBeLessThan(1000); // no wait for the busy timeout (5 s)
        expect(db.pragma("busy_timeout", { simple: true })).toBe(5000);
      } finally {
        other.close();
      }
    } finally {
      db.close();
    }
  });

  it("migrates idempotently: opening twice applies each migration once", () => {
    const path = dbPath();
    openDatabase(path).close();
    const db = openDatabase(path);
    try {
      expect(migrate(db)).toEqual({ from: SCHEMA_VERSION, to: SCHEMA_VERSION });
      const applied = db.prepare("SELECT version, name FROM schema_migrations ORDER BY version").all();
      expect(applied).toEqual(MIGRATIONS.map((m) => ({ version: m.version, name: m.name })));
    } finally {
      db.close();
    }
  });

  it("migrates an older database (schema version 0) forward, keeping what it already holds", () => {
    const path = dbPath();
    const dir = join(path, "..");
    rmSync(dir, { recursive: true, force: true });
    openDatabase(join(dir, "seed.db")).close(); // creates the folder
    const old = new Database(path);
    old.prepare("CREATE TABLE unrelated (x)").run();
    old.prepare("INSERT INTO unrelated (x) VALUES ('kept')").run();
    old.close();
    const db = openDatabase(path);
    try {
      expect(db.pragma("user_version", { simple: true })).toBe(SCHEMA_VERSION);
      expect(db.prepare("SELECT x FROM unrelated").pluck().get()).toBe("kept");
      expect(db.prepare("SELECT COUNT(*) FROM schema_migrations").pluck().get()).toBe(MIGRATIONS.length);
    } finally {
      db.close();
    }
  });

  it("migrates a version-1 database to the current version, keeping its rows", () => {
    const path = dbPath();
    openDatabase(join(path, "..", "seed.db")).close(); // creates the folder
    const old = new Database(path);
    const first = MIGRATIONS[0];
    if (first === undefined) throw new Error("no migrations");
    old.exec(first.sql);
    old.exec("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)");
    old.prepare("INSERT INTO schema_migrations VALUES (1, ?, '2026-01-01T00:00:00Z')").run(first.name);
    old.prepare("INSERT INTO spec_files (path, kind, object_id, content_hash, sync_state, last_attempted_at) VALUES ('goals/a.yaml', 'goal', NULL, 'h', 'synced', 'now')").run();
    old.pragma("user_version = 1");
    old.close();
    const db = openDatabase(path);
    try {
      expect(db.pragma("user_version", { simple: true })).toBe(SCHEMA_VERSION);
      expect(db.prepare("SELECT path, stat_signature FROM spec_files").all()).toEqual([{ path: "goals/a.yaml", stat_signature: null }]);
      expect(db.prepare("SELECT version FROM schema_migrations ORDER BY version").pluck().all()).toEqual(MIGRATIONS.map((m) => m.version));
    } finally {
      db.close();
    }
  });

  it("refuses a database written by a newer goalops", () => {
    const path = dbPath();
    openDatabase(path).close();
    const raw = new Database(path);
    raw.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    raw.close();
    expect(() => openDatabase(path)).toThrow(/newer than this goalops/);
  });

  it("refuses an illegal state event and one based on a stale status", async () => {
    const path = dbPath();
    const store = openStore({ databasePath: path, busyTimeoutMs: 1000 });
    const db = new Database(path);
    const now = new Date().toISOString();
    db.prepare(`INSERT INTO goal_definitions (goal_id, goal_type, title, owner_agent, priority, status, source_path, content_hash, spec_json, created_at, updated_at)
      VALUES ('goal_X', 'objective', 't', 'a', 1, 'planned', 'goals/x.yaml', 'h', '{}', ?, ?)`).run(now, now);
    db.close();
    await expect(store.appendStateEvent({ goalId: "goal_X", from: "planned", to: "completed", actor: "cli:test", reason: "r", at: now, expectedFrom: "planned" })).rejects.toThrow("cannot go from 'planned' to 'completed'");
    await expect(store.appendStateEvent({ goalId: "goal_X", from: "ready", to: "active", actor: "cli:test", reason: "r", at: now, expectedFrom: "ready" })).rejects.toThrow("is 'planned', not 'ready'");
    await store.appendStateEvent({ goalId: "goal_X", from: "planned", to: "ready", actor: "cli:test", reason: "r", at: now, expectedFrom: "planned" });
    expect((await store.goalHistory("goal_X")).map((e) => e.to_status)).toEqual(["ready"]);
    await store.close();
  });

  it("group commit: concurrent writes share a transaction, a failing one rolls back alone, each acknowledged after the commit", async () => {
    const path = dbPath();
    const store = openStore({ databasePath: path, busyTimeoutMs: 1000 }, { groupCommit: true });
    await store.countLiveGoals(); // opens and migrates
    const db = new Database(path);
    const now = new Date().toISOString();
    db.prepare(`INSERT INTO goal_definitions (goal_id, goal_type, title, owner_agent, priority, status, source_path, content_hash, spec_json, created_at, updated_at)
      VALUES ('goal_X', 'objective', 't', 'a', 1, 'planned', 'goals/x.yaml', 'h', '{}', ?, ?)`).run(now, now);
    const start = (runId: string, key: string | null = null) => ({ runId, goalId: "goal_X", jobId: null, planSummary: null, idempotencyKey: key, metricsBefore: {}, contextLessons: [], contextRules: [], at: now });
    const before = db.prepare("PRAGMA data_version").pluck().get() as number;
    const results = await Promise.allSettled([
      store.startRun(start("grun_A", "k1")),
      store.finishRun({ runId: "grun_missing", outcome: "succeeded", verifier: null, failureCategory: null, actions: [], notes: null, lessonCandidates: [], metricsAfter: {}, at: now }),
      store.startRun(start("grun_B", "k1")),
      store.startRun(start("grun_C")),
    ]);
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "fulfilled", "fulfilled"]);
    expect((results[1] as PromiseRejectedResult).reason.code).toBe("run.not_found");
    // The repeated key, in the same batch, found the first run.
    expect((results[2] as PromiseFulfilledResult<{ run: { run_id: string }; existing: boolean }>).value).toMatchObject({ existing: true, run: { run_id: "grun_A" } });
    // Committed, once, by the time the promises resolved: another connection sees the rows.
    expect(db.prepare("SELECT run_id, attempt FROM goal_runs ORDER BY run_id").all()).toEqual([{ run_id: "grun_A", attempt: 1 }, { run_id: "grun_C", attempt: 2 }]);
    expect(db.prepare("PRAGMA data_version").pluck().get()).toBe(before + 1);
    db.close();
    await store.close();
  });
});

describe("the latest key-result values of many key results at once", () => {
  it("are those read one by one: latest recorded_at, then latest value_id; none for a key result without values", async () => {
    const path = dbPath();
    const store = openStore({ databasePath: path, busyTimeoutMs: 1000 });
    await store.countLiveGoals(); // opens and migrates
    const db = new Database(path);
    const at = "2026-11-25T10:00:00.000Z";
    const ids = Array.from({ length: 40 }, (_, i) => `goal_KR${String(i).padStart(2, "0")}`);
    for (const id of ids) {
      db.prepare(`INSERT INTO goal_definitions (goal_id, goal_type, title, owner_agent, priority, status, source_path, content_hash, spec_json, created_at, updated_at)
        VALUES (?, 'key_result', 't', 'a', 1, 'active', ?, 'h', '{}', ?, ?)`).run(id, `goals/${id}.yaml`, at, at);
    }
    const insert = db.prepare("INSERT INTO key_results (goal_id, value, recorded_at, source, run_id, created_at) VALUES (?, ?, ?, NULL, NULL, ?)");
    ids.forEach((id, i) => {
      if (i % 5 === 0) return; // no value
      insert.run(id, i, "2026-11-20T00:00:00.000Z", at);
      insert.run(id, i + 100, i % 2 === 0 ? "2026-11-22T00:00:00.000Z" : "2026-11-19T00:00:00.000Z", at); // later, or earlier though inserted after
      if (i % 3 === 0) insert.run(id, i + 200, i % 2 === 0 ? "2026-11-22T00:00:00.000Z" : "2026-11-20T00:00:00.000Z", at); // a tie: the later row wins
    });
    db.close();
    const many = await store.latestKeyResultValues(ids);
    const oneByOne = openStore({ databasePath: path, busyTimeoutMs: 1000 });
    try {
      for (const id of ids) {
        const single = (await oneByOne.latestKeyResultValues([id])).get(id);
        expect(many.get(id), id).toEqual(single);
      }
      expect(many.size).toBe(32);
      expect(many.get("goal_KR03")?.value).toBe(203);
      expect(many.get("goal_KR04")?.value).toBe(104);
      expect(many.has("goal_KR05")).toBe(false);
    } finally {
      await oneByOne.close();
      await store.close();
    }
  });
});

describe("group commit, when a write of the batch fails", () => {
  it("takes out that write alone, with what it wrote before it threw", async () => {
    const path = dbPath();
    const store = openStore({ databasePath: path, busyTimeoutMs: 1000 }, { groupCommit: true });
    await store.countLiveGoals(); // opens and migrates
    const db = new Database(path);
    // The store's queue of writes, as every write operation uses it.
    const write = (store as unknown as { write: (op: () => unknown) => Promise<unknown> }).write.bind(store);
    const conn = (store as unknown as { db: InstanceType<typeof Database> }).db;
    const put = (key: string) => conn.prepare("INSERT INTO goalops_meta (key, value) VALUES (?, 'v')").run(key).changes;
    const results = await Promise.allSettled([
      write(() => put("a")),
      write(() => {
        put("b");
        throw new Error("b failed after writing");
      }),
      write(() => put("c")),
      write(() => {
        throw new Error("d failed at once");
      }),
      write(() => put("e")),
    ]);
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "fulfilled", "rejected", "fulfilled"]);
    expect((results[1] as PromiseRejectedResult).reason.message).toBe("b failed after writing");
    expect((results[3] as PromiseRejectedResult).reason.message).toBe("d failed at once");
    expect((results[0] as PromiseFulfilledResult<number>).value).toBe(1);
    expect(db.prepare("SELECT key FROM goalops_meta WHERE key IN ('a', 'b', 'c', 'd', 'e') ORDER BY key").pluck().all()).toEqual(["a", "c", "e"]);
    db.close();
    await store.close();
  });
});

describe("finishing a run the store started (no read when its row is as written)", () => {
  const setUp = async () => {
    const path = dbPath();
    const store = openStore({ databasePath: path, busyTimeoutMs: 1000 }, { groupCommit: true });
    await store.countLiveGoals(); // opens and migrates
    const other = openStore({ databasePath: path, busyTimeoutMs: 1000 });
    const db = new Database(path);
    const at = "2026-11-25T10:00:00.000Z";
    db.prepare(`INSERT INTO goal_definitions (goal_id, goal_type, title, owner_agent, priority, status, source_path, content_hash, spec_json, created_at, updated_at)
      VALUES ('goal_X', 'objective', 't', 'a', 1, 'active', 'goals/x.yaml', 'h', '{}', ?, ?)`).run(at, at);
    const start = (runId: string) => store.startRun({ runId, goalId: "goal_X", jobId: null, planSummary: "p", idempotencyKey: null, metricsBefore: { m: 1 }, contextLessons: [], contextRules: [], at });
    const finish = (runId: string, on = store) =>
      on.finishRun({ runId, outcome: "failed", verifier: "failed", failureCategory: "tool_error", actions: ["a"], notes: "n", lessonCandidates: ["c"], metricsAfter: { m: 2 }, at: "2026-11-25T10:00:01.500Z" });
    const close = async () => {
      db.close();
      await other.close();
      await store.close();
    };
    return { store, other, start, finish, close };
  };

  it("returns the run as the database then holds it", async () => {
    const { store, start, finish, close } = await setUp();
    try {
      await start("grun_A");
      const finished = await finish("grun_A");
      expect(finished).toMatchObject({ run_state: "finished", local_outcome: "failed", duration_seconds: 1.5, metrics_before: { m: 1 }, metrics_after: { m: 2 } });
      expect(finished).toEqual(await store.getRun("grun_A"));
      await expect(finish("grun_A")).rejects.toMatchObject({ code: "run.already_finished" });
    } finally {
      await close();
    }
  });

  it("reads the run when it changed since its start: a checkpoint or dispatch here, a checkpoint or finish by another process", async () => {
    const { store, other, start, finish, close } = await setUp();
    try {
      await Promise.all(["grun_B", "grun_C", "grun_D", "grun_E"].map(start));
      await store.checkpointRun({ runId: "grun_B", ref: "here", at: "2026-11-25T10:00:00.500Z" });
      await store.recordDispatch("grun_C", { command: ["agent"], pid: 1, started_at: "2026-11-25T10:00:00.000Z" });
      await other.checkpointRun({ runId: "grun_D", ref: "there", at: "2026-11-25T10:00:00.000Z" });
      await finish("grun_E", other);
      for (const runId of ["grun_B", "grun_C", "grun_D"]) {
        const finished = await finish(runId);
        expect(finished, runId).toEqual(await store.getRun(runId));
      }
      expect((await store.getRun("grun_B"))?.checkpoint_ref).toBe("here");
      expect((await store.getRun("grun_C"))?.dispatch).toMatchObject({ command: ["agent"] });
      expect((await store.getRun("grun_D"))?.checkpoint_ref).toBe("there");
      await expect(finish("grun_E")).rejects.toMatchObject({ code: "run.already_finished" });
    } finally {
      await close();
    }
  });
});

describe("a busy database, as the store reports it", () => {
  it("is told apart from other errors by the store alone (SQLite's SQLITE_BUSY codes)", () => {
    const dir = mkdtempSync(join(tmpdir(), "goalops-busy-"));
    const holder = openDatabase(join(dir, "goalops.db"));
    const waiter = openDatabase(join(dir, "goalops.db"), { busyTimeoutMs: 0 });
    holder.exec("BEGIN IMMEDIATE");
    let thrown: unknown;
    try {
      waiter.exec("BEGIN IMMEDIATE");
    } catch (error) {
      thrown = error;
    } finally {
      holder.exec("ROLLBACK");
      waiter.close();
      holder.close();
      rmSync(dir, { recursive: true, force: true });
    }
    expect(isStoreBusy(thrown)).toBe(true);
    expect(isStoreBusy(Object.assign(new Error("database is locked"), { code: "SQLITE_BUSY" }))).toBe(true);
    expect(isStoreBusy(Object.assign(new Error("database is locked"), { code: "SQLITE_BUSY_SNAPSHOT" }))).toBe(true);
    expect(isStoreBusy(Object.assign(new Error("no such table"), { code: "SQLITE_ERROR" }))).toBe(false);
    expect(isStoreBusy(null)).toBe(false);
    expect(isStoreBusy("SQLITE_BUSY")).toBe(false);
  });
});
