/**
 * Checks across the whole tree that JSON Schema cannot express: duplicate ids, references to
 * unknown goals and lessons, cycles, hierarchy rules. Each rule is a small pure function over the
 * valid documents; each returns problems addressed by file and field path (lines come later).
 */
import type { GoalSpec, PlaybookRuleSpec } from "./types.js";
import type { ObjectKind } from "./kinds.js";

export interface CrossCheckDocument {
  path: string;
  kind: ObjectKind;
  id: string;
  data: Record<string, unknown>;
}

export interface CrossProblem {
  path: string;
  fieldPath: (string | number)[];
  code: string;
  message: string;
  hint?: string;
}

export interface CrossCheckInput {
  documents: readonly CrossCheckDocument[];
  /**
   * Ids that exist although their document is not among `documents` (a file that is invalid right
   * now but declares its id; in sync, the last good version of such a file). References to them
   * are not errors: the file's own problem is reported once, not again in every file pointing at it.
   */
  otherKnownIds?: ReadonlySet<string>;
}

type Rule = (input: CrossCheckInput, index: TreeIndex) => CrossProblem[];

interface TreeIndex {
  goals: Map<string, CrossCheckDocument>;
  lessons: Map<string, CrossCheckDocument>;
  known: (id: string) => boolean;
}

/** Runs every cross-file rule; documents with duplicate ids are excluded from the reference rules. */
export function crossCheck(input: CrossCheckInput): CrossProblem[] {
  const duplicates = duplicateIds(input);
  const duplicated = new Set(duplicates.map((p) => p.path));
  const documents = input.documents.filter((d) => !duplicated.has(d.path));
  const goals = new Map<string, CrossCheckDocument>();
  const lessons = new Map<string, CrossCheckDocument>();
  for (const d of input.documents) {
    if (d.kind === "goal") goals.set(d.id, d);
    if (d.kind === "lesson") lessons.set(d.id, d);
  }
  const index: TreeIndex = {
    goals,
    lessons,
    known: (id) => goals.has(id) || lessons.has(id) || (input.otherKnownIds?.has(id) ?? false),
  };
  const rest = { ...input, documents };
  const rules: Rule[] = [unknownReferences, hierarchy, parentCycles, dependencyCycles];
  return [...duplicates, ...rules.flatMap((rule) => rule(rest, index))];
}

function duplicateIds(input: CrossCheckInput): CrossProblem[] {
  const byId = new Map<string, CrossCheckDocument[]>();
  for (const d of input.documents) byId.set(d.id, [...(byId.get(d.id) ?? []), d]);
  const problems: CrossProblem[] = [];
  for (const [id, docs] of byId) {
    if (docs.length < 2) continue;
    for (const d of docs) {
      const others = docs.filter((o) => o !== d).map((o) => o.path);
      problems.push({ path: d.path, fieldPath: [idField(d.kind)], code: "cross.duplicate_id", message: `id '${id}' is also declared in ${others.join(", ")}`, hint: `ids must be unique; give one of them a new id (goalops new ${d.kind} prints one)` });
    }
  }
  return problems;
}

function idField(kind: ObjectKind): string {
  return kind === "goal" ? "goal_id" : kind === "lesson" ? "lesson_id" : "rule_id";
}

function unknownReferences(input: CrossCheckInput, index: TreeIndex): CrossProblem[] {
  const problems: CrossProblem[] = [];
  for (const d of input.documents) {
    if (d.kind === "goal") {
      const goal = d.data as unknown as GoalSpec;
      if (goal.parent_goal_id !== undefined && !index.known(goal.parent_goal_id)) {
        problems.push({ path: d.path, fieldPath: ["parent_goal_id"], code: "cross.unknown_parent", message: `parent_goal_id '${goal.parent_goal_id}' is not the id of any goal`, hint: "point it at an existing goal's goal_id, or add that goal" });
      }
      (goal.dependencies ?? []).forEach((dep, i) => {
        if (!index.known(dep)) {
          problems.push({ path: d.path, fieldPath: ["dependencies", i], code: "cross.unknown_dependency", message: `dependency '${dep}' is not the id of any goal`, hint: "remove it, or point it at an existing goal's goal_id" });
        } else if (dep === d.id) {
          problems.push({ path: d.path, fieldPath: ["dependencies", i], code: "cross.dependency_cycle", message: "a goal cannot depend on itself" });
        }
      });
    }
    if (d.kind === "rule") {
      const rule = d.data as unknown as PlaybookRuleSpec;
      (rule.source_lesson_ids ?? []).forEach((lessonId, i) => {
        if (!index.known(lessonId)) {
          problems.push({ path: d.path, fieldPath: ["source_lesson_ids", i], code: "cross.unknown_lesson", message: `source lesson '${lessonId}' is not the id of any lesson`, hint: "point it at an existing lesson's lesson_id, or add that lesson" });
        }
      });
    }
  }
  return problems;
}

const ALLOWED_PARENTS: Partial<Record<GoalSpec["goal_type"], readonly GoalSpec["goal_type"][]>> = {
  key_result: ["objective"],
  initiative: ["key_result", "objective"],
};

function hierarchy(input: CrossCheckInput, index: TreeIndex): CrossProblem[] {
  const problems: CrossProblem[] = [];
  for (const d of input.documents) {
    if (d.kind !== "goal") continue;
    const goal = d.data as unknown as GoalSpec;
    const allowed = ALLOWED_PARENTS[goal.goal_type];
    const parent = goal.parent_goal_id === undefined ? undefined : index.goals.get(goal.parent_goal_id);
    if (allowed === undefined || parent === undefined) continue;
    const parentType = (parent.data as unknown as GoalSpec).goal_type;
    if (!allowed.includes(parentType)) {
      problems.push({
        path: d.path,
        fieldPath: ["parent_goal_id"],
        code: "cross.hierarchy",
        message: `${withArticle(goal.goal_type)}'s parent must be ${allowed.map(withArticle).join(" or ")}; '${parent.id}' (${parent.path}) is ${withArticle(parentType)}`,
        hint: "objective > key_result > initiative: point parent_goal_id at a goal of the right type",
      });
    }
  }
  return problems;
}

function withArticle(word: string): string {
  return `${/^[aeiou]/.test(word) ? "an" : "a"} ${word}`;
}

function parentCycles(input: CrossCheckInput, index: TreeIndex): CrossProblem[] {
  const parentOf = (id: string): string | undefined => (index.goals.get(id)?.data as unknown as GoalSpec | undefined)?.parent_goal_id;
  const inCycle = new Map<string, string[]>();
  const done = new Set<string>();
  for (const d of input.documents) {
    if (d.kind !== "goal" || done.has(d.id)) continue;
    const chain: string[] = [];
    const position = new Map<string, number>();
    let current: string | undefined = d.id;
    while (current !== undefined && !done.has(current) && !position.has(current)) {
      position.set(current, chain.length);
      chain.push(current);
      current = parentOf(current);
    }
    if (current !== undefined && position.has(current)) {
      const cycle = chain.slice(position.get(current));
      for (const id of cycle) inCycle.set(id, cycle);
    }
    for (const id of chain) done.add(id);
  }
  return [...inCycle].flatMap(([id, cycle]) => {
    const doc = index.goals.get(id);
    if (doc === undefined || !input.documents.includes(doc)) return [];
    const start = cycle.indexOf(id);
    const loop = [...cycle.slice(start), ...cycle.slice(0, start), id];
    return [{ path: doc.path, fieldPath: ["parent_goal_id"], code: "cross.parent_cycle", message: `parent_goal_id forms a cycle: ${loop.join(" -> ")}`, hint: "a goal cannot be its own ancestor; break the loop at one of these goals" }];
  });
}

function dependencyCycles(input: CrossCheckInput, index: TreeIndex): CrossProblem[] {
  // Tarjan's strongly connected components over the dependency graph; every component with more
  // than one goal is a cycle. (Self-dependencies are reported by unknownReferences.)
  const depsOf = (id: string): string[] => ((index.goals.get(id)?.data as unknown as GoalSpec | undefined)?.dependencies ?? []).filter((dep) => index.goals.has(dep) && dep !== id);
  let counter = 0;
  const order = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  const strongConnect = (root: string): void => {
    // Iterative, so a long dependency chain cannot overflow the call stack.
    const work: { id: string; next: number }[] = [{ id: root, next: 0 }];
    order.set(root, counter);
    low.set(root, counter++);
    stack.push(root);
    onStack.add(root);
    while (work.length > 0) {
      const frame = work[work.length - 1] as { id: string; next: number };
      const deps = depsOf(frame.id);
      if (frame.next < deps.length) {
        const dep = deps[frame.next++] as string;
        if (!order.has(dep)) {
          order.set(dep, counter);
          low.set(dep, counter++);
          stack.push(dep);
          onStack.add(dep);
          work.push({ id: dep, next: 0 });
        } else if (onStack.has(dep)) {
          low.set(frame.id, Math.min(low.get(frame.id) as number, order.get(dep) as number));
        }
        continue;
      }
      work.pop();
      const parent = work[work.length - 1];
      if (parent !== undefined) low.set(parent.id, Math.min(low.get(parent.id) as number, low.get(frame.id) as number));
      if (low.get(frame.id) === order.get(frame.id)) {
        const component: string[] = [];
        let member: string | undefined;
        do {
          member = stack.pop() as string;
          onStack.delete(member);
          component.push(member);
        } while (member !== frame.id);
        if (component.length > 1) components.push(component.reverse());
      }
    }
  };
  for (const d of input.documents) if (d.kind === "goal" && !order.has(d.id)) strongConnect(d.id);

  const problems: CrossProblem[] = [];
  for (const component of components) {
    const members = new Set(component);
    for (const id of component) {
      const doc = index.goals.get(id);
      if (doc === undefined || !input.documents.includes(doc)) continue;
      const deps = (doc.data as unknown as GoalSpec).dependencies ?? [];
      deps.forEach((dep, i) => {
        if (members.has(dep)) {
          problems.push({ path: doc.path, fieldPath: ["dependencies", i], code: "cross.dependency_cycle", message: `dependencies form a cycle among ${component.join(", ")}`, hint: "a goal cannot wait on a goal that waits on it; remove one of these dependencies" });
        }
      });
    }
  }
  return problems;
}
