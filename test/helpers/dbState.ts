/**
 * What a database holds of the spec files, without times, sync history or stat signatures: two
 * databases that hold the same definitions, statuses and per-file states compare equal. Used to
 * hold the daemon's live sync to what a fresh `goalops sync` of the same files gives.
 */
import Database from "better-sqlite3";

export interface SpecState {
  goals: unknown[];
  lessons: unknown[];
  rules: unknown[];
  files: unknown[];
}

export function specState(databasePath: string): SpecState {
  const db = new Database(databasePath, { readonly: true, fileMustExist: true });
  try {
    const all = (sql: string) => db.prepare(sql).all();
    return {
      goals: all(`SELECT goal_id, goal_type, title, parent_goal_id, dependencies, status, status_intent, intent_error, source_path,
        content_hash, spec_json, archived_at IS NOT NULL AS archived FROM goal_definitions ORDER BY goal_id`),
      lessons: all("SELECT lesson_id, source_path, content_hash, spec_json, archived_at IS NOT NULL AS archived FROM lessons ORDER BY lesson_id"),
      rules: all("SELECT rule_id, activation_mode, source_path, content_hash, spec_json, archived_at IS NOT NULL AS archived FROM playbook_rules ORDER BY rule_id"),
      files: all("SELECT path, kind, object_id, content_hash, sync_state, errors FROM spec_files ORDER BY path"),
    };
  } finally {
    db.close();
  }
}
