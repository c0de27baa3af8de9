// Small statistics and formatting shared by the benchmark's parts.

export function median(values) {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** Median, min and max of samples (min is the best time or the slowest rate, as each caller reads it). */
export function summary(samples) {
  return { median: median(samples), min: Math.min(...samples), max: Math.max(...samples), samples };
}

export const fmtInt = (n) => Math.round(n).toLocaleString("en-US");
