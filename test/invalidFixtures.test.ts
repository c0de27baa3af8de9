/**
 * The invalid-input corpus: every folder of test/fixtures/invalid/ is a miniature repository and an
 * expect.json listing every problem `goalops validate` must report for it (file, line, field, code;
 * column and hint where given). Each case runs through the real CLI (dist/cli/main.js; run
 * `npm run build` first). Files whose bytes are awkward to commit (NUL bytes, latin-1, UTF-16, an
 * oversize file) are generated here instead. test/fixtures/valid/ holds trees that must pass:
 * they prove that YAML 1.1 booleans and quoted numbers keep their meaning as strings.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative, sep } from "node:path";
import { describe, expect, it } from "vitest";
import { runCli, runCliJson } from "./helpers/cli.js";
import { IDS } from "./helpers/specs.js";
import { type FileMap, PROJECT_ROOT, tempRepo } from "./helpers/tempRepo.js";

const FIXTURES = join(PROJECT_ROOT, "test/fixtures");
const INVALID = join(FIXTURES, "invalid");
const VALID = join(FIXTURES, "valid");
const MIN_INVALID_CASES = 35;
const CATEGORIES = ["syntax", "schema", "cross", "hostile"] as const;

interface ExpectedProblem {
  file: string;
  line: number;
  /** Checked only when given: not every problem has a meaningful column. */
  column?: number;
  field: string;
  code: string;
  /** Checked only when given (for example a 'did you mean' suggestion). */
  hint?: string;
}

interface Expectation {
  description: string;
  problems: ExpectedProblem[];
}

interface ReportedProblem {
  file: string;
  line: number;
  column: number;
  field: string;
  code: string;
  message: string;
  hint?: string;
}

/** validate --json prints a report (an invalid goalops.yaml too, with only that file's problems). */
interface ValidateJson {
  problems: ReportedProblem[];
}

function caseNames(folder: string): string[] {
  return readdirSync(folder, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort();
}

/** Every file of a case folder but expect.json, by repository path, as bytes. */
function readTree(folder: string): FileMap {
  const files: FileMap = {};
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (dir !== folder || entry.name !== "expect.json") files[relative(folder, full).split(sep).join("/")] = readFileSync(full);
    }
  };
  walk(folder);
  return files;
}

function readExpectation(folder: string): Expectation {
  return JSON.parse(readFileSync(join(folder, "expect.json"), "utf8")) as Expectation;
}

const sortKey = (p: { file: string; line: number; column?: number; field: string; code: string }): string =>
  `${p.file}\u0000${String(p.line).padStart(8, "0")}\u0000${p.field}\u0000${p.code}\u0000${String(p.column ?? 0).padStart(8, "0")}`;

function sorted<T extends { file: string; line: number; column?: number; field: string; code: string }>(list: readonly T[]): T[] {
  return [...list].sort((a, b) => (sortKey(a) < sortKey(b) ? -1 : sortKey(a) > sortKey(b) ? 1 : 0));
}

/** Reduces a reported problem to the keys its expected counterpart names (column and hint only when given). */
function reduce(actual: ReportedProblem, like: ExpectedProblem | undefined): ExpectedProblem {
  const out: ExpectedProblem = { file: actual.file, line: actual.line, field: actual.field, code: actual.code };
  if (like === undefined || like.column !== undefined) out.column = actual.column;
  if (like?.hint !== undefined) out.hint = actual.hint as string;
  return out;
}

/** Runs validate --json on a tree and checks the problems equal the expected list, order aside. */
async function expectProblems(files: FileMap, expected: readonly ExpectedProblem[]): Promise<void> {
  const cwd = tempRepo(files);
  const { exitCode, json, stderr } = await runCliJson<ValidateJson>(["validate", "--json"], { cwd });
  // Both lists sorted the same way, then each reported problem reduced to what its counterpart names.
  const want = sorted(expected);
  const got = sorted(json.problems);
  expect(got.map((p, i) => reduce(p, want[i]))).toEqual(want);
  for (const p of json.problems) expect(p.message, `${p.file}:${p.line} ${p.code} has a message`).not.toBe("");
  expect(stderr).toBe("");
  expect(exitCode).toBe(1);
}

const invalidCases = caseNames(INVALID);
const validCases = caseNames(VALID);

describe("the invalid-input corpus", () => {
  it(`has at least ${MIN_INVALID_CASES} committed cases, each named <category>-<name> with a complete expect.json`, () => {
    expect(invalidCases.length).toBeGreaterThanOrEqual(MIN_INVALID_CASES);
    for (const name of invalidCases) {
      const category = name.split("-")[0] ?? "";
      expect(CATEGORIES as readonly string[], `${name}: category`).toContain(category);
      const expectation = readExpectation(join(INVALID, name));
      const files = readTree(join(INVALID, name));
      expect(expectation.description, `${name}: description`).not.toBe("");
      expect(expectation.problems.length, `${name}: at least one problem`).toBeGreaterThan(0);
      for (const p of expectation.problems) {
        const where = `${name}: ${p.file}:${p.line} ${p.code}`;
        expect(Object.keys(files), `${where}: the file exists in the case`).toContain(p.file);
        expect(Number.isInteger(p.line) && p.line >= 1, `${where}: line`).toBe(true);
        expect(typeof p.field, `${where}: field`).toBe("string");
        expect(p.code, `${where}: code`).toMatch(/^(yaml|file|schema|cross)\.[a-z_A-Z]+$/);
      }
    }
    for (const category of CATEGORIES) expect(invalidCases.some((n) => n.startsWith(`${category}-`)), category).toBe(true);
  });

  it.each(invalidCases)("%s", async (name) => {
    const folder = join(INVALID, name);
    await expectProblems(readTree(folder), readExpectation(folder).problems);
  });
});

/** Cases whose bytes are awkward to commit: built here, checked exactly like the committed ones. */
const objectiveText = `goal_id: ${IDS.objective}
goal_type: objective
title: Improve reliability
owner_agent: agent-1
priority: 3
`;
const latin1 = (text: string): Uint8Array => Uint8Array.from(text, (c) => c.charCodeAt(0));
const GENERATED: Record<string, { description: string; files: FileMap; problems: ExpectedProblem[] }> = {
  "hostile-nul-byte": {
    description: "A NUL byte in the middle of the title (line 3, after 'title: Improve'): the file looks binary.",
    files: { "goals/objective.yaml": Buffer.from(objectiveText.replace("title: Improve reliability", "title: Improve\u0000reliability"), "utf8") },
    problems: [{ file: "goals/objective.yaml", line: 3, column: 15, field: "", code: "file.binary" }],
  },
  "hostile-latin1": {
    description: "A title saved as latin-1 ('Café' with é as the single byte 0xE9): not UTF-8.",
    files: { "goals/objective.yaml": latin1(objectiveText.replace("title: Improve reliability", "title: Caf\u00e9 reliability")) },
    problems: [{ file: "goals/objective.yaml", line: 3, column: 11, field: "", code: "file.encoding" }],
  },
  "hostile-utf16": {
    description: "A goal saved as UTF-16LE with a byte-order mark: a text file in the wrong encoding, not a binary file.",
    files: { "goals/objective.yaml": Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(objectiveText, "utf16le")]) },
    problems: [{ file: "goals/objective.yaml", line: 1, column: 1, field: "", code: "file.encoding" }],
  },
  "hostile-oversize": {
    description: "A goal whose description makes the file larger than 256 KiB.",
    files: { "goals/objective.yaml": `${objectiveText}description: ${"x".repeat(256 * 1024)}\n` },
    problems: [{ file: "goals/objective.yaml", line: 1, column: 1, field: "", code: "file.too_large" }],
  },
};

describe("generated hostile cases", () => {
  it("builds the files it means to (the NUL, latin-1, UTF-16 and size traps are really there)", () => {
    const bytes = (name: string) => GENERATED[name]?.files["goals/objective.yaml"] as Uint8Array;
    expect(bytes("hostile-nul-byte").includes(0)).toBe(true);
    expect(bytes("hostile-latin1").includes(0xe9)).toBe(true);
    expect(() => new TextDecoder("utf-8", { fatal: true }).decode(bytes("hostile-latin1"))).toThrow();
    expect([...bytes("hostile-utf16").subarray(0, 2)]).toEqual([0xff, 0xfe]);
    expect(Buffer.byteLength(GENERATED["hostile-oversize"]?.files["goals/objective.yaml"] as string)).toBeGreaterThan(256 * 1024);
  });

  it.each(Object.keys(GENERATED))("%s", async (name) => {
    const generated = GENERATED[name] as (typeof GENERATED)[string];
    await expectProblems(generated.files, generated.problems);
  });
});

describe("valid trees keep their meaning", () => {
  it("has valid cases", () => {
    expect(validCases.length).toBeGreaterThanOrEqual(2);
  });

  it.each(validCases)("%s validates with exit 0", async (name) => {
    const cwd = tempRepo(readTree(join(VALID, name)));
    const { exitCode, json } = await runCliJson<ValidateJson & { valid: boolean }>(["validate", "--json"], { cwd });
    expect(json.problems).toEqual([]);
    expect(json.valid).toBe(true);
    expect(exitCode).toBe(0);
  });
});

describe("--format github on a corpus case", () => {
  it("prints the exact workflow annotation at the offending line and column", async () => {
    const folder = join(INVALID, "schema-unknown-field-typo");
    expect(statSync(folder).isDirectory()).toBe(true);
    const cwd = tempRepo(readTree(folder));
    const { exitCode, stdout } = await runCli(["validate", "--format", "github"], { cwd });
    expect(stdout.split("\n")).toContain("::error file=goals/objective.yaml,line=3,col=1,title=goalops%3A titel::unknown field 'titel' (did you mean 'title'?)");
    expect(stdout).toMatch(/^::error file=goals\/objective\.yaml,line=1,col=1,title=goalops%3A title::missing required field 'title'/m);
    expect(exitCode).toBe(1);
  });
});
