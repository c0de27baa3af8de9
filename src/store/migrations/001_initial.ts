/**
 * Migration 1: the PRD's ten tables (section 14) with the PRD's column names, plus what sync needs.
 * JSON-valued columns hold JSON text; timestamps are ISO 8601 UTC text.
 */
export const name = "initial";

export const sql = `
CREATE TABLE goal_definitions (
  goal_id              TEXT PRIMARY KEY,
  goal_type            TEXT NOT NULL,
  title                TEXT NOT NULL,
  description          TEXT,
  parent_goal_id       TEXT,
  owner_agent          TEXT NOT NULL,
  priority             INTEGER NOT NULL,
  success_metrics      TEXT NOT NULL DEFAULT '[]',
  failure_conditions   TEXT NOT NULL DEFAULT '[]',
  constraints          TEXT NOT NULL DEFAULT '[]',
  review_cadence       TEXT,
  start_condition      TEXT,
  stop_condition       TEXT,
  time_horizon         TEXT,
  dependencies         TEXT NOT NULL DEFAULT '[]',
  allowed_capabilities TEXT NOT NULL DEFAULT '[]',
  learning_required    INTEGER NOT NULL DEFAULT 0,
  -- runtime status: changes only through the state machine, each change a goal_state_events row
  status               TEXT NOT NULL,
  -- the status the file asks for, the last one applied, and why it could not be reached (if so)
  status_intent        TEXT,
  intent_error         TEXT,
  -- key_result goals: the declared signal (values over time are key_results rows)
  metric               TEXT,
  unit                 TEXT,
  baseline             REAL,
  target               REAL,
  direction            TEXT,
  kr_source            TEXT,
  -- where this definition came from
  source_path          TEXT NOT NULL,
  content_hash         TEXT NOT NULL,
  source_commit        TEXT,
  spec_json            TEXT NOT NULL,
  created_at           TEXT NOT NULL,
  updated_at           TEXT NOT NULL,
  archived_at          TEXT
);
CREATE INDEX goal_definitions_parent ON goal_definitions(parent_goal_id);
CREATE INDEX goal_definitions_status ON goal_definitions(status);

CREATE TABLE key_results (
  value_id     INTEGER PRIMARY KEY AUTOINCREMENT,
  goal_id      TEXT NOT NULL REFERENCES goal_definitions(goal_id),
  value        REAL NOT NULL,
  recorded_at  TEXT NOT NULL,
  source       TEXT,
  run_id       TEXT,
  created_at   TEXT NOT NULL
);
CREATE INDEX key_results_goal_time ON key_results(goal_id, recorded_at);

CREATE TABLE goal_state_events (
  event_id     INTEGER PRIMARY KEY AUTOINCREMENT,
  goal_id      TEXT NOT NULL REFERENCES goal_definitions(goal_id),
  from_status  TEXT,
  to_status    TEXT NOT NULL,
  actor        TEXT NOT NULL,
  reason       TEXT,
  run_id       TEXT,
  created_at   TEXT NOT NULL
);
CREATE INDEX goal_state_events_goal ON goal_state_events(goal_id, event_id);

CREATE TABLE goal_runs (
  run_id            TEXT PRIMARY KEY,
  goal_id           TEXT NOT NULL REFERENCES goal_definitions(goal_id),
  job_id            TEXT,
  attempt           INTEGER NOT NULL DEFAULT 1,
  plan_summary      TEXT,
  actions_taken     TEXT NOT NULL DEFAULT '[]',
  verifier_status   TEXT,
  local_outcome     TEXT,
  business_outcome  TEXT NOT NULL DEFAULT 'unknown',
  failure_category  TEXT,
  metrics_before    TEXT,
  metrics_after     TEXT,
  duration_seconds  REAL,
  checkpoint_ref    TEXT,
  -- runtime bookkeeping beside the PRD's fields
  run_state         TEXT NOT NULL DEFAULT 'running',
  idempotency_key   TEXT UNIQUE,
  notes             TEXT,
  lesson_candidates TEXT NOT NULL DEFAULT '[]',
  context_lessons   TEXT NOT NULL DEFAULT '[]',
  context_rules     TEXT NOT NULL DEFAULT '[]',
  started_at        TEXT NOT NULL,
  finished_at       TEXT,
  created_at        TEXT NOT NULL,
  updated_at        TEXT NOT NULL
);
CREATE INDEX goal_runs_goal ON goal_runs(goal_id, started_at);
CREATE INDEX goal_runs_started ON goal_runs(started_at);

CREATE TABLE outcome_records (
  outcome_id       TEXT PRIMARY KEY,
  run_id           TEXT REFERENCES goal_runs(run_id),
  goal_id          TEXT,
  source           TEXT NOT NULL,
  metric           TEXT,
  value_before     REAL,
  value_after      REAL,
  business_outcome TEXT NOT NULL,
  details          TEXT,
  observed_at      TEXT NOT NULL,
  created_at       TEXT NOT NULL
);
CREATE INDEX outcome_records_run ON outcome_records(run_id);

CREATE TABLE after_action_reviews (
  aar_id              TEXT PRIMARY KEY,
  run_id              TEXT NOT NULL UNIQUE REFERENCES goal_runs(run_id),
  goal_id             TEXT NOT NULL,
  what_happened       TEXT NOT NULL,
  root_cause          TEXT,
  what_worked         TEXT NOT NULL DEFAULT '[]',
  what_failed         TEXT NOT NULL DEFAULT '[]',
  lesson_candidates   TEXT NOT NULL DEFAULT '[]',
  recommended_changes TEXT NOT NULL DEFAULT '[]',
  promoted            INTEGER NOT NULL DEFAULT 0,
  created_at          TEXT NOT NULL
);

CREATE TABLE lessons (
  lesson_id        TEXT PRIMARY KEY,
  goal_type        TEXT NOT NULL,
  action_type      TEXT NOT NULL,
  failure_category TEXT,
  lesson_text      TEXT NOT NULL,
  evidence_run_ids TEXT NOT NULL DEFAULT '[]',
  confidence       REAL,
  category         TEXT NOT NULL,
  active           INTEGER NOT NULL DEFAULT 1,
  times_applied    INTEGER NOT NULL DEFAULT 0,
  times_validated  INTEGER NOT NULL DEFAULT 0,
  review_by        TEXT,
  source_path      TEXT NOT NULL,
  content_hash     TEXT NOT NULL,
  source_commit    TEXT,
  spec_json        TEXT NOT NULL,
  created_at       TEXT NOT NULL,
  updated_at       TEXT NOT NULL,
  archived_at      TEXT
);

CREATE TABLE playbook_rules (
  rule_id                TEXT PRIMARY KEY,
  title                  TEXT NOT NULL,
  applies_to_goal_type   TEXT NOT NULL,
  applies_to_action_type TEXT NOT NULL,
  rule_text              TEXT NOT NULL,
  source_lesson_ids      TEXT NOT NULL DEFAULT '[]',
  activation_mode        TEXT NOT NULL,
  canary_share           REAL,
  promoted_at            TEXT,
  times_applied          INTEGER NOT NULL DEFAULT 0,
  times_validated        INTEGER NOT NULL DEFAULT 0,
  source_path            TEXT NOT NULL,
  content_hash           TEXT NOT NULL,
  source_commit          TEXT,
  spec_json              TEXT NOT NULL,
  created_at             TEXT NOT NULL,
  updated_at             TEXT NOT NULL,
  -- a rule removed from git or rolled back is invalidated, never deleted
  archived_at            TEXT
);

CREATE TABLE open_loops (
  loop_id      TEXT PRIMARY KEY,
  goal_id      TEXT REFERENCES goal_definitions(goal_id),
  run_id       TEXT REFERENCES goal_runs(run_id),
  kind         TEXT NOT NULL,
  description  TEXT NOT NULL,
  loop_state   TEXT NOT NULL DEFAULT 'open',
  due_at       TEXT,
  attempts     INTEGER NOT NULL DEFAULT 0,
  created_at   TEXT NOT NULL,
  updated_at   TEXT NOT NULL,
  resolved_at  TEXT
);
CREATE INDEX open_loops_state_due ON open_loops(loop_state, due_at);

CREATE TABLE learning_cycle_reports (
  report_id    TEXT PRIMARY KEY,
  window_start TEXT NOT NULL,
  window_end   TEXT NOT NULL,
  summary      TEXT NOT NULL,
  markdown     TEXT,
  created_at   TEXT NOT NULL
);

-- sync: one row per spec file seen in the last sync, valid or not
CREATE TABLE spec_files (
  path                  TEXT PRIMARY KEY,
  kind                  TEXT NOT NULL,
  object_id             TEXT,
  content_hash          TEXT NOT NULL,
  sync_state            TEXT NOT NULL,
  errors                TEXT NOT NULL DEFAULT '[]',
  last_attempted_commit TEXT,
  last_applied_commit   TEXT,
  last_attempted_at     TEXT NOT NULL,
  last_applied_at       TEXT
);

-- sync: a short history of syncs
CREATE TABLE sync_runs (
  sync_id      INTEGER PRIMARY KEY AUTOINCREMENT,
  trigger      TEXT NOT NULL,
  commit_sha   TEXT,
  outcome      TEXT NOT NULL,
  added        INTEGER NOT NULL DEFAULT 0,
  changed      INTEGER NOT NULL DEFAULT 0,
  archived     INTEGER NOT NULL DEFAULT 0,
  restored     INTEGER NOT NULL DEFAULT 0,
  invalid      INTEGER NOT NULL DEFAULT 0,
  unchanged    INTEGER NOT NULL DEFAULT 0,
  message      TEXT,
  started_at   TEXT NOT NULL,
  finished_at  TEXT NOT NULL
);

-- small facts: last applied and attempted commit, config hash, clean-shutdown mark
CREATE TABLE goalops_meta (
  key   TEXT PRIMARY KEY,
  value TEXT
);
`;
