/**
 * After-action reviews in the ledger: one per run (made again, it returns the first), for every
 * failed or partial run and for a notable success, or on request for any finished run.
 */
import { InvalidInputError } from "../errors.js";
import type { ResolvedConfig } from "../spec/config.js";
import type { AfterActionReviewRecord, GoalOpsStore, ReviewedGoal, ReviewReason, ReviewWrite, ReviewWriter } from "../store/types.js";
import { ownLessonCandidates, reviewedGoal } from "./afterActionReview.js";
import type { CandidateRun, LedgerPass } from "./ledgerPass.js";
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
  /** The runs that proposed lessons found in the last chunk, a due run's review's own candidates among them, in start order. */
  onBatch?: (candidates: CandidateRun[]) => void;
  /** The scan started over: forget the candidates given so far. */
  onRestart?: () => void;
}

/** What a due-review pass made. */
export interface DueReviews {
  made: number;
  byReason: Partial<Record<ReviewReason, number>>;
  /** Reviews whose summarizer failed (their drafted narrative was kept). */
  summarizerErrors: number;
}

/** Notable successes' reviews sent to the writer at a time. */
const NOTABLES_PER_WRITE = 1000;

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
    const priorFailures = run.local_outcome === "succeeded" ? await this.store.failureStreakBefore(run.goal_id, run.started_at) : 0;
    const notable = priorFailures >= 2 ? { priorFailures, plan: run.plan_summary, actions: run.actions_taken } : null;
    await this.store.insertReviews([
      {
        run_id: run.run_id,
        review_reason: reason ?? (run.local_outcome === "failed" || run.local_outcome === "partial" ? run.local_outcome : "manual"),
        prior_failures: priorFailures,
        goal: reviewedGoal(goal),
        own_candidates: ownLessonCandidates(goal.goal_type, run.actions_taken, run.failure_category ?? null, notable),
        created_at: this.now().toISOString(),
      },
    ]);
    const { review, summarizerError } = await this.summarized(run.run_id);
    return { review, existing: false, ...(summarizerError !== undefined ? { summarizerError } : {}) };
  }

  /** Reviews every run started in the window that needs one and has none (as `reviewWindow`). */
  async createDue(window: { since: Date; until?: Date }): Promise<DueReviews> {
    const { pass: _pass, ...due } = await this.reviewWindow(window);
    return due;
  }

  /**
   * Reviews every run started in the window that needs one and has none (failed, partial, notable
   * success), as one pass over the ledger finds them (from its beginning: a notable success may
   * follow failures from before the window). The store writes the reviews meanwhile (see
   * GoalOpsStore.startReviewWrite): the failed and partial runs' by one statement, the notable
   * successes' as the pass finds them; their kinds' lesson candidates are stored after the pass.
   * With a summarizer, each review made is then given to it. Returns the pass, for what else it
   * counted. `hooks.onBatch` sees the runs that proposed lessons, chunk by chunk.
   */
  async reviewWindow(window: { since: Date; until?: Date }, hooks: ReviewHooks = {}): Promise<DueReviews & { pass: LedgerPass }> {
    const at = this.now().toISOString();
    const since = window.since.toISOString();
    const until = (window.until ?? this.now()).toISOString();
    // The reviews are written while the pass reads the ledger (the store may do it in another
    // thread): the failed and partial runs' at once (they need only their goals; the window's
    // existing reviews are read before, so the pass counts the same runs due), the notable
    // successes' a thousand at a time as the pass finds them.
    const goals = new Map<string, ReviewedGoal>();
    let writer: ReviewWriter | undefined;
    let notables: ReviewWrite[] = [];
    let sent: string[] = [];
    const send = (pass: LedgerPass, least: number) => {
      for (const due of pass.takeNotableSuccesses()) {
        const goal = goals.get(due.goalId);
        if (goal !== undefined) notables.push({ run_id: due.runId, review_reason: "notable_success", prior_failures: due.priorFailures, goal, own_candidates: due.ownCandidates, created_at: at });
      }
      if (notables.length < least || writer === undefined) return;
      writer.add(notables);
      for (const n of notables) sent.push(n.run_id);
      notables = [];
    };
    let pass: LedgerPass;
    let made: number;
    try {
      pass = await scanLedger(this.store, { from: BEGINNING, since, until, collect: "due" }, {
        beforeScan: async () => {
          for (const goal of await this.store.goalsToReview()) goals.set(goal.goal_id, reviewedGoal(goal));
          writer = this.store.startReviewWrite({ since, until }, [...goals.values()], at);
        },
        afterChunk: (p) => {
          hooks.onBatch?.(p.takeCandidates());
          send(p, NOTABLES_PER_WRITE);
        },
        onRestart: () => {
          // The notable successes found so far were found in a wrong order: take them back.
          writer?.discard(sent);
          sent = [];
          notables = [];
          hooks.onRestart?.();
        },
      });
      hooks.onBatch?.(pass.takeCandidates());
      send(pass, 1);
      const kinds = pass.failureKindsDue();
      if (kinds.length > 0) await this.store.saveReviewKinds(kinds);
      made = writer === undefined ? 0 : await writer.finish();
    } catch (error) {
      // The writer waits for more until finish (in a worker, which would keep the process alive): stop it.
      (writer as ReviewWriter | undefined)?.abort();
      throw error;
    }

    // By reason as the pass found them (a run that finished after the scan read is reviewed next time).
    const byReason: DueReviews["byReason"] = {};
    for (const [reason, count] of Object.entries(pass.dueReasons())) if (count > 0) byReason[reason as ReviewReason] = count;
    let summarizerErrors = 0;
    if (this.config.spec.learning?.summarizer !== undefined) {
      for (const runId of await this.store.templateReviewsAt(at)) if ((await this.summarized(runId)).summarizerError !== undefined) summarizerErrors++;
    }
    return { made, byReason, summarizerErrors, pass };
  }

  /** A run's review as stored, given to the configured summarizer (if any) and stored with its answer. */
  private async summarized(runId: string): Promise<{ review: AfterActionReviewRecord; summarizerError?: string }> {
    const review = (await this.store.getAar(runId)) as AfterActionReviewRecord;
    const settings = this.config.spec.learning?.summarizer;
    if (settings === undefined) return { review };
    const answer = await summarize(review, settings, this.config.root);
    if (answer.error !== undefined) return { review, summarizerError: answer.error };
    return { review: (await this.store.setReviewNarrative(runId, answer.narrative, "summarizer")) ?? review };
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
