import type { Command } from "commander";
import type { AfterActionReviewRecord } from "../../index.js";
import { limitOption, withJson, withRepo, type RepoOptions } from "../options.js";
import { withGoalOps } from "../withGoalOps.js";

interface AarOptions extends RepoOptions {
  json?: boolean;
  goal?: string;
  limit?: string;
}

export function formatReview(r: AfterActionReviewRecord): string {
  const list = (items: string[]) => (items.length === 0 ? "  (none)" : items.map((i) => `  - ${i}`).join("\n"));
  return [
    `${r.aar_id}  run ${r.run_id}  goal ${r.goal_id}  (${r.review_reason.replace("_", " ")}, ${r.created_at}${r.narrative_source === "summarizer" ? ", narrative by the summarizer" : ""})`,
    "",
    `What was supposed to happen: ${r.intended}`,
    `What happened: ${r.actual}`,
    `Why they differ: ${r.difference}`,
    `Root cause: ${r.root_cause ?? "not classified"}`,
    `Impact: ${r.impact}`,
    `Detected: ${r.detection}`,
    "What worked:",
    list(r.what_worked),
    "What failed:",
    list(r.what_failed),
    "Sustain:",
    list(r.sustain),
    "Improve:",
    list(r.improve),
    "Lesson candidates:",
    list(r.lesson_candidates),
    "",
  ].join("\n");
}

export function registerAar(program: Command): void {
  const aar = program.command("aar").description("after-action reviews: what was supposed to happen, what happened, why, what to sustain or improve");

  withJson(withRepo(aar.command("create")))
    .description("review a finished run now (a run has one review: again, it prints the same one)")
    .argument("<run_id>", "the run")
    .action(async (runId: string, options: AarOptions) => {
      await withGoalOps(options, async (ops) => {
        const created = await ops.reviews.create(runId);
        if (created.summarizerError !== undefined) process.stderr.write(`goalops: learning.summarizer not used: ${created.summarizerError}\n`);
        process.stdout.write(options.json ? `${JSON.stringify({ ...created.review, existing: created.existing }, null, 2)}\n` : formatReview(created.review));
      });
    });

  withJson(withRepo(aar.command("show")))
    .description("one review, by its aar_ id or its run's grun_ id")
    .argument("<id>", "aar_... or grun_...")
    .action(async (id: string, options: AarOptions) => {
      await withGoalOps(options, async (ops) => {
        const review = await ops.reviews.show(id);
        process.stdout.write(options.json ? `${JSON.stringify(review, null, 2)}\n` : formatReview(review));
      });
    });

  withJson(withRepo(aar.command("list")))
    .description("reviews, newest first")
    .option("--goal <goal_id>", "only this goal's reviews")
    .option("--limit <n>", "at most this many", "50")
    .action(async (options: AarOptions) => {
      const limit = limitOption(options.limit, "aar.bad_limit");
      await withGoalOps(options, async (ops) => {
        const reviews = await ops.reviews.list({ ...(options.goal !== undefined ? { goalId: options.goal } : {}), limit });
        if (options.json) process.stdout.write(`${JSON.stringify(reviews, null, 2)}\n`);
        else if (reviews.length === 0) process.stdout.write("no reviews\n");
        else for (const r of reviews) process.stdout.write(`${r.created_at}  ${r.aar_id}  ${r.run_id}  ${r.review_reason.padEnd(15)} ${r.root_cause ?? "-"}\n`);
      });
    });
}
