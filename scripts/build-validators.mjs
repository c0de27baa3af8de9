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
const code = standaloneCode(ajv, refs);
const out = new URL("../dist/spec/validators.generated.cjs", import.meta.url);
writeFileSync(out, `${code}\nmodule.exports.schemasHash = ${JSON.stringify(schemasHash())};\n`);
