/**
 * One spec file: bytes -> hash, text, validated document or problems. Errors are data here: a bad
 * file yields `{ ok: false, problems }` and never throws, so one bad file never stops the others.
 */
import { createHash } from "node:crypto";
import { KINDS, type SpecKind } from "./kinds.js";
import { decodeSpecBytes, parseYamlExact, parseYamlFast, positionOf, type SpecProblem } from "./parseYaml.js";
import { validateAgainstSchema } from "./schemaValidator.js";
import { schemaErrorsToProblems } from "./schemaProblems.js";

interface SpecFileBase {
  /** Path relative to the repository root, with forward slashes. */
  path: string;
  kind: SpecKind;
  /** sha256 of the bytes, hex. */
  hash: string;
  /** The object's id when the file declares a well-formed one, even if the file is otherwise invalid. */
  id?: string;
}

export interface ValidSpecFile extends SpecFileBase {
  ok: true;
  data: Record<string, unknown>;
}

export interface InvalidSpecFile extends SpecFileBase {
  ok: false;
  problems: SpecProblem[];
  /** The parsed data, when the file parsed but failed validation; used to avoid cascades of errors. */
  data?: unknown;
}

export type SpecFile = ValidSpecFile | InvalidSpecFile;

export function hashBytes(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** Reads the id field of parsed data when it is a string of the right prefix. */
export function idOf(kind: SpecKind, data: unknown): string | undefined {
  const info = KINDS[kind];
  if (info.idField === undefined || data === null || typeof data !== "object" || Array.isArray(data)) return undefined;
  const value = (data as Record<string, unknown>)[info.idField];
  return typeof value === "string" && info.idPrefix !== undefined && value.startsWith(info.idPrefix) ? value : undefined;
}

/** Loads one spec file from its bytes: decode, parse (fast path first), validate against its schema. */
export function loadSpecFile(path: string, kind: SpecKind, bytes: Uint8Array, maxBytes?: number, hash = hashBytes(bytes)): SpecFile {
  const decoded = decodeSpecBytes(bytes, maxBytes);
  if (!decoded.ok) return { path, kind, hash, ok: false, problems: decoded.problems };
  const text = decoded.text;

  const fast = parseYamlFast(text);
  if (fast !== undefined && isMapping(fast.data) && validateAgainstSchema(kind, fast.data).length === 0) {
    const id = idOf(kind, fast.data);
    return { path, kind, hash, ok: true, data: fast.data, ...(id !== undefined ? { id } : {}) };
  }

  // Anything the fast path did not accept is decided, with positions, by the exact path.
  const exact = parseYamlExact(text);
  if (!exact.ok) return { path, kind, hash, ok: false, problems: exact.problems };
  const id = idOf(kind, exact.data);
  const withId = id !== undefined ? { id } : {};
  if (exact.data === null) {
    const empty = exact.doc.contents === null;
    const found = empty ? "file holds no YAML document" : "file holds only a null value";
    return { path, kind, hash, ok: false, problems: [{ code: "file.empty", message: `${found}; expected a ${kind} as a map of fields`, line: 1, column: 1, field: "" }] };
  }
  if (!isMapping(exact.data)) {
    const p = positionOf(exact, []);
    return { path, kind, hash, ok: false, data: exact.data, ...withId, problems: [{ code: "schema.type", message: `file holds ${Array.isArray(exact.data) ? "a list" : "a single value"}; expected a ${kind} as a map of fields`, ...p, field: "" }] };
  }
  const errors = validateAgainstSchema(kind, exact.data);
  if (errors.length === 0) return { path, kind, hash, ok: true, data: exact.data, ...withId };
  return { path, kind, hash, ok: false, data: exact.data, ...withId, problems: schemaErrorsToProblems(errors, exact.data, exact) };
}

function isMapping(data: unknown): data is Record<string, unknown> {
  return data !== null && typeof data === "object" && !Array.isArray(data);
}

/** Positions of field paths in a file's text, for problems found after loading (cross-file checks). */
export function locateFields(text: string | undefined, paths: readonly (readonly (string | number)[])[]): { line: number; column: number }[] {
  if (text === undefined) return paths.map(() => ({ line: 1, column: 1 }));
  const exact = parseYamlExact(text);
  if (!exact.ok) return paths.map(() => ({ line: 1, column: 1 }));
  // A cross-file problem is about the value (the id that is unknown, duplicated, in a cycle).
  return paths.map((p) => positionOf(exact, p, false));
}
