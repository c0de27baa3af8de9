import type { Command } from "commander";
import type { RouterResult } from "../../index.js";
import { createLogger } from "../../daemon/logger.js";
import { ExitCode, ExitError } from "../exit.js";
import { withJson, withRepo, type RepoOptions } from "../options.js";
import { withGoalOps } from "../withGoalOps.js";

interface DispatchOptions extends RepoOptions {
  json?: boolean;
  dryRun?: boolean;
}

function formatRoute(result: RouterResult): string {
  const out = ["ranked:"];
  if (result.ranked.length === 0) out.push("  (nothing to dispatch)");
  for (const r of result.ranked) out.push(`  ${r.goalId}  ${r.reason}`);
  if (result.excluded.length > 0) out.push("", "excluded:", ...result.excluded.map((e) => `  ${e.goalId}  ${e.reason}`));
  return `${out.join("\n")}\n`;
}

export function registerDispatch(program: Command): void {
  withJson(withRepo(program.command("dispatch")))
    .description("run a goal's agent job now and wait for it (without a goal: the initiative router's first pick); --dry-run shows the router's ranking")
    .argument("[goal_id]", "the goal whose dispatch command to run")
    .option("--dry-run", "dispatch nothing: print the router's ranking of work toward active key results, and why each other goal is excluded")
    .addHelpText("after", `
The command is the goal's dispatch.command (else goalops.yaml's dispatch.command), run without a
shell in its own process group, the goal context as JSON on stdin and GOALOPS_RUN_ID in its
environment; past dispatch.timeout its whole process tree is killed. The run is started first and
finished from the command's end (its last stdout line as a JSON report, else its exit code).
The daemon dispatches the same way on schedules, retries and POST /v1/dispatch.`)
    .action(async (goalId: string | undefined, options: DispatchOptions) => {
      await withGoalOps(options, async (ops) => {
        if (options.dryRun) {
          const routed = await ops.route();
          process.stdout.write(options.json ? `${JSON.stringify(routed, null, 2)}\n` : formatRoute(routed));
          return;
        }
        const log = createLogger("text", (line) => process.stderr.write(line));
        const outcome = await ops.dispatch({ ...(goalId !== undefined ? { goalId } : {}), log });
        if (options.json) process.stdout.write(`${JSON.stringify(outcome, null, 2)}\n`);
        if (!outcome.dispatched) {
          if (!options.json) process.stderr.write(`goalops: not dispatched: ${outcome.reason}\n`);
          throw new ExitError(ExitCode.Invalid);
        }
        const r = outcome.run;
        if (!options.json) process.stdout.write(`${r.run_id}  ${r.local_outcome ?? r.run_state}${r.failure_category !== null ? ` (${r.failure_category})` : ""}${r.dispatch?.exit_code !== undefined ? `  exit ${r.dispatch.exit_code}` : ""}\n`);
        if (r.local_outcome !== "succeeded") throw new ExitError(ExitCode.Invalid);
      });
    });
}
