/**
 * A spec file means the same on every path it can take into goalops: the fast parser, the exact
 * parser, and the stored document that sync reuses when a file's hash is unchanged.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { resolveConfig } from "../src/spec/config.js";
import { parseYamlExact, parseYamlFast } from "../src/spec/parseYaml.js";
import { loadSpecFile } from "../src/spec/specFile.js";
import { listSpecFiles, loadSpecTree } from "../src/spec/specTree.js";
import { PROJECT_ROOT } from "./helpers/tempRepo.js";

const config = resolveConfig(PROJECT_ROOT, {});
const files = listSpecFiles(config);

describe("the meaning of a file is the same on every path", () => {
  it("covers the whole example set", () => {
    expect(files.length).toBeGreaterThanOrEqual(12);
  });

  it.each(files.map((f) => [f.path, f.absolutePath]))("%s: fast path, exact path and stored document agree", (_path, absolutePath) => {
    const text = readFileSync(absolutePath, "utf8");
    const fast = parseYamlFast(text);
    const exact = parseYamlExact(text);
    expect(exact.ok).toBe(true);
    if (!exact.ok) return;
    expect(fast).toBeDefined();
    expect(fast?.data).toStrictEqual(exact.data);
    // What sync stores (spec_json) and reuses for unchanged files.
    expect(JSON.parse(JSON.stringify(exact.data))).toStrictEqual(exact.data);
  });

  it("loads the same documents when they come from the stored cache", () => {
    const fresh = loadSpecTree(config, files);
    const knownGood = new Map(fresh.files.flatMap((f) => (f.ok ? [[f.path, { hash: f.hash, data: JSON.parse(JSON.stringify(f.data)) as Record<string, unknown> }] as const] : [])));
    const current = new Map(fresh.files.map((f) => [f.path, { hash: f.hash }]));
    const cached = loadSpecTree(config, files, { knownGood, current });
    expect(cached.files.map((f) => [f.path, f.ok, f.ok ? f.data : null])).toStrictEqual(fresh.files.map((f) => [f.path, f.ok, f.ok ? f.data : null]));
  });

  it("refuses non-finite numbers, which JSON (and so the database) cannot hold", () => {
    const text = readFileSync(join(PROJECT_ROOT, "goals/telegram-reliability/kr-interpreter-accuracy.yaml"), "utf8").replace("baseline: 82", "baseline: .nan");
    const file = loadSpecFile("goals/x.yaml", "goal", Buffer.from(text));
    expect(file.ok).toBe(false);
    if (!file.ok) expect(file.problems[0]).toMatchObject({ field: "key_result.baseline", message: "found NaN; expected a finite number" });
  });
});
