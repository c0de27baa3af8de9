/**
 * After-action reviews as stored since migration 10: a narrow row per review (what it is made
 * from) and the `after_action_reviews` view that writes its texts from the run, the goal as
 * reviewed and the failure taxonomy. Real SQLite files, no mocks.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { FAILURE_TAXONOMY } from "../src/learning/failureTaxonomy.js";
import { MIGRATIONS } from "../src/store/migrations/index.js";
import { openDatabase } from "../src/store/sqlite/database.js";
import { openStore } from "../src/store/openStore.js";
import { workerExecArgv } from "../src/store/sqlite/workerThread.js";
import type { AfterActionReviewRecord, GoalOpsStore, ReviewWrite } from "../src/store/types.js";

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

interface SeedRun {
  goal: string;
  outcome?: string;
  lessons?: string[];
  at?: string;
  plan?: string | null;
  actions?: string[];
  verifier?: string | null;
  category?: string | null;
  notes?: string | null;
  duration?: number | null;
  before?: Record<string, number | null> | null;
  after?: Record<string, number | null> | null;
  business?: string;
}

/** Goals and their finished runs, written as any process would (the reviews' runs must exist). */
function seedRuns(path: string, runs: Record<string, SeedRun>): void {
  const db = new Database(path);
  try {
    const goal = db.prepare(`INSERT OR IGNORE INTO goal_definitions (goal_id, goal_type, title, owner_agent, priority, status, source_path, content_hash, spec_json, created_at, updated_at)
      VALUES (?, 'initiative', 't', 'agent', 1, 'active', ?, 'h', '{}', ?, ?)`);
    const run = db.prepare(`INSERT INTO goal_runs (run_id, goal_id, local_outcome, run_state, lesson_candidates, plan_summary, actions_taken, verifier_status, failure_category,
        notes, duration_seconds, metrics_before, metrics_after, business_outcome, started_at, finished_at, created_at, updated_at)
      VALUES (?, ?, ?, 'finished', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
    for (const [runId, r] of Object.entries(runs)) {
      const at = r.at ?? AT;
      goal.run(r.goal, `goals/${r.goal}.yaml`, AT, AT);
      run.run(runId, r.goal, r.outcome ?? "failed", JSON.stringify(r.lessons ?? []), r.plan ?? null, JSON.stringify(r.actions ?? []), r.verifier ?? null, r.category ?? null,
        r.notes ?? null, r.duration ?? null, r.before === undefined || r.before === null ? null : JSON.stringify(r.before), r.after === undefined || r.after === null ? null : JSON.stringify(r.after),
        r.business ?? "unknown", at, at, at, at);
    }
  } finally {
    db.close();
  }
}

const GOAL_A = { goal_id: "goal_A", goal_type: "initiative", title: "Ship the menu", intent: 'initiative "Ship the menu" (goal_A), to meet: orders at target' };
const GOAL_B = { goal_id: "goal_B", goal_type: "initiative", title: "Grow orders", intent: 'initiative "Grow orders" (goal_B), with no success metrics stated' };

function write(runId: string, over: Partial<ReviewWrite> = {}): ReviewWrite {
  return { run_id: runId, review_reason: "failed", prior_failures: 0, goal: GOAL_A, own_candidates: [], created_at: AT, ...over };
}

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

const tool = FAILURE_TAXONOMY.tool_error;

describe("after-action review storage", () => {
  it("writes every text of a review from its run, its goal as reviewed and the taxonomy", async () => {
    const path = dbPath();
    openDatabase(path).close();
    seedRuns(path, {
      grun_01F: { goal: "goal_A", category: "tool_error", verifier: "failed", actions: ["send_message", "crm.update"], plan: "draft, verify, then send", duration: 12.5, notes: "  the CLI changed its flags  ", before: { kr_a: 80, kr_b: 0.1 }, after: { kr_a: 84.25, kr_b: 0.1, kr_c: 3 }, lessons: ["pin the CLI"] },
      grun_02P: { goal: "goal_A", outcome: "partial", actions: ["read_ledger", "crm.read"], verifier: "passed", duration: 600, business: "degraded" },
      grun_03S: { goal: "goal_B", outcome: "succeeded", actions: [], plan: "send with a retry", verifier: "passed", at: "2026-03-03T10:00:00.000Z" },
    });
    await withStore(path, async (store) => {
      const own = [`initiative / send_message: ${tool.recommendation}`];
      expect(await store.insertReviews([
        write("grun_01F", { own_candidates: own }),
        write("grun_02P", { review_reason: "partial" }),
        write("grun_03S", { review_reason: "notable_success", prior_failures: 3, goal: GOAL_B, own_candidates: ["initiative / any action: what worked after 3 failures: send with a retry"], created_at: "2026-03-03T10:00:00.000Z" }),
      ])).toBe(3);
      const failed = await store.getAar("grun_01F");
      const intended = `${GOAL_A.intent}, plan: draft, verify, then send`;
      const actual = "run grun_01F (attempt 1) failed in 12.5 s, verifier failed, actions send_message -> crm.update, failure category tool_error";
      const impact = "key results moved: kr_a 80 -> 84.25 (+4.25), kr_c none -> 3; business outcome unknown";
      expect(failed).toEqual({
        aar_id: "aar_01F",
        run_id: "grun_01F",
        goal_id: "goal_A",
        review_reason: "failed",
        what_happened: `Intended: ${intended}. Happened: ${actual}. ${impact}.`,
        root_cause: "tool_error: the CLI changed its flags",
        failure_category: "tool_error",
        root_cause_detail: "the CLI changed its flags",
        what_worked: [],
        what_failed: [`tool_error: ${tool.meaning}`],
        lesson_candidates: ["pin the CLI", ...own],
        recommended_changes: [tool.recommendation],
        intended,
        actual,
        difference: `tool_error: ${tool.meaning}; the verifier rejected the result. The agent noted: the CLI changed its flags`,
        sustain: [],
        improve: [tool.recommendation],
        impact,
        detection: "detected by the verifier",
        narrative_source: "template",
        promoted: false,
        created_at: AT,
      } satisfies AfterActionReviewRecord);
      const partial = await store.getAar("aar_02P");
      expect(partial).toMatchObject({
        root_cause: null,
        root_cause_detail: null,
        actual: "run grun_02P (attempt 1) partial in 10 min, verifier passed, actions read_ledger -> crm.read",
        difference: "the run partial without a failure category; classify it to learn from it",
        what_worked: ["read_ledger (in part)", "crm.read (in part)"],
        what_failed: ["the run partial"],
        sustain: ["the verified part of the work"],
        recommended_changes: ["record a failure_category when a run fails, so reviews can name the cause"],
        impact: "no key-result movement during the run; business outcome degraded",
        detection: "reported by the agent although the verifier passed",
        lesson_candidates: [],
      });
      expect(await store.getAar("grun_03S")).toMatchObject({
        intended: `${GOAL_B.intent}, plan: send with a retry`,
        actual: "run grun_03S (attempt 1) succeeded, verifier passed, no actions recorded",
        difference: "none this time: it succeeded after 3 failed or partial runs of this goal",
        what_worked: ["the run as planned"],
        what_failed: [],
        sustain: ["no actions recorded (plan: send with a retry)"],
        recommended_changes: ['reuse this run\'s approach for "Grow orders" (plan: send with a retry)'],
        detection: "success confirmed by the verifier",
        lesson_candidates: ["initiative / any action: what worked after 3 failures: send with a retry"],
      });
      expect(await store.getAar("aar_missing")).toBeUndefined();
      expect((await store.listAars({ limit: 10 })).map((r) => r.aar_id)).toEqual(["aar_03S", "aar_02P", "aar_01F"]);
      expect((await store.listAars({ goalId: "goal_A", limit: 1 })).map((r) => r.aar_id)).toEqual(["aar_02P"]);
      expect(await store.listAars({ goalId: "goal_C", limit: 10 })).toEqual([]);
      // A review keeps the goal as it was reviewed; a later version of the goal is another row.
      expect(await store.insertReviews([write("grun_02P", { goal: { ...GOAL_A, title: "renamed", intent: "renamed" } })])).toBe(0);
      expect((await store.getAar("grun_02P"))?.intended).toBe(`${GOAL_A.intent}, no plan recorded`);
    });
    raw(path, (db) => {
      expect(db.prepare("SELECT title FROM aar_goals ORDER BY goal_text_id").pluck().all()).toEqual(["Ship the menu", "Grow orders", "renamed"]);
      expect(db.prepare("SELECT COUNT(*) FROM aar_texts").pluck().get()).toBe(db.prepare("SELECT COUNT(DISTINCT text) FROM aar_texts").pluck().get());
      // the review's id is its run's: not stored
      expect(db.prepare("SELECT COUNT(*) FROM aar_reviews WHERE aar_id IS NOT NULL").pluck().get()).toBe(0);
    });
  });

  it("keeps a run's first review: a second one, in another call or the same batch, is ignored", async () => {
    const path = dbPath();
    openDatabase(path).close();
    seedRuns(path, { grun_1: { goal: "goal_A" }, grun_2: { goal: "goal_A" } });
    await withStore(path, async (store) => {
      expect(await store.insertReviews([write("grun_1")])).toBe(1);
      expect(await store.insertReviews([write("grun_1", { review_reason: "manual", own_candidates: ["another"] })])).toBe(0);
      expect(await store.insertReviews([write("grun_2"), write("grun_2", { review_reason: "manual" })])).toBe(1);
      expect((await store.getAar("grun_1"))?.review_reason).toBe("failed");
      expect((await store.getAar("grun_2"))?.review_reason).toBe("failed");
    });
    expect(raw(path, (db) => db.prepare("SELECT COUNT(*) FROM after_action_reviews").pluck().get())).toBe(2);
  });

  it("writes a window's failure reviews in one statement, their candidates by kind (goal type, first action, category)", async () => {
    const path = dbPath();
    openDatabase(path).close();
    const day = (d: number) => `2026-03-0${d}T10:00:00.000Z`;
    seedRuns(path, {
      grun_0: { goal: "goal_A", at: day(1), category: "tool_error", actions: ["a"] }, // before the window
      grun_1: { goal: "goal_A", at: day(2), category: "tool_error", actions: ["a"] },
      grun_2: { goal: "goal_A", at: day(3), outcome: "partial", category: "tool_error", actions: ["a", "b"] },
      grun_3: { goal: "goal_A", at: day(3), category: "tool_error", actions: ["b"] },
      grun_4: { goal: "goal_B", at: day(4) }, // no category, no action
      grun_5: { goal: "goal_B", at: day(4), outcome: "succeeded" },
      grun_6: { goal: "goal_A", at: day(4), category: "tool_error", actions: ["a"] }, // reviewed already
      grun_7: { goal: "goal_C", at: day(4), category: "tool_error", actions: ["a"] }, // no goal given
    });
    await withStore(path, async (store) => {
      await store.insertReviews([write("grun_6", { review_reason: "manual" })]);
      const goals = [GOAL_A, GOAL_B];
      const writer = store.startReviewWrite({ since: day(2), until: day(5) }, goals, "2026-03-09T00:00:00.000Z");
      // then reviews given one batch at a time (a cycle's notable successes), one taken back
      writer.add([write("grun_5", { review_reason: "notable_success", prior_failures: 2, goal: GOAL_B, created_at: "2026-03-09T00:00:00.000Z" })]);
      writer.add([write("grun_1", { review_reason: "manual", created_at: "2026-03-09T00:00:00.000Z" })]); // has one by now: kept
      writer.discard(["grun_5"]);
      expect(await writer.finish()).toBe(4);
      // Their own lesson candidates are their kind's, stored apart (before or after the reviews).
      await store.saveReviewKinds([
        { goal_type: "initiative", first_action: "a", failure_category: "tool_error", own_candidates: ["initiative / a: retry"] },
        { goal_type: "initiative", first_action: null, failure_category: null, own_candidates: [] },
      ]);
      const made = (await store.listAars({ limit: 10 })).filter((r) => r.created_at === "2026-03-09T00:00:00.000Z");
      expect(made.map((r) => [r.run_id, r.review_reason, r.lesson_candidates, r.intended]).sort()).toEqual([
        ["grun_1", "failed", ["initiative / a: retry"], `${GOAL_A.intent}, no plan recorded`],
        ["grun_2", "partial", ["initiative / a: retry"], `${GOAL_A.intent}, no plan recorded`],
        ["grun_3", "failed", [], `${GOAL_A.intent}, no plan recorded`], // no kind stored for its first action
        ["grun_4", "failed", [], `${GOAL_B.intent}, no plan recorded`],
      ]);
      expect(await store.templateReviewsAt("2026-03-09T00:00:00.000Z")).toEqual(["grun_1", "grun_2", "grun_3", "grun_4"]);
      expect((await store.getAar("grun_6"))?.review_reason).toBe("manual");
      expect(await store.startReviewWrite({ since: day(2), until: day(5) }, goals, "2026-03-10T00:00:00.000Z").finish()).toBe(0);
      expect(await store.getAar("grun_5")).toBeUndefined();
    });
  });

  it("writes them in a worker thread (the compiled module) the same way, and says when the worker fails", async () => {
    // The compiled module, as the CLI runs it (npm test builds first); the sources cannot be a worker.
    const { reviewWriterInWorker } = (await import(new URL("../dist/store/sqlite/reviewWriter.js", import.meta.url).href)) as typeof import("../src/store/sqlite/reviewWriter.js");
    const path = dbPath();
    openDatabase(path).close();
    const day = (d: number) => `2026-03-0${d}T10:00:00.000Z`;
    seedRuns(path, {
      grun_1: { goal: "goal_A", at: day(2), category: "tool_error", actions: ["a"] },
      grun_2: { goal: "goal_A", at: day(3), outcome: "succeeded" },
      grun_3: { goal: "goal_A", at: day(3), outcome: "succeeded" },
    });
    const at = "2026-03-09T00:00:00.000Z";
    const writer = reviewWriterInWorker(path, {}, { window: { since: day(1), until: day(5) }, goals: [GOAL_A], at });
    if (writer === undefined) throw new Error("no worker");
    writer.add([write("grun_2", { review_reason: "notable_success", prior_failures: 2, created_at: at }), write("grun_3", { review_reason: "notable_success", prior_failures: 3, created_at: at })]);
    writer.discard(["grun_3"]);
    expect(await writer.finish()).toBe(2);
    await withStore(path, async (store) => {
      expect((await store.getAar("grun_1"))?.review_reason).toBe("failed");
      expect((await store.getAar("grun_2"))?.difference).toBe("none this time: it succeeded after 2 failed or partial runs of this goal");
      expect(await store.getAar("grun_3")).toBeUndefined();
    });
    const broken = reviewWriterInWorker(join(path, "not-a-folder", "x.db"), {}, { window: { since: day(1), until: day(5) }, goals: [GOAL_A], at });
    await expect(broken?.finish()).rejects.toThrow(/writing the reviews failed: cannot open the database/);
  });

  it("stops its worker when the caller aborts, so that a failed cycle's process exits (and starts it under node -e)", async () => {
    const path = dbPath();
    openDatabase(path).close();
    seedRuns(path, { grun_1: { goal: "goal_A", category: "tool_error" }, grun_2: { goal: "goal_A", outcome: "succeeded" } });
    // In a process of its own: a worker left waiting for finish() would keep it alive (killed at 20 s).
    const script = `
      const { reviewWriterInWorker } = await import(${JSON.stringify(new URL("../dist/store/sqlite/reviewWriter.js", import.meta.url).href)});
      const writer = reviewWriterInWorker(${JSON.stringify(path)}, {}, { window: { since: "2026-03-01T00:00:00.000Z", until: "2026-03-09T00:00:00.000Z" }, goals: [${JSON.stringify(GOAL_A)}], at: ${JSON.stringify(AT)} });
      writer.add([${JSON.stringify(write("grun_2", { review_reason: "notable_success", prior_failures: 2 }))}]);
      writer.abort();`;
    // Under --input-type=module -e, as a library user's quick script runs: the worker must not inherit those options.
    const child = spawnSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8", timeout: 20_000 });
    expect(child.error, child.stderr).toBeUndefined();
    expect(child.status, child.stderr).toBe(0);
    // What it committed before the abort stays (the failed run's review); nothing is half-written.
    raw(path, (db) => {
      expect(db.pragma("integrity_check", { simple: true })).toBe("ok");
      expect(db.prepare("SELECT run_id FROM aar_reviews").pluck().all()).toEqual(["grun_1"]);
    });
  });

  it("gives worker threads the process's node options but those naming what the main thread runs", () => {
    expect(workerExecArgv(["--cpu-prof", "--input-type=module", "-e", "code", "--max-old-space-size=900", "--eval=more", "-p", "1", "--input-type", "commonjs"])).toEqual(["--cpu-prof", "--max-old-space-size=900"]);
    expect(workerExecArgv([])).toEqual([]);
  });

  it("keeps a summarizer's texts in place of the template's, the others as written", async () => {
    const path = dbPath();
    openDatabase(path).close();
    seedRuns(path, { grun_1: { goal: "goal_A", category: "tool_error" } });
    await withStore(path, async (store) => {
      await store.insertReviews([write("grun_1")]);
      const drafted = (await store.getAar("grun_1")) as AfterActionReviewRecord;
      const summarized = await store.setReviewNarrative("grun_1", { what_happened: "Der Lauf scheiterte — «Zoë» 👥.", improve: ["ask which contact is meant"] }, "summarizer");
      expect(summarized).toEqual({ ...drafted, what_happened: "Der Lauf scheiterte — «Zoë» 👥.", improve: ["ask which contact is meant"], narrative_source: "summarizer" });
      expect(await store.templateReviewsAt(AT)).toEqual([]);
    });
  });

  it("writes nothing in a dry run", async () => {
    const path = dbPath();
    openDatabase(path).close();
    seedRuns(path, { grun_1: { goal: "goal_A" } });
    await withStore(path, async (store) => {
      await store.scratch(async () => {
        expect(await store.insertReviews([write("grun_1", { goal: { ...GOAL_A, title: "only the dry run saw" }, own_candidates: ["only the dry run saw"] })])).toBe(1);
        expect((await store.getAar("grun_1"))?.lesson_candidates).toEqual(["only the dry run saw"]);
      });
      expect(await store.getAar("grun_1")).toBeUndefined();
      expect(await store.insertReviews([write("grun_1")])).toBe(1);
      expect((await store.getAar("grun_1"))?.intended).toBe(`${GOAL_A.intent}, no plan recorded`);
    });
    raw(path, (db) => expect(db.prepare("SELECT COUNT(*) FROM aar_goals").pluck().get()).toBe(1));
  });

  it("reads every goal as a review quotes it in one query, its success metrics from its spec", async () => {
    const path = dbPath();
    openDatabase(path).close();
    seedRuns(path, { grun_1: { goal: "goal_A" } });
    const db = new Database(path);
    db.prepare(`INSERT INTO goal_definitions (goal_id, goal_type, title, owner_agent, priority, status, source_path, content_hash, spec_json, created_at, updated_at)
      VALUES ('goal_M', 'key_result', 'Orders at 95%', 'agent', 1, 'archived', 'goals/m.yaml', 'h', ?, ?, ?)`).run(JSON.stringify({ title: "Orders at 95%", success_metrics: ["orders at target", "no «regression»"] }), AT, AT);
    db.close();
    await withStore(path, async (store) => {
      const goals = (await store.goalsToReview()).sort((a, b) => a.goal_id.localeCompare(b.goal_id));
      expect(goals).toEqual([
        { goal_id: "goal_A", goal_type: "initiative", title: "t", spec: {} },
        { goal_id: "goal_M", goal_type: "key_result", title: "Orders at 95%", spec: { success_metrics: ["orders at target", "no «regression»"] } },
      ]);
    });
  });

  it("holds the database's failure taxonomy to the code's (a change of texts needs a migration)", () => {
    const db = openDatabase(dbPath());
    try {
      const rows = db.prepare("SELECT category, meaning, root_cause AS rootCause, recommendation FROM failure_taxonomy").all() as { category: string }[];
      expect(Object.fromEntries(rows.map(({ category, ...info }) => [category, info]))).toEqual(FAILURE_TAXONOMY);
    } finally {
      db.close();
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
    const recommended = ["pin the version of the CLI the agent calls"];
    const put = (aarId: string, runId: string, over: Partial<AfterActionReviewRecord> = {}, promoted = 0) => {
      const r = {
        goal_id: "goal_A", review_reason: "failed", root_cause: "tool_error: a tool call failed", failure_category: "tool_error", root_cause_detail: "a tool call failed",
        what_worked: [], what_failed: ["tool_error: a tool failed"], lesson_candidates: ["initiative / send_message: pin the CLI"], recommended_changes: recommended,
        intended: 'initiative "Ship the menu" (goal_A), no plan recorded', actual: `run ${runId} (attempt 1) failed`, difference: "tool_error: a tool failed", sustain: [], improve: recommended,
        impact: "no key-result movement during the run; business outcome unknown", detection: "detected by the verifier", narrative_source: "template", created_at: AT, ...over,
      };
      const whatHappened = over.what_happened ?? `Intended: ${r.intended}. Happened: ${r.actual}. ${r.impact}.`;
      insert.run(aarId, runId, r.goal_id, r.review_reason, whatHappened, r.root_cause, r.failure_category, r.root_cause_detail, JSON.stringify(r.what_worked),
        JSON.stringify(r.what_failed), JSON.stringify(r.lesson_candidates), JSON.stringify(r.recommended_changes), r.intended, r.actual, r.difference,
        JSON.stringify(r.sustain), JSON.stringify(r.improve), r.impact, r.detection, r.narrative_source, promoted, r.created_at);
    };
    put("aar_1", "grun_1");
    put("aar_2", "grun_2", { what_happened: "A summarizer's own account — «différent» ✓", narrative_source: "summarizer", root_cause: null, root_cause_detail: null, failure_category: null }, 1);
    put("aar_3", "grun_3", { goal_id: "goal_B", intended: "目標: 注文を増やす", impact: "key results moved: orders 3 -> 5 (+2); business outcome improved", improve: ["ändern"] });
    put("aar_4", "grun_4", { goal_id: "goal_B" });
    // made before migration 6: the defaults of its columns, and a narrative of its own
    legacy.prepare("INSERT INTO after_action_reviews (aar_id, run_id, goal_id, what_happened, created_at) VALUES ('aar_5', 'grun_5', 'goal_A', 'an early review', ?)").run(AT);
    // a template narrative of empty parts is still the template's
    put("aar_6", "grun_6", { intended: "", actual: "", impact: "" });
    const columns = legacy.prepare("PRAGMA table_info(after_action_reviews)").all().map((c) => [(c as { name: string }).name, (c as { type: string }).type]);
    const before = legacy.prepare("SELECT * FROM after_action_reviews ORDER BY aar_id").all() as Record<string, unknown>[];
    legacy.close();

    const db = openDatabase(path);
    try {
      expect(db.pragma("user_version", { simple: true })).toBe(MIGRATIONS[MIGRATIONS.length - 1]?.version);
      const after = db.prepare("SELECT * FROM after_action_reviews ORDER BY aar_id").all() as Record<string, unknown>[];
      // The run's failure category is the review's now (the same, as goalops wrote them).
      expect(after).toEqual(before.map((r) => ({ ...r, failure_category: null })));
      expect(after.map((r) => Object.keys(r))).toEqual(before.map((r) => Object.keys(r)));
      expect(db.prepare("PRAGMA table_info(after_action_reviews)").all().map((c) => [(c as { name: string }).name])).toEqual(columns.map(([name]) => [name]));
      expect(db.prepare("SELECT type FROM sqlite_master WHERE name = 'after_action_reviews'").pluck().get()).toBe("view");
      // found by the ids they had
      expect(db.prepare("SELECT run_id FROM aar_reviews WHERE aar_id = 'aar_3'").pluck().get()).toBe("grun_3");
      expect(db.prepare("PRAGMA foreign_key_check").all()).toEqual([]);
    } finally {
      db.close();
    }
    return withStore(path, async (store) => {
      expect((await store.getAar("aar_2"))?.what_happened).toBe("A summarizer's own account — «différent» ✓");
      expect((await store.getAar("grun_2"))?.aar_id).toBe("aar_2");
    });
  });

  it("finds a review by its run through the table's key, not by scanning", () => {
    const db = openDatabase(dbPath());
    try {
      const plan = (sql: string, ...args: string[]) => (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...args) as { detail: string }[]).map((r) => r.detail).filter((d) => /\bv\b/.test(d));
      expect(plan("SELECT * FROM after_action_reviews WHERE run_id = ?", "x")).toEqual(["SEARCH v USING PRIMARY KEY (run_id=?)"]);
      expect(plan("SELECT run_id FROM aar_reviews v WHERE aar_id = ?", "x")).toEqual([expect.stringMatching(/^SEARCH v USING (COVERING )?INDEX aar_reviews_own_id \(aar_id=\?\)$/)]);
    } finally {
      db.close();
    }
  });
});
