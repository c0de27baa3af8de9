/** The SQLite implementation of GoalOpsStore (better-sqlite3: synchronous calls behind async methods). */
import { checkpointRun, contextCandidates, finishRun, getRun, listRuns, recordFinishedRuns, startRun } from "./runOperations.js";
import type { FinishedRunWrite, LoopKind, RunFinish, RunStart } from "../types.js";
import { addLoop, listLoops, resolveLoop } from "./loopOperations.js";
import type { GoalOpsStore, NoopSyncEntry, SnapshotScope, StateEventInput, SyncPlanWrite } from "../types.js";
import type { GoalStatus } from "../../spec/types.js";
import { cached, openDatabase, type OpenOptions, type SqliteDatabase } from "./database.js";
import { applySyncPlan, fileStateCounts, getMeta, setMeta, readFileIndex, readSyncSnapshot, recordNoopSync } from "./syncOperations.js";
import { appendStateEvent, childGoals, childKeyResultIds, goalHeader, dependentGoals, liveGoalRecords, countDefinitions, getGoal, goalHistory, keyResultHistory, latestKeyResultValues, recordKeyResultValue, invalidFiles, listGoals, recentSyncs } from "./goalOperations.js";

export class SqliteStore implements GoalOpsStore {
  private constructor(private readonly db: SqliteDatabase) {}

  static open(path: string, options: OpenOptions = {}): SqliteStore {
    return new SqliteStore(openDatabase(path, options));
  }

  async readFileIndex() {
    return readFileIndex(this.db);
  }
  async readSyncSnapshot(scope?: SnapshotScope) {
    return readSyncSnapshot(this.db, scope);
  }
  async applySyncPlan(plan: SyncPlanWrite) {
    applySyncPlan(this.db, plan);
  }
  async recordNoopSync(entry: NoopSyncEntry) {
    recordNoopSync(this.db, entry);
  }
  async appendStateEvent(event: StateEventInput & { at: string; expectedFrom: GoalStatus | null }) {
    appendStateEvent(this.db, event);
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
    return startRun(this.db, start);
  }
  async finishRun(finish: RunFinish) {
    return finishRun(this.db, finish);
  }
  async checkpointRun(entry: { runId: string; ref: string; at: string }) {
    return checkpointRun(this.db, entry);
  }
  async addLoop(loop: { loopId: string; goalId: string | null; runId: string | null; kind: LoopKind; description: string; dueAt: string | null; at: string }) {
    return addLoop(this.db, loop);
  }
  async listLoops(filter: { goalId?: string; includeResolved: boolean }) {
    return listLoops(this.db, filter);
  }
  async resolveLoop(entry: { loopId: string; resolution: string | null; at: string }) {
    return resolveLoop(this.db, entry);
  }
  async contextCandidates(goalType: string) {
    return contextCandidates(this.db, goalType);
  }
  async recordFinishedRuns(runs: readonly FinishedRunWrite[]) {
    return recordFinishedRuns(this.db, runs);
  }
  async getRun(runId: string) {
    return getRun(this.db, runId);
  }
  async listRuns(filter: { goalId?: string; limit: number }) {
    return listRuns(this.db, filter);
  }
  async goalHeader(goalId: string) {
    return goalHeader(this.db, goalId);
  }
  async childKeyResultIds(goalId: string) {
    return childKeyResultIds(this.db, goalId);
  }
  async dependentGoals(goalId: string) {
    return dependentGoals(this.db, goalId);
  }
  async liveGoalRecords() {
    return liveGoalRecords(this.db);
  }
  async childGoals(goalId: string) {
    return childGoals(this.db, goalId);
  }
  async recordKeyResultValue(entry: { goalId: string; value: number; recordedAt: string; source: string | null; runId: string | null; at: string }) {
    return recordKeyResultValue(this.db, entry);
  }
  async keyResultHistory(goalId: string, limit = 1000) {
    return keyResultHistory(this.db, goalId, limit);
  }
  async latestKeyResultValues(goalIds: readonly string[]) {
    return latestKeyResultValues(this.db, goalIds);
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
  async checkpointWal() {
    const [row] = this.db.pragma("wal_checkpoint(TRUNCATE)") as { busy: number; log: number; checkpointed: number }[];
    return { busy: (row?.busy ?? 0) !== 0, walPages: row?.log ?? 0 };
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
    if (this.db.open) this.db.close();
  }
}
