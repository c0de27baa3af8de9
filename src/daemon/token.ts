/**
 * The API's bearer token: random, in `state/token`, mode 0600 in a 0700 folder, created on the
 * daemon's first start. The daemon refuses to start if either is readable by others: whoever can
 * read the token can act as any agent.
 */
import { randomBytes, timingSafeEqual } from "node:crypto";
import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { UsageError } from "../errors.js";

export function tokenPath(stateDir: string): string {
  return join(stateDir, "token");
}

/** Reads the token, creating it (and tightening the folder) on first use. */
export function ensureToken(stateDir: string): { token: string; path: string; created: boolean } {
  const path = tokenPath(stateDir);
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  let created = false;
  try {
    statSync(path);
  } catch {
    // First start: the folder may have come from a clone (0755); it holds the token from now on.
    chmodSync(stateDir, 0o700);
    try {
      writeFileSync(path, `${randomBytes(32).toString("hex")}\n`, { flag: "wx", mode: 0o600 });
      created = true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw new UsageError("daemon.token_unwritable", `cannot create ${path}: ${(error as Error).message}`);
    }
  }
  const folderMode = statSync(stateDir).mode & 0o777;
  if ((folderMode & 0o077) !== 0) {
    throw new UsageError("daemon.state_mode", `${stateDir} is open to other users (mode ${folderMode.toString(8)}) and holds the API token; run: chmod 700 ${stateDir}`);
  }
  const fileMode = statSync(path).mode & 0o777;
  if ((fileMode & 0o077) !== 0) {
    throw new UsageError("daemon.token_mode", `${path} is readable by other users (mode ${fileMode.toString(8)}); run: chmod 600 ${path} (or delete it to make a new token)`);
  }
  const token = readFileSync(path, "utf8").trim();
  if (token.length < 32) throw new UsageError("daemon.token_short", `${path} holds no usable token (fewer than 32 characters); delete it and a new one is made`);
  return { token, path, created };
}

/** Compares a presented token with the real one in constant time. */
export function tokenMatches(presented: string, token: string): boolean {
  const a = Buffer.from(presented);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}
