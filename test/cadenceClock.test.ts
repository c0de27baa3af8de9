import { describe, expect, it } from "vitest";
import { CadenceClock } from "../src/continuity/scheduler.js";

const at = (iso: string) => new Date(iso);

describe("cadence times (croner, time zones, intervals)", () => {
  const clock = new CadenceClock();

  it("reads a cron expression in the goal's time zone", () => {
    // 06:00 in Berlin is 05:00 UTC in winter, 04:00 UTC in summer.
    expect(clock.nextAfter("0 6 * * *", "Europe/Berlin", at("2026-11-25T00:00:00Z"))?.toISOString()).toBe("2026-11-25T05:00:00.000Z");
    expect(clock.nextAfter("0 6 * * *", "Europe/Berlin", at("2026-07-01T00:00:00Z"))?.toISOString()).toBe("2026-07-01T04:00:00.000Z");
    expect(clock.nextAfter("0 6 * * *", "UTC", at("2026-11-25T00:00:00Z"))?.toISOString()).toBe("2026-11-25T06:00:00.000Z");
  });

  it("takes seconds-level expressions and intervals", () => {
    expect(clock.nextAfter("*/10 * * * * *", "UTC", at("2026-11-25T00:00:01Z"))?.toISOString()).toBe("2026-11-25T00:00:10.000Z");
    expect(clock.nextAfter("15m", "UTC", at("2026-11-25T00:00:00Z"))?.toISOString()).toBe("2026-11-25T00:15:00.000Z");
  });

  it("finds the firing missed since the last one (catch-up), or none", () => {
    const last = at("2026-11-23T06:00:00Z");
    expect(clock.lastDueBefore("0 6 * * *", "UTC", last, at("2026-11-25T07:00:00Z"))?.toISOString()).toBe("2026-11-25T06:00:00.000Z");
    expect(clock.lastDueBefore("0 6 * * *", "UTC", at("2026-11-25T06:00:00Z"), at("2026-11-25T07:00:00Z"))).toBeNull();
    expect(clock.lastDueBefore("1h", "UTC", at("2026-11-25T05:00:00Z"), at("2026-11-25T07:00:00Z"))?.toISOString()).toBe("2026-11-25T06:00:00.000Z");
    expect(clock.lastDueBefore("1h", "UTC", at("2026-11-25T06:30:00Z"), at("2026-11-25T07:00:00Z"))).toBeNull();
  });

  it("refuses what croner cannot schedule", () => {
    expect(() => clock.nextAfter("0 6 32 * *", "UTC", at("2026-11-25T00:00:00Z"))).toThrow();
    expect(() => clock.nextAfter("0 6 * * *", "Mars/Olympus", at("2026-11-25T00:00:00Z"))).toThrow();
  });
});
