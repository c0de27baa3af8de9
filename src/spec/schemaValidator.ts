/**
 * The JSON Schemas of `schemas/`, validated with ajv (draft 2020-12).
 *
 * Compiling the schemas takes about 0.3 s per process, longer than validating 10,000 files, so the
 * build (scripts/build-validators.mjs) compiles them once into standalone code,
 * dist/spec/validators.generated.cjs, with the same options. At run time that file is loaded if
 * present and up to date with the schemas (a hash of the schema texts is embedded), else the
 * schemas are compiled here. test/schemaValidator.test.ts checks both give the same errors.
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import type { ErrorObject, Options, ValidateFunction } from "ajv";
import { KINDS, SCHEMA_FILES, type SpecKind } from "./kinds.js";

/** The folder of the shipped schemas (`<package>/schemas`), from `dist/spec/` or `src/spec/`. */
export const SCHEMAS_DIR = fileURLToPath(new URL("../../schemas/", import.meta.url));
const GENERATED = fileURLToPath(new URL("./validators.generated.cjs", import.meta.url));
const require = createRequire(import.meta.url);

export type SchemaErrors = ErrorObject[];

/**
 * The ajv options, shared with the build script: strict mode catches schema mistakes; allErrors so
 * one run reports every problem of a file; verbose so errors carry their schema (descriptions,
 * allowed fields) for the messages.
 */
export const AJV_OPTIONS: Options = { allErrors: true, strict: true, strictRequired: false, allowUnionTypes: true, $data: false, verbose: true };
export const FORMATS = ["date", "date-time", "uri"] as const;

let validators: Map<SpecKind, ValidateFunction> | undefined;
let schemaTexts: Map<string, string> | undefined;

function readSchemaTexts(): Map<string, string> {
  schemaTexts ??= new Map(SCHEMA_FILES.map((file) => [file, readFileSync(`${SCHEMAS_DIR}${file}`, "utf8")]));
  return schemaTexts;
}

/** The parsed schema documents, by file name. */
export function loadSchemas(): Map<string, Record<string, unknown>> {
  return new Map([...readSchemaTexts()].map(([file, text]) => [file, JSON.parse(text) as Record<string, unknown>]));
}

/** A hash of every schema text: ties generated validators to the schemas they came from. */
export function schemasHash(): string {
  const hash = createHash("sha256");
  for (const [file, text] of readSchemaTexts()) hash.update(file).update("\0").update(text).update("\0");
  return hash.digest("hex");
}

/** Compiles the schemas at run time (and for the build script, which passes code options). */
export function compileSchemas(extraOptions: Options = {}) {
  const Ajv2020 = (require("ajv/dist/2020.js") as { default: new (o: Options) => import("ajv").default }).default;
  const addFormats = (require("ajv-formats") as { default: (ajv: import("ajv").default, formats: readonly string[]) => void }).default;
  const ajv = new Ajv2020({ ...AJV_OPTIONS, ...extraOptions });
  addFormats(ajv, FORMATS);
  for (const schema of loadSchemas().values()) ajv.addSchema(schema);
  return ajv;
}

function loadValidators(): Map<SpecKind, ValidateFunction> {
  if (process.env.GOALOPS_COMPILE_SCHEMAS !== "1" && existsSync(GENERATED)) {
    const generated = require(GENERATED) as { schemasHash: string } & Record<string, ValidateFunction>;
    if (generated.schemasHash === schemasHash()) {
      return new Map(Object.values(KINDS).map((info) => [info.kind, generated[info.kind] as ValidateFunction]));
    }
  }
  const ajv = compileSchemas();
  return new Map(Object.values(KINDS).map((info) => {
    const fn = ajv.getSchema(info.schemaId);
    if (fn === undefined) throw new Error(`schema ${info.schemaId} is missing from ${SCHEMAS_DIR}`);
    return [info.kind, fn];
  }));
}

/** Validates data against the schema of its kind; returns ajv's errors, or an empty list. */
export function validateAgainstSchema(kind: SpecKind, data: unknown): SchemaErrors {
  validators ??= loadValidators();
  const fn = validators.get(kind) as ValidateFunction;
  return fn(data) ? [] : [...(fn.errors ?? [])];
}
