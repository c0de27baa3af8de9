import { describe, expect, it } from "vitest";
import {
  type RouterCandidate,
  type RouterKeyResult,
  capabilityMatches,
  constraintLimits,
  routeInitiatives,
  servedKeyResults,
} from "../src/continuity/initiativeRouter.js";

// Short ids keep the tables readable; the router never looks inside them.
const OBJ = "goal_obj";
const KR_A = "goal_kr_a";
const KR_B = "goal_kr_b";

const kr = (goalId: string, over: Partial<RouterKeyResult> = {}): RouterKeyResult => ({
  goalId, status: "active", health: "on_track", progress: 0.5, parentGoalId: OBJ, ...over,
});

const candidate = (goalId: string, over: Partial<RouterCandidate> = {}): RouterCandidate => ({
  goalId,
  goalType: "initiative",
  status: "active",
  priority: 3,
  parentGoalId: KR_A,
  dependenciesMet: true,
  allowedCapabilities: ["crm.update"],
  constraints: [],
  hasCommand: true,
  inFlight: 0,
  runsToday: 0,
  lastRunAt: null,
  ...over,
});

function route(candidates: RouterCandidate[], keyResults: RouterKeyResult[] = [kr(KR_A)], agentCapabilities: string[] | null = null) {
  return routeInitiatives({ candidates, keyResults, agentCapabilities });
}

const order = (result: ReturnType<typeof route>) => result.ranked.map((r) => r.goalId);

describe("which key results a goal serves", () => {
  const krs = [kr(KR_A), kr(KR_B, { status: "completed" }), kr("goal_kr_c", { parentGoalId: "goal_other_obj" })];

  it("serves its parent when the parent is a key result", () => {
    expect(servedKeyResults(KR_A, krs).map((k) => k.goalId)).toEqual([KR_A]);
  });

  it("serves every key result of its parent objective", () => {
    expect(servedKeyResults(OBJ, krs).map((k) => k.goalId)).toEqual([KR_A, KR_B]);
  });

  it("serves nothing without a parent", () => {
    expect(servedKeyResults(null, krs)).toEqual([]);
  });

  it("lists only the active ones in a ranked entry", () => {
    const { ranked } = route([candidate("goal_i", { parentGoalId: OBJ })], krs);
    expect(ranked[0]?.serves).toEqual([KR_A]);
  });
});

describe("exclusions", () => {
  it.each<[string, Partial<RouterCandidate>, RouterKeyResult[], string[] | null, string]>([
    ["a goal of another type", { goalType: "maintenance" }, [kr(KR_A)], null, "is a maintenance goal: only initiatives and experiments are routed"],
    ["a goal that is not active", { status: "ready" }, [kr(KR_A)], null, "is ready, not active"],
    ["a blocked goal", { status: "blocked" }, [kr(KR_A)], null, "is blocked, not active"],
    ["unmet dependencies", { dependenciesMet: false }, [kr(KR_A)], null, "waits on a dependency that is not completed"],
    ["no parent", { parentGoalId: null }, [kr(KR_A)], null, "has no parent, so it serves no key result"],
    ["an objective without key results", { parentGoalId: "goal_empty_obj" }, [kr(KR_A)], null, "serves no key result: its parent goal_empty_obj is not a key result and has none under it"],
    ["a key result that is not active", {}, [kr(KR_A, { status: "completed" })], null, `serves no active key result (${KR_A} is completed)`],
    ["an objective whose key results are not active", { parentGoalId: OBJ }, [kr(KR_A, { status: "planned" }), kr(KR_B, { status: "archived" })], null, `serves no active key result (${KR_A} is planned, ${KR_B} is archived)`],
    ["no dispatch command", { hasCommand: false }, [kr(KR_A)], null, "has no dispatch command configured"],
    ["no capability the agent has", { allowedCapabilities: ["crm.update", "web.search"] }, [kr(KR_A)], ["email.send"], "allows none of the agent's capabilities (allows crm.update, web.search; the agent has email.send)"],
    ["no declared capability", { allowedCapabilities: [] }, [kr(KR_A)], ["email.send"], "declares no allowed_capabilities, and the agent is limited to theirs (email.send)"],
    ["max_runs_per_day reached", { constraints: ["budget: 10 EUR", "max_runs_per_day: 3"], runsToday: 3 }, [kr(KR_A)], null, "reached max_runs_per_day: 3 (3 runs started in the last 24h)"],
    ["a run in flight", { inFlight: 1 }, [kr(KR_A)], null, "has 1 run in flight, at max_concurrent_runs: 1 (the default: runs do not overlap)"],
    ["max_concurrent_runs reached", { constraints: ["max_concurrent_runs: 2"], inFlight: 2 }, [kr(KR_A)], null, "has 2 runs in flight, at max_concurrent_runs: 2"],
  ])("excludes %s", (_, over, keyResults, agentCapabilities, reason) => {
    const result = route([candidate("goal_i", over)], keyResults, agentCapabilities);
    expect(result.ranked).toEqual([]);
    expect(result.excluded).toEqual([{ goalId: "goal_i", reason }]);
  });

  it("routes experiments as well as initiatives", () => {
    expect(order(route([candidate("goal_e", { goalType: "experiment" })]))).toEqual(["goal_e"]);
  });

  it("gives the first reason that applies", () => {
    const result = route([candidate("goal_i", { status: "blocked", dependenciesMet: false, hasCommand: false, inFlight: 1 })]);
    expect(result.excluded[0]?.reason).toBe("is blocked, not active");
  });

  it("lets a goal run below its limits", () => {
    const result = route([candidate("goal_i", { constraints: ["MAX_RUNS_PER_DAY:3", "max_concurrent_runs : 2"], runsToday: 2, inFlight: 1 })]);
    expect(order(result)).toEqual(["goal_i"]);
  });

  it("ignores capabilities when the agent's are not known", () => {
    expect(order(route([candidate("goal_i", { allowedCapabilities: [] })], [kr(KR_A)], null))).toEqual(["goal_i"]);
  });

  it.each([
    [["*"], ["email.send"]],
    [["crm.*"], ["crm.update"]],
    [["crm.update"], ["crm.*"]],
    [["web.search", "crm.update"], ["crm.update"]],
  ])("admits a goal allowing %j to an agent with %j", (allowed, agent) => {
    expect(order(route([candidate("goal_i", { allowedCapabilities: allowed })], [kr(KR_A)], agent))).toEqual(["goal_i"]);
  });
});

describe("capabilities and constraints", () => {
  it.each([
    ["crm.update", "crm.update", true],
    ["*", "anything", true],
    ["crm.*", "crm.update", true],
    ["crm.*", "crmx.update", false],
    ["crm.*", "email.send", false],
    ["crm.update", "crm.*", true],
    ["crm.update", "crm.read", false],
  ])("%s and %s match: %s", (a, b, expected) => {
    expect(capabilityMatches(a, b)).toBe(expected);
  });

  it("reads the two machine-readable forms, case-insensitive, spaces optional", () => {
    expect(constraintLimits([])).toEqual({ maxRunsPerDay: null, maxConcurrentRuns: 1 });
    expect(constraintLimits(["Max_Runs_Per_Day:5", "  max_concurrent_runs :  3 "])).toEqual({ maxRunsPerDay: 5, maxConcurrentRuns: 3 });
    expect(constraintLimits(["max_runs_per_day: 5", "max_runs_per_day: 2"])).toEqual({ maxRunsPerDay: 2, maxConcurrentRuns: 1 });
  });

  it("leaves other free text alone", () => {
    expect(constraintLimits(["no more than max_runs_per_day: 2 please", "max_runs_per_day: two", "budget 50 EUR"])).toEqual({ maxRunsPerDay: null, maxConcurrentRuns: 1 });
  });
});

describe("ranking", () => {
  const krs = [
    kr("goal_kr_off", { health: "off_track", parentGoalId: OBJ }),
    kr("goal_kr_risk", { health: "at_risk" }),
    kr("goal_kr_unknown", { health: "unknown", progress: null }),
    kr("goal_kr_on", { health: "on_track" }),
  ];

  it("puts the worst health first: off_track, at_risk, unknown, on_track", () => {
    const result = route(
      [
        candidate("goal_a", { parentGoalId: "goal_kr_on", priority: 1 }),
        candidate("goal_b", { parentGoalId: "goal_kr_unknown", priority: 1 }),
        candidate("goal_c", { parentGoalId: "goal_kr_risk", priority: 5 }),
        candidate("goal_d", { parentGoalId: "goal_kr_off", priority: 5 }),
      ],
      krs,
    );
    expect(order(result)).toEqual(["goal_d", "goal_c", "goal_b", "goal_a"]);
    expect(result.ranked.map((r) => r.health)).toEqual(["off_track", "at_risk", "unknown", "on_track"]);
    expect(result.ranked[0]?.reason).toBe("#1 of 4: serves goal_kr_off (off_track, progress 50%), priority 5, never run; ahead of goal_c on health (off_track vs at_risk)");
    expect(result.ranked[3]?.reason).toBe("#4 of 4: serves goal_kr_on (on_track, progress 50%), priority 1, never run; behind goal_b on health (on_track vs unknown)");
  });

  it("takes the worst health of the key results under an objective", () => {
    const result = route([candidate("goal_obj_work", { parentGoalId: OBJ })], [kr(KR_A, { health: "on_track" }), kr(KR_B, { health: "at_risk", progress: 0.1 })]);
    expect(result.ranked[0]).toMatchObject({ serves: [KR_A, KR_B], health: "at_risk", progress: 0.1 });
  });

  it("breaks a health tie by priority, 1 first", () => {
    const result = route([candidate("goal_a", { priority: 4 }), candidate("goal_b", { priority: 2 })]);
    expect(order(result)).toEqual(["goal_b", "goal_a"]);
    expect(result.ranked[1]?.reason).toBe(`#2 of 2: serves ${KR_A} (on_track, progress 50%), priority 4, never run; behind goal_b on priority (4 vs 2)`);
  });

  it("then by the lowest progress, a key result without a value counting as 0", () => {
    const keyResults = [kr(KR_A, { progress: 0.3 }), kr(KR_B, { progress: null })];
    const result = route([candidate("goal_a", { parentGoalId: KR_A }), candidate("goal_b", { parentGoalId: KR_B })], keyResults);
    expect(order(result)).toEqual(["goal_b", "goal_a"]);
    expect(result.ranked.map((r) => r.progress)).toEqual([0, 0.3]);
    expect(result.ranked[0]?.reason).toContain("ahead of goal_a on progress (0% vs 30%)");
  });

  it("then by the least recently run, never run first", () => {
    const result = route([
      candidate("goal_a", { lastRunAt: "2026-03-02T10:00:00Z" }),
      candidate("goal_b", { lastRunAt: "2026-03-01T10:00:00Z" }),
      candidate("goal_c", { lastRunAt: null }),
    ]);
    expect(order(result)).toEqual(["goal_c", "goal_b", "goal_a"]);
    expect(result.ranked[0]?.reason).toBe(`#1 of 3: serves ${KR_A} (on_track, progress 50%), priority 3, never run; ahead of goal_b on last run (never vs 2026-03-01T10:00:00Z)`);
    expect(result.ranked[2]?.reason).toContain("last run 2026-03-02T10:00:00Z; behind goal_b on last run (2026-03-02T10:00:00Z vs 2026-03-01T10:00:00Z)");
  });

  it("then by goal id, whatever the input order", () => {
    const result = route([candidate("goal_z"), candidate("goal_m"), candidate("goal_a")]);
    expect(order(result)).toEqual(["goal_a", "goal_m", "goal_z"]);
    expect(result.ranked[1]?.reason).toContain("behind goal_a on goal id (tied on everything else)");
  });

  it("ranks the eligible and explains the rest in one pass", () => {
    const result = route([candidate("goal_busy", { inFlight: 1 }), candidate("goal_free")]);
    expect(order(result)).toEqual(["goal_free"]);
    expect(result.ranked[0]?.reason).toBe(`#1 of 1: serves ${KR_A} (on_track, progress 50%), priority 3, never run; the only eligible candidate`);
    expect(result.excluded.map((e) => e.goalId)).toEqual(["goal_busy"]);
  });
});
