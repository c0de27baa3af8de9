import type { Command } from "commander";
import type { OutcomeGroup, OutcomeReport } from "../../index.js";
import { sinceOption, withJson, withRepo, type RepoOptions } from "../options.js";
import { withGoalOps } from "../withGoalOps.js";

interface ReportOptions extends RepoOptions {
  json?: boolean;
  since?: string;
}

const percent = (n: number) => `${Math.round(n * 100)}%`;

function groupLine(g: OutcomeGroup, label: string): string {
  return `${label.padEnd(58)} ${String(g.runs).padStart(7)}  ${percent(g.verified_success_rate).padStart(5)} verified  ${percent(g.failure_rate).padStart(4)} failed/partial  business +${g.improved} =${g.neutral} -${g.degraded} ?${g.unknown}`;
}

export function formatOutcomes(report: OutcomeReport): string {
  const out = [`runs started ${report.since} .. ${report.until}`, groupLine(report.totals, "all runs"), "", "by goal type:"];
  for (const g of report.byGoalType) out.push(groupLine(g, `  ${g.goal_type}`));
  out.push("", "by goal type, action, failure category:");
  for (const g of report.byGroup) out.push(groupLine(g, `  ${g.goal_type} / ${g.action ?? "(no action)"} / ${g.failure_category ?? "-"}`));
  return `${out.join("\n")}\n`;
}

export function registerReport(program: Command): void {
  const report = program.command("report").description("reports over the ledger");

  withJson(withRepo(report.command("learning")))
    .description("outcomes of the runs in a window, by goal type, action and failure category: counts, verified-success rate, business outcomes")
    .option("--since <interval>", "how far back (7d, 24h, 4w); default: learning.since in goalops.yaml, else 7d")
    .action(async (options: ReportOptions) => {
      await withGoalOps(options, async (ops) => {
        const since = sinceOption(options.since, ops.config.spec.learning?.since, "report.bad_since");
        const outcomes = await ops.outcomes.aggregate({ since });
        process.stdout.write(options.json ? `${JSON.stringify(outcomes, null, 2)}\n` : formatOutcomes(outcomes));
      });
    });

  for (const kind of ["reconcile", "shutdown"] as const) {
    withJson(withRepo(report.command(kind)))
      .description(kind === "reconcile"
        ? "the daemon's last startup reconciliation (GoalReconciliationReport): each step, whether the previous stop was clean, which runs were resumed or parked and why"
        : "the daemon's last shutdown summary: what was happening, each step (drain, checkpoints, KR snapshot, open loops), whether the deadline was reached")
      .action(async (options: ReportOptions) => {
        await withGoalOps(options, async (ops) => {
          const found = await ops.continuity.report(kind);
          process.stdout.write(options.json ? `${JSON.stringify(found.summary, null, 2)}\n` : found.markdown);
        });
      });
  }
}
