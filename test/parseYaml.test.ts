/**
 * The two YAML paths of src/spec/parseYaml.ts must give the same meaning: whenever the fast path
 * (js-yaml) returns data, it must be exactly what the exact path (`yaml`) returns, and whenever the
 * exact path reports a problem the fast path must have deferred. Also the safety properties of
 * reading untrusted spec files: alias bombs, deep nesting, directives, tags, several documents,
 * duplicate keys, prototype pollution, binary and badly encoded files, size limit, non-finite numbers.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { inspect } from "node:util";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { DEFAULT_MAX_FILE_BYTES, decodeSpecBytes, parseYamlExact, parseYamlFast, type SpecProblem } from "../src/spec/parseYaml.js";
import { validateAgainstSchema } from "../src/spec/schemaValidator.js";
import { loadSpecFile } from "../src/spec/specFile.js";
import { goalYaml, IDS, krYaml } from "./helpers/specs.js";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/** Deep equality that tells -0 from 0, counts NaN equal to NaN, and compares key order and prototypes. */
function sameValue(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return false;
  const ka = Reflect.ownKeys(a);
  const kb = Reflect.ownKeys(b);
  if (ka.length !== kb.length) return false;
  for (let i = 0; i < ka.length; i++) {
    const key = ka[i] as string | symbol;
    if (key !== kb[i]) return false;
    const da = Object.getOwnPropertyDescriptor(a, key);
    const db = Object.getOwnPropertyDescriptor(b, key);
    if (da?.enumerable !== db?.enumerable) return false;
    if (!sameValue(da?.value, db?.value)) return false;
  }
  return true;
}

const show = (value: unknown): string => inspect(value, { depth: 8, breakLength: Number.POSITIVE_INFINITY, maxStringLength: 120 });
const clip = (text: string): string => (text.length > 400 ? `${JSON.stringify(text.slice(0, 400))}... (${text.length} chars)` : JSON.stringify(text));
const codes = (problems: readonly SpecProblem[]): string[] => problems.map((p) => p.code);

interface Comparison {
  /** A description of the disagreement with the snippet; undefined when the paths agree. */
  problem?: string;
  fastAccepted: boolean;
  exactAccepted: boolean;
}

/**
 * Runs both paths on a text. They agree when the fast path deferred, or when both gave the same data;
 * they disagree when the fast path returned data the exact path refuses or reads differently.
 */
function compare(text: string): Comparison {
  let fast: { data: unknown } | undefined;
  let exact: ReturnType<typeof parseYamlExact>;
  try {
    fast = parseYamlFast(text);
  } catch (error) {
    return { problem: `parseYamlFast threw ${String(error)} on ${clip(text)}`, fastAccepted: false, exactAccepted: false };
  }
  try {
    exact = parseYamlExact(text);
  } catch (error) {
    return { problem: `parseYamlExact threw ${String(error)} on ${clip(text)}`, fastAccepted: fast !== undefined, exactAccepted: false };
  }
  const result: Comparison = { fastAccepted: fast !== undefined, exactAccepted: exact.ok };
  if (fast === undefined) return result;
  if (!exact.ok) {
    const problems = exact.problems.map((p) => `${p.code} ${p.line}:${p.column} ${p.message}`);
    return { ...result, problem: `fast accepted what exact refuses\n  snippet: ${clip(text)}\n  fast:    ${show(fast.data)}\n  exact:   ${show(problems)}` };
  }
  if (!sameValue(fast.data, exact.data)) {
    return { ...result, problem: `fast and exact disagree\n  snippet: ${clip(text)}\n  fast:    ${show(fast.data)}\n  exact:   ${show(exact.data)}` };
  }
  return result;
}

/** `yaml` reports some things (collection keys) with process.emitWarning; collect them instead of printing. */
const warnings: string[] = [];
beforeAll(() => {
  vi.spyOn(process, "emitWarning").mockImplementation((warning: string | Error) => {
    warnings.push(typeof warning === "string" ? warning : warning.message);
  });
});
afterAll(() => {
  vi.restoreAllMocks();
});

// ---------------------------------------------------------------------------------------------
// 1. Hand-written corpus
// ---------------------------------------------------------------------------------------------

const LONG = "x".repeat(5000);
const CORPUS: readonly string[] = [
  // empty and trivial documents
  "",
  "\n",
  "   \n\n",
  "# only a comment\n",
  "# a\n# b\n\n# c",
  "hello\n",
  "- a\n- b\n",
  "42\n",
  // null forms and near misses
  "a: ~\nb: null\nc: Null\nd: NULL\ne:\nf: nULL\ng: NuLL\n",
  "a:\n  \nb: 1\n",
  // booleans and YAML 1.1 booleans that must stay strings
  "a: true\nb: True\nc: TRUE\nd: false\ne: False\nf: FALSE\ng: tRUE\n",
  "a: yes\nb: no\nc: on\nd: off\ne: y\nf: n\ng: Y\nh: N\ni: Yes\nj: NO\nk: On\nl: OFF\n",
  "owner_agent: no\nlearning_required: yes\n",
  // integers
  "a: 0\nb: -0\nc: +0\nd: +12\ne: -12\nf: 007\ng: -007\nh: 08\n",
  "a: 0o17\nb: 0o8\nc: 0O17\nd: -0o17\ne: +0o17\n",
  "a: 0x1F\nb: 0x1f\nc: 0X1F\nd: -0x1F\ne: 0xg\nf: 0x\n",
  "a: 0b101\nb: 1_000\nc: 1,000\nd: 1 000\ne: 1__0\n",
  "a: 9007199254740993\nb: 12345678901234567890\nc: -12345678901234567890123\n",
  `a: ${"9".repeat(400)}\nb: 0x${"f".repeat(300)}\n`,
  // floats
  "a: 12e3\nb: 12E3\nc: 1e+5\nd: -1e-5\ne: 1.e5\nf: .5e1\ng: e5\nh: 1e\n",
  "a: 1.\nb: 1.0\nc: .5\nd: -.5\ne: +.5\nf: -.5e-3\ng: -0.0\nh: 0.0\ni: -.0\n",
  "a: .\nb: -.\nc: +.\nd: 1.2.3\ne: 1..2\n",
  "a: .inf\nb: .Inf\nc: .INF\nd: +.inf\ne: -.inf\nf: -.Inf\ng: -.INF\n",
  "a: .nan\nb: .NaN\nc: .NAN\nd: -.nan\ne: +.nan\nf: .nAn\n",
  "a: .iNf\nb: inf\nc: Infinity\nd: -Infinity\ne: NaN\nf: nan\n",
  "a: 1e400\nb: -1e400\nc: 1e-400\nd: -1e-400\n",
  // dates, times and other YAML 1.1 forms that are strings in 1.2 core
  "a: 2026-12-31\nb: 2026-12-31T10:00:00Z\nc: 2026-12-31 10:00:00\nd: 2026-12-31t10:00:00.5+02:00\n",
  "a: 12:30\nb: 1:20:30\nc: 190:20:30\nd: 0:0\n",
  // indicators inside plain scalars
  "a: b:c\nb: http://example.com/x#frag\nc: a#b\nd: a # a comment\ne: x:\n",
  "a: -b\nb: :b\nc: ?b\nd: a - b\ne: a ? b\nf: x, y\n",
  "a: it's\nb: say \"hi\"\nc: 50%\nd: a&b\ne: a*b\nf: a!b\ng: a|b\nh: a>b\n",
  "title: Fix [bug] in {parser}\n",
  "a: b: c\n",
  "a: - b\n",
  "a: @foo\n",
  "a: `x\n",
  "a: %foo\n",
  "- a\n -b\n",
  // double-quoted strings and escapes
  'a: "plain"\nb: ""\nc: "~"\nd: "true"\ne: "0x1F"\nf: "1e3"\ng: ".nan"\n',
  'a: "\\/\\e\\N\\_\\L\\P\\ \\x41\\u00e9\\U0001F600\\0\\a\\b\\t\\v\\f\\r\\n\\"\\\\"\n',
  'a: "tab\\there"\nb: "\\ttab"\nc: "\tliteral tab"\n',
  'a: "\\q"\n',
  'a: "x" y\n',
  'a: "one\n  two\n\n  three"\n',
  'a: "escaped \\\n  newline"\n',
  'a: "trailing   \n  spaces"\n',
  // single-quoted strings
  "a: 'it''s'\nb: ''\nc: ''''\nd: '~'\ne: 'null'\nf: '\\n'\n",
  "a: 'one\n  two\n\n  three'\n",
  "'a\nb': c\n",
  // block scalars
  "a: |\n  line 1\n  line 2\n",
  "a: |-\n  x\n",
  "a: |+\n  x\n\n\n",
  "a: >\n  folded\n  text\n\n  para\n",
  "a: >-\n  x\n  y\n",
  "a: >+\n  x\n\n",
  "a: |2\n   x\n  y\n",
  "a: >2-\n   x\n  y\n",
  "a: |-2\n   x\n",
  "a: | # comment\n  x\n",
  "a: >\n  x\n    indented\n  y\n",
  "a: |\n  x\n   \n  y\n",
  "a: |\n\n  x\n",
  "a: |\n",
  "a: |\nb: 1\n",
  "a: |+",
  "a: |0\n  x\n",
  "a: |\n  x\n y\n",
  "- |\n  a\n- >-\n  b\n  c\n",
  // flow collections
  "a: [1, two, \"3\", '4', ~, true]\n",
  "a: {b: 1, c: [x, y], d: {e: f}}\n",
  "a: []\nb: {}\nc: [[]]\nd: [{}]\n",
  "a: [a, b, ]\nb: {x: 1, }\n",
  "a: {a, b: 1}\n",
  "a: [a: 1, b]\n",
  "a: [\n  1,\n  2\n]\n",
  "a: [1,\n2]\n",
  'a: ["]",\n"["]\n',
  "a: [{b: 1}\n, 2]\n",
  "a: {b: 1,\nc: 2}\n",
  "a: [1, 2\nb: 3\n",
  "a: [1, 2]]\n",
  "a: {\"b\":1,\"c\":[true,null,1.5]}\n",
  '{"goal_id": "goal_x", "priority": 1}\n',
  "[1, [2, [3, [4]]]]\n",
  "a: [a#b, a #b]\n",
  // nested block collections
  "a:\n  b:\n    c:\n      d: 1\n",
  "a:\n- b\n- c\n",
  "a:\n  - b: 1\n    c: 2\n  - d: 3\n",
  "- - a\n  - b\n- - c\n",
  "- - \n- c\n",
  "- - b\n  - # empty\n- c\n",
  "- a:\n  - \n- c\n",
  "-\n  - b\n- c\n",
  "- - b\n  - ~\n- c\n",
  "- a: 1\n  b:\n    - x\n    - y: z\n",
  "a:\n    - b\n    -   c\n",
  "a:\n  b: 1\n c: 2\n",
  "a:\n  - b\n  c: 1\n",
  "a: b\n  c\n",
  "a:\n  b\n  c\n",
  "? a\n: b\n? c\n",
  "? |\n  k\n: v\n",
  // comments everywhere
  "# head\na: 1 # after value\n# between\nb: # after key\n  - x # after item\n  # inside list\n  - y\n# tail",
  "a: 'x'#c\n",
  "a: ! 12\n",
  'a: "x"#c\n',
  "a: [x]#c\n",
  "a: x #\n",
  "a:    # comment\n  value\n",
  // line endings and whitespace
  "a: 1\r\nb: |\r\n  x\r\n  y\r\nc: >\r\n  p\r\n  q\r\n",
  "a: 1\r\nb:\r\n  - x\r\n",
  "a: 1\rb: 2\r",
  "a: 1   \nb: two words   \nc: 'q'   \n",
  "a:\tb\n",
  "a: b\t\n",
  "a:\n\t- b\n",
  "-\ta\n",
  "a: 1\n\n\n\nb: 2",
  "\uFEFFa: 1\n",
  "\uFEFF",
  "\uFEFF- a\n",
  "a: \uFEFFb\n",
  // special keys
  "1: a\ntrue: b\n~: c\n",
  "~: c\n",
  "null: c\n",
  ": c\n",
  "? \n: c\n",
  "{~: a}\n",
  "1.5: a\n-0: b\n0x1F: c\n.inf: d\n.nan: e\n1e400: f\n",
  '"1": a\n\'true\': b\n"": c\n',
  "[a, b]: c\n",
  "{a: 1}: x\n",
  "? [a]\n: b\n",
  "a b: 1\n'c d': 2\n\"e\\tf\": 3\n",
  "__proto__: x\n",
  "__proto__: {polluted: true}\n",
  "constructor: {prototype: {polluted: true}}\ntoString: 1\nhasOwnProperty: 2\nvalueOf: 3\n",
  "a:\n  __proto__:\n    polluted: true\n",
  "- {__proto__: [1]}\n",
  // duplicate keys, including keys that only coincide as JS property names
  "a: 1\na: 2\n",
  "a:\n  b: 1\n  c: 2\n  b: 3\n",
  "1: a\n01: b\n",
  '1: a\n"1": b\n',
  'true: a\n"true": b\n',
  ".nan: a\n.NaN: b\n",
  '~: a\n"": b\n',
  // unicode
  "ключ: значение\n名前: 値\nemoji😀: 🎉\n",
  "a: caf\u00e9\nb: \u00a0nbsp\u00a0\nc: zero\u200bwidth\n",
  'a: "\\uD83D\\uDE00"\n',
  "a: x\u2028y\nb: x\u0085y\n",
  "a: \u0007\n",
  // long content
  `a: ${LONG}\n`,
  `${"k".repeat(1100)}: v\n`,
  `${"k".repeat(1000)}: v\n`,
  `a: "${LONG}"\n`,
  `a: >\n  ${Array.from({ length: 200 }, (_, i) => `word${i}`).join(" ")}\n`,
  // a realistic spec file
  "# yaml-language-server: $schema=../../schemas/goal.schema.json\ngoal_id: goal_01M6B5CJM0W8B9F354SPG2VVJZ\ngoal_type: key_result\ntitle: 90% verified success\npriority: 2\ntime_horizon: \"2026-12-31\"\nlearning_required: true\nkey_result:\n  metric: verified_success_rate\n  baseline: 71\n  target: 90.5\n",
];

describe("fast and exact paths agree on a hand-written corpus", () => {
  it("has at least 80 snippets, most of which the fast path accepts", () => {
    expect(CORPUS.length).toBeGreaterThanOrEqual(80);
    const accepted = CORPUS.filter((text) => compare(text).fastAccepted).length;
    expect(accepted).toBeGreaterThan(CORPUS.length / 2);
  });

  it.each(CORPUS.map((text) => [JSON.stringify(text).slice(0, 70), text] as const))("%s", (_name, text) => {
    expect(compare(text).problem).toBeUndefined();
  });

  it("the exact path writes no warnings (it must not print while reading a spec file)", () => {
    warnings.length = 0;
    for (const text of CORPUS) parseYamlExact(text);
    expect(warnings).toEqual([]);
  });
});

// Each core-schema scalar form, in a value position, read as YAML 1.2 core says (both paths).
const SCALARS: readonly (readonly [string, unknown])[] = [
  ["~", null], ["null", null], ["Null", null], ["NULL", null], ["", null], ["nULL", "nULL"],
  ["true", true], ["True", true], ["TRUE", true], ["false", false], ["False", false], ["FALSE", false], ["tRUE", "tRUE"],
  ["yes", "yes"], ["no", "no"], ["on", "on"], ["off", "off"], ["y", "y"], ["n", "n"], ["Y", "Y"], ["NO", "NO"], ["Off", "Off"],
  ["0", 0], ["-0", -0], ["+0", 0], ["+12", 12], ["-12", -12], ["007", 7], ["08", 8],
  ["0o17", 15], ["0o8", "0o8"], ["0O17", "0O17"], ["-0o17", "-0o17"], ["0x1F", 31], ["0x1f", 31], ["0X1F", "0X1F"], ["-0x1F", "-0x1F"],
  ["0b101", "0b101"], ["1_000", "1_000"], ["1,000", "1,000"],
  ["9007199254740993", 9007199254740992], ["12345678901234567890", Number("12345678901234567890")],
  ["12e3", 12000], ["12E3", 12000], ["1e+5", 100000], ["-1e-5", -0.00001], ["1.e5", 100000], ["e5", "e5"],
  ["1.", 1], ["1.0", 1], [".5", 0.5], ["-.5", -0.5], ["+.5", 0.5], ["-.5e-3", -0.0005], ["-0.0", -0], ["0.0", 0], [".", "."], ["1.2.3", "1.2.3"],
  [".inf", Number.POSITIVE_INFINITY], ["+.inf", Number.POSITIVE_INFINITY], ["-.Inf", Number.NEGATIVE_INFINITY], [".INF", Number.POSITIVE_INFINITY],
  [".nan", Number.NaN], [".NaN", Number.NaN], [".NAN", Number.NaN], ["-.nan", "-.nan"], [".iNf", ".iNf"], ["Infinity", "Infinity"], ["NaN", "NaN"],
  ["1e400", Number.POSITIVE_INFINITY], ["-1e400", Number.NEGATIVE_INFINITY],
  ["2026-12-31", "2026-12-31"], ["2026-12-31T10:00:00Z", "2026-12-31T10:00:00Z"], ["2026-12-31 10:00:00", "2026-12-31 10:00:00"], ["12:30", "12:30"],
  ["a:b", "a:b"], ["a#b", "a#b"], ["a #b", "a"], ["-a", "-a"], [":a", ":a"],
  ['"~"', "~"], ['"true"', "true"], ["'0x1F'", "0x1F"], ['""', ""], ["''", ""], ["'it''s'", "it's"], ['"\\u00e9\\t"', "\u00e9\t"],
];

describe("core-schema scalars mean what YAML 1.2 core says on both paths", () => {
  it.each(SCALARS.map(([src, value]) => [src, value] as const))("v: %s", (src, value) => {
    const text = `v: ${src}\n`;
    const exact = parseYamlExact(text);
    expect(exact.ok).toBe(true);
    const exactValue = exact.ok ? (exact.data as Record<string, unknown>).v : undefined;
    expect(Object.is(exactValue, value), `exact read ${show(exactValue)}, expected ${show(value)}`).toBe(true);
    const fast = parseYamlFast(text);
    expect(fast, "the fast path should take a plain scalar").toBeDefined();
    const fastValue = (fast?.data as Record<string, unknown> | undefined)?.v;
    expect(Object.is(fastValue, value), `fast read ${show(fastValue)}, expected ${show(value)}`).toBe(true);
  });
});

// ---------------------------------------------------------------------------------------------
// 2. Seeded randomized differential test
// ---------------------------------------------------------------------------------------------

/** mulberry32: a small deterministic PRNG. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const KEY_POOL = [
  "a", "b", "title", "owner_agent", "priority", "key_result", "x y", "ключ", "名前", "emoji😀", "__proto__", "constructor", "toString",
  "hasOwnProperty", "1", "0x1F", "-0", "12e3", "1.5", "true", "False", "~", "null", "yes", "2026-12-31", "a.b", "a-b", "_", "k:v", "a#b",
];
const SCALAR_POOL = [
  "~", "null", "Null", "NULL", "", "true", "True", "TRUE", "false", "FALSE", "yes", "no", "on", "off", "y", "n", "Yes", "OFF",
  "0", "-0", "+0", "+12", "007", "0o17", "0o8", "0x1F", "0X1F", "0b101", "1_000", "12e3", "1e+5", "1.", "1.0", ".5", "-.5e-3", "-0.0",
  ".inf", "-.Inf", "+.INF", ".NaN", ".nan", "-.nan", "1e400", "9007199254740993", "12345678901234567890", ".", "1.2.3",
  "2026-12-31", "2026-12-31T10:00:00Z", "12:30", "a:b", "a: b", "a #b", "a#b", "# c", "- x", "-x", ":x", "?x", "[x", "x]", "{x}", "x, y",
  "it's", 'say "hi"', "back\\slash", "tab\there", "50%", "a&b", "a*b", "café", "ключ значение", "🎉", "trailing ", " leading",
  "line 1\nline 2", "line 1\n\nline 3\n", "  indented\nnot", "x\n", "word ".repeat(40).trim(), "plain text value", "Fix [bug] now",
];
const COMMENTS = ["# note", "#", "# &not-an-anchor? no: a comment", "# key: value", "#: odd"];

function generateDocument(rand: () => number): string {
  const int = (n: number): number => Math.floor(rand() * n);
  const pick = <T>(items: readonly T[]): T => items[int(items.length)] as T;
  const chance = (p: number): boolean => rand() < p;
  const lines: string[] = [];

  const key = (): string => {
    const k = pick(KEY_POOL);
    const r = rand();
    if (r < 0.15) return JSON.stringify(k);
    if (r < 0.25) return `'${k.replace(/'/g, "''")}'`;
    return k;
  };
  /** A scalar inline (after `key: ` or `- ` or in a flow collection). */
  const inlineScalar = (inFlow: boolean): string => {
    const s = pick(SCALAR_POOL);
    const r = rand();
    if (s.includes("\n") || r < 0.2) return JSON.stringify(s);
    if (r < 0.35) return `'${s.replace(/'/g, "''")}'`;
    if (inFlow && /[,[\]{}]/.test(s)) return JSON.stringify(s);
    return s;
  };
  const trailing = (): string => (chance(0.1) ? " ".repeat(1 + int(3)) : "") + (chance(0.1) ? ` ${pick(COMMENTS)}` : "");
  /** A flow collection or scalar; with `indent`, sometimes spread over lines indented past it. */
  const flow = (depth: number, indent = -1): string => {
    if (depth >= 2 || chance(0.5)) return inlineScalar(true);
    const n = int(4);
    const sep = indent >= 0 && chance(0.15) ? `,\n${" ".repeat(indent + 1 + int(3))}` : ", ";
    if (chance(0.5)) return `[${Array.from({ length: n }, () => flow(depth + 1)).join(sep)}${chance(0.1) ? ", " : ""}]`;
    return `{${Array.from({ length: n }, () => `${key()}: ${flow(depth + 1)}`).join(sep)}}`;
  };
  /** Block scalar lines: header and content indented at `indent`. */
  const blockScalar = (indent: number): { header: string; body: string[] } => {
    const s = pick(SCALAR_POOL.filter((v) => v !== "" && !v.startsWith(" ") && !v.startsWith("\n")));
    const header = pick(["|", "|-", "|+", ">", ">-", ">+", "|2", ">2-"]);
    const step = /\d/.test(header) ? 2 : 2 + int(2);
    const pad = " ".repeat(indent + step);
    const body = s.split("\n").map((line) => (line === "" ? "" : pad + line));
    if (chance(0.2)) body.push("");
    return { header: header + (chance(0.1) ? " # c" : ""), body };
  };
  const value = (depth: number, indent: number, prefix: string): void => {
    const r = rand();
    if (depth >= 3 || r < 0.4) {
      lines.push(`${prefix}${chance(0.05) ? "\t" : " "}${inlineScalar(false)}${trailing()}`);
    } else if (r < 0.45) {
      // a plain scalar folded over several lines
      lines.push(`${prefix} ${pick(SCALAR_POOL.filter((v) => /^[a-z]/.test(v) && !v.includes("\n")))}`);
      const more = 1 + int(2);
      for (let i = 0; i < more; i++) lines.push(`${" ".repeat(indent + 2)}${chance(0.2) ? "" : pick(["continued", "more text", "a:b", "x#y", "-z"])}`);
    } else if (r < 0.55) {
      const { header, body } = blockScalar(indent);
      lines.push(`${prefix} ${header}`, ...body);
    } else if (r < 0.65) {
      lines.push(`${prefix} ${flow(0, indent)}${trailing()}`);
    } else if (r < 0.83) {
      lines.push(`${prefix}${trailing()}`);
      map(depth + 1, indent + 1 + int(4));
    } else {
      lines.push(`${prefix}${trailing()}`);
      seq(depth + 1, indent + (prefix.trimStart().startsWith("-") ? 2 : pick([0, 2])));
    }
  };
  const map = (depth: number, indent: number): void => {
    const pad = " ".repeat(indent);
    const n = 1 + int(5);
    for (let i = 0; i < n; i++) {
      if (chance(0.1)) lines.push(`${pad}${pick(COMMENTS)}`);
      if (chance(0.05)) lines.push("");
      if (chance(0.03)) {
        // an explicit key
        lines.push(`${pad}? ${key()}`);
        value(depth, indent, `${pad}:`);
      } else {
        value(depth, indent, `${pad}${key()}:`);
      }
    }
  };
  const seq = (depth: number, indent: number): void => {
    const pad = " ".repeat(indent);
    const n = 1 + int(4);
    for (let i = 0; i < n; i++) {
      if (chance(0.1)) lines.push(`${pad}${pick(COMMENTS)}`);
      if (depth < 3 && chance(0.25)) {
        // compact map in a list item: `- k: v` then the other keys aligned under k
        lines.push(`${pad}- ${key()}: ${inlineScalar(false)}`);
        const m = int(3);
        for (let j = 0; j < m; j++) value(depth + 1, indent + 2, `${pad}  ${key()}:`);
      } else {
        value(depth, indent, `${pad}-${chance(0.1) ? "  " : ""}`);
      }
    }
  };

  if (chance(0.1)) lines.push(pick(COMMENTS));
  const top = rand();
  if (top < 0.8) map(0, 0);
  else if (top < 0.93) seq(0, 0);
  else lines.push(chance(0.5) ? flow(0) : inlineScalar(false));
  if (chance(0.1)) lines.push(pick(COMMENTS));

  let text = lines.join("\n") + (chance(0.9) ? "\n" : "");
  if (chance(0.1)) text = text.replace(/\n/g, "\r\n");
  if (chance(0.03)) text = `\uFEFF${text}`;
  return text;
}

describe("fast and exact paths agree on generated documents", () => {
  it("2,000 seeded random documents", () => {
    const rand = prng(0x5eed_2026);
    const failures: string[] = [];
    let fastAccepted = 0;
    let exactAccepted = 0;
    const started = performance.now();
    for (let i = 0; i < 2000; i++) {
      const text = generateDocument(rand);
      const { problem, fastAccepted: fast, exactAccepted: exact } = compare(text);
      if (problem !== undefined) failures.push(problem);
      if (fast) fastAccepted++;
      if (exact) exactAccepted++;
    }
    const elapsed = performance.now() - started;
    // Shortest failures first: they are the easiest to read.
    failures.sort((a, b) => a.length - b.length);
    expect(failures.slice(0, 5), `${failures.length} of 2000 generated documents disagree`).toEqual([]);
    // The generator must exercise both outcomes, or the comparison proves little.
    expect(fastAccepted).toBeGreaterThan(500);
    expect(exactAccepted).toBeGreaterThan(1000);
    expect(exactAccepted).toBeLessThan(2000);
    expect(elapsed).toBeLessThan(10_000);
  });
});

// ---------------------------------------------------------------------------------------------
// 3. Deferral
// ---------------------------------------------------------------------------------------------

describe("the fast path defers to the exact path", () => {
  it.each([
    ["an anchor", "a: &a 1\n"],
    ["an alias", "a: *a\n"],
    ["an anchor and alias", "a: &x 1\nb: *x\n"],
    ["an anchor in a flow sequence", "a: [&x 1, *x]\n"],
    ["an anchor on a map", "a: &m\n  b: 1\n"],
    ["a local tag", "a: !tag x\n"],
    ["a core tag", "a: !!str 1\n"],
    ["a core tag in a flow map", "a: {b: !!int '1'}\n"],
    ["the non-specific tag", "a: ! 12\n"],
    ["the non-specific tag in a flow sequence", "a: [! 12]\n"],
    ["a verbatim tag", "a: !<tag:yaml.org,2002:str> 1\n"],
    ["a %YAML directive", "%YAML 1.1\n---\nowner_agent: no\n"],
    ["a %TAG directive", "%TAG ! tag:example.com,2000:\n---\na: !x 1\n"],
    ["a merge key", "base: &x {a: 1}\nc:\n  <<: *x\n"],
    ["a bare merge key", "<<: {a: 1}\n"],
    ["a document start marker", "---\na: 1\n"],
    ["a marker with content", "--- a: 1\n"],
    ["a second document", "a: 1\n---\nb: 2\n"],
    ["a document end marker", "a: 1\n...\n"],
  ])("%s", (_name, text) => {
    expect(parseYamlFast(text)).toBeUndefined();
  });

  it("the marker is a comment or a quoted string: deferring there is a harmless false alarm", () => {
    expect(parseYamlFast("a: 1 # &anchor\n")).toBeUndefined();
    expect(parseYamlExact("a: 1 # &anchor\n")).toMatchObject({ ok: true, data: { a: 1 } });
  });

  it("js-yaml errors make the fast path defer instead of throwing", () => {
    for (const text of ["a: [1, 2\n", "a: 1\na: 2\n", 'a: "\\q"\n', "a:\n\t- b\n", "a: \u0007\n"]) {
      expect(parseYamlFast(text)).toBeUndefined();
    }
  });
});

// ---------------------------------------------------------------------------------------------
// 4. Safety
// ---------------------------------------------------------------------------------------------

const bytes = (text: string): Buffer => Buffer.from(text, "utf8");
const loadGoal = (text: string | Uint8Array) => loadSpecFile("goals/x.yaml", "goal", typeof text === "string" ? bytes(text) : text);
const problemsOf = (result: ReturnType<typeof loadSpecFile>): SpecProblem[] => (result.ok ? [] : result.problems);
const exactProblems = (text: string): SpecProblem[] => {
  const result = parseYamlExact(text);
  return result.ok ? [] : result.problems;
};

const BILLION_LAUGHS = `a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
`;

describe("safety of reading untrusted spec files", () => {
  it("refuses a billion-laughs alias bomb quickly, on the exact path and through loadSpecFile", () => {
    expect(parseYamlFast(BILLION_LAUGHS)).toBeUndefined();
    let started = performance.now();
    expect(codes(exactProblems(BILLION_LAUGHS))).toEqual(["yaml.alias_bomb"]);
    expect(performance.now() - started).toBeLessThan(2000);
    started = performance.now();
    const loaded = loadGoal(BILLION_LAUGHS);
    expect(performance.now() - started).toBeLessThan(2000);
    expect(loaded.ok).toBe(false);
    expect(codes(problemsOf(loaded))).toEqual(["yaml.alias_bomb"]);
  });

  it("allows a few aliases", () => {
    expect(parseYamlExact("a: &x [1, 2]\nb: *x\nc: *x\n")).toMatchObject({ ok: true, data: { a: [1, 2], b: [1, 2], c: [1, 2] } });
  });

  it.each([
    ["flow sequences", `${"[".repeat(10_000)}${"]".repeat(10_000)}`],
    ["flow maps", `${"{a: ".repeat(10_000)}1${"}".repeat(10_000)}`],
    ["block sequences", `${"- ".repeat(10_000)}x\n`],
  ])("returns a problem, not a throw, for 10,000-deep %s", (_name, text) => {
    let result: ReturnType<typeof parseYamlExact> | undefined;
    expect(() => {
      result = parseYamlExact(text);
    }).not.toThrow();
    expect(result?.ok).toBe(false);
    const found = result !== undefined && !result.ok ? codes(result.problems) : [];
    expect(found.length).toBeGreaterThan(0);
    for (const code of found) expect(["yaml.too_deep", "yaml.syntax"]).toContain(code);
    expect(() => parseYamlFast(text)).not.toThrow();
    let loaded: ReturnType<typeof loadSpecFile> | undefined;
    expect(() => {
      loaded = loadGoal(text);
    }).not.toThrow();
    expect(loaded?.ok).toBe(false);
  });

  it("refuses a %YAML 1.1 directive (which would turn `no` into false)", () => {
    const text = "%YAML 1.1\n---\nowner_agent: no\n";
    expect(codes(exactProblems(text))).toContain("yaml.directive");
    const loaded = loadGoal(text);
    expect(loaded.ok).toBe(false);
    expect(codes(problemsOf(loaded))).toContain("yaml.directive");
    expect(loaded.data).toBeUndefined();
  });

  it("refuses a custom tag", () => {
    const text = "title: !custom x\n";
    const problems = exactProblems(text);
    expect(codes(problems)).toContain("yaml.tag");
    expect(problems.find((p) => p.code === "yaml.tag")?.line).toBe(1);
    expect(codes(problemsOf(loadGoal(text)))).toContain("yaml.tag");
  });

  it("accepts core tags spelled out (!!str), with the meaning they give", () => {
    expect(parseYamlExact("a: !!str 123\nb: !!int '7'\n")).toMatchObject({ ok: true, data: { a: "123", b: 7 } });
  });

  it("refuses two documents, pointing at the second one", () => {
    const text = "goal_id: goal_x\ntitle: one\n---\ntitle: two\n";
    const problems = exactProblems(text);
    expect(codes(problems)).toEqual(["yaml.multiple_documents"]);
    expect(problems[0]?.line).toBe(3);
    const loaded = problemsOf(loadGoal(text));
    expect(codes(loaded)).toEqual(["yaml.multiple_documents"]);
    expect(loaded[0]?.line).toBe(3);
    expect(codes(exactProblems("a: 1\n...\nb: 2\n"))).toEqual(["yaml.multiple_documents"]);
  });

  it("refuses a duplicate key at the second key's line, naming the key", () => {
    const text = "title: one\npriority: 1\ntitle: two\n";
    const problems = exactProblems(text);
    expect(codes(problems)).toEqual(["yaml.duplicate_key"]);
    expect(problems[0]?.line).toBe(3);
    expect(problems[0]?.message).toContain("'title'");
    const nested = exactProblems("key_result:\n  metric: a\n  unit: b\n  metric: c\n");
    expect(codes(nested)).toEqual(["yaml.duplicate_key"]);
    expect(nested[0]).toMatchObject({ line: 4, column: 3 });
    expect(nested[0]?.message).toContain("'metric'");
    const loaded = problemsOf(loadGoal(goalYaml({ goal_id: IDS.objective }) + "title: again\n"));
    expect(codes(loaded)).toEqual(["yaml.duplicate_key"]);
    expect(loaded[0]?.message).toContain("'title'");
  });

  it.each([
    ["1 and \"1\"", '1: a\n"1": b\n'],
    ["true and \"true\"", 'true: a\n"true": b\n'],
    ["~ and \"\"", '~: a\n"": b\n'],
    [".nan and .NaN", ".nan: a\n.NaN: b\n"],
    ["12e3 and \"12000\"", '12e3: a\n"12000": b\n'],
  ])("refuses keys that differ in the text but are the same property (%s)", (_name, text) => {
    // Otherwise the second value silently replaces the first, which is what duplicate_key prevents.
    expect(codes(exactProblems(text))).toContain("yaml.duplicate_key");
  });

  it.each([
    ["top level", "__proto__: {polluted: true}\n", (d: unknown) => d],
    ["nested", "a:\n  __proto__:\n    polluted: true\n", (d: unknown) => (d as Record<string, unknown>).a],
    ["in a flow map", "a: [{__proto__: {polluted: true}}]\n", (d: unknown) => ((d as Record<string, unknown>).a as unknown[])[0]],
  ])("__proto__ %s is an own property and never pollutes Object.prototype", (_name, text, holder) => {
    const check = (data: unknown): void => {
      const object = holder(data) as Record<string, unknown>;
      expect(Object.getPrototypeOf(object)).toBe(Object.prototype);
      expect(Object.hasOwn(object, "__proto__")).toBe(true);
      expect(Object.getOwnPropertyDescriptor(object, "__proto__")?.value).toEqual({ polluted: true });
      expect(object.polluted).toBeUndefined();
    };
    const fast = parseYamlFast(text);
    expect(fast).toBeDefined();
    check(fast?.data);
    const exact = parseYamlExact(text);
    expect(exact.ok).toBe(true);
    if (exact.ok) check(exact.data);
    loadGoal(goalYaml({ goal_id: IDS.objective }) + text);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.hasOwn(Object.prototype, "polluted")).toBe(false);
  });

  it("constructor.prototype keys do not pollute either", () => {
    const text = "constructor:\n  prototype:\n    polluted: true\n";
    parseYamlFast(text);
    parseYamlExact(text);
    loadGoal(text);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it("refuses NUL bytes as binary, at the NUL's position", () => {
    const loaded = loadGoal(bytes("title: a\nowner_agent: b\0c\n"));
    expect(problemsOf(loaded)).toMatchObject([{ code: "file.binary", line: 2, column: 15 }]);
  });

  it.each([
    ["ASCII before the bad byte", "title: a\npriority: 2\nowner_agent: ", 3, 14],
    ["two-byte characters before the bad byte", "title: café café\nowner_agent: ééééééééééééé\nx: ééé\ny: ", 4, 4],
    ["Cyrillic before the bad byte", "ключ: значение\nключ2: значение\nключ3: значение значение\nx: ", 4, 4],
    ["three- and four-byte characters before it", "a: 名前名前名前\nb: 🎉🎉🎉🎉\nc: 値\nd: 値値値値値値\ne: ", 5, 4],
  ])("refuses invalid UTF-8 with the line of the bad byte (%s)", (_name, before, line, column) => {
    for (const bad of [[0xff], [0xc3, 0x28], [0xe2, 0x82, 0x0a]]) {
      const head = bytes(before);
      const file = Buffer.concat([head, Buffer.from(bad), bytes("\nz: 1\n")]);
      const problems = problemsOf(loadGoal(file));
      expect(codes(problems)).toEqual(["file.encoding"]);
      // the first byte of the bad sequence, or the byte right after a truncated one (same line)
      expect(problems[0]?.line, `bytes ${bad.map((b) => b.toString(16)).join(" ")}`).toBe(line);
      expect(problems[0]?.column).toBeGreaterThanOrEqual(column);
      expect(problems[0]?.column).toBeLessThanOrEqual(column + bad.length);
    }
  });

  it("refuses files over 256 KiB and accepts one of exactly 256 KiB", () => {
    const base = goalYaml({ goal_id: IDS.objective });
    const fill = (size: number): Buffer => Buffer.concat([bytes(base), bytes(`# ${"x".repeat(size - base.length - 3)}\n`)]);
    expect(fill(DEFAULT_MAX_FILE_BYTES).length).toBe(DEFAULT_MAX_FILE_BYTES);
    expect(loadGoal(fill(DEFAULT_MAX_FILE_BYTES)).ok).toBe(true);
    expect(codes(problemsOf(loadGoal(fill(DEFAULT_MAX_FILE_BYTES + 1))))).toEqual(["file.too_large"]);
    expect(decodeSpecBytes(new Uint8Array(DEFAULT_MAX_FILE_BYTES + 1))).toMatchObject({ ok: false, problems: [{ code: "file.too_large" }] });
  });

  it("accepts a UTF-8 byte order mark", () => {
    const text = goalYaml({ goal_id: IDS.objective });
    const plain = loadGoal(text);
    const withBom = loadGoal(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), bytes(text)]));
    expect(plain.ok).toBe(true);
    expect(withBom.ok).toBe(true);
    expect(sameValue(withBom.data, plain.data)).toBe(true);
    expect(decodeSpecBytes(bytes(`\uFEFF${text}`))).toEqual({ ok: true, text });
  });
});

// ---------------------------------------------------------------------------------------------
// 5. The example files read the same on both paths
// ---------------------------------------------------------------------------------------------

function yamlFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && /\.ya?ml$/.test(entry.name))
    .map((entry) => join(entry.parentPath, entry.name))
    .sort();
}

const EXAMPLES = [
  ...yamlFiles("goals").map((file) => ["goal", file] as const),
  ...yamlFiles("lessons").map((file) => ["lesson", file] as const),
  ...yamlFiles("playbooks").map((file) => ["rule", file] as const),
];
/** A comment the fast path takes for an anchor: the file then really goes through the exact path. */
const FORCE_EXACT = "\n# &force-the-exact-path\n";

describe("example spec files load to the same data on both paths", () => {
  it("there are examples, and some take the fast path", () => {
    expect(EXAMPLES.length).toBeGreaterThanOrEqual(10);
    const fast = EXAMPLES.filter(([, file]) => parseYamlFast(readFileSync(file, "utf8")) !== undefined);
    expect(fast.length).toBeGreaterThan(EXAMPLES.length / 2);
  });

  it.each(EXAMPLES.map(([kind, file]) => [file.slice(ROOT.length), kind, file] as const))("%s", (_name, kind, file) => {
    const raw = readFileSync(file);
    const text = raw.toString("utf8");
    const viaLoader = loadSpecFile(file, kind, raw);
    expect(viaLoader.ok, show(problemsOf(viaLoader))).toBe(true);

    const forcedText = text + FORCE_EXACT;
    expect(parseYamlFast(forcedText)).toBeUndefined();
    const forced = loadSpecFile(file, kind, bytes(forcedText));
    expect(forced.ok, show(problemsOf(forced))).toBe(true);
    expect(sameValue(forced.data, viaLoader.data), `${show(forced.data)}\n${show(viaLoader.data)}`).toBe(true);
    expect(forced.id).toBe(viaLoader.id);

    const exact = parseYamlExact(text);
    expect(exact.ok).toBe(true);
    if (exact.ok) expect(sameValue(exact.data, viaLoader.data)).toBe(true);
    const fast = parseYamlFast(text);
    if (fast !== undefined) expect(sameValue(fast.data, viaLoader.data)).toBe(true);
  });
});

// ---------------------------------------------------------------------------------------------
// 6. Non-finite numbers never validate
// ---------------------------------------------------------------------------------------------

describe("non-finite numbers in a key result are refused", () => {
  const base = krYaml(IDS.kr, IDS.objective);
  it.each([
    ["baseline", ".nan"],
    ["baseline", ".NaN"],
    ["target", ".inf"],
    ["target", "-.Inf"],
    ["target", "1e400"],
    ["baseline", "-1e400"],
  ])("%s: %s", (field, value) => {
    const text = base.replace(new RegExp(`^  ${field}: .*$`, "m"), `  ${field}: ${value}`);
    expect(text).toContain(`${field}: ${value}`);
    const loaded = loadSpecFile("goals/kr.yaml", "goal", bytes(text));
    expect(loaded.ok).toBe(false);
    const problems = problemsOf(loaded);
    expect(problems.length).toBeGreaterThan(0);
    expect(problems.some((p) => p.field === `key_result.${field}` && p.code.startsWith("schema."))).toBe(true);
    expect(problems.find((p) => p.field === `key_result.${field}`)?.line).toBe(text.split("\n").findIndex((l) => l.startsWith(`  ${field}:`)) + 1);
  });

  it("ajv refuses NaN and ±Infinity for `type: number` and accepts finite numbers", () => {
    const data = (baseline: number, target: number) => ({
      goal_id: IDS.kr, goal_type: "key_result", title: "x", parent_goal_id: IDS.objective, owner_agent: "a", priority: 2,
      key_result: { metric: "m", unit: "u", baseline, target, direction: "increase" },
    });
    expect(validateAgainstSchema("goal", data(1, 2))).toEqual([]);
    expect(validateAgainstSchema("goal", data(-0, 1e308))).toEqual([]);
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
      expect(validateAgainstSchema("goal", data(bad, 2)).length).toBeGreaterThan(0);
      expect(validateAgainstSchema("goal", data(1, bad)).length).toBeGreaterThan(0);
    }
  });

  it("the valid key result still loads", () => {
    expect(loadSpecFile("goals/kr.yaml", "goal", bytes(base)).ok).toBe(true);
  });
});
