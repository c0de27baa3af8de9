/** Prefixed ULIDs, the PRD's ids: goal_, les_, rule_, grun_, aar_, loop_. */
import { monotonicFactory } from "ulid";

const nextUlid = monotonicFactory();

export type IdPrefix = "goal_" | "les_" | "rule_" | "grun_" | "aar_" | "loop_" | "lcr_";

export function newPrefixedId(prefix: IdPrefix): string {
  return `${prefix}${nextUlid()}`;
}
