/**
 * Reading `goalops.yaml` into a resolved configuration with defaults (finding the repository:
 * repoRoot.ts).
 */
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { UsageError } from "../errors.js";
import { DEFAULT_MAX_FILE_BYTES } from "./parseYaml.js";
import { intervalMs } from "./interval.js";
import { loadSpecFile, type SpecFile } from "./specFile.js";
import type { ConfigSpec } from "./types.js";
import { CONFIG_FILE, DEFAULT_SPEC_FOLDERS } from "./repoRoot.js";

export { CONFIG_FILE, findRepoRoot } from "./repoRoot.js";

export interface ResolvedConfig {
  /** Absolute path of the repository root (the folder holding goalops.yaml). */
  root: string;
  paths: { goals: string; lessons: string; playbooks: string; state: string };
  databasePath: string;
  busyTimeoutMs: number;
  pruneLimit: number;
  maxFileBytes: number;
  /** Absolute path of the state folder (database, token, daemon lock). */
  stateDir: string;
  /** How often the daemon rescans every file behind its watcher. */
  rescanIntervalMs: number;
  daemon: { host: string; port: number; maxBodyBytes: number; shutdownDeadlineMs: number };
  /** The file as written, after validation. */
  spec: ConfigSpec;
}

/** Applies defaults to a validated config. */
export function resolveConfig(root: string, spec: ConfigSpec): ResolvedConfig {
  const state = spec.paths?.state ?? "state";
  return {
    root,
    paths: {
      goals: spec.paths?.goals ?? DEFAULT_SPEC_FOLDERS.goals,
      lessons: spec.paths?.lessons ?? DEFAULT_SPEC_FOLDERS.lessons,
      playbooks: spec.paths?.playbooks ?? DEFAULT_SPEC_FOLDERS.playbooks,
      state,
    },
    databasePath: resolve(root, spec.database?.path ?? join(state, "goalops.db")),
    busyTimeoutMs: spec.database?.busy_timeout_ms ?? 5000,
    pruneLimit: spec.sync?.prune_limit ?? 0.5,
    maxFileBytes: spec.sync?.max_file_bytes ?? DEFAULT_MAX_FILE_BYTES,
    stateDir: resolve(root, state),
    // The schema's pattern guarantees a well-formed interval.
    rescanIntervalMs: intervalMs(spec.sync?.rescan_interval ?? "5m") ?? 300_000,
    daemon: {
      host: spec.daemon?.host ?? "127.0.0.1",
      port: spec.daemon?.port ?? 7420,
      maxBodyBytes: spec.daemon?.max_body_bytes ?? 1_048_576,
      shutdownDeadlineMs: intervalMs(spec.daemon?.shutdown_deadline ?? "30s") ?? 30_000,
    },
    spec,
  };
}

/** Reads and validates goalops.yaml. An invalid config is returned as a file with problems, not thrown. */
export function loadConfig(root: string): { ok: true; config: ResolvedConfig; file: SpecFile } | { ok: false; file: SpecFile } {
  const path = join(root, CONFIG_FILE);
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (error) {
    throw new UsageError("config.unreadable", `cannot read ${path}: ${(error as Error).message}`, { cause: error });
  }
  // An empty goalops.yaml means "all defaults".
  const file = bytes.toString("utf8").trim() === "" || /^(\s*#.*\n?)*\s*$/.test(bytes.toString("utf8"))
    ? { path: CONFIG_FILE, kind: "config" as const, hash: "", ok: true as const, data: {} }
    : loadSpecFile(CONFIG_FILE, "config", bytes);
  if (!file.ok) return { ok: false, file };
  return { ok: true, config: resolveConfig(root, file.data as ConfigSpec), file };
}
