/**
 * `goalops daemon`: one per repository. Syncs every file at start, then follows the watcher with
 * path syncs, rescans everything periodically and whenever git moves HEAD, serves the HTTP API,
 * and shuts down cleanly on SIGTERM/SIGINT (a second signal exits at once).
 *
 * Sync work is serialised on one queue: a watcher batch, a rescan, a config change and an API
 * request to sync never run at once, and a failing sync is logged and reported in health, never
 * fatal: the last good state stays in force.
 */
import { join } from "node:path";
import v8 from "node:v8";
import type { AddressInfo } from "node:net";
import { VERSION } from "../version.js";
import { UsageError } from "../errors.js";
import { type GoalOps, openGoalOps, InvalidConfigError } from "../index.js";
import { findRepoRoot, loadConfig, type ResolvedConfig } from "../spec/config.js";
import { problemsOf } from "../spec/validateRepo.js";
import { openStore } from "../store/openStore.js";
import type { GoalOpsStore } from "../store/types.js";
import { LiveSync } from "../sync/liveSync.js";
import type { SyncReport } from "../sync/syncRepo.js";
import { gitDirectory, headCommit } from "../git/treeState.js";
import { createApiServer } from "../api/server.js";
import type { DaemonView } from "../api/routes.js";
import type { Json } from "../api/request.js";
import { acquireDaemonLock, type DaemonLock } from "./lock.js";
import { createLogger, type LogFormat, type Logger } from "./logger.js";
import { SpecWatcher, type WatchBatch, type WatchTargets } from "./specWatcher.js";
import { ensureToken } from "./token.js";
import { mkdirSync } from "node:fs";
import { reconcileAtStartup, type ReconciliationReport } from "../continuity/startupReconciliation.js";
import { shutDown } from "../continuity/shutdownManager.js";
import { Dispatcher, killOrphanJobs } from "../continuity/dispatcher.js";
import { DaemonJobs, RETRY_POLL_MS, routerIntervalMs } from "../continuity/daemonJobs.js";
import { Scheduler } from "../continuity/scheduler.js";

export interface DaemonOptions {
  repo?: string;
  cwd?: string;
  /** Override goalops.yaml's daemon.host / daemon.port. */
  host?: string;
  port?: number;
  logFormat?: LogFormat;
  debug?: boolean;
  /** Poll instead of using inotify (network file systems). */
  polling?: boolean;
  /** Where log lines go; default stdout. */
  write?: (line: string) => void;
  /** Handle SIGTERM/SIGINT (the CLI does; tests that embed the daemon may not). */
  handleSignals?: boolean;
}

export interface RunningDaemon {
  url: string;
  tokenPath: string;
  /** Resolves when the daemon has stopped (by signal or stop()). */
  stopped: Promise<void>;
  stop(reason?: string): Promise<void>;
}

const WAL_CHECKPOINT_MS = 60_000;
/** Goal statuses change through the API too (not only by sync): schedules are re-read this often. */
const SCHEDULE_REFRESH_MS = 10_000;
/** Parked runs logged one by one at start; the report has them all. */
const LOGGED_PARKED = 20;
const HEAP_GROWING_PERCENT = 10;

interface LastSync {
  at: string;
  trigger: string;
  outcome: string;
  ms: number;
  counts?: SyncReport["counts"];
  error?: string;
}

export async function startDaemon(options: DaemonOptions = {}): Promise<RunningDaemon> {
  // A long-running process: each edit replaces a few long-lived objects, and V8 lets the old
  // generation grow up to 4x its live size before collecting it. A growing factor of 1.1 keeps
  // the RSS near the live heap at the cost of more frequent (mostly concurrent) major GCs.
  v8.setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
  const log = createLogger(options.logFormat ?? "text", options.write, { debug: options.debug ?? false });
  const root = findRepoRoot(options.cwd ?? process.cwd(), options.repo);
  const loaded = loadConfig(root);
  if (!loaded.ok) throw new InvalidConfigError(problemsOf([loaded.file]));
  const config = loaded.config;
  const host = options.host ?? config.daemon.host;
  const port = options.port ?? config.daemon.port;

  mkdirSync(config.stateDir, { recursive: true, mode: 0o700 });
  const lock = acquireDaemonLock(join(config.stateDir, "daemon.lock"));
  if (lock.tookOver !== null) log.warn("took over a stale daemon lock (its process is gone)", { pid: lock.tookOver || undefined });
  let store: GoalOpsStore | undefined;
  try {
    const token = ensureToken(config.stateDir);
    if (token.created) log.info("created the API token", { path: token.path });
    // SQLite's own 2 MB page cache: the daemon writes small group commits, and its memory must stay
    // flat for weeks (16 MB, filled slowly by live edits, read as 12% RSS growth in the bench).
    store = openStore(config, { groupCommit: true, cacheKib: 2000 });
    const ops = await openGoalOps({ repo: root, store });
    return await new Daemon(config, store, ops, lock, token, log, options).start(host, port);
  } catch (error) {
    await store?.close();
    lock.release();
    throw error;
  }
}

class Daemon {
  private readonly live: LiveSync;
  private watcher!: SpecWatcher;
  private readonly startedAt = new Date();
  private head: string | null = null;
  private gitDir: string | null = null;
  private queue: Promise<unknown> = Promise.resolve();
  private lastSync: LastSync | null = null;
  private configError: string[] | null = null;
  private draining = false;
  private stopping: Promise<void> | null = null;
  private resolveStopped!: () => void;
  private readonly timers: NodeJS.Timeout[] = [];
  private loggedInvalid = new Map<string, string>();
  private api: ReturnType<typeof createApiServer> | null = null;
  private dispatcher: Dispatcher | null = null;
  private jobs: DaemonJobs | null = null;
  private scheduler: Scheduler | null = null;
  private reconciliation: ReconciliationReport | null = null;

  constructor(
    private config: ResolvedConfig,
    private readonly store: GoalOpsStore,
    private readonly ops: GoalOps,
    private readonly lock: DaemonLock,
    private readonly token: { token: string; path: string },
    private readonly log: Logger,
    private readonly options: DaemonOptions,
  ) {
    this.live = new LiveSync(config, store, { head: () => this.head });
  }

  async start(host: string, port: number): Promise<RunningDaemon> {
    const stopped = new Promise<void>((resolve) => {
      this.resolveStopped = resolve;
    });
    this.gitDir = await gitDirectory(this.config.root);
    this.head = this.gitDir === null ? null : await headCommit(this.config.root);
    this.log.info("goalops daemon starting", { version: VERSION, repo: this.config.root, pid: process.pid, commit: this.head ?? undefined });

    // Watch first, so that nothing changed during the first sync goes unseen (it is synced after).
    this.watcher = new SpecWatcher(this.watchTargets(), (batch) => this.enqueueBatch(batch), this.log);
    await this.watcher.start(this.options.polling ?? false);
    await this.enqueue("daemon:start", () => this.syncAll("daemon:start"));
    // PRD section 9, after the goals are current: runs left behind are resumed or parked, and the report stored.
    this.reconciliation = await reconcileAtStartup(this.store, { killOrphans: (runs) => killOrphanJobs(runs, this.log) });
    this.logReconciliation(this.reconciliation);

    const view: DaemonView = {
      health: () => this.health(),
      syncNow: () => this.enqueue("api", () => this.syncAll("api")),
      draining: () => this.draining,
      route: async (dispatch) => {
        if (this.jobs === null) throw new UsageError("daemon.starting", "the daemon is still starting");
        const { dispatched, ...routed } = await this.jobs.route({ dispatch, trigger: "api" });
        if (dispatched === undefined) return routed;
        return { ...routed, dispatched: dispatched.dispatched ? { dispatched: true, run_id: dispatched.runId, attempt: dispatched.attempt } : dispatched };
      },
      dispatch: async (goalId) => {
        if (this.dispatcher === null) throw new UsageError("daemon.starting", "the daemon is still starting");
        const outcome = await this.dispatcher.dispatch({ goalId, trigger: "api" });
        return outcome.dispatched ? { dispatched: true, run_id: outcome.runId, attempt: outcome.attempt } : { dispatched: false, code: outcome.code, reason: outcome.reason };
      },
      schedules: async () => ({ schedules: this.scheduler?.list() ?? [], last_firings: await this.ops.continuity.schedules() }),
    };
    const api = createApiServer({ ops: this.ops, daemon: view, token: this.token.token, maxBodyBytes: this.config.daemon.maxBodyBytes, log: this.log });
    this.api = api;
    await new Promise<void>((resolve, reject) => {
      const onError = (error: NodeJS.ErrnoException) => {
        reject(
          error.code === "EADDRINUSE"
            ? new UsageError("daemon.port_in_use", `${host}:${port} is already in use (another program, or another repository's daemon); set daemon.port in goalops.yaml or pass --port (0 picks a free one)`)
            : new UsageError("daemon.listen_failed", `cannot listen on ${host}:${port}: ${error.message}`),
        );
      };
      api.server.once("error", onError);
      api.server.listen(port, host, () => {
        api.server.off("error", onError);
        resolve();
      });
    }).catch(async (error: unknown) => {
      await this.watcher.close();
      await this.store.close();
      this.lock.release();
      throw error;
    });
    const address = api.server.address() as AddressInfo;
    api.allowHosts(host, address.port);
    const url = `http://${address.family === "IPv6" ? `[${address.address}]` : address.address}:${address.port}`;
    this.lock.update({ url });

    this.startContinuity(url);

    this.timers.push(this.rescanTimer());
    this.timers.push(setInterval(() => void this.checkpointWal(), WAL_CHECKPOINT_MS));
    for (const t of this.timers) t.unref();
    if (this.options.handleSignals ?? true) this.handleSignals();

    this.log.info(`listening on ${url}/v1 (token in ${this.token.path})`, { url, token_file: this.token.path, watcher: this.watcher.status().mode });
    return { url, tokenPath: this.token.path, stopped, stop: (reason) => this.stop(reason ?? "stop requested") };
  }

  /** Dispatcher, scheduled jobs, schedules, retries and the router; resumed dispatched runs go on. */
  private startContinuity(url: string): void {
    const dispatcher = new Dispatcher(this.ops, this.store, this.config, this.log, { GOALOPS_URL: url, GOALOPS_TOKEN_FILE: this.token.path });
    const jobs = new DaemonJobs(this.ops, this.store, this.config, dispatcher, this.log);
    this.dispatcher = dispatcher;
    this.jobs = jobs;
    for (const run of this.reconciliation?.runs ?? []) {
      if (run.action !== "resume" || !run.dispatched) continue;
      void dispatcher
        .dispatch({ goalId: run.goalId, trigger: "resume", resumeRunId: run.runId })
        .then((outcome) => {
          if (!outcome.dispatched) this.log.warn(`resumed run ${run.runId} not dispatched again: ${outcome.reason}`, { run_id: run.runId });
        })
        .catch((error: unknown) => this.log.error(`resumed run ${run.runId} not dispatched again: ${error instanceof Error ? error.message : String(error)}`, { run_id: run.runId }));
    }
    const tick = (name: string, ms: number, work: () => Promise<unknown>) => {
      const timer = setInterval(() => {
        if (!this.draining) void work().catch((error: unknown) => this.log.error(`${name} failed: ${error instanceof Error ? error.message : String(error)}`));
      }, ms);
      timer.unref();
      this.timers.push(timer);
    };
    tick("retries", RETRY_POLL_MS, () => jobs.dispatchDueRetries());
    const routerMs = routerIntervalMs(this.config);
    if (routerMs !== undefined) tick("router", routerMs, () => jobs.route({ dispatch: true }));
    if (this.config.spec.scheduler?.enabled === false) return;
    const scheduler = new Scheduler({
      store: this.store,
      log: this.log,
      timezone: this.config.spec.scheduler?.timezone ?? "UTC",
      fire: (goal, firing) => jobs.fire(goal, firing),
      busy: (goalId) => dispatcher.busy(goalId),
      recordOverlap: (goal, firing) => jobs.recordOverlap(goal, firing),
    });
    this.scheduler = scheduler;
    // A failure here leaves the daemon serving without schedules, said in the log; never an unhandled rejection.
    void scheduler
      .start()
      .then(({ scheduled, caughtUp }) => this.log.info(`scheduler: ${scheduled} schedules`, { scheduled, caught_up: caughtUp.length || undefined }))
      .catch((error: unknown) => this.log.error(`scheduler did not start: ${error instanceof Error ? error.message : String(error)}`));
    tick("schedule refresh", SCHEDULE_REFRESH_MS, () => scheduler.refresh());
  }

  /** Stops the watcher, finishes the API's requests in flight (within the deadline) and the sync queue. */
  private async settleForShutdown(deadline: number): Promise<Record<string, unknown>> {
    await this.watcher.close();
    let closedInFlight = 0;
    const api = this.api;
    if (api !== null) {
      const closed = new Promise<void>((resolve) => api.server.close(() => resolve()));
      api.server.closeIdleConnections();
      while (api.inFlight() > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      closedInFlight = api.inFlight();
      if (closedInFlight > 0) this.log.warn("shutdown deadline reached with requests in flight; closing them", { in_flight: closedInFlight });
      api.server.closeAllConnections();
      await closed;
    }
    await this.queue;
    return { api_closed: api !== null, requests_cut_at_deadline: closedInFlight };
  }

  private logReconciliation(report: ReconciliationReport): void {
    const resumed = report.runs.filter((r) => r.action === "resume").length;
    const parked = report.runs.filter((r) => r.action === "park").length;
    const fields = { report_id: report.report_id, ms: report.duration_ms, resumed, parked, interrupted: report.runs.filter((r) => r.interrupted).length };
    if (report.unclean_stop) this.log.warn(`the previous daemon stopped uncleanly (no clean-shutdown mark after its start at ${report.previous_start_at}); runs in flight were marked interrupted`, fields);
    this.log.info(`startup reconciliation done (goalops report reconcile)`, fields);
    const parkedRuns = report.runs.filter((r) => r.action === "park");
    for (const r of parkedRuns.slice(0, LOGGED_PARKED)) this.log.warn(`parked ${r.runId}: ${r.reason}`, { run_id: r.runId, goal_id: r.goalId });
    if (parkedRuns.length > LOGGED_PARKED) this.log.warn(`parked ${parkedRuns.length - LOGGED_PARKED} more runs (goalops report reconcile lists them)`);
  }

  private watchTargets(): WatchTargets {
    const { goals, lessons, playbooks } = this.config.paths;
    const gitPaths = this.gitDir === null ? [] : [join(this.gitDir, "HEAD"), join(this.gitDir, "refs", "heads"), join(this.gitDir, "packed-refs")];
    return { root: this.config.root, folders: [goals, lessons, playbooks], gitPaths };
  }

  /** The periodic full rescan, the backstop for whatever the watcher missed. */
  private rescanTimer(): NodeJS.Timeout {
    return setInterval(() => void this.enqueue("rescan", () => this.syncAll("rescan")), this.config.rescanIntervalMs).unref();
  }

  /** Runs sync work one at a time; a failure is logged and kept for health, never thrown. */
  private enqueue<T>(trigger: string, work: () => Promise<T>): Promise<T | undefined> {
    const next = this.queue.then(work).catch((error: unknown) => {
      const message = error instanceof Error ? error.message : String(error);
      this.log.error("sync failed; the last good state stays in force", { trigger, error: message });
      this.lastSync = { at: new Date().toISOString(), trigger, outcome: "failed", ms: 0, error: message };
      return undefined;
    });
    this.queue = next;
    return next;
  }

  private enqueueBatch(batch: WatchBatch): void {
    if (this.draining) return;
    void this.enqueue("watch", async () => {
      if (batch.paths.has("goalops.yaml")) {
        batch.paths.delete("goalops.yaml");
        if (await this.reloadConfig()) return; // a new config syncs everything
      }
      if (batch.gitMoved) {
        this.head = this.gitDir === null ? null : await headCommit(this.config.root);
        await this.syncAll("git");
        return;
      }
      if (batch.paths.size === 0) return;
      const started = performance.now();
      const report = await this.live.syncPaths(batch.paths, "watch");
      if (report === null) return;
      this.recordSync("watch", report, started);
      // A change a dropped event would have announced, or the rest of a half-written file.
      this.watcher.recheckLater(batch.paths);
    });
  }

  private async syncAll(trigger: string): Promise<SyncReport> {
    const started = performance.now();
    const report = await this.live.syncAll(trigger);
    this.recordSync(trigger, report, started);
    return report;
  }

  private recordSync(trigger: string, report: SyncReport, started: number): void {
    const ms = Math.round(performance.now() - started);
    this.lastSync = { at: new Date().toISOString(), trigger, outcome: report.outcome, ms, counts: report.counts };
    const { added, changed, archived, restored, invalid } = report.counts;
    if (report.outcome === "refused") this.log.warn(`sync refused: ${report.message}`, { trigger });
    else if (report.outcome === "applied" || trigger === "daemon:start") this.log.info(`synced (${trigger})`, { added, changed, archived, restored, invalid, ms, commit: report.commit?.slice(0, 12) });
    if (report.outcome === "applied") this.scheduler?.requestRefresh(report.changes.filter((c) => c.kind === "goal").map((c) => c.id));
    // Nothing invalid before or now: nothing to log (and no query on every edit).
    if (report.invalid.length > 0 || this.loggedInvalid.size > 0) void this.logInvalidFiles();
  }

  /** Logs each invalid file once (again if its problems change), and when it is fixed. */
  private async logInvalidFiles(): Promise<void> {
    const now = new Map<string, string>();
    for (const file of await this.store.invalidFiles()) {
      const key = JSON.stringify(file.problems);
      now.set(file.path, key);
      if (this.loggedInvalid.get(file.path) === key) continue;
      for (const p of file.problems) {
        this.log.warn(`${file.path}:${p.line}:${p.column}: ${p.message}`, { file: file.path, line: p.line, column: p.column, field: p.field || undefined, code: p.code, kept: file.objectId ?? undefined });
      }
    }
    for (const path of this.loggedInvalid.keys()) if (!now.has(path)) this.log.info(`${path}: no longer invalid`, { file: path });
    this.loggedInvalid = now;
  }

  /** A changed goalops.yaml: checked first; a bad one is reported and the running config stays. */
  private async reloadConfig(): Promise<boolean> {
    let loaded: ReturnType<typeof loadConfig>;
    try {
      loaded = loadConfig(this.config.root);
    } catch (error) {
      loaded = { ok: false, file: { path: "goalops.yaml", kind: "config", hash: "", ok: false, problems: [{ code: "config.unreadable", message: (error as Error).message, line: 1, column: 1, field: "" }] } };
    }
    if (!loaded.ok) {
      const problems = problemsOf([loaded.file]);
      this.configError = problems.map((p) => `${p.file}:${p.line}:${p.column}: ${p.message}`);
      for (const line of this.configError) this.log.error(`goalops.yaml is invalid; the running config stays: ${line}`);
      return false;
    }
    const next = loaded.config;
    if (this.configError !== null) this.log.info("goalops.yaml: fixed");
    this.configError = null;
    if (JSON.stringify(next.spec) === JSON.stringify(this.config.spec)) return false;
    const restartOnly = (["database", "daemon"] as const).filter((k) => JSON.stringify(next.spec[k]) !== JSON.stringify(this.config.spec[k]));
    if (restartOnly.length > 0) this.log.warn(`goalops.yaml: ${restartOnly.join(", ")} settings take effect when the daemon restarts`);
    const pathsChanged = JSON.stringify(next.paths) !== JSON.stringify(this.config.paths);
    const rescanChanged = next.rescanIntervalMs !== this.config.rescanIntervalMs;
    // Runtime-only settings keep their running values until restart; the rest applies now.
    this.config = { ...next, databasePath: this.config.databasePath, busyTimeoutMs: this.config.busyTimeoutMs, stateDir: this.config.stateDir, daemon: this.config.daemon };
    this.live.reconfigure(this.config);
    this.dispatcher?.reconfigure(this.config);
    this.jobs?.reconfigure(this.config);
    if (pathsChanged) await this.watcher.retarget(this.watchTargets());
    if (rescanChanged) {
      clearInterval(this.timers[0]);
      this.timers[0] = this.rescanTimer();
    }
    this.log.info("goalops.yaml applied", { paths_changed: pathsChanged || undefined });
    await this.syncAll("config");
    return true;
  }

  private async checkpointWal(): Promise<void> {
    await this.enqueue("wal-checkpoint", async () => {
      const result = await this.store.checkpointWal();
      this.log.debug("wal checkpoint", result);
    });
  }

  private async health(): Promise<Json> {
    const watcher = this.watcher.status();
    const degraded = this.configError !== null || watcher.mode !== "native" || this.lastSync?.outcome === "failed" || this.lastSync?.outcome === "refused";
    const files = await this.store.fileStateCounts();
    return {
      status: this.draining ? "draining" : degraded ? "degraded" : "ok",
      version: VERSION,
      pid: process.pid,
      started_at: this.startedAt.toISOString(),
      uptime_seconds: Math.round((Date.now() - this.startedAt.getTime()) / 1000),
      commit: this.head,
      watcher,
      last_sync: this.lastSync,
      files,
      config_error: this.configError,
      continuity: {
        reconcile_report: this.reconciliation?.report_id ?? null,
        unclean_stop_before_start: this.reconciliation?.unclean_stop ?? null,
        jobs_running: this.dispatcher?.running().length ?? 0,
        schedules: this.scheduler?.size() ?? 0,
      },
      memory: { rss_bytes: process.memoryUsage.rss() },
    };
  }

  private handleSignals(): void {
    const onSignal = (signal: NodeJS.Signals) => {
      if (this.stopping !== null) {
        this.log.warn(`second ${signal}: exiting now`);
        process.exit(signal === "SIGINT" ? 130 : 143);
      }
      void this.stop(`${signal} received`).then(() => process.exit(0));
    };
    process.on("SIGTERM", onSignal);
    process.on("SIGINT", onSignal);
  }

  /**
   * The shutdown manager's steps (src/continuity/shutdownManager.ts): drain (stop accepting, finish
   * requests in flight and the sync queue within the deadline), checkpoint in-flight runs (stopping
   * dispatched jobs), snapshot KR values, flush loops, write the summary, mark the clean stop; then close.
   */
  stop(reason: string): Promise<void> {
    this.stopping ??= (async () => {
      const deadline = Date.now() + this.config.daemon.shutdownDeadlineMs;
      // What was scheduled, for the summary (the drain stops the scheduler): how many, and those firing.
      const schedules = { scheduled: this.scheduler?.size() ?? 0, firing: this.scheduler?.firing() ?? [] };
      this.draining = true;
      this.log.info(`shutting down: ${reason}`);
      const summary = await shutDown(this.store, {
        reason,
        deadline,
        drain: () => {
          this.draining = true;
          this.dispatcher?.drain();
          this.scheduler?.stop();
          for (const t of this.timers) clearInterval(t);
        },
        settle: () => this.settleForShutdown(deadline),
        ...(this.dispatcher !== null ? { jobs: this.dispatcher } : {}),
        happening: async () => ({
          schedules,
          last_sync: this.lastSync,
          commit: this.head,
          uptime_seconds: Math.round((Date.now() - this.startedAt.getTime()) / 1000),
        }),
      }).catch((error: unknown) => {
        this.log.error(`shutdown steps failed: ${error instanceof Error ? error.message : String(error)}; no clean-shutdown mark was written`);
        return null;
      });
      if (summary !== null) this.log.info(`shutdown summary ${summary.report_id} (goalops report shutdown)`, { ms: summary.duration_ms, deadline_reached: summary.deadline_reached || undefined });
      await this.store.close();
      this.lock.release();
      this.log.info("stopped cleanly");
      this.resolveStopped();
    })();
    return this.stopping;
  }
}
