/**
 * One reconcile of the files into the database: read and hash every file, stop at once if nothing
 * changed, otherwise load (reusing the stored documents of unchanged files), check, plan, and apply
 * the plan in one transaction. `dryRun` is `diff`: the same plan, not applied.
 */
import type { ResolvedConfig } from "../spec/config.js";
import { listSpecFiles, loadSpecTree } from "../spec/specTree.js";
import { snapshotFiles } from "./fileSnapshot.js";
import { StaleSnapshotError } from "../store/errors.js";
import type { DefinitionCounts, GoalOpsStore, SyncCounts } from "../store/types.js";
import { reconcilePlan, type PlannedChange, type PlannedInvalidFile } from "./reconcilePlan.js";

export interface SyncOptions {
  trigger?: string;
  allowPrune?: boolean;
  dryRun?: boolean;
  /** The commit the files are at; a promise so that asking git overlaps reading the files. */
  commit: string | null | Promise<string | null>;
  /** Clock, for tests. */
  now?: () => Date;
}

export interface SyncReport {
  /** applied: written; unchanged: nothing to write; planned: dry run; refused: the prune guard stopped it. */
  outcome: "applied" | "unchanged" | "planned" | "refused";
  commit: string | null;
  counts: SyncCounts;
  changes: PlannedChange[];
  invalid: PlannedInvalidFile[];
  /** Whether the database would change (definitions, or the recorded state of a file). */
  wouldChange: boolean;
  /** What is in force after the sync (not for dry runs). */
  inForce?: DefinitionCounts;
  message?: string;
}

const MAX_PLAN_ATTEMPTS = 3;

export async function syncRepo(config: ResolvedConfig, store: GoalOpsStore, options: SyncOptions): Promise<SyncReport> {
  const now = options.now ?? (() => new Date());
  const trigger = options.trigger ?? "cli";
  const startedAt = now();
  const listed = listSpecFiles(config);
  const index = await store.readFileIndex();
  const current = snapshotFiles(listed, index, startedAt);
  const commit = await options.commit;

  // Nothing added, removed or changed since the last sync: the result would be the same.
  const unchanged = index.size === listed.length && listed.every((f) => index.get(f.path)?.hash === current.get(f.path)?.hash);
  if (unchanged) {
    const invalid = [...index.values()].filter((e) => e.syncState === "invalid").length;
    const counts = { added: 0, changed: 0, archived: 0, restored: 0, invalid, unchanged: listed.length - invalid };
    const invalidFiles = invalid === 0 ? [] : (await store.invalidFiles()).map((f) => ({ path: f.path, kind: f.kind, keptId: f.objectId, problems: f.problems }));
    if (options.dryRun) return { outcome: "planned", commit, counts, changes: [], invalid: invalidFiles, wouldChange: false };
    const signatures = [...current].filter(([path, c]) => index.get(path)?.statSignature !== c.statSignature).map(([path, c]) => ({ path, statSignature: c.statSignature }));
    await store.recordNoopSync({ trigger, commit, at: startedAt.toISOString(), unchanged: counts.unchanged, invalid, signatures });
    return { outcome: "unchanged", commit, counts, changes: [], invalid: invalidFiles, wouldChange: false, inForce: await store.countDefinitions() };
  }

  for (let attempt = 1; ; attempt++) {
    const snapshot = await store.readSyncSnapshot();
    const knownGood = new Map<string, { hash: string; data: Record<string, unknown> }>();
    const lastKnownIds = new Map<string, string>();
    for (const entry of snapshot.files.values()) {
      if (entry.objectId === null || !current.has(entry.path)) continue;
      lastKnownIds.set(entry.path, entry.objectId);
      const object = snapshot.objects.get(entry.objectId);
      if (object !== undefined && entry.syncState === "synced" && object.hash === entry.hash) knownGood.set(entry.path, { hash: object.hash, data: object.spec });
    }
    const tree = await loadSpecTree(config, listed, { knownGood, lastKnownIds, current });
    const result = reconcilePlan({
      files: tree.files,
      snapshot,
      commit,
      at: now().toISOString(),
      trigger,
      signatures: new Map([...current].map(([path, c]) => [path, c.statSignature])),
      pruneLimit: config.pruneLimit,
      allowPrune: options.allowPrune ?? false,
    });
    if (!result.ok) {
      const counts = { added: 0, changed: 0, archived: result.wouldArchive.length, restored: 0, invalid: result.invalid.length, unchanged: 0 };
      return { outcome: "refused", commit, counts, changes: result.wouldArchive, invalid: result.invalid, wouldChange: true, message: result.message };
    }
    const wouldChange = result.changes.length > 0 || result.plan.files.length > 0 || result.plan.removedFiles.length > 0;
    const report: SyncReport = { outcome: options.dryRun ? "planned" : "applied", commit, counts: result.plan.counts, changes: result.changes, invalid: result.invalid, wouldChange };
    if (options.dryRun) return report;
    try {
      await store.applySyncPlan(result.plan);
      return { ...report, inForce: await store.countDefinitions() };
    } catch (error) {
      // An agent moved a goal between our read and our write: plan again from fresh state.
      if (error instanceof StaleSnapshotError && attempt < MAX_PLAN_ATTEMPTS) continue;
      throw error;
    }
  }
}
