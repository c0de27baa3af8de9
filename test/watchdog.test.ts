import { describe, expect, it } from "vitest";
import { type RunCounts, type WatchdogFacts, compare, evaluateWatchdog, runWindowKey, watchdogNeeds } from "../src/continuity/watchdog.js";
import { formatInterval } from "../src/spec/interval.js";
import type { WatchdogCondition, WatchdogSpec } from "../src/spec/types.js";

const PARENT = "goal_01JH8ZK4Q7V3M2N5P6R8S9T0VA";
const OTHER = "goal_01JH8ZK4Q7V3M2N5P6R8S9T0VB";
const KR = "goal_01JH8ZK4Q7V3M2N5P6R8S9T0VC";
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

const counts = (failed: number, succeeded: number, partial = 0): RunCounts => ({ finished: failed + succeeded + partial, failed, succeeded, partial });

function facts(runs: [string | null, number, RunCounts][] = [], keyResults: [string, number | null, number | null][] = []): WatchdogFacts {
  return {
    runs: new Map(runs.map(([goal, windowMs, c]) => [runWindowKey(goal, windowMs), c])),
    keyResults: new Map(keyResults.map(([id, value, progress]) => [id, { value, progress }])),
  };
}

const spec = (conditions: WatchdogCondition[], when?: "any" | "all"): WatchdogSpec => (when === undefined ? { conditions } : { when, conditions });

describe("watchdog needs", () => {
  it("defaults run measures to the parent goal and a 24h window, and lists each fact once", () => {
    const needs = watchdogNeeds(
      spec([
        { measure: "failed_runs", op: "at_least", value: 3 },
        { measure: "failure_rate", op: "above", value: 0.5 },
        { measure: "succeeded_runs", goal: OTHER, window: "1h", op: "below", value: 1 },
        { measure: "kr_value", goal: KR, op: "below", value: 10 },
        { measure: "kr_progress", goal: KR, op: "below", value: 0.5 },
      ]),
      PARENT,
    );
    expect(needs.keyResults).toEqual([KR]);
    expect(needs.runWindows).toEqual([{ goal: PARENT, windowMs: DAY }, { goal: OTHER, windowMs: HOUR }]);
  });

  it("counts every goal's runs (goal null) for a watchdog without a parent", () => {
    expect(watchdogNeeds(spec([{ measure: "finished_runs", window: "7d", op: "below", value: 1 }]), null).runWindows).toEqual([{ goal: null, windowMs: 7 * DAY }]);
  });

  it("keeps 'every goal' and a goal apart in the facts key", () => {
    expect(runWindowKey(null, HOUR)).not.toBe(runWindowKey(PARENT, HOUR));
    expect(runWindowKey(PARENT, HOUR)).not.toBe(runWindowKey(PARENT, DAY));
  });
});

describe("watchdog conditions", () => {
  it.each([
    ["below", 2, 3, true], ["below", 3, 3, false], ["below", 4, 3, false],
    ["above", 4, 3, true], ["above", 3, 3, false], ["above", 2, 3, false],
    ["at_least", 4, 3, true], ["at_least", 3, 3, true], ["at_least", 2, 3, false],
    ["at_most", 2, 3, true], ["at_most", 3, 3, true], ["at_most", 4, 3, false],
  ] as const)("%s: %d against %d is %s", (op, observed, value, expected) => {
    expect(compare(observed, op, value)).toBe(expected);
    const verdict = evaluateWatchdog(spec([{ measure: "failed_runs", op, value }]), PARENT, facts([[PARENT, DAY, counts(observed, 0)]]));
    expect(verdict.fired).toBe(expected);
    expect(verdict.conditions[0]?.holds).toBe(expected);
  });

  it("writes each condition as a sentence", () => {
    const verdict = evaluateWatchdog(
      spec([
        { measure: "failed_runs", window: "1h", op: "at_least", value: 3 },
        { measure: "success_rate", goal: OTHER, op: "below", value: 0.5 },
        { measure: "kr_value", goal: KR, op: "below", value: 100 },
      ]),
      PARENT,
      facts([[PARENT, HOUR, counts(4, 1)], [OTHER, DAY, counts(2, 1)]], [[KR, 120, 0.6]]),
    );
    expect(verdict.conditions.map((c) => c.text)).toEqual([
      `failed_runs of ${PARENT} in 1h = 4, at_least 3: holds`,
      `success_rate of ${OTHER} in 24h = 0.333 (1 of 3 runs), below 0.5: holds`,
      `kr_value of ${KR} = 120, below 100: does not hold`,
    ]);
    expect(verdict.conditions[1]).toMatchObject({ index: 1, measure: "success_rate", goal: OTHER, op: "below", value: 0.5, holds: true });
    expect(verdict.conditions[1]?.observed).toBeCloseTo(1 / 3, 10);
  });

  it("measures each run statistic; partial runs are finished but neither failed nor succeeded", () => {
    const c = counts(2, 5, 3); // 10 finished
    const observe = (measure: WatchdogCondition["measure"]) =>
      evaluateWatchdog(spec([{ measure, op: "at_least", value: 0 }]), PARENT, facts([[PARENT, DAY, c]])).conditions[0]?.observed;
    expect(observe("finished_runs")).toBe(10);
    expect(observe("succeeded_runs")).toBe(5);
    expect(observe("failed_runs")).toBe(2);
    expect(observe("failure_rate")).toBeCloseTo(0.2, 10);
    expect(observe("success_rate")).toBeCloseTo(0.5, 10);
  });

  it("reads kr_value and kr_progress from the key result", () => {
    const f = facts([], [[KR, 42, 0.35]]);
    const v = evaluateWatchdog(spec([{ measure: "kr_value", goal: KR, op: "at_most", value: 42 }, { measure: "kr_progress", goal: KR, op: "below", value: 0.4 }], "all"), PARENT, f);
    expect(v.conditions.map((c) => c.observed)).toEqual([42, 0.35]);
    expect(v.fired).toBe(true);
  });

  it("counts every goal's runs when the watchdog has no parent", () => {
    const v = evaluateWatchdog(spec([{ measure: "failed_runs", op: "at_least", value: 1 }]), null, facts([[null, DAY, counts(1, 0)]]));
    expect(v.conditions[0]).toMatchObject({ goal: null, observed: 1, holds: true, text: "failed_runs of every goal in 24h = 1, at_least 1: holds" });
  });
});

describe("unknown numbers", () => {
  it.each([
    ["a key result without a value", spec([{ measure: "kr_value", goal: KR, op: "below", value: 10 }]), facts([], [[KR, null, null]]), `kr_value of ${KR} = unknown (no value recorded), below 10: unknown`],
    ["a key result the caller did not supply", spec([{ measure: "kr_progress", goal: KR, op: "below", value: 0.5 }]), facts(), `kr_progress of ${KR} = unknown (no value recorded), below 0.5: unknown`],
    ["a rate over zero finished runs", spec([{ measure: "failure_rate", op: "at_most", value: 1 }]), facts([[PARENT, DAY, counts(0, 0)]]), `failure_rate of ${PARENT} in 24h = unknown (no finished runs), at_most 1: unknown`],
    ["a success rate over zero finished runs", spec([{ measure: "success_rate", op: "below", value: 0.5 }]), facts([[PARENT, DAY, counts(0, 0)]]), `success_rate of ${PARENT} in 24h = unknown (no finished runs), below 0.5: unknown`],
    ["run statistics the caller did not supply", spec([{ measure: "failed_runs", op: "at_most", value: 5 }]), facts(), `failed_runs of ${PARENT} in 24h = unknown (no run statistics), at_most 5: unknown`],
  ])("never fire on %s", (_, s, f, text) => {
    const v = evaluateWatchdog(s, PARENT, f);
    expect(v.fired).toBe(false);
    expect(v.conditions[0]).toMatchObject({ observed: null, holds: false, text });
    expect(v.summary).toBe("Watchdog quiet: no condition holds (1 unknown)");
  });

  it("keeps an all-watchdog quiet while one number is unknown", () => {
    const v = evaluateWatchdog(
      spec([{ measure: "failed_runs", op: "at_least", value: 1 }, { measure: "kr_value", goal: KR, op: "below", value: 10 }], "all"),
      PARENT,
      facts([[PARENT, DAY, counts(3, 0)]], [[KR, null, null]]),
    );
    expect(v.fired).toBe(false);
    expect(v.summary).toBe(`Watchdog quiet: 1 of 2 conditions hold, not all (1 unknown): kr_value of ${KR} = unknown (no value recorded), below 10: unknown`);
  });

  it("still fires an any-watchdog on the conditions that are known", () => {
    const v = evaluateWatchdog(
      spec([{ measure: "kr_value", goal: KR, op: "below", value: 10 }, { measure: "failed_runs", op: "at_least", value: 1 }]),
      PARENT,
      facts([[PARENT, DAY, counts(3, 0)]]),
    );
    expect(v.fired).toBe(true);
    expect(v.summary).toBe(`Watchdog fired: failed_runs of ${PARENT} in 24h = 3, at_least 1`);
  });
});

describe("any and all", () => {
  const conditions: WatchdogCondition[] = [
    { measure: "failed_runs", op: "at_least", value: 3 },
    { measure: "success_rate", op: "below", value: 0.5 },
  ];
  const oneHolds = facts([[PARENT, DAY, counts(3, 7)]]); // 3 failed, success 0.7
  const bothHold = facts([[PARENT, DAY, counts(6, 2)]]); // 6 failed, success 0.25
  const noneHolds = facts([[PARENT, DAY, counts(1, 9)]]);

  it("fires on one condition by default (any)", () => {
    const v = evaluateWatchdog(spec(conditions), PARENT, oneHolds);
    expect(v.fired).toBe(true);
    expect(v.summary).toBe(`Watchdog fired: failed_runs of ${PARENT} in 24h = 3, at_least 3`);
  });

  it("names every holding condition in the summary", () => {
    expect(evaluateWatchdog(spec(conditions, "any"), PARENT, bothHold).summary).toBe(
      `Watchdog fired: failed_runs of ${PARENT} in 24h = 6, at_least 3; success_rate of ${PARENT} in 24h = 0.25 (2 of 8 runs), below 0.5`,
    );
  });

  it("needs every condition with all", () => {
    expect(evaluateWatchdog(spec(conditions, "all"), PARENT, oneHolds).fired).toBe(false);
    const v = evaluateWatchdog(spec(conditions, "all"), PARENT, bothHold);
    expect(v.fired).toBe(true);
    expect(v.summary).toBe(
      `Watchdog fired: all 2 conditions hold: failed_runs of ${PARENT} in 24h = 6, at_least 3; success_rate of ${PARENT} in 24h = 0.25 (2 of 8 runs), below 0.5`,
    );
  });

  it("stays quiet when nothing holds", () => {
    for (const when of ["any", "all"] as const) {
      const v = evaluateWatchdog(spec(conditions, when), PARENT, noneHolds);
      expect(v.fired).toBe(false);
      expect(v.summary).toBe("Watchdog quiet: no condition holds");
    }
  });
});

describe("window display", () => {
  it.each([[HOUR, "1h"], [90 * 60_000, "90m"], [7 * DAY, "1w"], [DAY, "1d"], [45_000, "45s"]])("writes %d ms as %s", (ms, text) => {
    expect(formatInterval(ms)).toBe(text);
  });
});
