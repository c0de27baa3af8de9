import type { Command } from "commander";
import type { OpenLoopRecord } from "../../index.js";
import { withJson, withRepo, type RepoOptions } from "../options.js";
import { withGoalOps } from "../withGoalOps.js";

interface LoopOptions extends RepoOptions {
  json?: boolean;
  goal?: string;
  run?: string;
  kind?: string;
  description?: string;
  due?: string;
  all?: boolean;
  note?: string;
}

function formatLoop(l: OpenLoopRecord): string {
  const due = l.due_at !== null ? `due ${l.due_at}` : "no due time";
  const link = l.run_id !== null ? `run ${l.run_id}` : `goal ${l.goal_id}`;
  const resolved = l.loop_state === "resolved" ? `  resolved ${l.resolved_at}${l.resolution !== null ? `: ${l.resolution}` : ""}` : "";
  return `${l.loop_id}  ${l.loop_state.padEnd(8)} ${l.kind.padEnd(13)} ${due}  ${link}\n    ${l.description}${resolved}\n`;
}

export function registerLoop(program: Command): void {
  const loop = program.command("loop").description("open loops: pending retries, clarifications and follow-ups that survive restarts");

  withJson(withRepo(loop.command("add")))
    .description("open a loop on a goal or a run")
    .requiredOption("--kind <kind>", "retry | clarification | follow_up")
    .requiredOption("--description <text>", "what is pending")
    .option("--goal <goal_id>", "the goal it belongs to")
    .option("--run <run_id>", "the run it belongs to (its goal is taken from the run)")
    .option("--due <when>", "when it is due: ISO 8601 time or an interval from now (15m, 2h, 1d)")
    .action(async (options: LoopOptions) => {
      await withGoalOps(options, async (ops) => {
        const added = await ops.loops.add({
          kind: options.kind ?? "",
          description: options.description ?? "",
          ...(options.goal !== undefined ? { goalId: options.goal } : {}),
          ...(options.run !== undefined ? { runId: options.run } : {}),
          ...(options.due !== undefined ? { due: options.due } : {}),
        });
        process.stdout.write(options.json ? `${JSON.stringify(added, null, 2)}\n` : `${added.loop_id}\n`);
      });
    });

  withJson(withRepo(loop.command("list")))
    .description("open loops, the soonest due first")
    .option("--goal <goal_id>", "only this goal's loops")
    .option("--all", "include resolved loops")
    .action(async (options: LoopOptions) => {
      await withGoalOps(options, async (ops) => {
        const loops = await ops.loops.list({ ...(options.goal !== undefined ? { goalId: options.goal } : {}), includeResolved: options.all ?? false });
        if (options.json) process.stdout.write(`${JSON.stringify(loops, null, 2)}\n`);
        else if (loops.length === 0) process.stdout.write("no open loops\n");
        else for (const l of loops) process.stdout.write(formatLoop(l));
      });
    });

  withJson(withRepo(loop.command("resolve")))
    .description("close an open loop")
    .argument("<loop_id>", "the loop")
    .option("--note <text>", "how it was resolved")
    .action(async (loopId: string, options: LoopOptions) => {
      await withGoalOps(options, async (ops) => {
        const resolved = await ops.loops.resolve(loopId, options.note);
        process.stdout.write(options.json ? `${JSON.stringify(resolved, null, 2)}\n` : formatLoop(resolved));
      });
    });
}
