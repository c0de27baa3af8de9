/**
 * After-action reviews in the ledger: one per run (made again, it returns the first), for every
 * failed or partial run and for a notable success, or on request for any finished run.
 */
import { InvalidInputError } from "../errors.js";
import { newPrefixedId } from "../ids.js";
import type { ResolvedConfig } from "../spec/config.js";
import type { AarWrite, AfterActionReviewRecord, GoalOpsStore, GoalRecord, ReviewedRun, ReviewReason } from "../store/types.js";
import { DraftTexts, draftReview } from "./afterActionReview.js";
import type { CandidateRun, DueReview, LedgerPass } from "./ledgerPass.js";
import { BEGINNING, scanLedger } from "./ledgerScan.js";
import { summarize } from "./summarizer.js";

export interface CreatedReview {
  review: AfterActionReviewRecord;
  /** The run already had a review: this is it, unchanged. */
  existing: boolean;
  /** Why the configured summarizer's narrative was not used (the drafted one was). */
  summarizerError?: string;
}

export interface ReviewHooks {
  onBatch?: (candidates: CandidateRun[]) => void;
  onReview?: (entry: DueReview, review: AarWrite, run: ReviewedRun, goal: GoalRecord) => void;
}

/** What a due-review pass made. */
export interface DueReviews {
  made: number;
  byReason: Partial<Record<ReviewReason, number>>;
  /** Reviews whose summarizer failed (their drafted narrative was kept). */
  summarizerErrors: number;
}

/**
 * Runs reviewed per read and per transaction. Small, so that a chunk's runs and drafts die young:
 * with 2,000 they outlived the young generation, and at a million runs the promoted drafts grew
 * the heap to 600 MB between full collections (live data stayed near 100 MB); with 250 the peak
 * RSS is about 300 MB, and the run faster.
 */
const REVIEW_CHUNK = 250;

export class AfterActionReviews {
  constructor(
    private readonly store: GoalOpsStore,
    private readonly config: Pick<ResolvedConfig, "spec" | "root">,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** The review of a finished run: made now, or the one it has. */
  async create(runId: string, reason?: ReviewReason): Promise<CreatedReview> {
    const existing = await this.store.getAar(runId);
    if (existing !== undefined && existing.run_id === runId) return { review: existing, existing: true };
    const run = await this.store.getRun(runId);
    if (run === undefined) throw new InvalidInputError("run.not_found", `no run '${runId}'`, { field: "run_id" });
    if (run.run_state !== "finished") throw new InvalidInputError("aar.run_not_finished", `run ${runId} is ${run.run_state}; a review is made of a finished run`, { field: "run_id" });
    const goal = await this.store.getGoal(run.goal_id);
    if (goal === undefined) throw new InvalidInputError("goal.not_found", `run ${runId}'s goal ${run.goal_id} is not in the database`, { field: "goal_id" });
    const draft = draftReview({
      aarId: newPrefixedId("aar_"),
      run,
      goal,
      reason: reason ?? (run.local_outcome === "failed" || run.local_outcome === "partial" ? run.local_outcome : "manual"),
      priorFailures: await this.store.failureStreakBefore(run.goal_id, run.started_at),
      at: this.now().toISOString(),
    });
    const settings = this.config.spec.learning?.summarizer;
    const summarized = settings === undefined ? { review: draft } : await summarize(draft, settings, this.config.root);
    const stored = await this.store.insertAar(summarized.review);
    return { review: stored.aar, existing: stored.existing, ...(summarized.error !== undefined ? { summarizerError: summarized.error } : {}) };
  }

  /** Reviews every run started in the window that needs one and has none (as `reviewWindow`). */
  async createDue(window: { since: Date; until?: Date }): Promise<DueReviews> {
    const { pass: _pass, ...due } = await this.reviewWindow(window);
    return due;
  }

  /**
   * Reviews every run started in the window that needs one and has none (failed, partial, notable
   * success), as one pass over the ledger finds them (from its beginning: a notable success may
   * follow failures from before the window): written a chunk at a time while the scan goes on,
   * so memory stays bounded however many there are. Returns the pass, for what else it counted.
   * `hooks.onBatch` sees the runs that proposed lessons found before each chunk of reviews,
   * `hooks.onReview` each review drafted, with its run and goal: both in start order.
   */
  async reviewWindow(window: { since: Date; until?: Date }, hooks: ReviewHooks = {}): Promise<DueReviews & { pass: LedgerPass }> {
    const made: DueReviews = { made: 0, byReason: {}, summarizerErrors: 0 };
    const goals = new Map<string, GoalRecord | undefined>();
    const texts = new DraftTexts();
    const at = this.now().toISOString();
    const drain = async (pass: LedgerPass) => {
      hooks.onBatch?.(pass.takeCandidates());
      const due = pass.takeDue();
      for (let start = 0; start < due.length; start += REVIEW_CHUNK) await this.write(due.slice(start, start + REVIEW_CHUNK), { made, goals, texts, at }, hooks.onReview);
    };
    const pass = await scanLedger(
      this.store,
      { from: BEGINNING, since: window.since.toISOString(), until: (window.until ?? this.now()).toISOString(), collect: "due" },
      async (p) => {
        if (p.dueCount >= REVIEW_CHUNK) await drain(p);
      },
    );
    await drain(pass);
    return { ...made, pass };
  }

  /** Drafts and writes one chunk of due reviews (one transaction). */
  private async write(chunk: readonly DueReview[], pass: { made: DueReviews; goals: Map<string, GoalRecord | undefined>; texts: DraftTexts; at: string }, onReview: ReviewHooks["onReview"]): Promise<void> {
    const { made, goals, texts, at } = pass;
    const settings = this.config.spec.learning?.summarizer;
    // Failed and partial runs come with their fields from the scan; notable successes are read.
    const missing = chunk.filter((c) => c.run === undefined).map((c) => c.runId);
    const read = missing.length === 0 ? new Map<string, ReviewedRun>() : new Map((await this.store.runsToReview(missing)).map((r) => [r.run_id, r]));
    const drafts: AarWrite[] = [];
    for (const entry of chunk) {
      const run = entry.run ?? read.get(entry.runId);
      if (run === undefined) continue;
      if (!goals.has(run.goal_id)) goals.set(run.goal_id, await this.store.getGoal(run.goal_id));
      const goal = goals.get(run.goal_id);
      if (goal === undefined) continue;
      const draft = draftReview({ aarId: newPrefixedId("aar_"), run, goal, reason: entry.reason, priorFailures: entry.priorFailures, at }, texts);
      const summarized = settings === undefined ? { review: draft } : await summarize(draft, settings, this.config.root);
      if (summarized.error !== undefined) made.summarizerErrors++;
      drafts.push(summarized.review);
      made.byReason[entry.reason] = (made.byReason[entry.reason] ?? 0) + 1;
      onReview?.(entry, summarized.review, run, goal);
    }
    made.made += await this.store.insertAars(drafts);
  }

  async show(id: string): Promise<AfterActionReviewRecord> {
    const review = await this.store.getAar(id);
    if (review === undefined) throw new InvalidInputError("aar.not_found", `no review '${id}' (give an aar_ id or the run's grun_ id)`, { field: "aar_id" });
    return review;
  }

  list(filter: { goalId?: string; limit?: number } = {}): Promise<AfterActionReviewRecord[]> {
    return this.store.listAars({ ...(filter.goalId !== undefined ? { goalId: filter.goalId } : {}), limit: filter.limit ?? 50 });
  }
}
