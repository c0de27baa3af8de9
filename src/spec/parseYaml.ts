/**
 * YAML text -> plain data, safely, with positions for every problem.
 *
 * Two paths give the same meaning (YAML 1.2 core schema, duplicate keys refused, `__proto__` an
 * ordinary key, no directives, no custom tags, one document per file):
 * - the exact path (`yaml`'s Document API) keeps positions and is the only one that reports errors;
 * - the fast path (js-yaml with a schema built from the same resolvers as `yaml`'s core schema) is
 *   about 6x faster and is used only for text that has none of the features where the two could
 *   differ (tags, anchors, aliases, directives, merge keys). Whenever it throws or hesitates, the
 *   exact path decides. test/parseYaml.test.ts proves both paths agree on a corpus of tricky input.
 */
import { createRequire } from "node:module";
import jsYaml from "js-yaml";
import type { Document, LineCounter, Node as YamlNode } from "yaml";

// `yaml` is loaded on first use: most runs never take the exact path, and loading it costs ~70 ms.
const require = createRequire(import.meta.url);
let yamlModule: typeof import("yaml") | undefined;
function yamlLib(): typeof import("yaml") {
  yamlModule ??= require("yaml") as typeof import("yaml");
  return yamlModule;
}

export interface SpecProblem {
  /** Stable machine code, such as `yaml.syntax` or `schema.additionalProperties`. */
  code: string;
  /** What was found and what is allowed, in one sentence. */
  message: string;
  line: number;
  column: number;
  /** Field path in the document (`key_result.target`, `dependencies[1]`); empty for the whole file. */
  field: string;
  /** What to do about it, when there is something specific to say. */
  hint?: string;
}

export type ParsedYaml = { ok: true; data: unknown } | { ok: false; problems: SpecProblem[] };

/** A parsed document that keeps positions, for mapping field paths back to lines. */
export interface PositionedDocument {
  doc: Document.Parsed;
  lineCounter: LineCounter;
}

export const DEFAULT_MAX_FILE_BYTES = 256 * 1024;
const MAX_ALIAS_COUNT = 100;
/** Core-schema tags a file may spell out (`!!str 123`); anything else is a custom tag and refused. */
const CORE_TAGS = new Set(["tag:yaml.org,2002:str", "tag:yaml.org,2002:int", "tag:yaml.org,2002:float", "tag:yaml.org,2002:bool", "tag:yaml.org,2002:null", "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"]);

function problem(code: string, message: string, line = 1, column = 1, field = "", hint?: string): SpecProblem {
  return hint === undefined ? { code, message, line, column, field } : { code, message, line, column, field, hint };
}

/**
 * Checks raw bytes before any parsing: size, binary content, UTF-8. Returns the text, or a problem.
 */
export function decodeSpecBytes(bytes: Uint8Array, maxBytes = DEFAULT_MAX_FILE_BYTES): { ok: true; text: string } | { ok: false; problems: SpecProblem[] } {
  if (bytes.length > maxBytes) {
    return { ok: false, problems: [problem("file.too_large", `file is ${bytes.length} bytes; the limit is ${maxBytes} bytes`, 1, 1, "", "split it, or raise sync.max_file_bytes in goalops.yaml")] };
  }
  const nul = bytes.indexOf(0);
  if (nul !== -1) {
    const { line, column } = positionOfByte(bytes, nul);
    return { ok: false, problems: [problem("file.binary", "file contains a NUL byte: it looks binary, not YAML text", line, column)] };
  }
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    const bad = firstInvalidUtf8(bytes);
    const { line, column } = positionOfByte(bytes, bad);
    return { ok: false, problems: [problem("file.encoding", "file is not valid UTF-8", line, column, "", "save it as UTF-8")] };
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  return { ok: true, text };
}

function positionOfByte(bytes: Uint8Array, index: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < index; i++) {
    if (bytes[i] === 0x0a) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: index - lineStart + 1 };
}

function firstInvalidUtf8(bytes: Uint8Array): number {
  let lo = 0;
  let hi = bytes.length;
  // "The prefix decodes as the start of a stream" is monotonic (a prefix that ends inside a valid
  // character still decodes in stream mode), so the shortest failing prefix ends at the first bad byte.
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    try {
      new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(0, mid + 1), { stream: true });
      lo = mid + 1;
    } catch {
      hi = mid;
    }
  }
  // Every prefix decodes: the file ends inside a character; point at that character's first byte.
  if (lo === bytes.length) {
    while (lo > 0 && ((bytes[lo - 1] as number) & 0xc0) === 0x80) lo--;
    if (lo > 0) lo--;
  }
  return lo;
}

// ---------------------------------------------------------------------------------------------
// Fast path
// ---------------------------------------------------------------------------------------------

/** The scalar resolvers of YAML 1.2's core schema, as `yaml` implements them (same regexes). */
const coreTypes = [
  new jsYaml.Type("tag:yaml.org,2002:null", {
    kind: "scalar",
    resolve: (s: string) => /^(?:~|[Nn]ull|NULL)?$/.test(s),
    construct: () => null,
  }),
  new jsYaml.Type("tag:yaml.org,2002:bool", {
    kind: "scalar",
    resolve: (s: string) => /^(?:[Tt]rue|TRUE|[Ff]alse|FALSE)$/.test(s),
    construct: (s: string) => s[0] === "t" || s[0] === "T",
  }),
  new jsYaml.Type("tag:yaml.org,2002:int", {
    kind: "scalar",
    resolve: (s: string) => /^0o[0-7]+$/.test(s) || /^[-+]?[0-9]+$/.test(s) || /^0x[0-9a-fA-F]+$/.test(s),
    construct: (s: string) => (s.startsWith("0o") ? Number.parseInt(s.slice(2), 8) : s.startsWith("0x") ? Number.parseInt(s.slice(2), 16) : Number.parseInt(s, 10)),
  }),
  new jsYaml.Type("tag:yaml.org,2002:float", {
    kind: "scalar",
    resolve: (s: string) =>
      /^(?:[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN)$/.test(s) ||
      /^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)[eE][-+]?[0-9]+$/.test(s) ||
      /^[-+]?(?:\.[0-9]+|[0-9]+\.[0-9]*)$/.test(s),
    construct: (s: string) => {
      if (/^(?:[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN)$/.test(s)) {
        return s.slice(-3).toLowerCase() === "nan" ? Number.NaN : s[0] === "-" ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY;
      }
      return Number.parseFloat(s);
    },
  }),
];
const FAST_SCHEMA = jsYaml.FAILSAFE_SCHEMA.extend({ implicit: coreTypes });

/**
 * Text the fast path must leave to the exact path: anything that could be a tag (`!`), an anchor
 * (`&name`), a directive (`%` at a line start), a merge key (`<<`) or a document marker (`---`,
 * `...`), where the two parsers' rules differ. Aliases need no screen: without an anchor every
 * alias is an error, so js-yaml throws and the exact path reports it. Cron expressions such as
 * "0 6 * * *" therefore stay on the fast path. False alarms only cost speed.
 */
const NEEDS_EXACT_PATH = /(?:^|[\s[\]{},])(?:!|&\S)|^%|<<|^(?:---|\.\.\.)/m;

/**
 * Text where js-yaml and `yaml` give different data or only `yaml` reports an error:
 * - a null key (`~: x`, `null: x`, `: x`): js-yaml makes it the property "null", `yaml` makes it "";
 * - a list or map as a key (`[a, b]: x`, `? [a]`): js-yaml makes it "a,b", `yaml` "[ a, b ]";
 * - a comment glued to a quoted value or flow collection (`"x"#c`): an error in `yaml` only;
 * - a lone CR as line break: `yaml` does not take it for one;
 * - an empty block sequence item (`- ` alone on its line): when it ends a nested list, js-yaml
 *   wrongly puts the next, less indented item into that nested list (`- - \n- c` -> [[null, "c"]]).
 */
const DIFFERS_IN_JS_YAML = /^[ \t]*(?:-[ \t]+)*-[ \t]*(?:#.*)?$|(?:^|[\s?,[{-])(?:~|[Nn]ull|NULL)[ \t]*:(?=\s|[,\]}]|$)|(?:^|[?,[{-])[ \t]*:(?=\s|[,\]}]|$)|[\]}][ \t]*:(?=\s|[,\]}]|$)|(?:^|[\s[{,])\?(?=\s|$)|["'\]}]#|\r(?!\n)/m;
/** `yaml` refuses an implicit key of more than 1024 characters; js-yaml has no limit. */
const MAX_FAST_LINE = 1000;

function hasLongLine(text: string): boolean {
  let start = 0;
  for (;;) {
    const end = text.indexOf("\n", start);
    if ((end === -1 ? text.length : end) - start > MAX_FAST_LINE) return true;
    if (end === -1) return false;
    start = end + 1;
  }
}

/**
 * Whether a flow collection (`[...]`, `{...}`) is still open at a line break. `yaml` then requires
 * its lines to be indented more than the parent block; js-yaml does not check.
 */
function flowSpansLines(text: string): boolean {
  if (!/[[{]/.test(text)) return false;
  let depth = 0;
  let last = "\n"; // previous character on this line, "\n" at a line start
  let lastSignificant = "\n"; // previous non-blank character on this line
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (c === "\n" || c === "\r") {
      if (depth > 0) return true;
      last = lastSignificant = "\n";
      continue;
    }
    if (c === " " || c === "\t") {
      last = c;
      continue;
    }
    const afterBlank = last === "\n" || last === " " || last === "\t";
    if (c === "#" && afterBlank) {
      while (i + 1 < text.length && text[i + 1] !== "\n" && text[i + 1] !== "\r") i++;
      continue;
    }
    const atNodeStart = lastSignificant === "\n" || "[{,".includes(lastSignificant) || (":-?".includes(lastSignificant) && (afterBlank || depth > 0));
    if ((c === "[" || c === "{") && (atNodeStart || depth > 0)) depth++;
    else if ((c === "]" || c === "}") && depth > 0) depth--;
    else if ((c === '"' || c === "'") && atNodeStart) {
      // Skip the quoted scalar; at depth 0 only to the end of its line, so a stray quote in a block
      // scalar cannot hide what follows.
      let j = i + 1;
      for (; j < text.length; j++) {
        const d = text[j];
        if (d === "\n" || d === "\r") {
          if (depth > 0) return true;
          break;
        }
        if (c === '"' && d === "\\") j++;
        else if (d === c) {
          if (c === "'" && text[j + 1] === "'") j++;
          else break;
        }
      }
      if (j >= text.length) return depth > 0;
      if (text[j] === "\n" || text[j] === "\r") {
        i = j - 1;
        last = lastSignificant = c;
        continue;
      }
      i = j;
    }
    last = lastSignificant = text[i] as string;
  }
  return depth > 0;
}

/** Parses with the fast path; `undefined` means "ask the exact path". Never reports errors itself. */
export function parseYamlFast(text: string): { data: unknown } | undefined {
  if (NEEDS_EXACT_PATH.test(text) || DIFFERS_IN_JS_YAML.test(text) || hasLongLine(text) || flowSpansLines(text)) return undefined;
  try {
    return { data: jsYaml.load(text, { schema: FAST_SCHEMA }) ?? null };
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// Exact path
// ---------------------------------------------------------------------------------------------

/** Parses with positions. Reports every syntax problem, not only the first. */
export function parseYamlExact(text: string): ({ ok: true; data: unknown } & PositionedDocument) | { ok: false; problems: SpecProblem[] } {
  const { LineCounter, parseAllDocuments, parseDocument, visit, isMap, isSeq, isScalar } = yamlLib();
  const lineCounter = new LineCounter();
  const at = (offset: number | undefined): { line: number; column: number } => {
    const { line, col } = lineCounter.linePos(offset ?? 0);
    return { line, column: col };
  };
  // `yaml` misreads a block sequence right after a byte order mark ("\uFEFF- a"); the BOM is no content.
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  let docs: Document.Parsed[];
  try {
    docs = parseAllDocuments(text, {
      lineCounter,
      version: "1.2",
      schema: "core",
      merge: false,
      // Keys that differ in the text but become the same property ("1" and 1, "" and ~) are duplicates too.
      uniqueKeys: (a: unknown, b: unknown) => a === b || (isScalar(a) && isScalar(b) && propertyName(a.value) === propertyName(b.value)),
      strict: true,
      prettyErrors: false,
      stringKeys: false,
    }) as Document.Parsed[];
  } catch (error) {
    return { ok: false, problems: [unexpectedProblem(error)] };
  }
  if (!Array.isArray(docs)) docs = [docs as Document.Parsed];
  const problems: SpecProblem[] = [];
  for (const doc of docs) {
    for (const e of [...doc.errors, ...doc.warnings]) {
      const { line, column } = at(e.pos[0]);
      if (e.code === "DUPLICATE_KEY") {
        const key = /^[^\s:#,\]}]+|^"[^"]*"|^'[^']*'/.exec(text.slice(e.pos[0]))?.[0];
        problems.push(problem("yaml.duplicate_key", `duplicate key${key !== undefined ? ` '${key.replace(/^["']|["']$/g, "")}'` : ""}: a key may appear only once in a map`, line, column, "", "remove one of the two: many tools would silently keep only the last"));
      } else {
        problems.push(problem("yaml.syntax", cleanYamlMessage(e.message), line, column));
      }
    }
  }
  if (docs.length > 1) {
    const second = docs[1] as Document.Parsed;
    const { line, column } = at(second.range[0]);
    problems.push(problem("yaml.multiple_documents", `file holds ${docs.length} YAML documents; goalops reads one document per file`, line, column, "", "put each goal, lesson or rule in a file of its own"));
  }
  const doc = docs[0];
  if (doc === undefined) {
    // An empty or comment-only file has no document; keep an empty one so positions still work.
    const emptyCounter = new LineCounter();
    return { ok: true, data: null, doc: parseDocument(text, { lineCounter: emptyCounter }) as Document.Parsed, lineCounter: emptyCounter };
  }
  if (doc.directives?.yaml.explicit || hasTagDirective(text)) {
    problems.push(problem("yaml.directive", "YAML directives (%YAML, %TAG) are not allowed: they change what plain values mean", ...lc(at(0)), "", "remove the directive line; goalops always reads YAML 1.2 core"));
  }
  visit(doc, {
    Pair(_key, pair) {
      if (isMap(pair.key) || isSeq(pair.key)) {
        const { line, column } = at((pair.key as YamlNode).range?.[0]);
        problems.push(problem("yaml.complex_key", "a list or map is used as a map key; keys must be plain values", line, column, "", "use a string as the key"));
      }
      return undefined;
    },
    Node(_key, node) {
      if ((isScalar(node) || isMap(node) || isSeq(node)) && node.tag !== undefined && !CORE_TAGS.has(node.tag)) {
        const { line, column } = at(node.range?.[0]);
        problems.push(problem("yaml.tag", `custom tag '${node.tag}' is not allowed`, line, column, "", "remove the tag: spec files hold plain strings, numbers, booleans, lists and maps"));
      }
      return undefined;
    },
  });
  if (problems.length > 0) return { ok: false, problems: dedupe(problems) };
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    if (/alias/i.test(message)) {
      return { ok: false, problems: [problem("yaml.alias_bomb", `too many alias expansions (more than ${MAX_ALIAS_COUNT}): refused to protect memory`, 1, 1, "", "write the values out instead of using anchors and aliases")] };
    }
    return { ok: false, problems: [unexpectedProblem(error)] };
  }
  return { ok: true, data: data ?? null, doc, lineCounter };
}

/** The JS property name a scalar key becomes (as `yaml`'s toJS makes it). */
function propertyName(value: unknown): string {
  return value === null ? "" : String(value);
}

function lc(p: { line: number; column: number }): [number, number] {
  return [p.line, p.column];
}

function hasTagDirective(text: string): boolean {
  return /^%/m.test(text);
}

function dedupe(problems: SpecProblem[]): SpecProblem[] {
  const seen = new Set<string>();
  return problems.filter((p) => {
    const key = `${p.line}:${p.column}:${p.code}:${p.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function cleanYamlMessage(message: string): string {
  // yaml appends " at line L, column C" and a code excerpt when prettyErrors is on; we keep it off,
  // but strip any trailing position anyway so the message does not repeat what file:line:col says.
  return message.replace(/ at line \d+, column \d+:?[\s\S]*$/, "").trim();
}

function unexpectedProblem(error: unknown): SpecProblem {
  if (error instanceof RangeError) {
    return problem("yaml.too_deep", "the YAML nests too deeply to read", 1, 1, "", "spec files need only a few levels of nesting");
  }
  const message = error instanceof Error ? error.message : String(error);
  return problem("yaml.unreadable", `could not read the YAML: ${message}`);
}

/**
 * The position of a field path in a document: the key for a map entry (so an unknown field points at
 * its name), the item for a list entry; the nearest existing ancestor when the path does not exist.
 */
export function positionOf(positioned: PositionedDocument, path: readonly (string | number)[], preferKey = true): { line: number; column: number } {
  const { doc, lineCounter } = positioned;
  const { isAlias, isMap, isPair, isScalar, isSeq } = yamlLib();
  let node: unknown = doc.contents;
  let offset = (doc.contents as YamlNode | null)?.range?.[0] ?? 0;
  for (let i = 0; i < path.length; i++) {
    const segment = path[i];
    if (isAlias(node)) break;
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(segment));
      if (pair === undefined) break;
      const isLast = i === path.length - 1;
      const keyNode = pair.key as YamlNode;
      const valueNode = pair.value as YamlNode | null;
      offset = isLast && preferKey ? (keyNode.range?.[0] ?? offset) : (valueNode?.range?.[0] ?? keyNode.range?.[0] ?? offset);
      node = valueNode;
    } else if (isSeq(node) && typeof segment === "number") {
      const item = node.items[segment] as YamlNode | undefined;
      if (item === undefined) break;
      offset = item.range?.[0] ?? offset;
      node = item;
    } else {
      break;
    }
  }
  const { line, col } = lineCounter.linePos(offset);
  return { line, column: col };
}

/** Formats a field path as people write it: `key_result.target`, `dependencies[1]`. */
export function formatFieldPath(path: readonly (string | number)[]): string {
  let out = "";
  for (const segment of path) {
    if (typeof segment === "number") out += `[${segment}]`;
    else out += out === "" ? segment : `.${segment}`;
  }
  return out;
}

/** Splits an ajv `instancePath` (JSON pointer) into segments, numbers for list indexes. */
export function pointerToPath(pointer: string, data: unknown): (string | number)[] {
  if (pointer === "") return [];
  const segments = pointer.slice(1).split("/").map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"));
  const path: (string | number)[] = [];
  let node: unknown = data;
  for (const segment of segments) {
    if (Array.isArray(node) && /^\d+$/.test(segment)) {
      path.push(Number(segment));
      node = node[Number(segment)];
    } else {
      path.push(segment);
      node = node !== null && typeof node === "object" ? (node as Record<string, unknown>)[segment] : undefined;
    }
  }
  return path;
}
