/**
 * The JSON Schemas of `schemas/`, compiled once per process with ajv (draft 2020-12).
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import Ajv2020 from "ajv/dist/2020.js";
import type { ErrorObject, ValidateFunction } from "ajv";
import addFormats from "ajv-formats";
import { KINDS, SCHEMA_FILES, type SpecKind } from "./kinds.js";

/** The folder of the shipped schemas (`<package>/schemas`), from `dist/spec/` or `src/spec/`. */
export const SCHEMAS_DIR = fileURLToPath(new URL("../../schemas/", import.meta.url));

export type SchemaErrors = ErrorObject[];

let validators: Map<SpecKind, ValidateFunction> | undefined;
let schemaCache: Map<string, Record<string, unknown>> | undefined;

/** The parsed schema documents, by file name. */
export function loadSchemas(): Map<string, Record<string, unknown>> {
  if (schemaCache === undefined) {
    schemaCache = new Map(SCHEMA_FILES.map((file) => [file, JSON.parse(readFileSync(`${SCHEMAS_DIR}${file}`, "utf8")) as Record<string, unknown>]));
  }
  return schemaCache;
}

function compile(): Map<SpecKind, ValidateFunction> {
  // strict mode catches schema mistakes; allErrors so one run reports every problem of a file.
  const ajv = new Ajv2020.default({ allErrors: true, strict: true, strictRequired: false, allowUnionTypes: true, $data: false });
  addFormats.default(ajv, ["date", "date-time", "uri"]);
  for (const schema of loadSchemas().values()) ajv.addSchema(schema);
  const compiled = new Map<SpecKind, ValidateFunction>();
  for (const info of Object.values(KINDS)) {
    const fn = ajv.getSchema(info.schemaId);
    if (fn === undefined) throw new Error(`schema ${info.schemaId} is missing from ${SCHEMAS_DIR}`);
    compiled.set(info.kind, fn);
  }
  return compiled;
}

/** Validates data against the schema of its kind; returns ajv's errors, or an empty list. */
export function validateAgainstSchema(kind: SpecKind, data: unknown): SchemaErrors {
  validators ??= compile();
  const fn = validators.get(kind) as ValidateFunction;
  return fn(data) ? [] : [...(fn.errors ?? [])];
}
