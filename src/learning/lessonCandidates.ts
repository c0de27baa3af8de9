/**
 * Lesson candidates (PRD section 11, step 4): the lessons agents and reviews propose, grouped by a
 * fingerprint so that the same lesson said twice counts twice, and scored frequency x impact.
 * Pure: candidate sources in, scored groups out.
 *
 * - Fingerprint: goal type, action type, failure category and the normalised text (lower case;
 *   goalops ids, numbers and punctuation removed; spaces collapsed), hashed.
 * - Frequency: the distinct runs that proposed it (a run proposing it twice, as its agent's note
 *   and in its review, counts once).
 * - Impact of a run: 1, plus 1 if its business outcome is known to have moved (improved or
 *   degraded), plus 0.5 if a key result's value changed during the run. A group's impact is the
 *   mean over its runs; its score is frequency x impact.
 * - A group whose score reaches `learning.promote_score` (default 3) is proposed as a lesson.
 */
import { createHash } from "node:crypto";
import type { ReviewedRun } from "../store/types.js";

export interface CandidateSource {
  runId: string;
  goalType: string;
  /** The run's first action, or "*" when it recorded none. */
  actionType: string;
  failureCategory: string | null;
  businessOutcome: string;
  metricsBefore: Record<string, number | null> | null;
  metricsAfter: Record<string, number | null> | null;
  /** The agent's own lesson candidates, then its review's. */
  texts: readonly { text: string; from: "agent" | "review" }[];
}

export interface LessonCandidateGroup {
  fingerprint: string;
  goal_type: string;
  action_type: string;
  failure_category: string | null;
  /** The wording proposed most often (the earliest among equals). */
  text: string;
  run_ids: string[];
  frequency: number;
  impact: number;
  score: number;
  from_agents: number;
  from_reviews: number;
  /** The score reached the promotion threshold. */
  promote: boolean;
}

const ID_PATTERN = /\b(?:goal|les|rule|grun|aar|loop|lcr)_[0-9a-z]{26}\b/g;

export function normaliseLessonText(text: string): string {
  return text
    .toLowerCase()
    .replace(ID_PATTERN, " ")
    .replace(/[0-9]+(?:[.,][0-9]+)*/g, "#")
    .replace(/[^\p{L}#]+/gu, " ")
    .trim()
    .replace(/\s+/g, " ");
}

export function lessonFingerprint(goalType: string, actionType: string, failureCategory: string | null, text: string): string {
  return createHash("sha256").update(JSON.stringify([goalType, actionType, failureCategory ?? "", normaliseLessonText(text)])).digest("hex").slice(0, 16);
}

/** A run's candidate source (the learning cycle's, for the reviews it writes). */
export function candidateSource(run: Pick<ReviewedRun, "run_id" | "actions_taken" | "failure_category" | "business_outcome" | "metrics_before" | "metrics_after">, goalType: string, texts: CandidateSource["texts"]): CandidateSource {
  return {
    runId: run.run_id,
    goalType,
    actionType: run.actions_taken[0] ?? "*",
    failureCategory: run.failure_category ?? null,
    businessOutcome: run.business_outcome,
    metricsBefore: run.metrics_before,
    metricsAfter: run.metrics_after,
    texts,
  };
}

export function runImpact(source: Pick<CandidateSource, "businessOutcome" | "metricsBefore" | "metricsAfter">): number {
  const business = source.businessOutcome === "improved" || source.businessOutcome === "degraded" ? 1 : 0;
  const before = source.metricsBefore ?? {};
  const after = source.metricsAfter ?? {};
  const moved = Object.keys(after).some((kr) => (before[kr] ?? null) !== (after[kr] ?? null));
  return 1 + business + (moved ? 0.5 : 0);
}

interface GroupAccumulator {
  group: Omit<LessonCandidateGroup, "text" | "frequency" | "impact" | "score" | "promote">;
  wordings: Map<string, number>;
  impactSum: number;
}

/** Groups candidate sources one at a time (a million runs need not be in memory at once). */
export class CandidateGrouper {
  private readonly groups = new Map<string, GroupAccumulator>();
  // The same few texts recur across many runs (reviews derive theirs from the taxonomy): hash once.
  private readonly fingerprints = new Map<string, string | null>();

  constructor(private readonly promoteScore: number) {}

  add(source: CandidateSource): void {
    const impact = runImpact(source);
    const seenThisRun = new Set<string>();
    for (const { text, from } of source.texts) {
      const fingerprint = this.fingerprintOf(source, text);
      if (fingerprint === null) continue;
      let acc = this.groups.get(fingerprint);
      if (acc === undefined) {
        acc = { group: { fingerprint, goal_type: source.goalType, action_type: source.actionType, failure_category: source.failureCategory, run_ids: [], from_agents: 0, from_reviews: 0 }, wordings: new Map(), impactSum: 0 };
        this.groups.set(fingerprint, acc);
      }
      acc.wordings.set(text.trim(), (acc.wordings.get(text.trim()) ?? 0) + 1);
      if (from === "agent") acc.group.from_agents++;
      else acc.group.from_reviews++;
      if (seenThisRun.has(fingerprint)) continue;
      seenThisRun.add(fingerprint);
      acc.group.run_ids.push(source.runId);
      acc.impactSum += impact;
    }
  }

  /** The groups, highest score first; `promote` marks those at the threshold. */
  result(): LessonCandidateGroup[] {
    const out: LessonCandidateGroup[] = [];
    for (const { group, wordings, impactSum } of this.groups.values()) {
      const frequency = group.run_ids.length;
      const impact = impactSum / frequency;
      const score = frequency * impact;
      const text = [...wordings].reduce((best, w) => (w[1] > best[1] ? w : best))[0];
      out.push({ ...group, text, frequency, impact: Math.round(impact * 100) / 100, score: Math.round(score * 100) / 100, promote: score >= this.promoteScore });
    }
    return out.sort((a, b) => b.score - a.score || a.fingerprint.localeCompare(b.fingerprint));
  }

  private fingerprintOf(source: CandidateSource, text: string): string | null {
    const key = `${source.goalType}\0${source.actionType}\0${source.failureCategory ?? ""}\0${text}`;
    let fingerprint = this.fingerprints.get(key);
    if (fingerprint === undefined) {
      fingerprint = normaliseLessonText(text) === "" ? null : lessonFingerprint(source.goalType, source.actionType, source.failureCategory, text);
      this.fingerprints.set(key, fingerprint);
    }
    return fingerprint;
  }
}

export function groupCandidates(sources: Iterable<CandidateSource>, promoteScore: number): LessonCandidateGroup[] {
  const grouper = new CandidateGrouper(promoteScore);
  for (const source of sources) grouper.add(source);
  return grouper.result();
}
