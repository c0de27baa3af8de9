/**
 * Migration 2: a stat signature (size, mtime, inode, ctime) per spec file, so a re-sync can tell an
 * unchanged file without reading it (git's index does the same); and an index that answers "live
 * goals by status" without reading the wide goal rows.
 */
export const name = "file_signatures";

export const sql = `
ALTER TABLE spec_files ADD COLUMN stat_signature TEXT;
CREATE INDEX goal_definitions_live_status ON goal_definitions(archived_at, status);
`;
