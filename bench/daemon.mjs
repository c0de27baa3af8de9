// The daemon part of the benchmark (bench/run.mjs calls it after the other parts, or alone with
// --only daemon): the real `goalops daemon`, started as a subprocess in the generated tree
// (committed to git), measured from outside the way an editor and agents meet it:
//
// 1. edit-to-database latency: single-file edits, one at a time, each to a different goal file,
//    spaced 30-50 ms apart; for each, the time from writeFileSync returning until the database
//    (read directly, better-sqlite3 readonly on state/goalops.db) holds the new content hash;
// 2. daemon RSS (VmRSS of /proc/<pid>/status) after the start sync and a settle, then after
//    --daemon-edits more edits (round-robin over the files, --daemon-edit-batch at a time, each
//    batch waited for in the database) and a settle; the peak, sampled after every batch;
// 3. API throughput: concurrent clients on loopback with keep-alive, each looping
//    POST /v1/runs + POST /v1/runs/<id>/finish, for a fixed time after a warm-up; once with
//    node:http and an http.Agent, once with raw sockets (hand-written HTTP/1.1), so that the
//    client's own cost can be told apart; the finished runs in the database must equal the
//    pairs counted;
// then SIGTERM, and the daemon must exit 0. Its JSON log is kept: warnings and errors are reported,
// and how many 'synced (watch)' lines each phase produced.
//
// One daemon for all of it, in this order: start sync, settle, RSS; latency edits; RSS edits,
// settle, RSS; API rounds. The CPU the daemon, the bench and the rest of the machine used during
// each phase is reported beside it (the machine may be shared: other processes' CPU shows there).
// --daemon-trace-gc (bench/run.mjs) adds the daemon's live heap after major GCs to the RSS rows.
//
// Returns { rows, details }: rows shaped { key, label, unit, value, detail, target, met }.
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import net from "node:net";
import { createRequire } from "node:module";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { followDaemonLog, tailText, terminate } from "./daemonLog.mjs";
import { fmtInt } from "./stats.mjs";

const PACKAGE_ROOT = fileURLToPath(new URL("..", import.meta.url));
const CLI = join(PACKAGE_ROOT, "dist", "cli", "main.js");
const require = createRequire(import.meta.url);

export const DAEMON_TARGETS = {
  latencyP95: { max: 100 }, // ms, edit to database
  latencyP99: { max: 250 }, // ms
  throughput: { min: 3_000 }, // recorded runs/s (start + finish pairs) through the API
  rssGrowth: { max: 10 }, // %, after the edits against after the start sync
};

export const DAEMON_DEFAULTS = { latencyEdits: 300, edits: 10_000, editBatch: 10, clients: 8, seconds: 10, warmup: 2 };

const LATENCY_WARMUP_EDITS = 10; // unmeasured edits first (other files), JIT and caches warm
const GAP_MS = [30, 50]; // between one edit landing and the next write
const LAND_TIMEOUT_MS = 5_000; // an edit not in the database by then is counted as lost (at this latency)
const SETTLE_MS = 2_000;
const RSS_EDITS_MAX_MS = 10 * 60_000;
const LISTEN_TIMEOUT_MS = 180_000;
const STOP_TIMEOUT_MS = 20_000;
const API_GOALS = 32; // goals the runs are spread over
const CLK_TCK = 100; // /proc/<pid>/stat clock ticks per second (USER_HZ, 100 on Linux)

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const sha256 = (bytes) => createHash("sha256").update(bytes).digest("hex");
const fmtMs = (ms) => (ms < 10 ? `${ms.toFixed(1)} ms` : `${ms.toFixed(0)} ms`);

/** Nearest-rank percentile of an ascending array. */
function percentile(sorted, p) {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}
const ascending = (values) => Float64Array.from(values).sort();

/** VmRSS, VmHWM (MB) and CPU seconds (user + system) of a process, from /proc. */
function procStats(pid) {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (name) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? Number.NaN);
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" "); // fields from the 3rd (state) on
  const cpuSeconds = (Number(fields[11]) + Number(fields[12])) / CLK_TCK; // utime, stime: fields 14 and 15
  return { rssMb: kb("VmRSS") / 1024, hwmMb: kb("VmHWM") / 1024, cpuSeconds };
}

/** CPU times (s) of the daemon, this process and the whole machine (/proc/stat), for cpuShares(). */
function cpuSnapshot(pid) {
  const [, ...ticks] = readFileSync("/proc/stat", "utf8").split("\n", 1)[0].trim().split(/\s+/).map(Number);
  const [user, nice, system, idle, iowait, irq, softirq, steal] = ticks;
  const { user: benchUser, system: benchSystem } = process.cpuUsage();
  return { at: performance.now(), daemon: procStats(pid).cpuSeconds, bench: (benchUser + benchSystem) / 1e6, busy: (user + nice + system + irq + softirq + (steal ?? 0)) / CLK_TCK, all: (user + nice + system + idle + iowait + irq + softirq + (steal ?? 0)) / CLK_TCK };
}

/** CPU used between two snapshots, in % of one core: the daemon, this process, the rest of the machine. */
function cpuShares(from, to) {
  const wall = (to.at - from.at) / 1000;
  const pct = (seconds) => (100 * seconds) / wall;
  const daemon = pct(to.daemon - from.daemon);
  const bench = pct(to.bench - from.bench);
  const busy = pct(to.busy - from.busy);
  return { daemon, bench, others: Math.max(0, busy - daemon - bench), machineBusy: busy, machineCapacity: pct(to.all - from.all), daemonCpuSeconds: to.daemon - from.daemon, wallSeconds: wall };
}

const fmtCpu = (c) => (c === null ? "" : `CPU (% of one core): daemon ${c.daemon.toFixed(0)}%, bench ${c.bench.toFixed(0)}%, other processes ${c.others.toFixed(0)}% (machine ${c.machineBusy.toFixed(0)}% of ${c.machineCapacity.toFixed(0)}%)`);

// ---------------------------------------------------------------------------------------------
// The daemon process and its log
// ---------------------------------------------------------------------------------------------

function startDaemonProcess({ tree, env, nodeArgs, CheckFailed }) {
  const args = [...nodeArgs, CLI, "daemon", "--port", "0", "--log-format", "json"];
  const child = spawn(process.execPath, args, { cwd: tree, env, stdio: ["ignore", "pipe", "pipe"] });
  const killOnExit = () => child.kill("SIGKILL");
  process.once("exit", killOnExit); // bench/run.mjs's signal handler exits: never leave the daemon behind

  let onListening;
  const listening = new Promise((resolve) => {
    onListening = resolve;
  });
  // The callbacks run on output, after `log` below is set.
  const followed = followDaemonLog(child, {
    // node --trace-gc lines ("[pid:0x...]   1234 ms: Mark-Compact 215.8 (242.6) -> 76.1 (227.4) MB, ..."): the live heap after each major GC.
    onOther: (line) => {
      if (!/^\[\d+:0x[0-9a-f]+\]/.test(line)) return false;
      const mc = /Mark-Compact(?: \(reduce\))? ([\d.]+) \(([\d.]+)\) -> ([\d.]+) \(([\d.]+)\) MB/.exec(line);
      if (mc !== null) log.majorGcs.push({ at: performance.now(), phase: log.phase, beforeMb: Number(mc[1]), afterMb: Number(mc[3]), committedMb: Number(mc[4]) });
      return true;
    },
    onEntry: (entry, msg) => {
      if (msg.startsWith("listening")) onListening(entry);
      else if (msg === "synced (daemon:start)") log.startSync = entry;
      else if (msg === "synced (watch)") {
        // at: when it was logged, after the sync; empty: applied, but no file added, changed, archived, restored or invalid.
        const empty = ["added", "changed", "archived", "restored", "invalid"].every((k) => !entry[k]);
        log.watchSyncs.push({ ms: entry.ms, at: Date.parse(entry.time), empty, phase: log.phase });
      }
      else if (msg === "stopped cleanly") log.stoppedCleanly = true;
    },
    // Grouped by message shape (file paths and numbers folded), with the first example kept.
    shape: (msg) => msg.replace(/goals\/\S+/g, "<file>").replace(/\d+/g, "N"),
    exampleChars: 600,
    extra: () => ({ phase: log.phase }),
  });
  const log = Object.assign(followed.log, { phase: "start", watchSyncs: [], startSync: null, stoppedCleanly: false, majorGcs: [] });
  const exited = new Promise((resolve) => {
    child.once("exit", (code, signal) => {
      process.off("exit", killOnExit);
      followed.flush();
      resolve({ code, signal });
    });
  });
  const spawnError = new Promise((_, reject) => child.once("error", (error) => reject(new CheckFailed(`daemon: could not start ${process.execPath}: ${error.message}`))));
  spawnError.catch(() => undefined);

  const waitListening = async () => {
    let timer;
    const timeout = new Promise((_, reject) => {
      timer = setTimeout(() => reject(new CheckFailed(`daemon: no 'listening' log line within ${LISTEN_TIMEOUT_MS / 1000} s`)), LISTEN_TIMEOUT_MS);
    });
    const died = exited.then(({ code, signal }) => {
      throw new CheckFailed(`daemon: exited (${signal ?? `status ${code}`}) before listening\n${tailText(log.stderr)}`);
    });
    try {
      return await Promise.race([listening, timeout, died, spawnError]);
    } finally {
      clearTimeout(timer);
    }
  };

  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return { ...(await exited), alreadyExited: true, ms: 0 };
    return terminate(child, exited, STOP_TIMEOUT_MS);
  };

  return { child, args, log, waitListening, stop };
}


// ---------------------------------------------------------------------------------------------
// Edits
// ---------------------------------------------------------------------------------------------

/** Writes a new title into a goal file; returns what the database must then hold. */
function editor(tree, CheckFailed) {
  let serial = 0;
  return (path) => {
    const absolute = join(tree, path);
    const text = readFileSync(absolute, "utf8");
    serial++;
    const next = text.replace(/^title: (.*?)(?: \(bench edit \d+\))?$/m, `title: $1 (bench edit ${serial})`);
    if (next === text) throw new CheckFailed(`daemon: no title line to edit in ${path}`);
    const bytes = Buffer.from(next, "utf8");
    const hash = sha256(bytes);
    writeFileSync(absolute, bytes);
    return { path, hash, writtenAt: performance.now(), writtenEpoch: Date.now(), landedAt: null };
  };
}

/**
 * Polls the database until every pending edit's hash is there (1 ms timer between polls, so the
 * daemon keeps the CPU it needs), or until `timeoutMs`. Sets landedAt; returns the edits that did not land.
 */
async function waitLanded(pending, hashOf, timeoutMs) {
  const deadline = performance.now() + timeoutMs;
  let left = pending;
  for (;;) {
    const now = performance.now();
    left = left.filter((edit) => {
      if (hashOf.get(edit.path) !== edit.hash) return true;
      edit.landedAt = now;
      return false;
    });
    if (left.length === 0 || now > deadline) return left;
    await sleep(1);
  }
}

// ---------------------------------------------------------------------------------------------
// API clients
// ---------------------------------------------------------------------------------------------

/** node:http with a keep-alive agent: request(method, path, body) -> { status, body }. */
function httpClientFactory(port, token, maxSockets) {
  const agent = new http.Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets });
  const make = () => (method, path, body) =>
    new Promise((resolve, reject) => {
      const data = body === undefined ? "" : JSON.stringify(body);
      const req = http.request(
        {
          agent,
          host: "127.0.0.1",
          port,
          method,
          path,
          headers: { Host: `127.0.0.1:${port}`, Authorization: `Bearer ${token}`, ...(body === undefined ? {} : { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(data) }) },
        },
        (res) => {
          const chunks = [];
          res.on("data", (c) => chunks.push(c));
          res.on("end", () => resolve({ status: res.statusCode, body: Buffer.concat(chunks).toString("utf8") }));
          res.on("error", reject);
        },
      );
      req.on("error", reject);
      req.end(data);
    });
  return { make, close: () => agent.destroy(), name: "node:http, http.Agent keep-alive" };
}

/** One raw keep-alive socket per client, requests written by hand, responses read by Content-Length. */
function rawClientFactory(port, token) {
  const sockets = [];
  const make = () => {
    const socket = net.connect({ host: "127.0.0.1", port });
    socket.setNoDelay(true);
    sockets.push(socket);
    let buffer = Buffer.alloc(0);
    let waiting = null;
    const parse = () => {
      if (waiting === null) return;
      const headerEnd = buffer.indexOf("\r\n\r\n");
      if (headerEnd === -1) return;
      const head = buffer.subarray(0, headerEnd).toString("latin1");
      const length = /\r\ncontent-length:\s*(\d+)/i.exec(head);
      if (length === null) {
        const w = waiting;
        waiting = null;
        w.reject(new Error(`raw client: response without Content-Length: ${head.slice(0, 200)}`));
        return;
      }
      const end = headerEnd + 4 + Number(length[1]);
      if (buffer.length < end) return;
      const response = { status: Number(head.slice(9, 12)), body: buffer.subarray(headerEnd + 4, end).toString("utf8") };
      buffer = buffer.subarray(end);
      const w = waiting;
      waiting = null;
      w.resolve(response);
    };
    socket.on("data", (chunk) => {
      buffer = buffer.length === 0 ? chunk : Buffer.concat([buffer, chunk]);
      parse();
    });
    const fail = (error) => {
      if (waiting === null) return;
      const w = waiting;
      waiting = null;
      w.reject(error);
    };
    socket.on("error", fail);
    socket.on("close", () => fail(new Error("raw client: connection closed")));
    const fixed = `Host: 127.0.0.1:${port}\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/json\r\n`;
    return (method, path, body) =>
      new Promise((resolve, reject) => {
        const data = body === undefined ? "" : JSON.stringify(body);
        waiting = { resolve, reject };
        socket.write(`${method} ${path} HTTP/1.1\r\n${fixed}Content-Length: ${Buffer.byteLength(data)}\r\n\r\n${data}`);
      });
  };
  return { make, close: () => {
      for (const socket of sockets) socket.destroy();
    }, name: "raw sockets, hand-written HTTP/1.1 keep-alive" };
}

/**
 * `clients` loops of start + finish for warmup + seconds; counts the pairs finished inside the
 * measured window, and every pair (for the database check). Every run started is finished.
 */
async function apiRound({ factory, clients, goalIds, warmup, seconds, daemonPid, CheckFailed }) {
  const t0 = performance.now();
  const measureFrom = t0 + warmup * 1000;
  const measureTo = measureFrom + seconds * 1000;
  let totalPairs = 0;
  let windowPairs = 0;
  const latency = { start: [], finish: [] };
  let cpuAtStart = null;
  let cpuAtEnd = null;
  const markTimes = () => {
    // CPU of both processes across the measured window (sampled by whichever client passes first).
    const now = performance.now();
    if (cpuAtStart === null && now >= measureFrom) cpuAtStart = cpuSnapshot(daemonPid);
    if (cpuAtEnd === null && now >= measureTo) cpuAtEnd = cpuSnapshot(daemonPid);
  };
  const client = async (c) => {
    const request = factory.make();
    for (let k = 0; ; k++) {
      markTimes();
      if (performance.now() >= measureTo) return;
      const goalId = goalIds[(c * 7 + k) % goalIds.length];
      const a = performance.now();
      const started = await request("POST", "/v1/runs", { goal_id: goalId });
      const b = performance.now();
      if (started.status !== 201) throw new CheckFailed(`daemon API: POST /v1/runs answered ${started.status}, expected 201: ${started.body.slice(0, 400)}`);
      const runId = JSON.parse(started.body).run_id;
      if (typeof runId !== "string") throw new CheckFailed(`daemon API: POST /v1/runs answered without run_id: ${started.body.slice(0, 400)}`);
      const finished = await request("POST", `/v1/runs/${encodeURIComponent(runId)}/finish`, { outcome: "succeeded", verifier: "passed" });
      const d = performance.now();
      if (finished.status !== 200) throw new CheckFailed(`daemon API: POST /v1/runs/${runId}/finish answered ${finished.status}, expected 200: ${finished.body.slice(0, 400)}`);
      totalPairs++;
      if (a >= measureFrom && d <= measureTo) {
        windowPairs++;
        latency.start.push(b - a);
        latency.finish.push(d - b);
      } else if (d > measureFrom && d <= measureTo) windowPairs++; // straddles the window's start: counted, its latencies not
    }
  };
  try {
    await Promise.all(Array.from({ length: clients }, (_, c) => client(c)));
  } finally {
    factory.close();
  }
  markTimes();
  const cpu = cpuAtStart !== null && cpuAtEnd !== null ? cpuShares(cpuAtStart, cpuAtEnd) : null;
  return { totalPairs, windowPairs, rate: windowPairs / seconds, latency, cpu };
}

function getJson(port, token, path) {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: "127.0.0.1", port, path, headers: { Host: `127.0.0.1:${port}`, Authorization: `Bearer ${token}` } }, (res) => {
      const chunks = [];
      res.on("data", (c) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode, body: Buffer.concat(chunks).toString("utf8") }));
    });
    req.on("error", reject);
  });
}

// ---------------------------------------------------------------------------------------------
// The measurement
// ---------------------------------------------------------------------------------------------

/**
 * Runs the daemon measurements on `tree` (generated, committed to git). `env` is the environment
 * of measured processes (bench/run.mjs's childEnv()); `settings` override DAEMON_DEFAULTS;
 * `nodeArgs` go to node before the CLI (e.g. --cpu-prof --cpu-prof-dir DIR).
 */
export async function measureDaemon({ tree, files, progress, CheckFailed, env, settings = {}, nodeArgs = [] }) {
  const traceGc = nodeArgs.includes("--trace-gc");
  const s = { ...DAEMON_DEFAULTS, ...settings };
  const Database = require("better-sqlite3");
  const stateDir = join(tree, "state");
  rmSync(stateDir, { recursive: true, force: true }); // a fresh database: the tree's goals, no runs

  const command = `node ${nodeArgs.length > 0 ? `${nodeArgs.join(" ")} ` : ""}dist/cli/main.js daemon --port 0 --log-format json`;
  progress(`daemon: starting \`${command}\` in ${tree} ...`);
  const startedAt = performance.now();
  const daemon = startDaemonProcess({ tree, env, nodeArgs, CheckFailed });
  const details = { command, cwd: tree, settings: s, pid: daemon.child.pid };
  let reader = null;
  let stopped = null;
  try {
    const listening = await daemon.waitListening();
    const startMs = performance.now() - startedAt;
    const url = listening.url;
    if (typeof url !== "string") throw new CheckFailed(`daemon: the listening line has no url: ${JSON.stringify(listening)}`);
    const port = Number(new URL(url).port);
    const token = readFileSync(join(stateDir, "token"), "utf8").trim();
    const lock = JSON.parse(readFileSync(join(stateDir, "daemon.lock"), "utf8"));
    if (lock.pid !== daemon.child.pid || lock.url !== url) throw new CheckFailed(`daemon: state/daemon.lock says pid ${lock.pid} url ${lock.url}; the daemon is pid ${daemon.child.pid} at ${url}`);
    const pid = daemon.child.pid;
    const startSync = daemon.log.startSync;
    details.url = url;
    details.startSync = { listeningAfterMs: startMs, syncMs: startSync?.ms ?? null, added: startSync?.added ?? null, watcher: listening.watcher ?? null };
    progress(`daemon: pid ${pid} listening on ${url} after ${(startMs / 1000).toFixed(2)} s (start sync: ${startSync === null ? "no log line" : `${fmtInt(startSync.added)} added in ${fmtInt(startSync.ms)} ms`}; watcher ${listening.watcher})`);
    if (startSync !== null && startSync.added !== files) throw new CheckFailed(`daemon: the start sync added ${startSync.added} files, expected ${files}`);

    reader = new Database(join(stateDir, "goalops.db"), { readonly: true, fileMustExist: true });
    const hashOf = reader.prepare("SELECT content_hash FROM spec_files WHERE path = ?").pluck();
    const paths = reader.prepare("SELECT path FROM spec_files WHERE path LIKE 'goals/%' ORDER BY path").pluck().all();
    if (paths.length !== files) throw new CheckFailed(`daemon: spec_files lists ${paths.length} goal files after the start sync, expected ${files}`);
    const edit = editor(tree, CheckFailed);

    // RSS after the start sync and a settle.
    daemon.log.phase = "settle";
    await sleep(SETTLE_MS);
    const rssBefore = procStats(pid);
    const gcMark = (at) => daemon.log.majorGcs.filter((g) => g.at <= at).at(-1) ?? null;
    const rssBeforeAt = performance.now();
    progress(`daemon: RSS after the start sync ${rssBefore.rssMb.toFixed(1)} MB (VmHWM ${rssBefore.hwmMb.toFixed(1)} MB)`);

    // (1) edit-to-database latency.
    const latencyEdits = Math.min(s.latencyEdits, paths.length - LATENCY_WARMUP_EDITS);
    if (latencyEdits < 1) throw new CheckFailed(`daemon: the tree has ${paths.length} files, too few for the latency edits`);
    const picks = Array.from({ length: latencyEdits + LATENCY_WARMUP_EDITS }, (_, i) => paths[Math.floor(((i + 0.5) * paths.length) / (latencyEdits + LATENCY_WARMUP_EDITS))]);
    let rng = 0x2545f491;
    const gap = () => {
      rng ^= rng << 13;
      rng ^= rng >>> 17;
      rng ^= rng << 5;
      return GAP_MS[0] + ((rng >>> 0) % (GAP_MS[1] - GAP_MS[0] + 1));
    };
    const measuredEdits = [];
    const epochs = {}; // wall-clock starts of the phases, to count the daemon's log lines in each
    let lost = 0;
    let latencyCpuFrom = null;
    for (let i = 0; i < picks.length; i++) {
      const measured = i >= LATENCY_WARMUP_EDITS;
      daemon.log.phase = measured ? "latency" : "latency-warmup";
      if (measured && latencyCpuFrom === null) {
        latencyCpuFrom = cpuSnapshot(pid);
        epochs.latency = Date.now();
      }
      const e = edit(picks[i]);
      const left = await waitLanded([e], hashOf, LAND_TIMEOUT_MS);
      if (measured) {
        if (left.length > 0) lost++;
        e.latency = left.length > 0 ? LAND_TIMEOUT_MS : e.landedAt - e.writtenAt;
        measuredEdits.push(e);
        const n = measuredEdits.length;
        if (n % 50 === 0 || n === latencyEdits) {
          const sorted = ascending(measuredEdits.map((m) => m.latency));
          progress(`daemon: edit latency ${n}/${latencyEdits}: p50 ${fmtMs(percentile(sorted, 50))}, p95 ${fmtMs(percentile(sorted, 95))}, max ${fmtMs(sorted[sorted.length - 1])}${lost > 0 ? `, ${lost} lost` : ""}`);
        }
      }
      await sleep(gap());
    }
    const latencyCpu = cpuShares(latencyCpuFrom, cpuSnapshot(pid));
    const latencies = measuredEdits.map((m) => m.latency);
    const rssAfterLatency = procStats(pid);

    // (2) RSS across many edits, round-robin over the files, a batch at a time.
    daemon.log.phase = "rss-edits";
    epochs.rss = Date.now();
    const rssStart = performance.now();
    const rssCpuFrom = cpuSnapshot(pid);
    const rssCurve = [{ edits: 0, rssMb: rssAfterLatency.rssMb }];
    let done = 0;
    let next = 0;
    let rssLost = 0;
    let peakRss = Math.max(rssBefore.rssMb, rssAfterLatency.rssMb);
    let nextReport = 1_000;
    while (done < s.edits && performance.now() - rssStart < RSS_EDITS_MAX_MS) {
      const batch = [];
      for (let i = 0; i < Math.min(s.editBatch, s.edits - done); i++) batch.push(edit(paths[next++ % paths.length]));
      rssLost += (await waitLanded(batch, hashOf, LAND_TIMEOUT_MS)).length;
      done += batch.length;
      const rssNow = procStats(pid).rssMb;
      peakRss = Math.max(peakRss, rssNow);
      if (done >= nextReport || done === s.edits) {
        rssCurve.push({ edits: done, rssMb: rssNow });
        progress(`daemon: ${fmtInt(done)}/${fmtInt(s.edits)} edits in ${((performance.now() - rssStart) / 1000).toFixed(1)} s, RSS ${rssNow.toFixed(1)} MB${rssLost > 0 ? `, ${rssLost} not landed within ${LAND_TIMEOUT_MS / 1000} s` : ""}`);
        while (nextReport <= done) nextReport += 1_000;
      }
    }
    const rssEditSeconds = (performance.now() - rssStart) / 1000;
    const rssCpu = cpuShares(rssCpuFrom, cpuSnapshot(pid));
    daemon.log.phase = "settle";
    await sleep(SETTLE_MS);
    const rssAfter = procStats(pid);
    const rssAfterAt = performance.now();
    peakRss = Math.max(peakRss, rssAfter.rssMb);
    const totalEdits = picks.length + done;
    progress(`daemon: RSS after ${fmtInt(totalEdits)} edits and a ${SETTLE_MS / 1000} s settle: ${rssAfter.rssMb.toFixed(1)} MB (${rssBefore.rssMb.toFixed(1)} MB before; peak sampled ${peakRss.toFixed(1)} MB, VmHWM ${rssAfter.hwmMb.toFixed(1)} MB)`);

    // (3) API throughput: run start + finish pairs.
    daemon.log.phase = "api";
    epochs.api = Date.now();
    const goalsResponse = await getJson(port, token, "/v1/goals");
    if (goalsResponse.status !== 200) throw new CheckFailed(`daemon API: GET /v1/goals answered ${goalsResponse.status}: ${goalsResponse.body.slice(0, 400)}`);
    const allGoals = JSON.parse(goalsResponse.body).goals;
    if (!Array.isArray(allGoals) || allGoals.length !== files) throw new CheckFailed(`daemon API: GET /v1/goals listed ${allGoals?.length} goals, expected ${files}`);
    const goalIds = Array.from({ length: Math.min(API_GOALS, allGoals.length) }, (_, i) => allGoals[Math.floor(((i + 0.5) * allGoals.length) / Math.min(API_GOALS, allGoals.length))].goal_id);
    const finishedCount = reader.prepare("SELECT COUNT(*) FROM goal_runs WHERE run_state = 'finished'").pluck();
    const allCount = reader.prepare("SELECT COUNT(*) FROM goal_runs").pluck();
    const api = {};
    for (const [name, factory] of [
      ["http", httpClientFactory(port, token, s.clients)],
      ["raw", rawClientFactory(port, token)],
    ]) {
      const before = finishedCount.get();
      progress(`daemon: API, ${factory.name}: ${s.clients} clients, ${s.warmup} s warm-up + ${s.seconds} s over ${goalIds.length} goals ...`);
      const r = await apiRound({ factory, clients: s.clients, goalIds, warmup: s.warmup, seconds: s.seconds, daemonPid: pid, CheckFailed });
      const after = finishedCount.get();
      if (after - before !== r.totalPairs) throw new CheckFailed(`daemon API (${name}): the database holds ${after - before} more finished runs, the clients finished ${r.totalPairs}`);
      const all = [...r.latency.start, ...r.latency.finish];
      r.sorted = { all: ascending(all), start: ascending(r.latency.start), finish: ascending(r.latency.finish) };
      r.name = factory.name;
      r.dbFinished = after - before;
      api[name] = r;
      progress(`daemon: API, ${name}: ${fmtInt(r.rate)} runs/s (${fmtInt(r.windowPairs)} pairs in ${s.seconds} s; ${fmtInt(r.totalPairs)} with the warm-up, all in the database); request p50 ${fmtMs(percentile(r.sorted.all, 50))}, p99 ${fmtMs(percentile(r.sorted.all, 99))}; ${fmtCpu(r.cpu)}`);
    }
    const unfinished = allCount.get() - finishedCount.get();
    if (unfinished !== 0) throw new CheckFailed(`daemon API: ${unfinished} runs in goal_runs are not finished`);
    const rssAfterApi = procStats(pid);
    reader.close();
    reader = null;

    daemon.log.phase = "stop";
    stopped = await daemon.stop();
    progress(`daemon: SIGTERM: ${stopped.signal !== null ? `killed by ${stopped.signal}` : `exit status ${stopped.code}`} after ${fmtInt(stopped.ms)} ms${stopped.killedAfterTimeout ? ` (SIGKILL after ${STOP_TIMEOUT_MS / 1000} s)` : ""}`);

    // Where an edit's time goes, from the daemon's log: each measured edit against the first
    // "synced (watch)" line with a change logged after it (its time is when the sync ended, ms how long it took).
    const watch = daemon.log.watchSyncs.filter((x) => !x.empty);
    const toSyncStart = [];
    const syncMs = [];
    let w = 0;
    for (const [i, e] of measuredEdits.entries()) {
      const nextWrite = measuredEdits[i + 1]?.writtenEpoch ?? Number.POSITIVE_INFINITY;
      while (w < watch.length && watch[w].at < e.writtenEpoch) w++;
      if (w < watch.length && watch[w].at < nextWrite) {
        toSyncStart.push(watch[w].at - watch[w].ms - e.writtenEpoch);
        syncMs.push(watch[w].ms);
      }
    }

    const syncsBetween = (from, to) => {
      const lines = daemon.log.watchSyncs.filter((x) => x.at >= from && x.at < to);
      return { logged: lines.length, empty: lines.filter((x) => x.empty).length };
    };
    Object.assign(details, {
      watchSyncs: { latency: { edits: latencyEdits, ...syncsBetween(epochs.latency, epochs.rss) }, rss: { edits: done, ...syncsBetween(epochs.rss, epochs.api) } },
      latency: {
        edits: latencyEdits,
        warmupEdits: LATENCY_WARMUP_EDITS,
        gapMs: GAP_MS,
        lost,
        samples: latencies.map((v) => Math.round(v * 100) / 100),
        breakdown: { matched: syncMs.length, writeToSyncStartMs: summaryOf(toSyncStart), syncMs: summaryOf(syncMs), writeToSyncStartSamples: toSyncStart, syncMsSamples: syncMs },
        cpuPercent: latencyCpu,
      },
      heap: traceGc
        ? { atBefore: gcMark(rssBeforeAt), atAfter: gcMark(rssAfterAt), majorGcsBetween: daemon.log.majorGcs.filter((g) => g.at > rssBeforeAt && g.at <= rssAfterAt).length, liveAfterMajorGcsBetweenMb: daemon.log.majorGcs.filter((g) => g.at > rssBeforeAt && g.at <= rssAfterAt).map((g) => g.afterMb) }
        : null,
      rss: { beforeMb: rssBefore.rssMb, afterLatencyMb: rssAfterLatency.rssMb, afterMb: rssAfter.rssMb, afterApiMb: rssAfterApi.rssMb, peakSampledMb: peakRss, hwmMb: rssAfterApi.hwmMb, curve: rssCurve, edits: done, totalEdits, editBatch: s.editBatch, seconds: rssEditSeconds, lost: rssLost, cappedByTime: done < s.edits, cpuPercent: rssCpu },
      api: Object.fromEntries(
        Object.entries(api).map(([name, r]) => [
          name,
          {
            client: r.name,
            clients: s.clients,
            warmupSeconds: s.warmup,
            seconds: s.seconds,
            goals: goalIds.length,
            windowPairs: r.windowPairs,
            totalPairs: r.totalPairs,
            dbFinished: r.dbFinished,
            runsPerSecond: r.rate,
            requestMs: summaryOf([...r.sorted.all]),
            startMs: summaryOf([...r.sorted.start]),
            finishMs: summaryOf([...r.sorted.finish]),
            cpuPercent: r.cpu,
            daemonCpuMsPerRun: r.cpu === null || r.rate === 0 ? null : (1000 * r.cpu.daemonCpuSeconds) / (r.rate * r.cpu.wallSeconds),
          },
        ]),
      ),
    });
  } catch (error) {
    // The daemon's own account, for the failure report.
    reader?.close();
    reader = null;
    if (stopped === null) stopped = await daemon.stop();
    progress(`daemon: stopped after a failure (${stopped.signal ?? `exit status ${stopped.code}`}); its log: ${daemon.log.lines} lines, ${JSON.stringify(daemon.log.levels)}`);
    for (const [shape, p] of daemon.log.problems) progress(`daemon:   ${p.count} x ${shape}: ${p.example}`);
    if (daemon.log.stderr.trim() !== "") progress(`daemon: stderr:\n${tailText(daemon.log.stderr)}`);
    throw error;
  } finally {
    reader?.close();
    if (stopped === null) stopped = await daemon.stop();
    details.exit = { code: stopped.code, signal: stopped.signal, ms: stopped.ms, killedAfterTimeout: stopped.killedAfterTimeout ?? false, stoppedCleanly: daemon.log.stoppedCleanly };
    details.log = { lines: daemon.log.lines, levels: daemon.log.levels, problems: [...daemon.log.problems].map(([shape, p]) => ({ shape, ...p })), nonJson: daemon.log.nonJson, stderr: daemon.log.stderr };
  }
  return { rows: daemonRows(details, files), details };
}

function summaryOf(values) {
  if (values.length === 0) return null;
  const sorted = ascending(values);
  return { n: sorted.length, p50: percentile(sorted, 50), p95: percentile(sorted, 95), p99: percentile(sorted, 99), max: sorted[sorted.length - 1] };
}

function daemonRows(d, files) {
  const rows = [];
  const row = (key, label, unit, value, detail, target, met) => rows.push({ key, label, unit, value, detail, target: target ?? null, met: met ?? null });
  if (d.latency !== undefined) {
    const lat = summaryOf(d.latency.samples);
    const b = d.latency.breakdown;
    const scope = `${fmtInt(d.latency.edits)} single-file edits, ${fmtInt(files)} files`;
    const lostNote = d.latency.lost > 0 ? `; ${d.latency.lost} not in the database within ${LAND_TIMEOUT_MS / 1000} s, counted at ${LAND_TIMEOUT_MS / 1000} s` : "";
    const split = b.matched === 0 ? "no 'synced (watch)' log lines to match" : `from the daemon's log (${b.matched} edits matched, ms precision): write to sync start p50 ${fmtMs(b.writeToSyncStartMs.p50)}, p95 ${fmtMs(b.writeToSyncStartMs.p95)} (inotify, chokidar, the watcher's debounce); the sync itself p50 ${fmtMs(b.syncMs.p50)}, p95 ${fmtMs(b.syncMs.p95)}, max ${fmtMs(b.syncMs.max)}`;
    row("daemon_edit_latency_p50", `edit to database, p50 (${scope})`, "ms", lat.p50, `${split}${lostNote}`);
    row("daemon_edit_latency_p95", "edit to database, p95", "ms", lat.p95, fmtCpu(d.latency.cpuPercent), `<= ${DAEMON_TARGETS.latencyP95.max} ms`, lat.p95 <= DAEMON_TARGETS.latencyP95.max);
    row("daemon_edit_latency_p99", "edit to database, p99", "ms", lat.p99, "", `<= ${DAEMON_TARGETS.latencyP99.max} ms`, lat.p99 <= DAEMON_TARGETS.latencyP99.max);
    row("daemon_edit_latency_max", "edit to database, max (info)", "ms", lat.max, "");
  }
  for (const [name, a] of Object.entries(d.api ?? {})) {
    const perRun = a.daemonCpuMsPerRun === null ? "" : `; daemon CPU per recorded run ${a.daemonCpuMsPerRun.toFixed(2)} ms (${fmtInt(1000 / a.daemonCpuMsPerRun)} runs/s if it had a core to itself)`;
    row(`daemon_api_${name}`, `API run start + finish, ${a.client}, ${a.clients} clients (recorded runs/s)`, "runs/s", a.runsPerSecond, `${fmtInt(a.windowPairs)} pairs in ${a.seconds} s after ${a.warmupSeconds} s warm-up, over ${a.goals} goals; ${fmtInt(a.dbFinished)} finished runs in the database = ${fmtInt(a.totalPairs)} pairs counted; ${fmtCpu(a.cpuPercent)}${perRun}`, `>= ${fmtInt(DAEMON_TARGETS.throughput.min)} runs/s`, a.runsPerSecond >= DAEMON_TARGETS.throughput.min);
    row(`daemon_api_${name}_latency_p50`, `API request latency, ${name}, p50 (info)`, "ms", a.requestMs?.p50 ?? null, a.requestMs === null ? "" : `start p50 ${fmtMs(a.startMs.p50)}, finish p50 ${fmtMs(a.finishMs.p50)}; ${fmtInt(a.requestMs.n)} requests`);
    row(`daemon_api_${name}_latency_p99`, `API request latency, ${name}, p99 (info)`, "ms", a.requestMs?.p99 ?? null, a.requestMs === null ? "" : `start p99 ${fmtMs(a.startMs.p99)}, finish p99 ${fmtMs(a.finishMs.p99)}; max ${fmtMs(a.requestMs.max)}`);
  }
  if (d.rss !== undefined) {
    const r = d.rss;
    const growth = (100 * (r.afterMb - r.beforeMb)) / r.beforeMb;
    const editsNote = `${fmtInt(r.edits)} edits round-robin over the files, ${r.editBatch} per batch, each batch waited for, in ${r.seconds.toFixed(1)} s (${fmtInt(r.edits / r.seconds)} edits/s${r.lost > 0 ? `; ${r.lost} not landed within ${LAND_TIMEOUT_MS / 1000} s` : ""}${r.cappedByTime ? "; stopped at the 10-minute cap" : ""}), after the ${fmtInt(r.totalEdits - r.edits)} of the latency part; ${fmtCpu(r.cpuPercent)}`;
    const curve = r.curve.map((p) => `${fmtInt(p.edits)}: ${p.rssMb.toFixed(0)}`).join(", ");
    row("daemon_rss_before", `daemon RSS after the start sync and a ${SETTLE_MS / 1000} s settle (info)`, "MB", r.beforeMb, `after the latency edits: ${r.afterLatencyMb.toFixed(1)} MB`);
    row("daemon_rss_after", `daemon RSS after ${fmtInt(r.totalEdits)} edits and a ${SETTLE_MS / 1000} s settle (info)`, "MB", r.afterMb, editsNote);
    const h = d.heap;
    const heap = h == null ? "" : `; V8 heap live after the last major GC (--trace-gc): ${h.atBefore === null ? "n/a" : `${h.atBefore.afterMb.toFixed(0)} MB`} at the first reading, ${h.atAfter === null ? "n/a" : `${h.atAfter.afterMb.toFixed(0)} MB (of ${h.atAfter.committedMb.toFixed(0)} MB committed)`} at the second, ${h.majorGcsBetween} major GCs between (live after each: ${h.liveAfterMajorGcsBetweenMb.map((v) => v.toFixed(0)).join(", ") || "-"} MB)`;
    row("daemon_rss_growth", "daemon RSS growth over the edits", "%", growth, `RSS (MB) by edits of the RSS part: ${curve}${heap}; peak of the readings (after each batch, and these) ${r.peakSampledMb.toFixed(1)} MB; VmHWM (whole life, start sync included) ${r.hwmMb.toFixed(1)} MB; after the API part ${r.afterApiMb.toFixed(1)} MB`, `<= ${DAEMON_TARGETS.rssGrowth.max}%`, growth <= DAEMON_TARGETS.rssGrowth.max);
  }
  const e = d.exit;
  const how = e.signal !== null ? `killed by ${e.signal}` : `exit status ${e.code}`;
  row("daemon_exit", "daemon exit status after SIGTERM", "status", e.code, `${how} after ${fmtInt(e.ms ?? 0)} ms${e.killedAfterTimeout ? ` (did not exit within ${STOP_TIMEOUT_MS / 1000} s: SIGKILL)` : ""}; 'stopped cleanly' ${e.stoppedCleanly ? "logged" : "not logged"}`, "0", e.code === 0 && e.signal === null);
  return rows;
}

function formatValue(row) {
  const v = row.value;
  if (v === null || v === undefined) return "n/a";
  if (row.unit === "ms") return fmtMs(v);
  if (row.unit === "MB") return `${v.toFixed(1)} MB`;
  if (row.unit === "%") return `${v >= 0 ? "+" : ""}${v.toFixed(1)}%`;
  if (row.unit === "runs/s") return `${fmtInt(v)} runs/s`;
  return String(v);
}

/** The daemon section of bench/run.mjs's markdown report. */
export function daemonMarkdown(daemon) {
  const { details: d, rows } = daemon;
  const out = [];
  out.push("## daemon (bench/daemon.mjs)");
  out.push("");
  const start = d.startSync;
  out.push(`daemon: \`${d.command}\` in the tree (pid ${d.pid}${d.url ? `, ${d.url}` : ""}); ${start ? `listening ${(start.listeningAfterMs / 1000).toFixed(2)} s after spawn, start sync ${start.syncMs === null ? "n/a" : `${fmtInt(start.syncMs)} ms`} (its log), watcher ${start.watcher}` : "did not start"}.`);
  if (d.latency) {
    out.push(`edit to database: writeFileSync of a new title line returning -> \`SELECT content_hash FROM spec_files WHERE path = ?\` (better-sqlite3 readonly, polled every ~1 ms) equal to the sha256 of the bytes written; one edit at a time, each to a different file, ${d.latency.gapMs.join("-")} ms between one landing and the next write, ${d.latency.warmupEdits} unmeasured edits first. RSS: VmRSS from /proc/<pid>/status. API: each client loops POST /v1/runs then POST /v1/runs/<id>/finish on its own keep-alive connection.`);
  }
  out.push("");
  out.push("| measurement | value | detail | target | met? |");
  out.push("|---|---:|---|---|---|");
  for (const row of rows) out.push(`| ${row.label} | ${formatValue(row)} | ${row.detail || "-"} | ${row.target ?? "-"} | ${row.met === null ? "-" : row.met ? "yes" : "**no**"} |`);
  out.push("");
  const levels = Object.entries(d.log.levels).map(([level, n]) => `${level} ${fmtInt(n)}`).join(", ");
  out.push(`daemon log (stdout): ${fmtInt(d.log.lines)} lines (${levels || "none"}).${d.log.problems.length === 0 ? " No warnings or errors." : " Warnings and errors:"}`);
  if (d.watchSyncs !== undefined) {
    const w = d.watchSyncs;
    out.push(`'synced (watch)' lines logged: ${fmtInt(w.latency.logged)} during the ${fmtInt(w.latency.edits)} latency edits (${fmtInt(w.latency.empty)} of them with nothing added, changed, archived, restored or invalid), ${fmtInt(w.rss.logged)} during the ${fmtInt(w.rss.edits)} RSS edits and the settle after them (${fmtInt(w.rss.empty)} empty).`);
  }
  for (const p of d.log.problems.slice(0, 20)) out.push(`- ${p.count} x \`${p.shape}\` (first during ${p.phase}): \`${p.example.replace(/`/g, "'")}\``);
  if (d.log.nonJson.length > 0) out.push(`- lines that are not JSON: ${d.log.nonJson.map((l) => `\`${l.replace(/`/g, "'")}\``).join("; ")}`);
  out.push(d.log.stderr.trim() === "" ? "daemon stderr: empty." : `daemon stderr:\n\n\`\`\`\n${d.log.stderr.trimEnd().slice(-4000)}\n\`\`\``);
  return `${out.join("\n")}\n`;
}
