/**
 * Migration 6: after-action reviews carry, beside the PRD's fields, the four questions of an
 * after-action review (what was supposed to happen, what happened, why they differ, what to
 * sustain or improve), the failure category apart from its detail, the impact, how the failure
 * was detected, why the review was made, and whether a summarizer wrote its narrative.
 */
export const name = "aar_review";

export const sql = `
ALTER TABLE after_action_reviews ADD COLUMN review_reason TEXT NOT NULL DEFAULT 'manual';
ALTER TABLE after_action_reviews ADD COLUMN failure_category TEXT;
ALTER TABLE after_action_reviews ADD COLUMN root_cause_detail TEXT;
ALTER TABLE after_action_reviews ADD COLUMN intended TEXT NOT NULL DEFAULT '';
ALTER TABLE after_action_reviews ADD COLUMN actual TEXT NOT NULL DEFAULT '';
ALTER TABLE after_action_reviews ADD COLUMN difference TEXT NOT NULL DEFAULT '';
ALTER TABLE after_action_reviews ADD COLUMN sustain TEXT NOT NULL DEFAULT '[]';
ALTER TABLE after_action_reviews ADD COLUMN improve TEXT NOT NULL DEFAULT '[]';
ALTER TABLE after_action_reviews ADD COLUMN impact TEXT NOT NULL DEFAULT '';
ALTER TABLE after_action_reviews ADD COLUMN detection TEXT NOT NULL DEFAULT '';
ALTER TABLE after_action_reviews ADD COLUMN narrative_source TEXT NOT NULL DEFAULT 'template';
CREATE INDEX after_action_reviews_goal ON after_action_reviews(goal_id, created_at);
`;
