/**
 * Migration 5: the attempt index carries the attempt number, so a run's attempt is read as the
 * largest earlier one (one index probe) instead of counting every earlier run of its goal and job,
 * which slowed each start as the ledger grew.
 */
export const name = "run_attempt_max";

export const sql = `
DROP INDEX goal_runs_goal_job;
CREATE INDEX goal_runs_goal_job_attempt ON goal_runs(goal_id, job_id, attempt);
`;
