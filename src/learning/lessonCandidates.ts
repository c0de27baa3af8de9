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
import { innerMap } from "./innerMap.js";

export interface CandidateSource {
  runId: string;
  goalType: string;
  /** The run's first action, or "*" when it recorded none. */
  actionType: string;
  failureCategory: string | null;
  businessOutcome: string;
  /** A key result's value changed during the run (see keyResultsMoved). */
  keyResultsMoved: boolean;
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

/**
 * Whether a key result's value changed during a run: one of the values after it differs from the
 * value before (none counts as null). The metrics as stored (JSON); the same text (or none) is no
 * change, without parsing.
 */
export function keyResultsMoved(metricsBefore: string | null, metricsAfter: string | null): boolean {
  if (metricsBefore === metricsAfter || metricsAfter === null) return false;
  const before = (metricsBefore === null ? {} : JSON.parse(metricsBefore)) as Record<string, number | null>;
  const after = JSON.parse(metricsAfter) as Record<string, number | null>;
  return Object.keys(after).some((kr) => (before[kr] ?? null) !== (after[kr] ?? null));
}

export function runImpact(source: Pick<CandidateSource, "businessOutcome" | "keyResultsMoved">): number {
  const business = source.businessOutcome === "improved" || source.businessOutcome === "degraded" ? 1 : 0;
  return 1 + business + (source.keyResultsMoved ? 0.5 : 0);
}

interface ResolvedText {
  fingerprint: string;
  /** Trimmed: the wording as counted. */
  text: string;
  from: "agent" | "review";
  /** The first text of the run with this fingerprint. */
  first: boolean;
}

interface GroupAccumulator {
  group: Omit<LessonCandidateGroup, "text" | "frequency" | "impact" | "score" | "promote">;
  wordings: Map<string, number>;
  impactSum: number;
}

/** Groups candidate sources one at a time (a million runs need not be in memory at once). */
export class CandidateGrouper {
  private readonly groups = new Map<string, GroupAccumulator>();
  private readonly resolved = new WeakMap<CandidateSource["texts"], readonly ResolvedText[]>();
  // The same few texts recur across many runs (reviews derive theirs from the taxonomy): hash once.
  private readonly fingerprints = new Map<string, Map<string, Map<string | null, Map<string, string | null>>>>();

  constructor(private readonly promoteScore: number) {}

  add(source: CandidateSource): void {
    const impact = runImpact(source);
    for (const { fingerprint, text, from, first } of this.resolve(source)) {
      let acc = this.groups.get(fingerprint);
      if (acc === undefined) {
        acc = { group: { fingerprint, goal_type: source.goalType, action_type: source.actionType, failure_category: source.failureCategory, run_ids: [], from_agents: 0, from_reviews: 0 }, wordings: new Map(), impactSum: 0 };
        this.groups.set(fingerprint, acc);
      }
      acc.wordings.set(text, (acc.wordings.get(text) ?? 0) + 1);
      if (from === "agent") acc.group.from_agents++;
      else acc.group.from_reviews++;
      // A run proposing the same lesson twice (its agent's note and its review) counts once.
      if (!first) continue;
      acc.group.run_ids.push(source.runId);
      acc.impactSum += impact;
    }
  }

  /**
   * A source's texts with their fingerprints (null ones left out), `first` on the first of each
   * fingerprint. Kept for a frozen texts list, which many runs share (the reviews of a goal's
   * failures with the same actions and category: the same goal type, action type and category).
   */
  private resolve(source: CandidateSource): readonly ResolvedText[] {
    const shared = Object.isFrozen(source.texts);
    const known = shared ? this.resolved.get(source.texts) : undefined;
    if (known !== undefined) return known;
    const seen = new Set<string>();
    const texts: ResolvedText[] = [];
    for (const { text, from } of source.texts) {
      const fingerprint = this.fingerprintOf(source, text);
      if (fingerprint === null) continue;
      texts.push({ fingerprint, text: text.trim(), from, first: !seen.has(fingerprint) });
      seen.add(fingerprint);
    }
    if (shared) this.resolved.set(source.texts, texts);
    return texts;
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
    // Nested by part: the parts are strings met again and again (V8 keeps a string's hash), where
    // a key joined from them would be a new string to hash for every run.
    const byText = innerMap(innerMap(innerMap(this.fingerprints, source.goalType), source.actionType), source.failureCategory);
    let fingerprint = byText.get(text);
    if (fingerprint === undefined) {
      fingerprint = normaliseLessonText(text) === "" ? null : lessonFingerprint(source.goalType, source.actionType, source.failureCategory, text);
      byText.set(text, fingerprint);
    }
    return fingerprint;
  }
}

export function groupCandidates(sources: Iterable<CandidateSource>, promoteScore: number): LessonCandidateGroup[] {
  const grouper = new CandidateGrouper(promoteScore);
  for (const source of sources) grouper.add(source);
  return grouper.result();
}
