/**
 * Opening the SQLite database: WAL, a busy timeout on every connection, foreign keys, and
 * forward-only migrations recorded in schema_migrations and PRAGMA user_version.
 */
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { createRequire } from "node:module";
import type Database from "better-sqlite3";
import { StoreError } from "../../errors.js";
import { MIGRATIONS } from "../migrations/index.js";

export type SqliteDatabase = Database.Database;

// Loaded on first open: commands that never touch the database (validate, new) need not load it.
const require = createRequire(import.meta.url);

/** Pages in the WAL before a commit checkpoints it (SQLite's default is 1,000). */
export const WAL_AUTOCHECKPOINT_PAGES = 10_000;

/** A WAL file larger than this is cut back to it when the WAL starts over. */
export const JOURNAL_SIZE_LIMIT_BYTES = 64 * 1024 * 1024;

/**
 * Page cache of a writing connection: 16 MB instead of SQLite's 2 MB. Past ~100,000 runs the
 * ledger's goal indexes outgrow 2 MB, and each batch of runs read back and re-wrote pages it had
 * just evicted (measured: twice the system time, 14% fewer runs per second in batches of 1,000).
 */
export const DEFAULT_CACHE_KIB = 16_384;

export interface OpenOptions {
  busyTimeoutMs?: number;
  readonly?: boolean;
  /** Page cache in KiB (a writing connection; default DEFAULT_CACHE_KIB). */
  cacheKib?: number;
}

export function openDatabase(path: string, options: OpenOptions = {}): SqliteDatabase {
  let db: SqliteDatabase;
  try {
    if (!options.readonly) mkdirSync(dirname(path), { recursive: true });
    const Sqlite = require("better-sqlite3") as typeof Database;
    db = new Sqlite(path, { readonly: options.readonly ?? false, fileMustExist: options.readonly ?? false });
  } catch (error) {
    throw new StoreError("store.open", `cannot open the database ${path}: ${(error as Error).message}`, { cause: error });
  }
  try {
    db.pragma(`busy_timeout = ${Math.max(0, Math.floor(options.busyTimeoutMs ?? 5000))}`);
    if (!options.readonly) {
      db.pragma("journal_mode = WAL");
      // NORMAL is durable in WAL mode across application crashes; only a power loss can lose the last commits.
      db.pragma("synchronous = NORMAL");
      // A checkpoint every 10,000 WAL pages (about 40 MB) instead of SQLite's 1,000. Each automatic
      // checkpoint syncs the WAL and the database file inside the commit that triggers it; with a run
      // per transaction (6 pages) that was a stall every ~160 runs and a fifth of the ledger's rate.
      // The daemon also checkpoints on a timer. A WAL file left larger than 64 MB (after a learning
      // cycle, which holds checkpoints back during its scan) is cut back when it is next reset.
      db.pragma(`wal_autocheckpoint = ${WAL_AUTOCHECKPOINT_PAGES}`);
      db.pragma(`journal_size_limit = ${JOURNAL_SIZE_LIMIT_BYTES}`);
      db.pragma(`cache_size = -${Math.max(64, Math.floor(options.cacheKib ?? DEFAULT_CACHE_KIB))}`);
    }
    db.pragma("foreign_keys = ON");
    if (!options.readonly) migrate(db);
    return db;
  } catch (error) {
    db.close();
    if (error instanceof StoreError) throw error;
    throw new StoreError("store.open", `cannot use the database ${path}: ${(error as Error).message}`, { cause: error });
  }
}

/** The schema version this build of goalops writes. */
export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]?.version ?? 0;

/** Applies every migration newer than the database, each in its own IMMEDIATE transaction. */
export function migrate(db: SqliteDatabase): { from: number; to: number } {
  const from = db.pragma("user_version", { simple: true }) as number;
  if (from > SCHEMA_VERSION) {
    throw new StoreError("store.too_new", `the database has schema version ${from}, newer than this goalops (${SCHEMA_VERSION}); upgrade goalops`);
  }
  if (from === SCHEMA_VERSION) return { from, to: from };
  db.exec("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)");
  for (const migration of MIGRATIONS) {
    const apply = db.transaction(() => {
      // Re-check inside the write lock: another process may have migrated meanwhile.
      const current = db.pragma("user_version", { simple: true }) as number;
      if (current >= migration.version) return;
      db.exec(migration.sql);
      db.prepare("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)").run(migration.version, migration.name, new Date().toISOString());
      db.pragma(`user_version = ${migration.version}`);
    });
    if (migration.version > from) apply.immediate();
  }
  return { from, to: SCHEMA_VERSION };
}

const statementCache = new WeakMap<SqliteDatabase, { rows: Map<string, Database.Statement>; plucked: Map<string, Database.Statement> }>();

/**
 * A prepared statement of this connection, prepared once: preparing costs about as much as running
 * a small query, and the ledger's and registry's reads run per call. Keyed by the SQL text itself
 * (a constant whose hash V8 keeps), one map per mode.
 */
export function cached(db: SqliteDatabase, sql: string, pluck = false): Database.Statement {
  let statements = statementCache.get(db);
  if (statements === undefined) {
    statements = { rows: new Map(), plucked: new Map() };
    statementCache.set(db, statements);
  }
  const map = pluck ? statements.plucked : statements.rows;
  let statement = map.get(sql);
  if (statement === undefined) {
    statement = db.prepare(sql);
    if (pluck) statement.pluck();
    map.set(sql, statement);
  }
  return statement;
}

const transactionCache = new WeakMap<SqliteDatabase, Map<(...args: never[]) => unknown, Database.Transaction>>();

/**
 * A transaction function of this connection, made once per body: better-sqlite3 builds a wrapper
 * per `db.transaction()` call, a measurable share of a one-row write. The body must not close over
 * per-call state; it takes what it needs as arguments.
 */
export function transaction<A extends unknown[], R>(db: SqliteDatabase, body: (...args: A) => R): Database.Transaction<(...args: A) => R> {
  let map = transactionCache.get(db);
  if (map === undefined) {
    map = new Map();
    transactionCache.set(db, map);
  }
  let tx = map.get(body as (...args: never[]) => unknown);
  if (tx === undefined) {
    tx = db.transaction(body);
    map.set(body as (...args: never[]) => unknown, tx);
  }
  return tx as Database.Transaction<(...args: A) => R>;
}

/**
 * Runs `write` (one transaction) with a rollback journal instead of the WAL when this is the only
 * connection to the database, and as usual otherwise. For filling an empty database in one large
 * transaction: through the WAL every page is written twice, to the WAL and at the checkpoint to
 * the database, each with an fsync, and the WAL file is deleted after (a first sync of 10,000
 * goals: 33 MB, 0.16-0.25 s of its 2 s); a rollback journal writes new pages once and journals
 * none. `synchronous = FULL` meanwhile: in rollback mode NORMAL is not safe against power loss.
 */
export function withRollbackJournal<T>(db: SqliteDatabase, write: () => T): T {
  if (db.inTransaction || db.memory) return write();
  const busyTimeout = db.pragma("busy_timeout", { simple: true }) as number;
  let switched = false;
  try {
    // Another connection with the database open refuses the switch at once: then the WAL it is.
    db.pragma("busy_timeout = 0");
    switched = db.pragma("journal_mode = DELETE", { simple: true }) === "delete";
  } catch {
    switched = false;
  } finally {
    db.pragma(`busy_timeout = ${busyTimeout}`);
  }
  if (!switched) return write();
  db.pragma("synchronous = FULL");
  try {
    return write();
  } finally {
    db.pragma("synchronous = NORMAL");
    try {
      db.pragma("journal_mode = WAL");
    } catch {
      // Another connection opened the database meanwhile and kept it past the busy timeout. The
      // data is written; this connection follows the WAL as soon as any connection turns it back
      // on (every goalops connection does when it opens).
    }
  }
}

