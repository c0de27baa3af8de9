/**
 * A watchdog goal's condition: declarative comparisons of measured numbers, never code.
 * Evaluation is pure and takes two steps so the caller reads the database once:
 * `watchdogNeeds` lists the key results and the (goal, window) run statistics a spec reads, and
 * `evaluateWatchdog` judges the spec against those facts.
 *
 * Rules:
 * - each condition measures one number and compares it with `value`: below (<, strict),
 *   above (>, strict), at_least (>=), at_most (<=);
 * - kr_value is a key result's latest recorded value, kr_progress its progress (0..1); `goal` names
 *   the key result and is required;
 * - run measures count the runs that started within `window` (default 24h) and have finished:
 *   finished_runs, succeeded_runs, failed_runs; failure_rate = failed / finished and
 *   success_rate = succeeded / finished (0..1). Partial runs count as finished but neither as
 *   failed nor as succeeded, so the two rates need not add up to 1. Whose runs: `goal`, by default
 *   the watchdog's parent goal; a watchdog without a parent counts every goal's runs;
 * - a number that is unknown (a key result without a value yet, a rate over zero finished runs,
 *   a fact the caller did not supply) makes its condition "unknown", which never holds: an unknown
 *   never fires a watchdog, and under `when: all` it keeps the watchdog quiet;
 * - `when: any` (the default) fires when one condition holds, `when: all` when every one does.
 */
import type { WatchdogCondition, WatchdogMeasure, WatchdogSpec } from "../spec/types.js";
import { formatInterval, intervalMs } from "../spec/interval.js";

export const DEFAULT_WATCHDOG_WINDOW = "24h";
const DEFAULT_WINDOW_MS = 86_400_000;

/** Finished runs of one goal (or every goal) that started within one window. */
export interface RunCounts {
  finished: number;
  succeeded: number;
  failed: number;
  partial: number;
}

export interface KeyResultFact {
  value: number | null;
  progress: number | null;
}

export interface WatchdogFacts {
  /** By key-result goal id. */
  keyResults: Map<string, KeyResultFact>;
  /** By runWindowKey(goal, windowMs). */
  runs: Map<string, RunCounts>;
}

export interface WatchdogNeeds {
  keyResults: string[];
  /** goal null: every goal's runs. */
  runWindows: { goal: string | null; windowMs: number }[];
}

export interface ConditionVerdict {
  index: number;
  measure: WatchdogMeasure;
  /** The key result, or whose runs (null: every goal). */
  goal: string | null;
  observed: number | null;
  op: WatchdogCondition["op"];
  value: number;
  holds: boolean;
  /** 'failed_runs of goal_X in 1h = 4, at_least 3: holds' */
  text: string;
}

export interface WatchdogVerdict {
  fired: boolean;
  conditions: ConditionVerdict[];
  /** One line saying what fired (or why nothing did): the alert message and the default open-loop description. */
  summary: string;
}

const KR_MEASURES: readonly WatchdogMeasure[] = ["kr_value", "kr_progress"];

/** The key of one (goal, window) entry of `WatchdogFacts.runs`; '*' stands for every goal (goal ids never contain it). */
export function runWindowKey(goal: string | null, windowMs: number): string {
  return `${goal ?? "*"}@${windowMs}`;
}

function isKrMeasure(measure: WatchdogMeasure): boolean {
  return KR_MEASURES.includes(measure);
}

/** The window of a run condition in ms; an interval the schema would reject falls back to 24h. */
function windowOf(condition: WatchdogCondition): number {
  return intervalMs(condition.window ?? DEFAULT_WATCHDOG_WINDOW) ?? DEFAULT_WINDOW_MS;
}

/** Whose runs a run condition counts: its goal, else the watchdog's parent, else every goal (null). */
function runGoalOf(condition: WatchdogCondition, parentGoalId: string | null): string | null {
  return condition.goal ?? parentGoalId;
}

/** The key results and (goal, window) run statistics that evaluating `spec` reads, each once. */
export function watchdogNeeds(spec: WatchdogSpec, parentGoalId: string | null): WatchdogNeeds {
  const keyResults = new Set<string>();
  const runWindows = new Map<string, { goal: string | null; windowMs: number }>();
  for (const condition of spec.conditions) {
    if (isKrMeasure(condition.measure)) {
      if (condition.goal !== undefined) keyResults.add(condition.goal);
      continue;
    }
    const goal = runGoalOf(condition, parentGoalId);
    const windowMs = windowOf(condition);
    runWindows.set(runWindowKey(goal, windowMs), { goal, windowMs });
  }
  return { keyResults: [...keyResults], runWindows: [...runWindows.values()] };
}

/** Whether the watchdog fires, with each condition's observed number and verdict. */
export function evaluateWatchdog(spec: WatchdogSpec, parentGoalId: string | null, facts: WatchdogFacts): WatchdogVerdict {
  const conditions = spec.conditions.map((condition, index) => evaluateCondition(condition, index, parentGoalId, facts));
  const mode = spec.when ?? "any";
  const holding = conditions.filter((c) => c.holds);
  const unknown = conditions.filter((c) => c.observed === null).length;
  const fired = conditions.length > 0 && (mode === "any" ? holding.length > 0 : holding.length === conditions.length);
  return { fired, conditions, summary: summarize(mode, fired, conditions, holding, unknown) };
}

function evaluateCondition(condition: WatchdogCondition, index: number, parentGoalId: string | null, facts: WatchdogFacts): ConditionVerdict {
  const { measure, op, value } = condition;
  let goal: string | null;
  let subject: string;
  let observed: number | null;
  let detail = "";
  if (isKrMeasure(measure)) {
    goal = condition.goal ?? null;
    subject = `${measure} of ${goal ?? "(no key result named)"}`;
    const fact = goal === null ? undefined : facts.keyResults.get(goal);
    observed = fact === undefined ? null : measure === "kr_value" ? fact.value : fact.progress;
    if (observed === null) detail = goal === null ? " (no goal given)" : " (no value recorded)";
  } else {
    goal = runGoalOf(condition, parentGoalId);
    const windowMs = windowOf(condition);
    const declared = condition.window ?? DEFAULT_WATCHDOG_WINDOW;
    subject = `${measure} of ${goal ?? "every goal"} in ${intervalMs(declared) === undefined ? formatInterval(windowMs) : declared}`;
    const counts = facts.runs.get(runWindowKey(goal, windowMs));
    ({ observed, detail } = runMeasure(measure, counts));
  }
  const holds = observed !== null && Number.isFinite(observed) && compare(observed, op, value);
  const verdict = observed === null ? "unknown" : holds ? "holds" : "does not hold";
  const shown = observed === null ? "unknown" : formatNumber(observed);
  return { index, measure, goal, observed, op, value, holds, text: `${subject} = ${shown}${detail}, ${op} ${formatNumber(value)}: ${verdict}` };
}

function runMeasure(measure: WatchdogMeasure, counts: RunCounts | undefined): { observed: number | null; detail: string } {
  if (counts === undefined) return { observed: null, detail: " (no run statistics)" };
  switch (measure) {
    case "finished_runs":
      return { observed: counts.finished, detail: "" };
    case "succeeded_runs":
      return { observed: counts.succeeded, detail: "" };
    case "failed_runs":
      return { observed: counts.failed, detail: "" };
    case "failure_rate":
    case "success_rate": {
      if (counts.finished <= 0) return { observed: null, detail: " (no finished runs)" };
      const part = measure === "failure_rate" ? counts.failed : counts.succeeded;
      return { observed: part / counts.finished, detail: ` (${part} of ${counts.finished} runs)` };
    }
    default:
      return { observed: null, detail: "" };
  }
}

/** below and above are strict; at_least and at_most include the value. */
export function compare(observed: number, op: WatchdogCondition["op"], value: number): boolean {
  switch (op) {
    case "below":
      return observed < value;
    case "above":
      return observed > value;
    case "at_least":
      return observed >= value;
    case "at_most":
      return observed <= value;
  }
}

function summarize(mode: "any" | "all", fired: boolean, conditions: ConditionVerdict[], holding: ConditionVerdict[], unknown: number): string {
  const stripped = (c: ConditionVerdict) => c.text.replace(/: (holds|does not hold|unknown)$/, "");
  if (fired) {
    const what = holding.map(stripped).join("; ");
    if (mode === "all" && conditions.length > 1) return `Watchdog fired: all ${conditions.length} conditions hold: ${what}`;
    return `Watchdog fired: ${what}`;
  }
  const unknownNote = unknown > 0 ? ` (${unknown} unknown)` : "";
  if (mode === "all" && holding.length > 0) {
    const missing = conditions.filter((c) => !c.holds).map((c) => c.text).join("; ");
    return `Watchdog quiet: ${holding.length} of ${conditions.length} conditions hold, not all${unknownNote}: ${missing}`;
  }
  if (conditions.length === 0) return "Watchdog quiet: no conditions";
  return `Watchdog quiet: no condition holds${unknownNote}`;
}

/** Integers as they are, other numbers to at most three decimals. */
function formatNumber(n: number): string {
  return Number.isInteger(n) ? String(n) : String(Math.round(n * 1000) / 1000);
}
