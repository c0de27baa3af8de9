/**
 * Lessons at run time: each lesson file's definition with what the ledger says of it, and the
 * candidates that could become lessons.
 *
 * Evidence: a run whose context held the lesson validates it when it succeeded (and its verifier
 * did not reject it), and contradicts it when it failed or ended partial (with the lesson's
 * failure category, when the lesson names one). Every verdict points at its run (lineage).
 *
 * Confidence: (validated + 2 x prior) / (validated + contradicted + 2), the prior being the
 * confidence the file declares (0.5 if none): with no evidence it is the prior; each validation
 * raises it and each contradiction lowers it, and evidence outweighs the prior as it accumulates.
 *
 * Stale: a lesson past its `review_by` date with no validation on or after that date; one
 * validation re-confirms it.
 */
import { InvalidInputError } from "../errors.js";
import type { ResolvedConfig } from "../spec/config.js";
import type { GoalOpsStore, LessonEvidenceCounts, LessonEvidenceRow, LessonRow } from "../store/types.js";
import { CandidateGrouper, type LessonCandidateGroup } from "./lessonCandidates.js";
import { scanLedger, scanLessonEvidence } from "./ledgerScan.js";

export interface LessonStanding extends LessonRow {
  times_applied: number;
  times_validated: number;
  times_contradicted: number;
  /** By the confidence rule above. */
  current_confidence: number;
  last_validated_at: string | null;
  stale: boolean;
}

export interface LessonDetail extends LessonStanding {
  /** The runs behind the counts, newest first. */
  evidence: LessonEvidenceRow[];
}

export function confidenceOf(validated: number, contradicted: number, prior: number | null): number {
  return (validated + 2 * (prior ?? 0.5)) / (validated + contradicted + 2);
}

export class Lessons {
  constructor(
    private readonly store: GoalOpsStore,
    private readonly config: Pick<ResolvedConfig, "spec">,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** `counts`: the evidence of a ledger pass over every run already made (the learning cycle's). */
  async list(options: { includeArchived?: boolean; counts?: ReadonlyMap<string, LessonEvidenceCounts> } = {}): Promise<LessonStanding[]> {
    const lessons = await this.store.listLessons({ includeArchived: options.includeArchived ?? false });
    const counts = options.counts ?? (await scanLessonEvidence(this.store)).lessonCounts();
    return lessons.map((l) => this.standing(l, counts.get(l.lesson_id) ?? noEvidence(l.lesson_id)));
  }

  async show(lessonId: string): Promise<LessonDetail> {
    const lesson = (await this.store.listLessons({ includeArchived: true })).find((l) => l.lesson_id === lessonId);
    if (lesson === undefined) throw new InvalidInputError("lesson.not_found", `no lesson '${lessonId}' in the database; run 'goalops sync' if its file is new`, { field: "lesson_id" });
    // The pass that lists the lesson's evidence has counted it too.
    const pass = await scanLessonEvidence(this.store, lessonId);
    return { ...this.standing(lesson, pass.lessonCounts().get(lessonId) ?? noEvidence(lessonId)), evidence: pass.evidence() };
  }

  /** Lesson candidates of the runs in the window, scored; `promote` marks those at learning.promote_score. */
  async candidates(window: { since: Date; until?: Date }): Promise<LessonCandidateGroup[]> {
    const pass = await scanLedger(this.store, { since: window.since.toISOString(), until: (window.until ?? this.now()).toISOString(), collect: "candidates" });
    const grouper = this.grouper();
    for (const { source } of pass.candidates()) grouper.add(source);
    return grouper.result();
  }

  /** An empty grouper with the configured promotion score. */
  grouper(): CandidateGrouper {
    return new CandidateGrouper(this.config.spec.learning?.promote_score ?? 3);
  }

  private standing(lesson: LessonRow, counts: LessonEvidenceCounts): LessonStanding {
    const lastValidated = counts.last_validated_at;
    const today = this.now().toISOString().slice(0, 10);
    const stale = lesson.review_by !== null && lesson.review_by < today && (lastValidated === null || lastValidated.slice(0, 10) < lesson.review_by);
    return {
      ...lesson,
      times_applied: counts.applied,
      times_validated: counts.validated,
      times_contradicted: counts.contradicted,
      current_confidence: Math.round(confidenceOf(counts.validated, counts.contradicted, lesson.confidence) * 1000) / 1000,
      last_validated_at: lastValidated,
      stale,
    };
  }
}

function noEvidence(lessonId: string): LessonEvidenceCounts {
  return { lesson_id: lessonId, applied: 0, validated: 0, contradicted: 0, last_validated_at: null };
}
