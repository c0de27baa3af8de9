import type { Command } from "commander";
import { UsageError } from "../../errors.js";
import type { KeyResultSummary } from "../../index.js";
import { limitOption, withJson, withRepo, type RepoOptions } from "../options.js";
import { withGoalOps } from "../withGoalOps.js";

interface KrOptions extends RepoOptions {
  json?: boolean;
  at?: string;
  source?: string;
  run?: string;
  limit?: string;
}

const BAR_WIDTH = 20;

/** A progress bar for terminals: [##########----------] 50%. */
export function progressBar(progress: number | null): string {
  if (progress === null) return `[${" ".repeat(BAR_WIDTH)}]   -`;
  const filled = Math.round(progress * BAR_WIDTH);
  return `[${"#".repeat(filled)}${"-".repeat(BAR_WIDTH - filled)}] ${String(Math.round(progress * 100)).padStart(3)}%`;
}

function formatSummary(s: KeyResultSummary): string {
  const k = s.signal;
  const latest = s.latest === null ? "no value yet" : `${s.latest.value} ${k.unit} at ${s.latest.recorded_at}`;
  return `${s.goal_id}  ${s.title}\n  ${k.metric}: ${k.baseline} -> ${k.target} ${k.unit} (${k.direction})\n  ${progressBar(s.progress)}  ${s.health}  latest: ${latest}\n`;
}

export function registerKr(program: Command): void {
  const kr = program.command("kr").description("record key-result values and see their history, progress and health");

  withJson(withRepo(kr.command("record")))
    .description("record a value of a key result")
    .argument("<goal_id>", "the key result's goal id")
    .argument("<value>", "the measured value (a number)")
    .option("--at <iso>", "when it was measured (ISO 8601; default: now)")
    .option("--source <source>", "where the value comes from, such as 'nightly-suite' or 'posthog'")
    .option("--run <run_id>", "the run that produced it")
    .addHelpText("after", `
Progress is how far the value moved from baseline toward target in the declared direction,
clamped to 0-100%. Health compares progress with the time elapsed toward time_horizon
(see README: Key results).

Example:
  goalops kr record goal_01... 91.5 --source nightly-suite`)
    .action(async (goalId: string, valueText: string, options: KrOptions) => {
      const value = Number(valueText);
      if (valueText.trim() === "" || !Number.isFinite(value)) throw new UsageError("kr.bad_value", `value '${valueText}' is not a number`);
      await withGoalOps(options, async (ops) => {
        const summary = await ops.keyResults.record(goalId, value, {
          ...(options.at !== undefined ? { at: options.at } : {}),
          ...(options.source !== undefined ? { source: options.source } : {}),
          ...(options.run !== undefined ? { runId: options.run } : {}),
        });
        process.stdout.write(options.json ? `${JSON.stringify(summary, null, 2)}\n` : formatSummary(summary));
      });
    });

  withJson(withRepo(kr.command("history")))
    .description("the values of a key result over time, with progress and health")
    .argument("<goal_id>", "the key result's goal id")
    .option("--limit <n>", "at most this many of the latest values", "50")
    .action(async (goalId: string, options: KrOptions) => {
      const limit = limitOption(options.limit, "kr.bad_limit");
      await withGoalOps(options, async (ops) => {
        const history = await ops.keyResults.history(goalId, limit);
        if (options.json) {
          process.stdout.write(`${JSON.stringify(history, null, 2)}\n`);
          return;
        }
        process.stdout.write(formatSummary(history));
        for (const v of history.values) process.stdout.write(`    ${v.recorded_at}  ${String(v.value).padStart(10)}  ${progressBar(v.progress)}${v.source !== null ? `  ${v.source}` : ""}\n`);
      });
    });
}
