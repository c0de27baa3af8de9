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
  if ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff)) {
    return { ok: false, problems: [problem("file.encoding", "file is UTF-16 (it starts with a UTF-16 byte order mark); goalops reads UTF-8", 1, 1, "", "save it as UTF-8")] };
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
  // A lenient decode turns each bad sequence into U+FFFD; the valid text before the first one
  // re-encodes to exactly the bytes before the bad one. A literal U+FFFD in the file is valid UTF-8
  // (EF BF BD) and is skipped.
  const decoded = new TextDecoder("utf-8").decode(bytes);
  for (let i = decoded.indexOf("\uFFFD"); i !== -1; i = decoded.indexOf("\uFFFD", i + 1)) {
    const offset = Buffer.byteLength(decoded.slice(0, i));
    if (!(bytes[offset] === 0xef && bytes[offset + 1] === 0xbf && bytes[offset + 2] === 0xbd)) return offset;
  }
  return 0;
}

// ---------------------------------------------------------------------------------------------
// Fast path
// ---------------------------------------------------------------------------------------------

/** The scalar resolvers of YAML 1.2's core schema, as `yaml` implements them (same regexes). */
const coreTypes = [
  new jsYaml.Type("tag:yaml.org,2002:null", {
    kind: "scalar",
    // A first-character check before each regex: most plain scalars are words, and js-yaml asks
    // every implicit type about every plain scalar.
    resolve: (s: string) => (s.length === 0 || "~nN".includes(s[0] as string)) && /^(?:~|[Nn]ull|NULL)?$/.test(s),
    construct: () => null,
  }),
  new jsYaml.Type("tag:yaml.org,2002:bool", {
    kind: "scalar",
    resolve: (s: string) => "tTfF".includes(s[0] as string) && /^(?:[Tt]rue|TRUE|[Ff]alse|FALSE)$/.test(s),
    construct: (s: string) => s[0] === "t" || s[0] === "T",
  }),
  new jsYaml.Type("tag:yaml.org,2002:int", {
    kind: "scalar",
    resolve: (s: string) => "0123456789+-".includes(s[0] as string) && (/^0o[0-7]+$/.test(s) || /^[-+]?[0-9]+$/.test(s) || /^0x[0-9a-fA-F]+$/.test(s)),
    construct: (s: string) => (s.startsWith("0o") ? Number.parseInt(s.slice(2), 8) : s.startsWith("0x") ? Number.parseInt(s.slice(2), 16) : Number.parseInt(s, 10)),
  }),
  new jsYaml.Type("tag:yaml.org,2002:float", {
    kind: "scalar",
    resolve: (s: string) =>
      "0123456789+-.".includes(s[0] as string) &&
      (/^(?:[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN)$/.test(s) ||
      /^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)[eE][-+]?[0-9]+$/.test(s) ||
      /^[-+]?(?:\.[0-9]+|[0-9]+\.[0-9]*)$/.test(s)),
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
const EMPTY_SEQUENCE_ITEM = /^[ \t]*(?:-[ \t]+)*-[ \t]*(?:#.*)?$/m;
const NULL_KEY = /(?:^|[\s?,[{-])(?:~|[Nn]ull|NULL)[ \t]*:(?=\s|[,\]}]|$)/m;
const EMPTY_KEY = /(?:^|[?,[{-])[ \t]*:(?=\s|[,\]}]|$)/m;
const COLLECTION_KEY = /[\]}][ \t]*:(?=\s|[,\]}]|$)/;
const EXPLICIT_KEY = /(?:^|[\s[{,])\?(?=\s|$)/m;
const GLUED_COMMENT = /["'\]}]#/;
const LONE_CR = /\r(?!\n)/;

/**
 * One regex per case, each behind a cheap guard: a single regex of all the alternatives cost as
 * much as js-yaml's own parse (every alternative tried at every position).
 */
function differsInJsYaml(text: string): boolean {
  return (
    (/-[ \t]*(?:#.*)?$/m.test(text) && EMPTY_SEQUENCE_ITEM.test(text)) ||
    (/(?:~|ull|ULL)[ \t]*:/.test(text) && NULL_KEY.test(text)) ||
    EMPTY_KEY.test(text) ||
    COLLECTION_KEY.test(text) ||
    (text.includes("?") && EXPLICIT_KEY.test(text)) ||
    (text.includes("#") && GLUED_COMMENT.test(text)) ||
    (text.includes("\r") && LONE_CR.test(text))
  );
}
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
 * The common case, cheaply: every line with an opening bracket closes as many as it opens and has
 * no quote that could hide a bracket. Then no flow collection spans lines.
 */
function flowLinesBalanced(text: string): boolean {
  const opener = /[[{]/g;
  for (let match = opener.exec(text); match !== null; match = opener.exec(text)) {
    const open = match.index;
    const start = text.lastIndexOf("\n", open) + 1;
    let end = text.indexOf("\n", open);
    if (end === -1) end = text.length;
    let depth = 0;
    for (let i = start; i < end; i++) {
      const c = text.charCodeAt(i);
      if (c === 0x5b || c === 0x7b) depth++;
      else if ((c === 0x5d || c === 0x7d) && --depth < 0) return false;
      else if (c === 0x22 || c === 0x27 || c === 0x23) return false; // a quote or comment: let the full scan decide
    }
    if (depth !== 0) return false;
    opener.lastIndex = end;
  }
  return true;
}

/**
 * Whether a flow collection (`[...]`, `{...}`) is still open at a line break. `yaml` then requires
 * its lines to be indented more than the parent block; js-yaml does not check.
 */
function flowSpansLines(text: string): boolean {
  if (!/[[{]/.test(text) || flowLinesBalanced(text)) return false;
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
  if (NEEDS_EXACT_PATH.test(text) || differsInJsYaml(text) || hasLongLine(text) || flowSpansLines(text)) return undefined;
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
  for (const doc of docs) problems.push(...documentErrors(doc, text, at));
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
  let firstAlias: number | undefined;
  visit(doc, {
    Pair(_key, pair, path) {
      if (isMap(pair.key) || isSeq(pair.key)) {
        const { line, column } = at((pair.key as YamlNode).range?.[0]);
        problems.push(problem("yaml.complex_key", "a list or map is used as a map key; keys must be plain values", line, column, formatFieldPath(fieldPathOf(path, pair)), "use a string as the key"));
      }
      return undefined;
    },
    Alias(_key, alias, path) {
      firstAlias ??= alias.range?.[0];
      if (alias.resolve(doc) === undefined) {
        const { line, column } = at(alias.range?.[0]);
        problems.push(problem("yaml.syntax", `alias '*${alias.source}' refers to no anchor: define '&${alias.source}' before it`, line, column, formatFieldPath(fieldPathOf(path, alias))));
      }
      return undefined;
    },
    Node(_key, node, path) {
      if ((isScalar(node) || isMap(node) || isSeq(node)) && node.tag !== undefined && !CORE_TAGS.has(node.tag)) {
        const { line, column } = at(tagOffset(text, node.range?.[0] ?? 0));
        const shown = node.tag.startsWith("tag:yaml.org,2002:") ? `!!${node.tag.slice("tag:yaml.org,2002:".length)}` : node.tag;
        problems.push(problem("yaml.tag", `tag '${shown}' is not allowed`, line, column, formatFieldPath(fieldPathOf(path, node)), "remove the tag: spec files hold plain strings, numbers, booleans, lists and maps"));
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
    if (/excessive alias count/i.test(message)) {
      const { line, column } = at(firstAlias);
      return { ok: false, problems: [problem("yaml.alias_bomb", `too many alias expansions (more than ${MAX_ALIAS_COUNT}): refused to protect memory`, line, column, "", "write the values out instead of using anchors and aliases")] };
    }
    return { ok: false, problems: [unexpectedProblem(error)] };
  }
  return { ok: true, data: data ?? null, doc, lineCounter };
}

type At = (offset: number | undefined) => { line: number; column: number };

/**
 * The errors `yaml` found in one document, as problems at the place a person would fix:
 * the first syntax error only (the ones after it are mostly its echoes), each duplicate key with
 * its field, unclosed quotes and brackets at their opening character, runaway nesting once.
 */
function documentErrors(doc: Document.Parsed, text: string, at: At): SpecProblem[] {
  const problems: SpecProblem[] = [];
  // Unresolved tags are reported, with their field, by the tag check.
  const errors = [...doc.errors, ...doc.warnings].filter((e) => e.code !== "TAG_RESOLVE_FAILED").sort((a, b) => a.pos[0] - b.pos[0]);
  for (const e of errors.filter((e) => e.code === "DUPLICATE_KEY")) {
    const { line, column } = at(e.pos[0]);
    const key = /^[^\s:#,\]}]+|^"[^"]*"|^'[^']*'/.exec(text.slice(e.pos[0]))?.[0]?.replace(/^["']|["']$/g, "");
    const field = fieldPathAtOffset(doc, e.pos[0]);
    problems.push(problem("yaml.duplicate_key", `duplicate key${key !== undefined ? ` '${key}'` : ""}: a key may appear only once in a map`, line, column, field, "remove one of the two: many tools would silently keep only the last"));
  }
  const syntax = errors.filter((e) => e.code !== "DUPLICATE_KEY");
  const first = syntax[0];
  if (first === undefined) return problems;
  if (first.code === "RESOURCE_EXHAUSTION" || syntax.some((e) => e.code === "RESOURCE_EXHAUSTION")) {
    const { line, column } = at(nestingStart(text, (syntax.find((e) => e.code === "RESOURCE_EXHAUSTION") ?? first).pos[0]));
    problems.push(problem("yaml.too_deep", "the YAML nests too deeply to read", line, column, "", "spec files need only a few levels of nesting"));
    return problems;
  }
  let offset = first.pos[0];
  let message = cleanYamlMessage(first.message);
  if (first.code === "MISSING_CHAR" && /quote/i.test(first.message)) {
    offset = openingQuote(text, first.pos[0]);
    message = "this quoted value is never closed";
  } else if (first.code === "BAD_INDENT" && /^Flow (sequence|mapping)/.test(first.message)) {
    offset = openingBracket(text, first.pos[0]);
    message = `this ${text[offset] === "{" ? "{" : "["} is never closed (or the lines after it are not indented under it)`;
  } else if (first.code === "BLOCK_AS_IMPLICIT_KEY" || first.code === "MULTILINE_IMPLICIT_KEY") {
    // yaml reports the key before; the line that is out of place is the one that continues it.
    const multiline = syntax.find((e) => e.code === "MULTILINE_IMPLICIT_KEY");
    const end = multiline?.pos[1] ?? first.pos[1];
    offset = firstCharOfLine(text, lineStart(text, Math.max(first.pos[0], end - 1)));
    message = "bad indentation: this line does not line up with the keys above it";
  }
  const { line, column } = at(offset);
  problems.push(problem("yaml.syntax", message, line, column));
  return problems;
}

function lineStart(text: string, offset: number): number {
  return text.lastIndexOf("\n", offset - 1) + 1;
}

function firstCharOfLine(text: string, start: number): number {
  let i = start;
  while (text[i] === " " || text[i] === "\t") i++;
  return i;
}

/** The quote that opens the unterminated scalar an error at `offset` is about. */
function openingQuote(text: string, offset: number): number {
  for (let i = Math.min(offset, text.length) - 1; i >= 0; i--) {
    const c = text[i];
    if ((c === '"' || c === "'") && (i === 0 || /[\s:[{,-]/.test(text[i - 1] as string))) return i;
  }
  return offset;
}

/** The bracket or brace left open before `offset`. */
function openingBracket(text: string, offset: number): number {
  let depth = 0;
  for (let i = Math.min(offset, text.length) - 1; i >= 0; i--) {
    const c = text[i];
    if (c === "]" || c === "}") depth++;
    else if (c === "[" || c === "{") {
      if (depth === 0) return i;
      depth--;
    }
  }
  return offset;
}

/** Where runaway nesting that overflowed near `offset` begins: the first bracket of its line. */
function nestingStart(text: string, offset: number): number {
  const start = lineStart(text, Math.min(offset, text.length));
  const end = text.indexOf("\n", start);
  const line = text.slice(start, end === -1 ? undefined : end);
  const bracket = line.search(/[[{]/);
  return bracket === -1 ? firstCharOfLine(text, start) : start + bracket;
}

/** Where the tag of a node starts: its `!` (the node's range starts at its value). */
function tagOffset(text: string, valueOffset: number): number {
  const bang = text.lastIndexOf("!", valueOffset);
  if (bang === -1 || bang < lineStart(text, valueOffset)) return valueOffset;
  let i = bang;
  while (i > 0 && !/[\s[{,:]/.test(text[i - 1] as string)) i--;
  return i;
}

/** The field path of a node from `visit`'s list of ancestors. */
function fieldPathOf(ancestors: readonly unknown[], node: unknown): (string | number)[] {
  const { isPair, isScalar, isSeq } = yamlLib();
  const chain = [...ancestors, node];
  const path: (string | number)[] = [];
  for (let i = 0; i < chain.length - 1; i++) {
    const parent = chain[i];
    const child = chain[i + 1];
    if (isPair(parent) && child === parent.value) path.push(isScalar(parent.key) ? String(parent.key.value) : String(parent.key));
    else if (isSeq(parent)) path.push(parent.items.indexOf(child as never));
  }
  return path;
}

/** The field path of the map key that starts at `offset`. */
function fieldPathAtOffset(doc: Document.Parsed, offset: number): string {
  const { visit, isScalar } = yamlLib();
  let found = "";
  visit(doc, {
    Pair(_key, pair, path) {
      if (isScalar(pair.key) && pair.key.range?.[0] === offset) {
        found = formatFieldPath([...fieldPathOf(path, pair), String(pair.key.value)]);
        return visit.BREAK;
      }
      return undefined;
    },
  });
  return found;
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
