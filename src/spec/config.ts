/**
 * Finding the repository and reading `goalops.yaml` into a resolved configuration with defaults.
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { UsageError } from "../errors.js";
import { DEFAULT_MAX_FILE_BYTES } from "./parseYaml.js";
import { intervalMs } from "./interval.js";
import { loadSpecFile, type SpecFile } from "./specFile.js";
import type { ConfigSpec } from "./types.js";

export const CONFIG_FILE = "goalops.yaml";

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

/** The nearest folder at or above `start` that holds goalops.yaml; `explicit` (--repo) wins. */
export function findRepoRoot(start: string, explicit?: string): string {
  if (explicit !== undefined) {
    const root = resolve(explicit);
    if (!existsSync(root) || !statSync(root).isDirectory()) throw new UsageError("repo.not_found", `--repo ${explicit}: no such folder`);
    if (!existsSync(join(root, CONFIG_FILE))) throw new UsageError("repo.no_config", `--repo ${explicit}: no ${CONFIG_FILE} in ${root}; run 'goalops init ${explicit}' to create one`);
    return root;
  }
  let dir = resolve(start);
  for (;;) {
    if (existsSync(join(dir, CONFIG_FILE))) return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new UsageError("repo.not_found", `no ${CONFIG_FILE} in ${resolve(start)} or any folder above it; run 'goalops init' to create one, or pass --repo DIR`);
    dir = parent;
  }
}

/** Applies defaults to a validated config. */
export function resolveConfig(root: string, spec: ConfigSpec): ResolvedConfig {
  const state = spec.paths?.state ?? "state";
  return {
    root,
    paths: {
      goals: spec.paths?.goals ?? "goals",
      lessons: spec.paths?.lessons ?? "lessons",
      playbooks: spec.paths?.playbooks ?? "playbooks",
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
