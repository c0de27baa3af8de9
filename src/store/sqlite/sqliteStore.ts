/** The SQLite implementation of GoalOpsStore (better-sqlite3: synchronous calls behind async methods). */
import { checkpointRun, contextCandidates, finishRun, getRun, listRuns, recordFinishedRuns, runGoalId, startRun } from "./runOperations.js";
import type { ContinuityReportRow, ReviewedGoal, ReviewKind, ReviewWriter, ReviewNarrative, ReviewWrite, FinishedRunWrite, KeyResultValueRow, LoopKind, ReconcileRunsWrite, RunDispatch, RunFinish, RunRecord, RunStart, WatchdogAlertRow } from "../types.js";
import { reviewWriterHere, reviewWriterInWorker } from "./reviewWriter.js";
import { getAar, insertReviews, listAars, listLessons, listRules, rollbackRule, ruleEvents, saveReviewKinds, setReviewNarrative, templateReviewsAt } from "./learningOperations.js";
import { PackedRunReader } from "./ledgerReader.js";
import { failureStreakBefore, goalsToReview, goalTypes, runsOfPackedTexts, type StartOrder, scanFinishedRuns, windowReviews } from "./ledgerScanOperations.js";
import { addLoop, listLoops, resolveLoop } from "./loopOperations.js";
import * as continuity from "./continuityOperations.js";
import type { GoalOpsStore, LedgerScan, NoopSyncEntry, RunFacts, ScanFields, SnapshotScope, StateEventInput, SyncPlanWrite } from "../types.js";
import type { GoalStatus } from "../../spec/types.js";
import { cached, openDatabase, type OpenOptions, type SqliteDatabase, transaction } from "./database.js";
import { applySyncPlan, fileStateCounts, getMeta, setMeta, readFileIndex, readSyncSnapshot, recordNoopSync } from "./syncOperations.js";
import { appendStateEvent, childGoals, childKeyResultIds, goalHeader, dependentGoals, statusGoals, countDefinitions, getGoal, goalHistory, keyResultHistory, latestKeyResultValue, latestKeyResultValuesOf, recordKeyResultValue, invalidFiles, listGoals, recentSyncs } from "./goalOperations.js";

export interface SqliteStoreOptions extends OpenOptions {
  /**
   * Group commit: writes made in the same turn of the event loop or the next (the requests of
   * concurrent clients) share one transaction (one failing is taken out alone; see flush), and
   * each promise resolves only after the COMMIT. For the daemon: a commit costs about as much as
   * the rest of recording a run.
   */
  groupCommit?: boolean;
}

/** Key results whose latest values are read one statement each; more are read in one statement. */
const LATEST_VALUES_ONE_BY_ONE = 16;

/** Started runs a store keeps for their finish (10,000 runs: about 15 MB). */
const STARTED_RUNS_KEPT = 10_000;

interface PendingWrite {
  op: () => unknown;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/** A write of a batch threw: the batch is rolled back and run again without it. */
class FailedWrite extends Error {
  constructor(
    readonly index: number,
    readonly failure: unknown,
  ) {
    super("a write of the batch failed");
  }
}

/**
 * Runs a batch of writes in the caller's transaction, but those known to fail; the first that
 * throws ends the attempt (FailedWrite). No savepoint per write: a SAVEPOINT and its RELEASE were
 * about a tenth of recording a run, and writes seldom fail.
 */
function runBatch(batch: readonly PendingWrite[], failures: ReadonlyMap<number, unknown>, values: unknown[]): void {
  batch.forEach((write, index) => {
    if (failures.has(index)) return;
    try {
      values[index] = write.op();
    } catch (error) {
      throw new FailedWrite(index, error);
    }
  });
}

export class SqliteStore implements GoalOpsStore {
  private constructor(
    private readonly db: SqliteDatabase,
    private readonly groupCommit = false,
    private readonly path?: string,
    private readonly options: OpenOptions = {},
  ) {}

  /**
   * A second, read-only connection for the ledger scan, opened on first use: it streams runs
   * while this connection writes (a learning cycle's reviews, on a dry run or in the daemon), reading
   * one snapshot of the file (WAL) whatever is written meanwhile.
   */
  private scanner: SqliteDatabase | undefined;
  private scanConnection(): SqliteDatabase {
    const file = this.file();
    if (file === undefined) return this.db;
    this.scanner ??= openDatabase(file, { ...this.options, readonly: true });
    return this.scanner;
  }

  /** The database file, which other connections can open; undefined for an in-memory database. */
  private file(): string | undefined {
    return this.path === undefined || this.path === ":memory:" ? undefined : this.path;
  }

  private pending: PendingWrite[] = [];

  /** A write: at once, or (group commit) with the others of this turn of the event loop. */
  private write<T>(op: () => T): Promise<T> {
    if (!this.groupCommit) return new Promise<T>((resolve) => resolve(op()));
    return new Promise<T>((resolve, reject) => {
      this.pending.push({ op, resolve: resolve as (value: unknown) => void, reject });
      // Committed two turns later: the requests whose bytes came in while the last batch committed
      // are read in the turn between and join this batch (8 concurrent clients: 4 writes per
      // commit became 5 to 8), and a lone write waits for no I/O.
      if (this.pending.length === 1) setImmediate(() => setImmediate(() => this.flush()));
    });
  }

  /**
   * Commits the batch in one IMMEDIATE transaction. A write that throws fails alone: the batch is
   * rolled back and run again without it (the writes before it see the same database again and do
   * the same), as many times as writes fail. Each promise settles after the COMMIT.
   */
  private flush(): void {
    const batch = this.pending;
    this.pending = [];
    const failures = new Map<number, unknown>();
    for (;;) {
      const values: unknown[] = new Array(batch.length);
      try {
        transaction(this.db, runBatch).immediate(batch, failures, values);
      } catch (error) {
        if (error instanceof FailedWrite) {
          failures.set(error.index, error.failure);
          continue;
        }
        // The COMMIT (or BEGIN) failed: nothing of the batch was written.
        for (const write of batch) write.reject(error);
        return;
      }
      batch.forEach((write, index) => {
        if (failures.has(index)) write.reject(failures.get(index));
        else write.resolve(values[index]);
      });
      return;
    }
  }

  /**
   * Reads the ledger makes per run (goal headers, context candidates, a goal's key results, the
   * latest value of a key result), kept while nothing changed them: here a sync writes definitions
   * and clears them all, recording a key-result value drops that key result's entry (after the
   * write, so a read queued before it cannot put the old value back), and another connection's
   * commit moves SQLite's data_version.
   */
  private readonly definitionReads = new Map<string, unknown>();
  private definitionsVersion: number | null = null;

  private versionCheckedAt = Number.NEGATIVE_INFINITY;

  /**
   * Each run this store started and has not finished, as written: an agent finishes the run it
   * started through the same daemon, so finishing needs no read of its goal (a run's goal never
   * changes; outside a transaction, a read takes SQLite's WAL locks) nor of its row (the finish
   * checks the row is still as written; runOperations.ts). The oldest go first past
   * STARTED_RUNS_KEPT: runs never finished must not fill the memory.
   */
  private readonly startedRuns = new Map<string, RunRecord>();

  private definitions<T>(key: string, read: () => T): T {
    const reads = this.currentDefinitionReads();
    const known = reads.get(key);
    if (known !== undefined || reads.has(key)) return known as T;
    const value = read();
    reads.set(key, value);
    return value;
  }

  /** The kept reads, emptied first if another connection committed since they were read. */
  private currentDefinitionReads(): Map<string, unknown> {
    // data_version is asked at most once a millisecond (a run's reads come in a burst); a commit
    // by another process within that millisecond is seen by the next burst.
    const now = performance.now();
    if (now - this.versionCheckedAt > 1) {
      this.versionCheckedAt = now;
      const version = cached(this.db, "PRAGMA data_version", true).get() as number;
      if (version !== this.definitionsVersion) {
        this.definitionReads.clear();
        this.definitionsVersion = version;
      }
    }
    // A goal takes up to three entries (its header, a parent's key results, a key result's latest
    // value): 100,000 holds a large tree's, where 10,000 was cleared over and over by a ledger
    // spread over 10,000 goals.
    if (this.definitionReads.size > 100_000) this.definitionReads.clear();
    return this.definitionReads;
  }

  static open(path: string, options: SqliteStoreOptions = {}): SqliteStore {
    return new SqliteStore(openDatabase(path, options), options.groupCommit ?? false, path, { ...(options.busyTimeoutMs !== undefined ? { busyTimeoutMs: options.busyTimeoutMs } : {}) });
  }

  async readFileIndex() {
    return readFileIndex(this.db);
  }
  async readSyncSnapshot(scope?: SnapshotScope) {
    return readSyncSnapshot(this.db, scope);
  }
  async applySyncPlan(plan: SyncPlanWrite) {
    this.definitionReads.clear();
    try {
      applySyncPlan(this.db, plan);
    } finally {
      this.definitionReads.clear();
    }
  }
  async recordNoopSync(entry: NoopSyncEntry) {
    recordNoopSync(this.db, entry);
  }
  async appendStateEvent(event: StateEventInput & { at: string; expectedFrom: GoalStatus | null }) {
    await this.write(() => appendStateEvent(this.db, event));
  }
  async listGoals(options: { includeArchived?: boolean } = {}) {
    return listGoals(this.db, options.includeArchived ?? false);
  }
  async goalHistory(goalId: string) {
    return goalHistory(this.db, goalId);
  }
  async getGoal(goalId: string) {
    return getGoal(this.db, goalId);
  }
  async startRun(start: RunStart) {
    return this.write(() => {
      const started = startRun(this.db, start);
      if (!started.existing) {
        if (this.startedRuns.size >= STARTED_RUNS_KEPT) this.startedRuns.delete(this.startedRuns.keys().next().value as string);
        this.startedRuns.set(started.run.run_id, started.run);
      }
      return started;
    });
  }
  async finishRun(finish: RunFinish) {
    return this.write(() => {
      const run = finishRun(this.db, finish, this.startedRuns.get(finish.runId));
      this.startedRuns.delete(finish.runId);
      return run;
    });
  }
  async checkpointRun(entry: { runId: string; ref: string; state?: unknown; at: string }) {
    return this.write(() => checkpointRun(this.db, entry));
  }
  async addLoop(loop: { loopId: string; goalId: string | null; runId: string | null; kind: LoopKind; description: string; dueAt: string | null; at: string }) {
    return this.write(() => addLoop(this.db, loop));
  }
  async listLoops(filter: { goalId?: string; includeResolved: boolean }) {
    return listLoops(this.db, filter);
  }
  async resolveLoop(entry: { loopId: string; resolution: string | null; at: string }) {
    return this.write(() => resolveLoop(this.db, entry));
  }
  async contextCandidates(goalType: string) {
    return this.definitions(`candidates:${goalType}`, () => contextCandidates(this.db, goalType));
  }
  async recordFinishedRuns(runs: readonly FinishedRunWrite[]) {
    return this.write(() => recordFinishedRuns(this.db, runs));
  }
  async getRun(runId: string) {
    return getRun(this.db, runId);
  }
  async runGoalId(runId: string) {
    return this.startedRuns.get(runId)?.goal_id ?? runGoalId(this.db, runId);
  }
  async listRuns(filter: { goalId?: string; limit: number }) {
    return listRuns(this.db, filter);
  }
  async goalHeader(goalId: string) {
    return this.definitions(`header:${goalId}`, () => goalHeader(this.db, goalId));
  }
  async childKeyResultIds(goalId: string) {
    return this.definitions(`krs:${goalId}`, () => childKeyResultIds(this.db, goalId));
  }
  async dependentGoals(goalId: string) {
    return dependentGoals(this.db, goalId);
  }
  async statusGoals() {
    return statusGoals(this.db);
  }
  async childGoals(goalId: string) {
    return childGoals(this.db, goalId);
  }
  async recordKeyResultValue(entry: { goalId: string; value: number; recordedAt: string; source: string | null; runId: string | null; at: string }) {
    return this.write(() => {
      const row = recordKeyResultValue(this.db, entry);
      this.definitionReads.delete(`latest:${entry.goalId}`);
      return row;
    });
  }
  async keyResultHistory(goalId: string, limit = 1000) {
    return keyResultHistory(this.db, goalId, limit);
  }
  async latestKeyResultValues(goalIds: readonly string[]) {
    const reads = this.currentDefinitionReads();
    const missing = goalIds.filter((id) => !reads.has(`latest:${id}`));
    // Many at once (status asks for every key result): one statement instead of one per key result
    // (3,611 of them were 27 ms of a 10,000-goal status).
    if (missing.length > LATEST_VALUES_ONE_BY_ONE) {
      const found = latestKeyResultValuesOf(this.db, missing);
      for (const id of missing) reads.set(`latest:${id}`, found.get(id) ?? null);
    }
    const latest = new Map<string, KeyResultValueRow>();
    for (const id of goalIds) {
      const row = this.definitions(`latest:${id}`, () => latestKeyResultValue(this.db, id));
      if (row !== null) latest.set(id, row);
    }
    return latest;
  }
  async invalidFiles() {
    return invalidFiles(this.db);
  }
  async recentSyncs(limit = 10) {
    return recentSyncs(this.db, limit);
  }
  async getMeta(key: string) {
    return getMeta(this.db, key);
  }
  async setCleanTreeCommit(marker: string | null) {
    setMeta(this.db, "clean_tree_commit", marker);
  }
  async fileStateCounts() {
    return fileStateCounts(this.db);
  }
  scanFinishedRuns(window: { from: string; until: string; fields: ScanFields; order?: StartOrder }): LedgerScan {
    // In the table's order from a database file: read from now on, in a worker thread and in this
    // one while it would otherwise wait (ledgerReader.ts), beside what the caller does meanwhile.
    const file = this.file();
    if (file !== undefined && window.order !== "index") {
      const reader = new PackedRunReader(this.scanConnection(), window, { path: file, options: this.options });
      return { [Symbol.asyncIterator]: () => runsOfPackedTexts(reader, window.fields), close: () => reader.close() };
    }
    return { [Symbol.asyncIterator]: () => this.scanHere(window), close: () => undefined };
  }
  private async *scanHere(window: { from: string; until: string; fields: ScanFields; order?: StartOrder }): AsyncGenerator<RunFacts[]> {
    const scanner = this.scanConnection();
    // One connection (an in-memory database): read everything first, so that the caller may
    // write between chunks (an open statement would keep the connection busy).
    if (scanner === this.db) yield* [...scanFinishedRuns(scanner, window)];
    else yield* scanFinishedRuns(scanner, window);
  }
  async windowReviews(window: { since: string; until: string }) {
    return windowReviews(this.db, window);
  }
  async goalTypes() {
    return goalTypes(this.db);
  }
  async goalsToReview() {
    return goalsToReview(this.db);
  }
  async failureStreakBefore(goalId: string, before: string) {
    return failureStreakBefore(this.db, goalId, before);
  }
  async insertReviews(reviews: readonly ReviewWrite[]) {
    return this.write(() => insertReviews(this.db, reviews));
  }
  startReviewWrite(window: { since: string; until: string }, goals: readonly ReviewedGoal[], at: string): ReviewWriter {
    // In a worker thread with its own connection, unless this one must see the writes: an
    // in-memory database, or a transaction open here (a dry run's, to be rolled back).
    const file = this.file();
    const job = { window, goals, at };
    const inWorker = file !== undefined && !this.db.inTransaction && !this.groupCommit;
    return (inWorker ? reviewWriterInWorker(file, this.options, job) : undefined) ?? reviewWriterHere(this.db, job, (op) => this.write(op));
  }
  async saveReviewKinds(kinds: readonly ReviewKind[]) {
    return this.write(() => saveReviewKinds(this.db, kinds));
  }
  async templateReviewsAt(at: string) {
    return templateReviewsAt(this.db, at);
  }
  async setReviewNarrative(runId: string, narrative: ReviewNarrative, source: "summarizer") {
    return this.write(() => setReviewNarrative(this.db, runId, narrative, source));
  }
  async getAar(id: string) {
    return getAar(this.db, id);
  }
  async listAars(filter: { goalId?: string; limit: number }) {
    return listAars(this.db, filter);
  }
  async listLessons(options: { includeArchived: boolean }) {
    return listLessons(this.db, options);
  }
  async listRules(options: { includeArchived: boolean }) {
    return listRules(this.db, options);
  }
  async ruleEvents(ruleId: string) {
    return ruleEvents(this.db, ruleId);
  }
  async rollbackRule(entry: { ruleId: string; reason: string; evidence: Record<string, unknown>; actor: string; at: string }) {
    await this.write(() => rollbackRule(this.db, entry));
    this.definitionReads.clear(); // the rule's mode in context candidates changed
  }
  async scratch<T>(work: () => Promise<T>): Promise<T> {
    this.db.exec("BEGIN IMMEDIATE");
    try {
      return await work();
    } finally {
      if (this.db.inTransaction) this.db.exec("ROLLBACK");
      this.definitionReads.clear();
    }
  }
  async insertCycleReport(report: { reportId: string; windowStart: string; windowEnd: string; summary: unknown; markdown: string; at: string }) {
    await this.write(() =>
      cached(this.db, "INSERT INTO learning_cycle_reports (report_id, window_start, window_end, summary, markdown, created_at) VALUES (?, ?, ?, ?, ?, ?)").run(
        report.reportId, report.windowStart, report.windowEnd, JSON.stringify(report.summary), report.markdown, report.at,
      ),
    );
  }
  async checkpointWal() {
    const [row] = this.db.pragma("wal_checkpoint(TRUNCATE)") as { busy: number; log: number; checkpointed: number }[];
    return { busy: (row?.busy ?? 0) !== 0, walPages: row?.log ?? 0 };
  }
  // Continuity (src/store/sqlite/continuityOperations.ts)
  async markStart(at: string) {
    return continuity.markStart(this.db, at);
  }
  async markCleanShutdown(at: string) {
    return this.write(() => continuity.markCleanShutdown(this.db, at));
  }
  async goalsInStatus(statuses: readonly GoalStatus[]) {
    return continuity.goalsInStatus(this.db, statuses);
  }
  async goalsOfType(goalTypes: readonly string[]) {
    return continuity.goalsOfType(this.db, goalTypes);
  }
  async scheduledGoals(goalIds?: readonly string[]) {
    return continuity.scheduledGoals(this.db, goalIds);
  }
  async scheduledGoalVersions() {
    return continuity.scheduledGoalVersions(this.db);
  }
  async unfinishedRuns(goalId: string) {
    return continuity.unfinishedRuns(this.db, goalId);
  }
  async openRuns() {
    return continuity.openRuns(this.db);
  }
  async reconcileRuns(write: ReconcileRunsWrite) {
    return continuity.reconcileRuns(this.db, write);
  }
  async resumeRun(entry: { runId: string; at: string }) {
    return this.write(() => continuity.resumeRun(this.db, entry));
  }
  async checkpointInFlight(entry: { at: string; runIds?: readonly string[] }) {
    return this.write(() => continuity.checkpointInFlight(this.db, entry));
  }
  async openLoopCounts(now: string) {
    return continuity.openLoopCounts(this.db, now);
  }
  async dueRetryLoops(now: string, limit: number, withOwnCommandOnly: boolean) {
    return continuity.dueRetryLoops(this.db, now, limit, withOwnCommandOnly);
  }
  async touchLoop(entry: { loopId: string; dueAt: string | null; at: string }) {
    return this.write(() => continuity.touchLoop(this.db, entry));
  }
  async lessonCountsByGoalType(goalTypes: readonly string[]) {
    return continuity.lessonCountsByGoalType(this.db, goalTypes);
  }
  async activeRuleCounts() {
    return continuity.activeRuleCounts(this.db);
  }
  async keyResultSnapshot() {
    return continuity.keyResultSnapshot(this.db);
  }
  async insertContinuityReport(report: ContinuityReportRow) {
    return this.write(() => continuity.insertContinuityReport(this.db, report));
  }
  async latestContinuityReport(kind: "reconcile" | "shutdown") {
    return continuity.latestContinuityReport(this.db, kind);
  }
  async scheduleStates() {
    return continuity.scheduleStates(this.db);
  }
  async recordScheduleFiring(entry: { goalId: string; cadence: string; firedAt: string; runId: string | null; outcome: string }) {
    return this.write(() => continuity.recordScheduleFiring(this.db, entry));
  }
  async runCounts(goalId: string | null, since: string) {
    return continuity.runCounts(this.db, goalId, since);
  }
  async recordDispatch(runId: string, dispatch: RunDispatch) {
    return this.write(() => continuity.recordDispatch(this.db, runId, dispatch));
  }
  async openAlert(goalId: string) {
    return continuity.openAlert(this.db, goalId);
  }
  async insertAlert(alert: WatchdogAlertRow) {
    return this.write(() => continuity.insertAlert(this.db, alert));
  }
  async clearAlert(entry: { alertId: string; at: string }) {
    return this.write(() => continuity.clearAlert(this.db, entry));
  }
  async listAlerts(filter: { goalId?: string; limit: number }) {
    return continuity.listAlerts(this.db, filter);
  }

  async integrityCheck() {
    return (this.db.pragma("integrity_check") as { integrity_check: string }[]).map((r) => r.integrity_check).join("; ");
  }
  async countLiveGoals() {
    return cached(this.db, "SELECT COUNT(*) FROM goal_definitions WHERE archived_at IS NULL", true).get() as number;
  }
  async countDefinitions() {
    return countDefinitions(this.db);
  }
  async close() {
    if (this.pending.length > 0) this.flush();
    if (this.scanner?.open) this.scanner.close();
    if (this.db.open) this.db.close();
  }
}
