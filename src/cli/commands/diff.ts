import type { Command } from "commander";
import { ExitCode, ExitError } from "../exit.js";
import { startSpecGitProbe, withJson, withRepo, type RepoOptions } from "../options.js";
import { withGoalOps } from "../withGoalOps.js";
import { formatSyncReport } from "../syncOutput.js";

interface DiffOptions extends RepoOptions {
  json?: boolean;
  allowPrune?: boolean;
}

export function registerDiff(program: Command): void {
  withJson(withRepo(program.command("diff")))
    .description("show what 'goalops sync' would change, without changing anything")
    .option("--allow-prune", "plan as if sync were run with --allow-prune")
    .addHelpText("after", `
Exit codes (for CI, like 'argocd app diff'): 0 no change, 1 changes, 2 error.`)
    .action(async (options: DiffOptions) => {
      const startedGitProbe = startSpecGitProbe(options);
      const report = await withGoalOps(options, (ops) => ops.diff({ allowPrune: options.allowPrune ?? false, startedGitProbe }));
      process.stdout.write(options.json ? `${JSON.stringify(report, null, 2)}\n` : formatSyncReport(report, "diff"));
      if (report.wouldChange) throw new ExitError(ExitCode.Invalid);
    });
}
