/**
 * After-action reviews stored compactly (migration 9): interned texts, one narrow row per review,
 * and the `after_action_reviews` view that reads as the table did. Real SQLite files, no mocks.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { MIGRATIONS } from "../src/store/migrations/index.js";
import { openDatabase } from "../src/store/sqlite/database.js";
import { BEGINNING, scanLedger } from "../src/learning/ledgerScan.js";
import { openStore } from "../src/store/openStore.js";
import type { AarWrite, GoalOpsStore } from "../src/store/types.js";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function dbPath(): string {
  const dir = mkdtempSync(join(tmpdir(), "goalops-aar-"));
  dirs.push(dir);
  return join(dir, "goalops.db");
}

const AT = "2026-03-02T10:00:00.000Z";

/** Two goals and their finished runs, written as any process would (the reviews' runs must exist). */
function seedRuns(path: string, runs: Record<string, { goal: string; outcome?: string; lessons?: string[] }>): void {
  const db = new Database(path);
  try {
    const goal = db.prepare(`INSERT OR IGNORE INTO goal_definitions (goal_id, goal_type, title, owner_agent, priority, status, source_path, content_hash, spec_json, created_at, updated_at)
      VALUES (?, 'initiative', 't', 'agent', 1, 'active', ?, 'h', '{}', ?, ?)`);
    const run = db.prepare(`INSERT INTO goal_runs (run_id, goal_id, local_outcome, run_state, lesson_candidates, started_at, finished_at, created_at, updated_at)
      VALUES (?, ?, ?, 'finished', ?, ?, ?, ?, ?)`);
    for (const [runId, r] of Object.entries(runs)) {
      goal.run(r.goal, `goals/${r.goal}.yaml`, AT, AT);
      run.run(runId, r.goal, r.outcome ?? "failed", JSON.stringify(r.lessons ?? []), AT, AT, AT, AT);
    }
  } finally {
    db.close();
  }
}

/** A drafted-looking review; its what_happened is the template's unless given. */
function review(aarId: string, runId: string, overrides: Partial<AarWrite> = {}): AarWrite {
  const recommended = ["pin the version of the CLI the agent calls"];
  const base: AarWrite = {
    aar_id: aarId,
    run_id: runId,
    goal_id: "goal_A",
    review_reason: "failed",
    what_happened: "",
    root_cause: "tool_error: a tool call failed",
    failure_category: "tool_error",
    root_cause_detail: "a tool call failed",
    what_worked: [],
    what_failed: ["tool_error: a tool or command the agent called failed"],
    lesson_candidates: ["initiative / send_message: pin the version of the CLI the agent calls"],
    recommended_changes: recommended,
    intended: 'initiative "Ship the menu" (goal_A), to meet: orders at target; plan: draft, verify, then send',
    actual: `run ${runId} (attempt 1) failed in 12.5 s, verifier failed, actions send_message, failure category tool_error`,
    difference: "tool_error: a tool or command the agent called failed",
    sustain: [],
    improve: recommended,
    impact: "no key-result movement during the run; business outcome unknown",
    detection: "detected by the verifier",
    narrative_source: "template",
    created_at: AT,
    ...overrides,
  };
  if (overrides.what_happened === undefined) base.what_happened = `Intended: ${base.intended}. Happened: ${base.actual}. ${base.impact}.`;
  return base;
}

const stored = (write: AarWrite) => ({ ...write, promoted: false });

function raw<T>(path: string, read: (db: Database.Database) => T): T {
  const db = new Database(path, { readonly: true });
  try {
    return read(db);
  } finally {
    db.close();
  }
}

async function withStore<T>(path: string, work: (store: GoalOpsStore) => Promise<T>, options: { groupCommit?: boolean } = {}): Promise<T> {
  const store = openStore({ databasePath: path, busyTimeoutMs: 1000 }, options);
  try {
    return await work(store);
  } finally {
    await store.close();
  }
}

describe("after-action review storage", () => {
  it("gives back every review as it went in, by aar_ id, by run id, per goal and newest first", async () => {
    const path = dbPath();
    openDatabase(path).close();
    seedRuns(path, { grun_1: { goal: "goal_A" }, grun_2: { goal: "goal_A" }, grun_3: { goal: "goal_B" }, grun_4: { goal: "goal_A" } });
    const reviews = [
      review("aar_1", "grun_1"),
      // a summarizer's narrative, non-ASCII text, no root cause, lists that differ
      review("aar_2", "grun_2", {
        what_happened: "Der Lauf scheiterte: der Empfänger war mehrdeutig — 2 Kontakte «Zoë» 👥.",
        narrative_source: "summarizer",
        intended: "送信前に受信者を確認する",
        root_cause: null,
        failure_category: null,
        root_cause_detail: null,
        what_worked: ["read_ledger", "crm.read (in part)"],
        improve: ["ask which contact is meant"],
        sustain: ["the verified part of the work"],
        review_reason: "partial",
      }),
      review("aar_3", "grun_3", { goal_id: "goal_B", created_at: "2026-03-03T10:00:00.000Z", review_reason: "notable_success", lesson_candidates: [] }),
      // same texts as the first: stored once
      review("aar_4", "grun_4", { created_at: "2026-03-01T10:00:00.000Z" }),
    ];
    await withStore(path, async (store) => {
      expect(await store.insertAars(reviews)).toBe(4);
      for (const write of reviews) {
        expect(await store.getAar(write.aar_id)).toEqual(stored(write));
        expect(await store.getAar(write.run_id)).toEqual(stored(write));
      }
      expect(await store.getAar("aar_missing")).toBeUndefined();
      expect(await store.listAars({ goalId: "goal_A", limit: 10 })).toEqual([reviews[1], reviews[0], reviews[3]].map((r) => stored(r as AarWrite)));
      expect(await store.listAars({ goalId: "goal_A", limit: 1 })).toEqual([stored(reviews[1] as AarWrite)]);
      expect(await store.listAars({ goalId: "goal_B", limit: 10 })).toEqual([stored(reviews[2] as AarWrite)]);
      expect(await store.listAars({ goalId: "goal_C", limit: 10 })).toEqual([]);
      expect((await store.listAars({ limit: 3 })).map((r) => r.aar_id)).toEqual(["aar_3", "aar_2", "aar_1"]);
      // insertAar alone, as `goalops aar create` stores one
      seedRuns(path, { grun_5: { goal: "goal_B" } });
      const single = review("aar_5", "grun_5", { goal_id: "goal_B", root_cause_detail: "ünïcödé detail" });
      expect(await store.insertAar(single)).toEqual({ aar: stored(single), existing: false });
    });
    raw(path, (db) => {
      // Only the summarizer's narrative is kept; the template's is composed by the view.
      expect(db.prepare("SELECT aar_id, what_happened IS NOT NULL AS kept FROM aar_records ORDER BY aar_id").raw().all()).toEqual([["aar_1", 0], ["aar_2", 1], ["aar_3", 0], ["aar_4", 0], ["aar_5", 0]]);
      expect(db.prepare("SELECT COUNT(*) FROM aar_texts WHERE text = ?").pluck().get(reviews[0]?.intended)).toBe(1);
      const ids = db.prepare("SELECT recommended_changes_id = improve_id FROM aar_records WHERE aar_id = 'aar_1'").pluck().get();
      expect(ids).toBe(1);
      expect(db.prepare("SELECT COUNT(*) FROM aar_texts").pluck().get()).toBe(db.prepare("SELECT COUNT(DISTINCT text) FROM aar_texts").pluck().get());
    });
  });

  it("keeps a run's first review: a second one, in another call or the same batch, is ignored", async () => {
    const path = dbPath();
    openDatabase(path).close();
    seedRuns(path, { grun_1: { goal: "goal_A" }, grun_2: { goal: "goal_A" } });
    const first = review("aar_1", "grun_1");
    await withStore(path, async (store) => {
      expect(await store.insertAars([first])).toBe(1);
      expect(await store.insertAars([review("aar_9", "grun_1", { difference: "another difference" })])).toBe(0);
      expect(await store.insertAar(review("aar_8", "grun_1"))).toEqual({ aar: stored(first), existing: true });
      // the same aar_ id for another run is ignored as well
      expect(await store.insertAars([review("aar_1", "grun_2"), review("aar_2", "grun_2"), review("aar_3", "grun_2")])).toBe(1);
      expect(await store.getAar("grun_1")).toEqual(stored(first));
      expect((await store.getAar("grun_2"))?.aar_id).toBe("aar_2");
    });
    expect(raw(path, (db) => db.prepare("SELECT COUNT(*) FROM after_action_reviews").pluck().get())).toBe(2);
  });

  it("reads reviews' lesson candidates for the lesson pass, and does not review a run twice", async () => {
    const path = dbPath();
    openDatabase(path).close();
    seedRuns(path, { grun_1: { goal: "goal_A" }, grun_2: { goal: "goal_A", lessons: ["agent's own"] }, grun_3: { goal: "goal_A" } });
    await withStore(path, async (store) => {
      await store.insertAars([review("aar_1", "grun_1", { lesson_candidates: ["from the review"] }), review("aar_3", "grun_3", { lesson_candidates: [] })]);
      const window = { since: "2026-03-01T00:00:00.000Z", until: "2026-03-03T00:00:00.000Z" };
      const reviews = await store.windowReviews(window);
      expect(reviews.map((r) => [r.runId, r.candidates]).sort()).toEqual([["grun_1", '["from the review"]'], ["grun_3", null]]);
      // The ledger pass: the agent's and the review's candidates, and only the unreviewed run due a review.
      const pass = await scanLedger(store, { from: BEGINNING, ...window, collect: "due" });
      expect(pass.candidates().map((c) => [c.source.runId, c.source.texts.map((t) => `${t.from}: ${t.text}`)])).toEqual([
        ["grun_1", ["review: from the review"]],
        ["grun_2", ["agent: agent's own"]],
      ]);
      expect(pass.due().map((d) => d.runId)).toEqual(["grun_2"]);
    });
  });

  it("forgets text ids learned in a rolled-back dry run, even once another connection reuses them", async () => {
    const path = dbPath();
    openDatabase(path).close();
    seedRuns(path, { grun_1: { goal: "goal_A" }, grun_2: { goal: "goal_A" } });
    const texts = { intended: "a goal only the dry run saw", difference: "a difference only the dry run saw", lesson_candidates: ["a lesson only the dry run saw"] };
    await withStore(path, async (store) => {
      await store.scratch(async () => {
        expect(await store.insertAars([review("aar_1", "grun_1", texts)])).toBe(1);
        expect((await store.getAar("grun_1"))?.intended).toBe(texts.intended);
      });
      expect(await store.getAar("grun_1")).toBeUndefined();
      // Another process takes the ids the dry run had used, for other strings.
      const other = new Database(path);
      other.exec("INSERT INTO aar_texts (text) VALUES ('other 1'), ('other 2'), ('other 3'), ('other 4'), ('other 5'), ('other 6'), ('other 7'), ('other 8'), ('other 9'), ('other 10')");
      other.close();
      const real = review("aar_2", "grun_2", texts);
      expect(await store.insertAars([real])).toBe(1);
      expect(await store.getAar("grun_2")).toEqual(stored(real));
    });
  });

  it("forgets text ids of a write that failed and rolled back, alone or in a group commit", async () => {
    for (const groupCommit of [false, true]) {
      const path = dbPath();
      openDatabase(path).close();
      seedRuns(path, { grun_1: { goal: "goal_A" } });
      const texts = { intended: "intended, first seen in a failed write", impact: "an impact first seen in a failed write" };
      await withStore(
        path,
        async (store) => {
          // The second review's run does not exist: the whole write fails and is rolled back.
          await expect(store.insertAars([review("aar_1", "grun_1", texts), review("aar_2", "grun_missing", texts)])).rejects.toThrow(/FOREIGN KEY/);
          expect(await store.getAar("grun_1")).toBeUndefined();
          expect(raw(path, (db) => db.prepare("SELECT COUNT(*) FROM aar_texts").pluck().get())).toBe(0);
          const real = review("aar_3", "grun_1", texts);
          expect(await store.insertAars([real])).toBe(1);
          expect(await store.getAar("grun_1")).toEqual(stored(real));
        },
        { groupCommit },
      );
    }
  });

  it("migrates a version-8 database's reviews: the view reads exactly what the table held", () => {
    const path = dbPath();
    const old = new Database(path);
    old.exec("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)");
    for (const migration of MIGRATIONS.filter((m) => m.version <= 8)) {
      old.exec(migration.sql);
      old.prepare("INSERT INTO schema_migrations VALUES (?, ?, '2026-01-01T00:00:00Z')").run(migration.version, migration.name);
    }
    old.pragma("user_version = 8");
    old.close();
    seedRuns(path, { grun_1: { goal: "goal_A" }, grun_2: { goal: "goal_A" }, grun_3: { goal: "goal_B" }, grun_4: { goal: "goal_B" }, grun_5: { goal: "goal_A" }, grun_6: { goal: "goal_A" } });
    const legacy = new Database(path);
    const insert = legacy.prepare(`INSERT INTO after_action_reviews (aar_id, run_id, goal_id, review_reason, what_happened, root_cause, failure_category,
        root_cause_detail, what_worked, what_failed, lesson_candidates, recommended_changes, intended, actual, difference, sustain, improve, impact,
        detection, narrative_source, promoted, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
    const put = (r: AarWrite, promoted = 0) =>
      insert.run(r.aar_id, r.run_id, r.goal_id, r.review_reason, r.what_happened, r.root_cause, r.failure_category, r.root_cause_detail, JSON.stringify(r.what_worked),
        JSON.stringify(r.what_failed), JSON.stringify(r.lesson_candidates), JSON.stringify(r.recommended_changes), r.intended, r.actual, r.difference,
        JSON.stringify(r.sustain), JSON.stringify(r.improve), r.impact, r.detection, r.narrative_source, promoted, r.created_at);
    put(review("aar_1", "grun_1"));
    put(review("aar_2", "grun_2", { what_happened: "A summarizer's own account — «différent» ✓", narrative_source: "summarizer", root_cause: null, root_cause_detail: null, failure_category: null }), 1);
    put(review("aar_3", "grun_3", { goal_id: "goal_B", intended: "目標: 注文を増やす", impact: "key results moved: orders 3 -> 5 (+2); business outcome improved", improve: ["ändern"] }));
    put(review("aar_4", "grun_4", { goal_id: "goal_B" }));
    // made before migration 6: the defaults of its columns, and a narrative of its own
    legacy.prepare("INSERT INTO after_action_reviews (aar_id, run_id, goal_id, what_happened, created_at) VALUES ('aar_5', 'grun_5', 'goal_A', 'an early review', ?)").run(AT);
    // a template narrative of empty parts is still the template's
    put(review("aar_6", "grun_6", { intended: "", actual: "", impact: "" }));
    const columns = legacy.prepare("PRAGMA table_info(after_action_reviews)").all().map((c) => [(c as { name: string }).name, (c as { type: string }).type]);
    const before = legacy.prepare("SELECT * FROM after_action_reviews ORDER BY aar_id").all();
    legacy.close();

    const db = openDatabase(path);
    try {
      expect(db.pragma("user_version", { simple: true })).toBe(9);
      const after = db.prepare("SELECT * FROM after_action_reviews ORDER BY aar_id").all();
      expect(after).toEqual(before);
      expect(after.map((r) => Object.keys(r as object))).toEqual(before.map((r) => Object.keys(r as object)));
      expect(db.prepare("PRAGMA table_info(after_action_reviews)").all().map((c) => [(c as { name: string }).name, (c as { type: string }).type])).toEqual(columns);
      expect(db.prepare("SELECT aar_id FROM aar_records WHERE what_happened IS NOT NULL ORDER BY aar_id").pluck().all()).toEqual(["aar_2", "aar_5"]);
      expect(db.prepare("SELECT name FROM sqlite_master WHERE name LIKE 'after_action_reviews%' ORDER BY name").raw().all()).toEqual([["after_action_reviews"]]);
      expect(db.prepare("SELECT type FROM sqlite_master WHERE name = 'after_action_reviews'").pluck().get()).toBe("view");
      expect(db.prepare("PRAGMA foreign_key_check").all()).toEqual([]);
    } finally {
      db.close();
    }
  });

  it("finds a review by aar_ id or run id through the base table's keys, not by scanning", () => {
    const db = openDatabase(dbPath());
    try {
      const plan = (sql: string, ...args: string[]) => (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...args) as { detail: string }[]).map((r) => r.detail).filter((d) => /\br\b/.test(d));
      expect(plan("SELECT * FROM after_action_reviews WHERE aar_id = ?", "x")).toEqual(["SEARCH r USING PRIMARY KEY (aar_id=?)"]);
      expect(plan("SELECT * FROM after_action_reviews WHERE run_id = ?", "x")).toEqual([expect.stringMatching(/^SEARCH r USING INDEX sqlite_autoindex_aar_records_\d \(run_id=\?\)$/)]);
      expect(plan("SELECT * FROM after_action_reviews WHERE aar_id = ? OR run_id = ?", "x", "x").every((d) => d.startsWith("SEARCH"))).toBe(true);
    } finally {
      db.close();
    }
  });
});
