/** Opens the store a configuration names. The one place that chooses the database implementation. */
import type { ResolvedConfig } from "../spec/config.js";
import { SqliteStore } from "./sqlite/sqliteStore.js";
import type { GoalOpsStore } from "./types.js";

export { StaleSnapshotError } from "./errors.js";

/**
 * `groupCommit`: concurrent writes share transactions (the daemon; see SqliteStoreOptions).
 * `cacheKib`: the page cache (default 16 MB, for batches of runs; see DEFAULT_CACHE_KIB).
 */
export function openStore(config: Pick<ResolvedConfig, "databasePath" | "busyTimeoutMs">, options: { groupCommit?: boolean; cacheKib?: number } = {}): GoalOpsStore {
  return SqliteStore.open(config.databasePath, { busyTimeoutMs: config.busyTimeoutMs, groupCommit: options.groupCommit ?? false, ...(options.cacheKib !== undefined ? { cacheKib: options.cacheKib } : {}) });
}
