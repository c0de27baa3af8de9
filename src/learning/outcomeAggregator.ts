/**
 * The outcome aggregator (PRD section 11, step 2): the ledger's finished runs in a window, grouped
 * by goal type, action and failure category, with counts, the verified-success rate (succeeded
 * with the verifier passed, over all runs) and the business-outcome mix. The grouping is SQL in
 * the store; the rates are computed here.
 */
import type { GoalOpsStore, OutcomeGroupRow } from "../store/types.js";

export interface OutcomeGroup extends OutcomeGroupRow {
  /** verified_success / runs. */
  verified_success_rate: number;
  /** (failed + partial) / runs. */
  failure_rate: number;
}

export interface OutcomeReport {
  since: string;
  until: string;
  totals: OutcomeGroup;
  byGoalType: OutcomeGroup[];
  byGroup: OutcomeGroup[];
}

const COUNTS = ["runs", "succeeded", "failed", "partial", "verified_success", "improved", "neutral", "degraded", "unknown"] as const;

export class OutcomeAggregator {
  constructor(private readonly store: GoalOpsStore, private readonly now: () => Date = () => new Date()) {}

  async aggregate(window: { since: Date; until?: Date }): Promise<OutcomeReport> {
    const since = window.since.toISOString();
    const until = (window.until ?? this.now()).toISOString();
    const { byGroup, byGoalType } = await this.store.aggregateOutcomes({ since, until });
    const totals: OutcomeGroupRow = { goal_type: "*", action: null, failure_category: null, runs: 0, succeeded: 0, failed: 0, partial: 0, verified_success: 0, improved: 0, neutral: 0, degraded: 0, unknown: 0 };
    for (const g of byGoalType) for (const count of COUNTS) totals[count] += g[count];
    return { since, until, totals: withRates(totals), byGoalType: byGoalType.map(withRates), byGroup: byGroup.map(withRates) };
  }
}

function withRates(row: OutcomeGroupRow): OutcomeGroup {
  const runs = row.runs === 0 ? 1 : row.runs;
  return { ...row, verified_success_rate: row.verified_success / runs, failure_rate: (row.failed + row.partial) / runs };
}
