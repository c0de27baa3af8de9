import { describe, expect, it } from "vitest";
import { loadSchemas } from "../src/spec/schemaValidator.js";
import { CONFIG_FIELDS, FAILURE_CATEGORIES, GOAL_FIELDS, GOAL_STATUSES, GOAL_TYPES, KEY_RESULT_FIELDS, LESSON_CATEGORIES, LESSON_FIELDS, ACTIVATION_MODES, RULE_FIELDS, STATUS_INTENTS } from "../src/spec/types.js";

type Schema = Record<string, unknown> & { properties?: Record<string, Schema>; $defs?: Record<string, Schema>; enum?: unknown[] };
const schemas = loadSchemas();
const get = (file: string) => schemas.get(file) as Schema;
const keys = (s: Schema | undefined) => Object.keys(s?.properties ?? {}).sort();

function everyProperty(schema: Schema, path: string, visit: (path: string, s: Schema) => void): void {
  for (const [name, sub] of Object.entries(schema.properties ?? {})) {
    visit(`${path}.${name}`, sub);
    everyProperty(sub, `${path}.${name}`, visit);
  }
  for (const [name, sub] of Object.entries(schema.$defs ?? {})) everyProperty(sub, `${path}.$defs.${name}`, visit);
}

describe("schemas and TypeScript types stay in step", () => {
  it.each([
    ["goal.schema.json", GOAL_FIELDS],
    ["lesson.schema.json", LESSON_FIELDS],
    ["playbook-rule.schema.json", RULE_FIELDS],
    ["config.schema.json", CONFIG_FIELDS],
  ] as const)("%s has exactly the fields of its type", (file, fields) => {
    expect(keys(get(file))).toEqual([...fields].sort());
  });

  it("the key_result block has exactly the fields of KeyResultSpec", () => {
    expect(keys(get("goal.schema.json").properties?.key_result)).toEqual([...KEY_RESULT_FIELDS].sort());
  });

  it.each([
    ["goalType", GOAL_TYPES],
    ["statusIntent", STATUS_INTENTS],
    ["goalStatus", GOAL_STATUSES],
    ["failureCategory", FAILURE_CATEGORIES],
    ["lessonCategory", LESSON_CATEGORIES],
    ["activationMode", ACTIVATION_MODES],
  ] as const)("the %s enum matches its TypeScript list", (def, values) => {
    expect(get("common.schema.json").$defs?.[def]?.enum).toEqual([...values]);
  });

  it.each(["goal.schema.json", "lesson.schema.json", "playbook-rule.schema.json", "config.schema.json", "common.schema.json"])("%s: $id, 2020-12, every property described, unknown properties refused, patterns bounded", (file) => {
    const schema = get(file);
    expect(schema.$schema).toBe("https://json-schema.org/draft/2020-12/schema");
    expect(schema.$id).toBe(`https://goalops.dev/schemas/${file}`);
    if (file !== "common.schema.json") expect(schema.additionalProperties).toBe(false);
    everyProperty(schema, file, (path, s) => {
      expect(typeof s.description, `${path} has no description`).toBe("string");
      if (s.type === "object" || s.properties !== undefined) expect(s.additionalProperties, `${path} allows unknown properties`).toBe(false);
      if (s.pattern !== undefined) expect(s.maxLength, `${path} has a pattern without maxLength (ReDoS)`).toBeTypeOf("number");
    });
  });
});
