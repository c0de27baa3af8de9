/**
 * The context an agent pastes into its prompt for a goal: the goal and its chain up to the
 * objective, key-result progress, the lessons and playbook rules that apply, and its open loops.
 * Short and stable: the same state gives the same text, in the same order.
 */
import { InvalidInputError } from "../errors.js";
import { inCanary } from "../runs/canary.js";
import type { GoalOpsStore, GoalRecord, OpenLoopRecord } from "../store/types.js";
import type { KeyResultSummary, KeyResultTracker } from "./krTracker.js";

export interface AgentContext {
  goal: { goal_id: string; goal_type: string; title: string; description: string | null; status: string; owner_agent: string; priority: number; success_metrics: string[]; constraints: string[]; allowed_capabilities: string[]; time_horizon: string | null };
  /** From the goal's parent up to the top (usually the objective). */
  chain: { goal_id: string; goal_type: string; title: string; status: string }[];
  keyResults: KeyResultSummary[];
  lessons: { lesson_id: string; action_type: string; lesson_text: string }[];
  /** Rules in full mode, and canary rules this run draws; never shadow rules. */
  rules: { rule_id: string; title: string; activation_mode: "canary" | "full"; rule_text: string }[];
  openLoops: { loop_id: string; kind: string; description: string; due_at: string | null }[];
  /** The goal's runs not finished: what to resume (from its checkpoint) instead of starting over. */
  unfinishedRuns: { run_id: string; run_state: string; attempt: number; checkpoint_ref: string | null; checkpoint_state: unknown; parked_reason: string | null }[];
  /** Set when canary rules were left out because no run was given to draw them. */
  note?: string;
}

type Candidates = Awaited<ReturnType<GoalOpsStore["contextCandidates"]>>;

/**
 * The lessons and rules that apply to a goal: those of its goal type whose action type is '*' or
 * one of its allowed capabilities (all, when it declares none); rules in full mode, and canary
 * rules that this run draws. The run ledger records exactly this selection for each run.
 */
export function selectApplicable(allowedCapabilities: readonly string[], candidates: Candidates, runId: string | undefined) {
  const capabilities = new Set(allowedCapabilities);
  const applies = (actionType: string) => actionType === "*" || capabilities.size === 0 || capabilities.has(actionType);
  const lessons = candidates.lessons.filter((l) => applies(l.action_type));
  const applicableRules = candidates.rules.filter((r) => applies(r.applies_to_action_type));
  const inContext = applicableRules.map((r) => r.activation_mode === "full" || (r.activation_mode === "canary" && runId !== undefined && inCanary(runId, r.rule_id, r.canary_share)));
  const rules = applicableRules.filter((_, i) => inContext[i]);
  // Every applicable rule, whether in the context or not (shadow, or a canary not drawn): what a
  // run records, so that outcomes with and without each rule can be compared.
  const evaluated = applicableRules.map((r, i) => ({ rule_id: r.rule_id, activation_mode: r.activation_mode, in_context: inContext[i] as boolean }));
  return { lessons, rules, evaluated, canaryUndrawn: runId === undefined && applicableRules.some((r) => r.activation_mode === "canary") };
}

export async function buildContext(store: GoalOpsStore, tracker: KeyResultTracker, goalId: string, options: { runId?: string; agent?: string } = {}): Promise<AgentContext> {
  const goal = await store.getGoal(goalId);
  if (goal === undefined) throw new InvalidInputError("goal.not_found", `no goal '${goalId}' in the database; run 'goalops sync' if its file is new`, { field: "goal_id" });

  const chain: GoalRecord[] = [];
  const seen = new Set([goal.goal_id]);
  for (let parentId = goal.parent_goal_id; parentId !== null && !seen.has(parentId); ) {
    const parent = await store.getGoal(parentId);
    if (parent === undefined) break;
    chain.push(parent);
    seen.add(parentId);
    parentId = parent.parent_goal_id;
  }

  // The key results this work serves: the goal itself, or the nearest key result / objective above it.
  const krHolder = [goal, ...chain].find((g) => g.goal_type === "key_result" || g.goal_type === "objective");
  const keyResults = krHolder === undefined ? [] : krHolder.goal_type === "key_result" ? [await tracker.summary(krHolder.goal_id)] : (await tracker.objective(krHolder.goal_id)).keyResults;

  const spec = goal.spec as { description?: string; success_metrics?: string[]; constraints?: string[]; allowed_capabilities?: string[]; time_horizon?: string };
  const { lessons, rules, canaryUndrawn } = selectApplicable(spec.allowed_capabilities ?? [], await store.contextCandidates(goal.goal_type), options.runId);
  const loops: OpenLoopRecord[] = await store.listLoops({ goalId, includeResolved: false });
  const unfinished = await store.unfinishedRuns(goalId);

  return {
    goal: {
      goal_id: goal.goal_id,
      goal_type: goal.goal_type,
      title: goal.title,
      description: spec.description ?? null,
      status: goal.status,
      owner_agent: goal.owner_agent,
      priority: goal.priority,
      success_metrics: spec.success_metrics ?? [],
      constraints: spec.constraints ?? [],
      allowed_capabilities: spec.allowed_capabilities ?? [],
      time_horizon: spec.time_horizon ?? null,
    },
    chain: chain.map((g) => ({ goal_id: g.goal_id, goal_type: g.goal_type, title: g.title, status: g.status })),
    keyResults,
    lessons: lessons.map((l) => ({ lesson_id: l.lesson_id, action_type: l.action_type, lesson_text: l.lesson_text })),
    rules: rules.map((r) => ({ rule_id: r.rule_id, title: r.title, activation_mode: r.activation_mode as "canary" | "full", rule_text: r.rule_text })),
    openLoops: loops.map((l) => ({ loop_id: l.loop_id, kind: l.kind, description: l.description, due_at: l.due_at })),
    unfinishedRuns: unfinished.map(({ run_id, run_state, attempt, checkpoint_ref, checkpoint_state, parked_reason }) => ({ run_id, run_state, attempt, checkpoint_ref, checkpoint_state, parked_reason })),
    ...(canaryUndrawn ? { note: "canary rules are drawn per run: give the run id (--run, or run_id in the API) to include the ones this run draws" } : {}),
  };
}

/** The context as Markdown for a prompt. */
export function contextMarkdown(c: AgentContext): string {
  const pct = (p: number | null) => (p === null ? "no value yet" : `${Math.round(p * 100)}%`);
  const lines = [`# Goal: ${c.goal.title}`, "", `${c.goal.goal_id} · ${c.goal.goal_type} · ${c.goal.status} · priority ${c.goal.priority}${c.goal.time_horizon !== null ? ` · due ${c.goal.time_horizon}` : ""}`];
  if (c.goal.description !== null) lines.push("", c.goal.description);
  if (c.chain.length > 0) lines.push("", "## Serves", ...c.chain.map((g) => `- ${g.goal_type}: ${g.title} (${g.goal_id})`));
  if (c.goal.success_metrics.length > 0) lines.push("", "## Done when", ...c.goal.success_metrics.map((m) => `- ${m}`));
  if (c.goal.constraints.length > 0) lines.push("", "## Constraints", ...c.goal.constraints.map((m) => `- ${m}`));
  if (c.goal.allowed_capabilities.length > 0) lines.push("", `Allowed capabilities: ${c.goal.allowed_capabilities.join(", ")}`);
  if (c.keyResults.length > 0) {
    lines.push("", "## Key results");
    for (const k of c.keyResults) lines.push(`- ${k.title}: ${k.signal.metric} ${k.signal.baseline} -> ${k.signal.target} ${k.signal.unit}; now ${k.latest === null ? "unmeasured" : `${k.latest.value}`} (${pct(k.progress)}, ${k.health})`);
  }
  if (c.rules.length > 0) lines.push("", "## Playbook rules", ...c.rules.map((r) => `- ${r.rule_text} (${r.rule_id}, ${r.activation_mode})`));
  if (c.lessons.length > 0) lines.push("", "## Lessons", ...c.lessons.map((l) => `- ${l.lesson_text} (${l.lesson_id})`));
  if (c.unfinishedRuns.length > 0) {
    lines.push("", "## Unfinished runs (resume from the checkpoint; do not repeat what it covers)");
    for (const r of c.unfinishedRuns) {
      const from = r.checkpoint_ref === null ? "no checkpoint" : `checkpoint ${r.checkpoint_ref}${r.checkpoint_state !== null ? ` ${JSON.stringify(r.checkpoint_state)}` : ""}`;
      lines.push(`- ${r.run_id} (${r.run_state}, attempt ${r.attempt}): ${from}${r.parked_reason !== null && r.run_state === "parked" ? `; parked: ${r.parked_reason}` : ""}`);
    }
  }
  if (c.openLoops.length > 0) lines.push("", "## Open loops", ...c.openLoops.map((l) => `- ${l.kind}: ${l.description}${l.due_at !== null ? ` (due ${l.due_at})` : ""} (${l.loop_id})`));
  return `${lines.join("\n")}\n`;
}
