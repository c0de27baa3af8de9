import type { Command } from "commander";
import { ExitCode, ExitError } from "../exit.js";
import { startSpecGitProbe, withJson, withRepo, type RepoOptions } from "../options.js";
import { withGoalOps } from "../withGoalOps.js";
import { formatSyncReport } from "../syncOutput.js";

interface SyncOptions extends RepoOptions {
  json?: boolean;
  allowPrune?: boolean;
}

export function registerSync(program: Command): void {
  withJson(withRepo(program.command("sync")))
    .description("reconcile the spec files into the database once: add, change, archive; report invalid files")
    .option("--allow-prune", "allow archiving more than sync.prune_limit (default half) of the goals at once")
    .addHelpText("after", `
Unchanged files (same content hash) are not rewritten. A deleted file archives its goal (history is
kept). An invalid file is reported with file:line:col and the last good version stays in force.
Status intents (status: ready|active|...) are applied through the state machine.

Exit codes: 0 applied, 1 some files are invalid or the prune guard refused, 2 usage or environment error.`)
    .action(async (options: SyncOptions) => {
      const startedGitProbe = startSpecGitProbe(options);
      const report = await withGoalOps(options, (ops) => ops.sync({ allowPrune: options.allowPrune ?? false, trigger: "cli", startedGitProbe }));
      process.stdout.write(options.json ? `${JSON.stringify(report, null, 2)}\n` : formatSyncReport(report, "sync"));
      if (report.outcome === "refused" || report.invalid.length > 0) throw new ExitError(ExitCode.Invalid);
    });
}
