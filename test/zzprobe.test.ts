import { it } from "vitest";
import { parseYamlExact, parseYamlFast } from "../src/spec/parseYaml.js";
const show = (t: string) => {
  const f = parseYamlFast(t);
  const e = parseYamlExact(t);
  console.log(JSON.stringify(t), "\n  FAST:", f === undefined ? "DEFER" : JSON.stringify(f.data, (_k, v) => typeof v === "number" && !Number.isFinite(v) ? String(v) : Object.is(v, -0) ? "-0" : v), "\n  EXACT:", e.ok ? JSON.stringify(e.data) : JSON.stringify(e.problems));
};
it("probe", () => {
  const cases = [
    "~: c\n", "null: c\n", ": c\n", "? \n: c\n", "{~: a}\n", "[a, b]: c\n", "{a: 1}: x\n", "? [a]\n: b\n",
    "1: a\n\"1\": b\n", "true: a\n\"true\": b\n", ".nan: a\n.NaN: b\n", "~: a\n\"\": b\n",
    "a: ! 12\n", "a: [! 12]\n", "a: [1,\n2]\n", "a: [\n  1,\n  2\n]\n", "a: {b: 1,\nc: 2}\n",
    "a: @foo\n", "a: `x\n", "a: %foo\n", "a: - b\n", "a: 1\rb: 2\r", "a: \"\\/\\e\\N\\_\\L\\P\\ \\x41\\u00e9\\U0001F600\"\n",
    "a: \"\\q\"\n", "a: \x07\n", "a: \u2028x\n", "a: \u0085x\n", "a:\tb\n", "a:\n\t- b\n", "a: b\t\n",
    `${"k".repeat(1100)}: v\n`, "a: b\n---\nc: d\n", "a: 1\na: 2\n", "a:\n  b: 1\n  c: 2\n  b: 3\n", "- a\n -b\n",
    "a: 'it''s'\n", "a: \"x\" y\n", "a: |2\n   x\n  y\n", "a: >+\n  x\n\n", "a: |-\n  x\n", "\uFEFFa: 1\n", "\uFEFF%YAML 1.1\n---\na: no\n",
    "a: 1 #c\n#d\nb: 2", "a: [a, b, ]\n", "a: {x: 1, }\n", "-0: a\n", "a: -0\nb: -0.0\nc: 007\nd: 0o17\ne: 0x1F\nf: 1e400\ng: 12345678901234567890\n",
    "a:\n- b\n- c\n", "a: b\n  c\n", "'a\nb': c\n", "a: \"x\n\n  y\"\n", "\"a\": 1\n", "? |\n  k\n: v\n",
  ];
  for (const c of cases) show(c);
});
