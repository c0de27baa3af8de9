import { userInfo } from "node:os";
import type { Command } from "commander";
import type { GoalDetail } from "../../index.js";
import { withJson, withRepo, type RepoOptions } from "../options.js";
import { withGoalOps } from "../withGoalOps.js";

interface GoalOptions extends RepoOptions {
  json?: boolean;
  all?: boolean;
  reason?: string;
  actor?: string;
}

function defaultActor(): string {
  try {
    return `cli:${userInfo().username}`;
  } catch {
    return "cli:unknown";
  }
}

function formatDetail(goal: GoalDetail): string {
  const lines = [
    `${goal.goal_id}  ${goal.title}`,
    `  type      ${goal.goal_type}${goal.parent_goal_id !== null ? `  (parent ${goal.parent_goal_id})` : ""}`,
    `  status    ${goal.status}${goal.status_intent !== null ? `  (file asks for ${goal.status_intent})` : ""}`,
    `  next      ${goal.nextStatuses.join(", ") || "none"}`,
    `  owner     ${goal.owner_agent}, priority ${goal.priority}`,
    `  file      ${goal.source_path}${goal.source_commit !== null ? ` @ ${goal.source_commit.slice(0, 12)}` : ""}`,
  ];
  if (goal.intent_error !== null) lines.push(`  intent    not applied: ${goal.intent_error}`);
  lines.push("  history");
  for (const e of goal.history) lines.push(`    ${e.created_at}  ${e.from_status ?? "(new)"} -> ${e.to_status}  by ${e.actor}${e.reason ? `: ${e.reason}` : ""}${e.run_id ? ` (run ${e.run_id})` : ""}`);
  return `${lines.join("\n")}\n`;
}

export function registerGoal(program: Command): void {
  const goal = program.command("goal").description("list goals, show one with its history, change a goal's status through the state machine");

  withJson(withRepo(goal.command("list")))
    .description("the goals in the database with their runtime status (run 'goalops sync' first)")
    .option("--all", "include archived goals")
    .action(async (options: GoalOptions) => {
      await withGoalOps(options, async (ops) => {
        const goals = await ops.goals.list({ includeArchived: options.all ?? false });
        if (options.json) {
          process.stdout.write(`${JSON.stringify(goals, null, 2)}\n`);
          return;
        }
        if (goals.length === 0) process.stdout.write("no goals in the database; run 'goalops sync'\n");
        for (const g of goals) process.stdout.write(`${g.status.padEnd(22)} p${g.priority}  ${g.goal_type.padEnd(11)}  ${g.goal_id}  ${g.title}\n`);
      });
    });

  withJson(withRepo(goal.command("show")))
    .description("one goal: its fields, runtime status, legal next statuses and the history of its status")
    .argument("<goal_id>", "the goal's id")
    .action(async (goalId: string, options: GoalOptions) => {
      await withGoalOps(options, async (ops) => {
        const detail = await ops.goals.show(goalId);
        process.stdout.write(options.json ? `${JSON.stringify(detail, null, 2)}\n` : formatDetail(detail));
      });
    });

  withJson(withRepo(goal.command("transition")))
    .description("change a goal's runtime status; refused, naming the legal next statuses, if the state machine does not allow it")
    .argument("<goal_id>", "the goal's id")
    .argument("<to>", "the new status: planned, ready, active, waiting, retrying, blocked, checkpointed, completed, completed_with_caveats, failed, archived")
    .requiredOption("--reason <text>", "why (kept in the goal's history)")
    .option("--actor <actor>", "who makes the change (default: cli:<your user name>)")
    .addHelpText("after", `
Example:
  goalops goal transition goal_01... completed --reason "all KRs at target for 4 weeks"`)
    .action(async (goalId: string, to: string, options: GoalOptions) => {
      await withGoalOps(options, async (ops) => {
        const detail = await ops.goals.transition(goalId, { to, reason: options.reason ?? "", actor: options.actor ?? defaultActor() });
        const change = detail.history.at(-1);
        process.stdout.write(options.json ? `${JSON.stringify(detail, null, 2)}\n` : `${goalId}: ${change?.from_status ?? "(new)"} -> ${detail.status}\n`);
      });
    });
}
