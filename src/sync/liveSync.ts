/**
 * The daemon's sync: a full reconcile (at start, on a periodic rescan, when git moves HEAD), and
 * between them syncs of just the paths the watcher named. The watcher's events are only hints:
 * each named path is stat'ed, read and hashed again and compared with what the database holds, so
 * a dropped, doubled or out-of-order event costs nothing but time, and the periodic rescan catches
 * what no event named.
 *
 * A path sync keeps the tree loaded in memory (LiveSpecTree) and plans only the files concerned,
 * against the part of the database they touch, so an edit in a 10,000-file tree is written in a
 * few milliseconds. It ends in the state a full `goalops sync` of the same files gives: a test
 * compares the two databases.
 */
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import type { ResolvedConfig } from "../spec/config.js";
import type { LiveSpecTree, TreeFileChange } from "../spec/liveSpecTree.js";
import { listSpecFiles, type SpecTreeFile, specFileAt } from "../spec/specTree.js";
import { StaleSnapshotError } from "../store/errors.js";
import type { FileIndexEntry, GoalOpsStore } from "../store/types.js";
import type { GitTreeState } from "../git/treeState.js";
import { snapshotFiles } from "./fileSnapshot.js";
import { reconcilePlan } from "./reconcilePlan.js";
import { loadTreeOver, MAX_PLAN_ATTEMPTS, type SyncReport, syncRepo } from "./syncRepo.js";

export interface LiveSyncOptions {
  /** The commit HEAD points at (recorded on each sync); default: none. */
  head?: () => string | null;
  /** Asks git where the spec files stand, for full syncs; default: `git status`. */
  probeGit?: () => Promise<GitTreeState | null>;
  now?: () => Date;
}

export class LiveSync {
  /** The files as of the last sync this process made; null until the first full sync. */
  private tree: LiveSpecTree | null = null;
  /** The database's file index, kept in step with every plan this process applies. */
  private index = new Map<string, FileIndexEntry>();
  private readonly now: () => Date;

  constructor(
    private config: ResolvedConfig,
    private readonly store: GoalOpsStore,
    private readonly options: LiveSyncOptions = {},
  ) {
    this.now = options.now ?? (() => new Date());
  }

  /** A new goalops.yaml (already validated): paths and limits apply from the next sync, which is full. */
  reconfigure(config: ResolvedConfig): void {
    this.config = config;
    this.tree = null;
  }

  /** Every file, compared by hash with the database: what `goalops sync` does. */
  async syncAll(trigger: string): Promise<SyncReport> {
    let kept: LiveSpecTree | null = null;
    const report = await syncRepo(this.config, this.store, {
      trigger,
      now: this.now,
      keepTree: (tree) => {
        kept = tree;
      },
      ...(this.options.probeGit !== undefined ? { probeGit: this.options.probeGit } : {}),
    });
    this.index = await this.store.readFileIndex();
    // Nothing was loaded when nothing had changed: load the tree from the stored documents.
    this.tree = kept ?? (report.outcome === "refused" ? null : await this.loadTree());
    if (this.tree !== null) this.tree.lastKnownIds = { get: (path) => this.index.get(path)?.objectId };
    return report;
  }

  /**
   * The paths the watcher named (repository-relative; files or folders, present or gone). Returns
   * null when none of them changed what the database holds.
   */
  async syncPaths(hints: Iterable<string>, trigger: string): Promise<SyncReport | null> {
    if (this.tree === null) return this.syncAll(trigger);
    const tree = this.tree;
    const startedAt = this.now();
    const candidates = this.candidatesOf(hints);
    const current = snapshotFiles(candidates, this.index, startedAt);
    const changes: TreeFileChange[] = [];
    // Paths to write although the tree's files did not change: a new stat signature, or a file the
    // index still lists that was gone before the tree was loaded.
    const indexOnly = new Set<string>();
    for (const file of candidates) {
      const now = current.get(file.path);
      const known = this.index.get(file.path);
      if (now === undefined) {
        if (exists(file.absolutePath)) changes.push({ file, hash: "" }); // unreadable: the loader says why
        else if (tree.has(file.path)) changes.push({ removed: file.path });
        else if (known !== undefined) indexOnly.add(file.path);
        continue;
      }
      if (known !== undefined && known.hash === now.hash && tree.has(file.path)) {
        if (known.statSignature !== now.statSignature) indexOnly.add(file.path);
        continue;
      }
      changes.push({ file, hash: now.hash, ...(now.bytes !== undefined ? { bytes: now.bytes } : {}) });
    }
    const scope = tree.update(changes);
    for (const path of indexOnly) scope.add(path);
    if (scope.size === 0) return null;

    const paths = [...scope].sort();
    const files = paths.flatMap((path) => tree.get(path) ?? []);
    // A file read now records what it showed now (null while it is too recent to trust: the old
    // signature would make every later look see a change); one the checks pulled in keeps its own.
    const signatures = new Map(paths.map((path) => [path, current.has(path) ? (current.get(path)?.statSignature ?? null) : (this.index.get(path)?.statSignature ?? null)]));
    const head = this.options.head?.() ?? null;
    for (let attempt = 1; ; attempt++) {
      const snapshot = await this.store.readSyncSnapshot({ paths, ids: this.idsConcerned(paths) });
      const liveGoals = await this.store.countLiveGoals();
      const result = reconcilePlan({
        files,
        snapshot,
        commit: head,
        at: this.now().toISOString(),
        trigger,
        signatures,
        pruneLimit: this.config.pruneLimit,
        allowPrune: false,
        scope: { isDeclared: (id) => tree.declaredOutside(id, scope).declared, isValid: (id) => tree.declaredOutside(id, scope).valid, liveGoals },
      });
      if (!result.ok) {
        // Nothing is written: the next sync starts over from the files.
        this.tree = null;
        const counts = { added: 0, changed: 0, archived: result.wouldArchive.length, restored: 0, invalid: result.invalid.length, unchanged: 0 };
        return { outcome: "refused", commit: head, counts, changes: result.wouldArchive, invalid: result.invalid, wouldChange: true, message: result.message };
      }
      try {
        // The database no longer holds a clean commit's files (a CLI sync must not take the git shortcut).
        await this.store.setCleanTreeCommit(null);
        await this.store.applySyncPlan(result.plan);
      } catch (error) {
        if (error instanceof StaleSnapshotError && attempt < MAX_PLAN_ATTEMPTS) continue;
        this.tree = null;
        throw error;
      }
      for (const path of result.plan.removedFiles) this.index.delete(path);
      for (const f of result.plan.files) this.index.set(f.path, { path: f.path, kind: f.kind, objectId: f.objectId, hash: f.hash, syncState: f.syncState, statSignature: f.statSignature });
      const wouldChange = result.changes.length > 0 || result.plan.files.length > 0 || result.plan.removedFiles.length > 0;
      return { outcome: "applied", commit: head, counts: result.plan.counts, changes: result.changes, invalid: result.invalid, wouldChange, inForce: await this.store.countDefinitions() };
    }
  }

  /** The spec files a set of hints names: files as they are, folders expanded (what is there now, and what was). */
  private candidatesOf(hints: Iterable<string>): SpecTreeFile[] {
    const out = new Map<string, SpecTreeFile>();
    const tree = this.tree as LiveSpecTree;
    for (const hint of hints) {
      const file = specFileAt(this.config, hint);
      if (file !== null) {
        out.set(file.path, file);
        continue;
      }
      const prefix = `${hint.replace(/\/+$/, "")}/`;
      for (const path of tree.paths()) {
        if (!path.startsWith(prefix)) continue;
        const known = specFileAt(this.config, path);
        if (known !== null) out.set(path, known);
      }
      for (const path of filesUnder(join(this.config.root, hint), hint)) {
        const found = specFileAt(this.config, path);
        if (found !== null) out.set(path, found);
      }
    }
    return [...out.values()];
  }

  /** Ids whose stored definitions a plan over these paths reads: theirs, what the paths held, their dependencies. */
  private idsConcerned(paths: readonly string[]): string[] {
    const ids = new Set<string>();
    for (const path of paths) {
      const objectId = this.index.get(path)?.objectId;
      if (objectId != null) ids.add(objectId);
      const file = this.tree?.get(path);
      if (file?.id !== undefined) ids.add(file.id);
      const dependencies = file?.ok ? file.data.dependencies : undefined;
      if (Array.isArray(dependencies)) for (const dep of dependencies) if (typeof dep === "string") ids.add(dep);
    }
    return [...ids];
  }

  /** The tree as the database holds it now, loaded from the stored documents (no file is parsed twice). */
  private async loadTree(): Promise<LiveSpecTree> {
    const listed = listSpecFiles(this.config);
    const current = new Map([...this.index.values()].map((e) => [e.path, { hash: e.hash, statSignature: e.statSignature }]));
    return loadTreeOver(this.config, listed, await this.store.readSyncSnapshot(), current);
  }
}

function exists(path: string): boolean {
  try {
    statSync(path);
    return true;
  } catch {
    return false;
  }
}

/** Repository paths of the files under a folder (none if it is not one). */
function filesUnder(absolute: string, repoPath: string): string[] {
  let entries: import("node:fs").Dirent[];
  try {
    entries = readdirSync(absolute, { withFileTypes: true, recursive: true });
  } catch {
    return [];
  }
  return entries.filter((e) => !e.isDirectory()).map((e) => `${repoPath}/${join(e.parentPath, e.name).slice(absolute.length + 1)}`);
}
