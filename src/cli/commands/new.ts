import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import type { Command } from "commander";
import { InvalidInputError, UsageError } from "../../errors.js";
import { KINDS, type ObjectKind } from "../../spec/kinds.js";
import { withJson, withRepo, type RepoOptions } from "../options.js";
import { withGoalOps } from "../withGoalOps.js";
import { formatProblemText } from "../output.js";

interface NewOptions extends RepoOptions {
  json?: boolean;
  file?: string;
  title?: string;
  description?: string;
  type?: string;
  parent?: string;
  owner?: string;
  priority?: string;
  status?: string;
  horizon?: string;
  cadence?: string;
  metric?: string;
  unit?: string;
  baseline?: string;
  target?: string;
  direction?: string;
  text?: string;
  goalType?: string;
  actionType?: string;
  category?: string;
  failureCategory?: string;
  mode?: string;
  sourceLesson?: string[];
}

function toNumber(value: string | undefined, option: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n)) throw new UsageError("new.bad_number", `${option} ${value}: not a number`);
  return n;
}

function fieldsFor(kind: ObjectKind, o: NewOptions, id: string): Record<string, unknown> {
  if (kind === "goal") {
    const goalType = o.type ?? "objective";
    const isKr = goalType === "key_result";
    return {
      goal_id: id,
      goal_type: goalType,
      title: o.title,
      description: o.description,
      parent_goal_id: o.parent,
      owner_agent: o.owner ?? "default",
      priority: toNumber(o.priority, "--priority") ?? 3,
      time_horizon: o.horizon,
      review_cadence: o.cadence,
      status: o.status ?? "planned",
      key_result: isKr
        ? { metric: o.metric, unit: o.unit, baseline: toNumber(o.baseline, "--baseline"), target: toNumber(o.target, "--target"), direction: o.direction ?? "increase" }
        : undefined,
    };
  }
  if (kind === "lesson") {
    return { lesson_id: id, goal_type: o.goalType, action_type: o.actionType ?? "*", failure_category: o.failureCategory, lesson_text: o.text, category: o.category ?? "safe_default" };
  }
  return {
    rule_id: id,
    title: o.title,
    applies_to_goal_type: o.goalType,
    applies_to_action_type: o.actionType ?? "*",
    rule_text: o.text,
    source_lesson_ids: o.sourceLesson,
    activation_mode: o.mode ?? "shadow",
  };
}

export function registerNew(program: Command): void {
  const create = program.command("new").description("write a new goal, lesson or playbook rule file with a fresh id");
  const common = (command: Command) => withJson(withRepo(command)).option("--file <path>", "where to write it (default: <folder>/<slug of the title>.yaml)");

  common(create.command("goal"))
    .description("a new goal file")
    .requiredOption("--title <text>", "short human label")
    .option("--type <goal_type>", "objective | key_result | initiative | maintenance | watchdog | experiment | learning", "objective")
    .option("--description <text>", "the full intent")
    .option("--parent <goal_id>", "parent goal (a key_result's is an objective; an initiative's is a key_result or objective)")
    .option("--owner <agent>", "owner agent or pool", "default")
    .option("--priority <1-5>", "1 critical .. 5 low", "3")
    .option("--status <intent>", "planned | ready | active | archived", "planned")
    .option("--horizon <date>", "deadline: ISO date or date-time, or 'ongoing'")
    .option("--cadence <cron|interval>", "review cadence: cron expression or interval such as 15m")
    .option("--metric <name>", "key_result: metric name")
    .option("--unit <unit>", "key_result: unit of the values")
    .option("--baseline <number>", "key_result: value when set")
    .option("--target <number>", "key_result: value that means done")
    .option("--direction <increase|decrease>", "key_result: which way is progress", "increase")
    .addHelpText("after", `
Example:
  goalops new goal --type key_result --title "95% interpreter accuracy" --parent goal_01... \\
    --metric interpreter_accuracy --unit percent --baseline 82 --target 95`)
    .action(async (o: NewOptions) => writeNew("goal", o));

  common(create.command("lesson"))
    .description("a new lesson file")
    .requiredOption("--text <text>", "the heuristic in plain language")
    .requiredOption("--goal-type <goal_type>", "goal type it applies to")
    .option("--action-type <name>", "action or tool family it applies to", "*")
    .option("--category <category>", "anti_pattern | safe_default | winning_strategy | policy_patch", "safe_default")
    .option("--failure-category <category>", "the failure it guards against")
    .action(async (o: NewOptions) => writeNew("lesson", o));

  common(create.command("rule"))
    .description("a new playbook rule file (starts in shadow mode)")
    .requiredOption("--title <text>", "short label")
    .requiredOption("--text <text>", "the directive put in agents' context")
    .requiredOption("--goal-type <goal_type>", "goal type it applies to")
    .option("--action-type <name>", "action or tool family it applies to", "*")
    .option("--mode <mode>", "shadow | canary | full", "shadow")
    .option("--source-lesson <lesson_id...>", "lessons it was promoted from")
    .action(async (o: NewOptions) => writeNew("rule", o));
}

async function writeNew(kind: ObjectKind, options: NewOptions): Promise<void> {
  const config = await withGoalOps(options, async (ops) => ops.config);
  const [{ newId, renderSpec, schemaComment, slugify }, { loadSpecFile }, { toRepoPath }] = await Promise.all([import("../../spec/newSpec.js"), import("../../spec/specFile.js"), import("../../spec/specTree.js")]);
  const id = newId(kind);
  const folder = config.paths[KINDS[kind].folderKey as "goals" | "lessons" | "playbooks"];
  const label = options.title ?? options.text ?? kind;
  const file = options.file !== undefined ? resolve(options.file) : join(config.root, folder, `${slugify(label)}.yaml`);
  const text = renderSpec(fieldsFor(kind, options, id), schemaComment(kind, file, join(config.root, "schemas")));
  const path = toRepoPath(config.root, file);
  const checked = loadSpecFile(path, kind, Buffer.from(text));
  if (!checked.ok) {
    const details = checked.problems.map((p) => `  ${formatProblemText({ file: path, ...p })}`).join("\n");
    throw new InvalidInputError("new.invalid", `the new ${kind} would not be valid:\n${details}`);
  }
  mkdirSync(dirname(file), { recursive: true });
  try {
    writeFileSync(file, text, { flag: "wx" });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") throw new UsageError("new.exists", `${path} already exists; choose another --file or title`);
    throw error;
  }
  process.stdout.write(options.json ? `${JSON.stringify({ kind, id, path }, null, 2)}\n` : `created ${kind} ${id} in ${path}\n`);
}
