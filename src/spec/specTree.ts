/**
 * The whole spec tree of a repository: every goal, lesson and rule file, loaded and checked, each
 * file valid or carrying its problems. Used by `validate`, `sync` and `diff` alike, so all three
 * see the same meaning of every file.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, posix, relative, sep } from "node:path";
import type { ResolvedConfig } from "./config.js";
import { crossCheck, type CrossCheckDocument, type CrossProblem } from "./crossChecks.js";
import { KINDS, OBJECT_KINDS, type ObjectKind } from "./kinds.js";
import type { SpecProblem } from "./parseYaml.js";
import { formatFieldPath } from "./parseYaml.js";
import { type LoadEntry, loadSpecEntry } from "./loadEntries.js";
import { idOf, locateFields, type SpecFile } from "./specFile.js";

export interface SpecTreeFile {
  path: string;
  kind: ObjectKind;
  absolutePath: string;
}

export interface SpecTree {
  files: SpecFile[];
}

/** The id each path declared at its last good version (null or undefined: none known). */
export type LastKnownIds = { get(path: string): string | null | undefined };

/** A previously validated version of a file, by path: reused when the file's hash is unchanged. */
export type KnownGoodFiles = ReadonlyMap<string, { hash: string; data: Record<string, unknown> }>;

export interface LoadTreeOptions {
  /** Reuse these parsed documents when a file's bytes hash the same (sync's content-hash cache). */
  knownGood?: KnownGoodFiles;
  /**
   * The id each path declared at its last good version: when a file is invalid now and its id
   * cannot be read, that id still exists (its last good version stays in force).
   */
  lastKnownIds?: LastKnownIds;
  /** What is known of the files now (path -> hash, and the bytes if they were read), to avoid reading twice. */
  current?: ReadonlyMap<string, { bytes?: Uint8Array; hash: string }>;
  /** Skip content hashes (sha256 of every file) when nothing will store them: validate. */
  withoutHashes?: boolean;
}

/** Lists the YAML files of the goal, lesson and playbook folders, sorted, with forward-slash paths. */
export function listSpecFiles(config: ResolvedConfig): SpecTreeFile[] {
  const out: SpecTreeFile[] = [];
  for (const kind of OBJECT_KINDS) {
    const folder = config.paths[KINDS[kind].folderKey as "goals" | "lessons" | "playbooks"];
    walk(join(config.root, folder), (absolutePath) => {
      out.push({ path: toRepoPath(config.root, absolutePath), kind, absolutePath });
    });
  }
  return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** Whether a file name is a spec file (YAML, not hidden, not an editor's backup or temp file). */
export function isSpecFileName(name: string): boolean {
  return !name.startsWith(".") && !name.endsWith("~") && (name.endsWith(".yaml") || name.endsWith(".yml"));
}

/**
 * The spec file a repository path would be listed as (by the same rules as listSpecFiles), or
 * null when that path is not one: the daemon's watcher reports paths, the sync wants spec files.
 * Says nothing of whether the file exists.
 */
export function specFileAt(config: ResolvedConfig, repoPath: string): SpecTreeFile | null {
  for (const kind of OBJECT_KINDS) {
    const folder = posix.normalize(config.paths[KINDS[kind].folderKey as "goals" | "lessons" | "playbooks"]).replace(/\/+$/, "");
    if (!repoPath.startsWith(`${folder}/`)) continue;
    const segments = repoPath.slice(folder.length + 1).split("/");
    const name = segments.pop() as string;
    if (segments.some((s) => s === "" || s.startsWith(".") || s === "node_modules") || !isSpecFileName(name)) return null;
    return { path: repoPath, kind, absolutePath: join(config.root, repoPath) };
  }
  return null;
}

function walk(dir: string, onFile: (absolutePath: string) => void): void {
  let entries: import("node:fs").Dirent[];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return;
    throw error;
  }
  for (const entry of entries) {
    if (entry.name.startsWith(".") || entry.name === "node_modules") continue;
    const full = join(dir, entry.name);
    if (entry.isDirectory()) walk(full, onFile);
    else if (isSpecFileName(entry.name) && (entry.isFile() || (entry.isSymbolicLink() && isRegularFile(full)))) onFile(full);
  }
}

function isRegularFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

export function toRepoPath(root: string, absolutePath: string): string {
  // The fast case (a path under root, as the walk produces) without path.relative's normalising.
  if (absolutePath.startsWith(root + sep)) {
    const rest = absolutePath.slice(root.length + 1);
    return sep === "/" ? rest : rest.split(sep).join("/");
  }
  return relative(root, absolutePath).split(sep).join("/");
}

/** Loads and checks every spec file of the tree. Never throws for a bad file: it carries problems. */
export function loadSpecTree(config: ResolvedConfig, listed: readonly SpecTreeFile[] = listSpecFiles(config), options: LoadTreeOptions = {}): SpecTree {
  const files = loadFilesOf(config, listed, options);
  applyCrossChecks(files, options.lastKnownIds, new Map(listed.map((f) => [f.path, f.absolutePath])));
  return { files };
}

/** Loads each file on its own (schema and syntax), reusing known-good documents; no cross-file checks yet. */
export function loadFilesOf(config: ResolvedConfig, listed: readonly SpecTreeFile[], options: LoadTreeOptions = {}): SpecFile[] {
  const files: (SpecFile | undefined)[] = new Array(listed.length);
  const toLoad: (LoadEntry & { index: number })[] = [];
  listed.forEach((f, index) => {
    const read = options.current?.get(f.path);
    const cached = options.knownGood?.get(f.path);
    if (read !== undefined && cached !== undefined && cached.hash === read.hash) {
      // Same bytes as the last valid version: reuse its document instead of parsing again.
      const id = idOf(f.kind, cached.data);
      files[index] = { path: f.path, kind: f.kind, hash: read.hash, ok: true, data: cached.data, ...(id !== undefined ? { id } : {}) };
    } else {
      toLoad.push({ ...f, index, ...(read?.bytes !== undefined ? { bytes: read.bytes, hash: read.hash } : {}) });
    }
  });
  for (const entry of toLoad) files[entry.index] = loadSpecEntry(entry, config.maxFileBytes, !options.withoutHashes);
  return files as SpecFile[];
}

/** Runs the cross-file checks and turns each file with a cross problem into an invalid file. */
function applyCrossChecks(files: SpecFile[], lastKnownIds: LastKnownIds | undefined, absolutePaths: ReadonlyMap<string, string>): void {
  const byPath = crossProblemsByPath(files, lastKnownIds);
  if (byPath.size === 0) return;
  for (let i = 0; i < files.length; i++) {
    const file = files[i] as SpecFile;
    const mine = byPath.get(file.path);
    if (mine !== undefined) files[i] = withCrossProblems(file, mine, absolutePaths.get(file.path));
  }
}

/** The cross-file problems of a loaded tree, by path (positions are located later, per file). */
export function crossProblemsByPath(files: Iterable<SpecFile>, lastKnownIds: LastKnownIds | undefined): Map<string, CrossProblem[]> {
  const documents: CrossCheckDocument[] = [];
  const known = new Set<string>();
  for (const file of files) {
    if (file.ok && file.id !== undefined) {
      documents.push({ path: file.path, kind: file.kind as ObjectKind, id: file.id, data: file.data });
    } else if (!file.ok) {
      // An invalid file's id still exists: references to it are not errors of their own.
      const id = file.id ?? lastKnownIds?.get(file.path);
      if (id != null) known.add(id);
    }
  }
  const byPath = new Map<string, CrossProblem[]>();
  for (const p of crossCheck({ documents, otherKnownIds: known })) {
    const list = byPath.get(p.path);
    if (list === undefined) byPath.set(p.path, [p]);
    else list.push(p);
  }
  return byPath;
}

/** A loaded file with its cross-file problems: invalid, positions read from its text. */
export function withCrossProblems(file: SpecFile, problems: readonly CrossProblem[], absolutePath: string | undefined): SpecFile {
  // Positions of cross-file problems come from reading those few files again: keeping the text
  // of every file (10 MB for 10,000) for them is not worth it.
  const positions = locateFields(readTextQuietly(absolutePath), problems.map((p) => p.fieldPath));
  const specProblems: SpecProblem[] = problems.map((p, j) => ({
    code: p.code,
    message: p.message,
    ...(positions[j] as { line: number; column: number }),
    field: formatFieldPath(p.fieldPath),
    ...(p.hint !== undefined ? { hint: p.hint } : {}),
  }));
  const { path, kind, hash, id } = file;
  return { path, kind, hash, ok: false, problems: specProblems, ...(id !== undefined ? { id } : {}), ...(file.ok ? { data: file.data } : {}) };
}

function readTextQuietly(absolutePath: string | undefined): string | undefined {
  if (absolutePath === undefined) return undefined;
  try {
    return readFileSync(absolutePath, "utf8");
  } catch {
    return undefined;
  }
}
