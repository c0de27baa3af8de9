/**
 * `goalops learn`: the learning cycle of PRD section 11, done the GitOps way.
 *
 * 1-2. the runs of the window, aggregated; 3. reviews of the runs that need one; 4. lesson
 * candidates scored; 5. candidates at `learning.promote_score` proposed as lesson files, and
 * lessons whose measured confidence moved proposed with it; 6. lessons at
 * `learning.rule_confidence` proposed as shadow rules, rule evaluations (a regression rolled back
 * at once, in the database) proposed as mode changes; 7. a LearningCycleReport, stored and as
 * markdown. Proposals are files for review: with `commit`, a commit on the week's proposal branch.
 * A dry run does all of it in a transaction that is rolled back, and writes no file.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { newPrefixedId } from "../ids.js";
import type { ResolvedConfig } from "../spec/config.js";
import { loadSpecFile } from "../spec/specFile.js";
import type { GoalOpsStore } from "../store/types.js";
import { commitOnProposalBranch, type CommitResult, isoWeek, pushBranch } from "../git/proposalBranch.js";
import { openOrUpdatePullRequest, type PullRequestResult } from "../git/githubPullRequest.js";
import { UsageError } from "../errors.js";
import { createHash } from "node:crypto";
import type { AfterActionReviews } from "./afterActionReviews.js";
import { type LessonCandidateGroup, lessonFingerprint } from "./lessonCandidates.js";
import type { Lessons } from "./lessons.js";
import { type OutcomeGroup, outcomeReport } from "./outcomeAggregator.js";
import type { Playbook } from "./playbook.js";
import { editField, newLessonFile, newRuleFile, type ProposedFile } from "./proposals.js";
import { pct } from "./ruleEvaluation.js";

export interface LearnOptions {
  since: Date;
  dryRun?: boolean;
  /** Commit the proposals on the week's branch (not with dryRun). */
  commit?: boolean;
  /** Push the branch to git.remote (implies commit). */
  push?: boolean;
  /** Open or update its pull request on GitHub (implies push); the token from GITHUB_TOKEN. */
  openPr?: boolean;
  now?: Date;
}

export interface LearningCycleResult {
  reportId: string;
  window: { since: string; until: string };
  totals: OutcomeGroup;
  reviews: { made: number; byReason: Partial<Record<string, number>> };
  promotedCandidates: LessonCandidateGroup[];
  /** Candidates at the threshold past `learning.max_new_lessons`: not proposed this time. */
  heldBackCandidates: { fingerprint: string; text: string; score: number; frequency: number }[];
  proposals: ProposedFile[];
  rollbacks: { rule_id: string; reason: string }[];
  /** Proposals that did not pass validation (a bug of ours if ever non-empty): not committed. */
  rejected: { path: string; problems: string[] }[];
  dryRun: boolean;
  commit?: CommitResult;
  pushed?: { remote: string; branch: string };
  pullRequest?: PullRequestResult;
  markdown: string;
}

const REVIEW_DAYS = 90;
/** Default of learning.max_new_lessons. */
const MAX_NEW_LESSONS = 25;

export class LearningCycle {
  constructor(
    private readonly store: GoalOpsStore,
    private readonly config: ResolvedConfig,
    private readonly parts: { reviews: AfterActionReviews; lessons: Lessons; playbook: Playbook },
  ) {}

  async run(options: LearnOptions): Promise<LearningCycleResult> {
    const now = options.now ?? new Date();
    const dryRun = options.dryRun ?? false;
    const cycle = () => this.cycle(options.since, now, dryRun);
    const result = dryRun ? await this.store.scratch(cycle) : await cycle();
    const push = options.push === true || options.openPr === true;
    if ((options.commit || push) && !dryRun && result.proposals.length > 0) {
      const git = this.config.spec.git;
      const remote = git?.remote ?? "origin";
      const branch = `${git?.branch_prefix ?? "goalops/learn/"}${isoWeek(now)}`;
      const base = git?.base_branch ?? "main";
      let token: string | undefined;
      if (options.openPr) {
        token = process.env.GITHUB_TOKEN;
        if (token === undefined || token === "") throw new UsageError("learn.no_token", "--open-pr needs a GitHub token in GITHUB_TOKEN");
        if (git?.github_repo === undefined) throw new UsageError("learn.no_repo", "--open-pr needs git.github_repo (owner/name) in goalops.yaml");
      }
      result.commit = await commitOnProposalBranch(this.config.root, { branch, baseBranch: base, files: result.proposals.map((p) => ({ path: p.path, text: p.text })), message: commitMessage(result, now), ...(push ? { remote } : {}) });
      if (push) {
        await pushBranch(this.config.root, remote, branch);
        result.pushed = { remote, branch };
      }
      if (options.openPr && token !== undefined && git?.github_repo !== undefined) {
        result.pullRequest = await openOrUpdatePullRequest({
          repo: git.github_repo,
          branch,
          base,
          title: commitMessage(result, now).split("\n")[0] as string,
          body: result.markdown,
          evidenceHash: evidenceHash(result.proposals),
          token,
        });
      }
    }
    return result;
  }

  private async cycle(since: Date, now: Date, dryRun: boolean): Promise<LearningCycleResult> {
    const { reviews, lessons, playbook } = this.parts;
    const window = { since: since.toISOString(), until: now.toISOString() };

    // One pass over the ledger answers every question below, and finds the reviews due (the store
    // writes them meanwhile); the lesson candidates of the window's runs, theirs among them, are
    // grouped in start order as the pass finds them.
    let grouper = lessons.grouper();
    const { pass, ...due } = await reviews.reviewWindow(
      { since, until: now },
      {
        onBatch: (batch) => {
          for (const { source } of batch) grouper.add(source);
        },
        onRestart: () => {
          grouper = lessons.grouper();
        },
      },
    );
    const aggregate = outcomeReport(pass, window.since, window.until);

    const proposals: ProposedFile[] = [];
    const candidates = grouper.result();
    const standing = await lessons.list({ counts: pass.lessonCounts() });
    const known = new Set(standing.map((l) => lessonFingerprint(l.goal_type, l.action_type, l.failure_category, l.lesson_text)));
    const reviewBy = new Date(now.getTime() + REVIEW_DAYS * 86_400_000).toISOString().slice(0, 10);
    // Highest score first (the grouper's order); a reviewer gets at most max_new_lessons of them.
    const atThreshold = candidates.filter((c) => c.promote && !known.has(c.fingerprint));
    const maxNew = this.config.spec.learning?.max_new_lessons ?? MAX_NEW_LESSONS;
    const promoted = atThreshold.slice(0, maxNew);
    const heldBack = atThreshold.slice(maxNew).map(({ fingerprint, text, score, frequency }) => ({ fingerprint, text, score, frequency }));
    for (const c of promoted) proposals.push(newLessonFile(c, this.config.paths.lessons, reviewBy));

    const rules = await playbook.evaluate({ since, apply: true, actor: "goalops learn", sides: pass.ruleSides() });
    const sourced = new Set(rules.flatMap((r) => r.source_lesson_ids));
    const ruleConfidence = this.config.spec.learning?.rule_confidence ?? 0.8;
    for (const l of standing) {
      if (l.active && l.current_confidence >= ruleConfidence && !sourced.has(l.lesson_id)) proposals.push(newRuleFile(l, this.config.paths.playbooks));
      const declared = l.confidence ?? 0.5;
      if (l.times_applied > 0 && Math.abs(l.current_confidence - declared) >= 0.05) {
        proposals.push(this.edit("lesson", l.source_path, l.lesson_id, "confidence", l.current_confidence, `lesson ${l.lesson_id} confidence ${declared} -> ${l.current_confidence}: ${l.times_validated} validated, ${l.times_contradicted} contradicted of ${l.times_applied} runs`));
      }
    }
    const rollbacks: { rule_id: string; reason: string }[] = [];
    for (const r of rules) {
      if (r.rolled_back_at !== null && r.file_mode !== "shadow") {
        rollbacks.push({ rule_id: r.rule_id, reason: r.rollback_reason ?? "regression" });
        proposals.push(this.edit("rule", r.source_path, r.rule_id, "activation_mode", "shadow", `rule ${r.rule_id} rolled back to shadow: ${r.rollback_reason ?? "regression"}`));
      } else if (r.evaluation.decision === "promote") {
        proposals.push(this.edit("rule", r.source_path, r.rule_id, "activation_mode", r.evaluation.to, `rule ${r.rule_id} ${r.mode} -> ${r.evaluation.to}: ${r.evaluation.reason}`));
      }
    }

    const rejected: LearningCycleResult["rejected"] = [];
    const valid = proposals.filter((p) => {
      const loaded = loadSpecFile(p.path, p.kind, Buffer.from(p.text), this.config.maxFileBytes);
      if (!loaded.ok) rejected.push({ path: p.path, problems: loaded.problems.map((x) => `${x.line}:${x.column} ${x.field}: ${x.message}`) });
      return loaded.ok;
    });

    const result: LearningCycleResult = {
      reportId: newPrefixedId("lcr_"),
      window,
      totals: aggregate.totals,
      reviews: { made: due.made, byReason: due.byReason },
      promotedCandidates: promoted,
      heldBackCandidates: heldBack,
      proposals: valid,
      rollbacks,
      rejected,
      dryRun,
      markdown: "",
    };
    result.markdown = reportMarkdown(result);
    if (!dryRun) {
      const { markdown, ...summary } = result;
      await this.store.insertCycleReport({ reportId: result.reportId, windowStart: result.window.since, windowEnd: result.window.until, summary: { ...summary, proposals: valid.map(({ text: _t, ...p }) => p) }, markdown, at: now.toISOString() });
    }
    return result;
  }

  private edit(kind: "lesson" | "rule", path: string, id: string, field: string, value: unknown, reason: string): ProposedFile {
    const text = readFileSync(join(this.config.root, path), "utf8");
    return { kind, change: "edit", path, id, text: editField(text, field, value), reason };
  }
}

function reportMarkdown(r: LearningCycleResult): string {
  const lines = [
    `# Learning cycle ${r.reportId}${r.dryRun ? " (dry run: nothing written)" : ""}`,
    "",
    `Window: runs started ${r.window.since} .. ${r.window.until}.`,
    "",
    `- runs: ${r.totals.runs} (succeeded ${r.totals.succeeded}, failed ${r.totals.failed}, partial ${r.totals.partial}); verified success ${pct(r.totals.verified_success_rate)}`,
    `- business outcomes: improved ${r.totals.improved}, neutral ${r.totals.neutral}, degraded ${r.totals.degraded}, unknown ${r.totals.unknown}`,
    `- after-action reviews made: ${r.reviews.made}${r.reviews.made > 0 ? ` (${Object.entries(r.reviews.byReason).map(([k, v]) => `${k} ${v}`).join(", ")})` : ""}`,
    `- lesson candidates promoted: ${r.promotedCandidates.length}${r.heldBackCandidates.length > 0 ? ` (${r.heldBackCandidates.length} more at the threshold held back by learning.max_new_lessons; they come back next cycle while their evidence holds)` : ""}`,
    `- rules rolled back: ${r.rollbacks.length}`,
    "",
    "## Proposals",
    "",
  ];
  if (r.proposals.length === 0) lines.push("None this time.");
  for (const p of r.proposals) lines.push(`- ${p.change === "add" ? "add" : "edit"} \`${p.path}\`: ${p.reason}`);
  if (r.heldBackCandidates.length > 0) {
    lines.push("", "## Held back (learning.max_new_lessons)", "");
    for (const c of r.heldBackCandidates.slice(0, 10)) lines.push(`- score ${c.score} (${c.frequency} runs): ${c.text}`);
    if (r.heldBackCandidates.length > 10) lines.push(`- and ${r.heldBackCandidates.length - 10} more`);
  }
  if (r.rejected.length > 0) {
    lines.push("", "## Not proposed (did not validate)", "");
    for (const x of r.rejected) lines.push(`- \`${x.path}\`: ${x.problems.join("; ")}`);
  }
  return `${lines.join("\n")}\n`;
}

function commitMessage(r: LearningCycleResult, now: Date): string {
  return [
    `goalops learn ${isoWeek(now)}: ${r.proposals.length} proposal${r.proposals.length === 1 ? "" : "s"}`,
    "",
    ...r.proposals.map((p) => `- ${p.reason}`),
    "",
    `Evidence: ${r.totals.runs} runs started ${r.window.since} .. ${r.window.until}, verified success ${pct(r.totals.verified_success_rate)}; cycle report ${r.reportId}.`,
  ].join("\n");
}

/** What the proposal is, as a hash: the same files, the same hash (a closed pull request's is compared). */
function evidenceHash(proposals: readonly ProposedFile[]): string {
  const hash = createHash("sha256");
  for (const p of [...proposals].sort((a, b) => a.path.localeCompare(b.path))) hash.update(`${p.path}\0${p.text}\0`);
  return hash.digest("hex").slice(0, 32);
}
