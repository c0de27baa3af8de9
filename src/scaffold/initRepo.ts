/**
 * `goalops init`: the files of a new goalops repository. Existing files are never overwritten, so
 * init is safe to run again; it reports what it created and what it kept.
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { SCHEMA_FILES } from "../spec/kinds.js";
import { newId, renderSpec, schemaComment } from "../spec/newSpec.js";
import { SCHEMAS_DIR } from "../spec/schemaValidator.js";

export interface InitResult {
  root: string;
  created: string[];
  kept: string[];
}

const CONFIG_TEXT = `# yaml-language-server: $schema=./schemas/config.schema.json
# goalops configuration. Every setting has a default; see README.md for all of them.
version: 1
paths:
  goals: goals
  lessons: lessons
  playbooks: playbooks
  state: state
database:
  path: state/goalops.db
sync:
  # A sync that would archive more than this share of the goals stops and asks for --allow-prune.
  prune_limit: 0.5
`;

const VALIDATE_WORKFLOW = `name: goalops validate
on:
  pull_request:
    paths: ["goals/**", "lessons/**", "playbooks/**", "goalops.yaml"]
jobs:
  validate:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-node@v4
        with:
          node-version: 20
      - run: npx --yes goalops validate --format github
`;

const GITIGNORE_LINES = ["state/*", "!state/.gitkeep"];

export function initRepo(root: string): InitResult {
  const created: string[] = [];
  const kept: string[] = [];
  const write = (path: string, content: string | (() => void)) => {
    const full = join(root, path);
    if (existsSync(full)) {
      kept.push(path);
      return;
    }
    mkdirSync(dirname(full), { recursive: true });
    if (typeof content === "string") writeFileSync(full, content);
    else content();
    created.push(path);
  };

  write("goalops.yaml", CONFIG_TEXT);
  for (const file of SCHEMA_FILES) write(`schemas/${file}`, () => copyFileSync(join(SCHEMAS_DIR, file), join(root, "schemas", file)));
  const objectiveId = newId("goal");
  const objectivePath = join(root, "goals", "example-objective.yaml");
  write("goals/example-objective.yaml", renderSpec({
    goal_id: objectiveId,
    goal_type: "objective",
    title: "Improve agent reliability",
    description: "An example objective: replace it with an outcome that matters to you.",
    owner_agent: "default",
    priority: 2,
    time_horizon: "ongoing",
    status: "active",
  }, schemaComment("goal", objectivePath, join(root, "schemas"))));
  const krPath = join(root, "goals", "example-key-result.yaml");
  if (created.includes("goals/example-objective.yaml")) {
    write("goals/example-key-result.yaml", renderSpec({
      goal_id: newId("goal"),
      goal_type: "key_result",
      title: "90% verified success on low-risk actions",
      parent_goal_id: objectiveId,
      owner_agent: "default",
      priority: 2,
      status: "active",
      key_result: { metric: "verified_success_rate", unit: "percent", baseline: 70, target: 90, direction: "increase" },
    }, schemaComment("goal", krPath, join(root, "schemas"))));
  }
  write("lessons/.gitkeep", "");
  write("playbooks/.gitkeep", "");
  write("state/.gitkeep", "");
  write(".github/workflows/goalops-validate.yml", VALIDATE_WORKFLOW);

  // .gitignore: add the state lines if they are missing, keep everything else.
  const gitignore = join(root, ".gitignore");
  const existing = existsSync(gitignore) ? readFileSync(gitignore, "utf8") : "";
  const missing = GITIGNORE_LINES.filter((line) => !existing.split(/\r?\n/).includes(line));
  if (missing.length > 0) {
    writeFileSync(gitignore, `${existing}${existing === "" || existing.endsWith("\n") ? "" : "\n"}# goalops runtime state\n${missing.join("\n")}\n`);
    (existing === "" ? created : kept).push(".gitignore");
  } else {
    kept.push(".gitignore");
  }
  return { root, created, kept };
}
