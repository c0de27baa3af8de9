import { describe, expect, it } from "vitest";
import { TRANSITIONS, canTransition, pathToStatus } from "../src/goals/stateMachine.js";
import { GOAL_STATUSES, type GoalStatus } from "../src/spec/types.js";

const legal: [GoalStatus, GoalStatus][] = [
  ["planned", "ready"], ["planned", "blocked"], ["planned", "archived"],
  ["ready", "active"], ["ready", "planned"], ["ready", "blocked"], ["ready", "archived"],
  ["active", "waiting"], ["active", "retrying"], ["active", "blocked"], ["active", "checkpointed"], ["active", "completed"], ["active", "completed_with_caveats"], ["active", "failed"], ["active", "archived"],
  ["waiting", "active"], ["waiting", "retrying"], ["waiting", "blocked"], ["waiting", "failed"], ["waiting", "archived"],
  ["retrying", "active"], ["retrying", "waiting"], ["retrying", "blocked"], ["retrying", "failed"], ["retrying", "archived"],
  ["blocked", "ready"], ["blocked", "active"], ["blocked", "failed"], ["blocked", "archived"],
  ["checkpointed", "active"], ["checkpointed", "failed"], ["checkpointed", "archived"],
  ["completed", "archived"], ["completed_with_caveats", "archived"], ["failed", "archived"], ["archived", "planned"],
];
const legalSet = new Set(legal.map(([a, b]) => `${a}>${b}`));
const all = GOAL_STATUSES.flatMap((from) => GOAL_STATUSES.map((to) => [from, to] as [GoalStatus, GoalStatus]));

describe("the goal state machine", () => {
  it("has exactly the eleven PRD states", () => {
    expect(Object.keys(TRANSITIONS).sort()).toEqual([...GOAL_STATUSES].sort());
  });

  it.each(all)("%s -> %s", (from, to) => {
    expect(canTransition(from, to)).toBe(legalSet.has(`${from}>${to}`));
  });

  it.each([
    ["planned", "active", ["ready", "active"]],
    ["planned", "archived", ["archived"]],
    ["active", "ready", undefined],
    ["completed", "active", undefined],
    ["archived", "active", ["planned", "ready", "active"]],
    ["blocked", "active", ["active"]],
    ["active", "active", []],
  ] as [GoalStatus, GoalStatus, GoalStatus[] | undefined][])("reaches intent %s -> %s by %j", (from, to, path) => {
    expect(pathToStatus(from, to)).toEqual(path);
  });
});
