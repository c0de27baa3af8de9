import type { Command } from "commander";
import type { RuleStanding } from "../../index.js";
import { sinceOption, withJson, withRepo, type RepoOptions } from "../options.js";
import { withGoalOps } from "../withGoalOps.js";

interface PlaybookOptions extends RepoOptions {
  json?: boolean;
  all?: boolean;
  since?: string;
  dryRun?: boolean;
}

function standingLine(r: RuleStanding): string {
  const mode = r.mode === r.file_mode ? r.mode : `${r.mode} (rolled back from ${r.file_mode} ${r.rolled_back_at})`;
  const side = (s: { runs: number; verified: number }) => `${s.verified}/${s.runs}`;
  return `${r.rule_id}  ${mode.padEnd(6)}  ${r.applies_to_goal_type}/${r.applies_to_action_type}  with ${side(r.with_rule)} verified, without ${side(r.without_rule)}  -> ${r.evaluation.decision}${r.evaluation.decision !== "inconclusive" ? ` to ${r.evaluation.to}` : ""}\n    ${r.title}: ${r.evaluation.reason}\n`;
}

const SINCE_HELP = "runs started since (7d, 24h, 4w); default: learning.since, else 7d";

export function registerPlaybook(program: Command): void {
  const playbook = program.command("playbook").description("playbook rules: modes, evidence with and without each rule, evaluation (promote, roll back, wait)");

  withJson(withRepo(playbook.command("list")))
    .description("rules with the mode in force, runs with and without each, and what its evaluation says")
    .option("--since <interval>", SINCE_HELP)
    .option("--all", "include archived rules")
    .action(async (options: PlaybookOptions) => {
      await withGoalOps(options, async (ops) => {
        const since = sinceOption(options.since, ops.config.spec.learning?.since, "playbook.bad_since");
        const rules = await ops.playbook.list({ since, includeArchived: options.all ?? false });
        if (options.json) process.stdout.write(`${JSON.stringify(rules, null, 2)}\n`);
        else if (rules.length === 0) process.stdout.write("no playbook rules\n");
        else for (const r of rules) process.stdout.write(standingLine(r));
      });
    });

  withJson(withRepo(playbook.command("show")))
    .description("one rule, its evaluation and every change of its mode (audit)")
    .argument("<rule_id>", "the rule")
    .option("--since <interval>", SINCE_HELP)
    .action(async (ruleId: string, options: PlaybookOptions) => {
      await withGoalOps(options, async (ops) => {
        const since = sinceOption(options.since, ops.config.spec.learning?.since, "playbook.bad_since");
        const rule = await ops.playbook.show(ruleId, { since });
        if (options.json) {
          process.stdout.write(`${JSON.stringify(rule, null, 2)}\n`);
          return;
        }
        process.stdout.write(standingLine(rule));
        process.stdout.write(`  file ${rule.source_path}; lessons ${rule.source_lesson_ids.join(", ") || "none"}\n  ${rule.rule_text}\n`);
        for (const e of rule.events) process.stdout.write(`  ${e.created_at}  ${e.from_mode ?? "(new)"} -> ${e.to_mode}  ${e.decision} by ${e.actor}: ${e.reason}\n`);
      });
    });

  withJson(withRepo(playbook.command("evaluate")))
    .description("evaluate every rule now; a canary that regressed is rolled back to shadow at once (promotions are proposed by goalops learn)")
    .option("--since <interval>", SINCE_HELP)
    .option("--dry-run", "print the decisions, roll nothing back")
    .action(async (options: PlaybookOptions) => {
      await withGoalOps(options, async (ops) => {
        const since = sinceOption(options.since, ops.config.spec.learning?.since, "playbook.bad_since");
        const rules = await ops.playbook.evaluate({ since, apply: !(options.dryRun ?? false), actor: "cli:playbook evaluate" });
        if (options.json) process.stdout.write(`${JSON.stringify(rules, null, 2)}\n`);
        else for (const r of rules) process.stdout.write(standingLine(r));
      });
    });
}
