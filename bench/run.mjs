// The goalops benchmark: generates a synthetic repository of goal files (bench/generateTree.mjs),
// checks it is valid, then times the built CLI (dist/cli/main.js) as a subprocess, the way people
// run it: `validate` of the whole tree, a cold `sync` into an empty database, a no-op re-sync, peak
// RSS of each, and ajv-cli validating the same files against the same schema for comparison.
//
// Then the goal-engine part (bench/ledger.mjs): runs recorded through the library, one per
// transaction and in batches, against raw better-sqlite3 inserts; run start/finish through the CLI;
// `status` with 1,000,000 runs in the ledger; the CLI's cold start.
//
// Then the daemon part (bench/daemon.mjs): the real `goalops daemon` as a subprocess in the tree:
// edit-to-database latency of single-file edits, API throughput of run start + finish pairs from
// concurrent keep-alive clients, the daemon's RSS before and after many edits, a clean SIGTERM.
//
// Then the learning part (bench/learning.mjs), in a repository of its own (300 goal files, lessons,
// playbook rules): `goalops learn --since 7d --json` over ledgers of 100,000 and 1,000,000 finished
// runs with a realistic failure mix, each run on a fresh copy of the filled database; `goalops
// report learning` on the largest.
//
// Then the continuity part (bench/continuity.mjs), in the big tree: the real daemon's startup
// reconciliation after an unclean stop and its shutdown with runs in flight (SIGTERM), over a
// database filled with 1,000,000 finished runs, 1,000 runs in flight and 10,000 open loops, each
// start on a fresh copy; the daemon's own reports' durations and steps, wall clock and RSS outside.
//
//   npm run bench                       (builds first; 10,000 files, 5 runs; all five parts)
//   npm run bench -- --only daemon      (just one part: sync, ledger, daemon, learning or continuity)
//   node bench/run.mjs [--files N] [--runs N] [--seed N] [--only sync|ledger|daemon|learning|continuity] [--json] [--keep]
//                      [--daemon-edits N] [--daemon-latency-edits N] [--daemon-edit-batch N]
//                      [--daemon-clients N] [--daemon-seconds N] [--daemon-cpu-prof DIR] [--daemon-trace-gc]
//                      [--learning-runs N,N,...] [--learning-cpu-prof DIR]
//                      [--continuity-runs N] [--continuity-loops N] [--continuity-in-flight N]
//
// --daemon-edits: edits between the two RSS readings (default 10,000; stops at 10 minutes);
// --daemon-latency-edits: measured single-file edits (default 300); --daemon-edit-batch: files
// written at once in the RSS part (default 10); --daemon-clients / --daemon-seconds: API clients
// (default 8) and measured seconds (default 10, after 2 s of warm-up); --daemon-cpu-prof DIR: run
// the daemon under node --cpu-prof, its .cpuprofile written to DIR when it stops; --daemon-trace-gc:
// run it with node --trace-gc and report its live heap after major GCs beside the RSS.
// --learning-runs: the ledger sizes of the learning part (default 100000,1000000; the targets are
// for those two); --learning-cpu-prof DIR: also run learn once more on the largest ledger under node
// --cpu-prof (its .cpuprofile written to DIR) and report the top self-time functions.
// --continuity-runs / --continuity-loops / --continuity-in-flight: finished runs (default 1,000,000),
// open loops (default 10,000) and runs in flight (default 1,000) in the continuity part's database
// (the targets are for those sizes and 10,000 files).
//
// The report (markdown, or JSON with --json) goes to stdout, with the command that produced it;
// progress goes to stderr.
// Exit codes: 0 measured (whether or not the targets are met), 1 a check failed (the tree does not
// validate, a command failed, ajv-cli does not really validate, the daemon did not start, its API
// answered otherwise than documented, the runs in its database do not add up, the learning cycle
// did not review and count the runs its ledger holds, or the daemon's reconciliation and shutdown
// reports do not match the runs and loops in its database), 2 usage error.
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { arch, cpus, loadavg, platform, release, tmpdir, totalmem } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { generateTree } from "./generateTree.mjs";
import { CONTINUITY_DEFAULTS, continuityMarkdown, measureContinuity } from "./continuity.mjs";
import { DAEMON_DEFAULTS, daemonMarkdown, measureDaemon } from "./daemon.mjs";
import { LEARNING_DEFAULTS, learningMarkdown, measureLearning } from "./learning.mjs";
import { measureLedger } from "./ledger.mjs";
import { gaugeMachine } from "./machineGauge.mjs";
import { fmtInt, median, summary } from "./stats.mjs";

const PACKAGE_ROOT = fileURLToPath(new URL("..", import.meta.url));
const USAGE =
  "usage: node bench/run.mjs [--files N] [--runs N] [--seed N] [--only sync|ledger|daemon|learning|continuity] [--json] [--keep]\n" +
  "                          [--daemon-edits N] [--daemon-latency-edits N] [--daemon-edit-batch N] [--daemon-clients N] [--daemon-seconds N] [--daemon-cpu-prof DIR] [--daemon-trace-gc]\n" +
  "                          [--learning-runs N,N,...] [--learning-cpu-prof DIR]\n" +
  "                          [--continuity-runs N] [--continuity-loops N] [--continuity-in-flight N]\n";
const CLI = join(PACKAGE_ROOT, "dist", "cli", "main.js");
const TIME = "/usr/bin/time";
const require = createRequire(import.meta.url);

const TARGETS = {
  validate: { max: 1.5, unit: "s" },
  coldSync: { max: 2, unit: "s" },
  noopSync: { max: 0.3, unit: "s" },
  rss: { max: 300, unit: "MB" },
  ratio: { below: 1 },
};

class CheckFailed extends Error {}

// ---------------------------------------------------------------------------------------------
// Arguments
// ---------------------------------------------------------------------------------------------

function readOptions() {
  let parsed;
  try {
    parsed = parseArgs({
      options: {
        files: { type: "string", default: "10000" },
        runs: { type: "string", default: "5" },
        seed: { type: "string", default: "20260101" },
        only: { type: "string" },
        "daemon-edits": { type: "string", default: String(DAEMON_DEFAULTS.edits) },
        "daemon-latency-edits": { type: "string", default: String(DAEMON_DEFAULTS.latencyEdits) },
        "daemon-edit-batch": { type: "string", default: String(DAEMON_DEFAULTS.editBatch) },
        "daemon-clients": { type: "string", default: String(DAEMON_DEFAULTS.clients) },
        "daemon-seconds": { type: "string", default: String(DAEMON_DEFAULTS.seconds) },
        "daemon-cpu-prof": { type: "string" },
        "daemon-trace-gc": { type: "boolean", default: false },
        "learning-runs": { type: "string", default: LEARNING_DEFAULTS.sizes.join(",") },
        "learning-cpu-prof": { type: "string" },
        "continuity-runs": { type: "string", default: String(CONTINUITY_DEFAULTS.runs) },
        "continuity-loops": { type: "string", default: String(CONTINUITY_DEFAULTS.loops) },
        "continuity-in-flight": { type: "string", default: String(CONTINUITY_DEFAULTS.inFlight) },
        json: { type: "boolean", default: false },
        keep: { type: "boolean", default: false },
        help: { type: "boolean", short: "h", default: false },
      },
      strict: true,
    }).values;
  } catch (error) {
    usage(error.message);
  }
  if (parsed.help) {
    process.stdout.write(USAGE);
    process.exit(0);
  }
  const positive = (name) => {
    const n = Number(parsed[name]);
    if (!Number.isInteger(n) || n < 1) usage(`--${name} must be a positive integer, got '${parsed[name]}'`);
    return n;
  };
  if (parsed.only !== undefined && !["sync", "ledger", "daemon", "learning", "continuity"].includes(parsed.only)) usage(`--only must be sync, ledger, daemon, learning or continuity, got '${parsed.only}'`);
  const only = parsed.only ?? "all";
  const daemon = {
    edits: positive("daemon-edits"),
    latencyEdits: positive("daemon-latency-edits"),
    editBatch: positive("daemon-edit-batch"),
    clients: positive("daemon-clients"),
    seconds: positive("daemon-seconds"),
  };
  const learningRuns = parsed["learning-runs"].split(",").map((part) => {
    const n = Number(part.trim());
    if (!Number.isInteger(n) || n < 1) usage(`--learning-runs must be positive integers separated by commas, got '${parsed["learning-runs"]}'`);
    return n;
  });
  if (new Set(learningRuns).size !== learningRuns.length) usage(`--learning-runs lists a size twice: '${parsed["learning-runs"]}'`);
  const daemonNodeArgs = [...(parsed["daemon-cpu-prof"] === undefined ? [] : ["--cpu-prof", "--cpu-prof-dir", resolve(parsed["daemon-cpu-prof"])]), ...(parsed["daemon-trace-gc"] ? ["--trace-gc"] : [])];
  return {
    files: positive("files"),
    runs: positive("runs"),
    seed: positive("seed"),
    json: parsed.json,
    keep: parsed.keep,
    sync: only === "all" || only === "sync",
    ledger: only === "all" || only === "ledger",
    daemon: only === "all" || only === "daemon",
    learning: only === "all" || only === "learning",
    continuity: only === "all" || only === "continuity",
    daemonSettings: daemon,
    daemonNodeArgs,
    learningRuns,
    learningCpuProf: parsed["learning-cpu-prof"] === undefined ? undefined : resolve(parsed["learning-cpu-prof"]),
    continuitySettings: { runs: positive("continuity-runs"), loops: positive("continuity-loops"), inFlight: positive("continuity-in-flight") },
  };
}

function usage(message) {
  process.stderr.write(`bench: ${message}\n${USAGE}`);
  process.exit(2);
}

// ---------------------------------------------------------------------------------------------
// Running and measuring one process
// ---------------------------------------------------------------------------------------------

const progress = (line) => process.stderr.write(`[bench] ${line}\n`);

/** The environment of every measured process: without settings that would change what is measured. */
function childEnv() {
  const env = { ...process.env };
  delete env.NODE_OPTIONS; // --cpu-prof, --inspect, --require hooks...
  delete env.GOALOPS_COMPILE_SCHEMAS; // would skip the prebuilt validators
  return env;
}

const HAVE_TIME = existsSync(TIME);

/**
 * The clock of a measured process is read by a small bash launcher, not by this process. Forking
 * copies the parent's page tables, and this process holds hundreds of MB by the time it runs
 * `status` and `--version` (the ledger part fills 1,000,000 runs in it): measured here, a parent of
 * 300 MB added ~15 ms to every child's wall clock, one of 800 MB ~30 ms. A user starts goalops
 * from a shell; so does the launcher, which reads bash's EPOCHREALTIME just before and after.
 */
const BASH = "/bin/bash";
const CLOCK_SCRIPT = 'clock=$1; shift; start=$EPOCHREALTIME; "$@"; status=$?; end=$EPOCHREALTIME; echo "$start $end" > "$clock"; exit $status';
const HAVE_LAUNCHER = existsSync(BASH) && spawnSync(BASH, ["-c", 'test -n "$EPOCHREALTIME"']).status === 0;

/**
 * Runs `node <args>` (under /usr/bin/time for the peak RSS, from the launcher above for the wall
 * clock) and returns wall-clock seconds, peak RSS in MB, exit status and output. Throws
 * CheckFailed when the exit status is not `expectStatus` (0 unless given; null: any).
 */
function runNode(args, { cwd = PACKAGE_ROOT, expectStatus = 0, label, scratch }) {
  const rssFile = join(scratch, "rss.txt");
  const clockFile = join(scratch, "clock.txt");
  let argv = HAVE_TIME ? [TIME, "-f", "%M %U %S", "-o", rssFile, process.execPath, ...args] : [process.execPath, ...args];
  if (HAVE_LAUNCHER) argv = [BASH, "-c", CLOCK_SCRIPT, "launcher", clockFile, ...argv];
  if (HAVE_LAUNCHER) rmSync(clockFile, { force: true });
  const start = process.hrtime.bigint();
  const result = spawnSync(argv[0], argv.slice(1), { cwd, env: childEnv(), encoding: "utf8", maxBuffer: 512 * 1024 * 1024 });
  let seconds = Number(process.hrtime.bigint() - start) / 1e9;
  if (result.error) throw new CheckFailed(`${label}: could not run ${argv[0]}: ${result.error.message}`);
  if (result.signal) throw new CheckFailed(`${label}: killed by ${result.signal}`);
  // bash reports a child killed by signal N as status 128 + N.
  if (HAVE_LAUNCHER && result.status !== null && result.status > 128) throw new CheckFailed(`${label}: killed by signal ${result.status - 128}\n${tail(result.stderr)}`);
  if (HAVE_LAUNCHER) {
    // EPOCHREALTIME is "seconds.microseconds", with the locale's decimal separator.
    const [from, to] = readFileSync(clockFile, "utf8").trim().replaceAll(",", ".").split(" ").map(Number);
    if (!Number.isFinite(from) || !Number.isFinite(to)) throw new CheckFailed(`${label}: the launcher's clock file ${clockFile} holds no times`);
    seconds = to - from;
  }
  let rssMb = null;
  let cpuSeconds = null;
  if (HAVE_TIME) {
    // "<max RSS KB> <user s> <system s>"; a failing command gets a "Command exited with non-zero status N" line first.
    const lines = readFileSync(rssFile, "utf8").trim().split("\n");
    const [kb, user, system] = (lines[lines.length - 1] ?? "").split(" ").map(Number);
    if (Number.isFinite(kb)) rssMb = kb / 1024;
    if (Number.isFinite(user) && Number.isFinite(system)) cpuSeconds = user + system;
  }
  if (expectStatus !== null && result.status !== expectStatus) {
    throw new CheckFailed(`${label}: exit status ${result.status}, expected ${expectStatus}\n${tail(result.stdout)}${tail(result.stderr)}`);
  }
  return { seconds, rssMb, cpuSeconds, status: result.status, stdout: result.stdout, stderr: result.stderr };
}

function tail(text, lines = 25) {
  if (!text) return "";
  const all = text.trimEnd().split("\n");
  return `${all.length > lines ? `  ... (${all.length - lines} more lines)\n` : ""}${all.slice(-lines).map((l) => `  | ${l}`).join("\n")}\n`;
}

function goalops(command, tree, options) {
  return runNode([CLI, ...command, "--repo", tree], options);
}

/** ajv-cli 5, run by the same node as goalops, from the tree (its globs are relative to cwd). */
function ajvCliScript() {
  const pkgPath = require.resolve("ajv-cli/package.json");
  const pkg = JSON.parse(readFileSync(pkgPath, "utf8"));
  const bin = typeof pkg.bin === "string" ? pkg.bin : pkg.bin.ajv;
  return { script: join(dirname(pkgPath), bin), version: pkg.version };
}

// The same schema pair goalops uses, draft 2020-12, ajv-formats for date/date-time, and allErrors
// like goalops's own ajv options. ajv-cli reads .yaml data with js-yaml.
const AJV_ARGS = ["validate", "--spec=draft2020", "-s", "schemas/goal.schema.json", "-r", "schemas/common.schema.json", "-d", "goals/**/*.yaml", "-c", "ajv-formats", "--all-errors"];

function ajv(script, tree, options) {
  return runNode([script, ...AJV_ARGS], { ...options, cwd: tree });
}

const countValid = (stdout) => stdout.split("\n").filter((l) => l.endsWith(" valid")).length;

// ---------------------------------------------------------------------------------------------
// Checks before measuring
// ---------------------------------------------------------------------------------------------

function checkTreeValidates(tree, files, scratch) {
  progress("checking that goalops validate accepts every generated file ...");
  const r = goalops(["validate", "--json"], tree, { expectStatus: null, label: "goalops validate --json", scratch });
  let report;
  try {
    report = JSON.parse(r.stdout);
  } catch {
    throw new CheckFailed(`goalops validate --json printed no JSON (exit ${r.status})\n${tail(r.stdout)}${tail(r.stderr)}`);
  }
  if (r.status !== 0 || !report.valid) {
    const shown = report.problems.slice(0, 15).map((p) => `  ${p.file}:${p.line}:${p.column} ${p.code} ${p.field ? `${p.field}: ` : ""}${p.message}`);
    throw new CheckFailed(`the generated tree does not validate (exit ${r.status}): ${report.problems.length} problems in ${report.invalidFiles} files, first:\n${shown.join("\n")}\nfix bench/generateTree.mjs (or goalops); rerun with --keep to look at the tree`);
  }
  if (report.filesChecked !== files + 1) throw new CheckFailed(`goalops validate checked ${report.filesChecked} files, expected ${files} goal files + goalops.yaml`);
  progress(`  ok: ${report.filesChecked} files valid (${r.seconds.toFixed(2)} s)`);
}

/** ajv-cli really validates: all files of the tree pass, and a broken copy fails on exactly the broken files. */
function checkAjvCli(script, tree, files, scratch) {
  progress(`checking ajv-cli: ${["ajv", ...AJV_ARGS].map((a) => (a.includes("*") ? `"${a}"` : a)).join(" ")}`);
  const ok = ajv(script, tree, { expectStatus: 0, label: "ajv-cli on the generated tree", scratch });
  const valid = countValid(ok.stdout);
  if (valid !== files) throw new CheckFailed(`ajv-cli reported ${valid} valid files, expected ${files}:\n${tail(ok.stdout)}${tail(ok.stderr)}`);
  progress(`  ok: ajv-cli passes all ${valid} files (${ok.seconds.toFixed(2)} s)`);

  // A small copy (the first objectives, whole, so their references resolve) with three broken files.
  const broken = join(scratch, "broken");
  rmSync(broken, { recursive: true, force: true });
  mkdirSync(join(broken, "goals", "team-01"), { recursive: true });
  cpSync(join(tree, "schemas"), join(broken, "schemas"), { recursive: true });
  cpSync(join(tree, "goalops.yaml"), join(broken, "goalops.yaml"));
  for (const objective of ["objective-0001", "objective-0002", "objective-0003"]) {
    if (existsSync(join(tree, "goals", "team-01", objective))) cpSync(join(tree, "goals", "team-01", objective), join(broken, "goals", "team-01", objective), { recursive: true });
  }
  const breakages = [
    { file: "goals/team-01/objective-0001/objective.yaml", what: "priority 9 (maximum 5)", edit: (t) => t.replace(/^priority: \d+$/m, "priority: 9") },
    { file: "goals/team-01/objective-0002/objective.yaml", what: "time_horizon 2026-13-45 (format date)", edit: (t) => t.replace(/^time_horizon: .*$/m, 'time_horizon: "2026-13-45"') },
    { file: "goals/team-01/objective-0003/objective.yaml", what: "unknown field colour (additionalProperties)", edit: (t) => `${t}colour: blue\n` },
  ].filter((b) => existsSync(join(broken, b.file)));
  for (const b of breakages) {
    const path = join(broken, b.file);
    const before = readFileSync(path, "utf8");
    const after = b.edit(before);
    if (after === before) throw new CheckFailed(`could not break ${b.file} (${b.what}): pattern not found`);
    writeFileSync(path, after);
  }
  const bad = ajv(script, broken, { expectStatus: null, label: "ajv-cli on a broken copy", scratch });
  const flagged = new Set(bad.stderr.split("\n").filter((l) => l.endsWith(" invalid")).map((l) => l.slice(0, -" invalid".length)));
  const expected = new Set(breakages.map((b) => b.file));
  const same = flagged.size === expected.size && [...expected].every((f) => flagged.has(f));
  if (bad.status === 0 || !same) {
    throw new CheckFailed(`ajv-cli does not validate: on a copy with ${breakages.map((b) => `${b.file}: ${b.what}`).join("; ")} it exited ${bad.status} and flagged [${[...flagged].join(", ")}]\n${tail(bad.stderr)}`);
  }
  // goalops must flag the same files (and only them) on that copy.
  const g = goalops(["validate", "--json"], broken, { expectStatus: 1, label: "goalops validate on the broken copy", scratch });
  const goalopsFlagged = new Set(JSON.parse(g.stdout).problems.map((p) => p.file));
  if (goalopsFlagged.size !== expected.size || ![...expected].every((f) => goalopsFlagged.has(f))) {
    throw new CheckFailed(`goalops validate on the broken copy flagged [${[...goalopsFlagged].join(", ")}], expected [${[...expected].join(", ")}]`);
  }
  progress(`  ok: on a broken copy both ajv-cli (exit ${bad.status}) and goalops (exit ${g.status}) flag exactly the broken ${plural(breakages.length, "file")}`);
  rmSync(broken, { recursive: true, force: true });
}

// ---------------------------------------------------------------------------------------------
// Statistics and report
// ---------------------------------------------------------------------------------------------

const fmtSeconds = (s) => (s < 1 ? `${s.toFixed(3)} s` : `${s.toFixed(2)} s`);
const fmtMb = (mb) => `${mb.toFixed(0)} MB`;
const plural = (n, word) => `${fmtInt(n)} ${word}${n === 1 ? "" : "s"}`;

function buildResults(m, files) {
  const rows = [];
  const time = (key, label, measured, target) => {
    const s = summary(measured.map((r) => r.seconds));
    const cpu = measured.every((r) => r.cpuSeconds !== null) ? summary(measured.map((r) => r.cpuSeconds)) : null;
    rows.push({ key, label, unit: "s", ...s, cpuSeconds: cpu, target: target === undefined ? null : `<= ${target.max} s`, met: target === undefined ? null : s.median <= target.max });
  };
  // Peak RSS meets its target when the largest of the runs does.
  const rss = (key, label, samples, hasTarget = true) => {
    const target = hasTarget ? `max <= ${TARGETS.rss.max} MB` : null;
    if (samples.some((v) => v === null)) {
      rows.push({ key, label, unit: "MB", median: null, min: null, max: null, samples, target, met: null });
      return;
    }
    const s = summary(samples);
    rows.push({ key, label, unit: "MB", ...s, target, met: hasTarget ? s.max <= TARGETS.rss.max : null });
  };
  time("validate", `goalops validate, ${plural(files, "file")}`, m.validate, TARGETS.validate);
  time("cold_sync", "goalops sync, cold (empty database)", m.coldSync, TARGETS.coldSync);
  time("noop_sync", "goalops sync, no-op re-sync (git work tree)", m.noopSync, TARGETS.noopSync);
  time("noop_sync_plain", "goalops sync, no-op re-sync, plain folder without git (info)", m.noopPlain);
  rss("rss_validate", "peak RSS, validate", m.validate.map((r) => r.rssMb));
  rss("rss_cold_sync", "peak RSS, cold sync", m.coldSync.map((r) => r.rssMb));
  rss("rss_noop_sync", "peak RSS, no-op re-sync", m.noopSync.map((r) => r.rssMb));
  time("ajv_cli", "ajv-cli validate, same files and schema (reference)", m.ajv);
  const ratioMedian = median(m.validate.map((r) => r.seconds)) / median(m.ajv.map((r) => r.seconds));
  const ratioMin = Math.min(...m.validate.map((r) => r.seconds)) / Math.min(...m.ajv.map((r) => r.seconds));
  rows.push({ key: "ratio_validate_ajv", label: "goalops validate / ajv-cli", unit: "ratio", median: ratioMedian, min: ratioMin, max: null, samples: null, target: "< 1", met: ratioMedian < TARGETS.ratio.below });
  time("edit_one_sync", "goalops sync after editing 1 file (info)", m.editSync);
  rss("rss_edit_one_sync", "peak RSS, sync after editing 1 file (info)", m.editSync.map((r) => r.rssMb), false);
  return rows;
}

const SHORT_NAMES = { validate: "validate", cold_sync: "cold sync", noop_sync: "no-op sync", noop_sync_plain: "no-op sync without git", ajv_cli: "ajv-cli", edit_one_sync: "sync after 1 edit", status_1m: "status (1,000,000 runs)", version: "--version", node_start: "node -e 0" };

function formatValue(row, value) {
  if (value === null || value === undefined) return "n/a";
  if (row.unit === "s") return fmtSeconds(value);
  if (row.unit === "MB") return fmtMb(value);
  if (row.unit === "ms") return `${value.toFixed(0)} ms`;
  if (row.unit === "runs/s") return `${fmtInt(Math.round(value))} runs/s`;
  if (row.unit === "%") return `${value.toFixed(1)}%`;
  return `${value.toFixed(2)}x`;
}

/** What the gauge measured on this machine, to read a run's gauges against. */
const GAUGE_RANGE = "on the 2-core machine the targets are set for, the CPU workload measured 510-1,340 ms on 2026-11-25, and 50 fsyncs about 20 ms";
const formatGauge = (g) => `cpu ${g.cpuMs === null ? "n/a" : `${g.cpuMs.toFixed(0)} ms`}, fsyncs ${g.fsyncMs.toFixed(0)} ms`;

function markdown(report) {
  const { machine, tree, runs } = report;
  const out = [];
  out.push("# goalops benchmark");
  out.push("");
  out.push(`command: \`${report.command}\``);
  out.push(`machine: ${machine.cpus} x ${machine.cpuModel}, ${machine.memoryGb} GB RAM, ${machine.platform}; node ${machine.node}`);
  out.push(`machine gauge (bench/machineGauge.mjs: a fixed single-threaded workload, median of 3 fresh processes, and 50 fsync'd 16 KB writes; lower is faster; ${GAUGE_RANGE}): ${machine.gauges.map((g) => `${g.moment} ${formatGauge(g)}`).join("; ")}`);
  if (tree !== null) out.push(`tree: ${fmtInt(tree.files)} goal files (${fmtInt(tree.objectives)} objectives, ${fmtInt(tree.keyResults)} key results, ${fmtInt(tree.initiatives)} initiatives, ${fmtInt(tree.dependencies)} dependencies) in ${fmtInt(tree.folders)} folders, ${fmtInt(tree.bytes)} bytes (${(tree.bytes / 1e6).toFixed(1)} MB), ${tree.linesPerFile.toFixed(1)} lines per file; seed ${tree.seed}`);
  if (report.parts.sync) out.push(`runs: ${runs} per measurement; wall clock of the whole CLI process (node start-up included), started from a small bash launcher that reads the clock${HAVE_LAUNCHER ? "" : " (unavailable: measured from the bench process)"}; peak RSS from ${HAVE_TIME ? "/usr/bin/time -f %M" : "(unavailable: no /usr/bin/time)"}, met when the max over the runs is within the target`);
  if (report.parts.ledger) out.push("ledger (bench/ledger.mjs): throughput rows are rounds (5 of 3,500 runs one per transaction, 5 of 10 x 1,000 batched, each longer than the span between two WAL checkpoints; raw rounds interleaved with goalops's, on a VACUUM INTO copy of the same database), median and min (= slowest) round, and the rate over all rounds together; the % rows are goalops / raw per paired round; CLI rows are whole processes, wall clock, started from a small bash launcher that reads the clock.");
  out.push("");
  if (report.results.length > 0) {
    out.push("| measurement | median | min | target | met? |");
    out.push("|---|---:|---:|---|---|");
    for (const row of report.results) {
      const met = row.met === null ? "-" : row.met ? "yes" : `**no**`;
      const target = row.target ?? "-";
      const note = row.unit === "MB" && row.max !== null ? ` (max ${fmtMb(row.max)})` : "";
      out.push(`| ${row.label} | ${formatValue(row, row.median)} | ${formatValue(row, row.min)} | ${target} | ${met}${row.met !== null ? note : ""} |`);
    }
    out.push("");
  }
  if (report.ajv) out.push(`ajv-cli ${report.ajv.version}: \`${report.ajv.command}\` (run from the tree; peak RSS ${report.ajv.maxRssMb === null ? "n/a" : fmtMb(report.ajv.maxRssMb)}). It checks the JSON Schema only; goalops validate also checks YAML strictly (duplicate keys, tags), goalops.yaml, and the cross-file rules (ids, parents, dependencies, cycles).`);
  const cpu = report.results.filter((r) => r.cpuSeconds);
  if (cpu.length > 0) out.push(`CPU time (user + system, median): ${cpu.map((r) => `${SHORT_NAMES[r.key] ?? r.key} ${r.cpuSeconds.median.toFixed(2)} s`).join(", ")}. Load average at start ${machine.loadAverage.start.toFixed(2)}, at end ${machine.loadAverage.end.toFixed(2)} (${machine.cpus} CPUs): wall-clock figures are only comparable on an otherwise idle machine.`);
  if (report.daemon) {
    if (out.at(-1) !== "") out.push("");
    out.push(daemonMarkdown(report.daemon).trimEnd());
    out.push("");
  }
  if (report.learning) {
    if (out.at(-1) !== "") out.push("");
    out.push(learningMarkdown(report.learning).trimEnd());
    out.push("");
  }
  if (report.continuity) {
    if (out.at(-1) !== "") out.push("");
    out.push(continuityMarkdown(report.continuity).trimEnd());
    out.push("");
  }
  const missed = [...report.results, ...(report.daemon?.rows ?? []), ...(report.learning?.rows ?? []), ...(report.continuity?.rows ?? [])].filter((r) => r.met === false).map((r) => r.label);
  out.push(missed.length === 0 ? "All targets met." : `Targets missed: ${missed.join("; ")}.`);
  return `${out.join("\n")}\n`;
}

// ---------------------------------------------------------------------------------------------
// Main
// ---------------------------------------------------------------------------------------------

/** The sync part: validate (and ajv-cli), cold sync, no-op re-syncs, sync after one edit. */
function measureSync(tree, options, ajvScript, scratch) {
  checkTreeValidates(tree, options.files, scratch);
  checkAjvCli(ajvScript, tree, options.files, scratch);

  const m = { validate: [], ajv: [], coldSync: [], noopSync: [], noopPlain: [], editSync: [] };
  const runs = options.runs;
  const show = (name, i, r) => progress(`${name} ${i + 1}/${runs}: ${fmtSeconds(r.seconds)}${r.rssMb === null ? "" : `, ${fmtMb(r.rssMb)}`}`);

  // (a) and (e), interleaved so that drift in the machine's speed affects both alike.
  for (let i = 0; i < runs; i++) {
    const v = goalops(["validate"], tree, { label: "goalops validate", scratch });
    if (!v.stdout.includes(`${options.files + 1} files valid`)) throw new CheckFailed(`goalops validate did not report ${options.files + 1} files valid:\n${tail(v.stdout)}`);
    m.validate.push(v);
    show("goalops validate", i, v);
    const a = ajv(ajvScript, tree, { label: "ajv-cli", scratch });
    if (countValid(a.stdout) !== options.files) throw new CheckFailed(`ajv-cli reported ${countValid(a.stdout)} valid files, expected ${options.files}`);
    m.ajv.push(a);
    show("ajv-cli validate", i, a);
  }

  // (b) cold sync; one unmeasured run first (it also checks sync works on this tree).
  const coldExpect = `${options.files} added, 0 changed, 0 archived, 0 restored, 0 invalid, 0 unchanged`;
  for (let i = -1; i < runs; i++) {
    rmSync(join(tree, "state"), { recursive: true, force: true });
    const r = goalops(["sync"], tree, { label: "goalops sync (cold)", scratch });
    if (!r.stdout.includes(coldExpect)) throw new CheckFailed(`cold sync did not report '${coldExpect}':\n${tail(r.stdout, 5)}${tail(r.stderr)}`);
    if (i < 0) {
      progress(`cold sync warm-up: ${fmtSeconds(r.seconds)}`);
      continue;
    }
    m.coldSync.push(r);
    show("goalops sync, cold", i, r);
  }

  // (c) no-op re-sync: nothing changed since the last cold sync.
  const noopExpect = `0 added, 0 changed, 0 archived, 0 restored, 0 invalid, ${options.files} unchanged`;
  for (let i = 0; i < runs; i++) {
    const r = goalops(["sync"], tree, { label: "goalops sync (no-op)", scratch });
    if (!r.stdout.includes(noopExpect)) throw new CheckFailed(`no-op sync did not report '${noopExpect}':\n${tail(r.stdout, 5)}${tail(r.stderr)}`);
    m.noopSync.push(r);
    show("goalops sync, no-op", i, r);
  }

  // (info) the same without git: stat signatures instead of git status.
  renameSync(join(tree, ".git"), join(tree, ".git-off"));
  try {
    for (let i = 0; i < runs; i++) {
      const r = goalops(["sync"], tree, { label: "goalops sync (no-op, no git)", scratch });
      if (!r.stdout.includes(noopExpect)) throw new CheckFailed(`no-op sync without git did not report '${noopExpect}':\n${tail(r.stdout, 5)}${tail(r.stderr)}`);
      m.noopPlain.push(r);
      show("goalops sync, no-op without git", i, r);
    }
  } finally {
    renameSync(join(tree, ".git-off"), join(tree, ".git"));
  }

  // (info) the everyday case: one file edited, then sync.
  const edited = join(tree, "goals", "team-01", "objective-0001", "objective.yaml");
  const original = readFileSync(edited, "utf8");
  const editExpect = `0 added, 1 changed, 0 archived, 0 restored, 0 invalid, ${options.files - 1} unchanged`;
  for (let i = 0; i < runs; i++) {
    writeFileSync(edited, original.replace(/^title: (.*)$/m, `title: $1 (revision ${i + 1})`));
    const r = goalops(["sync"], tree, { label: "goalops sync (one file edited)", scratch });
    if (!r.stdout.includes(editExpect)) throw new CheckFailed(`sync after one edit did not report '${editExpect}':\n${tail(r.stdout, 5)}${tail(r.stderr)}`);
    m.editSync.push(r);
    show("goalops sync, 1 file edited", i, r);
  }
  return m;
}

/** How this report was produced: the script (relative to the package) and its arguments. */
function commandLine() {
  const script = relative(PACKAGE_ROOT, fileURLToPath(import.meta.url)) || "bench/run.mjs";
  const quote = (a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, "'\\''")}'`);
  return ["node", script, ...process.argv.slice(2)].map(quote).join(" ");
}

async function main() {
  const options = readOptions();
  if (!existsSync(CLI)) {
    process.stderr.write(`bench: ${CLI} not found; run 'npm run build' first (or use 'npm run bench', which builds)\n`);
    return 2;
  }
  const { script: ajvScript, version: ajvVersion } = ajvCliScript();
  const scratch = mkdtempSync(join(tmpdir(), "goalops-bench-scratch-"));
  const started = Date.now();
  const loadAtStart = loadavg()[0];
  let tree;
  let exitCode = 0;
  const cleanUp = () => {
    rmSync(scratch, { recursive: true, force: true });
    if (tree === undefined) return;
    if (options.keep) progress(`kept the tree: ${tree}`);
    else rmSync(tree, { recursive: true, force: true });
  };
  const onSignal = (signal) => {
    cleanUp();
    process.exit(signal === "SIGINT" ? 130 : 143);
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  try {
    // The big tree, for the parts that use it (the learning part makes a small repository of its own).
    let stats = null;
    if (options.sync || options.ledger || options.daemon || options.continuity) {
      progress(`generating ${fmtInt(options.files)} goal files (seed ${options.seed}) ...`);
      const genStart = process.hrtime.bigint();
      stats = generateTree({ files: options.files, seed: options.seed });
      tree = stats.dir;
      progress(`  ${tree}: ${fmtInt(stats.files)} files, ${fmtInt(stats.bytes)} bytes, ${fmtInt(stats.folders)} folders (${(Number(process.hrtime.bigint() - genStart) / 1e9).toFixed(2)} s)`);

      // A goalops repository is a git repository: commit the tree, as a user's would be.
      const gitStart = process.hrtime.bigint();
      writeFileSync(join(tree, ".gitignore"), "state/\n");
      for (const args of [["init", "-q", "-b", "main"], ["add", "-A"], ["-c", "user.name=bench", "-c", "user.email=bench@goalops.invalid", "-c", "commit.gpgsign=false", "commit", "-q", "-m", "generated tree"]]) {
        const g = spawnSync("git", args, { cwd: tree, encoding: "utf8" });
        if (g.status !== 0) throw new CheckFailed(`git ${args.join(" ")} failed: ${g.stderr}`);
      }
      progress(`  committed to git (${(Number(process.hrtime.bigint() - gitStart) / 1e9).toFixed(2)} s)`);
    }

    // The machine's speed before each part and at the end (bench/machineGauge.mjs).
    const gauges = [];
    const gauge = (moment) => {
      const g = { moment, ...gaugeMachine() };
      gauges.push(g);
      progress(`machine gauge ${moment}: ${formatGauge(g)}`);
    };
    if (options.sync) gauge("before sync");
    const m = options.sync ? measureSync(tree, options, ajvScript, scratch) : null;
    if (options.ledger) gauge("before ledger");
    const ledgerRows = options.ledger ? await measureLedger({ tree, scratch, goalops, runNode, progress, CheckFailed }) : [];
    if (options.daemon) gauge("before daemon");
    const daemon = options.daemon ? await measureDaemon({ tree, files: options.files, progress, CheckFailed, env: childEnv(), settings: options.daemonSettings, nodeArgs: options.daemonNodeArgs }) : null;
    if (options.learning) gauge("before learning");
    const learning = options.learning ? await measureLearning({ sizes: options.learningRuns, seed: options.seed, scratch, keep: options.keep, runNode, progress, CheckFailed, cpuProfDir: options.learningCpuProf }) : null;
    if (options.continuity) gauge("before continuity");
    const continuity = options.continuity ? await measureContinuity({ tree, files: options.files, seed: options.seed, scratch, keep: options.keep, settings: options.continuitySettings, env: childEnv(), runNode, progress, CheckFailed }) : null;
    gauge("at the end");

    const cpuList = cpus();
    const report = {
      command: commandLine(),
      generatedAt: new Date().toISOString(),
      machine: {
        cpus: cpuList.length,
        cpuModel: cpuList[0]?.model.trim() ?? "unknown",
        memoryGb: Math.round(totalmem() / 1024 ** 3),
        platform: `${platform()} ${release()} ${arch()}`,
        node: process.version,
        loadAverage: { start: loadAtStart, end: loadavg()[0] },
        gauges,
      },
      tree: stats === null ? null : {
        files: stats.files,
        bytes: stats.bytes,
        lines: stats.lines,
        linesPerFile: stats.lines / stats.files,
        objectives: stats.objectives,
        keyResults: stats.keyResults,
        initiatives: stats.initiatives,
        dependencies: stats.dependencies,
        folders: stats.folders,
        seed: options.seed,
      },
      runs: options.runs,
      parts: { sync: options.sync, ledger: options.ledger, daemon: options.daemon, learning: options.learning, continuity: options.continuity },
      ajv:
        m === null
          ? null
          : {
              version: ajvVersion,
              command: ["ajv", ...AJV_ARGS].map((a) => (a.includes("*") ? `"${a}"` : a)).join(" "),
              maxRssMb: m.ajv.some((r) => r.rssMb === null) ? null : Math.max(...m.ajv.map((r) => r.rssMb)),
            },
      results: [...(m === null ? [] : buildResults(m, options.files)), ...ledgerRows],
      daemon,
      learning,
      continuity,
      benchSeconds: (Date.now() - started) / 1000,
    };
    process.stdout.write(options.json ? `${JSON.stringify(report, null, 2)}\n` : markdown(report));
    progress(`done in ${report.benchSeconds.toFixed(0)} s`);
  } catch (error) {
    if (!(error instanceof CheckFailed)) throw error;
    process.stderr.write(`bench: FAILED: ${error.message}\n`);
    exitCode = 1;
  } finally {
    cleanUp();
  }
  return exitCode;
}

process.exitCode = await main();
