/**
 * The scheduler behind `review_cadence`: each active goal with a cadence fires on it, a cron
 * expression (five fields, or six with seconds; croner, in the goal's `schedule.timezone`, else
 * scheduler.timezone, else UTC) or an interval ('90s', '15m', '6h').
 *
 * Overlap (a goal's `schedule.overlap`, default skip): a firing while the goal's previous job still
 * runs (its firing handler, or a dispatched job of the goal) is skipped and recorded as a run with
 * failure category run_overlap; `allow` runs both.
 *
 * Catch-up after downtime (a goal's `schedule.catch_up`, default one): at start, a goal whose
 * last firing (kept in the database) is older than its most recent due time (cron: the latest
 * match before now; interval: last firing + interval) fires once at once, however many firings
 * were missed; `none` waits for the next due time. A goal that never fired has nothing to catch up.
 */
import { Cron } from "croner";
import { intervalMs } from "../spec/interval.js";
import type { ScheduleSpec } from "../spec/types.js";
import type { GoalOpsStore, ScheduledGoalRow } from "../store/types.js";
import type { Logger } from "../daemon/logger.js";

const REFRESH_COALESCE_MS = 500;

export interface Firing {
  at: Date;
  /** A firing missed while the daemon was down, run once at start. */
  catchUp: boolean;
}

export interface SchedulerDeps {
  store: GoalOpsStore;
  log: Logger;
  /** Time zone of cron expressions whose goal names none. */
  timezone: string;
  /** What a firing does; returns what happened (recorded as the schedule's last outcome) and the run it made, if any. */
  fire(goal: ScheduledGoalRow, firing: Firing): Promise<{ outcome: string; runId?: string | null }>;
  /** Whether a job of this goal is running now (a dispatched job). */
  busy(goalId: string): boolean;
  /** Records a skipped overlap as a run_overlap run; returns its id. */
  recordOverlap(goal: ScheduledGoalRow, firing: Firing): Promise<string>;
  now?: () => Date;
}

interface Entry {
  goal: ScheduledGoalRow;
  /** cadence + time zone: a change replaces the entry. */
  key: string;
  /** When it fires next (epoch ms). */
  nextAt: number;
  firing: boolean;
}

export interface ScheduleView {
  goal_id: string;
  cadence: string;
  timezone: string;
  overlap: "skip" | "allow";
  next_at: string | null;
  firing: boolean;
}

/** The longest a timer is set for: Node's setTimeout limit is 2^31-1 ms; the clock is looked at again after. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Next and previous due times of cadences. A croner Cron object costs about 0.15 ms and 90 KB to
 * make, so there is one per distinct (expression, time zone), used only to compute times, never as
 * a timer; thousands of goals share a handful.
 */
export class CadenceClock {
  private readonly crons = new Map<string, Cron>();

  /** The first due time after `after`, or null (a cron that never matches again). Throws for an expression croner refuses. */
  nextAfter(cadence: string, timezone: string, after: Date): Date | null {
    const ms = intervalMs(cadence);
    if (ms !== undefined) return new Date(after.getTime() + ms);
    return this.cron(cadence, timezone).nextRun(after);
  }

  /** When a cadence was last due after `lastFiredAt` and not after `now`, or null. */
  lastDueBefore(cadence: string, timezone: string, lastFiredAt: Date, now: Date): Date | null {
    const ms = intervalMs(cadence);
    if (ms !== undefined) {
      const due = new Date(lastFiredAt.getTime() + ms);
      return due <= now ? due : null;
    }
    const previous = this.cron(cadence, timezone).previousRuns(1, now)[0];
    return previous !== undefined && previous > lastFiredAt ? previous : null;
  }

  private cron(cadence: string, timezone: string): Cron {
    const key = `${cadence}|${timezone}`;
    let cron = this.crons.get(key);
    if (cron === undefined) {
      cron = new Cron(cadence, { paused: true, timezone });
      this.crons.set(key, cron);
    }
    return cron;
  }
}

/**
 * One timer for every schedule: it is set for the earliest next firing; when it goes off, every
 * goal due fires and gets its next time. A goal's next time after a firing is computed from the
 * firing's due time for intervals (no drift) and from now for cron expressions.
 */
export class Scheduler {
  private readonly entries = new Map<string, Entry>();
  private readonly clock = new CadenceClock();
  private readonly refused = new Set<string>();
  private stopped = false;
  private timer: NodeJS.Timeout | null = null;
  private refreshTimer: NodeJS.Timeout | null = null;
  private readonly pendingRefresh = new Set<string>();
  private readonly now: () => Date;

  constructor(private readonly deps: SchedulerDeps) {
    this.now = deps.now ?? (() => new Date());
  }

  /** Sets up every active goal's schedule and fires the catch-ups; returns how many caught up. */
  async start(): Promise<{ scheduled: number; caughtUp: string[] }> {
    const last = new Map((await this.deps.store.scheduleStates()).map((s) => [s.goal_id, s]));
    await this.refresh();
    const caughtUp: string[] = [];
    const now = this.now();
    for (const entry of this.entries.values()) {
      const state = last.get(entry.goal.goal_id);
      const spec = scheduleOf(entry.goal);
      if (state?.last_fired_at == null || (spec.catch_up ?? "one") === "none") continue;
      const due = this.clock.lastDueBefore(entry.goal.spec.review_cadence as string, this.timezoneOf(entry.goal), new Date(state.last_fired_at), now);
      if (due === null) continue;
      caughtUp.push(entry.goal.goal_id);
      this.deps.log.info(`catching up a firing missed while the daemon was down (${entry.goal.goal_id}, due ${due.toISOString()})`, { goal_id: entry.goal.goal_id, due_at: due.toISOString() });
      void this.fire(entry, true);
    }
    return { scheduled: this.entries.size, caughtUp };
  }

  /**
   * Re-reads every goal with a cadence (at start, and every few seconds as the backstop for status
   * changes made through the API): new, changed and stopped schedules take effect now. Specs are
   * read again only for goals whose file version changed.
   */
  async refresh(): Promise<void> {
    if (this.stopped) return;
    const versions = await this.deps.store.scheduledGoalVersions();
    const seen = new Set(versions.map((v) => v.goal_id));
    const changed = versions.filter((v) => this.entries.get(v.goal_id)?.goal.content_hash !== v.content_hash).map((v) => v.goal_id);
    this.apply(changed.length === 0 ? [] : await this.deps.store.scheduledGoals(changed));
    for (const id of this.entries.keys()) if (!seen.has(id)) this.entries.delete(id);
    this.arm();
  }

  /** Re-reads these goals only (what a sync changed): each is scheduled anew, changed, or dropped. */
  async refreshGoals(goalIds: readonly string[]): Promise<void> {
    if (this.stopped || goalIds.length === 0) return;
    const goals = await this.deps.store.scheduledGoals(goalIds);
    const still = new Set(goals.map((g) => g.goal_id));
    for (const id of goalIds) if (!still.has(id)) this.entries.delete(id);
    this.apply(goals);
    this.arm();
  }

  /**
   * The goals' entries, keeping the same entry object for a goal (a firing in progress still
   * marks it, for overlap). Kept of each goal: what the schedule reads; a firing reads the whole
   * goal again (fresh, and thousands of specs are not held for the odd firing).
   */
  private apply(goals: readonly ScheduledGoalRow[]): void {
    const now = this.now();
    for (const goal of goals) {
      const key = `${goal.spec.review_cadence as string}|${this.timezoneOf(goal)}`;
      const existing = this.entries.get(goal.goal_id);
      goal.spec = { review_cadence: goal.spec.review_cadence, ...(goal.spec.schedule !== undefined ? { schedule: goal.spec.schedule } : {}) };
      if (existing !== undefined && existing.key === key) {
        existing.goal = goal; // the overlap policy may change without a new time
        continue;
      }
      const nextAt = this.nextAt(goal, now);
      if (nextAt === undefined) this.entries.delete(goal.goal_id);
      else if (existing !== undefined) Object.assign(existing, { goal, key, nextAt });
      else this.entries.set(goal.goal_id, { goal, key, nextAt, firing: false });
    }
  }

  /**
   * A re-read of these goals soon (a sync changed them): edits come in bursts (a checkout syncs in
   * many batches), one read serves them all.
   */
  requestRefresh(goalIds: Iterable<string>): void {
    if (this.stopped) return;
    for (const id of goalIds) this.pendingRefresh.add(id);
    if (this.refreshTimer !== null || this.pendingRefresh.size === 0) return;
    this.refreshTimer = setTimeout(() => {
      this.refreshTimer = null;
      const ids = [...this.pendingRefresh];
      this.pendingRefresh.clear();
      void this.refreshGoals(ids).catch((error: unknown) => this.deps.log.error(`scheduler refresh failed: ${error instanceof Error ? error.message : String(error)}`));
    }, REFRESH_COALESCE_MS);
    this.refreshTimer.unref();
  }

  size(): number {
    return this.entries.size;
  }

  /** Goals whose firing is being handled now. */
  firing(): string[] {
    return [...this.entries.values()].filter((e) => e.firing).map((e) => e.goal.goal_id);
  }

  list(): ScheduleView[] {
    return [...this.entries.values()].map((e) => ({
      goal_id: e.goal.goal_id,
      cadence: e.goal.spec.review_cadence as string,
      timezone: this.timezoneOf(e.goal),
      overlap: scheduleOf(e.goal).overlap ?? "skip",
      next_at: Number.isFinite(e.nextAt) ? new Date(e.nextAt).toISOString() : null,
      firing: e.firing,
    }));
  }

  stop(): void {
    this.stopped = true;
    if (this.refreshTimer !== null) clearTimeout(this.refreshTimer);
    if (this.timer !== null) clearTimeout(this.timer);
    this.entries.clear();
  }

  private timezoneOf(goal: ScheduledGoalRow): string {
    return scheduleOf(goal).timezone ?? this.deps.timezone;
  }

  /** The goal's next firing after `after` (Infinity: never again), or undefined when its cadence cannot be scheduled. */
  private nextAt(goal: ScheduledGoalRow, after: Date): number | undefined {
    const cadence = goal.spec.review_cadence as string;
    try {
      return this.clock.nextAfter(cadence, this.timezoneOf(goal), after)?.getTime() ?? Number.POSITIVE_INFINITY;
    } catch (error) {
      // The schema checks the shape; croner finds the rest (a day 32, an unknown time zone). Said
      // once per goal and cadence, not at every refresh.
      const key = `${goal.goal_id}|${cadence}|${this.timezoneOf(goal)}`;
      if (!this.refused.has(key)) this.deps.log.error(`${goal.goal_id}: review_cadence '${cadence}' cannot be scheduled: ${(error as Error).message}`, { goal_id: goal.goal_id });
      this.refused.add(key);
      return undefined;
    }
  }

  /** Sets the one timer for the earliest next firing. */
  private arm(): void {
    if (this.stopped) return;
    if (this.timer !== null) clearTimeout(this.timer);
    let earliest = Number.POSITIVE_INFINITY;
    for (const e of this.entries.values()) if (e.nextAt < earliest) earliest = e.nextAt;
    if (!Number.isFinite(earliest)) return;
    this.timer = setTimeout(() => this.wake(), Math.min(MAX_TIMER_MS, Math.max(0, earliest - this.now().getTime())));
    this.timer.unref();
  }

  private wake(): void {
    this.timer = null;
    const now = this.now();
    for (const entry of this.entries.values()) {
      if (entry.nextAt > now.getTime()) continue;
      const due = entry.nextAt;
      const cadence = entry.goal.spec.review_cadence as string;
      const ms = intervalMs(cadence);
      // Intervals keep their phase; a cron expression's next match comes after now (missed ones are not replayed).
      entry.nextAt = ms !== undefined ? due + Math.ceil((now.getTime() - due + 1) / ms) * ms : (this.nextAt(entry.goal, now) ?? Number.POSITIVE_INFINITY);
      void this.fire(entry, false);
    }
    this.arm();
  }

  private async fire(entry: Entry, catchUp: boolean): Promise<void> {
    if (this.stopped) return;
    const goalId = entry.goal.goal_id;
    const firing: Firing = { at: this.now(), catchUp };
    const cadence = entry.goal.spec.review_cadence as string;
    const record = (outcome: string, runId: string | null) =>
      this.deps.store.recordScheduleFiring({ goalId, cadence, firedAt: firing.at.toISOString(), runId, outcome });
    let ours = false;
    try {
      const [goal] = await this.deps.store.scheduledGoals([goalId]);
      if (goal === undefined) return; // no longer active: the next refresh drops it
      if ((entry.firing || this.deps.busy(goalId)) && (scheduleOf(goal).overlap ?? "skip") === "skip") {
        const runId = await this.deps.recordOverlap(goal, firing);
        this.deps.log.warn(`${goalId}: skipped a firing, its previous job still runs (run_overlap ${runId})`, { goal_id: goalId, run_id: runId });
        await record("skipped: overlap", runId);
        return;
      }
      entry.firing = true;
      ours = true;
      const { outcome, runId } = await this.deps.fire(goal, firing);
      await record(catchUp ? `${outcome} (catch-up)` : outcome, runId ?? null);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      this.deps.log.error(`${goalId}: scheduled job failed: ${message}`, { goal_id: goalId });
      await record(`failed: ${message}`, null).catch(() => undefined);
    } finally {
      if (ours) entry.firing = false;
    }
  }
}

function scheduleOf(goal: ScheduledGoalRow): ScheduleSpec {
  return (goal.spec.schedule as ScheduleSpec | undefined) ?? {};
}
