import type { Command } from "commander";
import { Option } from "commander";
import { withRepo, type RepoOptions } from "../options.js";
import { withGoalOps } from "../withGoalOps.js";

interface ContextOptions extends RepoOptions {
  goal: string;
  run?: string;
  agent?: string;
  format: "md" | "json";
  json?: boolean;
}

export function registerContext(program: Command): void {
  withRepo(program.command("context"))
    .description("what an agent working on a goal should know, to paste into its prompt")
    .requiredOption("--goal <goal_id>", "the goal")
    .option("--run <run_id>", "the run the context is for: draws its canary rules (as 'run start' recorded them)")
    .option("--agent <agent>", "the agent asking (for the record)")
    .addOption(new Option("--format <format>", "md for a prompt, json for a program").choices(["md", "json"]).default("md"))
    .option("--json", "same as --format json")
    .addHelpText("after", `
Holds: the goal and its chain up to the objective, key-result progress and health, the playbook
rules in full mode (and canary rules the run draws; never shadow rules), the active lessons of its
goal type and capabilities, and its open loops.`)
    .action(async (options: ContextOptions) => {
      await withGoalOps(options, async (ops) => {
        const { contextMarkdown } = await import("../../index.js");
        const context = await ops.context(options.goal, { ...(options.run !== undefined ? { runId: options.run } : {}), ...(options.agent !== undefined ? { agent: options.agent } : {}) });
        process.stdout.write(options.json || options.format === "json" ? `${JSON.stringify(context, null, 2)}\n` : contextMarkdown(context));
      });
    });
}
