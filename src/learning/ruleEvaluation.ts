/**
 * Evaluating a playbook rule (PRD section 11, step 6): the verified-success rate of the runs it
 * applied to, with the rule in their context and without it, decides promote, roll back or wait.
 * Pure: counts in, decision out.
 *
 * - shadow (never in a context): once `minRuns` runs it would have applied to are seen, it has a
 *   baseline and is promoted to canary; before, inconclusive.
 * - canary (in the context of a deterministic share of runs): with fewer than `minRuns` runs on
 *   either side, inconclusive. A regression, the rate with the rule more than `margin` below the
 *   rate without, rolls it back (to shadow) at once. Otherwise, with at least 3 verified successes
 *   with the rule (times_validated), it is promoted to full; before, inconclusive.
 * - full: kept; only a change to its file moves it.
 */
export interface SideCounts {
  runs: number;
  /** Succeeded with the verifier passed. */
  verified: number;
}

export interface RuleEvidence {
  mode: "shadow" | "canary" | "full";
  with: SideCounts;
  without: SideCounts;
}

export interface RuleDecision {
  decision: "promote" | "rollback" | "inconclusive";
  /** The mode the decision leads to (the current one when inconclusive). */
  to: "shadow" | "canary" | "full";
  reason: string;
}

export const MIN_VALIDATIONS_FOR_FULL = 3;

const rate = (side: SideCounts) => (side.runs === 0 ? 0 : side.verified / side.runs);
/** A share as a percentage with one decimal (0.755 -> 75.5%). */
export const pct = (n: number) => `${Math.round(n * 1000) / 10}%`;

export function evaluateRule(evidence: RuleEvidence, options: { minRuns: number; margin: number }): RuleDecision {
  const { mode } = evidence;
  const withRate = rate(evidence.with);
  const withoutRate = rate(evidence.without);
  const sides = `with the rule ${evidence.with.verified}/${evidence.with.runs} verified (${pct(withRate)}), without ${evidence.without.verified}/${evidence.without.runs} (${pct(withoutRate)})`;
  if (mode === "shadow") {
    if (evidence.without.runs < options.minRuns) return { decision: "inconclusive", to: mode, reason: `${evidence.without.runs} of ${options.minRuns} runs it would apply to seen in shadow` };
    return { decision: "promote", to: "canary", reason: `baseline of ${evidence.without.runs} runs it would apply to: ${pct(withoutRate)} verified success without it` };
  }
  if (mode === "canary") {
    if (evidence.with.runs < options.minRuns || evidence.without.runs < options.minRuns) {
      return { decision: "inconclusive", to: mode, reason: `too few runs to judge (at least ${options.minRuns} on each side): ${sides}` };
    }
    if (withRate < withoutRate - options.margin) return { decision: "rollback", to: "shadow", reason: `regression beyond the ${pct(options.margin)} margin: ${sides}` };
    if (evidence.with.verified < MIN_VALIDATIONS_FOR_FULL) return { decision: "inconclusive", to: mode, reason: `no regression, but ${evidence.with.verified} of ${MIN_VALIDATIONS_FOR_FULL} validations: ${sides}` };
    return { decision: "promote", to: "full", reason: `no regression and ${evidence.with.verified} validations: ${sides}` };
  }
  return { decision: "inconclusive", to: mode, reason: `in full: ${sides}; only a change to its file moves it` };
}
