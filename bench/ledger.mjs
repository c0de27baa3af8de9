// The goal-engine part of the benchmark (bench/run.mjs calls it after the sync measurements, or
// alone with --only ledger): the run ledger through the library, one run per transaction and in
// batches, against raw better-sqlite3 inserts of the same rows into a copy of the same database;
// `run start` + `run finish` through the CLI; `goalops status` once the ledger holds 1,000,000
// runs; and the CLI's cold start (`--version`).
//
// Works on the generated tree it is given (committed to git): its state/ is removed and the tree
// synced again in-process, so the database holds exactly the 10,000 goals and no runs at the start.
// Returns rows shaped like bench/run.mjs's ({ key, label, unit, median, min, max, samples, target, met }).
import { rmSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { fmtInt, median, summary } from "./stats.mjs";

const PACKAGE_ROOT = fileURLToPath(new URL("..", import.meta.url));
const require = createRequire(import.meta.url);

export const LEDGER_TARGETS = {
  record: { min: 5_000 }, // runs/s, one run per transaction
  recordMany: { min: 20_000 }, // runs/s, 1,000 runs per transaction
  status: { max: 500 }, // ms, status --json with 1,000,000 runs
  version: { max: 150 }, // ms, --version
};

const ROUNDS = 5; // rounds per throughput measurement (median and min over them)
// Each round spans more runs than come between two WAL checkpoints (every 10,000 pages: ~1,700
// runs one per transaction, ~6 batches of 1,000), so that no round's rate leaves the checkpoints out.
const RECORD_PER_ROUND = 3_500; // 5 x 3,500 = 17,500 runs one per transaction
const MANY_BATCH = 1_000;
const MANY_BATCHES_PER_ROUND = 10; // 5 x 10 x 1,000 = 50,000 runs
const CLI_PAIRS = 20;
const FILL_TOTAL = 1_000_000;
const FILL_BATCH = 10_000;
// The fill goes through recordMany for at most this long; the rest of the 1,000,000 runs are then
// inserted raw (same row shape, same database) so that the whole bench stays within a few minutes.
const FILL_LIBRARY_SECONDS = 75;
const STATUS_RUNS = 5;
const VERSION_RUNS = 10;

const OUTCOMES = ["succeeded", "succeeded", "succeeded", "succeeded", "succeeded", "succeeded", "succeeded", "failed", "failed", "partial"];
const CATEGORIES = ["interpretation_error", "planning_error", "tool_error", "execution_timeout", "verification_failure", "missing_context", "external_dependency"];
const VERIFIERS = ["passed", "failed", "skipped"];
const ACTIONS = [["read_file"], ["edit_file", "run_tests"], ["open_pr", "run_tests", "request_review"], []];

// The column list goalops's recordFinishedRuns inserts (src/store/sqlite/runOperations.ts).
const INSERT_SQL = `INSERT INTO goal_runs (run_id, goal_id, job_id, attempt, plan_summary, actions_taken, verifier_status, local_outcome,
    failure_category, metrics_before, metrics_after, duration_seconds, run_state, idempotency_key, notes, lesson_candidates,
    context_lessons, context_rules, started_at, finished_at, created_at, updated_at)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'finished', ?, ?, ?, ?, ?, ?, ?, ?, ?)`;

const elapsed = (start) => (performance.now() - start) / 1000;
// goalops's store is synchronous behind promises: without a macrotask turn now and then (outside the
// timed parts), the loops below would never let SIGINT/SIGTERM handlers (bench/run.mjs's clean-up) run.
const breathe = () => new Promise((resolve) => setImmediate(resolve));

/** A deterministic stream of finished runs over the given goals, with increasing times. */
function runFactory(goals, seed = 12_345) {
  let state = seed >>> 0;
  const rand = (n) => {
    // xorshift32
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state % n;
  };
  let clock = Date.parse("2025-06-01T00:00:00Z");
  let serial = 0;
  return () => {
    serial++;
    clock += 1_000 + rand(2_000);
    const goal = goals[rand(goals.length)];
    const outcome = OUTCOMES[rand(OUTCOMES.length)];
    const run = { goalId: goal.id, outcome, verifier: VERIFIERS[rand(VERIFIERS.length)], actions: ACTIONS[rand(ACTIONS.length)], startedAt: new Date(clock).toISOString(), finishedAt: new Date(clock + 500 + rand(60_000)).toISOString() };
    if (outcome !== "succeeded" && rand(4) !== 0) run.failureCategory = CATEGORIES[rand(CATEGORIES.length)];
    if (rand(2) === 0) run.jobId = `job-${rand(40)}`;
    if (rand(2) === 0) run.idempotencyKey = `bench-${seed}-${serial}`;
    return run;
  };
}

/** The raw row of a run: the same values goalops writes (no attempt count, no checks, no reads). */
function rawRowFactory(goalsById) {
  // Run ids as goalops makes them: grun_ + a monotonic ULID (src/ids.ts).
  const nextUlid = require("ulid").monotonicFactory();
  return (run) => {
    const goal = goalsById.get(run.goalId);
    const duration = Math.max(0, (Date.parse(run.finishedAt) - Date.parse(run.startedAt)) / 1000);
    return [
      `grun_${nextUlid()}`, run.goalId, run.jobId ?? null, 1, null, JSON.stringify(run.actions), run.verifier, run.outcome, run.failureCategory ?? null,
      goal.metrics, goal.metrics, duration, run.idempotencyKey === undefined ? null : `raw-${run.idempotencyKey}`, null, "[]", "[]", "[]", run.startedAt, run.finishedAt, run.finishedAt, run.finishedAt,
    ];
  };
}

/**
 * Runs the ledger measurements on `tree` (a generated, git-committed repository). `goalops(command,
 * tree, options)` runs the CLI as bench/run.mjs does, and `runNode(args, options)` node itself;
 * `progress` writes a line to stderr.
 */
export async function measureLedger({ tree, scratch, goalops, runNode, progress, CheckFailed }) {
  const Database = require("better-sqlite3");
  const { openGoalOps } = await import(pathToFileURL(join(PACKAGE_ROOT, "dist", "index.js")).href);

  // A fresh database: the tree's goals, no runs.
  rmSync(join(tree, "state"), { recursive: true, force: true });
  let ops = await openGoalOps({ repo: tree });
  const syncStart = performance.now();
  const synced = await ops.sync();
  progress(`ledger: synced the tree in-process (${elapsed(syncStart).toFixed(2)} s): ${JSON.stringify(synced.counts ?? synced).slice(0, 160)}`);
  const dbPath = ops.config.databasePath;

  // The goals runs are recorded on: key results and initiatives, with the key results each run's metrics name.
  const reader = new Database(dbPath, { readonly: true });
  const rows = reader.prepare("SELECT goal_id, goal_type, parent_goal_id FROM goal_definitions WHERE archived_at IS NULL AND goal_type IN ('key_result', 'initiative') ORDER BY goal_id").all();
  if (rows.length === 0) throw new CheckFailed("ledger: no key results or initiatives in the database after sync");
  const goals = rows.map((r) => ({ id: r.goal_id, type: r.goal_type, metrics: JSON.stringify({ [r.goal_type === "key_result" ? r.goal_id : r.parent_goal_id]: null }) }));
  const goalsById = new Map(goals.map((g) => [g.id, g]));
  progress(`ledger: recording runs over ${fmtInt(goals.length)} goals (${fmtInt(rows.filter((r) => r.goal_type === "key_result").length)} key results, ${fmtInt(rows.filter((r) => r.goal_type === "initiative").length)} initiatives)`);

  // The raw baseline: a copy of the same database (same goal_runs table, indexes and pragmas as goalops's connection).
  const rawPath = join(scratch, "raw.db");
  rmSync(rawPath, { force: true });
  reader.prepare("VACUUM INTO ?").run(rawPath);
  reader.close();
  const raw = new Database(rawPath);
  raw.pragma("busy_timeout = 5000");
  raw.pragma("journal_mode = WAL");
  raw.pragma("synchronous = NORMAL");
  raw.pragma("foreign_keys = ON");
  // goalops's own settings, read from the build (src/store/sqlite/database.ts), so that the two stay alike.
  const settings = await import(pathToFileURL(join(PACKAGE_ROOT, "dist", "store", "sqlite", "database.js")).href);
  raw.pragma(`wal_autocheckpoint = ${settings.WAL_AUTOCHECKPOINT_PAGES}`);
  raw.pragma(`journal_size_limit = ${settings.JOURNAL_SIZE_LIMIT_BYTES}`);
  raw.pragma(`cache_size = -${settings.DEFAULT_CACHE_KIB}`);
  const rawIndexes = raw.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'goal_runs' ORDER BY name").pluck().all();
  progress(`ledger: raw copy ${rawPath}, goal_runs indexes: ${rawIndexes.join(", ")}`);
  const rawInsert = raw.prepare(INSERT_SQL);
  const rawOne = raw.transaction((row) => rawInsert.run(...row));
  const rawMany = raw.transaction((batch) => {
    for (const row of batch) rawInsert.run(...row);
  });

  const nextRun = runFactory(goals);
  const rawRow = rawRowFactory(goalsById);
  let recorded = 0;

  // Warm-up (not measured): statements prepared, pages cached, JIT warm.
  for (let i = 0; i < 200; i++) await ops.runs.record(nextRun());
  await ops.runs.recordMany(Array.from({ length: MANY_BATCH }, nextRun));
  recorded += 200 + MANY_BATCH;
  for (let i = 0; i < 200; i++) rawOne.immediate(rawRow(nextRun()));
  rawMany.immediate(Array.from({ length: MANY_BATCH }, () => rawRow(nextRun())));

  // (1) and (3a): one run per transaction, goalops and raw rounds interleaved.
  const m = { record: [], rawOne: [], many: [], rawMany: [] };
  for (let round = 0; round < ROUNDS; round++) {
    const inputs = Array.from({ length: RECORD_PER_ROUND }, nextRun);
    let start = performance.now();
    for (const run of inputs) await ops.runs.record(run);
    m.record.push(RECORD_PER_ROUND / elapsed(start));
    recorded += RECORD_PER_ROUND;
    const rawInputs = Array.from({ length: RECORD_PER_ROUND }, nextRun);
    start = performance.now();
    for (const run of rawInputs) rawOne.immediate(rawRow(run));
    m.rawOne.push(RECORD_PER_ROUND / elapsed(start));
    await breathe();
    progress(`ledger: one per transaction, round ${round + 1}/${ROUNDS}: goalops ${fmtInt(m.record.at(-1))} runs/s, raw ${fmtInt(m.rawOne.at(-1))} rows/s`);
  }

  // (2) and (3b): batches of 1,000.
  for (let round = 0; round < ROUNDS; round++) {
    const batches = Array.from({ length: MANY_BATCHES_PER_ROUND }, () => Array.from({ length: MANY_BATCH }, nextRun));
    let start = performance.now();
    for (const batch of batches) await ops.runs.recordMany(batch);
    const n = MANY_BATCH * MANY_BATCHES_PER_ROUND;
    m.many.push(n / elapsed(start));
    recorded += n;
    const rawBatches = Array.from({ length: MANY_BATCHES_PER_ROUND }, () => Array.from({ length: MANY_BATCH }, nextRun));
    start = performance.now();
    for (const batch of rawBatches) rawMany.immediate(batch.map(rawRow));
    m.rawMany.push(n / elapsed(start));
    await breathe();
    progress(`ledger: batches of ${fmtInt(MANY_BATCH)}, round ${round + 1}/${ROUNDS}: goalops ${fmtInt(m.many.at(-1))} runs/s, raw ${fmtInt(m.rawMany.at(-1))} rows/s`);
  }
  raw.close();
  rmSync(rawPath, { force: true });
  rmSync(`${rawPath}-wal`, { force: true });
  rmSync(`${rawPath}-shm`, { force: true });

  // (4) the CLI: run start + run finish, each a process. The library lets go of the database meanwhile.
  await ops.close();
  m.cliPair = [];
  for (let i = 0; i < CLI_PAIRS; i++) {
    const goal = goals[(i * 7919) % goals.length];
    const s = goalops(["run", "start", goal.id], tree, { label: "goalops run start", scratch });
    const runId = s.stdout.trim();
    if (!/^grun_[0-9A-Z]{26}$/.test(runId)) throw new CheckFailed(`goalops run start printed '${runId.slice(0, 200)}', not a run id`);
    const f = goalops(["run", "finish", runId, "--outcome", i % 4 === 3 ? "failed" : "succeeded"], tree, { label: "goalops run finish", scratch });
    m.cliPair.push(1 / (s.seconds + f.seconds));
    recorded++;
  }
  progress(`ledger: CLI run start + finish: median ${fmtInt(median(m.cliPair))} runs/s over ${CLI_PAIRS} pairs`);

  // (5) fill the ledger to 1,000,000 runs with batches of 10,000, then time `status --json`.
  ops = await openGoalOps({ repo: tree });
  const fillStart = performance.now();
  let filled = 0;
  m.fillBatch = [];
  let nextReport = 100_000;
  while (recorded < FILL_TOTAL && elapsed(fillStart) < FILL_LIBRARY_SECONDS) {
    const n = Math.min(FILL_BATCH, FILL_TOTAL - recorded);
    const batch = Array.from({ length: n }, nextRun);
    const start = performance.now();
    await ops.runs.recordMany(batch);
    m.fillBatch.push(n / elapsed(start));
    await breathe();
    recorded += n;
    filled += n;
    if (recorded >= nextReport) {
      progress(`ledger: filled to ${fmtInt(recorded)} runs (${fmtInt(filled / elapsed(fillStart))} runs/s overall, last batch ${fmtInt(m.fillBatch.at(-1))} runs/s)`);
      nextReport += 100_000;
    }
  }
  const fillSeconds = elapsed(fillStart);
  await ops.close();
  // The rest (if recordMany did not get there in time): raw inserts into the goalops database.
  let topUp = 0;
  if (recorded < FILL_TOTAL) {
    const topUpStart = performance.now();
    const db = new Database(dbPath);
    db.pragma("journal_mode = WAL");
    db.pragma("synchronous = NORMAL");
    const insert = db.prepare(INSERT_SQL);
    const many = db.transaction((batch) => {
      for (const row of batch) insert.run(...row);
    });
    while (recorded < FILL_TOTAL) {
      const n = Math.min(FILL_BATCH, FILL_TOTAL - recorded);
      many.immediate(Array.from({ length: n }, () => rawRow(nextRun())));
      recorded += n;
      topUp += n;
      await breathe();
    }
    db.pragma("wal_checkpoint(TRUNCATE)");
    db.close();
    progress(`ledger: recordMany reached ${fmtInt(FILL_TOTAL - topUp)} runs in ${fillSeconds.toFixed(0)} s; inserted the other ${fmtInt(topUp)} raw (same rows, same database) in ${elapsed(topUpStart).toFixed(1)} s`);
  }
  const check = new Database(dbPath, { readonly: true });
  const count = check.prepare("SELECT COUNT(*) FROM goal_runs").pluck().get();
  const finished = check.prepare("SELECT COUNT(*) FROM goal_runs WHERE run_state = 'finished'").pluck().get();
  check.close();
  if (count !== FILL_TOTAL) throw new CheckFailed(`ledger: goal_runs holds ${fmtInt(count)} runs after the fill, expected ${fmtInt(FILL_TOTAL)}`);
  progress(`ledger: ${fmtInt(count)} runs (${fmtInt(finished)} finished); filled ${fmtInt(filled)} in ${fillSeconds.toFixed(1)} s`);

  m.status = [];
  for (let i = -1; i < STATUS_RUNS; i++) {
    const r = goalops(["status", "--json"], tree, { label: "goalops status --json", scratch });
    let report;
    try {
      report = JSON.parse(r.stdout);
    } catch {
      throw new CheckFailed(`goalops status --json printed no JSON:\n${r.stdout.slice(0, 400)}`);
    }
    if (!Array.isArray(report.goals) || !Array.isArray(report.recentRuns) || report.recentRuns.length === 0) throw new CheckFailed("goalops status --json: no goals or no recent runs in the report");
    if (i < 0) {
      progress(`ledger: status --json warm-up: ${(r.seconds * 1000).toFixed(0)} ms, ${(r.stdout.length / 1e6).toFixed(1)} MB of JSON`);
      continue;
    }
    m.status.push(r);
    progress(`ledger: status --json ${i + 1}/${STATUS_RUNS}: ${(r.seconds * 1000).toFixed(0)} ms${r.rssMb === null ? "" : `, ${r.rssMb.toFixed(0)} MB`}`);
  }

  // (6) cold start.
  // Node's own start (`node -e 0`) interleaved with --version: how much of the cold start is goalops's.
  m.version = [];
  m.nodeStart = [];
  for (let i = -1; i < VERSION_RUNS; i++) {
    const r = runVersion(goalops, tree, scratch);
    const n = runNode(["-e", "0"], { cwd: tree, label: "node -e 0", scratch });
    if (i < 0) continue;
    m.version.push(r);
    m.nodeStart.push(n);
  }
  const msList = (runs) => runs.map((r) => (r.seconds * 1000).toFixed(0)).join(", ");
  progress(`ledger: --version median ${(median(m.version.map((r) => r.seconds)) * 1000).toFixed(0)} ms (${msList(m.version)}); node -e 0 median ${(median(m.nodeStart.map((r) => r.seconds)) * 1000).toFixed(0)} ms (${msList(m.nodeStart)})`);

  return buildLedgerRows(m, { fillSeconds, filled, topUp });
}

function runVersion(goalops, tree, scratch) {
  // --version needs no repository; run it the way a user would (goalops --version), from the tree.
  const r = goalops(["--version"], tree, { label: "goalops --version", scratch });
  if (!/^\d+\.\d+\.\d+/.test(r.stdout.trim())) throw new Error(`goalops --version printed '${r.stdout.trim()}'`);
  return r;
}

function buildLedgerRows(m, { fillSeconds, filled, topUp }) {
  const rows = [];
  const rate = (key, label, samples, min) => {
    rows.push({ key, label, unit: "runs/s", ...summary(samples), target: min === undefined ? null : `>= ${fmtInt(min)} runs/s`, met: min === undefined ? null : median(samples) >= min });
  };
  const percent = (key, label, goalops, raw) => {
    const paired = goalops.map((g, i) => (100 * g) / raw[i]);
    rows.push({ key, label, unit: "%", ...summary(paired), target: null, met: null });
  };
  const ms = (key, label, measured, max) => {
    const s = summary(measured.map((r) => r.seconds * 1000));
    const cpu = measured.every((r) => r.cpuSeconds !== null) ? summary(measured.map((r) => r.cpuSeconds)) : null;
    rows.push({ key, label, unit: "ms", ...s, cpuSeconds: cpu, target: max === undefined ? null : `<= ${max} ms`, met: max === undefined ? null : s.median <= max });
  };
  rate("ledger_record", `library ops.runs.record, one run per transaction (${fmtInt(ROUNDS * RECORD_PER_ROUND)} runs)`, m.record, LEDGER_TARGETS.record.min);
  rate("ledger_record_many", `library ops.runs.recordMany, batches of ${fmtInt(MANY_BATCH)} (${fmtInt(ROUNDS * MANY_BATCH * MANY_BATCHES_PER_ROUND)} runs)`, m.many, LEDGER_TARGETS.recordMany.min);
  // The rate over all rounds together (runs / seconds), beside the median of the rounds.
  const overall = (key, label, samples) => rows.push({ key, label, unit: "runs/s", median: samples.length / samples.reduce((sum, r) => sum + 1 / r, 0), min: null, max: null, samples: [], target: null, met: null });
  overall("ledger_record_overall", "library ops.runs.record, one per transaction: all rounds together (info)", m.record);
  overall("ledger_record_many_overall", "library ops.runs.recordMany: all rounds together (info)", m.many);
  rate("raw_one", "raw better-sqlite3 INSERT, one row per BEGIN IMMEDIATE (reference)", m.rawOne);
  rate("raw_batched", `raw better-sqlite3 INSERT, ${fmtInt(MANY_BATCH)} rows per transaction (reference)`, m.rawMany);
  percent("ratio_record_raw", "record / raw, one per transaction (info)", m.record, m.rawOne);
  percent("ratio_record_many_raw", `recordMany / raw, ${fmtInt(MANY_BATCH)} per transaction (info)`, m.many, m.rawMany);
  rate("cli_run_pair", `CLI run start + run finish, 2 processes per run (${CLI_PAIRS} runs, info)`, m.cliPair);
  const fillLabel = `library recordMany, batches of ${fmtInt(FILL_BATCH)}, filling the ledger (${fmtInt(filled)} runs in ${fillSeconds.toFixed(0)} s, from ${fmtInt(FILL_TOTAL - topUp - filled)} to ${fmtInt(FILL_TOTAL - topUp)} runs${topUp > 0 ? `; the last ${fmtInt(topUp)} inserted raw` : ""}; info)`;
  rows.push({ key: "ledger_fill", label: fillLabel, unit: "runs/s", ...summary(m.fillBatch), overall: filled / fillSeconds, filledByLibrary: filled, filledRaw: topUp, target: null, met: null });
  ms("status_1m", `goalops status --json, 10,000 goals, ${fmtInt(FILL_TOTAL)} runs (median of ${STATUS_RUNS})`, m.status, LEDGER_TARGETS.status.max);
  const rss = m.status.map((r) => r.rssMb);
  if (rss.every((v) => v !== null)) rows.push({ key: "rss_status_1m", label: "peak RSS, status --json with 1,000,000 runs (info)", unit: "MB", ...summary(rss), target: null, met: null });
  ms("version", `goalops --version, CLI cold start (median of ${VERSION_RUNS})`, m.version, LEDGER_TARGETS.version.max);
  ms("node_start", `node -e 0, Node's own start, interleaved with --version (reference)`, m.nodeStart);
  return rows;
}
