/**
 * One pass over the ledger's finished runs, in start order, counting everything the learning side
 * asks of them: the outcome groups (`report learning`), each playbook rule's runs with and without
 * it in the context, each lesson's evidence, the runs due an after-action review, and the runs
 * that proposed lessons. Pure: chunks of run facts in, counts out; the store only reads.
 *
 * One pass instead of one SQL scan per question because at a million runs each scan (and its
 * JSON unpacking) costs seconds, and the JSON columns hold the same few texts over and over:
 * here each distinct text is parsed once.
 *
 * Runs started before `since` (when the scan starts earlier) feed only the lesson evidence (all
 * time) and the failure streaks that decide a notable success; the rest counts runs in the window.
 */
import type { LessonEvidenceCounts, LessonEvidenceRow, OutcomeGroupRow, ReviewedRun, ReviewReason, RunFacts } from "../store/types.js";
import type { CandidateSource } from "./lessonCandidates.js";
import type { SideCounts } from "./ruleEvaluation.js";

export interface LedgerPassSetup {
  /** Start of the window: earlier runs count only for lesson evidence and failure streaks. */
  since: string;
  /** Each goal's type; a run of a goal not in the database counts for nothing (as a SQL join would). */
  goalTypes: ReadonlyMap<string, string>;
  /** The lessons in the database and the failure category each names (a contradiction must match it). */
  lessonCategories: ReadonlyMap<string, string | null>;
  /** Reviews runs of the window already have, by run id (their runs are not due one; their candidates count). */
  reviewed: ReadonlyMap<string, { candidates: string | null; metricsBefore: string | null; metricsAfter: string | null }>;
  /** Collect the runs due a review, and the runs that proposed lessons (otherwise only count). */
  collect: { due: boolean; candidates: boolean };
  /** Collect the evidence rows (run by run) of this lesson. */
  evidenceFor?: string;
}

/** A run due a review, in start order; `seq` orders it among the pass's other findings. */
export interface DueReview {
  seq: number;
  runId: string;
  reason: Exclude<ReviewReason, "manual">;
  /** Failed or partial runs of its goal right before it (a success after 2 or more is notable). */
  priorFailures: number;
  /** What its review is drafted from, when the scan carried it (a failed or partial run). */
  run?: ReviewedRun;
}

/** A run of the window that proposed lessons (its agent's, or its existing review's), in start order. */
export interface CandidateRun {
  seq: number;
  source: CandidateSource;
}

export interface RuleSides {
  with: SideCounts;
  without: SideCounts;
}

type Verdict = LessonEvidenceRow["verdict"];

const OUTCOME_FIELDS = ["runs", "succeeded", "failed", "partial", "verified_success", "improved", "neutral", "degraded", "unknown"] as const;
const NONE: readonly never[] = [];
/** Parsed JSON texts kept at most (distinct texts beyond it are parsed each time they come). */
const PARSE_CACHE_LIMIT = 50_000;

interface GoalStreak {
  /** Failed or partial runs in a row, up to the last run seen. */
  streak: number;
}

export class LedgerPass {
  private seq = 0;
  private readonly parsed = new Map<string, unknown>();
  private readonly groups = new Map<string, OutcomeGroupRow>();
  private readonly goalTypeGroups = new Map<string, OutcomeGroupRow>();
  private readonly rules = new Map<string, RuleSides>();
  private readonly lessons = new Map<string, LessonEvidenceCounts>();
  private readonly evidenceRows: LessonEvidenceRow[] = [];
  private readonly streaks = new Map<string, GoalStreak>();
  private readonly dueRuns: DueReview[] = [];
  private readonly candidateRuns: CandidateRun[] = [];
  private windowRuns = 0;

  constructor(private readonly setup: LedgerPassSetup) {}

  /** Runs in start order (chunks as the store yields them). */
  add(rows: readonly RunFacts[]): void {
    for (const row of rows) this.addRun(row);
  }

  private addRun(row: RunFacts): void {
    const [runId, goalId, startedAt, outcome, verifier, business, category, actionsJson, lessonsJson, rulesJson, candidatesJson, metricsBefore, metricsAfter, attempt] = row;
    const goalType = this.setup.goalTypes.get(goalId);
    if (goalType === undefined) return;
    const seq = this.seq++;
    const succeeded = outcome === "succeeded";
    const failed = outcome === "failed" || outcome === "partial";
    const validated = succeeded && verifier !== "failed";

    const lessonIds = lessonsJson === "[]" ? NONE : (this.parse(lessonsJson) as string[]);
    for (const lessonId of lessonIds) {
      const lessonCategory = this.setup.lessonCategories.get(lessonId);
      if (lessonCategory === undefined) continue;
      const verdict: Verdict = validated ? "validated" : failed && (lessonCategory === null || category === lessonCategory) ? "contradicted" : "applied";
      let counts = this.lessons.get(lessonId);
      if (counts === undefined) {
        counts = { lesson_id: lessonId, applied: 0, validated: 0, contradicted: 0, last_validated_at: null };
        this.lessons.set(lessonId, counts);
      }
      counts.applied++;
      if (verdict === "validated") {
        counts.validated++;
        // Start order: the last validation seen is the latest.
        counts.last_validated_at = startedAt;
      } else if (verdict === "contradicted") counts.contradicted++;
      if (lessonId === this.setup.evidenceFor) this.evidenceRows.push({ lesson_id: lessonId, run_id: runId, started_at: startedAt, verdict });
    }

    const due = this.setup.collect.due ? this.streakStep(goalId, outcome) : null;
    if (startedAt < this.setup.since) return;
    this.windowRuns++;

    const verified = succeeded && verifier === "passed";
    const actions = actionsJson === "[]" ? NONE : (this.parse(actionsJson) as string[]);
    this.count(this.goalTypeGroups, goalType, goalType, null, null, outcome, verified, business);
    if (actions.length === 0) this.count(this.groups, `${goalType}\u0000\u0001\u0000${category ?? "\u0001"}`, goalType, null, category, outcome, verified, business);
    for (const action of actions) this.count(this.groups, `${goalType}\u0000${action}\u0000${category ?? "\u0001"}`, goalType, action, category, outcome, verified, business);

    const ruleEntries = rulesJson === "[]" ? NONE : (this.parse(rulesJson) as { rule_id: string; in_context?: boolean | number }[]);
    for (const entry of ruleEntries) {
      let sides = this.rules.get(entry.rule_id);
      if (sides === undefined) {
        sides = { with: { runs: 0, verified: 0 }, without: { runs: 0, verified: 0 } };
        this.rules.set(entry.rule_id, sides);
      }
      const side = entry.in_context === false || entry.in_context === 0 ? sides.without : sides.with;
      side.runs++;
      if (verified) side.verified++;
    }

    const review = this.setup.reviewed.get(runId);
    if (due !== null && review === undefined) {
      const entry: DueReview = { seq, runId, ...due };
      if (attempt !== null) entry.run = reviewedRun(row, actions);
      this.dueRuns.push(entry);
    }
    const reviewCandidates = review?.candidates ?? null;
    if (this.setup.collect.candidates && (candidatesJson !== null || reviewCandidates !== null)) {
      const texts: CandidateSource["texts"][number][] = [];
      if (candidatesJson !== null) for (const text of this.parse(candidatesJson) as string[]) texts.push({ text, from: "agent" });
      if (reviewCandidates !== null) for (const text of this.parse(reviewCandidates) as string[]) texts.push({ text, from: "review" });
      this.candidateRuns.push({
        seq,
        source: {
          runId,
          goalType,
          actionType: actions[0] ?? "*",
          failureCategory: category,
          businessOutcome: business,
          metricsBefore: parseMetrics(metricsBefore ?? review?.metricsBefore ?? null),
          metricsAfter: parseMetrics(metricsAfter ?? review?.metricsAfter ?? null),
          texts,
        },
      });
    }
  }

  /** Moves the goal's failure streak past this run; says whether the run is due a review. */
  private streakStep(goalId: string, outcome: string | null): Omit<DueReview, "seq" | "runId"> | null {
    let state = this.streaks.get(goalId);
    if (state === undefined) {
      state = { streak: 0 };
      this.streaks.set(goalId, state);
    }
    const prior = state.streak;
    if (outcome === "failed" || outcome === "partial") {
      state.streak++;
      return { reason: outcome, priorFailures: prior };
    }
    state.streak = 0;
    return outcome === "succeeded" && prior >= 2 ? { reason: "notable_success", priorFailures: prior } : null;
  }

  private count(into: Map<string, OutcomeGroupRow>, key: string, goalType: string, action: string | null, category: string | null, outcome: string | null, verified: boolean, business: string): void {
    let group = into.get(key);
    if (group === undefined) {
      group = { goal_type: goalType, action, failure_category: category, runs: 0, succeeded: 0, failed: 0, partial: 0, verified_success: 0, improved: 0, neutral: 0, degraded: 0, unknown: 0 };
      into.set(key, group);
    }
    group.runs++;
    if (outcome === "succeeded") group.succeeded++;
    else if (outcome === "failed") group.failed++;
    else if (outcome === "partial") group.partial++;
    if (verified) group.verified_success++;
    if (business === "improved") group.improved++;
    else if (business === "neutral") group.neutral++;
    else if (business === "degraded") group.degraded++;
    else if (business === "unknown") group.unknown++;
  }

  private parse(json: string): unknown {
    let value = this.parsed.get(json);
    if (value === undefined) {
      value = JSON.parse(json) as unknown;
      if (this.parsed.size < PARSE_CACHE_LIMIT) this.parsed.set(json, value);
    }
    return value;
  }

  /** Finished runs of the window counted (runs of goals not in the database left out). */
  get runs(): number {
    return this.windowRuns;
  }

  /** The window's outcome groups, largest first (as `report learning` lists them). */
  outcomes(): { byGroup: OutcomeGroupRow[]; byGoalType: OutcomeGroupRow[] } {
    const byGroup = [...this.groups.values()].sort((a, b) => b.runs - a.runs || compareText(a.goal_type, b.goal_type) || compareText(a.action, b.action) || compareText(a.failure_category, b.failure_category));
    const byGoalType = [...this.goalTypeGroups.values()].sort((a, b) => b.runs - a.runs || compareText(a.goal_type, b.goal_type));
    return { byGroup, byGoalType };
  }

  /** Each rule's runs of the window with it in the context and without (evaluated only). */
  ruleSides(): Map<string, RuleSides> {
    return this.rules;
  }

  /** Each lesson's evidence over every run scanned. */
  lessonCounts(): Map<string, LessonEvidenceCounts> {
    return this.lessons;
  }

  /** The evidence rows of `evidenceFor`, newest first. */
  evidence(): LessonEvidenceRow[] {
    return [...this.evidenceRows].reverse();
  }

  /** The window's runs due a review that have none, oldest first, found since the last take. */
  due(): DueReview[] {
    return this.dueRuns;
  }

  /** How many runs due a review were found since the last take. */
  get dueCount(): number {
    return this.dueRuns.length;
  }

  /** Takes the runs due a review found so far (a caller that writes reviews as the scan goes). */
  takeDue(): DueReview[] {
    return this.dueRuns.splice(0);
  }

  /** The window's runs that proposed lessons (agents' notes, existing reviews), oldest first, found since the last take. */
  candidates(): CandidateRun[] {
    return this.candidateRuns;
  }

  takeCandidates(): CandidateRun[] {
    return this.candidateRuns.splice(0);
  }

  /** Sums of the outcome fields over groups. */
  static total(groups: readonly OutcomeGroupRow[]): OutcomeGroupRow {
    const total: OutcomeGroupRow = { goal_type: "*", action: null, failure_category: null, runs: 0, succeeded: 0, failed: 0, partial: 0, verified_success: 0, improved: 0, neutral: 0, degraded: 0, unknown: 0 };
    for (const g of groups) for (const field of OUTCOME_FIELDS) total[field] += g[field];
    return total;
  }
}

/** A failed or partial run's review fields, from its scanned row. */
function reviewedRun(row: RunFacts, actions: readonly string[]): ReviewedRun {
  const [runId, goalId, startedAt, outcome, verifier, business, category, , , , candidatesJson, metricsBefore, metricsAfter, attempt, planSummary, notes, durationSeconds] = row;
  return {
    run_id: runId,
    goal_id: goalId,
    started_at: startedAt,
    attempt: attempt ?? 1,
    plan_summary: planSummary,
    actions_taken: [...actions],
    verifier_status: verifier as ReviewedRun["verifier_status"],
    local_outcome: outcome as ReviewedRun["local_outcome"],
    business_outcome: business as ReviewedRun["business_outcome"],
    failure_category: category,
    metrics_before: parseMetrics(metricsBefore),
    metrics_after: parseMetrics(metricsAfter),
    duration_seconds: durationSeconds,
    notes,
    lesson_candidates: candidatesJson === null ? [] : (JSON.parse(candidatesJson) as string[]),
  };
}

function parseMetrics(json: string | null): Record<string, number | null> | null {
  return json === null ? null : (JSON.parse(json) as Record<string, number | null>);
}

/**
 * The order SQLite gave these groups: null first, then text. SQLite compares UTF-8 bytes (code
 * points), JavaScript UTF-16 code units: the same order except between characters above U+FFFF
 * and those from U+E000 to U+FFFF, which goal types, actions and failure categories do not use.
 */
function compareText(a: string | null, b: string | null): number {
  if (a === b) return 0;
  if (a === null) return -1;
  if (b === null) return 1;
  return a < b ? -1 : 1;
}
