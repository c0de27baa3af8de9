import { describe, expect, it } from "vitest";
import { deadlineOf, health, krProgress, worstHealth } from "../src/goals/krProgress.js";

describe("key-result progress", () => {
  it.each([
    ["increase", 80, 95, 80, 0],
    ["increase", 80, 95, 87.5, 0.5],
    ["increase", 80, 95, 95, 1],
    ["increase", 80, 95, 120, 1],
    ["increase", 80, 95, 70, 0],
    ["decrease", 6.5, 2, 6.5, 0],
    ["decrease", 6.5, 2, 4.25, 0.5],
    ["decrease", 6.5, 2, 1, 1],
    ["decrease", 6.5, 2, 9, 0],
    ["increase", 10, 10, 10, 1],
  ] as const)("%s from %d to %d at %d is %d", (direction, baseline, target, value, expected) => {
    expect(krProgress({ baseline, target, direction }, value)).toBeCloseTo(expected, 10);
  });
});

describe("goal health", () => {
  const start = new Date("2026-01-01T00:00:00Z");
  const deadline = new Date("2026-12-31T00:00:00Z");
  const halfway = new Date(start.getTime() + (deadline.getTime() - start.getTime()) / 2);
  it.each([
    [null, deadline, halfway, "unknown"],
    [1, deadline, new Date("2027-06-01T00:00:00Z"), "on_track"],
    [0.45, deadline, halfway, "on_track"],
    [0.3, deadline, halfway, "at_risk"],
    [0.2, deadline, halfway, "off_track"],
    [0.9, deadline, new Date("2027-01-02T00:00:00Z"), "off_track"],
    [0.8, null, halfway, "on_track"],
    [0.5, null, halfway, "at_risk"],
    [0.1, null, halfway, "off_track"],
  ] as const)("progress %s (deadline %s, now %s) is %s", (progress, dl, now, expected) => {
    expect(health(progress, start, dl, now)).toBe(expected);
  });

  it("reads deadlines: a bare date is the end of that day, 'ongoing' has none", () => {
    expect(deadlineOf("2026-12-31")?.toISOString()).toBe("2026-12-31T23:59:59.999Z");
    expect(deadlineOf("2026-12-31T08:00:00+02:00")?.toISOString()).toBe("2026-12-31T06:00:00.000Z");
    expect(deadlineOf("ongoing")).toBeNull();
    expect(worstHealth(["on_track", "unknown", "at_risk"])).toBe("at_risk");
    expect(worstHealth(["unknown"])).toBe("unknown");
  });
});
