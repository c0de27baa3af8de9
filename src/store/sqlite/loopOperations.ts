/** Open loops on SQLite: pending retries, clarifications, follow-ups that survive restarts. */
import { InvalidInputError } from "../../errors.js";
import type { LoopKind, OpenLoopRecord } from "../types.js";
import { cached, type SqliteDatabase } from "./database.js";

function getLoop(db: SqliteDatabase, loopId: string): OpenLoopRecord | undefined {
  return cached(db, "SELECT * FROM open_loops WHERE loop_id = ?").get(loopId) as OpenLoopRecord | undefined;
}

export function addLoop(db: SqliteDatabase, loop: { loopId: string; goalId: string | null; runId: string | null; kind: LoopKind; description: string; dueAt: string | null; at: string }): OpenLoopRecord {
  return db.transaction(() => {
    cached(db, "INSERT INTO open_loops (loop_id, goal_id, run_id, kind, description, loop_state, due_at, attempts, created_at, updated_at) VALUES (?, ?, ?, ?, ?, 'open', ?, 0, ?, ?)").run(
      loop.loopId, loop.goalId, loop.runId, loop.kind, loop.description, loop.dueAt, loop.at, loop.at,
    );
    return getLoop(db, loop.loopId) as OpenLoopRecord;
  }).immediate();
}

export function listLoops(db: SqliteDatabase, filter: { goalId?: string; includeResolved: boolean }): OpenLoopRecord[] {
  const where = [filter.includeResolved ? null : "loop_state = 'open'", filter.goalId === undefined ? null : "goal_id = @goalId"].filter((w) => w !== null);
  const sql = `SELECT * FROM open_loops ${where.length > 0 ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY loop_state, COALESCE(due_at, '9999'), created_at`;
  return db.prepare(sql).all(filter.goalId === undefined ? {} : { goalId: filter.goalId }) as OpenLoopRecord[];
}

export function resolveLoop(db: SqliteDatabase, entry: { loopId: string; resolution: string | null; at: string }): OpenLoopRecord {
  return db.transaction(() => {
    const loop = getLoop(db, entry.loopId);
    if (loop === undefined) throw new InvalidInputError("loop.not_found", `no open loop '${entry.loopId}'`, { field: "loop_id" });
    if (loop.loop_state === "resolved") throw new InvalidInputError("loop.already_resolved", `loop ${entry.loopId} was resolved at ${loop.resolved_at}`, { field: "loop_id" });
    cached(db, "UPDATE open_loops SET loop_state = 'resolved', resolution = ?, resolved_at = ?, updated_at = ? WHERE loop_id = ?").run(entry.resolution, entry.at, entry.at, entry.loopId);
    return getLoop(db, entry.loopId) as OpenLoopRecord;
  }).immediate();
}
