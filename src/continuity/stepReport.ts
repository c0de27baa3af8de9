/**
 * The steps of a startup reconciliation or a shutdown, as both reports record them: a number, a
 * name, its time, and what it found; and the markdown a person reads.
 */
export interface ReportStep {
  step: number;
  name: string;
  ms: number;
  [detail: string]: unknown;
}

/** Milliseconds since `t0` (a performance.now() reading), to a tenth. */
export function elapsedMs(t0: number): number {
  return Math.round((performance.now() - t0) * 10) / 10;
}

/** Runs one step and appends it, with its time and details, to `steps`. */
export async function runStep<T>(steps: ReportStep[], step: number, name: string, work: () => Promise<[T, Record<string, unknown>]>): Promise<T> {
  const t0 = performance.now();
  const [value, detail] = await work();
  steps.push({ step, name, ms: elapsedMs(t0), ...detail });
  return value;
}

/** One numbered line per step, its details indented under it. */
export function stepsMarkdown(steps: readonly ReportStep[]): string[] {
  const lines: string[] = [];
  for (const { step, name, ms, ...detail } of steps) {
    lines.push(`${step}. **${name}** (${ms} ms)`);
    for (const [key, value] of Object.entries(detail)) {
      if (Array.isArray(value) && value.length === 0) continue;
      lines.push(`   - ${key.replaceAll("_", " ")}: ${describe(value)}`);
    }
  }
  return lines;
}

function describe(value: unknown): string {
  // A listed object says itself in `text` when it has one; else its values, in order.
  if (Array.isArray(value)) return value.map((v) => (typeof v === "object" && v !== null ? ("text" in v ? String(v.text) : Object.values(v).filter((x) => x !== null).join(" ")) : String(v))).join("; ");
  if (typeof value === "object" && value !== null) {
    return Object.entries(value).map(([k, v]) => `${k.replaceAll("_", " ")} ${typeof v === "object" && v !== null ? JSON.stringify(v) : String(v)}`).join(", ") || "none";
  }
  return String(value);
}
