/** Opening the library for one command (loaded lazily: SQLite is not needed by every command). */
import type { GoalOps } from "../index.js";
import type { RepoOptions } from "./options.js";

/** Opens the library for one command and closes it after, whatever happens. */
export async function withGoalOps<T>(options: RepoOptions, action: (ops: GoalOps) => Promise<T>): Promise<T> {
  const { openGoalOps } = await import("../index.js");
  const ops = await openGoalOps(options.repo === undefined ? {} : { repo: options.repo });
  try {
    return await action(ops);
  } finally {
    await ops.close();
  }
}
