/**
 * The real daemon as a subprocess (`goalops daemon --port 0 --log-format json`), as a user runs it:
 * started on a temp repository, its log lines collected, its API called with fetch.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll } from "vitest";
import { CLI } from "./cli.js";

export interface DaemonProcess {
  url: string;
  token: string;
  pid: number;
  child: ChildProcess;
  /** Every log line so far, parsed. */
  logs: Record<string, unknown>[];
  /** Resolves with the exit code (or signal) when the process ends. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stderr: () => string;
  /** The API with the token (JSON in, JSON out). */
  // biome-ignore lint/suspicious/noExplicitAny: tests read the JSON of many routes; a type per route would only restate them
  api(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<{ status: number; json: any; text: string }>;
  /** Waits until a log line matches. */
  waitForLog(match: (line: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
  /** SIGTERM and wait for the exit. */
  stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const running = new Set<ChildProcess>();
afterAll(() => {
  for (const child of running) child.kill("SIGKILL");
});

export async function startDaemonProcess(root: string, args: string[] = [], options: { env?: Record<string, string>; timeoutMs?: number } = {}): Promise<DaemonProcess> {
  const child = spawn(process.execPath, [CLI, "daemon", "--port", "0", "--log-format", "json", ...args], { cwd: root, env: { ...process.env, NO_COLOR: "1", ...options.env }, stdio: ["ignore", "pipe", "pipe"] });
  running.add(child);
  const logs: Record<string, unknown>[] = [];
  const waiters: { match: (l: Record<string, unknown>) => boolean; resolve: (l: Record<string, unknown>) => void }[] = [];
  let buffered = "";
  let stderr = "";
  child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
    buffered += chunk;
    let nl = buffered.indexOf("\n");
    while (nl >= 0) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      nl = buffered.indexOf("\n");
      if (line.trim() === "") continue;
      let parsed: Record<string, unknown>;
      try {
        parsed = JSON.parse(line) as Record<string, unknown>;
      } catch {
        parsed = { msg: line, unparsed: true };
      }
      logs.push(parsed);
      for (const w of [...waiters]) {
        if (w.match(parsed)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(parsed);
        }
      }
    }
  });
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
    stderr += chunk;
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on("exit", (code, signal) => {
      running.delete(child);
      resolve({ code, signal });
    });
  });

  const waitForLog = (match: (l: Record<string, unknown>) => boolean, timeoutMs = 15_000) => {
    const seen = logs.find(match);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise<Record<string, unknown>>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no such log line within ${timeoutMs} ms; logs:\n${logs.map((l) => JSON.stringify(l)).join("\n")}\nstderr: ${stderr}`)), timeoutMs);
      waiters.push({
        match,
        resolve: (l) => {
          clearTimeout(timer);
          resolve(l);
        },
      });
    });
  };

  const listening = await Promise.race([
    waitForLog((l) => typeof l.url === "string" && String(l.msg).startsWith("listening"), options.timeoutMs ?? 30_000),
    exited.then(({ code }) => {
      throw new Error(`the daemon exited (${code}) before listening:\n${stderr}\n${logs.map((l) => JSON.stringify(l)).join("\n")}`);
    }),
  ]);
  const url = listening.url as string;
  const token = readFileSync(join(root, "state", "token"), "utf8").trim();

  const api: DaemonProcess["api"] = async (method, path, body, headers = {}) => {
    const response = await fetch(`${url}${path}`, {
      method,
      headers: { Authorization: `Bearer ${token}`, ...(body !== undefined ? { "Content-Type": "application/json" } : {}), ...headers },
      ...(body !== undefined ? { body: typeof body === "string" ? body : JSON.stringify(body) } : {}),
    });
    const text = await response.text();
    let json: unknown = null;
    try {
      json = JSON.parse(text);
    } catch {
      // Not JSON (markdown context): the text is there.
    }
    return { status: response.status, json, text };
  };

  return {
    url,
    token,
    pid: child.pid as number,
    child,
    logs,
    exited,
    stderr: () => stderr,
    api,
    waitForLog,
    stop: async () => {
      child.kill("SIGTERM");
      return exited;
    },
  };
}

/** Polls until `check` returns a value other than undefined (the daemon works asynchronously). */
export async function eventually<T>(check: () => T | undefined | Promise<T | undefined>, timeoutMs = 10_000, what = "the condition"): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`${what} did not hold within ${timeoutMs} ms${last !== undefined ? `: ${String(last)}` : ""}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
