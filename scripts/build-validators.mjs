// Compiles the JSON Schemas into standalone validator code (dist/spec/validators.generated.cjs),
// so a goalops process does not spend ~0.3 s compiling them. Run by `npm run build` after tsc.
import { writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { compileSchemas, schemasHash } from "../dist/spec/schemaValidator.js";
import { KINDS } from "../dist/spec/kinds.js";

const require = createRequire(import.meta.url);
const { _ } = require("ajv/dist/compile/codegen/index.js");
const standaloneCode = require("ajv/dist/standalone/index.js").default;

const ajv = compileSchemas({ code: { source: true, formats: _`require("ajv-formats/dist/formats").fullFormats` } });
const refs = Object.fromEntries(Object.values(KINDS).map((k) => [k.kind, k.schemaId]));
const code = withFastStringLength(standaloneCode(ajv, refs));
const out = new URL("../dist/spec/validators.generated.cjs", import.meta.url);
writeFileSync(out, `${code}\nmodule.exports.schemasHash = ${JSON.stringify(schemasHash())};\n`);

/**
 * ajv counts a string's length in code points (`maxLength` in JSON Schema) with a loop over every
 * UTF-16 unit: 3-5% of a cold sync of 10,000 files, for descriptions and titles that hold no
 * surrogate at all. The same count, asking a native regex first: without a surrogate every unit is
 * one code point. ajv's own function still counts the strings that do hold one.
 */
function withFastStringLength(code) {
  const ajvCount = 'require("ajv/dist/runtime/ucs2length").default';
  if (!code.includes(ajvCount)) throw new Error(`build-validators: the generated code no longer uses ${ajvCount}; update withFastStringLength`);
  const fast = `((count) => (text) => (/[\\uD800-\\uDFFF]/.test(text) ? count(text) : text.length))(${ajvCount})`;
  return code.replace(ajvCount, fast);
}
