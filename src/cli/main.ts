#!/usr/bin/env node
/**
 * The goalops command line: argument parsing and the one top-level catch that maps errors to exit
 * codes (0 ok, 1 invalid input or a failed check, 2 usage or environment error). Each command is a
 * thin layer over the library in its own file under commands/.
 */
import { Command, CommanderError } from "commander";
import { GoalOpsError, InvalidInputError } from "../errors.js";
import { ExitCode, ExitError } from "./exit.js";
import { VERSION } from "../version.js";
import { isStoreBusy } from "../store/errors.js";

type Register = (program: Command) => void;

/**
 * Each command's module, loaded only when that command runs (all of them for the overall help or
 * an unknown command): a command pays for its own imports, not for the other seventeen's. In the
 * order `--help` lists them.
 */
const COMMANDS: Record<string, () => Promise<Register>> = {
  init: async () => (await import("./commands/init.js")).registerInit,
  new: async () => (await import("./commands/new.js")).registerNew,
  validate: async () => (await import("./commands/validate.js")).registerValidate,
  sync: async () => (await import("./commands/sync.js")).registerSync,
  diff: async () => (await import("./commands/diff.js")).registerDiff,
  goal: async () => (await import("./commands/goal.js")).registerGoal,
  kr: async () => (await import("./commands/kr.js")).registerKr,
  run: async () => (await import("./commands/run.js")).registerRun,
  loop: async () => (await import("./commands/loop.js")).registerLoop,
  context: async () => (await import("./commands/context.js")).registerContext,
  status: async () => (await import("./commands/status.js")).registerStatus,
  aar: async () => (await import("./commands/aar.js")).registerAar,
  report: async () => (await import("./commands/report.js")).registerReport,
  lesson: async () => (await import("./commands/lesson.js")).registerLesson,
  playbook: async () => (await import("./commands/playbook.js")).registerPlaybook,
  learn: async () => (await import("./commands/learn.js")).registerLearn,
  dispatch: async () => (await import("./commands/dispatch.js")).registerDispatch,
  daemon: async () => (await import("./commands/daemon.js")).registerDaemon,
};

/** The commands `argv` needs: its command; none when it starts with --version (printed before any command); else all. */
function commandsFor(argv: readonly string[]): string[] {
  const first = argv[2];
  if (first !== undefined && Object.hasOwn(COMMANDS, first)) return [first];
  if (first === "-V" || first === "--version") return [];
  return Object.keys(COMMANDS);
}

export async function buildProgram(argv: readonly string[] = []): Promise<Command> {
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
  for (const register of await Promise.all(commandsFor(argv).map((name) => (COMMANDS[name] as () => Promise<Register>)()))) register(program);
  return program;
}

async function main(argv: string[]): Promise<number> {
  try {
    await (await buildProgram(argv)).parseAsync(argv);
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
    if (isStoreBusy(error)) {
      // Another writer (a daemon's sync, a learning cycle) held the database past the busy timeout.
      process.stderr.write("goalops: the database is locked by another writer (a daemon or another goalops command): try again, or raise database.busy_timeout_ms in goalops.yaml\n");
      return ExitCode.Usage;
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
