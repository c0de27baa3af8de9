/**
 * Watches the spec folders, goalops.yaml and git's HEAD with chokidar, and turns its events into
 * batches of repository paths. Events are hints only (the sync re-reads and hashes what they
 * name), so the watcher need not be perfect, only prompt:
 * - a batch is flushed after a short quiet time (DEBOUNCE_MS), or at MAX_WAIT_MS however busy;
 * - chokidar drops a second change to a file within 50 ms of the first (chokidar#1455), so every
 *   synced path is checked once more RECHECK_MS later;
 * - ENOSPC (the inotify watch limit) or EMFILE switches to polling, which health reports; the
 *   periodic rescan stays the backstop.
 */
import { existsSync } from "node:fs";
import { basename, join, posix } from "node:path";
import { type FSWatcher, watch } from "chokidar";
import type { Logger } from "./logger.js";
import { isSpecFileName, toRepoPath } from "../spec/specTree.js";

export const DEBOUNCE_MS = 15;
export const MAX_WAIT_MS = 200;
export const RECHECK_MS = 120;

export interface WatchTargets {
  root: string;
  /** Spec folders, repository-relative (normalised here). */
  folders: string[];
  /** Git's HEAD and refs: when they move, everything is rescanned. */
  gitPaths: string[];
}

export interface WatchBatch {
  paths: Set<string>;
  /** git moved (checkout, pull, commit): sync everything. */
  gitMoved: boolean;
}

export interface WatcherState {
  mode: "native" | "polling" | "stopped";
  /** Why polling, or what the watcher last failed with. */
  reason?: string;
}

export class SpecWatcher {
  private watcher: FSWatcher | null = null;
  private state: WatcherState = { mode: "stopped" };
  private pending = new Set<string>();
  private gitMoved = false;
  private quietTimer: NodeJS.Timeout | null = null;
  private firstEventAt: number | null = null;

  private targets: WatchTargets;

  constructor(
    targets: WatchTargets,
    private readonly onBatch: (batch: WatchBatch) => void,
    private readonly log: Logger,
  ) {
    this.targets = normalised(targets);
  }

  status(): WatcherState {
    return { ...this.state };
  }

  /** Starts watching; `polling` instead of inotify, for `reason` (reported in health). */
  async start(polling = false, reason = "asked for"): Promise<void> {
    const { root, gitPaths } = this.targets;
    // The root, not the spec folders: a folder that does not exist yet (or is deleted and made
    // again) is still seen, and chokidar reports "ready" only once every watch is in place.
    const watcher = watch([root, ...gitPaths.filter((p) => existsSync(p))], {
      ignoreInitial: true,
      followSymlinks: false,
      usePolling: polling,
      interval: 1000,
      binaryInterval: 1000,
      ignored: (path, stats) => !this.wanted(path, stats?.isFile() ?? false),
    });
    this.watcher = watcher;
    watcher.on("all", (_event, path) => this.hint(path));
    watcher.on("error", (error) => this.failed(error as NodeJS.ErrnoException));
    await new Promise<void>((resolve) => watcher.once("ready", () => resolve()));
    this.state = polling ? { mode: "polling", reason } : { mode: "native" };
  }

  /** Whether a path is watched: goalops.yaml, git's HEAD and refs, spec folders and the YAML files in them. */
  private wanted(absolutePath: string, isFile: boolean): boolean {
    const { root, folders, gitPaths } = this.targets;
    if (absolutePath === root) return true;
    if (gitPaths.some((g) => absolutePath === g || absolutePath.startsWith(`${g}/`))) return true;
    const path = toRepoPath(root, absolutePath);
    if (path === "goalops.yaml") return true;
    for (const folder of folders) {
      if (`${folder}/`.startsWith(`${path}/`)) return true; // the folder itself, or a folder above it
      if (!path.startsWith(`${folder}/`)) continue;
      const name = basename(path);
      if (name.startsWith(".") || name === "node_modules") return false;
      return !isFile || isSpecFileName(name);
    }
    return false;
  }

  /** New folders (goalops.yaml changed): watch them instead. */
  async retarget(targets: WatchTargets): Promise<void> {
    this.targets = normalised(targets);
    const { mode, reason } = this.state;
    await this.close();
    await this.start(mode === "polling", reason);
  }

  async close(): Promise<void> {
    if (this.quietTimer !== null) clearTimeout(this.quietTimer);
    this.quietTimer = null;
    const watcher = this.watcher;
    this.watcher = null;
    this.state = { mode: "stopped" };
    await watcher?.close();
  }

  /** A path to look at (from an event, or a re-check). */
  hint(absolutePath: string): void {
    const path = toRepoPath(this.targets.root, absolutePath);
    if (this.targets.gitPaths.some((g) => absolutePath === g || absolutePath.startsWith(`${g}/`))) this.gitMoved = true;
    else this.pending.add(path);
    const now = Date.now();
    this.firstEventAt ??= now;
    if (this.quietTimer !== null) clearTimeout(this.quietTimer);
    const wait = Math.max(0, Math.min(DEBOUNCE_MS, this.firstEventAt + MAX_WAIT_MS - now));
    this.quietTimer = setTimeout(() => this.flush(), wait);
  }

  /** Looks at these repository paths again in a moment (what a dropped event would have said). */
  recheckLater(paths: Iterable<string>): void {
    const list = [...paths];
    if (list.length === 0) return;
    setTimeout(() => {
      if (this.watcher === null) return;
      for (const p of list) this.hint(join(this.targets.root, p));
    }, RECHECK_MS).unref();
  }

  private flush(): void {
    this.quietTimer = null;
    this.firstEventAt = null;
    const batch = { paths: this.pending, gitMoved: this.gitMoved };
    this.pending = new Set();
    this.gitMoved = false;
    if (batch.paths.size > 0 || batch.gitMoved) this.onBatch(batch);
  }

  private failed(error: NodeJS.ErrnoException): void {
    if ((error.code === "ENOSPC" || error.code === "EMFILE") && this.state.mode === "native") {
      const reason = error.code === "ENOSPC" ? "the inotify watch limit is reached (fs.inotify.max_user_watches)" : "too many open files";
      this.log.warn("watcher falls back to polling", { reason, code: error.code });
      this.state = { mode: "polling", reason };
      void this.close()
        .then(() => this.start(true, reason))
        .catch((e: unknown) => this.log.error("watcher could not restart; the periodic rescan still runs", { error: String(e) }));
      return;
    }
    this.log.warn("watcher error; the periodic rescan still runs", { error: error.message, code: error.code });
    this.state = { ...this.state, reason: error.message };
  }
}

function normalised(targets: WatchTargets): WatchTargets {
  return { ...targets, folders: targets.folders.map((f) => posix.normalize(f).replace(/\/+$/, "")) };
}
