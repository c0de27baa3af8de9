/**
 * The optional `learning.summarizer`: a command of the user's (a model behind a script, say) that
 * receives a drafted review as JSON on stdin and may answer, as JSON on stdout, better narrative
 * for its text fields. It runs without a shell and with a time limit; whatever goes wrong, the
 * drafted review stands and the cycle goes on.
 */
import { intervalMs } from "../spec/interval.js";
import type { ConfigSpec } from "../spec/types.js";
import type { AfterActionReviewRecord, ReviewNarrative } from "../store/types.js";

const TEXT_FIELDS = ["what_happened", "intended", "actual", "difference", "root_cause_detail", "impact"] as const;
const LIST_FIELDS = ["sustain", "improve", "recommended_changes"] as const;

export type SummarizerSettings = NonNullable<NonNullable<ConfigSpec["learning"]>["summarizer"]>;

/**
 * The summarizer's narrative for a review (the texts it answered), or why it is not used.
 * Runs in the repository root, so a relative command or argument means a file of the repository.
 */
export async function summarize(draft: AfterActionReviewRecord, settings: SummarizerSettings, cwd: string): Promise<{ narrative: ReviewNarrative; error?: undefined } | { error: string }> {
  const timeout = intervalMs(settings.timeout ?? "30s") ?? 30_000;
  let stdout: string;
  try {
    // Loaded here: most commands that open the library never summarize, and execa is slow to load.
    const { execa } = await import("execa");
    const result = await execa(settings.command, settings.args ?? [], { cwd, input: JSON.stringify(draft), timeout, reject: false, stripFinalNewline: true });
    if (result.timedOut) return { error: `the summarizer took longer than ${settings.timeout ?? "30s"}` };
    if (result.exitCode !== 0) return { error: `the summarizer exited with ${result.exitCode ?? result.signal}: ${String(result.stderr).slice(0, 300)}` };
    stdout = String(result.stdout);
  } catch (error) {
    return { error: `the summarizer could not run: ${(error as Error).message}` };
  }
  let answer: unknown;
  try {
    answer = JSON.parse(stdout);
  } catch {
    return { error: "the summarizer's output is not JSON" };
  }
  if (answer === null || typeof answer !== "object" || Array.isArray(answer)) return { error: "the summarizer's output is not a JSON object" };
  const fields = answer as Record<string, unknown>;
  const narrative: Record<string, string | string[]> = {};
  for (const name of TEXT_FIELDS) {
    const value = fields[name];
    if (value === undefined) continue;
    if (typeof value !== "string" || value.length > 20_000) return { error: `the summarizer's '${name}' is not a string (of at most 20,000 characters)` };
    narrative[name] = value;
  }
  for (const name of LIST_FIELDS) {
    const value = fields[name];
    if (value === undefined) continue;
    if (!Array.isArray(value) || value.length > 50 || value.some((v) => typeof v !== "string")) return { error: `the summarizer's '${name}' is not a list of strings` };
    narrative[name] = value as string[];
  }
  return { narrative: narrative as ReviewNarrative };
}
