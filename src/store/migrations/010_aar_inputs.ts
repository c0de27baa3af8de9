/**
 * Migration 10: an after-action review stores what it is made from, and the
 * `after_action_reviews` view writes it. A review drafted without a model is a template over its
 * run (outcome, verifier, actions, notes, key-result values), the goal as it was reviewed, and
 * the failure taxonomy; storing the template's output (migration 9, ~460 bytes a review, drafted
 * and inserted one by one in JavaScript) made the learning cycle's reviews most of its time: 13 s
 * of 25 s at a million runs. Now a review is a narrow row (its reason, the failure streak before
 * it, the goal as reviewed, its own lesson candidates), the learning cycle writes a window's
 * failed and partial runs' reviews with one INSERT ... SELECT, and the view composes the texts
 * when a review is read. The view keeps the columns, their order and their meaning, so
 * `SELECT * FROM after_action_reviews` reads what it read before; it uses only SQL that SQLite
 * 3.31 understands (no ORDER BY inside aggregates, no -> operators), so an agent's older SQLite
 * can still read the file.
 *
 * - aar_goals: the goal a review was made for, as it was then (title and intent), once per
 *   distinct version.
 * - failure_taxonomy: src/learning/failureTaxonomy.ts's texts, which the template quotes. A test
 *   holds the table to the code: changing the texts needs a migration.
 * - aar_reviews.narrative: texts that replace the template's, as a JSON object (a summarizer's
 *   answer). Reviews from before this migration keep every text they had there, so they read
 *   exactly as before.
 * - aar_reviews is keyed by run (a run has one review) and WITHOUT ROWID: one B-tree. A review's
 *   id is derived from its run's, so it is not stored (nor indexed) but for reviews from before
 *   this migration, which keep theirs. No foreign key to goal_runs: reviews are made from runs
 *   read in the same statement or just before, runs are never deleted, and at a million runs the
 *   check cost 0.5 s of the 2.4 s the window's reviews took to write.
 * - aar_reviews.candidates_id: the review's own lesson candidates (aar_texts, a JSON list),
 *   written by src/learning/afterActionReview.ts; the view puts the agent's own (the run's
 *   lesson_candidates) first. A failed or partial run's review leaves it NULL: its candidates
 *   depend on the goal type, the run's first action and its failure category only, and are
 *   found in aar_kinds by them. So the learning cycle can write those reviews (in a thread of
 *   their own) while its pass over the ledger is still finding which kinds there are.
 */
import { FAILURE_TAXONOMY } from "../../learning/failureTaxonomy.js";

export const name = "aar_inputs";

/** A review's id is its run's: "aar_" and the run's ULID (the whole id of a run not named grun_). */
export const AAR_ID = (runId: string) => `CASE WHEN substr(${runId}, 1, 5) = 'grun_' THEN 'aar_' || substr(${runId}, 6) ELSE 'aar_' || ${runId} END`;

const quote = (text: string) => `'${text.replace(/'/g, "''")}'`;

/** A text of the review: the narrative's when it has one (JSON null included), else the template's. */
const field = (name: string, template: string) =>
  `CASE WHEN b.narrative IS NULL OR json_type(b.narrative, '$.${name}') IS NULL THEN ${template} ELSE json_extract(b.narrative, '$.${name}') END`;

/** A number as a person writes it: at most two decimals, no trailing zeros. */
const num = (x: string) => `printf('%.15g', round(${x}, 2))`;
/** A KR value as recorded. */
const value = (x: string) => `CASE WHEN typeof(${x}) = 'real' THEN printf('%.15g', ${x}) ELSE CAST(${x} AS TEXT) END`;
/** A JSON list of the items whose conditions hold, in order: pairs of [condition, text]. */
const list = (items: [string, string][]) => `'[' || substr(${items.map(([when, text]) => `CASE WHEN ${when} THEN ',' || json_quote(${text}) ELSE '' END`).join(" || ")}, 2) || ']'`;

const INTENDED = `b.intent || ', ' || CASE WHEN b.plan IS NULL THEN 'no plan recorded' ELSE 'plan: ' || b.plan END`;
const ACTUAL = `'run ' || b.run_id || ' (attempt ' || b.attempt || ') ' || ifnull(b.outcome, 'did not finish') || b.duration || ', '
      || CASE WHEN b.verifier IS NULL THEN 'no verifier' ELSE 'verifier ' || b.verifier END || ', ' || b.action_text
      || CASE WHEN b.category IS NOT NULL THEN ', failure category ' || b.category ELSE '' END`;
const IMPACT = `CASE WHEN b.moves IS NULL THEN 'no key-result movement during the run' ELSE 'key results moved: ' || b.moves END || '; '
      || CASE WHEN b.business = 'unknown' THEN 'business outcome unknown' ELSE 'business outcome ' || b.business END`;
const RECOMMENDED = list([
  ["b.meaning IS NOT NULL", "b.recommendation"],
  ["b.failed AND b.category IS NULL", quote("record a failure_category when a run fails, so reviews can name the cause")],
  ["b.verifier IS NULL OR b.verifier = 'skipped'", quote("verify this goal's runs (a verifier result tells success from a claim of success)")],
  ["b.notable > 0", `'reuse this run''s approach for "' || b.title || '"' || CASE WHEN b.plan IS NOT NULL THEN ' (plan: ' || b.plan || ')' ELSE '' END`],
]);

export const sql = `
CREATE TABLE failure_taxonomy (
  category       TEXT PRIMARY KEY,
  meaning        TEXT NOT NULL,
  root_cause     TEXT NOT NULL,
  recommendation TEXT NOT NULL
) WITHOUT ROWID;
INSERT INTO failure_taxonomy (category, meaning, root_cause, recommendation) VALUES
${Object.entries(FAILURE_TAXONOMY).map(([c, info]) => `  (${quote(c)}, ${quote(info.meaning)}, ${quote(info.rootCause)}, ${quote(info.recommendation)})`).join(",\n")};

CREATE TABLE aar_goals (
  goal_text_id INTEGER PRIMARY KEY,
  goal_id      TEXT NOT NULL,
  goal_type    TEXT NOT NULL,
  title        TEXT NOT NULL,
  -- '<type> "<title>" (<id>), to meet: <success metrics>'
  intent       TEXT NOT NULL,
  UNIQUE (goal_id, goal_type, title, intent)
);

-- A failed run's review's own lesson candidates (aar_texts), by the goal type, the run's first
-- action ('' for none) and its failure category ('' for none).
CREATE TABLE aar_kinds (
  goal_type     TEXT NOT NULL,
  first_action  TEXT NOT NULL,
  category      TEXT NOT NULL,
  candidates_id INTEGER NOT NULL,
  PRIMARY KEY (goal_type, first_action, category)
) WITHOUT ROWID;

CREATE TABLE aar_reviews (
  run_id           TEXT PRIMARY KEY,
  -- NULL: the run's (see AAR_ID); a review from before this migration keeps the id it had
  aar_id           TEXT,
  goal_id          TEXT NOT NULL,
  review_reason    TEXT NOT NULL,
  -- failed or partial runs of the goal right before this run (a success after 2 or more is notable)
  prior_failures   INTEGER NOT NULL DEFAULT 0,
  goal_text_id     INTEGER,
  candidates_id    INTEGER,
  narrative        TEXT,
  narrative_source TEXT NOT NULL,
  promoted         INTEGER NOT NULL DEFAULT 0,
  created_at       TEXT NOT NULL
) WITHOUT ROWID;
CREATE UNIQUE INDEX aar_reviews_own_id ON aar_reviews(aar_id) WHERE aar_id IS NOT NULL;

INSERT INTO aar_reviews (aar_id, run_id, goal_id, review_reason, narrative, narrative_source, promoted, created_at)
  SELECT aar_id, run_id, goal_id, review_reason,
    json_object('what_happened', what_happened, 'root_cause', root_cause, 'root_cause_detail', root_cause_detail, 'intended', intended,
      'actual', actual, 'difference', difference, 'impact', impact, 'detection', detection, 'what_worked', json(what_worked),
      'what_failed', json(what_failed), 'lesson_candidates', json(lesson_candidates), 'recommended_changes', json(recommended_changes),
      'sustain', json(sustain), 'improve', json(improve)),
    narrative_source, promoted, created_at
  FROM after_action_reviews ORDER BY aar_id;

DROP VIEW after_action_reviews;
DROP TABLE aar_records;

CREATE VIEW after_action_reviews AS
  SELECT ifnull(b.aar_id, ${AAR_ID("b.run_id")}) AS aar_id, b.run_id, b.goal_id,
    CAST(${field("what_happened", `'Intended: ' || ${INTENDED} || '. Happened: ' || ${ACTUAL} || '. ' || ${IMPACT} || '.'`)} AS TEXT) AS what_happened,
    ${field("root_cause", "CASE WHEN b.meaning IS NULL THEN NULL ELSE b.category || ': ' || ifnull(b.notes, b.root_cause) END")} AS root_cause,
    ${field("what_worked", `CASE WHEN b.outcome = 'succeeded' THEN CASE WHEN b.actions = '[]' THEN '["the run as planned"]' ELSE b.actions END
      WHEN b.outcome = 'partial' AND b.actions != '[]' THEN (SELECT '[' || group_concat(json_quote(e.value || ' (in part)'), ',') || ']' FROM json_each(b.actions) e)
      ELSE '[]' END`)} AS what_worked,
    ${field("what_failed", `CASE WHEN b.outcome = 'succeeded' THEN '[]' ELSE '[' || json_quote(CASE WHEN b.meaning IS NOT NULL THEN b.category || ': ' || b.meaning ELSE 'the run ' || ifnull(b.outcome, 'did not finish') END) || ']' END`)} AS what_failed,
    ${field("lesson_candidates", `CASE WHEN b.own_candidates IS NULL OR b.own_candidates = '[]' THEN b.agent_candidates WHEN b.agent_candidates = '[]' THEN b.own_candidates
      ELSE substr(b.agent_candidates, 1, length(b.agent_candidates) - 1) || ',' || substr(b.own_candidates, 2) END`)} AS lesson_candidates,
    ${field("recommended_changes", RECOMMENDED)} AS recommended_changes,
    b.promoted, b.created_at, b.review_reason, b.category AS failure_category,
    ${field("root_cause_detail", "CASE WHEN b.meaning IS NULL THEN NULL ELSE ifnull(b.notes, b.root_cause) END")} AS root_cause_detail,
    ${field("intended", INTENDED)} AS intended,
    ${field("actual", ACTUAL)} AS actual,
    ${field("difference", `CASE WHEN b.outcome = 'succeeded' THEN CASE WHEN b.notable > 0 THEN 'none this time: it succeeded after ' || b.notable || ' failed or partial runs of this goal' ELSE 'none: the run met its goal' END
      WHEN b.meaning IS NOT NULL THEN b.category || ': ' || b.meaning
      ELSE 'the run ' || ifnull(b.outcome, 'did not finish') || ' without a failure category; classify it to learn from it' END
      || CASE WHEN b.verifier = 'failed' AND b.category IS NOT 'verification_failure' THEN '; the verifier rejected the result' ELSE '' END
      || CASE WHEN b.notes IS NOT NULL THEN '. The agent noted: ' || b.notes ELSE '' END`)} AS difference,
    ${field("sustain", `CASE WHEN b.outcome = 'succeeded' THEN '[' || json_quote(b.action_text || CASE WHEN b.plan IS NOT NULL THEN ' (plan: ' || b.plan || ')' ELSE '' END) || ']'
      WHEN b.verifier = 'passed' THEN '["the verified part of the work"]' ELSE '[]' END`)} AS sustain,
    ${field("improve", RECOMMENDED)} AS improve,
    ${field("impact", IMPACT)} AS impact,
    ${field("detection", `CASE WHEN b.outcome = 'succeeded' THEN CASE WHEN b.verifier = 'passed' THEN 'success confirmed by the verifier' ELSE 'success reported by the agent (not verified)' END
      WHEN b.verifier = 'failed' THEN 'detected by the verifier' WHEN b.verifier = 'passed' THEN 'reported by the agent although the verifier passed'
      ELSE 'reported by the agent''s own outcome (no verifier ran)' END`)} AS detection,
    b.narrative_source
  FROM (
    SELECT v.aar_id, v.run_id, v.goal_id, v.review_reason, v.narrative, v.narrative_source, v.promoted, v.created_at,
      r.attempt, r.plan_summary AS plan, r.actions_taken AS actions, r.verifier_status AS verifier, r.local_outcome AS outcome,
      r.business_outcome AS business, r.failure_category AS category, r.lesson_candidates AS agent_candidates,
      r.local_outcome IN ('failed', 'partial') AS failed,
      CASE WHEN r.local_outcome = 'succeeded' AND v.prior_failures >= 2 THEN v.prior_failures ELSE 0 END AS notable,
      NULLIF(trim(r.notes), '') AS notes,
      CASE WHEN r.duration_seconds IS NULL THEN '' WHEN r.duration_seconds < 120 THEN ' in ' || ${num("r.duration_seconds")} || ' s'
        ELSE ' in ' || ${num("r.duration_seconds / 60.0")} || ' min' END AS duration,
      CASE WHEN r.actions_taken = '[]' THEN 'no actions recorded' ELSE 'actions ' || (SELECT group_concat(e.value, ' -> ') FROM json_each(r.actions_taken) e) END AS action_text,
      (SELECT group_concat(k.kr || ' ' || ifnull(${value("k.before")}, 'none') || ' -> ' || ifnull(${value("k.after")}, 'none')
          || CASE WHEN k.before IS NOT NULL AND k.after IS NOT NULL THEN ' (' || CASE WHEN k.after - k.before >= 0 THEN '+' ELSE '' END || ${num("k.after - k.before")} || ')' ELSE '' END, ', ')
        FROM (SELECT e.key AS kr, e.value AS before, (SELECT f.value FROM json_each(r.metrics_after) f WHERE f.key = e.key) AS after, 0 AS side, e.id AS position
              FROM json_each(ifnull(r.metrics_before, '{}')) e
            UNION ALL
            SELECT f.key, NULL, f.value, 1, f.id FROM json_each(ifnull(r.metrics_after, '{}')) f
              WHERE NOT EXISTS (SELECT 1 FROM json_each(ifnull(r.metrics_before, '{}')) e WHERE e.key = f.key)
            ORDER BY side, position) k
        WHERE k.before IS NOT k.after) AS moves,
      g.title, g.intent, x.meaning, x.root_cause, x.recommendation,
      (SELECT c.text FROM aar_texts c WHERE c.text_id = ifnull(v.candidates_id, (SELECT k.candidates_id FROM aar_kinds k
        WHERE k.goal_type = g.goal_type AND k.first_action = ifnull(json_extract(r.actions_taken, '$[0]'), '') AND k.category = ifnull(r.failure_category, '')))) AS own_candidates
    FROM aar_reviews v
      CROSS JOIN goal_runs r ON r.run_id = v.run_id
      LEFT JOIN aar_goals g ON g.goal_text_id = v.goal_text_id
      LEFT JOIN failure_taxonomy x ON x.category = r.failure_category
  ) b;
`;
