/**
 * Migration 8: continuity (PRD sections 9 and 10). A run keeps what an agent saved with its
 * checkpoint and what happened to it across stops (interrupted, parked, resumed); a dispatched run
 * keeps its command's exit and output. Startup reports and shutdown summaries are stored; schedules
 * remember when they last fired (catch-up after downtime); watchdogs keep their alerts.
 */
export const name = "continuity";

export const sql = `
ALTER TABLE goal_runs ADD COLUMN checkpoint_state TEXT;
ALTER TABLE goal_runs ADD COLUMN checkpointed_at TEXT;
ALTER TABLE goal_runs ADD COLUMN interrupted_at TEXT;
ALTER TABLE goal_runs ADD COLUMN parked_reason TEXT;
ALTER TABLE goal_runs ADD COLUMN resumed_at TEXT;
ALTER TABLE goal_runs ADD COLUMN resume_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE goal_runs ADD COLUMN dispatch TEXT;
-- runs not finished: few among millions, read at every start and stop
CREATE INDEX goal_runs_open ON goal_runs(run_state) WHERE run_state <> 'finished';

CREATE TABLE continuity_reports (
  report_id   TEXT PRIMARY KEY,
  kind        TEXT NOT NULL,
  clean       INTEGER,
  summary     TEXT NOT NULL,
  markdown    TEXT NOT NULL,
  started_at  TEXT NOT NULL,
  finished_at TEXT NOT NULL
);
CREATE INDEX continuity_reports_kind ON continuity_reports(kind, started_at);

CREATE TABLE schedule_state (
  goal_id       TEXT PRIMARY KEY,
  cadence       TEXT NOT NULL,
  last_fired_at TEXT,
  last_run_id   TEXT,
  last_outcome  TEXT,
  updated_at    TEXT NOT NULL
);

CREATE TABLE watchdog_alerts (
  alert_id   TEXT PRIMARY KEY,
  goal_id    TEXT NOT NULL,
  summary    TEXT NOT NULL,
  details    TEXT NOT NULL DEFAULT '{}',
  loop_id    TEXT,
  run_id     TEXT,
  fired_at   TEXT NOT NULL,
  cleared_at TEXT
);
CREATE INDEX watchdog_alerts_goal ON watchdog_alerts(goal_id, fired_at);
`;
