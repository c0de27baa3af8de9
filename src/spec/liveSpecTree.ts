/**
 * A loaded spec tree kept in memory and updated file by file: the daemon's view of the files.
 *
 * An update loads only the files it names. The cross-file checks (ids, parents, dependencies,
 * cycles, hierarchy) read a small part of each document; they run again over the whole tree only
 * when an update changes that part of some file, or which files exist or are valid. So an edit to
 * a description or a target costs one file's load, not the tree's (40 ms for 10,000 files on the
 * 2-core bench machine). Whatever the path, the files are those loadSpecTree gives for the same
 * bytes: a test holds the two equal.
 */
import type { CrossProblem } from "./crossChecks.js";
import { loadSpecEntry } from "./loadEntries.js";
import { idOf, type SpecFile } from "./specFile.js";
import { crossProblemsByPath, type LastKnownIds, type SpecTreeFile, withCrossProblems } from "./specTree.js";

/** A file as it is now: its bytes (if already read) and hash; or gone. */
export type TreeFileChange = { file: SpecTreeFile; hash: string; bytes?: Uint8Array } | { removed: string };

export class LiveSpecTree {
  /** Each file as loaded on its own (its own problems only). */
  private readonly loaded = new Map<string, SpecFile>();
  private readonly absolutePaths = new Map<string, string>();
  /** Cross-file problems, by path (positions located in `final`). */
  private cross = new Map<string, CrossProblem[]>();
  /** Each file with its cross-file problems: what a sync records. */
  private readonly final = new Map<string, SpecFile>();
  /** The paths declaring each id; and the invalid files whose id cannot be read. */
  private readonly byId = new Map<string, Set<string>>();
  private readonly withoutId = new Set<string>();

  /**
   * @param loaded every file of the tree, loaded on its own (loadFilesOf)
   * @param lastKnownIds the id each path declared at its last good version, read when needed;
   *   the daemon points it at its live file index once the tree is its own
   */
  constructor(
    loaded: readonly SpecFile[],
    absolutePaths: Iterable<[string, string]>,
    private readonly maxFileBytes: number,
    public lastKnownIds: LastKnownIds,
  ) {
    for (const [path, absolute] of absolutePaths) this.absolutePaths.set(path, absolute);
    for (const file of loaded) this.loaded.set(file.path, file);
    this.cross = crossProblemsByPath(this.loaded.values(), this.lastKnownIds);
    for (const file of loaded) this.place(file.path, this.withCross(file));
  }

  get size(): number {
    return this.final.size;
  }

  has(path: string): boolean {
    return this.final.has(path);
  }

  /** A file with its cross-file problems, as a sync records it. */
  get(path: string): SpecFile | undefined {
    return this.final.get(path);
  }

  files(): IterableIterator<SpecFile> {
    return this.final.values();
  }

  paths(): IterableIterator<string> {
    return this.final.keys();
  }

  /**
   * Applies what changed on disk. Returns every path whose recorded state may differ now: the
   * changed files, and files whose cross-file problems came or went because of them.
   */
  update(changes: readonly TreeFileChange[]): Set<string> {
    const affected = new Set<string>();
    let crossInputsChanged = false;
    for (const change of changes) {
      if ("removed" in change) {
        const before = this.loaded.get(change.removed);
        if (before === undefined) continue;
        this.loaded.delete(change.removed);
        this.place(change.removed, undefined);
        this.absolutePaths.delete(change.removed);
        affected.add(change.removed);
        crossInputsChanged = true;
        continue;
      }
      const { file, hash, bytes } = change;
      const before = this.loaded.get(file.path);
      if (before !== undefined && before.hash === hash && hash !== "") continue;
      const loaded = compact(loadSpecEntry({ ...file, hash, ...(bytes !== undefined ? { bytes } : {}) }, this.maxFileBytes));
      this.loaded.set(file.path, loaded);
      this.absolutePaths.set(file.path, file.absolutePath);
      affected.add(file.path);
      if (before === undefined || this.crossKey(before) !== this.crossKey(loaded)) crossInputsChanged = true;
    }
    if (crossInputsChanged) {
      const previous = this.cross;
      this.cross = crossProblemsByPath(this.loaded.values(), this.lastKnownIds);
      for (const path of new Set([...previous.keys(), ...this.cross.keys()])) {
        if (!sameProblems(previous.get(path), this.cross.get(path))) affected.add(path);
      }
    }
    for (const path of affected) {
      const loaded = this.loaded.get(path);
      if (loaded !== undefined) this.place(path, this.withCross(loaded));
    }
    return affected;
  }

  /**
   * Whether a file outside `scope` declares this id (its own, or an invalid file's last known
   * one), and whether a valid one does: what a plan over the scope must know of the rest.
   */
  declaredOutside(id: string, scope: ReadonlySet<string>): { declared: boolean; valid: boolean } {
    let declared = false;
    for (const path of this.byId.get(id) ?? []) {
      if (scope.has(path)) continue;
      declared = true;
      if (this.final.get(path)?.ok) return { declared, valid: true };
    }
    if (!declared) for (const path of this.withoutId) if (!scope.has(path) && this.lastKnownIds.get(path) === id) return { declared: true, valid: false };
    return { declared, valid: false };
  }

  /** Sets (or with undefined, removes) a path's final file, keeping the id index in step. */
  private place(path: string, file: SpecFile | undefined): void {
    const before = this.final.get(path);
    if (before?.id !== undefined) this.byId.get(before.id)?.delete(path);
    this.withoutId.delete(path);
    if (file === undefined) {
      this.final.delete(path);
      return;
    }
    this.final.set(path, file);
    if (file.id === undefined) {
      if (!file.ok) this.withoutId.add(path);
      return;
    }
    const paths = this.byId.get(file.id);
    if (paths === undefined) this.byId.set(file.id, new Set([path]));
    else paths.add(path);
  }

  private withCross(file: SpecFile): SpecFile {
    const problems = this.cross.get(file.path);
    return problems === undefined ? file : withCrossProblems(file, problems, this.absolutePaths.get(file.path));
  }

  /** What the cross-file checks read of a file: when it is the same, so are their results. */
  private crossKey(file: SpecFile): string {
    if (!file.ok) return JSON.stringify(["invalid", file.id ?? this.lastKnownIds.get(file.path) ?? null]);
    const d = file.data;
    return JSON.stringify([file.kind, file.id, d.goal_type, d.parent_goal_id, d.dependencies, d.source_lesson_ids]);
  }
}

function sameProblems(a: readonly CrossProblem[] | undefined, b: readonly CrossProblem[] | undefined): boolean {
  const key = (list: readonly CrossProblem[] | undefined) => JSON.stringify(list?.map((p) => [p.code, p.fieldPath, p.message]) ?? []);
  return key(a) === key(b);
}

/**
 * A valid file whose document holds copies of its strings, not substrings of the file's text. The
 * YAML parser's strings are slices of the text, and V8 keeps the whole text alive through any
 * slice of 13 or more characters; the tree keeps its documents for the daemon's life, so every
 * edited file would keep its text as well (about 1.5 KB each; the start sync's documents, read back
 * from the database's JSON, hold copies already). One JSON round trip, microseconds per edit.
 */
function compact(file: SpecFile): SpecFile {
  if (!file.ok) return file;
  const data = JSON.parse(JSON.stringify(file.data)) as Record<string, unknown>;
  const id = idOf(file.kind, data);
  return { ...file, data, ...(id !== undefined ? { id } : {}) };
}
