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
import type { LessonEvidenceCounts, LessonEvidenceRow, OutcomeGroupRow, ReviewKind, RunFacts } from "../store/types.js";
import { ownLessonCandidates } from "./afterActionReview.js";
import { innerMap } from "./innerMap.js";
import { type CandidateSource, keyResultsMoved } from "./lessonCandidates.js";
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
  /**
   * Collect the runs due a review (failed and partial runs by key, notable successes one by one)
   * and the runs that proposed lessons, a due run's review's own candidates among them; or only
   * the latter; or neither (only count).
   */
  collect: { due: boolean; candidates: boolean };
  /** Collect the evidence rows (run by run) of this lesson. */
  evidenceFor?: string;
}

/** A kind of failed run's review's own lesson candidates, and the same as candidate texts (one list for all its runs). */
interface OwnCandidates {
  ownCandidates: readonly string[];
  reviewTexts: CandidateSource["texts"];
}

/** A notable success due a review: the first success of its goal after two or more failed or partial runs. */
export interface DueNotableSuccess {
  runId: string;
  goalId: string;
  priorFailures: number;
  ownCandidates: readonly string[];
}

/** A run of the window that proposed lessons (its agent's, or its existing review's), in start order. */
export interface CandidateRun {
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

interface RunOutcome {
  outcome: string | null;
  verifier: string | null;
  business: string;
  category: string | null;
}

interface RunContext {
  lessonIds: readonly string[];
  ruleEntries: readonly { rule_id: string; in_context?: boolean | number }[];
}

interface GoalStreak {
  /** Failed or partial runs in a row, up to the last run seen. */
  streak: number;
}

export class LedgerPass {
  private readonly parsed = new Map<string, unknown>();
  private readonly outcomeTexts = new Map<string, RunOutcome>();
  private readonly contexts = new Map<string, RunContext>();
  // Keyed part by part (goal type, action, failure category): the parts are strings met again and
  // again, whose hash V8 keeps, where a key joined from them would be a new string every run.
  private readonly groups = new Map<string, Map<string | null, Map<string | null, OutcomeGroupRow>>>();
  private readonly goalTypeGroups = new Map<string, OutcomeGroupRow>();
  private readonly rules = new Map<string, RuleSides>();
  private readonly lessons = new Map<string, LessonEvidenceCounts>();
  private readonly evidenceRows: LessonEvidenceRow[] = [];
  private readonly streaks = new Map<string, GoalStreak>();
  private readonly ownByKind = new Map<string, Map<string | null, Map<string | null, OwnCandidates>>>();
  private readonly dueByReason = { failed: 0, partial: 0, notable_success: 0 };
  private notables: DueNotableSuccess[] = [];
  private readonly candidateRuns: CandidateRun[] = [];
  private windowRuns = 0;

  constructor(private readonly setup: LedgerPassSetup) {}

  /** Runs in start order (chunks as the store yields them). */
  add(rows: readonly RunFacts[]): void {
    for (const row of rows) this.addRun(row);
  }

  private addRun(row: RunFacts): void {
    const [runId, goalId, startedAt, outcomeText, actionsJson, contextText, candidatesText, metricsBefore, metricsAfter, planText] = row;
    const { outcome, verifier, business, category } = this.outcomeOf(outcomeText);
    const { lessonIds, ruleEntries } = this.contextOf(contextText);
    const candidatesJson = candidatesText === "" ? null : candidatesText;
    const plan = planText === "" ? null : planText;
    const goalType = this.setup.goalTypes.get(goalId);
    if (goalType === undefined) return;
    const succeeded = outcome === "succeeded";
    const failed = outcome === "failed" || outcome === "partial";
    const validated = succeeded && verifier !== "failed";

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
        if (counts.last_validated_at === null || startedAt > counts.last_validated_at) counts.last_validated_at = detach(startedAt);
      } else if (verdict === "contradicted") counts.contradicted++;
      if (lessonId === this.setup.evidenceFor) this.evidenceRows.push({ lesson_id: lessonId, run_id: detach(runId), started_at: detach(startedAt), verdict });
    }

    const priorFailures = this.setup.collect.due ? this.streakStep(goalId, outcome) : 0;
    if (startedAt < this.setup.since) return;
    this.windowRuns++;

    const verified = succeeded && verifier === "passed";
    const actions = actionsJson === "[]" ? NONE : (this.parse(actionsJson) as string[]);
    let byType = this.goalTypeGroups.get(goalType);
    if (byType === undefined) {
      byType = newGroup(goalType, null, null);
      this.goalTypeGroups.set(goalType, byType);
    }
    count(byType, outcome, verified, business);
    const byAction = innerMap(this.groups, goalType);
    if (actions.length === 0) count(group(byAction, goalType, null, category), outcome, verified, business);
    for (const action of actions) count(group(byAction, goalType, action, category), outcome, verified, business);

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
    // The review this run gets now, if it is due one: its own lesson candidates.
    let ownCandidates: readonly string[] | null = null;
    let sharedTexts: CandidateSource["texts"] | null = null;
    if (this.setup.collect.due && review === undefined) {
      if (failed) {
        const due = this.dueFailure(goalType, actions, category, outcome as "failed" | "partial");
        ownCandidates = due.ownCandidates;
        sharedTexts = due.reviewTexts;
      } else if (succeeded && priorFailures >= 2) {
        ownCandidates = ownLessonCandidates(goalType, actions, category, { priorFailures, plan: plan === null ? null : detach(plan), actions });
        this.notables.push({ runId: detach(runId), goalId: detach(goalId), priorFailures, ownCandidates });
        this.dueByReason.notable_success++;
      }
    }
    const reviewCandidates = review?.candidates ?? null;
    if (this.setup.collect.candidates && (candidatesJson !== null || reviewCandidates !== null || (ownCandidates !== null && ownCandidates.length > 0))) {
      let texts: CandidateSource["texts"];
      if (candidatesJson === null && reviewCandidates === null && sharedTexts !== null) texts = sharedTexts;
      else {
        const list: CandidateSource["texts"][number][] = [];
        const agents = candidatesJson === null ? NONE : (this.parse(candidatesJson) as string[]);
        for (const text of agents) list.push({ text, from: "agent" });
        // A review lists its agent's candidates first, then its own.
        if (reviewCandidates !== null) for (const text of this.parse(reviewCandidates) as string[]) list.push({ text, from: "review" });
        if (ownCandidates !== null && (agents.length > 0 || ownCandidates.length > 0)) for (const text of [...agents, ...ownCandidates]) list.push({ text, from: "review" });
        texts = list;
      }
      this.candidateRuns.push({
        source: {
          runId: detach(runId),
          goalType,
          actionType: actions[0] ?? "*",
          failureCategory: category,
          businessOutcome: business,
          // The metrics come only when they differ; from the scan or, for a reviewed run, the review's read.
          keyResultsMoved: keyResultsMoved(metricsBefore === "" ? (review?.metricsBefore ?? null) : metricsBefore, metricsAfter === "" ? (review?.metricsAfter ?? null) : metricsAfter),
          texts,
        },
      });
    }
  }

  /** Counts a failed or partial run due a review; returns its kind's own lesson candidates. */
  private dueFailure(goalType: string, actions: readonly string[], category: string | null, reason: "failed" | "partial"): OwnCandidates {
    this.dueByReason[reason]++;
    return this.ownCandidatesOf(goalType, actions[0] ?? null, actions, category);
  }

  /**
   * A failure review's own lesson candidates depend on the goal type, first action and category
   * only: one list (frozen, so the grouper may keep what it made of it) for all their runs.
   */
  private ownCandidatesOf(goalType: string, firstAction: string | null, actions: readonly string[], category: string | null): OwnCandidates {
    const byCategory = innerMap(innerMap(this.ownByKind, goalType), firstAction);
    let own = byCategory.get(category);
    if (own === undefined) {
      const ownCandidates = Object.freeze(ownLessonCandidates(goalType, actions, category, null));
      own = { ownCandidates, reviewTexts: Object.freeze(ownCandidates.map((text) => Object.freeze({ text, from: "review" as const }))) };
      byCategory.set(category, own);
    }
    return own;
  }

  /** Moves the goal's failure streak past this run; returns the failed or partial runs right before it. */
  private streakStep(goalId: string, outcome: string | null): number {
    let state = this.streaks.get(goalId);
    if (state === undefined) {
      state = { streak: 0 };
      this.streaks.set(detach(goalId), state);
    }
    const prior = state.streak;
    state.streak = outcome === "failed" || outcome === "partial" ? prior + 1 : 0;
    return prior;
  }

  /** A run's outcome, verifier, business outcome and failure category, from their joined text. */
  private outcomeOf(text: string): RunOutcome {
    let outcome = this.outcomeTexts.get(text);
    if (outcome === undefined) {
      const [local, verifier, business, category] = detach(text).split("|");
      outcome = { outcome: local || null, verifier: verifier || null, business: business ?? "unknown", category: category || null };
      this.outcomeTexts.set(detach(text), outcome);
    }
    return outcome;
  }

  /** A run's context lessons and rules, from their joined JSON texts. */
  private contextOf(text: string): RunContext {
    let context = this.contexts.get(text);
    if (context === undefined) {
      // Joined by U+001D, which JSON never holds raw (a newline it may: pretty-printed by another writer).
      const separator = text.indexOf("\u001d");
      const lessons = text.slice(0, separator);
      const rules = text.slice(separator + 1);
      context = {
        lessonIds: lessons === "[]" ? NONE : (JSON.parse(lessons) as string[]),
        ruleEntries: rules === "[]" ? NONE : (JSON.parse(rules) as RunContext["ruleEntries"]),
      };
      if (this.contexts.size < PARSE_CACHE_LIMIT) this.contexts.set(detach(text), context);
    }
    return context;
  }

  private parse(json: string): unknown {
    let value = this.parsed.get(json);
    if (value === undefined) {
      value = JSON.parse(json) as unknown;
      if (this.parsed.size < PARSE_CACHE_LIMIT) this.parsed.set(detach(json), value);
    }
    return value;
  }

  /** Finished runs of the window counted (runs of goals not in the database left out). */
  get runs(): number {
    return this.windowRuns;
  }

  /** The window's outcome groups, largest first (as `report learning` lists them). */
  outcomes(): { byGroup: OutcomeGroupRow[]; byGoalType: OutcomeGroupRow[] } {
    const byGroup = [...this.groups.values()].flatMap((byAction) => [...byAction.values()].flatMap((byCategory) => [...byCategory.values()])).sort((a, b) => b.runs - a.runs || compareText(a.goal_type, b.goal_type) || compareText(a.action, b.action) || compareText(a.failure_category, b.failure_category));
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

  /** The kinds of the window's failed and partial runs due a review (they have none), with their reviews' own lesson candidates. */
  failureKindsDue(): ReviewKind[] {
    const kinds: ReviewKind[] = [];
    for (const [goal_type, byAction] of this.ownByKind) {
      for (const [first_action, byCategory] of byAction) for (const [failure_category, own] of byCategory) kinds.push({ goal_type, first_action, failure_category, own_candidates: own.ownCandidates });
    }
    return kinds;
  }

  /** The window's notable successes due a review, in start order. */
  notableSuccessesDue(): readonly DueNotableSuccess[] {
    return this.notables;
  }

  /** Takes the notable successes due a review found so far (a caller that writes them as the scan goes). */
  takeNotableSuccesses(): DueNotableSuccess[] {
    return this.notables.splice(0);
  }

  /** How many runs of the window are due a review, by reason. */
  dueReasons(): { failed: number; partial: number; notable_success: number } {
    return { ...this.dueByReason };
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

/**
 * A copy of a text that the pass keeps (a map's key, a run id in a list). The store's texts are
 * parts of a text of thousands of runs (see ledgerScanOperations.ts), and V8 keeps a part as a
 * view of the whole: one run id kept would keep its 4,096 runs' text alive (at a million runs,
 * 615 MB of RSS). Prepending forces a copy of this one text; the slice is a view of that copy.
 */
function detach(text: string): string {
  return (` ${text}`).slice(1);
}

function newGroup(goalType: string, action: string | null, category: string | null): OutcomeGroupRow {
  return { goal_type: goalType, action, failure_category: category, runs: 0, succeeded: 0, failed: 0, partial: 0, verified_success: 0, improved: 0, neutral: 0, degraded: 0, unknown: 0 };
}

function group(byAction: Map<string | null, Map<string | null, OutcomeGroupRow>>, goalType: string, action: string | null, category: string | null): OutcomeGroupRow {
  const byCategory = innerMap(byAction, action);
  let found = byCategory.get(category);
  if (found === undefined) {
    found = newGroup(goalType, action, category);
    byCategory.set(category, found);
  }
  return found;
}

function count(group: OutcomeGroupRow, outcome: string | null, verified: boolean, business: string): void {
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
