/**
 * The whole spec tree of a repository: every goal, lesson and rule file, loaded and checked, each
 * file valid or carrying its problems. Used by `validate`, `sync` and `diff` alike, so all three
 * see the same meaning of every file.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative, sep } from "node:path";
import type { ResolvedConfig } from "./config.js";
import { crossCheck, type CrossCheckDocument } from "./crossChecks.js";
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

/** A previously validated version of a file, by path: reused when the file's hash is unchanged. */
export type KnownGoodFiles = ReadonlyMap<string, { hash: string; data: Record<string, unknown> }>;

export interface LoadTreeOptions {
  /** Reuse these parsed documents when a file's bytes hash the same (sync's content-hash cache). */
  knownGood?: KnownGoodFiles;
  /**
   * The id each path declared at its last good version: when a file is invalid now and its id
   * cannot be read, that id still exists (its last good version stays in force).
   */
  lastKnownIds?: ReadonlyMap<string, string>;
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
  const result = files as SpecFile[];
  applyCrossChecks(result, options.lastKnownIds, new Map(listed.map((f) => [f.path, f.absolutePath])));
  return { files: result };
}

/** Runs the cross-file checks and turns each file with a cross problem into an invalid file. */
function applyCrossChecks(files: SpecFile[], lastKnownIds: ReadonlyMap<string, string> | undefined, absolutePaths: ReadonlyMap<string, string>): void {
  const documents: CrossCheckDocument[] = [];
  const known = new Set<string>();
  for (const file of files) {
    if (file.ok && file.id !== undefined) {
      documents.push({ path: file.path, kind: file.kind as ObjectKind, id: file.id, data: file.data });
    } else if (!file.ok) {
      // An invalid file's id still exists: references to it are not errors of their own.
      const id = file.id ?? lastKnownIds?.get(file.path);
      if (id !== undefined) known.add(id);
    }
  }
  const problems = crossCheck({ documents, otherKnownIds: known });
  if (problems.length === 0) return;
  const byPath = new Map<string, typeof problems>();
  for (const p of problems) byPath.set(p.path, [...(byPath.get(p.path) ?? []), p]);
  for (let i = 0; i < files.length; i++) {
    const file = files[i] as SpecFile;
    const mine = byPath.get(file.path);
    if (mine === undefined) continue;
    // Positions of cross-file problems come from reading those few files again: keeping the text
    // of every file (10 MB for 10,000) for them is not worth it.
    const text = readTextQuietly(absolutePaths.get(file.path));
    const positions = locateFields(text, mine.map((p) => p.fieldPath));
    const specProblems: SpecProblem[] = mine.map((p, j) => ({
      code: p.code,
      message: p.message,
      ...(positions[j] as { line: number; column: number }),
      field: formatFieldPath(p.fieldPath),
      ...(p.hint !== undefined ? { hint: p.hint } : {}),
    }));
    const { path, kind, hash, id } = file;
    files[i] = { path, kind, hash, ok: false, problems: specProblems, ...(id !== undefined ? { id } : {}), ...(file.ok ? { data: file.data } : {}) };
  }
}

function readTextQuietly(absolutePath: string | undefined): string | undefined {
  if (absolutePath === undefined) return undefined;
  try {
    return readFileSync(absolutePath, "utf8");
  } catch {
    return undefined;
  }
}
