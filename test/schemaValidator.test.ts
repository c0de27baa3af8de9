/**
 * The validators generated at build time (dist/spec/validators.generated.cjs) and the schemas
 * compiled at run time give the same verdicts and the same errors.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import type { ValidateFunction } from "ajv";
import { describe, expect, it } from "vitest";
import { KINDS, type SpecKind } from "../src/spec/kinds.js";
import { parseYamlExact } from "../src/spec/parseYaml.js";
import { compileSchemas, schemasHash } from "../src/spec/schemaValidator.js";
import { PROJECT_ROOT } from "./helpers/tempRepo.js";

const GENERATED = join(PROJECT_ROOT, "dist/spec/validators.generated.cjs");
const require = createRequire(import.meta.url);

function yamlFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const full = join(dir, name);
    return statSync(full).isDirectory() ? yamlFiles(full) : name.endsWith(".yaml") ? [full] : [];
  });
}

function kindOf(path: string): SpecKind {
  if (path.endsWith("goalops.yaml")) return "config";
  if (path.includes("/lessons/")) return "lesson";
  if (path.includes("/playbooks/")) return "rule";
  return "goal";
}

const samples = [...yamlFiles(join(PROJECT_ROOT, "goals")), ...yamlFiles(join(PROJECT_ROOT, "lessons")), ...yamlFiles(join(PROJECT_ROOT, "playbooks")), join(PROJECT_ROOT, "goalops.yaml"), ...yamlFiles(join(PROJECT_ROOT, "test/fixtures"))]
  .map((path) => ({ path, parsed: parseYamlExact(readFileSync(path, "utf8")) }))
  .flatMap(({ path, parsed }) => (parsed.ok && parsed.data !== null ? [{ path: path.slice(PROJECT_ROOT.length + 1), kind: kindOf(path), data: parsed.data }] : []));

describe("generated validators", () => {
  const generated = require(GENERATED) as { schemasHash: string } & Record<SpecKind, ValidateFunction>;
  const ajv = compileSchemas();

  it("are built from the current schemas", () => {
    expect(generated.schemasHash).toBe(schemasHash());
    expect(samples.length).toBeGreaterThan(60);
  });

  it.each(samples.map((s) => [s.path, s.kind, s.data] as const))("%s: same errors as the schemas compiled at run time", (_path, kind, data) => {
    const compiled = ajv.getSchema(KINDS[kind].schemaId) as ValidateFunction;
    const strip = (errors: typeof compiled.errors) => (errors ?? []).map((e) => ({ instancePath: e.instancePath, keyword: e.keyword, params: e.params, schemaPath: e.schemaPath }));
    const a = compiled(data);
    const errorsA = strip(compiled.errors);
    const b = generated[kind](data);
    expect(b).toBe(a);
    expect(strip(generated[kind].errors)).toEqual(errorsA);
  });
});

describe("string lengths in the generated validators", () => {
  // The generated code counts code points with a native regex first (scripts/build-validators.mjs):
  // strings with surrogates must still be counted as ajv counts them.
  const generated = require(GENERATED) as Record<SpecKind, ValidateFunction>;
  const ajv = compileSchemas();
  const goal = samples.find((s) => s.kind === "goal" && generated.goal(s.data))?.data as Record<string, unknown>;
  // start_condition: 1 to 1,000 characters.
  const conditions: [string, string][] = [
    ["1,000 emoji (2,000 UTF-16 units)", "😀".repeat(1000)],
    ["1,001 emoji", "😀".repeat(1001)],
    ["999 letters and an emoji", `${"a".repeat(999)}😀`],
    ["1,000 letters and an emoji", `${"a".repeat(1000)}😀`],
    ["1,000 lone high surrogates", "\uD83D".repeat(1000)],
    ["1,001 letters", "a".repeat(1001)],
    ["a lone low surrogate", "\uDE00"],
    ["nothing", ""],
  ];

  it.each(conditions)("start_condition of %s: same verdict as ajv's own count", (_name, condition) => {
    expect(goal).toBeDefined();
    const data = { ...goal, start_condition: condition };
    const compiled = ajv.getSchema(KINDS.goal.schemaId) as ValidateFunction;
    expect(generated.goal(data)).toBe(compiled(data));
  });

  it("counts an emoji as one character", () => {
    expect(generated.goal({ ...goal, start_condition: "😀".repeat(1000) })).toBe(true);
    expect(generated.goal({ ...goal, start_condition: "😀".repeat(1001) })).toBe(false);
  });
});
