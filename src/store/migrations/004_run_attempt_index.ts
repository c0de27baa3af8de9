/**
 * Migration 4: an index for a run's attempt number (the earlier runs of its goal and job). Without
 * it, starting a run read every earlier run of its goal, and recording slowed as the ledger grew.
 */
export const name = "run_attempt_index";

export const sql = `
CREATE INDEX goal_runs_goal_job ON goal_runs(goal_id, job_id);
`;
