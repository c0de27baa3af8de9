import { chmodSync, existsSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, describe, expect, it } from "vitest";
import { type AgentJobOptions, parseReportLine, startAgentJob } from "../src/continuity/agentJob.js";

const dir = mkdtempSync(join(tmpdir(), "goalops-agentjob-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const NODE = process.execPath;

/** Options for a node `-e` script; tests override what they are about. */
function nodeJob(script: string, overrides: Partial<AgentJobOptions> = {}, args: string[] = []): AgentJobOptions {
  return { command: [NODE, "-e", script, ...args], input: "", cwd: dir, timeoutMs: 5_000, killGraceMs: 300, ...overrides };
}

let pidFiles = 0;
const nextPidFile = (): string => join(dir, `grandchild-${++pidFiles}.pid`);

/**
 * A job whose process starts a grandchild in the same process group (sharing its stdout, as a
 * careless agent's tool would), the grandchild writing its pid to `pidFile` and sleeping.
 * `afterSpawn` is what the job itself then does.
 */
function spawnerScript(afterSpawn: string): string {
  return `
    const { spawn } = require("node:child_process");
    const grandchild = "require('node:fs').writeFileSync(process.argv[1], String(process.pid)); setInterval(() => {}, 1000);";
    spawn(process.execPath, ["-e", grandchild, process.argv[1]], { stdio: "inherit" });
    ${afterSpawn}
  `;
}

/**
 * Whether `pid` is still a running process. A zombie counts as gone: it is dead and only waits to
 * be reaped by init, which some containers never do.
 */
function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ESRCH") return false;
    throw error;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return true;
  }
}

async function waitUntilGone(pid: number, withinMs = 2_000): Promise<boolean> {
  const deadline = Date.now() + withinMs;
  while (isRunning(pid)) {
    if (Date.now() > deadline) return false;
    await sleep(25);
  }
  return true;
}

async function waitForFile(path: string, withinMs = 3_000): Promise<string> {
  const deadline = Date.now() + withinMs;
  while (!existsSync(path) || readFileSync(path, "utf8") === "") {
    if (Date.now() > deadline) throw new Error(`${path} did not appear within ${withinMs} ms`);
    await sleep(20);
  }
  return readFileSync(path, "utf8");
}

describe("agent job", () => {
  it("passes the goal context on stdin, captures stdout and parses a closing JSON report", async () => {
    const script = `
      let text = "";
      process.stdin.on("data", (chunk) => { text += chunk; });
      process.stdin.on("end", () => {
        const context = JSON.parse(text);
        console.log("working on " + context.goal);
        console.log(JSON.stringify({ outcome: "succeeded", actions: ["x"], goal: context.goal }));
      });
    `;
    const job = startAgentJob(nodeJob(script, { input: JSON.stringify({ goal: "goal_1" }) }));
    expect(job.pid).toBeTypeOf("number");
    const result = await job.done;
    expect(result).toMatchObject({ exitCode: 0, signal: null, timedOut: false, stopped: false, startError: null, pid: job.pid, stderrTail: "" });
    expect(result.stdoutTail).toBe('working on goal_1\n{"outcome":"succeeded","actions":["x"],"goal":"goal_1"}\n');
    expect(result.report).toEqual({ outcome: "succeeded", actions: ["x"], goal: "goal_1" });
    expect(result.durationMs).toBeGreaterThanOrEqual(0);
  });

  it("runs in the given cwd with the extra env merged over the daemon's", async () => {
    const script = `console.log(JSON.stringify({ cwd: process.cwd(), extra: process.env.GOALOPS_JOB_EXTRA, path: process.env.PATH }))`;
    const result = await startAgentJob(nodeJob(script, { env: { GOALOPS_JOB_EXTRA: "yes" } })).done;
    expect(result.report).toEqual({ cwd: realpathSync(dir), extra: "yes", path: process.env.PATH });
  });

  it("reports a failing job's exit code and stderr, with no report when the last line is not JSON", async () => {
    const script = `console.log('{"outcome":"failed"}'); console.log("not json at the end"); console.error("it broke"); process.exit(3);`;
    const result = await startAgentJob(nodeJob(script)).done;
    expect(result).toMatchObject({ exitCode: 3, signal: null, timedOut: false, startError: null, report: null });
    expect(result.stderrTail).toBe("it broke\n");
  });

  it("kills the whole process group, grandchildren included, when the job outlives its timeout", async () => {
    const pidFile = nextPidFile();
    const job = startAgentJob(nodeJob(spawnerScript("setInterval(() => {}, 1000);"), { timeoutMs: 500, killGraceMs: 300 }, [pidFile]));
    const result = await job.done;
    expect(result).toMatchObject({ timedOut: true, stopped: false, exitCode: null, signal: "SIGTERM" });
    expect(result.durationMs).toBeLessThan(3_000);
    const grandchild = Number(readFileSync(pidFile, "utf8"));
    expect(isRunning(job.pid as number)).toBe(false);
    expect(await waitUntilGone(grandchild)).toBe(true);
  });

  it("follows up with SIGKILL after the grace when the job ignores SIGTERM", async () => {
    const script = `process.on("SIGTERM", () => {}); console.log("ready"); setInterval(() => {}, 1000);`;
    const result = await startAgentJob(nodeJob(script, { timeoutMs: 800, killGraceMs: 300 })).done;
    expect(result).toMatchObject({ timedOut: true, exitCode: null, signal: "SIGKILL", stdoutTail: "ready\n" });
    expect(result.durationMs).toBeGreaterThanOrEqual(1_000);
  });

  it("stops a running job and its grandchildren on request, recording the reason", async () => {
    const pidFile = nextPidFile();
    const job = startAgentJob(nodeJob(spawnerScript("setInterval(() => {}, 1000);"), { timeoutMs: 10_000 }, [pidFile]));
    const grandchild = Number(await waitForFile(pidFile));
    const result = await job.stop("daemon shutdown");
    expect(result).toMatchObject({ stopped: true, stopReason: "daemon shutdown", timedOut: false, exitCode: null, signal: "SIGTERM" });
    expect(await job.done).toBe(result);
    expect(result.durationMs).toBeLessThan(5_000);
    expect(await waitUntilGone(grandchild)).toBe(true);
  });

  it("does not count a stop after the job has exited as stopping it", async () => {
    const job = startAgentJob(nodeJob("process.exit(0)"));
    await job.done;
    const result = await job.stop("too late");
    expect(result).toMatchObject({ exitCode: 0, stopped: false, stopReason: null });
  });

  it("cleans up what the job leaves running when it exits, instead of waiting for the timeout", async () => {
    const pidFile = nextPidFile();
    const waitThenExit = `
      const fs = require("node:fs");
      const poll = setInterval(() => { if (fs.existsSync(process.argv[1]) && fs.readFileSync(process.argv[1], "utf8")) { clearInterval(poll); process.exit(0); } }, 20);
    `;
    const result = await startAgentJob(nodeJob(spawnerScript(waitThenExit), { timeoutMs: 20_000 }, [pidFile])).done;
    expect(result).toMatchObject({ exitCode: 0, timedOut: false, stopped: false });
    expect(result.durationMs).toBeLessThan(5_000);
    expect(await waitUntilGone(Number(readFileSync(pidFile, "utf8")))).toBe(true);
  });

  it.each([
    ["a missing program", ["/nonexistent/prog"], /ENOENT/],
    ["a file that is not executable", [join(dir, "not-executable.sh"), "arg"], /EACCES/],
    ["an empty command", [], /empty/],
  ])("returns a startError instead of throwing for %s", async (_name, command, message) => {
    writeFileSync(join(dir, "not-executable.sh"), "#!/bin/sh\necho hi\n");
    chmodSync(join(dir, "not-executable.sh"), 0o644);
    const job = startAgentJob({ command, input: "{}", cwd: dir, timeoutMs: 1_000, killGraceMs: 100 });
    expect(job.pid).toBeNull();
    const result = await job.done;
    expect(result).toMatchObject({ exitCode: null, signal: null, timedOut: false, pid: null, report: null, stdoutTail: "" });
    expect(result.startError).toMatch(message);
    expect(await job.stop()).toBe(result);
  });

  it("keeps only the tail of a job that prints megabytes, and still finds its report", async () => {
    const script = `
      const line = "x".repeat(99) + "\\n";
      process.stdout.write(line.repeat(50_000));
      process.stdout.write(JSON.stringify({ outcome: "succeeded", notes: "after 5 MB" }) + "\\n");
    `;
    const result = await startAgentJob(nodeJob(script, { maxOutputBytes: 1_000 })).done;
    expect(result.exitCode).toBe(0);
    expect(Buffer.byteLength(result.stdoutTail)).toBeLessThanOrEqual(1_000);
    expect(result.stdoutTail.endsWith('x\n{"outcome":"succeeded","notes":"after 5 MB"}\n')).toBe(true);
    expect(result.report).toEqual({ outcome: "succeeded", notes: "after 5 MB" });
  });

  it("does not split a multi-byte character where the tail is cut", async () => {
    const result = await startAgentJob(nodeJob(`process.stdout.write("é".repeat(1_000))`, { maxOutputBytes: 101 })).done;
    expect(result.stdoutTail).toBe("é".repeat(50));
  });

  it("passes arguments literally, never through a shell", async () => {
    const marker = join(dir, "shell-ran");
    const args = [`$(touch ${marker})`, "; echo hi", "`touch " + marker + "`", "*", "$HOME", "a b", ""];
    const script = `console.log(JSON.stringify({ args: process.argv.slice(1) }))`;
    const result = await startAgentJob(nodeJob(script, {}, args)).done;
    expect(result.report).toEqual({ args });
    expect(existsSync(marker)).toBe(false);
  });
});

describe("closing report line", () => {
  it.each<[string, string, Record<string, unknown> | null]>([
    ["the last line is an object", 'log\n{"outcome":"failed","failure_category":"tool_error"}\n', { outcome: "failed", failure_category: "tool_error" }],
    ["trailing blank lines and CRLF", '{"a":1}\r\n\r\n  \n', { a: 1 }],
    ["an earlier object is not the last line", '{"a":1}\ndone\n', null],
    ["an array", "[1,2]\n", null],
    ["a JSON string", '"text"\n', null],
    ["broken JSON", '{"a":\n', null],
    ["no output", "", null],
  ])("%s", (_name, stdout, report) => {
    expect(parseReportLine(stdout)).toEqual(report);
  });
});
