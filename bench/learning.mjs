// The learning part of the benchmark (bench/run.mjs calls it after the other parts, or alone with
// --only learning): the real `goalops learn --since 7d --json` as a subprocess over synthetic ledgers
// of 100,000 and 1,000,000 finished runs in the window (--learning-runs to change the sizes), and
// `goalops report learning --since 7d --json` on the largest.
//
// The repository is its own: a small generated tree (bench/generateTree.mjs, 300 goal files) with
// lesson and playbook-rule files (a rule in full, two canaries at 0.5, a shadow), committed to git
// and synced with the CLI. The ledger is filled with raw better-sqlite3 inserts (one transaction per
// 50,000 rows) into a copy of the synced database, from a seeded PRNG: the same seed and sizes give
// the same runs (their times are relative to now). The mix: succeeded 70% / failed 20% / partial
// 10%, verifier results that follow the outcome, a skewed failure-category distribution, 1-3
// actions of 8, business outcomes mostly unknown, lesson candidates on ~5% of failed or partial runs
// (30 wordings of 10 lessons: the grouping has work to do), and each run's context lessons and rules
// as goalops would have recorded them (same selection, same canary draw).
//
// The cycle writes (reviews, a report row, rule rollbacks), so every measured run gets a fresh copy
// of the filled database; a second run on the same database would find nothing to review.
// Returns { rows, details } for bench/run.mjs's report (learningMarkdown below renders it).
import { createHash } from "node:crypto";
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { loadavg, tmpdir } from "node:os";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { generateTree, prng, ulidAt } from "./generateTree.mjs";
import { fmtInt, measurementTable, median, summary } from "./stats.mjs";

const PACKAGE_ROOT = fileURLToPath(new URL("..", import.meta.url));
const CLI = join(PACKAGE_ROOT, "dist", "cli", "main.js");
const require = createRequire(import.meta.url);

/** Seconds by ledger size (sizes without an entry are measured for information), and peak RSS for every size. */
export const LEARNING_TARGETS = { seconds: new Map([[100_000, 1.5], [1_000_000, 10]]), rssMb: 500 };
export const LEARNING_DEFAULTS = { sizes: [100_000, 1_000_000], files: 300 };

const REPEATS = 3; // median of 3 per size when the first run took at most REPEAT_IF_UNDER_S
const REPEAT_IF_UNDER_S = 20;
const REPORT_RUNS = 3; // report learning on the largest ledger (read-only: one copy for all)
const FILL_BATCH = 50_000;
const WINDOW_DAYS = 6; // runs started over the last 6 days ...
const WINDOW_END_GAP_MS = 30 * 60_000; // ... up to 30 minutes ago; learn looks back 7 days
const LEARN_ARGS = ["learn", "--since", "7d", "--json"];
const REPORT_ARGS = ["report", "learning", "--since", "7d", "--json"];
const PROFILE_TOP = 20;

// ---------------------------------------------------------------------------------------------
// The repository's lessons and rules
// ---------------------------------------------------------------------------------------------

const lessonId = (n) => `les_01JQ8BENCH${String(n).padStart(16, "0")}`;
const ruleId = (n) => `rule_01JQ8BENCH${String(n).padStart(16, "0")}`;

const LESSONS = [
  { lesson_id: lessonId(1), goal_type: "key_result", action_type: "*", failure_category: "execution_timeout", lesson_text: "Split a long analytics query by week; one query over a whole quarter times out.", category: "safe_default", confidence: 0.6, review_by: "2027-06-30" },
  { lesson_id: lessonId(2), goal_type: "key_result", action_type: "posthog.query", failure_category: "external_dependency", lesson_text: "PostHog rate-limits bursts of queries; space them a few seconds apart.", category: "winning_strategy", confidence: 0.7 },
  { lesson_id: lessonId(3), goal_type: "initiative", action_type: "*", failure_category: "verification_failure", lesson_text: "Run the verifier and read its result before telling the user a task is done.", category: "safe_default", confidence: 0.85, review_by: "2027-06-30" },
  { lesson_id: lessonId(4), goal_type: "initiative", action_type: "send_message", failure_category: "interpretation_error", lesson_text: "When a request names a person who matches more than one contact, ask which one before sending.", category: "anti_pattern", confidence: 0.7 },
  { lesson_id: lessonId(5), goal_type: "initiative", action_type: "crm.update", failure_category: "external_dependency", lesson_text: "A 429 from the CRM clears within a minute; retry with backoff instead of failing the sweep.", category: "winning_strategy", confidence: 0.6 },
  { lesson_id: lessonId(6), goal_type: "maintenance", action_type: "*", lesson_text: "Run maintenance sweeps outside office hours.", category: "safe_default" },
];

const RULES = [
  { rule_id: ruleId(1), title: "Query analytics a week at a time", applies_to_goal_type: "key_result", applies_to_action_type: "*", rule_text: "Query analytics one week at a time and combine the results.", source_lesson_ids: [lessonId(1)], activation_mode: "full", promoted_at: "2026-01-05T08:00:00Z" },
  { rule_id: ruleId(2), title: "Verify before reporting success", applies_to_goal_type: "initiative", applies_to_action_type: "*", rule_text: "Before reporting a task as done, run its verifier; report the verifier's result, not your belief.", source_lesson_ids: [lessonId(3)], activation_mode: "canary", canary_share: 0.5, promoted_at: "2026-01-12T08:00:00Z" },
  { rule_id: ruleId(3), title: "Space PostHog queries", applies_to_goal_type: "key_result", applies_to_action_type: "posthog.query", rule_text: "Leave at least two seconds between PostHog queries.", source_lesson_ids: [lessonId(2)], activation_mode: "canary", canary_share: 0.5, promoted_at: "2026-01-12T08:00:00Z" },
  { rule_id: ruleId(4), title: "Confirm an ambiguous recipient", applies_to_goal_type: "initiative", applies_to_action_type: "send_message", rule_text: "If the recipient matches more than one contact, ask the user to choose before sending.", source_lesson_ids: [lessonId(4)], activation_mode: "shadow" },
];

function yamlValue(value) {
  if (Array.isArray(value)) return `\n${value.map((v) => `  - ${v}`).join("\n")}`;
  if (typeof value === "number") return ` ${value}`;
  return ` ${JSON.stringify(value)}`;
}

function specText(schema, spec) {
  const lines = [`# yaml-language-server: $schema=../schemas/${schema}`, "# Written by bench/learning.mjs."];
  for (const [key, value] of Object.entries(spec)) lines.push(`${key}:${yamlValue(value)}`);
  return `${lines.join("\n")}\n`;
}

const slug = (text) => text.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "").split("-").slice(0, 6).join("-");

// ---------------------------------------------------------------------------------------------
// The runs' vocabulary
// ---------------------------------------------------------------------------------------------

const ACTIONS = [
  ["read_ledger", 20], ["run_tests", 14], ["edit_repository", 14], ["posthog.query", 12],
  ["crm.update", 12], ["send_message", 10], ["crm.read", 10], ["deploy.staging", 8],
];
// All 11 of src/spec/types.ts's FAILURE_CATEGORIES, skewed the way agents' failures are.
const CATEGORIES = [
  ["tool_error", 24], ["external_dependency", 20], ["execution_timeout", 16], ["verification_failure", 9],
  ["missing_context", 8], ["interpretation_error", 7], ["planning_error", 5], ["resource_limit", 4],
  ["policy_block", 3], ["run_overlap", 2], ["bad_schedule_policy", 2],
];
// What agents propose, by the failure it comes from; each said three ways (the grouping's
// normalisation makes them one: case, punctuation, spacing, numbers).
const CANDIDATE_BASES = [
  ["tool_error", "Check the tool's exit status before reading its output."],
  ["tool_error", "Pin the version of the CLI the agent calls; a new release changed its flags."],
  ["external_dependency", "Retry the CRM call with backoff after a 429 instead of failing the run."],
  ["external_dependency", "Check the PostHog status page before blaming the query."],
  ["execution_timeout", "Split the analytics query by week, since a quarter at once times out after 30 seconds."],
  ["execution_timeout", "Give the test suite 10 minutes, not 5, on the staging runner."],
  ["verification_failure", "Run the verifier before reporting the task as done."],
  ["missing_context", "Read the goal's open loops before planning; they hold the unanswered questions."],
  ["interpretation_error", "Ask which contact is meant when a name matches more than one."],
  ["planning_error", "Plan the rollback step before the deploy step."],
];
const CANDIDATE_VARIANTS = [
  [(t) => t, 60],
  [(t) => t.toLowerCase().replace(/\.$/, ""), 25],
  [(t) => t.replace(/[,;] /g, " - ").replace(/ /g, "  ").replace(/\.$/, "!"), 15],
];
const PLANS = ["query the ledger, then update the CRM", "rerun the failed step with backoff", "split the work into weekly batches", "draft, verify, then send", "read the open loops first", "patch, then run the tests"];
const NOTES = ["the CRM answered 429 three times", "the query ran past 30 s", "the verifier found two failing checks", "the tool exited with status 137", "two contacts matched the name"];

/** A weighted pick: [[value, weight], ...] -> () => value. */
function weighted(rng, entries) {
  const total = entries.reduce((sum, [, w]) => sum + w, 0);
  const cumulative = [];
  let acc = 0;
  for (const [value, w] of entries) {
    acc += w / total;
    cumulative.push([value, acc]);
  }
  return () => {
    const r = rng.next();
    for (const [value, upTo] of cumulative) if (r < upTo) return value;
    return cumulative[cumulative.length - 1][0];
  };
}


/** src/runs/canary.ts's draw: the same run and rule, the same answer goalops gives. */
function inCanary(runId, id, share) {
  return createHash("sha256").update(`${runId}\0${id}`).digest().readUInt32BE(0) / 2 ** 32 < (share ?? 0.5);
}

/** src/goals/agentContext.ts's selection: the goal type's lessons and rules whose action type is '*' or allowed. */
function applies(actionType, capabilities) {
  return actionType === "*" || capabilities.size === 0 || capabilities.has(actionType);
}

// ---------------------------------------------------------------------------------------------
// The ledger
// ---------------------------------------------------------------------------------------------

const INSERT_SQL = `INSERT INTO goal_runs (run_id, goal_id, job_id, attempt, plan_summary, actions_taken, verifier_status, local_outcome,
    business_outcome, failure_category, metrics_before, metrics_after, duration_seconds, run_state, idempotency_key, notes,
    lesson_candidates, context_lessons, context_rules, started_at, finished_at, created_at, updated_at)
  VALUES (?, ?, NULL, 1, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'finished', NULL, ?, ?, ?, ?, ?, ?, ?, ?)`;

const breathe = () => new Promise((resolve) => setImmediate(resolve));
const elapsed = (start) => (performance.now() - start) / 1000;

/**
 * A deterministic stream of `total` finished runs over `goals`, started at strictly increasing
 * times over [windowStart, windowEnd) (so a goal's runs are in the order they are made), with the
 * counts the cycle should find.
 */
function runStream({ goals, total, seed, windowStart, windowEnd }) {
  const rng = prng(seed);
  const step = Math.floor((windowEnd - windowStart) / total);
  if (step < 1) throw new Error(`${total} runs do not fit in the window at one per millisecond`);
  const pickAction = weighted(rng, ACTIONS);
  const pickCategory = weighted(rng, CATEGORIES);
  const pickVariant = weighted(rng, CANDIDATE_VARIANTS);
  const basesByCategory = new Map();
  for (const [category, text] of CANDIDATE_BASES) basesByCategory.set(category, [...(basesByCategory.get(category) ?? []), text]);
  const allBases = CANDIDATE_BASES.map(([, text]) => text);
  const pick = (list) => list[Math.floor(rng.next() * list.length)];
  const chance = (p) => rng.next() < p;

  const expected = { runs: 0, succeeded: 0, failed: 0, partial: 0, notable: 0, verifiedSuccess: 0, improved: 0, neutral: 0, degraded: 0, unknown: 0, withCandidates: 0, candidateWordings: new Set(), contextLessons: 0, contextRules: 0, rulesInContext: 0 };
  const history = goals.map(() => ({ previous1: null, previous2: null }));
  const krValue = new Map(goals.filter((g) => g.kr !== null).map((g) => [g.kr, g.krBaseline]));
  const isFailure = (o) => o === "failed" || o === "partial";

  return { expected, next(i) {
    const startedMs = windowStart + i * step + Math.floor(rng.next() * step);
    // A time-ordered ULID of the start, as goalops's ids are.
    const runId = ulidAt("grun_", startedMs, rng);

    // Some goals run more often than others.
    const goalIndex = Math.floor(rng.next() ** 1.4 * goals.length);
    const goal = goals[goalIndex];
    const r = rng.next();
    const outcome = r < 0.7 ? "succeeded" : r < 0.9 ? "failed" : "partial";
    const category = outcome === "succeeded" ? null : pickCategory();
    let verifier;
    const v = rng.next();
    if (category === "verification_failure") verifier = "failed";
    else if (outcome === "succeeded") verifier = v < 0.85 ? "passed" : v < 0.97 ? "skipped" : "failed";
    else if (outcome === "failed") verifier = v < 0.5 ? "failed" : v < 0.85 ? "skipped" : "passed";
    else verifier = v < 0.4 ? "failed" : v < 0.7 ? "passed" : "skipped";

    const count = chance(0.5) ? 1 : chance(0.7) ? 2 : 3;
    const actions = [];
    while (actions.length < count) {
      const a = pickAction();
      if (!actions.includes(a)) actions.push(a);
    }

    const b = rng.next();
    let business;
    if (outcome === "succeeded") business = b < 0.1 ? "improved" : b < 0.15 ? "neutral" : b < 0.16 ? "degraded" : "unknown";
    else if (outcome === "failed") business = b < 0.01 ? "improved" : b < 0.05 ? "neutral" : b < 0.13 ? "degraded" : "unknown";
    else business = b < 0.04 ? "improved" : b < 0.09 ? "neutral" : b < 0.13 ? "degraded" : "unknown";

    let metricsBefore = null;
    let metricsAfter = null;
    if (goal.kr !== null && !chance(0.1)) {
      const before = krValue.get(goal.kr);
      let after = before;
      if (chance(outcome === "succeeded" ? 0.3 : 0.1)) {
        after = Math.round((before + (rng.next() - (outcome === "succeeded" ? 0.3 : 0.7)) * Math.max(1, Math.abs(before) * 0.02)) * 10) / 10;
        krValue.set(goal.kr, after);
      }
      metricsBefore = `{"${goal.kr}":${before}}`;
      metricsAfter = `{"${goal.kr}":${after}}`;
    }

    let candidates = "[]";
    if (outcome !== "succeeded" && chance(0.05)) {
      const text = pickVariant()(pick(basesByCategory.get(category) ?? allBases));
      candidates = JSON.stringify([text]);
      expected.withCandidates++;
      expected.candidateWordings.add(text);
    }

    let rules = "[]";
    if (goal.rules.length > 0) {
      const entries = goal.rules.map((rule) => {
        const inContext = rule.activation_mode === "full" || (rule.activation_mode === "canary" && inCanary(runId, rule.rule_id, rule.canary_share));
        if (inContext) expected.rulesInContext++;
        return `{"rule_id":"${rule.rule_id}","activation_mode":"${rule.activation_mode}","in_context":${inContext}}`;
      });
      rules = `[${entries.join(",")}]`;
      expected.contextRules += entries.length;
    }
    expected.contextLessons += goal.lessonCount;

    const durationMs = 5_000 + Math.floor(rng.next() ** 3 * 900_000);
    const startedAt = new Date(startedMs).toISOString();
    const finishedAt = new Date(startedMs + durationMs).toISOString();

    const h = history[goalIndex];
    if (outcome === "succeeded" && isFailure(h.previous1) && isFailure(h.previous2)) expected.notable++;
    h.previous2 = h.previous1;
    h.previous1 = outcome;
    expected.runs++;
    expected[outcome]++;
    expected[business]++;
    if (outcome === "succeeded" && verifier === "passed") expected.verifiedSuccess++;

    return [
      runId, goal.id, chance(0.3) ? pick(PLANS) : null, JSON.stringify(actions), verifier, outcome, business, category,
      metricsBefore, metricsAfter, durationMs / 1000, outcome !== "succeeded" && chance(0.1) ? pick(NOTES) : null,
      candidates, goal.lessonsJson, rules, startedAt, finishedAt, startedAt, finishedAt,
    ];
  } };
}

/** Inserts `total` runs into the database at `path` (a copy of the synced one); returns the fill's figures. */
async function fillLedger(Database, path, { goals, total, seed, now, progress }) {
  const db = new Database(path);
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = OFF");
  db.pragma("cache_size = -262144");
  const insert = db.prepare(INSERT_SQL);
  const stream = runStream({ goals, total, seed, windowStart: now - WINDOW_DAYS * 86_400_000, windowEnd: now - WINDOW_END_GAP_MS });
  const batch = db.transaction((from, to) => {
    for (let i = from; i < to; i++) insert.run(stream.next(i));
  });
  const start = performance.now();
  let nextReport = 200_000;
  for (let from = 0; from < total; from += FILL_BATCH) {
    const to = Math.min(total, from + FILL_BATCH);
    batch.immediate(from, to);
    if (to >= nextReport || to === total) {
      progress(`learning: inserted ${fmtInt(to)} of ${fmtInt(total)} runs (${fmtInt(to / elapsed(start))} rows/s)`);
      nextReport += 200_000;
    }
    await breathe();
  }
  const seconds = elapsed(start);
  db.pragma("wal_checkpoint(TRUNCATE)");
  const count = db.prepare("SELECT COUNT(*) FROM goal_runs").pluck().get();
  db.close();
  return { seconds, count, bytes: statSync(path).size, expected: stream.expected };
}

/** Puts a fresh copy of `master` where the tree's goalops looks for its database. */
function installDatabase(master, tree) {
  const target = join(tree, "state", "goalops.db");
  for (const suffix of ["", "-wal", "-shm"]) rmSync(`${target}${suffix}`, { force: true });
  copyFileSync(master, target);
}

// ---------------------------------------------------------------------------------------------
// Profile
// ---------------------------------------------------------------------------------------------

/**
 * A .cpuprofile by function (name + file + line): self time (samples in the function itself; a
 * better-sqlite3 call's time in SQLite counts as its JS caller's, native calls having no frame of
 * their own), and inclusive time of goalops's own functions (samples with it anywhere on the stack).
 */
export function profileSummary(profilePath, top = PROFILE_TOP) {
  const profile = JSON.parse(readFileSync(profilePath, "utf8"));
  const byNode = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of profile.nodes) for (const child of n.children ?? []) parent.set(child, n.id);
  const keyOf = new Map();
  for (const n of profile.nodes) {
    const frame = n.callFrame;
    const url = frame.url.startsWith("file://") ? relative(PACKAGE_ROOT, fileURLToPath(frame.url)) : frame.url;
    keyOf.set(n.id, `${frame.functionName || "(anonymous)"}\0${url}${url ? `:${frame.lineNumber + 1}` : ""}`);
  }
  const self = new Map();
  const inclusive = new Map();
  let total = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const dt = profile.timeDeltas[i] ?? 0;
    const id = profile.samples[i];
    if (!byNode.has(id)) continue;
    total += dt;
    self.set(keyOf.get(id), (self.get(keyOf.get(id)) ?? 0) + dt);
    const onStack = new Set();
    for (let at = id; at !== undefined; at = parent.get(at)) onStack.add(keyOf.get(at));
    for (const key of onStack) inclusive.set(key, (inclusive.get(key) ?? 0) + dt);
  }
  const rows = (entries) => entries.sort((a, b) => b[1] - a[1]).slice(0, top).map(([key, us]) => {
    const [name, where] = key.split("\0");
    return { function: name, where, ms: us / 1000, percent: (100 * us) / total };
  });
  return { totalMs: total / 1000, self: rows([...self]), inclusive: rows([...inclusive].filter(([key]) => key.split("\0")[1].startsWith("dist/"))) };
}

// ---------------------------------------------------------------------------------------------
// Measuring
// ---------------------------------------------------------------------------------------------

function git(tree, args, CheckFailed) {
  const g = spawnSync("git", args, { cwd: tree, encoding: "utf8" });
  if (g.status !== 0) throw new CheckFailed(`learning: git ${args.join(" ")} failed: ${g.stderr}`);
}

function parseJson(r, label, CheckFailed) {
  try {
    return JSON.parse(r.stdout);
  } catch {
    throw new CheckFailed(`${label} printed no JSON:\n${r.stdout.slice(0, 400)}\n${r.stderr.slice(0, 400)}`);
  }
}

/** The cycle's own figures from its JSON, and a check that it did the work the ledger calls for. */
function checkCycle(out, expected, label, CheckFailed) {
  const t = out.totals;
  const problems = [];
  for (const key of ["runs", "succeeded", "failed", "partial"]) if (t?.[key] !== expected[key]) problems.push(`totals.${key} ${t?.[key]}, expected ${expected[key]}`);
  if (t?.verified_success !== expected.verifiedSuccess) problems.push(`totals.verified_success ${t?.verified_success}, expected ${expected.verifiedSuccess}`);
  const byReason = out.reviews?.byReason ?? {};
  const made = out.reviews?.made;
  const due = expected.failed + expected.partial + expected.notable;
  if ((byReason.failed ?? 0) !== expected.failed || (byReason.partial ?? 0) !== expected.partial) problems.push(`reviews by reason ${JSON.stringify(byReason)}: expected every failed (${expected.failed}) and partial (${expected.partial}) run reviewed`);
  if (typeof made !== "number" || Math.abs(made - due) > 0.01 * due) problems.push(`reviews made ${made}, expected ${due} (failed + partial + ${expected.notable} notable successes), within 1%`);
  if (!Array.isArray(out.proposals) || !Array.isArray(out.promotedCandidates)) problems.push("no proposals or promotedCandidates array in the JSON");
  if (problems.length > 0) throw new CheckFailed(`${label}: the cycle did not do the expected work:\n  ${problems.join("\n  ")}`);
  const proposals = {};
  for (const p of out.proposals) proposals[`${p.kind} ${p.change}`] = (proposals[`${p.kind} ${p.change}`] ?? 0) + 1;
  return {
    runs: t.runs,
    succeeded: t.succeeded,
    failed: t.failed,
    partial: t.partial,
    verifiedSuccessRate: t.verified_success_rate,
    reviewsMade: made,
    reviewsByReason: byReason,
    reviewsExpected: due,
    promotedCandidates: out.promotedCandidates.length,
    promotedRunIds: out.promotedCandidates.reduce((n, c) => n + (c.run_ids?.length ?? 0), 0),
    proposals: out.proposals.length,
    proposalsByKind: proposals,
    rollbacks: out.rollbacks?.length ?? 0,
    rejected: out.rejected?.length ?? 0,
  };
}

/**
 * Runs the learning measurements. `runNode(args, options)` runs node as bench/run.mjs does (wall
 * clock, peak RSS and CPU from /usr/bin/time); `progress` writes a line to stderr.
 */
export async function measureLearning({ sizes = LEARNING_DEFAULTS.sizes, files = LEARNING_DEFAULTS.files, seed, scratch, keep = false, runNode, progress, CheckFailed, cpuProfDir }) {
  const Database = require("better-sqlite3");
  const loadAtStart = loadavg()[0];
  const details = { files, seed, sizes, lessons: LESSONS.length, rules: RULES.map((r) => `${r.activation_mode}${r.canary_share === undefined ? "" : ` ${r.canary_share}`}`), fillBatch: FILL_BATCH, windowDays: WINDOW_DAYS, perSize: [], report: null, profile: null };

  // (1) The repository: goal files, lessons, rules; committed; synced by the CLI.
  const tree = keep ? mkdtempSync(join(tmpdir(), "goalops-bench-learning-")) : join(scratch, "learning-repo");
  rmSync(tree, { recursive: true, force: true });
  const stats = generateTree({ files, seed, dir: tree });
  mkdirSync(join(tree, "lessons"), { recursive: true });
  mkdirSync(join(tree, "playbooks"), { recursive: true });
  for (const l of LESSONS) writeFileSync(join(tree, "lessons", `${slug(l.lesson_text)}.yaml`), specText("lesson.schema.json", l));
  for (const r of RULES) writeFileSync(join(tree, "playbooks", `${slug(r.title)}.yaml`), specText("playbook-rule.schema.json", r));
  writeFileSync(join(tree, ".gitignore"), "state/\n");
  for (const args of [["init", "-q", "-b", "main"], ["add", "-A"], ["-c", "user.name=bench", "-c", "user.email=bench@goalops.invalid", "-c", "commit.gpgsign=false", "commit", "-q", "-m", "learning bench repository"]]) git(tree, args, CheckFailed);
  const goalops = (command, options) => runNode([...(options.nodeArgs ?? []), CLI, ...command, "--repo", tree], { scratch, ...options });
  const sync = goalops(["sync"], { label: "learning: goalops sync" });
  progress(`learning: repository ${tree}: ${stats.files} goal files, ${LESSONS.length} lessons, ${RULES.length} rules; synced in ${sync.seconds.toFixed(2)} s: ${sync.stdout.trim().split("\n").at(-1)}`);

  const dbPath = join(tree, "state", "goalops.db");
  const reader = new Database(dbPath, { readonly: true });
  const lessonsInDb = reader.prepare("SELECT lesson_id, goal_type, action_type FROM lessons WHERE archived_at IS NULL AND active = 1 ORDER BY lesson_id").all();
  const rulesInDb = reader.prepare("SELECT rule_id, applies_to_goal_type, applies_to_action_type, activation_mode, canary_share FROM playbook_rules WHERE archived_at IS NULL ORDER BY rule_id").all();
  if (lessonsInDb.length !== LESSONS.length || rulesInDb.length !== RULES.length) throw new CheckFailed(`learning: after sync the database holds ${lessonsInDb.length} lessons and ${rulesInDb.length} rules, expected ${LESSONS.length} and ${RULES.length}:\n${sync.stdout}`);
  const goalRows = reader.prepare("SELECT goal_id, goal_type, parent_goal_id, allowed_capabilities, baseline FROM goal_definitions WHERE archived_at IS NULL AND goal_type IN ('key_result', 'initiative') ORDER BY goal_id").all();
  const baselines = new Map(goalRows.filter((g) => g.goal_type === "key_result").map((g) => [g.goal_id, g.baseline ?? 0]));
  // Each goal's context, as src/goals/agentContext.ts selects it: lessons and rules of its type, by its capabilities.
  const goals = goalRows.map((g) => {
    const capabilities = new Set(JSON.parse(g.allowed_capabilities));
    const lessonIds = lessonsInDb.filter((l) => l.goal_type === g.goal_type && applies(l.action_type, capabilities)).map((l) => l.lesson_id);
    const kr = g.goal_type === "key_result" ? g.goal_id : baselines.has(g.parent_goal_id) ? g.parent_goal_id : null;
    return {
      id: g.goal_id,
      kr,
      krBaseline: kr === null ? null : baselines.get(kr),
      lessonsJson: JSON.stringify(lessonIds),
      lessonCount: lessonIds.length,
      rules: rulesInDb.filter((r) => r.applies_to_goal_type === g.goal_type && applies(r.applies_to_action_type, capabilities)),
    };
  });
  const base = join(scratch, "learning-base.db");
  rmSync(base, { force: true });
  reader.prepare("VACUUM INTO ?").run(base);
  reader.close();
  details.goals = { total: goals.length, keyResults: goalRows.filter((g) => g.goal_type === "key_result").length, initiatives: goalRows.filter((g) => g.goal_type === "initiative").length };
  progress(`learning: runs over ${goals.length} goals (${details.goals.keyResults} key results, ${details.goals.initiatives} initiatives)`);

  const largest = Math.max(...sizes);
  for (const total of sizes) {
    // (2) The ledger.
    const master = join(scratch, `learning-${total}.db`);
    copyFileSync(base, master);
    const fill = await fillLedger(Database, master, { goals, total, seed, now: Date.now(), progress });
    if (fill.count !== total) throw new CheckFailed(`learning: goal_runs holds ${fill.count} runs after the fill, expected ${total}`);
    const e = fill.expected;
    progress(`learning: ${fmtInt(total)} runs inserted in ${fill.seconds.toFixed(1)} s (${fmtInt(total / fill.seconds)} rows/s), database ${(fill.bytes / 1e6).toFixed(0)} MB; succeeded ${e.succeeded}, failed ${e.failed}, partial ${e.partial}, notable successes ${e.notable}`);

    // (3) The cycle, each repetition on a fresh copy.
    const measured = [];
    let cycle = null;
    for (let i = 0; i < REPEATS; i++) {
      installDatabase(master, tree);
      const label = `learning: goalops learn, ${fmtInt(total)} runs`;
      const r = goalops(LEARN_ARGS, { label });
      const out = parseJson(r, label, CheckFailed);
      const figures = checkCycle(out, e, label, CheckFailed);
      cycle ??= { ...figures, jsonBytes: r.stdout.length };
      measured.push({ seconds: r.seconds, rssMb: r.rssMb, cpuSeconds: r.cpuSeconds });
      progress(`learning: learn ${fmtInt(total)} runs, ${i + 1}: ${fmtSeconds(r.seconds)}${r.rssMb === null ? "" : `, ${r.rssMb.toFixed(0)} MB`}${r.cpuSeconds === null ? "" : `, CPU ${r.cpuSeconds.toFixed(2)} s`}; ${figures.reviewsMade} reviews, ${figures.promotedCandidates} candidates promoted, ${figures.proposals} proposals`);
      if (r.seconds > REPEAT_IF_UNDER_S) break;
    }

    // (info) report learning on the largest ledger (it only reads: one fresh copy for all).
    if (total === largest) {
      installDatabase(master, tree);
      const runs = [];
      for (let i = 0; i < REPORT_RUNS; i++) {
        const label = `learning: goalops report learning, ${fmtInt(total)} runs`;
        const r = goalops(REPORT_ARGS, { label });
        const out = parseJson(r, label, CheckFailed);
        if (out.totals?.runs !== total) throw new CheckFailed(`${label}: totals.runs ${out.totals?.runs}, expected ${total}`);
        runs.push({ seconds: r.seconds, rssMb: r.rssMb, cpuSeconds: r.cpuSeconds, groups: out.byGroup?.length ?? null });
        progress(`learning: report learning ${fmtInt(total)} runs, ${i + 1}: ${fmtSeconds(r.seconds)}${r.rssMb === null ? "" : `, ${r.rssMb.toFixed(0)} MB`}`);
      }
      details.report = { runs: total, measured: runs, groups: runs[0].groups };

      if (cpuProfDir !== undefined) {
        installDatabase(master, tree);
        mkdirSync(cpuProfDir, { recursive: true });
        const before = new Set(readdirSync(cpuProfDir));
        const r = goalops(LEARN_ARGS, { label: "learning: goalops learn under --cpu-prof", nodeArgs: ["--cpu-prof", "--cpu-prof-dir", cpuProfDir] });
        const made = readdirSync(cpuProfDir).filter((f) => f.endsWith(".cpuprofile") && !before.has(f));
        if (made.length !== 1) throw new CheckFailed(`learning: expected one new .cpuprofile in ${cpuProfDir}, found ${made.length}`);
        details.profile = { runs: total, seconds: r.seconds, file: join(cpuProfDir, made[0]), ...profileSummary(join(cpuProfDir, made[0])) };
        progress(`learning: profiled learn on ${fmtInt(total)} runs (${fmtSeconds(r.seconds)} under the profiler): ${details.profile.file}`);
      }
    }

    details.perSize.push({
      runs: total,
      fill: { seconds: fill.seconds, rowsPerSecond: total / fill.seconds, bytes: fill.bytes },
      expected: { succeeded: e.succeeded, failed: e.failed, partial: e.partial, notable: e.notable, verifiedSuccess: e.verifiedSuccess, improved: e.improved, neutral: e.neutral, degraded: e.degraded, unknown: e.unknown, withCandidates: e.withCandidates, candidateWordings: e.candidateWordings.size, contextLessonsPerRun: e.contextLessons / total, contextRulesPerRun: e.contextRules / total, rulesInContextPerRun: e.rulesInContext / total },
      measured,
      cycle,
    });
    rmSync(master, { force: true });
  }
  rmSync(base, { force: true });
  details.loadAverage = { start: loadAtStart, end: loadavg()[0] };
  if (keep) progress(`learning: kept the repository (its database: the last measured copy, after learn): ${tree}`);
  return { rows: learningRows(details), details };
}

// ---------------------------------------------------------------------------------------------
// Report
// ---------------------------------------------------------------------------------------------

const fmtSeconds = (s) => (s < 1 ? `${s.toFixed(3)} s` : `${s.toFixed(2)} s`);
const pct = (part, whole) => `${((100 * part) / whole).toFixed(1)}%`;

function learningRows(d) {
  const rows = [];
  for (const s of d.perSize) {
    const seconds = summary(s.measured.map((m) => m.seconds));
    const max = LEARNING_TARGETS.seconds.get(s.runs);
    const cpu = s.measured.every((m) => m.cpuSeconds !== null) ? median(s.measured.map((m) => m.cpuSeconds)) : null;
    const c = s.cycle;
    const reasons = Object.entries(c.reviewsByReason).map(([k, v]) => `${k} ${fmtInt(v)}`).join(", ");
    const detail = `${s.measured.length === 1 ? "once" : `median of ${s.measured.length}`}${cpu === null ? "" : `; CPU ${cpu.toFixed(2)} s`}; ${fmtInt(c.reviewsMade)} reviews (${reasons}), ${fmtInt(c.promotedCandidates)} candidates promoted, ${fmtInt(c.proposals)} proposals, ${c.rollbacks} rollbacks`;
    rows.push({ key: `learn_${s.runs}`, label: `goalops learn --since 7d --json, ${fmtInt(s.runs)} runs`, unit: "s", ...seconds, detail, target: max === undefined ? null : `<= ${max} s`, met: max === undefined ? null : seconds.median <= max });
    const rss = s.measured.map((m) => m.rssMb);
    if (rss.every((v) => v !== null)) {
      const r = summary(rss);
      rows.push({ key: `rss_learn_${s.runs}`, label: `peak RSS, learn, ${fmtInt(s.runs)} runs`, unit: "MB", ...r, detail: "", target: `max <= ${LEARNING_TARGETS.rssMb} MB`, met: r.max <= LEARNING_TARGETS.rssMb });
    }
  }
  if (d.report !== null) {
    const m = d.report.measured;
    const cpu = m.every((x) => x.cpuSeconds !== null) ? median(m.map((x) => x.cpuSeconds)) : null;
    const rss = m.every((x) => x.rssMb !== null) ? Math.max(...m.map((x) => x.rssMb)) : null;
    rows.push({ key: `report_learning_${d.report.runs}`, label: `goalops report learning --since 7d --json, ${fmtInt(d.report.runs)} runs (info)`, unit: "s", ...summary(m.map((x) => x.seconds)), detail: `median of ${m.length}${cpu === null ? "" : `; CPU ${cpu.toFixed(2)} s`}${rss === null ? "" : `; peak RSS ${rss.toFixed(0)} MB`}; ${d.report.groups} groups`, target: null, met: null });
  }
  for (const s of d.perSize) {
    rows.push({ key: `fill_${s.runs}`, label: `filling the ledger, ${fmtInt(s.runs)} runs, raw better-sqlite3 (info)`, unit: "rows/s", median: s.fill.rowsPerSecond, min: s.fill.rowsPerSecond, max: s.fill.rowsPerSecond, samples: [s.fill.rowsPerSecond], detail: `${s.fill.seconds.toFixed(1)} s; database ${(s.fill.bytes / 1e6).toFixed(0)} MB`, target: null, met: null });
  }
  return rows;
}

function formatValue(row, value) {
  if (value === null || value === undefined) return "n/a";
  if (row.unit === "s") return fmtSeconds(value);
  if (row.unit === "MB") return `${value.toFixed(0)} MB`;
  return `${fmtInt(value)} ${row.unit}`;
}

/** The learning section of bench/run.mjs's markdown report. */
export function learningMarkdown(learning) {
  const { details: d, rows } = learning;
  const out = [];
  out.push("## learning cycle (bench/learning.mjs)");
  out.push("");
  out.push(`repository: ${d.files} generated goal files (seed ${d.seed}); runs on its ${d.goals.total} key results and initiatives (${d.goals.keyResults} + ${d.goals.initiatives}); ${d.lessons} lessons, ${d.rules.length} playbook rules (${d.rules.join(", ")}); committed to git, synced with \`goalops sync\`.`);
  out.push(`ledger: finished runs inserted raw with better-sqlite3 (${fmtInt(d.fillBatch)} per transaction) into a copy of the synced database, started over the last ${d.windowDays} days (time-ordered grun_ ULIDs), seeded; each run's context lessons and rules as goalops selects them (the canary draw is goalops's hash).`);
  out.push(`measured: \`node dist/cli/main.js ${LEARN_ARGS.join(" ")} --repo <repository>\` as a subprocess, wall clock from spawn to exit (node start-up included), peak RSS from /usr/bin/time -f %M; every run on a fresh copy of the filled database (the cycle writes its reviews, a report and any rollbacks, so a second run on the same database would have nothing to review). Median of ${REPEATS} when the first run took at most ${REPEAT_IF_UNDER_S} s, else measured once (the size makes each run long); the page cache holds the database (just copied). Load average at the start of this part ${d.loadAverage.start.toFixed(2)}, at its end ${d.loadAverage.end.toFixed(2)}.`);
  out.push("");
  out.push(...measurementTable(rows, formatValue));
  out.push("");
  out.push("The ledgers and what the cycle reported (`--json`):");
  out.push("");
  out.push("| runs | succeeded / failed / partial | verifier passed on successes | business improved / neutral / degraded / unknown | runs with agent lesson candidates (wordings) | context per run: lessons, rules (in context) | reviews made / expected (failed + partial + notable successes) | candidates promoted (their runs) | proposals | rollbacks | rejected | JSON |");
  out.push("|---:|---|---|---|---|---|---|---|---|---:|---:|---:|");
  for (const s of d.perSize) {
    const e = s.expected;
    const c = s.cycle;
    const kinds = Object.entries(c.proposalsByKind).map(([k, v]) => `${k} ${fmtInt(v)}`).join(", ");
    out.push(`| ${fmtInt(s.runs)} | ${pct(e.succeeded, s.runs)} / ${pct(e.failed, s.runs)} / ${pct(e.partial, s.runs)} | ${pct(e.verifiedSuccess, e.succeeded)} | ${fmtInt(e.improved)} / ${fmtInt(e.neutral)} / ${fmtInt(e.degraded)} / ${fmtInt(e.unknown)} | ${fmtInt(e.withCandidates)} (${e.candidateWordings}) | ${e.contextLessonsPerRun.toFixed(2)}, ${e.contextRulesPerRun.toFixed(2)} (${e.rulesInContextPerRun.toFixed(2)}) | ${fmtInt(c.reviewsMade)} / ${fmtInt(c.reviewsExpected)} (${fmtInt(e.failed)} + ${fmtInt(e.partial)} + ${fmtInt(e.notable)}) | ${fmtInt(c.promotedCandidates)} (${fmtInt(c.promotedRunIds)}) | ${fmtInt(c.proposals)}${kinds ? ` (${kinds})` : ""} | ${c.rollbacks} | ${c.rejected} | ${(c.jsonBytes / 1e6).toFixed(1)} MB |`);
  }
  if (d.perSize.some((s) => s.cycle.rejected > 0)) out.push("", "Warning: the cycle rejected some of its own proposals (they did not validate); see its JSON `rejected`.");
  if (d.profile !== null) {
    const p = d.profile;
    out.push("");
    out.push(`Profile of one learn on ${fmtInt(p.runs)} runs (node --cpu-prof, ${fmtSeconds(p.seconds)} under the profiler, ${(p.totalMs / 1000).toFixed(2)} s sampled; ${p.file}). Self time by function (a better-sqlite3 call's time in SQLite counts as its JS caller's):`);
    out.push("");
    out.push("| function | where | self ms | % |");
    out.push("|---|---|---:|---:|");
    for (const r of p.self) out.push(`| \`${r.function}\` | ${r.where || "-"} | ${fmtInt(r.ms)} | ${r.percent.toFixed(1)}% |`);
    out.push("");
    out.push("Inclusive time (the function and what it calls) of goalops's functions; an async function counts only the stretches its own frame is on the stack (after an await, its continuation is a new stack), and garbage collection is nobody's:");
    out.push("");
    out.push("| function | where | inclusive ms | % |");
    out.push("|---|---|---:|---:|");
    for (const r of p.inclusive) out.push(`| \`${r.function}\` | ${r.where} | ${fmtInt(r.ms)} | ${r.percent.toFixed(1)}% |`);
  }
  return `${out.join("\n")}\n`;
}
