/** Prefixed ULIDs, the PRD's ids: goal_, les_, rule_, grun_, aar_, loop_. */
import { randomFillSync } from "node:crypto";
import { monotonicFactory } from "ulid";

/**
 * ulid draws one random byte per character with its own crypto call (16 per id), a measurable
 * share of recording a run; this draws the same bytes (crypto-strong, byte / 256 as ulid does)
 * from a pool filled 4 KiB at a time.
 */
const pool = new Uint8Array(4096);
let offset = pool.length;
function pooledRandom(): number {
  if (offset >= pool.length) {
    randomFillSync(pool);
    offset = 0;
  }
  return (pool[offset++] as number) / 256;
}

const nextUlid = monotonicFactory(pooledRandom);

export type IdPrefix = "goal_" | "les_" | "rule_" | "grun_" | "aar_" | "loop_" | "lcr_" | "rec_" | "shut_" | "alert_";

export function newPrefixedId(prefix: IdPrefix): string {
  return `${prefix}${nextUlid()}`;
}
