/** Where syncing stands: the last applied and attempted commits, recent syncs, the files that failed. */
import type { GoalOpsStore, InvalidFileRow, SyncHistoryEntry } from "../store/types.js";

export interface SyncPosition {
  lastAppliedCommit: string | null;
  lastAppliedAt: string | null;
  lastAttemptedCommit: string | null;
  lastAttemptedAt: string | null;
}

export interface SyncStatus extends SyncPosition {
  recent: SyncHistoryEntry[];
  invalidFiles: InvalidFileRow[];
}

export async function syncPosition(store: GoalOpsStore): Promise<SyncPosition> {
  return {
    lastAppliedCommit: await store.getMeta("last_applied_commit"),
    lastAppliedAt: await store.getMeta("last_applied_at"),
    lastAttemptedCommit: await store.getMeta("last_attempted_commit"),
    lastAttemptedAt: await store.getMeta("last_attempted_at"),
  };
}

export async function syncStatus(store: GoalOpsStore, options: { recent?: number } = {}): Promise<SyncStatus> {
  return { ...(await syncPosition(store)), recent: await store.recentSyncs(options.recent ?? 10), invalidFiles: await store.invalidFiles() };
}
