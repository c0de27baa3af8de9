/**
 * Playbook rules at run time: each rule's file mode and the mode in force, what the ledger says of
 * it (runs with it in the context and without), and its evaluation. A regression rolls a rule
 * back at once in the database; promotions are proposals, made through git review by the
 * learning cycle.
 */
import { InvalidInputError } from "../errors.js";
import type { ResolvedConfig } from "../spec/config.js";
import type { GoalOpsStore, RuleEventRow, RuleRow } from "../store/types.js";
import type { RuleSides } from "./ledgerPass.js";
import { END, scanLedger } from "./ledgerScan.js";
import { evaluateRule, type RuleDecision, type SideCounts } from "./ruleEvaluation.js";

export interface RuleStanding extends RuleRow {
  with_rule: SideCounts;
  without_rule: SideCounts;
  evaluation: RuleDecision;
}

export interface RuleDetail extends RuleStanding {
  events: RuleEventRow[];
}

export class Playbook {
  constructor(
    private readonly store: GoalOpsStore,
    private readonly config: Pick<ResolvedConfig, "spec">,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /**
   * Rules with their evidence since `since` (runs started since then) and their evaluation.
   * `sides`: the counts of a ledger pass already made over that window (the learning cycle's).
   */
  async list(options: { since: Date; includeArchived?: boolean; sides?: ReadonlyMap<string, RuleSides> }): Promise<RuleStanding[]> {
    const rules = await this.store.listRules({ includeArchived: options.includeArchived ?? false });
    const counts = options.sides ?? (await this.sidesSince(options.since));
    const learning = this.config.spec.learning;
    const options_ = { minRuns: learning?.canary_min_runs ?? 10, margin: learning?.canary_margin ?? 0.05 };
    return rules.map((rule) => {
      const c = counts.get(rule.rule_id) ?? { with: { runs: 0, verified: 0 }, without: { runs: 0, verified: 0 } };
      // A rolled-back rule waits for its file to change (a reviewed fix), not for a new baseline.
      const evaluation: RuleDecision =
        rule.rolled_back_at !== null
          ? { decision: "inconclusive", to: "shadow", reason: `rolled back ${rule.rolled_back_at}: ${rule.rollback_reason ?? "regression"}; a change to its file puts it back in force` }
          : evaluateRule({ mode: rule.mode, with: c.with, without: c.without }, options_);
      return { ...rule, with_rule: c.with, without_rule: c.without, evaluation };
    });
  }

  /** Each rule's runs started since `since`, with it in the context and without (one ledger pass). */
  private async sidesSince(since: Date): Promise<ReadonlyMap<string, RuleSides>> {
    return (await scanLedger(this.store, { since: since.toISOString(), until: END })).ruleSides();
  }

  async show(ruleId: string, options: { since: Date }): Promise<RuleDetail> {
    const rule = (await this.list({ since: options.since, includeArchived: true })).find((r) => r.rule_id === ruleId);
    if (rule === undefined) throw new InvalidInputError("rule.not_found", `no playbook rule '${ruleId}' in the database; run 'goalops sync' if its file is new`, { field: "rule_id" });
    return { ...rule, events: await this.store.ruleEvents(ruleId) };
  }

  /**
   * Evaluates every live rule; with `apply`, a regression rolls its rule back at once (an audited
   * event citing the counts). Returns every rule's standing after it.
   */
  async evaluate(options: { since: Date; apply: boolean; actor?: string; sides?: ReadonlyMap<string, RuleSides> }): Promise<RuleStanding[]> {
    const sides = options.sides ?? (await this.sidesSince(options.since));
    const standings = await this.list({ since: options.since, sides });
    if (!options.apply) return standings;
    let rolledBack = false;
    for (const s of standings) {
      if (s.evaluation.decision !== "rollback") continue;
      await this.store.rollbackRule({ ruleId: s.rule_id, reason: s.evaluation.reason, evidence: { with_rule: s.with_rule, without_rule: s.without_rule, since: options.since.toISOString() }, actor: options.actor ?? "goalops:evaluate", at: this.now().toISOString() });
      rolledBack = true;
    }
    return rolledBack ? this.list({ since: options.since, sides }) : standings;
  }
}
