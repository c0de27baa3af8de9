/**
 * Runs one agent job: the configured argv (never through a shell), the goal context as JSON on
 * stdin, a time limit, and a stop for daemon shutdown.
 *
 * Why process groups: an agent is usually a script that starts other programs, and execa's own
 * `timeout` (like `subprocess.kill()`) signals only the direct child, so grandchildren would live
 * on and keep the output pipes open. The job is therefore started as the leader of its own process
 * group (`detached: true`, which is setsid on POSIX), and every kill here goes to the whole group:
 * SIGTERM, a grace period, then SIGKILL. A program that puts itself into yet another group or
 * session escapes this; nothing short of cgroups catches that. Note that execa does not kill
 * detached subprocesses when the daemon exits (its `cleanup` is skipped for `detached`), so the
 * daemon must `stop()` its running jobs on shutdown.
 *
 * Why bounded output: a chatty agent can print without end, and execa's `maxBuffer` fails the run
 * (it aborts the stream and sets `isMaxBuffer`) instead of truncating. So execa does not buffer at
 * all here; the streams are read as they come and only the last `maxOutputBytes` of each are kept,
 * which is also where an agent prints its closing report line.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { execa } from "execa";

type JobEnd = { kind: "timeout" } | { kind: "stop"; reason: string | null };

const DEFAULT_MAX_OUTPUT_BYTES = 64 * 1024;
/** How often a terminating group is checked for being empty during the grace period. */
const GROUP_POLL_MS = 25;

export interface AgentJobOptions {
  /** The program and its arguments; the first item is the program. Never run through a shell. */
  command: readonly string[];
  /** Written to the job's stdin, which is then closed (the goal context as JSON). */
  input: string;
  cwd: string;
  /** Merged over `process.env`. */
  env?: Record<string, string>;
  /** After this long the job's process group gets SIGTERM, then SIGKILL after `killGraceMs`. */
  timeoutMs: number;
  killGraceMs: number;
  /** How much of the end of stdout and of stderr is kept, each; default 64 KiB. */
  maxOutputBytes?: number;
}

export interface AgentJobResult {
  /** The leader's exit code; null when it was ended by a signal or never started. */
  exitCode: number | null;
  signal: string | null;
  /** The time limit ran out and the job was killed. */
  timedOut: boolean;
  /** The caller stopped the job with `stop()` before it exited (and before any time-out). */
  stopped: boolean;
  stopReason: string | null;
  /** Why the program could not be started (ENOENT, EACCES, ...); null when it started. */
  startError: string | null;
  /** The last `maxOutputBytes` of stdout, decoded as UTF-8. */
  stdoutTail: string;
  stderrTail: string;
  /** The last non-empty stdout line when it is a JSON object, unvalidated; otherwise null. */
  report: Record<string, unknown> | null;
  durationMs: number;
  pid: number | null;
}

export interface RunningAgentJob {
  pid: number | null;
  /** Settles when the job has exited and its output pipes are closed; never rejects. */
  done: Promise<AgentJobResult>;
  /**
   * Kills the job's process group (SIGTERM, grace, SIGKILL); resolves with the result once it has
   * exited. `graceMs` shortens the grace (a shutdown deadline); it never lengthens it.
   */
  stop(reason?: string, graceMs?: number): Promise<AgentJobResult>;
}

/** Starts an agent job; failures to start come back as `startError`, only invalid limits throw (RangeError). */
export function startAgentJob(options: AgentJobOptions): RunningAgentJob {
  checkLimits(options);
  const startedAt = performance.now();
  const maxOutputBytes = options.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES;
  const stdout = new OutputTail(maxOutputBytes);
  const stderr = new OutputTail(maxOutputBytes);
  const elapsed = (): number => Math.round(performance.now() - startedAt);

  const [file, ...args] = options.command;
  if (file === undefined || file === "") return notStarted("the command is empty", elapsed());

  let subprocess: ReturnType<typeof spawnJob>;
  try {
    subprocess = spawnJob(file, args, options);
  } catch (error) {
    return notStarted(error instanceof Error ? error.message : String(error), elapsed());
  }
  // Attached before the first tick: with `buffer: false` nobody else reads these streams.
  subprocess.stdout?.on("data", (chunk: Buffer | string) => stdout.push(chunk));
  subprocess.stderr?.on("data", (chunk: Buffer | string) => stderr.push(chunk));

  // The pid is known synchronously when the spawn succeeded; a failed spawn has none.
  const pid = subprocess.pid ?? null;
  // Set from timers and stop(); the first cause wins, so a stop during a time-out stays a time-out.
  let cause = null as JobEnd | null;
  let termination: Promise<void> | null = null;
  let leaderExited = false;

  const terminateGroup = (graceMs = options.killGraceMs): Promise<void> => {
    termination ??= pid === null ? Promise.resolve() : killGroup(pid, graceMs);
    return termination;
  };

  const timer = setTimeout(() => {
    cause ??= { kind: "timeout" };
    void terminateGroup();
  }, options.timeoutMs);

  subprocess.once("exit", () => {
    leaderExited = true;
    clearTimeout(timer);
    // Whatever the leader left behind in its group would hold the output pipes open and outlive
    // the job; the job is over, so they go the same way as on a time-out.
    if (pid !== null && signalGroup(pid, 0)) void terminateGroup();
  });

  const done = (async (): Promise<AgentJobResult> => {
    let exitCode: number | null = null;
    let signal: string | null = null;
    let startError: string | null = null;
    try {
      const result = await subprocess;
      exitCode = typeof result.exitCode === "number" ? result.exitCode : null;
      signal = result.signal ?? null;
      if (pid === null) startError = result.originalMessage ?? result.shortMessage ?? result.message ?? "the command could not be started";
    } catch (error) {
      // `reject: false` makes execa resolve on failures; this only catches its internal errors.
      if (pid === null) startError = error instanceof Error ? error.message : String(error);
    } finally {
      clearTimeout(timer);
    }
    if (termination !== null) await termination;
    const stdoutTail = stdout.text();
    return {
      exitCode,
      signal,
      timedOut: cause?.kind === "timeout",
      stopped: cause?.kind === "stop",
      stopReason: cause?.kind === "stop" ? cause.reason : null,
      startError,
      stdoutTail,
      stderrTail: stderr.text(),
      report: startError === null ? parseReportLine(stdoutTail) : null,
      durationMs: elapsed(),
      pid,
    };
  })();

  return {
    pid,
    done,
    stop(reason?: string, graceMs?: number): Promise<AgentJobResult> {
      if (pid !== null && !leaderExited) {
        cause ??= { kind: "stop", reason: reason ?? null };
        void terminateGroup(graceMs === undefined ? options.killGraceMs : Math.min(graceMs, options.killGraceMs));
      }
      return done;
    },
  };
}

/** The last non-empty line of `stdout` when it parses as a JSON object (not an array); otherwise null. */
export function parseReportLine(stdout: string): Record<string, unknown> | null {
  const lines = stdout.split(/\r?\n/);
  let line: string | undefined;
  while (lines.length > 0) {
    line = lines.pop()?.trim();
    if (line) break;
  }
  if (!line?.startsWith("{")) return null;
  try {
    const value: unknown = JSON.parse(line);
    if (value === null || typeof value !== "object" || Array.isArray(value)) return null;
    return value as Record<string, unknown>;
  } catch {
    return null;
  }
}

function spawnJob(file: string, args: readonly string[], options: AgentJobOptions) {
  return execa(file, args, {
    cwd: options.cwd,
    env: options.env ?? {},
    extendEnv: true,
    input: options.input,
    shell: false,
    detached: true,
    // The group kill is ours; execa's timeout, cancel and exit cleanup would reach only the leader.
    cleanup: false,
    buffer: false,
    reject: false,
  });
}

/** SIGTERM to the group, then SIGKILL once the grace is over unless the group is already empty. */
async function killGroup(pgid: number, graceMs: number): Promise<void> {
  if (!signalGroup(pgid, "SIGTERM")) return;
  const deadline = performance.now() + graceMs;
  for (;;) {
    const left = deadline - performance.now();
    if (left <= 0) break;
    await sleep(Math.min(GROUP_POLL_MS, left));
    if (!signalGroup(pgid, 0)) return;
  }
  signalGroup(pgid, "SIGKILL");
}

/**
 * Sends `signal` (0 only checks) to every process of the group; false when none is left. ESRCH is
 * the normal answer for a group that is gone; any other error (EPERM) is swallowed too, because
 * this runs from timers where a throw would take the daemon down and there is nothing to retry.
 */
function signalGroup(pgid: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false;
  }
}

function notStarted(startError: string, durationMs: number): RunningAgentJob {
  const done = Promise.resolve<AgentJobResult>({
    exitCode: null,
    signal: null,
    timedOut: false,
    stopped: false,
    stopReason: null,
    startError,
    stdoutTail: "",
    stderrTail: "",
    report: null,
    durationMs,
    pid: null,
  });
  return { pid: null, done, stop: () => done };
}

function checkLimits(options: AgentJobOptions): void {
  const limits: [string, number | undefined, number][] = [
    ["timeoutMs", options.timeoutMs, 1],
    ["killGraceMs", options.killGraceMs, 0],
    ["maxOutputBytes", options.maxOutputBytes, 0],
  ];
  for (const [name, value, least] of limits) {
    if (value !== undefined && !(Number.isFinite(value) && value >= least)) {
      throw new RangeError(`agent job option ${name} must be a finite number of at least ${least}, got ${value}`);
    }
  }
}

/** Keeps only the last `limit` bytes written to it, so memory stays bounded whatever the job prints. */
class OutputTail {
  private chunks: Buffer[] = [];
  private size = 0;
  private dropped = false;

  constructor(private readonly limit: number) {}

  push(data: Buffer | string): void {
    const chunk = typeof data === "string" ? Buffer.from(data) : data;
    if (chunk.length >= this.limit) {
      this.dropped ||= this.size > 0 || chunk.length > this.limit;
      // A copy, so the big chunk itself is not kept alive by the slice.
      this.chunks = this.limit === 0 ? [] : [Buffer.from(chunk.subarray(chunk.length - this.limit))];
      this.size = this.limit;
      return;
    }
    this.chunks.push(chunk);
    this.size += chunk.length;
    // Drop whole chunks from the front while what stays still fills the limit.
    for (let first = this.chunks[0]; first !== undefined && this.size - first.length >= this.limit; first = this.chunks[0]) {
      this.chunks.shift();
      this.size -= first.length;
      this.dropped = true;
    }
  }

  text(): string {
    let bytes = Buffer.concat(this.chunks, this.size);
    if (bytes.length > this.limit) {
      bytes = bytes.subarray(bytes.length - this.limit);
      this.dropped = true;
    }
    // A cut can land inside a multi-byte character; skip its continuation bytes rather than show U+FFFD.
    let start = 0;
    if (this.dropped) while (start < bytes.length && start < 3 && ((bytes[start] ?? 0) & 0xc0) === 0x80) start++;
    return bytes.subarray(start).toString("utf8");
  }
}
