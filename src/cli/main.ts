#!/usr/bin/env node
/**
 * The goalops command line: argument parsing and the one top-level catch that maps errors to exit
 * codes (0 ok, 1 invalid input or a failed check, 2 usage or environment error). Each command is a
 * thin layer over the library in its own file under commands/.
 */
import { Command, CommanderError } from "commander";
import { GoalOpsError, InvalidInputError } from "../errors.js";
import { ExitCode, ExitError } from "./exit.js";
import { registerValidate } from "./commands/validate.js";
import { registerSync } from "./commands/sync.js";
import { registerDiff } from "./commands/diff.js";
import { registerInit } from "./commands/init.js";
import { registerNew } from "./commands/new.js";
import { registerGoal } from "./commands/goal.js";
import { registerKr } from "./commands/kr.js";
import { registerRun } from "./commands/run.js";
import { registerLoop } from "./commands/loop.js";
import { registerContext } from "./commands/context.js";
import { registerStatus } from "./commands/status.js";
import { registerDaemon } from "./commands/daemon.js";
import { registerAar } from "./commands/aar.js";
import { registerReport } from "./commands/report.js";
import { registerLesson } from "./commands/lesson.js";
import { registerPlaybook } from "./commands/playbook.js";
import { registerLearn } from "./commands/learn.js";
import { registerDispatch } from "./commands/dispatch.js";
import { VERSION } from "../version.js";

export function buildProgram(): Command {
  const program = new Command("goalops")
    .description("Persistent goals and a learning loop for AI agents, kept as YAML in git and synced into SQLite.")
    .version(VERSION, "-V, --version")
    .showHelpAfterError("(run with --help for usage)")
    .addHelpText("after", `
Spec in git, status in the database: goals, lessons and playbook rules are YAML files under
goals/, lessons/ and playbooks/; 'goalops sync' reconciles them into state/goalops.db.

Exit codes: 0 ok, 1 invalid input or a failed check, 2 usage or environment error.

Examples:
  goalops init my-agents          scaffold a repository
  goalops new goal --type objective --title "Improve reliability"
  goalops validate --format github
  goalops diff && goalops sync
  goalops daemon                  watch, sync and serve the API on 127.0.0.1:7420
  goalops goal list
  goalops goal transition goal_01... active --reason "kick-off"`)
    .exitOverride();
  registerInit(program);
  registerNew(program);
  registerValidate(program);
  registerSync(program);
  registerDiff(program);
  registerGoal(program);
  registerKr(program);
  registerRun(program);
  registerLoop(program);
  registerContext(program);
  registerStatus(program);
  registerAar(program);
  registerReport(program);
  registerLesson(program);
  registerPlaybook(program);
  registerLearn(program);
  registerDispatch(program);
  registerDaemon(program);
  return program;
}

async function main(argv: string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(argv);
    return ExitCode.Ok;
  } catch (error) {
    if (error instanceof ExitError) return error.exitCode;
    if (error instanceof CommanderError) {
      // commander has printed its message (or the help/version) already.
      return error.code === "commander.helpDisplayed" || error.code === "commander.version" || error.exitCode === 0 ? ExitCode.Ok : ExitCode.Usage;
    }
    if (error instanceof GoalOpsError) {
      const where = error.file !== undefined ? `${error.file}${error.line !== undefined ? `:${error.line}:${error.column ?? 1}` : ""}: ` : "";
      process.stderr.write(`goalops: ${where}${error.message}\n`);
      return error instanceof InvalidInputError ? ExitCode.Invalid : ExitCode.Usage;
    }
    process.stderr.write(`goalops: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    return ExitCode.Usage;
  }
}

// `goalops validate | head`: the reader went away; stop quietly, as Unix tools do.
for (const stream of [process.stdout, process.stderr]) {
  stream.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code === "EPIPE") process.exit(process.exitCode ?? 0);
    throw error;
  });
}

process.exitCode = await main(process.argv);
