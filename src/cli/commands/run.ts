import type { Command } from "commander";
import type { RunRecord } from "../../index.js";
import { limitOption, withJson, withRepo, type RepoOptions } from "../options.js";
import { withGoalOps } from "../withGoalOps.js";
import { UsageError } from "../../errors.js";

interface RunOptions extends RepoOptions {
  json?: boolean;
  jobId?: string;
  plan?: string;
  idempotencyKey?: string;
  outcome?: string;
  verifier?: string;
  failureCategory?: string;
  actions?: string;
  notes?: string;
  lessonCandidate?: string[];
  ref?: string;
  state?: string;
  goal?: string;
  limit?: string;
}

function formatRun(run: RunRecord): string {
  const lines = [
    `${run.run_id}  goal ${run.goal_id}  attempt ${run.attempt}${run.job_id !== null ? `  job ${run.job_id}` : ""}`,
    `  state     ${run.run_state}${run.local_outcome !== null ? `: ${run.local_outcome}` : ""}${run.verifier_status !== null ? `, verifier ${run.verifier_status}` : ""}${run.failure_category !== null ? `, ${run.failure_category}` : ""}`,
    `  started   ${run.started_at}${run.finished_at !== null ? `, finished ${run.finished_at} (${run.duration_seconds?.toFixed(1)} s)` : ""}`,
  ];
  if (run.plan_summary !== null) lines.push(`  plan      ${run.plan_summary}`);
  if (run.actions_taken.length > 0) lines.push(`  actions   ${run.actions_taken.join(", ")}`);
  if (run.checkpoint_ref !== null) lines.push(`  checkpoint ${run.checkpoint_ref}${run.checkpointed_at !== null ? ` at ${run.checkpointed_at}` : ""}${run.checkpoint_state !== null ? `  state ${JSON.stringify(run.checkpoint_state)}` : ""}`);
  if (run.interrupted_at !== null) lines.push(`  interrupted ${run.interrupted_at} (the daemon stopped uncleanly)`);
  if (run.parked_reason !== null && run.run_state === "parked") lines.push(`  parked    ${run.parked_reason}`);
  if (run.resume_count > 0) lines.push(`  resumed   ${run.resume_count} time(s), last at ${run.resumed_at}`);
  if (run.dispatch !== null) {
    const d = run.dispatch;
    const end = d.finished_at === undefined ? "running" : d.start_error ? `could not start: ${d.start_error}` : d.timed_out ? "killed past its timeout" : d.stopped ? "stopped at shutdown" : d.signal ? `killed by ${d.signal}` : `exit ${d.exit_code}`;
    lines.push(`  dispatch  ${d.command.join(" ")}  pid ${d.pid ?? "-"}  ${end}`);
  }
  lines.push(`  metrics   before ${JSON.stringify(run.metrics_before)}${run.metrics_after !== null ? `  after ${JSON.stringify(run.metrics_after)}` : ""}`);
  if (run.context_lessons.length > 0 || run.context_rules.length > 0) lines.push(`  context   lessons ${run.context_lessons.join(", ") || "none"}; rules ${run.context_rules.map((r) => `${r.rule_id} (${r.activation_mode}${r.in_context === false ? ", evaluated only" : ""})`).join(", ") || "none"}`);
  if (run.notes !== null) lines.push(`  notes     ${run.notes}`);
  for (const c of run.lesson_candidates) lines.push(`  lesson?   ${c}`);
  return `${lines.join("\n")}\n`;
}

export function registerRun(program: Command): void {
  const run = program.command("run").description("the run ledger: start, checkpoint and finish runs (attempts at a goal), list and show them");

  withJson(withRepo(run.command("start")))
    .description("start a run of a goal; prints the new grun_ id (the same id again for a repeated --idempotency-key)")
    .argument("<goal_id>", "the goal the run works toward")
    .option("--job-id <id>", "the agent job that does the work")
    .option("--plan <text>", "what is planned")
    .option("--idempotency-key <key>", "a key of the caller's: starting again with it returns the same run")
    .action(async (goalId: string, options: RunOptions) => {
      await withGoalOps(options, async (ops) => {
        const started = await ops.runs.start(goalId, {
          ...(options.jobId !== undefined ? { jobId: options.jobId } : {}),
          ...(options.plan !== undefined ? { plan: options.plan } : {}),
          ...(options.idempotencyKey !== undefined ? { idempotencyKey: options.idempotencyKey } : {}),
        });
        process.stdout.write(options.json ? `${JSON.stringify(started, null, 2)}\n` : `${started.run_id}\n`);
      });
    });

  withJson(withRepo(run.command("finish")))
    .description("finish a run with its outcome; key-result values after and the duration are filled in")
    .argument("<run_id>", "the run")
    .requiredOption("--outcome <outcome>", "succeeded | failed | partial")
    .option("--verifier <status>", "passed | failed | skipped")
    .option("--failure-category <category>", "interpretation_error | planning_error | tool_error | execution_timeout | verification_failure | policy_block | missing_context | resource_limit | external_dependency | bad_schedule_policy | run_overlap")
    .option("--actions <a,b>", "the actions taken, comma-separated")
    .option("--notes <text>", "the agent's own notes")
    .option("--lesson-candidate <text...>", "a lesson the agent proposes (repeatable)")
    .action(async (runId: string, options: RunOptions) => {
      await withGoalOps(options, async (ops) => {
        const finished = await ops.runs.finish(runId, {
          outcome: options.outcome ?? "",
          ...(options.verifier !== undefined ? { verifier: options.verifier } : {}),
          ...(options.failureCategory !== undefined ? { failureCategory: options.failureCategory } : {}),
          ...(options.actions !== undefined ? { actions: options.actions.split(",").map((a) => a.trim()).filter((a) => a !== "") } : {}),
          ...(options.notes !== undefined ? { notes: options.notes } : {}),
          ...(options.lessonCandidate !== undefined ? { lessonCandidates: options.lessonCandidate } : {}),
        });
        process.stdout.write(options.json ? `${JSON.stringify(finished, null, 2)}\n` : formatRun(finished));
      });
    });

  withJson(withRepo(run.command("checkpoint")))
    .description("record a resume pointer (and state) for a run in flight: after a stop, the run resumes from here instead of starting over")
    .argument("<run_id>", "the run")
    .requiredOption("--ref <ref>", "where to resume (a step, a cursor, a file)")
    .option("--state <json>", "what the agent needs to go on from the ref, as JSON (at most 64 KiB); handed back on resume")
    .action(async (runId: string, options: RunOptions) => {
      let state: unknown;
      if (options.state !== undefined) {
        try {
          state = JSON.parse(options.state);
        } catch (error) {
          throw new UsageError("run.bad_state", `--state is not JSON: ${(error as Error).message}`, { field: "state" });
        }
      }
      await withGoalOps(options, async (ops) => {
        const checkpointed = await ops.runs.checkpoint(runId, options.ref ?? "", state);
        process.stdout.write(options.json ? `${JSON.stringify(checkpointed, null, 2)}\n` : formatRun(checkpointed));
      });
    });

  withJson(withRepo(run.command("resume")))
    .description("resume a parked, interrupted or checkpointed run by hand: the same run, its attempt counted (it continues from its checkpoint)")
    .argument("<run_id>", "the run")
    .action(async (runId: string, options: RunOptions) => {
      await withGoalOps(options, async (ops) => {
        const resumed = await ops.runs.resume(runId);
        process.stdout.write(options.json ? `${JSON.stringify(resumed, null, 2)}\n` : formatRun(resumed));
      });
    });

  withJson(withRepo(run.command("list")))
    .description("recent runs, newest first")
    .option("--goal <goal_id>", "only the runs of this goal")
    .option("--limit <n>", "at most this many", "50")
    .action(async (options: RunOptions) => {
      const limit = limitOption(options.limit, "run.bad_limit");
      await withGoalOps(options, async (ops) => {
        const runs = await ops.runs.list({ ...(options.goal !== undefined ? { goalId: options.goal } : {}), limit });
        if (options.json) {
          process.stdout.write(`${JSON.stringify(runs, null, 2)}\n`);
          return;
        }
        for (const r of runs) process.stdout.write(`${r.started_at}  ${r.run_id}  ${r.goal_id}  ${r.run_state}${r.local_outcome !== null ? ` ${r.local_outcome}` : ""}${r.failure_category !== null ? ` (${r.failure_category})` : ""}\n`);
      });
    });

  withJson(withRepo(run.command("show")))
    .description("one run, every field")
    .argument("<run_id>", "the run")
    .action(async (runId: string, options: RunOptions) => {
      await withGoalOps(options, async (ops) => {
        const shown = await ops.runs.show(runId);
        process.stdout.write(options.json ? `${JSON.stringify(shown, null, 2)}\n` : formatRun(shown));
      });
    });
}
