import { existsSync } from "node:fs";
import type { Command } from "commander";
import { ExitCode, ExitError } from "../exit.js";
import { openRepoConfig, withJson, withRepo, type RepoOptions } from "../options.js";
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
      const { config } = openRepoConfig(options, options.json);
      // Loaded here, not at start-up: other commands need not pay for SQLite.
      const [{ openStore }, { syncRepo }] = await Promise.all([import("../../store/openStore.js"), import("../../sync/syncRepo.js")]);
      // Without a database yet, compare against an empty one in memory: diff never creates files.
      const store = openStore(existsSync(config.databasePath) ? config : { ...config, databasePath: ":memory:" });
      try {
        const report = await syncRepo(config, store, { allowPrune: options.allowPrune ?? false, dryRun: true });
        process.stdout.write(options.json ? `${JSON.stringify(report, null, 2)}\n` : formatSyncReport(report, "diff"));
        if (report.wouldChange) throw new ExitError(ExitCode.Invalid);
      } finally {
        await store.close();
      }
    });
}
