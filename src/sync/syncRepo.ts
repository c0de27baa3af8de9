/**
 * One reconcile of the files into the database. Stop at once if nothing changed: known from git
 * (HEAD is the commit last synced from a clean tree, and the tree is still clean), or else from
 * each file's stat signature and content hash. Otherwise load (reusing the stored documents of
 * unchanged files), check, plan, and apply the plan in one transaction. `dryRun` is `diff`: the
 * same plan, not applied.
 */
import type { ResolvedConfig } from "../spec/config.js";
import { listSpecFiles, loadFilesOf, type SpecTreeFile } from "../spec/specTree.js";
import { LiveSpecTree } from "../spec/liveSpecTree.js";
import { specPathsOf } from "../spec/repoRoot.js";
import { type CurrentFile, snapshotFiles } from "./fileSnapshot.js";
import { gitTreeState, type GitTreeState, type StartedGitProbe } from "../git/treeState.js";
import { VERSION } from "../version.js";
import { StaleSnapshotError } from "../store/errors.js";
import type { DefinitionCounts, GoalOpsStore, NoopSyncEntry, SyncCounts, SyncSnapshot } from "../store/types.js";
import { reconcilePlan, type PlannedChange, type PlannedInvalidFile } from "./reconcilePlan.js";

export interface SyncOptions {
  trigger?: string;
  allowPrune?: boolean;
  dryRun?: boolean;
  /** Asks git where the spec files stand; default: `git status` on the spec folders. */
  probeGit?: () => Promise<GitTreeState | null>;
  /**
   * A `git status` the caller started earlier (the CLI, while it loaded the library): used as the
   * first probe when it asked about this repository's spec paths, and otherwise left unused.
   */
  startedGitProbe?: StartedGitProbe;
  /** Clock, for tests. */
  now?: () => Date;
  /** Receives the loaded tree when the sync loaded one (the daemon keeps it for its live syncs). */
  keepTree?: (tree: LiveSpecTree) => void;
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

/** How many times a sync plans again after an agent moved a goal between its read and its write. */
export const MAX_PLAN_ATTEMPTS = 3;

/** The paths whose git state decides whether the spec files changed. */
export function specPaths(config: ResolvedConfig): string[] {
  return specPathsOf(config.paths);
}

/** The answer of a `git status` started earlier, if it asked about this repository's spec paths. */
function startedProbeOf(config: ResolvedConfig, started: StartedGitProbe | undefined): Promise<GitTreeState | null> | undefined {
  if (started === undefined || started.root !== config.root) return undefined;
  return started.paths.join("\0") === specPaths(config).join("\0") ? started.state : undefined;
}

/** The commit to record as "synced from a clean tree": only if clean before and after reading, at one HEAD. */
function cleanCommit(before: GitTreeState | null, after: GitTreeState | null): string | null {
  return before?.clean && after?.clean && before.head !== null && before.head === after.head ? before.head : null;
}

/** The recorded marker: the goalops version too, so that an upgrade (new checks) re-reads every file. */
function cleanMarker(commit: string | null): string | null {
  return commit === null ? null : `${VERSION}:${commit}`;
}

export async function syncRepo(config: ResolvedConfig, store: GoalOpsStore, options: SyncOptions = {}): Promise<SyncReport> {
  const now = options.now ?? (() => new Date());
  const trigger = options.trigger ?? "cli";
  const probeGit = options.probeGit ?? (() => gitTreeState(config.root, specPaths(config)));
  const startedAt = now();
  const probingBefore = (options.probeGit === undefined ? startedProbeOf(config, options.startedGitProbe) : undefined) ?? probeGit();
  const lastCleanCommit = await store.getMeta("clean_tree_commit");
  // Without a recorded clean commit the shortcut cannot apply: scan the files while git runs.
  const before = lastCleanCommit === null ? null : await probingBefore;

  /** The report of a sync that found nothing to change (and its record, unless a dry run). */
  // What each kind of no-op adds to its record (computed only when it is recorded, not on a dry run).
  type NoopDetails = Pick<NoopSyncEntry, "signatures" | "cleanTreeCommit">;
  const reportUnchanged = async (commit: string | null, files: { total: number; invalid: number }, record: () => NoopDetails | Promise<NoopDetails>): Promise<SyncReport> => {
    const counts = { added: 0, changed: 0, archived: 0, restored: 0, invalid: files.invalid, unchanged: files.total - files.invalid };
    const invalid = files.invalid === 0 ? [] : (await store.invalidFiles()).map((f) => ({ path: f.path, kind: f.kind, keptId: f.objectId, problems: f.problems }));
    if (options.dryRun) return { outcome: "planned", commit, counts, changes: [], invalid, wouldChange: false };
    await store.recordNoopSync({ trigger, commit, at: startedAt.toISOString(), unchanged: counts.unchanged, invalid: files.invalid, ...(await record()) });
    return { outcome: "unchanged", commit, counts, changes: [], invalid, wouldChange: false, inForce: await store.countDefinitions() };
  };

  // git says the spec files are exactly those of the commit last synced from a clean tree.
  if (before?.clean && before.head !== null && cleanMarker(before.head) === lastCleanCommit) {
    const head = before.head;
    return reportUnchanged(head, await store.fileStateCounts(), () => ({ signatures: [], cleanTreeCommit: cleanMarker(head) }));
  }

  const listed = listSpecFiles(config);
  const index = await store.readFileIndex();
  const current = snapshotFiles(listed, index, startedAt);
  const gitBefore = before ?? (await probingBefore);
  const commit = gitBefore?.head ?? null;

  // Nothing added, removed or changed since the last sync: the result would be the same.
  const unchanged = index.size === listed.length && listed.every((f) => index.get(f.path)?.hash === current.get(f.path)?.hash);
  if (unchanged) {
    const invalid = [...index.values()].filter((e) => e.syncState === "invalid").length;
    return reportUnchanged(commit, { total: listed.length, invalid }, async () => ({
      signatures: [...current].filter(([path, c]) => index.get(path)?.statSignature !== c.statSignature).map(([path, c]) => ({ path, statSignature: c.statSignature })),
      cleanTreeCommit: gitBefore?.clean ? cleanMarker(cleanCommit(gitBefore, await probeGit())) : null,
    }));
  }

  for (let attempt = 1; ; attempt++) {
    const snapshot = await store.readSyncSnapshot();
    const tree = loadTreeOver(config, listed, snapshot, current);
    const result = reconcilePlan({
      files: [...tree.files()],
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
      // git checks the tree again while the plan is written (the write blocks this thread, not git);
      // the clean commit is recorded after, on its own: lost in a crash, it only costs a full scan.
      const probingAfter = gitBefore?.clean ? probeGit() : Promise.resolve(null);
      await store.applySyncPlan(result.plan);
      await store.setCleanTreeCommit(cleanMarker(cleanCommit(gitBefore, await probingAfter)));
      options.keepTree?.(tree);
      return { ...report, inForce: await store.countDefinitions() };
    } catch (error) {
      // An agent moved a goal between our read and our write: plan again from fresh state.
      if (error instanceof StaleSnapshotError && attempt < MAX_PLAN_ATTEMPTS) continue;
      throw error;
    }
  }
}

/**
 * Loads the listed files, reusing the stored document of every file whose bytes are those of its
 * last good version (the content-hash cache), and runs the cross-file checks.
 */
export function loadTreeOver(config: ResolvedConfig, listed: readonly SpecTreeFile[], snapshot: SyncSnapshot, current: ReadonlyMap<string, CurrentFile>): LiveSpecTree {
  const knownGood = new Map<string, { hash: string; data: Record<string, unknown> }>();
  const lastKnownIds = new Map<string, string>();
  for (const entry of snapshot.files.values()) {
    if (entry.objectId === null || !current.has(entry.path)) continue;
    lastKnownIds.set(entry.path, entry.objectId);
    const object = snapshot.objects.get(entry.objectId);
    if (object !== undefined && entry.syncState === "synced" && object.hash === entry.hash) knownGood.set(entry.path, { hash: object.hash, data: object.spec });
  }
  const loaded = loadFilesOf(config, listed, { knownGood, lastKnownIds, current });
  return new LiveSpecTree(loaded, listed.map((f) => [f.path, f.absolutePath]), config.maxFileBytes, lastKnownIds);
}
