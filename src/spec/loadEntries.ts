/**
 * Loading many spec files. Every caller runs the same `loadSpecEntry`, so a file means the same
 * wherever it was loaded.
 *
 * Measured and rejected: loading in worker threads on both cores. On the 2-core machine this
 * project is measured on, a second thread slowed each thread's YAML parsing by about 60%
 * (allocation-heavy work does not scale there), so 10,000 files took as long or longer.
 */
import { readFileSync } from "node:fs";
import type { ObjectKind } from "./kinds.js";
import { hashBytes, loadSpecFile, type SpecFile } from "./specFile.js";

export interface LoadEntry {
  path: string;
  kind: ObjectKind;
  absolutePath: string;
  /** Bytes already read (sync reads every file to hash it); otherwise read here. */
  bytes?: Uint8Array;
  hash?: string;
}

/** Reads (if needed) and loads one file; an unreadable file becomes a file with a problem. */
export function loadSpecEntry(entry: LoadEntry, maxBytes: number, hash = true): SpecFile {
  let bytes = entry.bytes;
  if (bytes === undefined) {
    try {
      bytes = readFileSync(entry.absolutePath);
    } catch (error) {
      return { path: entry.path, kind: entry.kind, hash: "", ok: false, problems: [{ code: "file.unreadable", message: `cannot read the file: ${(error as Error).message}`, line: 1, column: 1, field: "" }] };
    }
  }
  return loadSpecFile(entry.path, entry.kind, bytes, maxBytes, entry.hash ?? (hash ? hashBytes(bytes) : ""));
}
