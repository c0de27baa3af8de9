import type { Command } from "commander";
import { UsageError } from "../../errors.js";
import { sinceOption, withJson, withRepo, type RepoOptions } from "../options.js";
import { withGoalOps } from "../withGoalOps.js";

interface LearnCliOptions extends RepoOptions {
  json?: boolean;
  since?: string;
  dryRun?: boolean;
  commit?: boolean;
  push?: boolean;
  openPr?: boolean;
  db?: string;
}

export function registerLearn(program: Command): void {
  withJson(withRepo(program.command("learn")))
    .description("the learning cycle: review runs, score lesson candidates, evaluate rules, propose lesson and rule files")
    .option("--since <interval>", "the window of runs (7d, 24h, 4w); default: learning.since, else 7d")
    .option("--dry-run", "do everything in a transaction that is rolled back; write nothing; print the proposal")
    .option("--commit", "commit the proposed files on the branch goalops/learn/<ISO week>, in a separate worktree")
    .option("--db <path>", "the ledger to learn from (default: database.path in goalops.yaml); for a CI job given the team's ledger")
    .option("--push", "also push that branch to git.remote (default origin); implies --commit")
    .option("--open-pr", "also open (or update) its pull request on GitHub: git.github_repo, token in GITHUB_TOKEN; implies --push")
    .addHelpText("after", `
Steps (PRD section 11): aggregate the window's outcomes; review every failed or partial run and
notable success; score lesson candidates and propose those at learning.promote_score as lesson
files; propose lessons at learning.rule_confidence as shadow rules; evaluate rules (a regressing
canary is rolled back at once in the database, and the rollback proposed); store a cycle report
and print it as markdown.

--commit never touches your working tree, index, stash or branch: it commits in a temporary git
worktree on goalops/learn/<ISO week> (made from git.base_branch, default main), continuing the
branch if it exists, so a commit a person added there stays. Re-running the same week proposes
the same files (ids are derived from the evidence), so nothing is committed twice.`)
    .action(async (options: LearnCliOptions) => {
      if (options.dryRun && (options.commit || options.push || options.openPr)) throw new UsageError("learn.dry_run_commit", "--dry-run writes nothing, so it cannot --commit, --push or --open-pr; use one of them");
      await withGoalOps(options, async (ops) => {
        const since = sinceOption(options.since, ops.config.spec.learning?.since, "learn.bad_since");
        const result = await ops.learn({ since, dryRun: options.dryRun ?? false, commit: options.commit ?? false, push: options.push ?? false, openPr: options.openPr ?? false });
        if (options.json) {
          process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
          return;
        }
        process.stdout.write(result.markdown);
        if (options.dryRun) for (const p of result.proposals) process.stdout.write(`\n--- ${p.path} (${p.change})\n${p.text}`);
        if (result.commit !== undefined) {
          process.stdout.write(result.commit.commit === null ? `\nbranch ${result.commit.branch} already holds these proposals (${result.commit.head.slice(0, 12)})\n` : `\ncommitted ${result.commit.commit.slice(0, 12)} on ${result.commit.branch}${result.commit.created ? " (new branch)" : ""}\n`);
        } else if (options.commit || options.push || options.openPr) {
          process.stdout.write("\nnothing to commit: no proposals\n");
        }
        if (result.pushed !== undefined) process.stdout.write(`pushed ${result.pushed.branch} to ${result.pushed.remote}\n`);
        if (result.pullRequest !== undefined) process.stdout.write(result.pullRequest.action === "skipped" ? `pull request: ${result.pullRequest.reason}\n` : `pull request #${result.pullRequest.number} ${result.pullRequest.action}: ${result.pullRequest.url}\n`);
      });
    });
}
