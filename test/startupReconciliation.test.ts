import { describe, expect, it } from "vitest";
import { decideRun } from "../src/continuity/startupReconciliation.js";
import type { OpenRunRow } from "../src/store/types.js";

const run = (fields: Partial<OpenRunRow>): OpenRunRow => ({
  run_id: "grun_1", goal_id: "goal_1", job_id: null, attempt: 1, run_state: "running", checkpoint_ref: null, started_at: "2026-11-25T00:00:00Z",
  goal_archived: false, resume_if_checkpointed: true, resume_if_interrupted: false, dispatched: false, dispatch_pid: null, dispatch_finished: false, ...fields,
});

describe("what startup reconciliation does with a run left behind", () => {
  it.each([
    ["running after a clean stop (started while no daemon ran)", run({}), false, { action: "leave", interrupted: false }],
    ["running after an unclean stop, with a checkpoint", run({ checkpoint_ref: "s3" }), true, { action: "resume", interrupted: true, reason: "resumed from checkpoint s3" }],
    ["running after an unclean stop, no checkpoint", run({}), true, { action: "park", interrupted: true, reason: expect.stringContaining("resume_if_interrupted is false") }],
    ["no checkpoint, resume_if_interrupted", run({ resume_if_interrupted: true }), true, { action: "resume", interrupted: true, reason: expect.stringContaining("started again") }],
    ["checkpointed by a clean shutdown", run({ run_state: "checkpointed", checkpoint_ref: "s3" }), false, { action: "resume", interrupted: false }],
    ["checkpointed by a clean shutdown, never checkpointed by its agent", run({ run_state: "checkpointed" }), false, { action: "park", interrupted: false }],
    ["resume_if_checkpointed false", run({ run_state: "checkpointed", checkpoint_ref: "s3", resume_if_checkpointed: false }), false, { action: "park", reason: expect.stringContaining("resume_if_checkpointed is false") }],
    ["its goal archived", run({ run_state: "checkpointed", checkpoint_ref: "s3", goal_archived: true }), false, { action: "park", reason: "its goal is archived" }],
    ["parked earlier", run({ run_state: "parked", checkpoint_ref: "s3" }), true, { action: "leave", interrupted: false }],
    ["interrupted earlier (a start that crashed midway)", run({ run_state: "interrupted", checkpoint_ref: "s3" }), false, { action: "resume", interrupted: false }],
  ] as const)("%s", (_name, input, unclean, expected) => {
    expect(decideRun(input, unclean)).toMatchObject(expected);
  });
});
