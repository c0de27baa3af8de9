/**
 * Migration 7: playbook rules' runtime mode. A canary that regresses is rolled back at once in
 * the database (it acts as shadow) until its file changes, and every mode change, from a file or a
 * rollback, is an audited event with its reason and evidence.
 */
export const name = "rule_modes";

export const sql = `
ALTER TABLE playbook_rules ADD COLUMN rolled_back_at TEXT;
ALTER TABLE playbook_rules ADD COLUMN rollback_reason TEXT;
CREATE TABLE rule_mode_events (
  event_id   INTEGER PRIMARY KEY,
  rule_id    TEXT NOT NULL,
  from_mode  TEXT,
  to_mode    TEXT NOT NULL,
  decision   TEXT NOT NULL,
  reason     TEXT NOT NULL,
  evidence   TEXT NOT NULL DEFAULT '{}',
  actor      TEXT NOT NULL,
  created_at TEXT NOT NULL
);
CREATE INDEX rule_mode_events_rule ON rule_mode_events(rule_id, event_id);
`;
