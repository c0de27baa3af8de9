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

/** The rows of a part as the markdown table the report prints: median, min, max, detail, target, met. */
export function measurementTable(rows, formatValue) {
  const out = ["| measurement | median | min | max | detail | target | met? |", "|---|---:|---:|---:|---|---|---|"];
  for (const row of rows) {
    const single = row.samples?.length === 1;
    out.push(`| ${row.label} | ${formatValue(row, row.median)} | ${single ? "-" : formatValue(row, row.min)} | ${single ? "-" : formatValue(row, row.max)} | ${row.detail || "-"} | ${row.target ?? "-"} | ${row.met === null ? "-" : row.met ? "yes" : "**no**"} |`);
  }
  return out;
}
