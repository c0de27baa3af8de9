/** The kinds of spec file goalops reads, and the facts about each that the loaders need. */
export type SpecKind = "goal" | "lesson" | "rule" | "config";

export interface KindInfo {
  kind: SpecKind;
  /** The `$id` of the JSON Schema that validates it. */
  schemaId: string;
  /** The schema's file name under `schemas/`. */
  schemaFile: string;
  /** The field holding the object's id; config files have none. */
  idField?: string;
  /** The id prefix, for messages. */
  idPrefix?: string;
  /** The config key naming the folder that holds this kind. */
  folderKey?: "goals" | "lessons" | "playbooks";
}

const SCHEMA_BASE = "https://goalops.dev/schemas/";

export const KINDS: Record<SpecKind, KindInfo> = {
  goal: { kind: "goal", schemaId: `${SCHEMA_BASE}goal.schema.json`, schemaFile: "goal.schema.json", idField: "goal_id", idPrefix: "goal_", folderKey: "goals" },
  lesson: { kind: "lesson", schemaId: `${SCHEMA_BASE}lesson.schema.json`, schemaFile: "lesson.schema.json", idField: "lesson_id", idPrefix: "les_", folderKey: "lessons" },
  rule: { kind: "rule", schemaId: `${SCHEMA_BASE}playbook-rule.schema.json`, schemaFile: "playbook-rule.schema.json", idField: "rule_id", idPrefix: "rule_", folderKey: "playbooks" },
  config: { kind: "config", schemaId: `${SCHEMA_BASE}config.schema.json`, schemaFile: "config.schema.json" },
};

export const SCHEMA_FILES = ["common.schema.json", ...Object.values(KINDS).map((k) => k.schemaFile)];

/** The object kinds that live in folders (everything but the config). */
export const OBJECT_KINDS = ["goal", "lesson", "rule"] as const;
export type ObjectKind = (typeof OBJECT_KINDS)[number];
