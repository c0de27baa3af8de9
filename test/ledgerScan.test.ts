import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { scanLedger } from "../src/learning/ledgerScan.js";
import { openStore } from "../src/store/openStore.js";
import { openDatabase, type SqliteDatabase } from "../src/store/sqlite/database.js";
import { LedgerOrderLostError } from "../src/store/errors.js";
import { PackedRunReader } from "../src/store/sqlite/ledgerReader.js";
import { packedRunsInTableOrder, runsInStartOrder, runsInTableOrder, scanFinishedRuns } from "../src/store/sqlite/ledgerScanOperations.js";

// The learning scan reads runs in the table's order and must give them in start order, whatever
// order concurrent writers inserted them in. Checked against SQLite's own ORDER BY on a real file.
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function ledger(startedAt: readonly string[], ids?: readonly string[]): SqliteDatabase {
  const dir = mkdtempSync(join(tmpdir(), "goalops-scan-"));
  dirs.push(dir);
  const db = openDatabase(join(dir, "goalops.db"));
  db.pragma("foreign_keys = OFF"); // runs of a goal that is not synced: only the order matters here
  const insert = db.prepare("INSERT INTO goal_runs (run_id, goal_id, local_outcome, run_state, started_at, created_at, updated_at) VALUES (?, 'goal_x', 'succeeded', 'finished', ?, ?, ?)");
  db.transaction(() => {
    startedAt.forEach((at, i) => {
      insert.run(ids?.[i] ?? `grun_${String(i).padStart(6, "0")}`, at, at, at);
    });
  })();
  return db;
}

const at = (second: number) => new Date(Date.UTC(2026, 10, 20, 0, 0, second)).toISOString();

function expected(db: SqliteDatabase, from: string, until: string): string[] {
  return db.prepare("SELECT run_id FROM goal_runs WHERE run_state = 'finished' AND started_at >= ? AND started_at < ? ORDER BY started_at, run_id").pluck().all(from, until) as string[];
}

const ids = (chunks: Iterable<readonly (readonly unknown[])[]>) => [...chunks].flat().map((r) => r[0] as string);

/** A seeded shuffle of 0..n-1 where each index moves at most `spread` places (or anywhere, with spread n). */
function perturbed(n: number, spread: number, seed: number): number[] {
  let state = seed;
  const random = () => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return state / 2 ** 31;
  };
  return Array.from({ length: n }, (_, i) => [i + random() * spread, i] as const)
    .sort((a, b) => a[0] - b[0])
    .map(([, i]) => i);
}

describe("the ledger scan's start order", () => {
  it("gives runs inserted in start order as they are", () => {
    const db = ledger(Array.from({ length: 50 }, (_, i) => at(i)));
    expect(ids(runsInStartOrder(db, "evidence", "", "9999", 4, 5))).toEqual(expected(db, "", "9999"));
  });

  it("puts runs inserted a little late back in order, within the window it holds", () => {
    const order = perturbed(300, 6, 7);
    const db = ledger(order.map((i) => at(i)));
    expect(ids(runsInStartOrder(db, "evidence", "", "9999", 8, 5))).toEqual(expected(db, "", "9999"));
  });

  it("says so when a run was inserted later than it can mend, and the index's order holds then", () => {
    for (const seed of [1, 2, 3]) {
      const order = perturbed(400, 400, seed);
      const db = ledger(order.map((i) => at(i)));
      expect(() => [...runsInStartOrder(db, "review", "", "9999", 4, 16)]).toThrow(LedgerOrderLostError);
      expect([...scanFinishedRuns(db, { from: "", until: "9999", fields: "review", order: "index" }, 7)].flat().map((r) => r[0])).toEqual(expected(db, "", "9999"));
    }
  });

  it("orders runs started in the same millisecond by run id", () => {
    const db = ledger([at(1), at(1), at(0), at(1)], ["grun_c", "grun_a", "grun_z", "grun_b"]);
    expect(ids(runsInStartOrder(db, "evidence", "", "9999", 2, 1))).toEqual(["grun_z", "grun_a", "grun_b", "grun_c"]);
  });

  it("reads only the runs of a window that starts later, in order", () => {
    const order = perturbed(200, 5, 11);
    const db = ledger(order.map((i) => at(i)));
    expect(ids(runsInStartOrder(db, "evidence", at(50), at(150), 4, 5))).toEqual(expected(db, at(50), at(150)));
    expect(ids(runsInStartOrder(db, "evidence", at(500), at(600), 4, 5))).toEqual([]);
  });

  it("scans in chunks, leaving no transaction open", () => {
    const db = ledger(Array.from({ length: 10 }, (_, i) => at(9 - i)));
    const byIndex = [...scanFinishedRuns(db, { from: "", until: "9999", fields: "evidence", order: "index" }, 4)];
    expect(byIndex.map((c) => c.length)).toEqual([4, 4, 2]);
    expect(ids(byIndex)).toEqual(expected(db, "", "9999"));
    expect(ids(scanFinishedRuns(db, { from: "", until: "9999", fields: "evidence" }))).toEqual(expected(db, "", "9999"));
    expect(db.inTransaction).toBe(false);
  });

  it("makes the learning pass start over in start order when the table's order cannot be mended", async () => {
    // Goal X: f0, f1 then s2 in start order, so s2 is a notable success (two failures before it);
    // f0's row was written 6,000 runs late, past what the scan mends (a packed text's runs and 1,024 more).
    const startedAt: string[] = [at(1), at(2)];
    const runIds = ["grun_f1", "grun_s2"];
    for (let i = 0; i < 6000; i++) {
      startedAt.push(new Date(Date.UTC(2026, 10, 20, 1, 0, 0, i)).toISOString());
      runIds.push(`grun_y${String(i).padStart(5, "0")}`);
    }
    startedAt.push(at(0));
    runIds.push("grun_f0");
    const db = ledger(startedAt, runIds);
    db.prepare(`INSERT INTO goal_definitions (goal_id, goal_type, title, owner_agent, priority, status, source_path, content_hash, spec_json, created_at, updated_at)
      VALUES ('goal_x', 'initiative', 't', 'agent', 1, 'active', 'goals/x.yaml', 'h', '{}', ?, ?)`).run(at(0), at(0));
    db.prepare("UPDATE goal_runs SET local_outcome = 'failed' WHERE run_id IN ('grun_f0', 'grun_f1')").run();
    const path = db.name;
    db.close();
    const store = openStore({ databasePath: path, busyTimeoutMs: 1000 });
    try {
      let restarts = 0;
      const pass = await scanLedger(store, { from: "", since: "", until: "9999", collect: "due" }, { onRestart: () => restarts++ });
      expect(restarts).toBe(1);
      expect(pass.notableSuccessesDue().map((d) => [d.runId, d.priorFailures])).toEqual([["grun_s2", 2]]);
      expect(pass.runs).toBe(6003);
    } finally {
      await store.close();
    }
  });

  it("packs runs in texts a range of rowids at a time, their fields whole, separators taken out of a plan", () => {
    const db = ledger(Array.from({ length: 30 }, (_, i) => at(i)));
    db.prepare("UPDATE goal_runs SET plan_summary = ?, actions_taken = ?, lesson_candidates = ?, metrics_before = '{\"k\":1}', metrics_after = '{\"k\":2}' WHERE run_id = 'grun_000007'")
      .run("split\u001fthe\u001ework «é» 👥", '["a","b"]', '["x|y"]');
    db.prepare("UPDATE goal_runs SET run_state = 'running' WHERE run_id = 'grun_000011'").run(); // not finished: left out
    db.prepare("UPDATE goal_runs SET context_lessons = ? WHERE run_id = 'grun_000009'").run('[\n  "les_1"\n]'); // pretty-printed by another writer
    const chunks = [...runsInTableOrder(db, "review", "", "9999", 7)];
    expect(chunks.map((c) => c.length)).toEqual([7, 6, 7, 7, 2]); // rowids 1-7, 8-14 (12 not finished), ...
    const runs = chunks.flat();
    expect(runs.map((r) => r[0])).toEqual(expected(db, "", "9999"));
    expect(runs.every((r) => r.length === 10)).toBe(true);
    expect(runs.find((r) => r[0] === "grun_000007")).toEqual(["grun_000007", "goal_x", at(7), "succeeded||unknown|", '["a","b"]', "[]\u001d[]", '["x|y"]', '{"k":1}', '{"k":2}', "split the work «é» 👥"]);
    expect(runs.find((r) => r[0] === "grun_000008")?.slice(6)).toEqual(["", "", "", ""]);
    expect(runs.find((r) => r[0] === "grun_000009")?.[5]).toBe('[\n  "les_1"\n]\u001d[]');
    // from a later start: the rows from the first run started then
    expect(ids(runsInTableOrder(db, "evidence", at(20), at(25), 4))).toEqual(expected(db, at(20), at(25)));
    expect(db.inTransaction).toBe(false);
  });
});

describe("reading the packs with a worker thread", () => {
  const texts = async (reader: AsyncIterable<string>, pause = 0) => {
    const out: string[] = [];
    for await (const text of reader) {
      out.push(text);
      if (pause > 0) await new Promise((resolve) => setTimeout(resolve, pause));
    }
    return out;
  };

  it("reads every pack in this thread when no worker runs, and ends its read transaction", async () => {
    const db = ledger(perturbed(300, 6, 5).map((i) => at(i)));
    const reader = new PackedRunReader(db, { fields: "review", from: "", until: "9999", packRows: 16 }, { path: db.name, options: {} });
    expect(db.inTransaction).toBe(true); // the plan is made, and the read begun, at once
    expect(await texts(reader)).toEqual([...packedRunsInTableOrder(db, "review", "", "9999", 16)]);
    expect(reader.packsReadHere).toBe(19); // the TypeScript sources cannot be a worker
    expect(db.inTransaction).toBe(false);
    const closed = new PackedRunReader(db, { fields: "review", from: "", until: "9999", packRows: 16 });
    closed.close();
    expect(db.inTransaction).toBe(false);
    expect(await texts(closed)).toEqual([]);
  });

  it("gives the same texts in pack order when the compiled worker reads beside this thread, and stops it when closed early", async () => {
    // The compiled module, as the CLI runs it (npm test builds first).
    const { PackedRunReader: Compiled } = (await import(new URL("../dist/store/sqlite/ledgerReader.js", import.meta.url).href)) as typeof import("../src/store/sqlite/ledgerReader.js");
    const db = ledger(perturbed(3000, 20, 9).map((i) => at(i)));
    const expectedTexts = [...packedRunsInTableOrder(db, "review", "", "9999", 32)];
    expect(expectedTexts).toHaveLength(94);
    // A pass slower than the worker: once it has booted (this thread reads meanwhile), the worker reads the rest.
    const slow = new Compiled(db, { fields: "review", from: "", until: "9999", packRows: 32 }, { path: db.name, options: {} });
    expect(await texts(slow, 5)).toEqual(expectedTexts);
    expect(slow.packsReadHere).toBeLessThan(expectedTexts.length);
    await slow.workerExited;
    // A pass that stops after the first text: the worker stops too.
    const early = new Compiled(db, { fields: "evidence", from: "", until: "9999", packRows: 32 }, { path: db.name, options: {} });
    for await (const text of early) {
      expect(text.split("\u001e")[0]?.split("\u001f")[0]).toBe("grun_000000");
      break;
    }
    await early.workerExited;
    expect(db.inTransaction).toBe(false);
  });

  it("says so when the worker cannot read", async () => {
    const { PackedRunReader: Compiled } = (await import(new URL("../dist/store/sqlite/ledgerReader.js", import.meta.url).href)) as typeof import("../src/store/sqlite/ledgerReader.js");
    const db = ledger(Array.from({ length: 400 }, (_, i) => at(i)));
    const reader = new Compiled(db, { fields: "review", from: "", until: "9999", packRows: 4 }, { path: join(db.name, "not-a-folder", "x.db"), options: {} });
    await expect(texts(reader, 5)).rejects.toThrow(/reading the ledger failed: cannot open the database/);
    expect(db.inTransaction).toBe(false);
  });
});
