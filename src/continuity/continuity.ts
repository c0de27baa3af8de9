/**
 * Continuity in the library: what the daemon recorded at its last start and stop, the watchdogs'
 * alerts and the schedules' last firings. The daemon does the work (src/daemon/); these read it.
 */
import { InvalidInputError } from "../errors.js";
import type { ContinuityReportRow, GoalOpsStore, ScheduleStateRow, WatchdogAlertRow } from "../store/types.js";

export type ContinuityReportKind = "reconcile" | "shutdown";

export class Continuity {
  constructor(private readonly store: GoalOpsStore) {}

  /** The latest startup reconciliation report or shutdown summary. */
  async report(kind: ContinuityReportKind): Promise<ContinuityReportRow> {
    const report = await this.store.latestContinuityReport(kind);
    if (report === undefined) {
      throw new InvalidInputError("report.not_found", kind === "reconcile"
        ? "no reconciliation report yet: the daemon writes one each time it starts (goalops daemon)"
        : "no shutdown summary yet: the daemon writes one each time it stops cleanly (SIGTERM or SIGINT)");
    }
    return report;
  }

  alerts(filter: { goalId?: string; limit?: number } = {}): Promise<WatchdogAlertRow[]> {
    return this.store.listAlerts({ ...(filter.goalId !== undefined ? { goalId: filter.goalId } : {}), limit: filter.limit ?? 50 });
  }

  schedules(): Promise<ScheduleStateRow[]> {
    return this.store.scheduleStates();
  }
}
