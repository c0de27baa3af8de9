/** Intervals as goalops.yaml and the CLI write them: a number and a unit, s, m, h, d or w ('30s', '5m', '7d'). */
const UNIT_MS = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 } as const;

/** Milliseconds of an interval such as '5m', or undefined if it is not one. */
export function intervalMs(text: string): number | undefined {
  const match = /^(\d{1,9})(s|m|h|d|w)$/.exec(text);
  return match === null ? undefined : Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS];
}

/** An interval as goalops.yaml writes it, in the largest unit that divides it ('1h', '90m', '7d'); the inverse of intervalMs. */
export function formatInterval(ms: number): string {
  for (const unit of ["w", "d", "h", "m"] as const) {
    if (ms >= UNIT_MS[unit] && ms % UNIT_MS[unit] === 0) return `${ms / UNIT_MS[unit]}${unit}`;
  }
  return `${Math.round(ms / 1000)}s`;
}

/**
 * The start of a window reaching back `since` (default: learning.since in goalops.yaml, else 7d)
 * from `now`, or undefined when `since` is not an interval. The CLI's --since and the API's
 * ?since= mean the same.
 */
export function windowStart(since: string | undefined, configured: string | undefined, now: Date = new Date()): Date | undefined {
  const ms = intervalMs(since ?? configured ?? "7d");
  return ms === undefined ? undefined : new Date(now.getTime() - ms);
}
