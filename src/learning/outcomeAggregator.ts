/**
 * The outcome aggregator (PRD section 11, step 2): the ledger's finished runs in a window, grouped
 * by goal type, action and failure category, with counts, the verified-success rate (succeeded
 * with the verifier passed, over all runs) and the business-outcome mix. The grouping is done by
 * one pass over the ledger (src/learning/ledgerPass.ts); the rates are computed here.
 */
import type { GoalOpsStore, OutcomeGroupRow } from "../store/types.js";
import { LedgerPass } from "./ledgerPass.js";
import { scanLedger } from "./ledgerScan.js";

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

export class OutcomeAggregator {
  constructor(private readonly store: GoalOpsStore, private readonly now: () => Date = () => new Date()) {}

  async aggregate(window: { since: Date; until?: Date }): Promise<OutcomeReport> {
    const since = window.since.toISOString();
    const until = (window.until ?? this.now()).toISOString();
    return outcomeReport(await scanLedger(this.store, { since, until, outcomesOnly: true }), since, until);
  }
}

/** The report from a pass over the window (the learning cycle's, which counts the rest in the same pass). */
export function outcomeReport(pass: LedgerPass, since: string, until: string): OutcomeReport {
  const { byGroup, byGoalType } = pass.outcomes();
  return { since, until, totals: withRates(LedgerPass.total(byGoalType)), byGoalType: byGoalType.map(withRates), byGroup: byGroup.map(withRates) };
}

function withRates(row: OutcomeGroupRow): OutcomeGroup {
  const runs = row.runs === 0 ? 1 : row.runs;
  return { ...row, verified_success_rate: row.verified_success / runs, failure_rate: (row.failed + row.partial) / runs };
}
