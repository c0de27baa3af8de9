import type { Command } from "commander";
import type { LessonCandidateGroup, LessonStanding } from "../../index.js";
import { sinceOption, withJson, withRepo, type RepoOptions } from "../options.js";
import { withGoalOps } from "../withGoalOps.js";

interface LessonOptions extends RepoOptions {
  json?: boolean;
  all?: boolean;
  since?: string;
}

function standingLine(l: LessonStanding): string {
  const flags = [!l.active ? "inactive" : "", l.stale ? "STALE" : "", l.archived_at !== null ? "archived" : ""].filter((f) => f !== "").join(", ");
  return `${l.lesson_id}  ${l.goal_type}/${l.action_type}${l.failure_category !== null ? `/${l.failure_category}` : ""}  confidence ${l.current_confidence.toFixed(2)}  applied ${l.times_applied}, validated ${l.times_validated}, contradicted ${l.times_contradicted}${flags !== "" ? `  [${flags}]` : ""}\n    ${l.lesson_text}\n`;
}

function candidateLine(c: LessonCandidateGroup): string {
  return `${c.promote ? "PROMOTE" : "       "}  score ${c.score.toFixed(2).padStart(6)} = ${c.frequency} run${c.frequency === 1 ? "" : "s"} x impact ${c.impact.toFixed(2)}  ${c.goal_type}/${c.action_type}${c.failure_category !== null ? `/${c.failure_category}` : ""}  [${c.fingerprint}]\n    ${c.text}\n`;
}

export function registerLesson(program: Command): void {
  const lesson = program.command("lesson").description("lessons: their evidence in the ledger and confidence, and the candidates runs propose");

  withJson(withRepo(lesson.command("list")))
    .description("lessons with times applied, validated and contradicted, confidence, and whether they are stale")
    .option("--all", "include archived lessons")
    .action(async (options: LessonOptions) => {
      await withGoalOps(options, async (ops) => {
        const lessons = await ops.lessons.list({ includeArchived: options.all ?? false });
        if (options.json) process.stdout.write(`${JSON.stringify(lessons, null, 2)}\n`);
        else if (lessons.length === 0) process.stdout.write("no lessons\n");
        else for (const l of lessons) process.stdout.write(standingLine(l));
      });
    });

  withJson(withRepo(lesson.command("show")))
    .description("one lesson and the runs behind its counts (lineage)")
    .argument("<lesson_id>", "the lesson")
    .action(async (lessonId: string, options: LessonOptions) => {
      await withGoalOps(options, async (ops) => {
        const detail = await ops.lessons.show(lessonId);
        if (options.json) {
          process.stdout.write(`${JSON.stringify(detail, null, 2)}\n`);
          return;
        }
        process.stdout.write(standingLine(detail));
        process.stdout.write(`  file ${detail.source_path}; category ${detail.category}; declared confidence ${detail.confidence ?? "none (0.5)"}; review by ${detail.review_by ?? "-"}\n`);
        for (const e of detail.evidence.slice(0, 50)) process.stdout.write(`  ${e.started_at}  ${e.run_id}  ${e.verdict}\n`);
        if (detail.evidence.length > 50) process.stdout.write(`  ... ${detail.evidence.length - 50} more (--json lists all)\n`);
      });
    });

  withJson(withRepo(lesson.command("candidates")))
    .description("lesson candidates from agents' notes and reviews, grouped and scored (frequency x impact)")
    .option("--since <interval>", "how far back (7d, 24h, 4w); default: learning.since, else 7d")
    .action(async (options: LessonOptions) => {
      await withGoalOps(options, async (ops) => {
        const since = sinceOption(options.since, ops.config.spec.learning?.since, "lesson.bad_since");
        const groups = await ops.lessons.candidates({ since });
        if (options.json) process.stdout.write(`${JSON.stringify(groups, null, 2)}\n`);
        else if (groups.length === 0) process.stdout.write("no lesson candidates in the window\n");
        else for (const c of groups) process.stdout.write(candidateLine(c));
      });
    });
}
