// Generates a synthetic goalops repository for the benchmark: goalops.yaml, schemas/ copied from
// this package, and a tree of goal files under goals/ shaped like a real OKR set (objectives, each
// with 3-5 key results, each key result with 1-2 initiatives), 20-40 lines per file like the
// examples in goals/. Everything comes from a seeded PRNG, so the same seed and size give the same
// bytes on every run.
//
// As a module: `generateTree({ files, seed, dir })`. As a script (to look at a tree):
//   node bench/generateTree.mjs --files 200 [--seed 42] [--out DIR]
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const PACKAGE_ROOT = fileURLToPath(new URL("..", import.meta.url));
const CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/** sfc32: small, fast, good enough for test data, and identical on every platform. */
export function prng(seed) {
  let a = 0x9e3779b9;
  let b = 0x243f6a88;
  let c = 0xb7e15162;
  let d = seed >>> 0;
  const next = () => {
    a >>>= 0;
    b >>>= 0;
    c >>>= 0;
    d >>>= 0;
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return (t >>> 0) / 4294967296;
  };
  for (let i = 0; i < 20; i++) next();
  const rng = {
    next,
    int: (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)),
    pick: (list) => list[Math.floor(next() * list.length)],
    chance: (p) => next() < p,
    /** n distinct items of list, in list order. */
    sample: (list, n) => {
      const chosen = new Set();
      while (chosen.size < Math.min(n, list.length)) chosen.add(Math.floor(next() * list.length));
      return [...chosen].sort((x, y) => x - y).map((i) => list[i]);
    },
  };
  return rng;
}

/** A ULID-shaped id of `prefix` for time `ms` (as goalops's ids are): 10 time characters, 16 random ones from `rng`. */
export function ulidAt(prefix, ms, rng) {
  let t = ms;
  let head = "";
  for (let i = 0; i < 10; i++) {
    head = CROCKFORD[t % 32] + head;
    t = Math.floor(t / 32);
  }
  let tail = "";
  for (let i = 0; i < 16; i++) tail += CROCKFORD[Math.floor(rng.next() * 32)];
  return `${prefix}${head}${tail}`;
}

/** A ULID-shaped goal id: 10 time characters (a plausible 2025-2026 timestamp) + 16 random ones. */
function makeIdFactory(rng) {
  const seen = new Set();
  let time = 1_735_689_600_000; // 2025-01-01T00:00:00Z, in ms
  return () => {
    for (;;) {
      time += rng.int(1, 90_000);
      const id = ulidAt("goal_", time, rng);
      if (!seen.has(id)) {
        seen.add(id);
        return id;
      }
    }
  };
}

// ---------------------------------------------------------------------------------------------
// Vocabulary
// ---------------------------------------------------------------------------------------------

const AREAS = [
  { area: "checkout", noun: "checkout flow", agent: "commerce-agent" },
  { area: "onboarding", noun: "onboarding journey", agent: "growth-agent" },
  { area: "support", noun: "support inbox", agent: "support-agent" },
  { area: "billing", noun: "billing pipeline", agent: "billing-agent" },
  { area: "search", noun: "product search", agent: "search-agent" },
  { area: "telegram", noun: "Telegram assistant", agent: "telegram-agent" },
  { area: "crm", noun: "CRM hygiene", agent: "crm-agent" },
  { area: "reporting", noun: "weekly reporting", agent: "ops-agent" },
  { area: "scheduling", noun: "meeting scheduler", agent: "calendar-agent" },
  { area: "deploys", noun: "deploy pipeline", agent: "release-agent" },
  { area: "data-quality", noun: "warehouse data quality", agent: "data-agent" },
  { area: "email", noun: "outbound email", agent: "outreach-agent" },
];

const OBJECTIVE_VERBS = ["Improve", "Stabilise", "Speed up", "Simplify", "Make trustworthy", "Scale", "Harden", "Reduce the cost of"];
const OBJECTIVE_WHY = [
  "customers notice every failure here and it drives most of the tickets we get",
  "it is the part of the product agents touch most often and the one with the least verification",
  "the board asked for a measurable improvement before the end of the year",
  "manual follow-ups here cost the team several hours every week",
  "errors here compound: one wrong action creates three more tasks downstream",
  "it blocks the launch in two new markets planned for next year",
];
const OBJECTIVE_HOW = [
  "Agents act only when the request is understood, verify the result before reporting success,",
  "Every automated step leaves a trace in the run ledger, is idempotent, and can be replayed,",
  "Slow paths are measured first, then removed one by one, with a regression check on each,",
  "Ambiguous requests are confirmed with the user instead of guessed, and repeated failures",
];
const OBJECTIVE_END = [
  "and the numbers are reviewed every week by the owning team.",
  "and anything that cannot be verified is escalated to a person.",
  "so that the improvement survives staff changes and new agents.",
  "and feed the lesson store, so the same mistake is not made twice.",
];

const METRICS = [
  { metric: "verified_success_rate", unit: "percent", up: true, lo: 60, hi: 85, gain: [5, 15] },
  { metric: "false_action_rate", unit: "percent", up: false, lo: 3, hi: 9, gain: [1, 3] },
  { metric: "p95_latency", unit: "ms", up: false, lo: 800, hi: 2400, gain: [200, 900] },
  { metric: "median_handle_time", unit: "seconds", up: false, lo: 90, hi: 600, gain: [30, 200] },
  { metric: "conversion_rate", unit: "percent", up: true, lo: 2, hi: 6, gain: [0.5, 2] },
  { metric: "weekly_active_users", unit: "count", up: true, lo: 1200, hi: 9000, gain: [300, 2500] },
  { metric: "escalation_rate", unit: "percent", up: false, lo: 8, hi: 25, gain: [2, 8] },
  { metric: "interpreter_accuracy", unit: "percent", up: true, lo: 75, hi: 90, gain: [3, 9] },
  { metric: "csat_score", unit: "score", up: true, lo: 3.6, hi: 4.3, gain: [0.1, 0.5] },
  { metric: "failed_runs_per_day", unit: "count", up: false, lo: 20, hi: 140, gain: [10, 60] },
  { metric: "cost_per_task", unit: "eur", up: false, lo: 0.4, hi: 2.5, gain: [0.1, 0.8] },
  { metric: "duplicate_record_share", unit: "percent", up: false, lo: 4, hi: 12, gain: [1, 4] },
  { metric: "on_time_delivery", unit: "percent", up: true, lo: 70, hi: 92, gain: [3, 8] },
];

const INITIATIVE_ACTIONS = [
  "Build a regression suite for",
  "Add idempotency checks to",
  "Instrument every step of",
  "Replace the nightly batch in",
  "Add a confirmation step to",
  "Cache the slow lookups of",
  "Write a runbook and an alert for",
  "Backfill missing data for",
  "Run a canary of the new prompt for",
  "Remove the manual hand-off in",
];
const INITIATIVE_DETAIL = [
  "Start with the ten most frequent request types from the last month of the run ledger,",
  "Use the staging copy of the data and compare every result with the current behaviour,",
  "Ship behind a flag, measure for a week, and keep the old path as a fallback,",
  "Pair with the owning team for the first iteration and document every decision,",
];
const INITIATIVE_END = [
  "then extend to the long tail once the first results are stable.",
  "and stop if the error budget for the week is spent.",
  "so that the key result moves without new manual work.",
  "and report progress in the weekly review.",
];

const SUCCESS = [
  "the key results above are at target for four consecutive weeks",
  "no regression in verified success over the same period",
  "every change is covered by an automated check in CI",
  "the owning team signs off in the monthly review",
  "runbook reviewed and exercised once in staging",
  "alerts fire within five minutes of a real incident",
  "at least 500 replayed requests pass in staging",
];
const FAILURE = [
  "any key result off track at the end of the quarter",
  "verified success drops by more than 2 points week over week",
  "more than three incidents caused by this work in a month",
  "cost per task rises above the agreed budget",
  "the change needs manual clean-up more than once a week",
];
const CONSTRAINTS = [
  "staging only until the canary passes; no writes to production systems",
  "no production messages used as test data",
  "a budget of at most 40 agent hours per week",
  "no new third-party services without a security review",
  "keep the existing API stable for other teams",
  "personal data stays in the EU region",
];
const CAPABILITIES = [
  "read_ledger", "write_ledger", "run_tests", "edit_repository", "send_message", "read_messages",
  "crm.read", "crm.update", "posthog.query", "open_loop", "deploy.staging", "calendar.read", "email.draft",
];
// Mostly crons that are common in practice; a few step expressions ('*/15') too, as real repos have them.
const CRONS = ["0 6 * * 1", "0 9 * * 1-5", "30 2 * * *", "0 8 * * 1", "0 7 1 * *", "15 10 * * 2,4", "0 17 * * 5", "0 */6 * * *", "*/30 8-18 * * 1-5"];
const INTERVALS = ["15m", "30m", "1h", "6h", "12h", "1d", "7d", "2w"];
const QUARTER_ENDS = ["2026-03-31", "2026-06-30", "2026-09-30", "2026-12-31", "2027-03-31"];

// ---------------------------------------------------------------------------------------------
// File bodies
// ---------------------------------------------------------------------------------------------

/** Wraps words into lines of at most `width` characters. */
function wrap(text, width) {
  const lines = [];
  let line = "";
  for (const word of text.split(" ")) {
    if (line !== "" && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line === "" ? word : `${line} ${word}`;
    }
  }
  if (line !== "") lines.push(line);
  return lines;
}

function folded(key, text) {
  return [`${key}: >-`, ...wrap(text, 96).map((l) => `  ${l}`)];
}

function list(key, items) {
  return items.length === 0 ? [] : [`${key}:`, ...items.map((i) => `  - ${i}`)];
}

function capabilities(rng) {
  const caps = rng.sample(CAPABILITIES, rng.int(2, 4));
  return rng.chance(0.6) ? [`allowed_capabilities: [${caps.join(", ")}]`] : list("allowed_capabilities", caps);
}

function cadence(rng, preferCron) {
  return preferCron || rng.chance(0.5) ? `review_cadence: "${rng.pick(CRONS)}"` : `review_cadence: ${rng.pick(INTERVALS)}`;
}

function round(value, unit) {
  return unit === "count" || unit === "ms" || unit === "seconds" ? Math.round(value) : Math.round(value * 10) / 10;
}

function objectiveFile(rng, g) {
  const lines = [
    `# yaml-language-server: $schema=${g.schemaRef}`,
    `# ${g.team}: objective ${g.number} of the ${g.area.area} area.`,
    `goal_id: ${g.id}`,
    "goal_type: objective",
    `title: ${rng.pick(OBJECTIVE_VERBS)} the ${g.area.noun} (${g.team}, objective ${g.number})`,
    ...folded("description", `${rng.pick(OBJECTIVE_HOW)} ${rng.pick(OBJECTIVE_END)} This matters because ${rng.pick(OBJECTIVE_WHY)}.`),
    `owner_agent: ${g.area.agent}`,
    `priority: ${rng.int(1, 3)}`,
    ...list("success_metrics", rng.sample(SUCCESS, rng.int(1, 3))),
    ...list("failure_conditions", rng.sample(FAILURE, rng.int(1, 2))),
    ...list("constraints", rng.sample(CONSTRAINTS, rng.int(1, 2))),
    cadence(rng, true),
    `time_horizon: "${g.horizon}"`,
    ...capabilities(rng),
    "learning_required: true",
    `status: ${rng.chance(0.8) ? "active" : "ready"}`,
  ];
  return lines;
}

function keyResultFile(rng, g) {
  const m = g.metric;
  const baseline = round(m.lo + rng.next() * (m.hi - m.lo), m.unit);
  const gain = round(m.gain[0] + rng.next() * (m.gain[1] - m.gain[0]), m.unit) || 1;
  const target = round(m.up ? baseline + gain : Math.max(0, baseline - gain), m.unit);
  const kr = [
    "key_result:",
    `  metric: ${m.metric}`,
    `  unit: ${m.unit}`,
    `  baseline: ${baseline}`,
    `  target: ${target}`,
    `  direction: ${m.up ? "increase" : "decrease"}`,
  ];
  if (rng.chance(0.3)) {
    kr.push("  source:", "    ingestor: posthog", `    query: "insight:${g.area.area}_${m.metric}_weekly"`);
    if (rng.chance(0.5)) kr.push("    value_path: result.0.aggregated_value");
  }
  const better = m.up ? "above" : "below";
  return [
    `# yaml-language-server: $schema=${g.schemaRef}`,
    `goal_id: ${g.id}`,
    "goal_type: key_result",
    `title: ${m.metric.replace(/_/g, " ")} ${better} ${target} ${m.unit} for the ${g.area.noun}`,
    ...folded("description", `Measured on the ${g.area.noun} over a rolling seven-day window. ${rng.pick(OBJECTIVE_HOW)} ${rng.pick(OBJECTIVE_END)}`),
    `parent_goal_id: ${g.parent}`,
    `owner_agent: ${g.area.agent}`,
    `priority: ${rng.int(1, 3)}`,
    ...list("success_metrics", [`${m.metric} ${better} ${target} ${m.unit} for four consecutive weeks`, ...rng.sample(SUCCESS, rng.int(0, 1))]),
    ...list("failure_conditions", rng.sample(FAILURE, rng.int(1, 2))),
    cadence(rng, false),
    `time_horizon: "${g.horizon}"`,
    ...(rng.chance(0.5) ? capabilities(rng) : []),
    `learning_required: ${rng.chance(0.7)}`,
    `status: ${rng.chance(0.7) ? "active" : "ready"}`,
    ...kr,
  ];
}

function initiativeFile(rng, g) {
  const horizon = rng.chance(0.15) ? `${g.horizon}T17:00:00Z` : g.horizon;
  const lines = [
    `# yaml-language-server: $schema=${g.schemaRef}`,
    `goal_id: ${g.id}`,
    "goal_type: initiative",
    `title: ${rng.pick(INITIATIVE_ACTIONS)} the ${g.area.noun} (${g.metric.metric.replace(/_/g, " ")})`,
    ...folded("description", `${rng.pick(INITIATIVE_DETAIL)} ${rng.pick(INITIATIVE_END)} Owned by ${g.team}; progress is tracked against the parent key result.`),
    `parent_goal_id: ${g.parent}`,
    `owner_agent: ${g.area.agent}`,
    `priority: ${rng.int(1, 5)}`,
    ...list("success_metrics", rng.sample(SUCCESS, rng.int(1, 2))),
    ...list("failure_conditions", rng.sample(FAILURE, rng.int(0, 1))),
    ...list("constraints", rng.sample(CONSTRAINTS, rng.int(1, 2))),
    ...(rng.chance(0.25) ? ["start_condition: the parent key result has a baseline recorded in the last 14 days"] : []),
    ...(rng.chance(0.15) ? ["stop_condition: the parent key result is at target or archived"] : []),
    cadence(rng, false),
    `time_horizon: "${horizon}"`,
    ...list("dependencies", g.dependencies),
    ...capabilities(rng),
    `learning_required: ${rng.chance(0.5)}`,
    // Something that waits on another initiative is planned; the rest are spread over the intents.
    `status: ${g.dependencies.length > 0 ? "planned" : rng.pick(["planned", "ready", "ready", "active"])}`,
  ];
  return lines;
}

// ---------------------------------------------------------------------------------------------
// The tree
// ---------------------------------------------------------------------------------------------

/**
 * Writes the repository. Returns { dir, files, bytes, lines, objectives, keyResults, initiatives,
 * folders, dependencies }. `files` goal files exactly (the last objective may have fewer children).
 */
export function generateTree({ files = 10_000, seed = 20_260_101, dir } = {}) {
  if (!Number.isInteger(files) || files < 1) throw new Error(`--files must be a positive integer, got ${files}`);
  const root = dir ?? mkdtempSync(join(tmpdir(), "goalops-bench-"));
  mkdirSync(root, { recursive: true });
  writeFileSync(join(root, "goalops.yaml"), "# yaml-language-server: $schema=./schemas/config.schema.json\n# Synthetic repository written by bench/generateTree.mjs.\nversion: 1\n");
  const schemaSource = join(PACKAGE_ROOT, "schemas");
  mkdirSync(join(root, "schemas"), { recursive: true });
  for (const name of readdirSync(schemaSource)) if (name.endsWith(".json")) copyFileSync(join(schemaSource, name), join(root, "schemas", name));

  const rng = prng(seed);
  const newId = makeIdFactory(rng);
  const stats = { dir: root, files: 0, bytes: 0, lines: 0, objectives: 0, keyResults: 0, initiatives: 0, folders: 0, dependencies: 0 };
  const madeFolders = new Set();
  const write = (relativePath, lines) => {
    const full = join(root, relativePath);
    const folder = dirname(full);
    if (!madeFolders.has(folder)) {
      mkdirSync(folder, { recursive: true });
      madeFolders.add(folder);
    }
    const text = `${lines.join("\n")}\n`;
    writeFileSync(full, text);
    stats.files++;
    stats.bytes += Buffer.byteLength(text);
    stats.lines += lines.length;
  };
  const schemaRefFor = (relativePath) => relative(dirname(join(root, relativePath)), join(root, "schemas", "goal.schema.json")).split("\\").join("/");

  const objectivesPerTeam = 20;
  let objectiveNumber = 0;
  while (stats.files < files) {
    objectiveNumber++;
    const teamNumber = Math.ceil(objectiveNumber / objectivesPerTeam);
    const team = `team-${String(teamNumber).padStart(2, "0")}`;
    const area = AREAS[(teamNumber - 1) % AREAS.length];
    const folder = `goals/${team}/objective-${String(objectiveNumber).padStart(4, "0")}`;
    const horizon = rng.pick(QUARTER_ENDS);
    const objectiveId = newId();
    const objectivePath = `${folder}/objective.yaml`;
    write(objectivePath, objectiveFile(rng, { id: objectiveId, team, area, number: objectiveNumber, horizon, schemaRef: schemaRefFor(objectivePath) }));
    stats.objectives++;

    const metrics = rng.sample(METRICS, rng.int(3, 5));
    for (let k = 0; k < metrics.length && stats.files < files; k++) {
      const metric = metrics[k];
      const krId = newId();
      const krPath = `${folder}/kr-${k + 1}-${metric.metric.replace(/_/g, "-")}.yaml`;
      write(krPath, keyResultFile(rng, { id: krId, parent: objectiveId, team, area, metric, horizon, schemaRef: schemaRefFor(krPath) }));
      stats.keyResults++;

      const initiatives = rng.int(1, 2);
      const earlier = [];
      for (let i = 0; i < initiatives && stats.files < files; i++) {
        const id = newId();
        // Only on initiatives written before this one, of the same key result: never a cycle.
        const dependencies = earlier.length > 0 && rng.chance(0.6) ? [...earlier] : [];
        stats.dependencies += dependencies.length;
        const path = `${folder}/initiatives/kr-${k + 1}-initiative-${i + 1}.yaml`;
        write(path, initiativeFile(rng, { id, parent: krId, team, area, metric, horizon, dependencies, schemaRef: schemaRefFor(path) }));
        stats.initiatives++;
        earlier.push(id);
      }
    }
  }
  stats.folders = madeFolders.size;
  return stats;
}

// Run directly: write a tree and print where it is.
if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const arg = (name) => {
    const i = process.argv.indexOf(name);
    return i === -1 ? undefined : process.argv[i + 1];
  };
  const stats = generateTree({
    files: arg("--files") === undefined ? 10_000 : Number(arg("--files")),
    seed: arg("--seed") === undefined ? undefined : Number(arg("--seed")),
    dir: arg("--out") === undefined ? undefined : resolve(arg("--out")),
  });
  process.stdout.write(`${JSON.stringify(stats, null, 2)}\n`);
}
