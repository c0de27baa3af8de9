import type { Command } from "commander";
import { Option } from "commander";
import { ExitCode, ExitError } from "../exit.js";
import { withRepo, type RepoOptions } from "../options.js";
import { withGoalOps } from "../withGoalOps.js";
import { plural, printProblems, type ProblemFormat } from "../output.js";

interface ValidateOptions extends RepoOptions {
  format: ProblemFormat;
  json?: boolean;
}

export function registerValidate(program: Command): void {
  withRepo(program.command("validate"))
    .description("check spec files against the schemas and each other; every problem with file:line:col and field")
    .argument("[paths...]", "files or folders to report on (default: the whole repository); references are still resolved across the whole tree")
    .addOption(new Option("--format <format>", "output format").choices(["text", "json", "github"]).default("text"))
    .option("--json", "same as --format json")
    .addHelpText("after", `
Checks: YAML syntax (1.2 core; duplicate keys, directives, custom tags and anchor bombs refused),
the JSON Schemas in schemas/, and across files: duplicate ids, unknown parent_goal_id,
dependencies and source_lesson_ids, cycles, and the hierarchy (a key_result's parent is an
objective; an initiative's is a key_result or an objective).

Exit codes: 0 valid, 1 invalid, 2 usage or environment error.

In GitHub Actions, '--format github' annotates the pull request at the offending lines.`)
    .action(async (paths: string[], options: ValidateOptions) => {
      const format: ProblemFormat = options.json ? "json" : options.format;
      const report = await withGoalOps({ ...options, json: format === "json" }, (ops) => ops.validate(paths));
      if (format === "json") {
        process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
      } else {
        printProblems(report.problems, format, process.stdout);
        const summary = report.valid
          ? `${plural(report.filesChecked, "file")} valid`
          : `${plural(report.problems.length, "problem")} in ${plural(report.invalidFiles, "file")} (${report.filesChecked} checked)`;
        process.stdout.write(`${summary}\n`);
      }
      if (!report.valid) throw new ExitError(ExitCode.Invalid);
    });
}
