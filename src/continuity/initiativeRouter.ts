/**
 * The initiative router: selects the next work toward active key results (PRD: "Selects and
 * dispatches work toward active KRs"). A pure function of plain data; the caller reads goals,
 * key results and run counts, and dispatches the first of the ranking.
 *
 * Which key results a goal serves: its parent when the parent is a key result; otherwise (the
 * parent is an objective) the key results under that parent. Only key results in status active count.
 *
 * A goal is a candidate when it is an initiative or an experiment. A candidate is excluded, with
 * the first reason that applies, in this order, when:
 * 1. its goal type is neither initiative nor experiment;
 * 2. its status is not active;
 * 3. a dependency is not completed;
 * 4. it serves no active key result (no parent, no key result under its parent, or none of them active);
 * 5. no dispatch command is configured for it;
 * 6. it allows none of the agent's capabilities (only when the agent's capabilities are known).
 *    Capabilities match when equal, or when one side ends in '*' and the other starts with what
 *    precedes it: '*' matches everything, 'crm.*' matches 'crm.update'. A goal that declares no
 *    allowed_capabilities allows none;
 * 7. a machine-readable constraint is reached. Constraints are free text; two forms are enforced,
 *    case-insensitive, spaces optional, the whole constraint being the form:
 *    `max_runs_per_day: N` (excluded once N runs started in the last 24 hours) and
 *    `max_concurrent_runs: N` (excluded while N runs are in flight; default 1, so runs of one goal
 *    never overlap). When a form appears twice the smaller N wins.
 *
 * The rest are ranked by, in order:
 * 1. the worst health of the key results it serves: off_track, at_risk, unknown, on_track
 *    (unknown ranks before on_track: an unmeasured key result may need the work);
 * 2. priority, 1 (critical) first;
 * 3. the lowest progress of the key results it serves (a key result without a value counts as 0);
 * 4. the least recently run (never run first);
 * 5. goal id, so the order is stable.
 */
import type { Health } from "../goals/krProgress.js";

export interface RouterCandidate {
  goalId: string;
  goalType: string;
  /** Runtime status: active, ready, blocked, ... */
  status: string;
  /** 1 critical .. 5 low. */
  priority: number;
  parentGoalId: string | null;
  /** Every dependency completed. */
  dependenciesMet: boolean;
  allowedCapabilities: string[];
  constraints: string[];
  /** A dispatch command is configured for it. */
  hasCommand: boolean;
  /** Its runs running right now. */
  inFlight: number;
  /** Its runs started in the last 24 hours. */
  runsToday: number;
  /** ISO time of its last run start, null when never run. */
  lastRunAt: string | null;
}

export interface RouterKeyResult {
  goalId: string;
  status: string;
  health: Health;
  progress: number | null;
  parentGoalId: string | null;
}

export interface RouterInput {
  candidates: RouterCandidate[];
  keyResults: RouterKeyResult[];
  /** The dispatching agent's capabilities; null: any. */
  agentCapabilities: string[] | null;
}

export interface RankedCandidate {
  goalId: string;
  /** The active key results it serves. */
  serves: string[];
  /** The worst health among them. */
  health: Health;
  priority: number;
  /** The lowest progress among them (no value counts as 0). */
  progress: number;
  lastRunAt: string | null;
  /** One sentence explaining its rank. */
  reason: string;
}

export interface RouterExclusion {
  goalId: string;
  reason: string;
}

export interface RouterResult {
  ranked: RankedCandidate[];
  excluded: RouterExclusion[];
}

export const ROUTED_GOAL_TYPES: readonly string[] = ["initiative", "experiment"];

/** Lower is more urgent. */
export const HEALTH_URGENCY: Record<Health, number> = { off_track: 0, at_risk: 1, unknown: 2, on_track: 3 };

/** The key results a goal serves, in any status: its parent if that is a key result, else the key results under its parent. */
export function servedKeyResults(parentGoalId: string | null, keyResults: readonly RouterKeyResult[]): RouterKeyResult[] {
  if (parentGoalId === null) return [];
  const parent = keyResults.find((kr) => kr.goalId === parentGoalId);
  if (parent !== undefined) return [parent];
  return keyResults.filter((kr) => kr.parentGoalId === parentGoalId);
}

/** Whether two capability names match: equal, or one ends in '*' and the other starts with the rest. */
export function capabilityMatches(a: string, b: string): boolean {
  if (a === b) return true;
  if (a.endsWith("*") && b.startsWith(a.slice(0, -1))) return true;
  return b.endsWith("*") && a.startsWith(b.slice(0, -1));
}

/** The limits a goal's constraints state in the two machine-readable forms. */
export interface ConstraintLimits {
  /** null: no daily limit. */
  maxRunsPerDay: number | null;
  maxConcurrentRuns: number;
}

const LIMIT_FORM = /^\s*(max_runs_per_day|max_concurrent_runs)\s*:\s*(\d+)\s*$/i;

/** Reads `max_runs_per_day: N` and `max_concurrent_runs: N` from free-text constraints (default: no daily limit, one at a time). */
export function constraintLimits(constraints: readonly string[]): ConstraintLimits {
  let maxRunsPerDay: number | null = null;
  let maxConcurrentRuns: number | null = null;
  for (const text of constraints) {
    const match = LIMIT_FORM.exec(text);
    if (match === null) continue;
    const n = Number(match[2]);
    if (match[1]?.toLowerCase() === "max_runs_per_day") maxRunsPerDay = Math.min(maxRunsPerDay ?? n, n);
    else maxConcurrentRuns = Math.min(maxConcurrentRuns ?? n, n);
  }
  return { maxRunsPerDay, maxConcurrentRuns: maxConcurrentRuns ?? 1 };
}

interface Eligible {
  candidate: RouterCandidate;
  serves: string[];
  health: Health;
  progress: number;
  lastRunMs: number;
}

/** Ranks the candidates that may run now and says why each other one may not. */
export function routeInitiatives(input: RouterInput): RouterResult {
  const excluded: RouterExclusion[] = [];
  const eligible: Eligible[] = [];
  for (const candidate of input.candidates) {
    const served = servedKeyResults(candidate.parentGoalId, input.keyResults);
    const reason = exclusionReason(candidate, served, input.agentCapabilities);
    if (reason !== null) {
      excluded.push({ goalId: candidate.goalId, reason });
      continue;
    }
    const active = served.filter((kr) => kr.status === "active");
    eligible.push({
      candidate,
      serves: active.map((kr) => kr.goalId),
      health: active.map((kr) => kr.health).reduce((worst, h) => (HEALTH_URGENCY[h] < HEALTH_URGENCY[worst] ? h : worst)),
      progress: Math.min(...active.map((kr) => kr.progress ?? 0)),
      lastRunMs: lastRunMs(candidate.lastRunAt),
    });
  }
  eligible.sort((a, b) => {
    const key = decidingKey(a, b);
    return key === null ? 0 : key.order;
  });
  const ranked = eligible.map((entry, i) => ({
    goalId: entry.candidate.goalId,
    serves: entry.serves,
    health: entry.health,
    priority: entry.candidate.priority,
    progress: entry.progress,
    lastRunAt: entry.candidate.lastRunAt,
    reason: rankReason(eligible, i),
  }));
  return { ranked, excluded };
}

function exclusionReason(candidate: RouterCandidate, served: RouterKeyResult[], agentCapabilities: string[] | null): string | null {
  if (!ROUTED_GOAL_TYPES.includes(candidate.goalType)) return `is a ${candidate.goalType} goal: only initiatives and experiments are routed`;
  if (candidate.status !== "active") return `is ${candidate.status}, not active`;
  if (!candidate.dependenciesMet) return "waits on a dependency that is not completed";
  if (candidate.parentGoalId === null) return "has no parent, so it serves no key result";
  if (served.length === 0) return `serves no key result: its parent ${candidate.parentGoalId} is not a key result and has none under it`;
  if (!served.some((kr) => kr.status === "active")) {
    return `serves no active key result (${served.map((kr) => `${kr.goalId} is ${kr.status}`).join(", ")})`;
  }
  if (!candidate.hasCommand) return "has no dispatch command configured";
  if (agentCapabilities !== null && !candidate.allowedCapabilities.some((a) => agentCapabilities.some((c) => capabilityMatches(a, c)))) {
    const agent = agentCapabilities.length === 0 ? "none" : agentCapabilities.join(", ");
    return candidate.allowedCapabilities.length === 0
      ? `declares no allowed_capabilities, and the agent is limited to theirs (${agent})`
      : `allows none of the agent's capabilities (allows ${candidate.allowedCapabilities.join(", ")}; the agent has ${agent})`;
  }
  const limits = constraintLimits(candidate.constraints);
  if (limits.maxRunsPerDay !== null && candidate.runsToday >= limits.maxRunsPerDay) {
    return `reached max_runs_per_day: ${limits.maxRunsPerDay} (${plural(candidate.runsToday, "run")} started in the last 24h)`;
  }
  if (candidate.inFlight >= limits.maxConcurrentRuns) {
    const declared = candidate.constraints.some((c) => LIMIT_FORM.exec(c)?.[1]?.toLowerCase() === "max_concurrent_runs");
    return `has ${plural(candidate.inFlight, "run")} in flight, at max_concurrent_runs: ${limits.maxConcurrentRuns}${declared ? "" : " (the default: runs do not overlap)"}`;
  }
  return null;
}

function lastRunMs(lastRunAt: string | null): number {
  if (lastRunAt === null) return Number.NEGATIVE_INFINITY;
  const ms = Date.parse(lastRunAt);
  return Number.isNaN(ms) ? Number.NEGATIVE_INFINITY : ms;
}

/** The first ranking key on which a and b differ: order < 0 puts a first. */
function decidingKey(a: Eligible, b: Eligible): { order: number; text: string } | null {
  const pct = (p: number) => `${Math.round(p * 100)}%`;
  const when = (e: Eligible) => e.candidate.lastRunAt ?? "never";
  if (HEALTH_URGENCY[a.health] !== HEALTH_URGENCY[b.health]) {
    return { order: HEALTH_URGENCY[a.health] - HEALTH_URGENCY[b.health], text: `on health (${a.health} vs ${b.health})` };
  }
  if (a.candidate.priority !== b.candidate.priority) {
    return { order: a.candidate.priority - b.candidate.priority, text: `on priority (${a.candidate.priority} vs ${b.candidate.priority})` };
  }
  if (a.progress !== b.progress) return { order: a.progress - b.progress, text: `on progress (${pct(a.progress)} vs ${pct(b.progress)})` };
  if (a.lastRunMs !== b.lastRunMs) return { order: a.lastRunMs < b.lastRunMs ? -1 : 1, text: `on last run (${when(a)} vs ${when(b)})` };
  if (a.candidate.goalId !== b.candidate.goalId) return { order: a.candidate.goalId < b.candidate.goalId ? -1 : 1, text: "on goal id (tied on everything else)" };
  return null;
}

function rankReason(ranked: Eligible[], i: number): string {
  const entry = ranked[i] as Eligible;
  const c = entry.candidate;
  const about = `serves ${entry.serves.join(", ")} (${entry.health}, progress ${Math.round(entry.progress * 100)}%), priority ${c.priority}, ${c.lastRunAt === null ? "never run" : `last run ${c.lastRunAt}`}`;
  const head = `#${i + 1} of ${ranked.length}: ${about}`;
  if (ranked.length === 1) return `${head}; the only eligible candidate`;
  const previous = ranked[i - 1];
  const next = ranked[i + 1];
  if (previous === undefined && next !== undefined) {
    const key = decidingKey(entry, next);
    return `${head}; ahead of ${next.candidate.goalId} ${key?.text ?? "(same goal id)"}`;
  }
  if (previous !== undefined) {
    const key = decidingKey(entry, previous);
    return `${head}; behind ${previous.candidate.goalId} ${key?.text ?? "(same goal id)"}`;
  }
  return head;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}
