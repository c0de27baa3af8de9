/**
 * Which runs a canary rule reaches: a deterministic share of runs, by a hash of the run id and the
 * rule id, so the same run always gets the same answer and different rules split runs independently.
 */
import { createHash } from "node:crypto";

export const DEFAULT_CANARY_SHARE = 0.5;

export function inCanary(runId: string, ruleId: string, share: number | null): boolean {
  const digest = createHash("sha256").update(`${runId}\0${ruleId}`).digest();
  return digest.readUInt32BE(0) / 2 ** 32 < (share ?? DEFAULT_CANARY_SHARE);
}
