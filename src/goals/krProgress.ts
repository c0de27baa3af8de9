/**
 * Key-result progress and goal health: pure functions of the declared signal, the recorded value
 * and the clock.
 *
 * Progress: how far the value has moved from baseline toward target, in the declared direction,
 * clamped to 0..1 (a value past the target is 1, a value on the wrong side of the baseline is 0).
 *
 * Health (about outcomes, not readiness), from progress against time:
 * - no value recorded yet: unknown;
 * - progress 1 (target reached): on_track;
 * - with a deadline (`time_horizon` a date): expected = share of the time from the goal's creation
 *   to the deadline that has passed. on_track if progress >= expected - 0.10, at_risk if
 *   progress >= expected - 0.25, else off_track; past the deadline short of target: off_track;
 * - without a deadline (`ongoing` or none): on_track at progress >= 0.75, at_risk at >= 0.40,
 *   else off_track.
 * An objective's progress is the mean of its key results' progress (those with a value); its
 * health is the worst of theirs.
 */
export type Health = "on_track" | "at_risk" | "off_track" | "unknown";

export interface KeyResultSignal {
  baseline: number;
  target: number;
  direction: "increase" | "decrease";
}

export function krProgress(signal: KeyResultSignal, value: number): number {
  const span = signal.direction === "increase" ? signal.target - signal.baseline : signal.baseline - signal.target;
  const moved = signal.direction === "increase" ? value - signal.baseline : signal.baseline - value;
  if (span <= 0) return moved >= 0 ? 1 : 0; // a target already at (or behind) the baseline
  return Math.min(1, Math.max(0, moved / span));
}

/** The deadline of a time horizon, or null for 'ongoing' / none. A bare date means the end of that day (UTC). */
export function deadlineOf(timeHorizon: string | null | undefined): Date | null {
  if (timeHorizon === null || timeHorizon === undefined || timeHorizon === "ongoing") return null;
  const date = /^\d{4}-\d{2}-\d{2}$/.test(timeHorizon) ? new Date(`${timeHorizon}T23:59:59.999Z`) : new Date(timeHorizon);
  return Number.isNaN(date.getTime()) ? null : date;
}

export function health(progress: number | null, startedAt: Date, deadline: Date | null, now: Date): Health {
  if (progress === null) return "unknown";
  if (progress >= 1) return "on_track";
  if (deadline === null) return progress >= 0.75 ? "on_track" : progress >= 0.4 ? "at_risk" : "off_track";
  if (now.getTime() >= deadline.getTime()) return "off_track";
  const total = deadline.getTime() - startedAt.getTime();
  const expected = total <= 0 ? 1 : Math.min(1, Math.max(0, (now.getTime() - startedAt.getTime()) / total));
  return progress >= expected - 0.1 ? "on_track" : progress >= expected - 0.25 ? "at_risk" : "off_track";
}

const SEVERITY: Record<Health, number> = { unknown: 0, on_track: 1, at_risk: 2, off_track: 3 };

/** The worst of several healths (unknown only when all are unknown). */
export function worstHealth(healths: readonly Health[]): Health {
  return healths.reduce<Health>((worst, h) => (SEVERITY[h] > SEVERITY[worst] ? h : worst), "unknown");
}
