// The continuity part of the benchmark (bench/run.mjs calls it after the other parts, or alone with
// --only continuity): the real `goalops daemon`'s startup reconciliation and shutdown (issue 6) over
// a large database, measured by the daemon's own reports and from outside.
//
// The repository is bench/run.mjs's generated tree (10,000 goal files, committed to git; goal files
// a previous part edited are checked out again), synced with `goalops sync` into a fresh database.
// A copy of that database is then filled with raw better-sqlite3 inserts (one transaction per 50,000
// rows) from a seeded PRNG, times relative to now:
//   - --continuity-runs finished runs (default 1,000,000) over the key results and initiatives,
//     started over the last 90 days (time-ordered grun_ ULIDs): outcomes succeeded 70% / failed 20%
//     / partial 10% with verifier results and failure categories to match, scheduled jobs and
//     retries (job ids, attempts), idempotency keys, a dispatch record on a quarter of them, and a
//     checkpoint on 15% (a third of those interrupted and resumed once);
//   - --continuity-in-flight runs in flight (default 1,000; run_state 'running'), started over the
//     last 3 hours on active goals, every other one with a checkpoint_ref and checkpoint_state
//     (resumable), the rest never checkpointed; none dispatched by the daemon (agents reporting
//     through the API), so no orphaned processes to look for;
//   - --continuity-loops open loops (default 10,000): retry (35%, 40% of them due, pointing at a
//     recent failed run), clarification (30%, half without a due time) and follow_up (35%, half
//     due), due times in the past from 1 minute to 14 days and in the future from 1 hour;
//   - 20 values per key result over the 90 days (the shutdown snapshots the latest of each).
// Then a WAL checkpoint: the filled copy is a single file.
//
// Measured: the daemon (`node dist/cli/main.js daemon --port 0 --log-format json` in the tree) is
// started 3 times after an unclean stop and 3 times after a clean one, interleaved, each time on a
// fresh copy of the filled database with goalops_meta's last_start_at / last_clean_shutdown_at set
// for the kind of stop (the startup reconciliation decides on those). Each start: wait for the
// 'listening' log line (spawn to listening, VmHWM of /proc/<pid>/status then: the peak RSS of the
// start), wait for the scheduler's line, settle 2 s, SIGTERM (signal to exit, wall clock), then
// `goalops report reconcile --json` and `goalops report shutdown --json` for the daemon's own
// figures (duration_ms and each step's ms). After an unclean stop the runs in flight are marked
// interrupted, those with a checkpoint resumed and the rest parked; after a clean stop they are left
// running, so its shutdown has --continuity-in-flight runs to checkpoint (that is the shutdown
// measured against the target). The reports' counts are checked against what was inserted.
//
// Returns { rows, details } for bench/run.mjs's report (continuityMarkdown below renders it).
import { spawn, spawnSync } from "node:child_process";
import { copyFileSync, readFileSync, rmSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { loadavg } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { followDaemonLog, tailText, terminate } from "./daemonLog.mjs";
import { prng, ulidAt } from "./generateTree.mjs";
import { fmtInt, measurementTable, median, summary } from "./stats.mjs";

const PACKAGE_ROOT = fileURLToPath(new URL("..", import.meta.url));
const CLI = join(PACKAGE_ROOT, "dist", "cli", "main.js");
const require = createRequire(import.meta.url);

/** Issue 6: startup reconciliation and shutdown, in ms; they apply at the issue's sizes (ISSUE_SIZES). */
export const CONTINUITY_TARGETS = { reconcileMs: 1_000, shutdownMs: 2_000 };
export const CONTINUITY_DEFAULTS = { runs: 1_000_000, loops: 10_000, inFlight: 1_000 };
const ISSUE_SIZES = { goalFiles: 10_000, ...CONTINUITY_DEFAULTS };

const REPEATS = 3; // starts of each kind (unclean, clean), interleaved
const FILL_BATCH = 50_000;
const HISTORY_DAYS = 90;
const IN_FLIGHT_HOURS = 3;
const KR_VALUES = 20; // per key result
const SETTLE_MS = 2_000;
const LISTEN_TIMEOUT_MS = 180_000;
const SCHEDULER_TIMEOUT_MS = 15_000;
const STOP_TIMEOUT_MS = 40_000; // the daemon's own shutdown deadline is 30 s
const CLK_TCK = 100; // /proc/<pid>/stat clock ticks per second (USER_HZ)
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const breathe = () => new Promise((resolve) => setImmediate(resolve));
const elapsed = (start) => (performance.now() - start) / 1000;
const fmtMs = (ms) => (ms < 10 ? `${ms.toFixed(1)} ms` : `${fmtInt(ms)} ms`);
const fmtSeconds = (s) => (s < 1 ? `${s.toFixed(3)} s` : `${s.toFixed(2)} s`);

// ---------------------------------------------------------------------------------------------
// The rows' vocabulary
// ---------------------------------------------------------------------------------------------

const ACTIONS = ["read_ledger", "run_tests", "edit_repository", "posthog.query", "crm.update", "send_message", "crm.read", "deploy.staging"];
const CATEGORIES = ["tool_error", "tool_error", "external_dependency", "external_dependency", "execution_timeout", "verification_failure", "missing_context", "interpretation_error", "planning_error", "resource_limit"];
const PLANS = ["query the ledger, then update the CRM", "rerun the failed step with backoff", "split the work into weekly batches", "draft, verify, then send", "read the open loops first", "patch, then run the tests"];
const NOTES = ["the CRM answered 429 three times", "the query ran past 30 s", "the verifier found two failing checks", "the tool exited with status 137"];
const CLARIFICATIONS = ["Which contact is meant: two match the name in the request.", "Should the weekly report include the staging numbers?", "The target moved last quarter; confirm the new baseline.", "May the agent send the announcement without a review?"];
const FOLLOW_UPS = ["Check the conversion numbers again once the weekly batch has run.", "Confirm the CRM import finished and the counts match.", "Look at the error budget after the deploy settles.", "Ask for feedback on the draft sent yesterday."];


const iso = (ms) => new Date(ms).toISOString();

// ---------------------------------------------------------------------------------------------
// Filling the database
// ---------------------------------------------------------------------------------------------

const RUN_SQL = `INSERT INTO goal_runs (run_id, goal_id, job_id, attempt, plan_summary, actions_taken, verifier_status, local_outcome,
    business_outcome, failure_category, metrics_before, metrics_after, duration_seconds, checkpoint_ref, run_state, idempotency_key,
    notes, lesson_candidates, context_lessons, context_rules, started_at, finished_at, created_at, updated_at,
    checkpoint_state, checkpointed_at, interrupted_at, parked_reason, resumed_at, resume_count, dispatch)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '[]', '[]', '[]', ?, ?, ?, ?, ?, ?, ?, NULL, ?, ?, ?)`;
const LOOP_SQL = `INSERT INTO open_loops (loop_id, goal_id, run_id, kind, description, loop_state, due_at, attempts, created_at, updated_at)
  VALUES (?, ?, ?, ?, ?, 'open', ?, ?, ?, ?)`;
const KR_SQL = "INSERT INTO key_results (goal_id, value, recorded_at, source, run_id, created_at) VALUES (?, ?, ?, ?, NULL, ?)";

/** The metrics a run of this goal records: its key result's value, before and after. */
function metricsOf(goal, rng) {
  if (goal.kr === null) return [null, null];
  const before = Math.round(rng.next() * 1000) / 10;
  const after = rng.next() < 0.3 ? Math.round((before + (rng.next() - 0.4) * 5) * 10) / 10 : before;
  return [`{"${goal.kr}":${before}}`, `{"${goal.kr}":${after}}`];
}

/** One finished run started at `startedMs` (a row for RUN_SQL); `failed` is set when it did not succeed. */
function finishedRun(rng, goals, startedMs, serial, seed) {
  const goal = goals[Math.floor(rng.next() ** 1.3 * goals.length)];
  const runId = ulidAt("grun_", startedMs, rng);
  const r = rng.next();
  const outcome = r < 0.7 ? "succeeded" : r < 0.9 ? "failed" : "partial";
  const category = outcome === "succeeded" ? null : CATEGORIES[Math.floor(rng.next() * CATEGORIES.length)];
  const v = rng.next();
  const verifier = outcome === "succeeded" ? (v < 0.85 ? "passed" : v < 0.97 ? "skipped" : "failed") : v < 0.5 ? "failed" : v < 0.8 ? "skipped" : "passed";
  const b = rng.next();
  const business = b < 0.8 ? "unknown" : outcome === "succeeded" ? (b < 0.93 ? "improved" : "neutral") : b < 0.9 ? "neutral" : "degraded";
  const actions = [];
  const count = 1 + Math.floor(rng.next() * 3);
  while (actions.length < count) {
    const a = ACTIONS[Math.floor(rng.next() * ACTIONS.length)];
    if (!actions.includes(a)) actions.push(a);
  }
  const durationMs = 5_000 + Math.floor(rng.next() ** 3 * 900_000);
  const finishedMs = startedMs + durationMs;
  const scheduled = rng.next() < 0.4;
  const a = rng.next();
  const attempt = a < 0.9 ? 1 : a < 0.98 ? 2 : 3;
  const [metricsBefore, metricsAfter] = metricsOf(goal, rng);
  // Some runs saved a checkpoint on the way; a third of those were interrupted by a stop and resumed.
  let checkpointRef = null;
  let checkpointState = null;
  let checkpointedAt = null;
  let interruptedAt = null;
  let resumedAt = null;
  let resumeCount = 0;
  if (rng.next() < 0.15) {
    const step = 1 + Math.floor(rng.next() * 6);
    const atMs = startedMs + Math.floor(durationMs * rng.next());
    checkpointRef = `checkpoints/${runId}/step-${step}`;
    checkpointState = `{"step":${step},"of":${step + 2},"cursor":"page-${Math.floor(rng.next() * 500)}"}`;
    checkpointedAt = iso(atMs);
    if (rng.next() < 1 / 3) {
      interruptedAt = iso(atMs + 1_000);
      resumedAt = iso(atMs + 60_000);
      resumeCount = 1;
    }
  }
  const dispatch = rng.next() < 0.25
    ? `{"command":["agent","run","--goal","${goal.id}"],"pid":${10_000 + Math.floor(rng.next() * 50_000)},"started_at":"${iso(startedMs)}","exit_code":${outcome === "succeeded" ? 0 : 1},"signal":null,"timed_out":false,"stdout_tail":"done: ${outcome}\\n","stderr_tail":"","finished_at":"${iso(finishedMs)}"}`
    : null;
  const row = [
    runId, goal.id, scheduled ? `job_${goal.id.slice(-6)}_${attempt > 1 ? "retry" : "review"}` : null, attempt, rng.next() < 0.3 ? PLANS[Math.floor(rng.next() * PLANS.length)] : null,
    JSON.stringify(actions), verifier, outcome, business, category, metricsBefore, metricsAfter, durationMs / 1000, checkpointRef, "finished",
    rng.next() < 0.3 ? `bench-${seed}-${serial}` : null, outcome !== "succeeded" && rng.next() < 0.1 ? NOTES[Math.floor(rng.next() * NOTES.length)] : null,
    iso(startedMs), iso(finishedMs), iso(startedMs), iso(finishedMs), checkpointState, checkpointedAt, interruptedAt, resumedAt, resumeCount, dispatch,
  ];
  return { row, failed: outcome === "succeeded" ? null : { runId, goalId: goal.id, category } };
}

/** One run in flight, started at `startedMs`; every other one has saved a checkpoint. */
function inFlightRun(rng, goals, startedMs, index, now) {
  const goal = goals[Math.floor(rng.next() * goals.length)];
  const runId = ulidAt("grun_", startedMs, rng);
  const checkpointed = index % 2 === 0;
  const step = 1 + Math.floor(rng.next() * 5);
  const checkpointedMs = startedMs + Math.floor((now - MINUTE - startedMs) * rng.next());
  const [metricsBefore] = metricsOf(goal, rng);
  return [
    runId, goal.id, rng.next() < 0.5 ? `job_${goal.id.slice(-6)}_review` : null, 1, rng.next() < 0.5 ? PLANS[Math.floor(rng.next() * PLANS.length)] : null,
    "[]", null, null, "unknown", null, metricsBefore, null, null, checkpointed ? `checkpoints/${runId}/step-${step}` : null, "running", null, null,
    iso(startedMs), null, iso(startedMs), iso(checkpointed ? checkpointedMs : startedMs),
    checkpointed ? `{"step":${step},"of":${step + 3},"cursor":"page-${Math.floor(rng.next() * 500)}","notes":"resume from the last page read"}` : null,
    checkpointed ? iso(checkpointedMs) : null, null, null, 0, null,
  ];
}

/**
 * Fills the database at `path` (a copy of the synced one): finished runs, runs in flight, open
 * loops, key-result values. Returns what was inserted (the counts the daemon's reports must show).
 */
async function fillDatabase(Database, path, { goals, activeGoals, keyResults, runs, inFlight, loops, seed, now, progress }) {
  const rng = prng(seed ^ 0x5eed);
  const db = new Database(path);
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = OFF");
  db.pragma("cache_size = -262144");
  const insertRun = db.prepare(RUN_SQL);
  const insertLoop = db.prepare(LOOP_SQL);
  const insertKr = db.prepare(KR_SQL);
  const start = performance.now();

  // Finished runs, strictly increasing start times over [now - 90 days, now - 3 hours).
  const from = now - HISTORY_DAYS * DAY;
  const to = now - IN_FLIGHT_HOURS * HOUR;
  const step = Math.floor((to - from) / runs);
  if (step < 1) throw new Error(`${runs} runs do not fit in ${HISTORY_DAYS} days at one per millisecond`);
  const recentFailures = []; // failed runs of the last tenth, for the retry loops
  let failedRuns = 0;
  const batch = db.transaction((lo, hi) => {
    for (let i = lo; i < hi; i++) {
      const { row, failed } = finishedRun(rng, goals, from + i * step + Math.floor(rng.next() * step), i, seed);
      insertRun.run(row);
      if (failed !== null) {
        failedRuns++;
        if (i >= runs * 0.9) recentFailures.push(failed);
      }
    }
  });
  let nextReport = 200_000;
  for (let lo = 0; lo < runs; lo += FILL_BATCH) {
    const hi = Math.min(runs, lo + FILL_BATCH);
    batch.immediate(lo, hi);
    if (hi >= nextReport || hi === runs) {
      progress(`continuity: inserted ${fmtInt(hi)} of ${fmtInt(runs)} finished runs (${fmtInt(hi / elapsed(start))} rows/s)`);
      nextReport += 200_000;
    }
    await breathe();
  }
  const runsSeconds = elapsed(start);

  // Runs in flight, over the last 3 hours, on active goals.
  const flightStep = Math.floor((IN_FLIGHT_HOURS * HOUR - 2 * MINUTE) / inFlight);
  db.transaction(() => {
    for (let i = 0; i < inFlight; i++) insertRun.run(inFlightRun(rng, activeGoals, to + i * flightStep + Math.floor(rng.next() * flightStep), i, now));
  }).immediate();

  // Open loops. Past due times end a minute before now and future ones start an hour after: the
  // daemon started within the hour counts exactly the past ones as due.
  const counts = { retry: { open: 0, due: 0 }, clarification: { open: 0, due: 0 }, follow_up: { open: 0, due: 0 } };
  const past = (maxMs) => now - MINUTE - Math.floor(rng.next() * (maxMs - MINUTE));
  const future = (maxMs) => now + HOUR + Math.floor(rng.next() * (maxMs - HOUR));
  const loopRows = [];
  for (let i = 0; i < loops; i++) {
    const k = rng.next();
    const kind = k < 0.35 ? "retry" : k < 0.65 ? "clarification" : "follow_up";
    const failure = recentFailures.length > 0 ? recentFailures[Math.floor(rng.next() * recentFailures.length)] : null;
    const goal = goals[Math.floor(rng.next() * goals.length)];
    let dueMs;
    let goalId = goal.id;
    let runId = null;
    let description;
    let attempts = 0;
    if (kind === "retry") {
      if (failure !== null) {
        goalId = failure.goalId;
        runId = failure.runId;
      }
      dueMs = rng.next() < 0.4 ? past(6 * HOUR) : future(2 * DAY);
      attempts = Math.floor(rng.next() * 3);
      description = `retry after ${failure?.category ?? "tool_error"} (attempt ${attempts + 1} of 3)`;
    } else if (kind === "clarification") {
      const d = rng.next();
      dueMs = d < 0.5 ? null : d < 0.75 ? past(3 * DAY) : future(7 * DAY);
      description = CLARIFICATIONS[Math.floor(rng.next() * CLARIFICATIONS.length)];
      if (failure !== null && rng.next() < 0.3) {
        goalId = failure.goalId;
        runId = failure.runId;
      }
    } else {
      dueMs = rng.next() < 0.5 ? past(14 * DAY) : future(14 * DAY);
      description = FOLLOW_UPS[Math.floor(rng.next() * FOLLOW_UPS.length)];
      if (failure !== null && rng.next() < 0.5) {
        goalId = failure.goalId;
        runId = failure.runId;
      }
    }
    const createdMs = Math.min(dueMs ?? now, now) - HOUR - Math.floor(rng.next() * 30 * DAY);
    counts[kind].open++;
    if (dueMs !== null && dueMs <= now) counts[kind].due++;
    loopRows.push([ulidAt("loop_", createdMs, rng), goalId, runId, kind, description, dueMs === null ? null : iso(dueMs), attempts, iso(createdMs), iso(createdMs)]);
  }
  db.transaction(() => {
    for (const row of loopRows) insertLoop.run(row);
  }).immediate();

  // Key-result values, evenly over the history.
  db.transaction(() => {
    for (const kr of keyResults) {
      let value = kr.baseline ?? 0;
      for (let j = 0; j < KR_VALUES; j++) {
        value = Math.round((value + (rng.next() - 0.4) * Math.max(1, Math.abs(value) * 0.02)) * 10) / 10;
        const at = iso(from + Math.floor(((j + rng.next()) * (now - from)) / KR_VALUES));
        insertKr.run(kr.goal_id, value, at, "ingest:posthog", at);
      }
    }
  }).immediate();
  const seconds = elapsed(start);

  db.pragma("wal_checkpoint(TRUNCATE)");
  const inDb = {
    runs: db.prepare("SELECT COUNT(*) FROM goal_runs").pluck().get(),
    running: db.prepare("SELECT COUNT(*) FROM goal_runs WHERE run_state = 'running'").pluck().get(),
    withCheckpoint: db.prepare("SELECT COUNT(*) FROM goal_runs WHERE run_state = 'running' AND checkpoint_ref IS NOT NULL").pluck().get(),
    openLoops: db.prepare("SELECT COUNT(*) FROM open_loops WHERE loop_state = 'open'").pluck().get(),
  };
  db.close();
  return {
    seconds,
    runsSeconds,
    rows: runs + inFlight + loops + keyResults.length * KR_VALUES,
    bytes: statSync(path).size,
    failedRuns,
    inFlight: { total: inFlight, withCheckpoint: Math.ceil(inFlight / 2) },
    loops: counts,
    loopsDue: counts.retry.due + counts.clarification.due + counts.follow_up.due,
    krValues: keyResults.length * KR_VALUES,
    inDb,
  };
}

/** A fresh copy of `master` where the tree's goalops looks for its database, marked for a clean or an unclean stop. */
function installDatabase(Database, master, tree, stop) {
  const target = join(tree, "state", "goalops.db");
  for (const suffix of ["", "-wal", "-shm"]) rmSync(`${target}${suffix}`, { force: true });
  rmSync(join(tree, "state", "daemon.lock"), { force: true });
  copyFileSync(master, target);
  const now = Date.now();
  // Unclean: the previous daemon started an hour ago and wrote no clean-shutdown mark after that.
  const marks = stop === "unclean" ? { last_start_at: iso(now - HOUR), last_clean_shutdown_at: iso(now - DAY) } : { last_start_at: iso(now - HOUR), last_clean_shutdown_at: iso(now - MINUTE) };
  const db = new Database(target);
  const set = db.prepare("INSERT INTO goalops_meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value");
  for (const [key, value] of Object.entries(marks)) set.run(key, value);
  db.pragma("wal_checkpoint(TRUNCATE)");
  db.close();
  for (const suffix of ["-wal", "-shm"]) rmSync(`${target}${suffix}`, { force: true });
  return marks;
}

// ---------------------------------------------------------------------------------------------
// The daemon process and its log
// ---------------------------------------------------------------------------------------------

/** VmRSS, VmHWM (MB) and CPU seconds (user + system) of a process, from /proc. */
function procStats(pid) {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (name) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? Number.NaN);
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return { rssMb: kb("VmRSS") / 1024, hwmMb: kb("VmHWM") / 1024, cpuSeconds: (Number(fields[11]) + Number(fields[12])) / CLK_TCK };
}

// The log lines waited for or timed, by how their message starts.
const MARKS = [
  ["starting", "goalops daemon starting"],
  ["listening", "listening"],
  ["startSync", "synced (daemon:start)"],
  ["reconciled", "startup reconciliation done"],
  ["scheduler", "scheduler:"],
  ["shuttingDown", "shutting down"],
  ["shutdownSummary", "shutdown summary"],
  ["stopped", "stopped cleanly"],
];

function startDaemon({ tree, env, CheckFailed }) {
  const args = [CLI, "daemon", "--port", "0", "--log-format", "json"];
  const spawnedAt = performance.now();
  const child = spawn(process.execPath, args, { cwd: tree, env, stdio: ["ignore", "pipe", "pipe"] });
  const killOnExit = () => child.kill("SIGKILL");
  process.once("exit", killOnExit); // bench/run.mjs's signal handler exits: never leave the daemon behind

  const waiting = new Map();
  const followed = followDaemonLog(child, {
    onEntry: (entry, msg) => {
      for (const [name, prefix] of MARKS) {
        if (!msg.startsWith(prefix) || log.marks[name] !== undefined) continue;
        log.marks[name] = { at: performance.now(), entry };
        waiting.get(name)?.(log.marks[name]);
      }
    },
    // Grouped by message shape (ids and numbers folded), with the first example kept.
    shape: (msg) => msg.replace(/\b(grun|goal|loop)_[0-9A-Z]{26}\b/g, "<$1>").replace(/\d{4}-\d\d-\d\dT[\d:.]+Z/g, "<time>").replace(/\d+/g, "N"),
  });
  const log = Object.assign(followed.log, { marks: {} });
  let exitAt = null;
  const exited = new Promise((resolve) => {
    child.once("exit", (code, signal) => {
      exitAt = performance.now();
      process.off("exit", killOnExit);
      resolve({ code, signal });
    });
  });
  const closed = new Promise((resolve) => {
    child.once("close", () => {
      followed.flush();
      resolve();
    });
  });
  const spawnError = new Promise((_, reject) => child.once("error", (error) => reject(new CheckFailed(`continuity: could not start ${process.execPath}: ${error.message}`))));
  spawnError.catch(() => undefined);

  /** The log line `name` (MARKS), or: a CheckFailed when `required`, else null, after `timeoutMs`. */
  const waitFor = async (name, timeoutMs, required) => {
    if (log.marks[name] !== undefined) return log.marks[name];
    const seen = new Promise((resolve) => waiting.set(name, resolve));
    let timer;
    const timeout = new Promise((resolve, reject) => {
      timer = setTimeout(() => (required ? reject(new CheckFailed(`continuity: no '${MARKS.find(([n]) => n === name)[1]}' log line from the daemon within ${timeoutMs / 1000} s`)) : resolve(null)), timeoutMs);
    });
    const died = exited.then(({ code, signal }) => {
      if (!required) return null;
      throw new CheckFailed(`continuity: the daemon exited (${signal ?? `status ${code}`}) before its '${name}' log line\n${tailText(log.stderr)}`);
    });
    try {
      return await Promise.race([seen, timeout, died, spawnError]);
    } finally {
      clearTimeout(timer);
      waiting.delete(name);
    }
  };

  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) {
      await closed;
      return { ...(await exited), alreadyExited: true, ms: 0, killedAfterTimeout: false };
    }
    const signalledAt = performance.now();
    const { code, signal, killedAfterTimeout } = await terminate(child, exited, STOP_TIMEOUT_MS);
    await closed;
    return { code, signal, ms: exitAt - signalledAt, signalledAt, killedAfterTimeout };
  };

  return { child, args, spawnedAt, log, waitFor, stop };
}


// ---------------------------------------------------------------------------------------------
// One start and stop
// ---------------------------------------------------------------------------------------------

const logTime = (mark) => (mark === undefined ? null : Date.parse(mark.entry.time));
const between = (from, to) => (from === null || to === null ? null : to - from);

/**
 * Starts the daemon on a fresh copy of `master` marked for a `stop` ('clean' or 'unclean'), lets it
 * settle, stops it with SIGTERM; returns the outside figures and the daemon's two reports.
 */
async function startAndStop({ Database, master, tree, stop, env, runNode, scratch, progress, CheckFailed, logs }) {
  const marks = installDatabase(Database, master, tree, stop);
  const daemon = startDaemon({ tree, env, CheckFailed });
  const pid = daemon.child.pid;
  let stopped = null;
  let outside;
  try {
    const listening = await daemon.waitFor("listening", LISTEN_TIMEOUT_MS, true);
    const atListening = procStats(pid);
    const listeningSeen = performance.now();
    await daemon.waitFor("scheduler", SCHEDULER_TIMEOUT_MS, false);
    await sleep(SETTLE_MS);
    const beforeStop = procStats(pid);
    const idleSeconds = (performance.now() - listeningSeen) / 1000;
    stopped = await daemon.stop();
    outside = { listeningMs: listening.at - daemon.spawnedAt, atListening, beforeStop, idleSeconds };
  } catch (error) {
    if (stopped === null) stopped = await daemon.stop();
    progress(`continuity: the daemon stopped after a failure (${stopped.signal ?? `exit status ${stopped.code}`}); its log: ${daemon.log.lines} lines, ${JSON.stringify(daemon.log.levels)}`);
    for (const [shape, p] of daemon.log.problems) progress(`continuity:   ${p.count} x ${shape}: ${p.example}`);
    if (daemon.log.stderr.trim() !== "") progress(`continuity: stderr:\n${tailText(daemon.log.stderr)}`);
    throw error;
  }
  const m = daemon.log.marks;
  logs.push({ stop, lines: daemon.log.lines, levels: daemon.log.levels, problems: [...daemon.log.problems].map(([shape, p]) => ({ shape, ...p })), nonJson: daemon.log.nonJson, stderr: daemon.log.stderr });
  if (stopped.signal !== null || stopped.code !== 0 || m.stopped === undefined) {
    throw new CheckFailed(`continuity: after SIGTERM the daemon ${stopped.signal !== null ? `was killed by ${stopped.signal}` : `exited with status ${stopped.code}`}${stopped.killedAfterTimeout ? ` (no exit within ${STOP_TIMEOUT_MS / 1000} s: SIGKILL)` : ""}; 'stopped cleanly' ${m.stopped === undefined ? "not " : ""}logged\n${tailText(daemon.log.stderr)}`);
  }
  const report = (kind) => {
    const label = `continuity: goalops report ${kind} --json`;
    const r = runNode([CLI, "report", kind, "--json", "--repo", tree], { scratch, label });
    try {
      return JSON.parse(r.stdout);
    } catch {
      throw new CheckFailed(`${label} printed no JSON:\n${r.stdout.slice(0, 400)}\n${r.stderr.slice(0, 400)}`);
    }
  };
  // The report lists up to 1,000 run decisions by name: counted here, not kept (the steps have the counts).
  const { runs: decisions, ...reconcile } = report("reconcile");
  reconcile.runs_listed = Array.isArray(decisions) ? decisions.length : null;
  const shutdown = report("shutdown");
  return {
    stop,
    marks,
    pid,
    listeningMs: outside.listeningMs,
    hwmAtListeningMb: outside.atListening.hwmMb,
    rssAtListeningMb: outside.atListening.rssMb,
    cpuToListeningSeconds: outside.atListening.cpuSeconds,
    rssBeforeStopMb: outside.beforeStop.rssMb,
    // CPU the daemon used between 'listening' and SIGTERM (the scheduler's start, timers), in % of one core.
    cpuBeforeStopPercent: (100 * (outside.beforeStop.cpuSeconds - outside.atListening.cpuSeconds)) / outside.idleSeconds,
    startSyncMs: m.startSync?.entry.ms ?? null,
    // Where the time to listening went, by the log's times (ms precision): spawn to the first line
    // (node, the CLI, config, store open); the first line to the start sync's (watcher start + sync);
    // that to the reconciliation's; that to 'listening' (API, dispatcher, timers).
    spawnToStartingLineMs: m.starting === undefined ? null : m.starting.at - daemon.spawnedAt,
    startingLineToSyncLineMs: between(logTime(m.starting), logTime(m.startSync)),
    reconciledLineToListeningLineMs: between(logTime(m.reconciled), logTime(m.listening)),
    startSyncFiles: m.startSync === undefined ? null : { added: m.startSync.entry.added, changed: m.startSync.entry.changed, archived: m.startSync.entry.archived },
    reconcileLogMs: m.reconciled?.entry.ms ?? null,
    // From the log's own times (ms precision): the start sync's line to the reconciliation's line
    // (the whole reconciliation, the write of its report included), and SIGTERM's handling.
    syncLineToReconciledLineMs: between(logTime(m.startSync), logTime(m.reconciled)),
    shuttingDownToSummaryLineMs: between(logTime(m.shuttingDown), logTime(m.shutdownSummary)),
    shuttingDownToStoppedLineMs: between(logTime(m.shuttingDown), logTime(m.stopped)),
    schedulerLine: m.scheduler === undefined ? null : { scheduled: m.scheduler.entry.scheduled ?? null, caughtUp: m.scheduler.entry.caught_up ?? null },
    exitMs: stopped.ms,
    // Outside the daemon's own steps: SIGTERM to its 'shutting down' line, 'stopped cleanly' to the exit (bench clock, line arrival).
    signalToShuttingDownLineMs: m.shuttingDown === undefined ? null : m.shuttingDown.at - stopped.signalledAt,
    stoppedLineToExitMs: m.stopped === undefined ? null : stopped.ms - (m.stopped.at - stopped.signalledAt),
    reconcile,
    shutdown,
  };
}

// ---------------------------------------------------------------------------------------------
// Checks
// ---------------------------------------------------------------------------------------------

const stepOf = (report, n) => report.steps?.find((s) => s.step === n) ?? {};

/** The reports say what the database holds: the runs in flight, their decisions, the loops; the shutdown checkpointed every run in flight. */
function checkStart(s, fill, CheckFailed) {
  const problems = [];
  const r = s.reconcile;
  const expectIf = (cond, what) => {
    if (!cond) problems.push(what);
  };
  const flight = fill.inFlight;
  expectIf(r.unclean_stop === (s.stop === "unclean"), `reconcile: unclean_stop ${r.unclean_stop}, expected ${s.stop === "unclean"} (goalops_meta ${JSON.stringify(s.marks)})`);
  expectIf(Array.isArray(r.steps) && r.steps.length === 7, `reconcile: ${r.steps?.length} steps, expected 7`);
  const s2 = stepOf(r, 2);
  const s3 = stepOf(r, 3);
  const s4 = stepOf(r, 4);
  expectIf(s2.open_runs === flight.total, `reconcile step 2: open_runs ${s2.open_runs}, expected ${flight.total}`);
  if (s.stop === "unclean") {
    expectIf(s2.interrupted === flight.total, `reconcile step 2: interrupted ${s2.interrupted}, expected ${flight.total}`);
    // The generated goals have no continuity policy: the defaults resume runs with a checkpoint and park the rest.
    expectIf(s3.resumed === flight.withCheckpoint && s3.parked === flight.total - flight.withCheckpoint, `reconcile step 3: resumed ${s3.resumed}, parked ${s3.parked}; expected ${flight.withCheckpoint} resumed (with a checkpoint) and ${flight.total - flight.withCheckpoint} parked`);
  } else {
    expectIf(s2.interrupted === 0 && s3.left === flight.total, `reconcile after a clean stop: interrupted ${s2.interrupted}, left ${s3.left}; expected 0 and ${flight.total} left running`);
  }
  expectIf(s4.open === fill.loopsTotal && s4.due === fill.loopsDue, `reconcile step 4: ${s4.open} open loops, ${s4.due} due; expected ${fill.loopsTotal} and ${fill.loopsDue}`);
  expectIf(s.reconcileLogMs === r.duration_ms, `reconcile: the log line says ${s.reconcileLogMs} ms, the report ${r.duration_ms} ms`);

  const sh = s.shutdown;
  const c2 = stepOf(sh, 2);
  const c4 = stepOf(sh, 4);
  // After an unclean start the resumed runs are in flight again; after a clean one, all of them.
  const inFlightAtStop = s.stop === "unclean" ? flight.withCheckpoint : flight.total;
  expectIf(Array.isArray(sh.steps) && sh.steps.length === 6, `shutdown: ${sh.steps?.length} steps, expected 6`);
  expectIf(c2.runs_checkpointed === inFlightAtStop, `shutdown step 2: runs_checkpointed ${c2.runs_checkpointed}, expected ${inFlightAtStop}`);
  expectIf(c2.with_resume_pointer === flight.withCheckpoint, `shutdown step 2: with_resume_pointer ${c2.with_resume_pointer}, expected ${flight.withCheckpoint}`);
  expectIf(c4.open === fill.loopsTotal, `shutdown step 4: ${c4.open} open loops, expected ${fill.loopsTotal}`);
  expectIf(sh.deadline_reached === false, `shutdown: deadline_reached ${sh.deadline_reached}`);
  if (problems.length > 0) throw new CheckFailed(`continuity: the daemon's reports after a start after ${s.stop === "unclean" ? "an unclean" : "a clean"} stop do not match the database:\n  ${problems.join("\n  ")}`);
}

// ---------------------------------------------------------------------------------------------
// The measurement
// ---------------------------------------------------------------------------------------------

function git(tree, args, CheckFailed) {
  const g = spawnSync("git", args, { cwd: tree, encoding: "utf8" });
  if (g.status !== 0) throw new CheckFailed(`continuity: git ${args.join(" ")} failed: ${g.stderr}`);
  return g.stdout;
}

/**
 * Runs the continuity measurements on `tree` (bench/run.mjs's generated tree, committed to git).
 * `runNode(args, options)` runs node as bench/run.mjs does; `env` is the environment of measured
 * processes (its childEnv()); `settings` override CONTINUITY_DEFAULTS.
 */
export async function measureContinuity({ tree, files, seed, scratch, keep = false, settings = {}, env, runNode, progress, CheckFailed }) {
  const s = { ...CONTINUITY_DEFAULTS, ...settings };
  const Database = require("better-sqlite3");
  const loadAtStart = loadavg()[0];
  const details = { files, seed, settings: s, repeats: REPEATS, fillBatch: FILL_BATCH, historyDays: HISTORY_DAYS, inFlightHours: IN_FLIGHT_HOURS, krValuesPerKr: KR_VALUES, settleMs: SETTLE_MS, command: "node dist/cli/main.js daemon --port 0 --log-format json" };

  // (1) The tree as committed (an earlier part may have edited goal files), synced into a fresh database.
  const dirty = git(tree, ["status", "--porcelain", "--untracked-files=no"], CheckFailed).split("\n").filter((l) => l.trim() !== "").length;
  if (dirty > 0) {
    git(tree, ["checkout", "-q", "--", "."], CheckFailed);
    progress(`continuity: checked out ${fmtInt(dirty)} goal file${dirty === 1 ? "" : "s"} an earlier part had edited`);
  }
  rmSync(join(tree, "state"), { recursive: true, force: true });
  const sync = runNode([CLI, "sync", "--repo", tree], { scratch, label: "continuity: goalops sync" });
  progress(`continuity: synced ${tree} in ${fmtSeconds(sync.seconds)}: ${sync.stdout.trim().split("\n").at(-1)}`);
  const dbPath = join(tree, "state", "goalops.db");
  const reader = new Database(dbPath, { readonly: true });
  const byStatus = reader.prepare("SELECT status, goal_type, COUNT(*) AS n FROM goal_definitions WHERE archived_at IS NULL GROUP BY status, goal_type ORDER BY status, goal_type").all();
  const goalRows = reader.prepare("SELECT goal_id, goal_type, status, parent_goal_id, baseline FROM goal_definitions WHERE archived_at IS NULL AND goal_type IN ('key_result', 'initiative') ORDER BY goal_id").all();
  const master = join(scratch, "continuity-master.db");
  rmSync(master, { force: true });
  reader.prepare("VACUUM INTO ?").run(master);
  reader.close();
  const goals = goalRows.map((g) => ({ id: g.goal_id, status: g.status, kr: g.goal_type === "key_result" ? g.goal_id : g.parent_goal_id }));
  const activeGoals = goals.filter((g) => g.status === "active");
  const keyResults = goalRows.filter((g) => g.goal_type === "key_result");
  const totalGoals = byStatus.reduce((n, r) => n + r.n, 0);
  if (totalGoals !== files) throw new CheckFailed(`continuity: the database holds ${totalGoals} goals after sync, expected ${files}`);
  if (activeGoals.length === 0) throw new CheckFailed("continuity: no active key results or initiatives after sync: nowhere to put the runs in flight");
  details.goals = { total: totalGoals, byStatus, runGoals: goals.length, activeRunGoals: activeGoals.length, keyResults: keyResults.length };
  const statusCounts = {};
  for (const r of byStatus) statusCounts[r.status] = (statusCounts[r.status] ?? 0) + r.n;
  progress(`continuity: ${fmtInt(totalGoals)} goals by status: ${Object.entries(statusCounts).map(([k, v]) => `${k} ${fmtInt(v)}`).join(", ")}; runs on ${fmtInt(goals.length)} key results and initiatives (${fmtInt(activeGoals.length)} active)`);

  // (2) The filled database.
  const fill = await fillDatabase(Database, master, { goals, activeGoals, keyResults, runs: s.runs, inFlight: s.inFlight, loops: s.loops, seed, now: Date.now(), progress });
  fill.loopsTotal = s.loops;
  if (fill.inDb.runs !== s.runs + s.inFlight || fill.inDb.running !== s.inFlight || fill.inDb.withCheckpoint !== fill.inFlight.withCheckpoint || fill.inDb.openLoops !== s.loops) {
    throw new CheckFailed(`continuity: after the fill the database holds ${JSON.stringify(fill.inDb)}, expected ${s.runs + s.inFlight} runs, ${s.inFlight} running (${fill.inFlight.withCheckpoint} with a checkpoint), ${s.loops} open loops`);
  }
  details.fill = fill;
  progress(`continuity: filled in ${fill.seconds.toFixed(1)} s (${fmtInt(s.runs / fill.runsSeconds)} finished runs/s): ${fmtInt(s.runs)} finished runs, ${fmtInt(s.inFlight)} in flight (${fmtInt(fill.inFlight.withCheckpoint)} with a checkpoint), ${fmtInt(s.loops)} open loops (${fmtInt(fill.loopsDue)} due), ${fmtInt(fill.krValues)} key-result values; database ${(fill.bytes / 1e6).toFixed(0)} MB`);

  // (3) Starts and stops, interleaved, each on a fresh copy.
  const starts = { unclean: [], clean: [] };
  const logs = [];
  for (let i = 0; i < REPEATS; i++) {
    for (const stop of ["unclean", "clean"]) {
      const r = await startAndStop({ Database, master, tree, stop, env, runNode, scratch, progress, CheckFailed, logs });
      checkStart(r, fill, CheckFailed);
      starts[stop].push(r);
      const c2 = stepOf(r.shutdown, 2);
      const s3 = stepOf(r.reconcile, 3);
      progress(`continuity: after ${stop === "unclean" ? "an unclean" : "a clean"} stop, ${i + 1}/${REPEATS}: listening after ${fmtMs(r.listeningMs)} (start sync ${r.startSyncMs === null ? "n/a" : fmtMs(r.startSyncMs)}, VmHWM ${r.hwmAtListeningMb.toFixed(0)} MB); reconcile ${fmtMs(r.reconcile.duration_ms)} (${s3.resumed} resumed, ${s3.parked} parked, ${s3.left} left); SIGTERM: shutdown ${fmtMs(r.shutdown.duration_ms)} (${c2.runs_checkpointed} runs checkpointed), exit after ${fmtMs(r.exitMs)}`);
    }
  }
  details.starts = starts;
  details.logs = logs;
  details.loadAverage = { start: loadAtStart, end: loadavg()[0] };
  rmSync(master, { force: true });
  if (keep) progress(`continuity: kept the tree (its database: the last measured copy, after a clean start and stop): ${tree}`);
  return { rows: continuityRows(details), details };
}

// ---------------------------------------------------------------------------------------------
// Report
// ---------------------------------------------------------------------------------------------

const atIssueSizes = (d) => d.files === ISSUE_SIZES.goalFiles && d.settings.runs === ISSUE_SIZES.runs && d.settings.loops === ISSUE_SIZES.loops && d.settings.inFlight === ISSUE_SIZES.inFlight;

/** Median of each step's ms over the reports, by step number. */
function stepMedians(reports) {
  const byStep = new Map();
  for (const r of reports) for (const st of r.steps) byStep.set(st.step, [...(byStep.get(st.step) ?? []), st]);
  return [...byStep].sort((a, b) => a[0] - b[0]).map(([step, list]) => ({ step, name: list[0].name, ms: median(list.map((x) => x.ms)), min: Math.min(...list.map((x) => x.ms)), max: Math.max(...list.map((x) => x.ms)), first: list[0] }));
}

/** "1 0.9, 2 16.8, ..." for the steps up to `last` (the later ones are stored as 0). */
const shortSteps = (reports, last) => stepMedians(reports).filter((st) => st.step <= last).map((st) => `${st.step} ${st.ms.toFixed(1)}`).join(", ");
/** Median of the samples that are known, or NaN (formatted n/a). */
const knownMedian = (values) => {
  const known = values.filter((v) => v !== null && v !== undefined);
  return known.length === 0 ? Number.NaN : median(known);
};
const fmtMaybeMs = (ms) => (Number.isNaN(ms) ? "n/a" : fmtMs(ms));

function continuityRows(d) {
  const rows = [];
  const targets = atIssueSizes(d);
  const row = (key, label, unit, samples, detail, target, met) => rows.push({ key, label, unit, ...summary(samples), detail, target: target ?? null, met: met ?? null });
  const scale = `${fmtInt(d.goals.total)} goals, ${fmtInt(d.settings.runs)} finished runs, ${fmtInt(d.settings.inFlight)} in flight, ${fmtInt(d.settings.loops)} open loops`;
  const info = targets ? "" : " (info: not the issue's sizes)";
  const u = d.starts.unclean;
  const c = d.starts.clean;
  const flight = d.fill.inFlight;

  const reconcileMs = u.map((s) => s.reconcile.duration_ms);
  const u3 = stepOf(u[0].reconcile, 3);
  row(
    "continuity_reconcile", `startup reconciliation after an unclean stop, ${scale}${info}`, "ms", reconcileMs,
    `the report's duration_ms; steps 1-6 (median ms): ${shortSteps(u.map((s) => s.reconcile), 6)}; ${fmtInt(stepOf(u[0].reconcile, 2).interrupted)} runs interrupted: ${fmtInt(u3.resumed)} resumed, ${fmtInt(u3.parked)} parked; ${fmtInt(stepOf(u[0].reconcile, 4).open)} open loops (${fmtInt(stepOf(u[0].reconcile, 4).due)} due); from the start sync's log line to the reconciliation's (the report's write and the warnings logged included) median ${fmtMaybeMs(knownMedian(u.map((s) => s.syncLineToReconciledLineMs)))}`,
    targets ? `<= ${fmtInt(CONTINUITY_TARGETS.reconcileMs)} ms` : null, targets ? median(reconcileMs) <= CONTINUITY_TARGETS.reconcileMs : null,
  );
  row(
    "continuity_reconcile_clean", "startup reconciliation after a clean stop (info)", "ms", c.map((s) => s.reconcile.duration_ms),
    `steps 1-6 (median ms): ${shortSteps(c.map((s) => s.reconcile), 6)}; ${fmtInt(stepOf(c[0].reconcile, 3).left)} runs left running`,
  );
  const km = (list, key) => fmtMaybeMs(knownMedian(list.map((x) => x[key])));
  row(
    "continuity_listening", "daemon spawn to 'listening', after an unclean stop (info)", "ms", u.map((s) => s.listeningMs),
    `by the daemon's log (medians): spawn to its first line ${km(u, "spawnToStartingLineMs")} (node, the CLI, config, store open); to the start sync's line ${km(u, "startingLineToSyncLineMs")} (watcher start, then the start sync: a no-op re-sync of ${fmtInt(d.files)} files, ${km(u, "startSyncMs")} by its own ms); to the reconciliation's line ${km(u, "syncLineToReconciledLineMs")}; to 'listening' ${km(u, "reconciledLineToListeningLineMs")}. Daemon CPU to listening median ${median(u.map((s) => s.cpuToListeningSeconds)).toFixed(2)} s; after a clean stop median ${fmtMs(median(c.map((s) => s.listeningMs)))}`,
  );
  row(
    "continuity_rss_start", "daemon peak RSS at 'listening' (VmHWM), after an unclean stop (info)", "MB", u.map((s) => s.hwmAtListeningMb),
    `VmRSS then median ${median(u.map((s) => s.rssAtListeningMb)).toFixed(0)} MB, before SIGTERM ${median(u.map((s) => s.rssBeforeStopMb)).toFixed(0)} MB; after a clean stop VmHWM max ${Math.max(...c.map((s) => s.hwmAtListeningMb)).toFixed(0)} MB`,
  );

  const shutdownMs = c.map((s) => s.shutdown.duration_ms);
  const c2 = stepOf(c[0].shutdown, 2);
  row(
    "continuity_shutdown", `shutdown (SIGTERM) with ${fmtInt(flight.total)} runs in flight${info}`, "ms", shutdownMs,
    `the summary's duration_ms; steps 1-4 (median ms): ${shortSteps(c.map((s) => s.shutdown), 4)} (5 and 6 are written after duration_ms is taken and stored as 0); step 2: ${fmtInt(c2.runs_checkpointed)} runs checkpointed, ${fmtInt(c2.with_resume_pointer)} with a resume pointer; daemon log 'shutting down' to 'shutdown summary' median ${fmtMaybeMs(knownMedian(c.map((s) => s.shuttingDownToSummaryLineMs)))}`,
    targets ? `<= ${fmtInt(CONTINUITY_TARGETS.shutdownMs)} ms` : null, targets ? median(shutdownMs) <= CONTINUITY_TARGETS.shutdownMs : null,
  );
  row(
    "continuity_shutdown_exit", `SIGTERM to process exit, ${fmtInt(flight.total)} runs in flight (info)`, "ms", c.map((s) => s.exitMs),
    `wall clock from kill() to the exit event (medians): to the 'shutting down' line's arrival ${km(c, "signalToShuttingDownLineMs")}; 'shutting down' to 'stopped cleanly' by the log's times ${km(c, "shuttingDownToStoppedLineMs")} (the steps, closing the store, releasing the lock); the 'stopped cleanly' line's arrival to the exit ${km(c, "stoppedLineToExitMs")}; the daemon's CPU from 'listening' to SIGTERM (its scheduler line, then a ${SETTLE_MS / 1000} s settle) median ${median(c.map((s) => s.cpuBeforeStopPercent)).toFixed(0)}% of one core`,
  );
  row(
    "continuity_shutdown_unclean_start", `shutdown after the unclean start, ${fmtInt(flight.withCheckpoint)} resumed runs in flight (info)`, "ms", u.map((s) => s.shutdown.duration_ms),
    `SIGTERM to exit median ${fmtMs(median(u.map((s) => s.exitMs)))}`,
  );
  const f = d.fill;
  rows.push({ key: "continuity_fill", label: `filling the database, ${fmtInt(f.rows)} rows, raw better-sqlite3 (info)`, unit: "rows/s", median: f.rows / f.seconds, min: f.rows / f.seconds, max: f.rows / f.seconds, samples: [f.rows / f.seconds], detail: `${f.seconds.toFixed(1)} s; database ${(f.bytes / 1e6).toFixed(0)} MB`, target: null, met: null });
  return rows;
}

function formatValue(row, value) {
  if (value === null || value === undefined || Number.isNaN(value)) return "n/a";
  if (row.unit === "ms") return fmtMs(value);
  if (row.unit === "MB") return `${value.toFixed(0)} MB`;
  return `${fmtInt(value)} ${row.unit}`;
}

const stepDetail = (st) => {
  const skip = new Set(["step", "name", "ms", "blocked_goals", "interrupted_runs", "resumed_runs", "parked_runs", "checkpointed_runs", "values", "happening", "report_id", "at", "orphaned_jobs_killed"]);
  return Object.entries(st).filter(([k]) => !skip.has(k)).map(([k, v]) => `${k} ${typeof v === "object" && v !== null ? JSON.stringify(v) : v}`).join(", ");
};

/** The continuity section of bench/run.mjs's markdown report. */
export function continuityMarkdown(continuity) {
  const { details: d, rows } = continuity;
  const f = d.fill;
  const out = [];
  out.push("## continuity: startup reconciliation and shutdown (bench/continuity.mjs)");
  out.push("");
  const status = {};
  const activeByType = {};
  for (const r of d.goals.byStatus) {
    status[r.status] = (status[r.status] ?? 0) + r.n;
    if (r.status === "active") activeByType[r.goal_type] = r.n;
  }
  out.push(`repository: the generated tree (${fmtInt(d.files)} goal files, seed ${d.seed}), committed to git, synced with \`goalops sync\`: goals by status ${Object.entries(status).map(([k, v]) => `${k} ${fmtInt(v)}`).join(", ")} (active: ${Object.entries(activeByType).map(([k, v]) => `${fmtInt(v)} ${k}`).join(", ")}); ${fmtInt(d.goals.keyResults)} key results.`);
  out.push(`database: a copy of the synced one filled raw with better-sqlite3 (${fmtInt(d.fillBatch)} rows per transaction, seeded): ${fmtInt(d.settings.runs)} finished runs over the ${fmtInt(d.goals.runGoals)} key results and initiatives, started over the last ${d.historyDays} days (${fmtInt(f.failedRuns)} failed or partial); ${fmtInt(f.inFlight.total)} runs in flight (run_state running, started over the last ${d.inFlightHours} hours on the ${fmtInt(d.goals.activeRunGoals)} active ones; ${fmtInt(f.inFlight.withCheckpoint)} with a checkpoint_ref and checkpoint_state; none dispatched by the daemon); ${fmtInt(d.settings.loops)} open loops (${Object.entries(f.loops).map(([k, v]) => `${k} ${fmtInt(v.open)}, ${fmtInt(v.due)} due`).join("; ")}); ${fmtInt(f.krValues)} key-result values; ${(f.bytes / 1e6).toFixed(0)} MB after a WAL checkpoint.`);
  out.push(`measured: \`${d.command}\` in the tree, started ${d.repeats} times after an unclean stop (goalops_meta last_start_at after last_clean_shutdown_at) and ${d.repeats} times after a clean one, interleaved, each on a fresh copy of the filled database (the page cache holds it: just copied); each start waited for the 'listening' and 'scheduler:' log lines, settled ${d.settleMs / 1000} s, then SIGTERM. Durations are the daemon's own (\`goalops report reconcile --json\` / \`goalops report shutdown --json\` duration_ms, read after it exited 0), checked against the database's counts; wall clock, VmHWM and CPU from outside (/proc/<pid>). Load average at the start of this part ${d.loadAverage.start.toFixed(2)}, at its end ${d.loadAverage.end.toFixed(2)}.`);
  out.push("");
  out.push(...measurementTable(rows, formatValue));
  out.push("");
  const stepsTable = (title, groups) => {
    out.push(title);
    out.push("");
    out.push(`| step | ${groups.map(([name]) => `${name}: median ms (min-max)`).join(" | ")} | what it found (first report of each) |`);
    out.push(`|---|${groups.map(() => "---:").join("|")}|---|`);
    const medians = groups.map(([, reports]) => stepMedians(reports));
    for (let i = 0; i < medians[0].length; i++) {
      const st = medians[0][i];
      const found = groups.map(([name], g) => `${name}: ${stepDetail(medians[g][i]?.first ?? {}) || "-"}`).join("<br>");
      out.push(`| ${st.step}. ${st.name} | ${medians.map((m) => (m[i] === undefined ? "-" : `${m[i].ms.toFixed(1)} (${m[i].min.toFixed(1)}-${m[i].max.toFixed(1)})`)).join(" | ")} | ${found} |`);
    }
    out.push("");
  };
  stepsTable("Startup reconciliation steps (the stored report's ms; step 7, the report's own write, is stored as 0 and not in duration_ms):", [
    ["after an unclean stop", d.starts.unclean.map((s) => s.reconcile)],
    ["after a clean stop", d.starts.clean.map((s) => s.reconcile)],
  ]);
  stepsTable("Shutdown steps (steps 5 and 6 are stored as 0: their time is taken after the summary is written):", [
    [`after a clean start, ${fmtInt(f.inFlight.total)} in flight`, d.starts.clean.map((s) => s.shutdown)],
    [`after an unclean start, ${fmtInt(f.inFlight.withCheckpoint)} in flight`, d.starts.unclean.map((s) => s.shutdown)],
  ]);
  const problems = new Map();
  let lines = 0;
  const levels = {};
  for (const l of d.logs) {
    lines += l.lines;
    for (const [level, n] of Object.entries(l.levels)) levels[level] = (levels[level] ?? 0) + n;
    for (const p of l.problems) {
      const seen = problems.get(p.shape);
      if (seen === undefined) problems.set(p.shape, { ...p, starts: new Set([l.stop]) });
      else {
        seen.count += p.count;
        seen.starts.add(l.stop);
      }
    }
  }
  out.push(`daemon logs (stdout) of the ${d.logs.length} starts: ${fmtInt(lines)} lines (${Object.entries(levels).map(([k, v]) => `${k} ${fmtInt(v)}`).join(", ") || "none"}).${problems.size === 0 ? " No warnings or errors." : " Warnings and errors:"}`);
  for (const [shape, p] of [...problems].slice(0, 20)) out.push(`- ${fmtInt(p.count)} x \`${shape.replace(/`/g, "'")}\` (after ${[...p.starts].join(" and ")} stops): \`${p.example.replace(/`/g, "'")}\``);
  const nonJson = d.logs.flatMap((l) => l.nonJson);
  if (nonJson.length > 0) out.push(`- lines that are not JSON: ${nonJson.slice(0, 5).map((l) => `\`${l.replace(/`/g, "'")}\``).join("; ")}`);
  const stderr = d.logs.map((l) => l.stderr.trim()).filter((t) => t !== "");
  out.push(stderr.length === 0 ? "daemon stderr: empty." : `daemon stderr:\n\n\`\`\`\n${stderr.join("\n---\n").slice(-4000)}\n\`\`\``);
  return `${out.join("\n")}\n`;
}
