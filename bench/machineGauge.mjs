// How fast the machine is right now: a fixed single-threaded workload (integer arithmetic, a Map,
// an object sort), timed in a fresh node process, and 50 writes of 16 KB each followed by fsync
// (what a commit costs the disk). This machine's speed varies by 2x and more within an hour (a
// shared host); the bench prints the gauge before each part so that a figure can be read against
// the speed the machine had when it was measured. Lower is faster.
//
//   node bench/machineGauge.mjs          prints the median of 3 runs of each, in ms
import { spawnSync } from "node:child_process";
import { closeSync, fsyncSync, mkdtempSync, openSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const RUNS = 3;

/** The workload; returns its duration in ms. */
function workload() {
  const start = process.hrtime.bigint();
  const map = new Map();
  for (let i = 0; i < 2_000_000; i++) map.set(`k${i % 50_000}`, i);
  let sum = 0;
  for (let i = 0; i < 30_000_000; i++) sum = (sum + i * 7) % 1_000_003;
  const objects = [];
  for (let i = 0; i < 500_000; i++) objects.push({ i, text: `x${i}` });
  objects.sort((a, b) => (a.text < b.text ? -1 : 1));
  if (sum < 0 || objects.length !== 500_000) throw new Error("unreachable");
  return Number(process.hrtime.bigint() - start) / 1e6;
}

/** 50 writes of 16 KB, each followed by fsync, in a file in `dir`; returns ms. */
function fsyncs(dir) {
  const folder = mkdtempSync(join(dir, "goalops-gauge-"));
  const fd = openSync(join(folder, "gauge.bin"), "w");
  const block = Buffer.alloc(16_384, 1);
  const start = process.hrtime.bigint();
  try {
    for (let i = 0; i < 50; i++) {
      writeSync(fd, block);
      fsyncSync(fd);
    }
    return Number(process.hrtime.bigint() - start) / 1e6;
  } finally {
    closeSync(fd);
    rmSync(folder, { recursive: true, force: true });
  }
}

/** The median of RUNS runs of the CPU workload, each in a fresh process, and of the fsyncs (ms); null where node could not run it. */
export function gaugeMachine() {
  const disk = [fsyncs(tmpdir()), fsyncs(tmpdir()), fsyncs(tmpdir())].sort((a, b) => a - b)[1];
  return { cpuMs: gaugeCpu(), fsyncMs: disk };
}

function gaugeCpu() {
  const times = [];
  for (let i = 0; i < RUNS; i++) {
    const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), "--once"], { encoding: "utf8", env: { PATH: process.env.PATH ?? "" } });
    const ms = Number(r.stdout.trim());
    if (r.status !== 0 || !Number.isFinite(ms)) return null;
    times.push(ms);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  if (process.argv[2] === "--once") process.stdout.write(`${workload().toFixed(0)}\n`);
  else {
    const { cpuMs, fsyncMs } = gaugeMachine();
    process.stdout.write(`cpu ${cpuMs?.toFixed(0) ?? "n/a"} ms, 50 fsyncs ${fsyncMs.toFixed(0)} ms\n`);
  }
}
