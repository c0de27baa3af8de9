/**
 * ajv errors -> problems people can act on: file position of the offending key or value, the
 * field path, what was found, what is allowed, and for an unknown field the closest known name.
 */
import type { ErrorObject } from "ajv";
import { formatFieldPath, pointerToPath, positionOf, type PositionedDocument, type SpecProblem } from "./parseYaml.js";
import { closestName } from "./closestName.js";

export function schemaErrorsToProblems(errors: readonly ErrorObject[], data: unknown, positioned: PositionedDocument): SpecProblem[] {
  // anyOf reports every failed branch and then itself; keep only the anyOf's own summary.
  const anyOfPaths = new Set(errors.filter((e) => e.keyword === "anyOf").map((e) => e.instancePath));
  const problems: SpecProblem[] = [];
  const seen = new Set<string>();
  for (const error of errors) {
    if (error.keyword === "if") continue;
    if (error.keyword !== "anyOf" && anyOfPaths.has(error.instancePath)) continue;
    const p = toProblem(error, data, positioned);
    const key = `${p.field}|${p.code}|${p.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    problems.push(p);
  }
  return problems.sort((a, b) => a.line - b.line || a.column - b.column);
}

function toProblem(error: ErrorObject, data: unknown, positioned: PositionedDocument): SpecProblem {
  const path = pointerToPath(error.instancePath, data);
  const value = valueAt(data, path);
  const params = error.params as Record<string, unknown>;
  const description = typeof error.parentSchema?.description === "string" ? error.parentSchema.description : undefined;
  const code = `schema.${error.keyword}`;
  const at = (p: (string | number)[], preferKey = true) => positionOf(positioned, p, preferKey);

  switch (error.keyword) {
    case "additionalProperties": {
      const name = String(params.additionalProperty);
      const fieldPath = [...path, name];
      const known = Object.keys((error.parentSchema?.properties as Record<string, unknown> | undefined) ?? {});
      const suggestion = closestName(name, known);
      const hint = suggestion !== undefined ? `did you mean '${suggestion}'?` : `allowed fields here: ${known.join(", ")}`;
      return { code, message: `unknown field '${name}'`, ...at(fieldPath), field: formatFieldPath(fieldPath), hint };
    }
    case "required": {
      const name = String(params.missingProperty);
      const where = path.length === 0 ? "" : ` in '${formatFieldPath(path)}'`;
      return { code, message: `missing required field '${name}'${where}`, ...at(path, false), field: formatFieldPath([...path, name]), hint: requiredHint(name, error) };
    }
    case "not": {
      const name = path.length === 0 ? notRequiredName(error) : undefined;
      if (name !== undefined) {
        return { code, message: `field '${name}' is only allowed when goal_type is key_result`, ...at([name]), field: name, hint: `remove '${name}', or set goal_type: key_result` };
      }
      return { code, message: `found ${describeValue(value)}, which is not allowed here`, ...at(path, false), field: formatFieldPath(path) };
    }
    case "type":
      if (typeof value === "number" && !Number.isFinite(value)) {
        return { code, message: `found ${String(value)}; expected a finite number`, ...at(path, false), field: formatFieldPath(path), hint: ".nan and .inf are YAML numbers, but not values goalops can store or compare" };
      }
      return { code, message: `found ${describeValue(value)}; expected ${article(String(params.type))}`, ...at(path, false), field: formatFieldPath(path), ...hintFrom(description) };
    case "enum": {
      const allowed = (params.allowedValues as unknown[]).map(String);
      const suggestion = typeof value === "string" ? closestName(value, allowed) : undefined;
      return { code, message: `found ${describeValue(value)}; allowed: ${allowed.join(", ")}`, ...at(path, false), field: formatFieldPath(path), ...(suggestion !== undefined ? { hint: `did you mean '${suggestion}'?` } : {}) };
    }
    case "const":
      return { code, message: `found ${describeValue(value)}; expected ${describeValue(params.allowedValue)}`, ...at(path, false), field: formatFieldPath(path) };
    case "pattern":
    case "format":
      return { code, message: `found ${describeValue(value)}; expected ${description !== undefined ? lowerFirst(description) : `${error.keyword} ${String(params.pattern ?? params.format)}`}`, ...at(path, false), field: formatFieldPath(path) };
    case "anyOf":
      return { code, message: `found ${describeValue(value)}; expected ${description !== undefined ? lowerFirst(description) : "one of the allowed forms"}`, ...at(path, false), field: formatFieldPath(path) };
    case "minimum":
    case "maximum":
    case "exclusiveMinimum":
    case "exclusiveMaximum":
      return { code, message: `found ${describeValue(value)}; must be ${String(params.comparison)} ${String(params.limit)}`, ...at(path, false), field: formatFieldPath(path), ...hintFrom(description) };
    case "minLength":
      return { code, message: Number(params.limit) === 1 ? "must not be empty" : `is ${String(value).length} characters long; the minimum is ${String(params.limit)}`, ...at(path, false), field: formatFieldPath(path) };
    case "maxLength":
      return { code, message: `is ${String(value).length} characters long; the limit is ${String(params.limit)}`, ...at(path, false), field: formatFieldPath(path) };
    case "minItems":
    case "maxItems":
      return { code, message: `has ${Array.isArray(value) ? value.length : 0} items; ${error.keyword === "minItems" ? "the minimum" : "the limit"} is ${String(params.limit)}`, ...at(path, false), field: formatFieldPath(path) };
    case "uniqueItems":
      return { code, message: `items ${String(params.j)} and ${String(params.i)} are the same; each may appear once`, ...at([...path, Number(params.i)], false), field: formatFieldPath([...path, Number(params.i)]) };
    default:
      return { code, message: error.message ?? `fails ${error.keyword}`, ...at(path, false), field: formatFieldPath(path) };
  }
}

function requiredHint(name: string, error: ErrorObject): string | undefined {
  if (error.schemaPath.startsWith("#/then") && name === "key_result") return "a key_result goal needs key_result: {metric, unit, baseline, target, direction}";
  if (error.schemaPath.startsWith("#/then") && name === "parent_goal_id") return "a key_result goal needs parent_goal_id: the objective it measures";
  const properties = error.parentSchema?.properties as Record<string, { description?: string }> | undefined;
  return properties?.[name]?.description;
}

function notRequiredName(error: ErrorObject): string | undefined {
  const not = error.schema as { required?: string[] } | undefined;
  return not?.required?.[0];
}

function hintFrom(description: string | undefined): { hint?: string } {
  return description === undefined ? {} : { hint: description };
}

function valueAt(data: unknown, path: readonly (string | number)[]): unknown {
  let node = data;
  for (const segment of path) {
    if (node === null || typeof node !== "object") return undefined;
    node = (node as Record<string | number, unknown>)[segment];
  }
  return node;
}

/** A short, quoted rendering of a value for messages. */
export function describeValue(value: unknown): string {
  if (value === null || value === undefined) return "nothing (null)";
  if (typeof value === "string") return `'${value.length > 60 ? `${value.slice(0, 57)}...` : value}'`;
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a map";
  if (typeof value === "number" || typeof value === "boolean") return `${typeof value} ${String(value)}`;
  return String(value);
}

function article(type: string): string {
  const names: Record<string, string> = { object: "a map", array: "a list", string: "a string", integer: "an integer", number: "a number", boolean: "true or false", null: "null" };
  return type.split(",").map((t) => names[t] ?? t).join(" or ");
}

function lowerFirst(text: string): string {
  return /^[A-Z](?![A-Z])/.test(text) ? text[0]?.toLowerCase() + text.slice(1) : text;
}
