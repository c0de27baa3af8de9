/**
 * Migration 9: after-action reviews stored compactly. A drafted review is ~1.7 KB of text, and
 * apart from what happened in its run (`actual`) nearly all of it repeats: the goal's intent, the
 * failure taxonomy's meaning and recommendation, the detection, the lists. At a million runs the
 * learning cycle wrote 364,000 reviews, 750 MB twice (WAL and checkpoint). Now each distinct
 * string is stored once in aar_texts and a review (aar_records) refers to its strings by number;
 * `what_happened` is stored only when it is not the template's
 * `Intended: <intended>. Happened: <actual>. <impact>.` (a summarizer's own narrative is kept).
 *
 * `after_action_reviews` becomes a view with the table's columns in the table's order and its
 * values, so `SELECT * FROM after_action_reviews` reads what it read before (the CLI, the API,
 * agents reading the file with their own SQLite). The view is read-only; goalops writes
 * aar_records.
 *
 * aar_records is WITHOUT ROWID, keyed by aar_id: found by aar_id in one search (as small and as
 * fast to write as a rowid table with its two unique indexes, measured). It has one more index,
 * UNIQUE(run_id): a run has one review, `aar show` finds it by run, and the learning cycle probes
 * it for "already reviewed". No index by goal: one on (goal_id, created_at) took ~105 bytes per
 * review and nearly doubled the time to write a chunk of reviews (a cycle's reviews share one
 * created_at, so each chunk writes into a leaf page per goal), while `aar list --goal` finds a goal's
 * reviews through its runs (goal_runs' goal index, then UNIQUE(run_id)): ~15 ms at 364,000
 * reviews of 300 goals, against ~6 ms with the old table's index.
 *
 * Text references carry no foreign key: texts are never deleted, and 12 references would be 12
 * more lookups per review.
 */
export const name = "aar_compact";

const TEXT_COLUMNS = ["intended", "difference", "impact", "root_cause", "root_cause_detail", "detection", "what_worked", "what_failed", "lesson_candidates", "recommended_changes", "sustain", "improve"];

const textOf = (column: string) => `(SELECT text_id FROM aar_texts WHERE text = a.${column})`;

export const sql = `
CREATE TABLE aar_texts (
  text_id INTEGER PRIMARY KEY,
  text    TEXT NOT NULL UNIQUE
);

CREATE TABLE aar_records (
  aar_id                 TEXT PRIMARY KEY,
  run_id                 TEXT NOT NULL UNIQUE REFERENCES goal_runs(run_id),
  goal_id                TEXT NOT NULL,
  review_reason          TEXT NOT NULL,
  failure_category       TEXT,
  narrative_source       TEXT NOT NULL,
  promoted               INTEGER NOT NULL DEFAULT 0,
  created_at             TEXT NOT NULL,
  -- text_id of aar_texts; JSON lists as their JSON text
  intended_id            INTEGER NOT NULL,
  difference_id          INTEGER NOT NULL,
  impact_id              INTEGER NOT NULL,
  root_cause_id          INTEGER,
  root_cause_detail_id   INTEGER,
  detection_id           INTEGER NOT NULL,
  what_worked_id         INTEGER NOT NULL,
  what_failed_id         INTEGER NOT NULL,
  lesson_candidates_id   INTEGER NOT NULL,
  recommended_changes_id INTEGER NOT NULL,
  sustain_id             INTEGER NOT NULL,
  improve_id             INTEGER NOT NULL,
  -- unique per run (its id and duration): inline
  actual                 TEXT NOT NULL,
  -- NULL: the template's composition of intended, actual and impact
  what_happened          TEXT
) WITHOUT ROWID;

INSERT INTO aar_texts (text)
${TEXT_COLUMNS.map((c) => `  SELECT ${c} FROM after_action_reviews WHERE ${c} IS NOT NULL`).join("\n  UNION\n")};

INSERT INTO aar_records (aar_id, run_id, goal_id, review_reason, failure_category, narrative_source, promoted, created_at,
    ${TEXT_COLUMNS.map((c) => `${c}_id`).join(", ")}, actual, what_happened)
  SELECT a.aar_id, a.run_id, a.goal_id, a.review_reason, a.failure_category, a.narrative_source, a.promoted, a.created_at,
    ${TEXT_COLUMNS.map(textOf).join(",\n    ")},
    a.actual,
    CASE WHEN a.what_happened = 'Intended: ' || a.intended || '. Happened: ' || a.actual || '. ' || a.impact || '.' THEN NULL ELSE a.what_happened END
  FROM after_action_reviews a ORDER BY a.aar_id;

DROP INDEX after_action_reviews_goal;
DROP TABLE after_action_reviews;

CREATE VIEW after_action_reviews AS
  SELECT r.aar_id, r.run_id, r.goal_id,
    CAST(COALESCE(r.what_happened, 'Intended: ' || intended.text || '. Happened: ' || r.actual || '. ' || impact.text || '.') AS TEXT) AS what_happened,
    root_cause.text AS root_cause, what_worked.text AS what_worked, what_failed.text AS what_failed, lesson_candidates.text AS lesson_candidates,
    recommended_changes.text AS recommended_changes, r.promoted, r.created_at, r.review_reason, r.failure_category,
    root_cause_detail.text AS root_cause_detail, intended.text AS intended, r.actual, difference.text AS difference, sustain.text AS sustain,
    improve.text AS improve, impact.text AS impact, detection.text AS detection, r.narrative_source
  FROM aar_records r
${TEXT_COLUMNS.map((c) => `    LEFT JOIN aar_texts ${c} ON ${c}.text_id = r.${c}_id`).join("\n")};
`;
