/** Migration 3: why an open loop was resolved. */
export const name = "loop_resolution";

export const sql = `
ALTER TABLE open_loops ADD COLUMN resolution TEXT;
`;
