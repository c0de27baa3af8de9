/** Opening the library for one command: the only way commands reach goalops' operations. */
import type { GoalOps } from "../index.js";
import { ExitCode, ExitError } from "./exit.js";
import type { RepoOptions } from "./options.js";
import { printProblems } from "./output.js";

/**
 * Opens the library for one command and closes it after, whatever happens. An invalid goalops.yaml
 * is printed with every problem (as `validate --json` prints, with --json) and exits 1.
 */
export async function withGoalOps<T>(options: RepoOptions & { json?: boolean; db?: string }, action: (ops: GoalOps) => Promise<T>): Promise<T> {
  const { openGoalOps, InvalidConfigError } = await import("../index.js");
  let ops: GoalOps;
  try {
    ops = await openGoalOps({ ...(options.repo !== undefined ? { repo: options.repo } : {}), ...(options.db !== undefined ? { databasePath: options.db } : {}) });
  } catch (error) {
    if (!(error instanceof InvalidConfigError)) throw error;
    // The same shape as `validate --json`, so a machine reads one format for "these files are invalid".
    if (options.json) process.stdout.write(`${JSON.stringify({ valid: false, filesChecked: 1, invalidFiles: 1, problems: error.problems }, null, 2)}\n`);
    else printProblems(error.problems, "text", process.stderr);
    throw new ExitError(ExitCode.Invalid);
  }
  try {
    return await action(ops);
  } finally {
    await ops.close();
  }
}
