/** Small builders of valid spec file texts for tests. */
export const IDS = {
  objective: "goal_01M6B5CJM0W8B9F354SPG2VVA0",
  kr: "goal_01M6B5CJM0W8B9F354SPG2VVA1",
  initiative: "goal_01M6B5CJM0W8B9F354SPG2VVA2",
  maintenance: "goal_01M6B5CJM0W8B9F354SPG2VVA3",
  lesson: "les_01M6B5CJM0W8B9F354SPG2VVA4",
  rule: "rule_01M6B5CJM0W8B9F354SPG2VVA5",
};

export function goalYaml(fields: Record<string, string | number | boolean | string[]>): string {
  const base: Record<string, unknown> = { goal_type: "objective", title: "A goal", owner_agent: "agent-1", priority: 3, ...fields };
  return Object.entries(base)
    .map(([k, v]) => (Array.isArray(v) ? `${k}:\n${v.map((i) => `  - ${i}`).join("\n")}` : `${k}: ${typeof v === "string" && /^[\d.]+$|:/.test(v) ? JSON.stringify(v) : String(v)}`))
    .join("\n")
    .concat("\n");
}

export function krYaml(id: string, parent: string, extra = ""): string {
  return `goal_id: ${id}
goal_type: key_result
title: Accuracy at 95%
parent_goal_id: ${parent}
owner_agent: agent-1
priority: 2
${extra}key_result:
  metric: accuracy
  unit: percent
  baseline: 80
  target: 95
  direction: increase
`;
}

export function lessonYaml(id: string): string {
  return `lesson_id: ${id}
goal_type: initiative
action_type: send_message
lesson_text: Ask before sending to an ambiguous recipient.
category: safe_default
`;
}

export function ruleYaml(id: string, lessons: string[] = []): string {
  return `rule_id: ${id}
title: Confirm recipients
applies_to_goal_type: initiative
applies_to_action_type: send_message
rule_text: Confirm an ambiguous recipient before sending.
${lessons.length > 0 ? `source_lesson_ids:\n${lessons.map((l) => `  - ${l}`).join("\n")}\n` : ""}activation_mode: shadow
`;
}

/** A small valid tree: objective, its key result, an initiative under the KR, a lesson and a rule. */
export function validTree(): Record<string, string> {
  return {
    "goals/objective.yaml": goalYaml({ goal_id: IDS.objective, title: "Improve reliability", status: "active" }),
    "goals/kr.yaml": krYaml(IDS.kr, IDS.objective),
    "goals/initiative.yaml": goalYaml({ goal_id: IDS.initiative, goal_type: "initiative", title: "Build a harness", parent_goal_id: IDS.kr }),
    "lessons/ask.yaml": lessonYaml(IDS.lesson),
    "playbooks/confirm.yaml": ruleYaml(IDS.rule, [IDS.lesson]),
  };
}
