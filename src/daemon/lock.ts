/**
 * One daemon per repository: a lock file in the state folder, created exclusively, holding the
 * daemon's pid (and, once it listens, its address). A lock whose process is gone is stale and is
 * taken over; a live one makes the second daemon refuse with the first one's pid.
 */
import { readFileSync, unlinkSync, writeFileSync } from "node:fs";
import { UsageError } from "../errors.js";

export interface DaemonLockInfo {
  pid: number;
  started_at: string;
  /** Where the API listens, once it does. */
  url?: string;
}

export interface DaemonLock {
  readonly path: string;
  /** Adds the address to the lock, for clients and `goalops status`. */
  update(info: Partial<DaemonLockInfo>): void;
  release(): void;
}

export function readDaemonLock(path: string): DaemonLockInfo | null {
  try {
    const info = JSON.parse(readFileSync(path, "utf8")) as DaemonLockInfo;
    return typeof info.pid === "number" ? info : null;
  } catch {
    return null;
  }
}

/** Whether a process with this pid exists (EPERM: it does, under another user). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

export function acquireDaemonLock(path: string, now: Date = new Date()): DaemonLock & { tookOver: number | null } {
  let info: DaemonLockInfo = { pid: process.pid, started_at: now.toISOString() };
  let tookOver: number | null = null;
  for (let attempt = 0; ; attempt++) {
    try {
      writeFileSync(path, `${JSON.stringify(info)}\n`, { flag: "wx", mode: 0o600 });
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST" || attempt > 0) {
        if ((error as NodeJS.ErrnoException).code === "EEXIST") throw new UsageError("daemon.lock_race", `another goalops daemon took the lock ${path} at the same moment; try again`);
        throw new UsageError("daemon.lock_unwritable", `cannot create the daemon lock ${path}: ${(error as Error).message}`);
      }
      const holder = readDaemonLock(path);
      if (holder !== null && holder.pid !== process.pid && processAlive(holder.pid)) {
        throw new UsageError(
          "daemon.already_running",
          `a goalops daemon (pid ${holder.pid}${holder.url ? `, ${holder.url}` : ""}) is already running for this repository; stop it first (kill ${holder.pid}). If that process is not goalops, delete ${path}.`,
        );
      }
      // The holder is gone (or the file is unreadable): a stale lock from a crash. Take it over.
      tookOver = holder?.pid ?? 0;
      try {
        unlinkSync(path);
      } catch {
        // Someone else removed it first: the exclusive create below decides.
      }
    }
  }
  return {
    path,
    tookOver,
    update(more) {
      info = { ...info, ...more };
      writeFileSync(path, `${JSON.stringify(info)}\n`, { mode: 0o600 });
    },
    release() {
      try {
        if (readDaemonLock(path)?.pid === process.pid) unlinkSync(path);
      } catch {
        // Already gone.
      }
    },
  };
}
