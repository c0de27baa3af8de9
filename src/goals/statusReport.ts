/**
 * `goalops status`: the goal tree with runtime status, health and key-result progress, recent
 * runs, files that failed the last sync, and where the last sync stands.
 */
import type { GoalOpsStore, InvalidFileRow, RunRecord, StatusGoalRow } from "../store/types.js";
import { type Health, worstHealth } from "./krProgress.js";
import { type SyncPosition, syncPosition } from "../sync/syncStatus.js";
import { join } from "node:path";
import { processAlive, readDaemonLock } from "../daemon/lock.js";
import type { KeyResultSummary, KeyResultTracker } from "./krTracker.js";

export interface StatusNode {
  goal_id: string;
  goal_type: string;
  title: string;
  status: string;
  priority: number;
  intent_error: string | null;
  /** Key results: their own; objectives: the mean of their key results'; others: null. */
  progress: number | null;
  health: Health;
  children: StatusNode[];
}

export interface StatusReport {
  goals: StatusNode[];
  counts: Record<string, number>;
  recentRuns: Pick<RunRecord, "run_id" | "goal_id" | "run_state" | "local_outcome" | "failure_category" | "started_at">[];
  invalidFiles: InvalidFileRow[];
  sync: SyncPosition;
  /** The daemon serving this repository, if one is running. */
  daemon: { pid: number; url: string | null } | null;
}

export async function buildStatus(store: GoalOpsStore, tracker: KeyResultTracker, options: { recentRuns?: number; stateDir?: string } = {}): Promise<StatusReport> {
  const goals = await store.statusGoals();
  const byId = new Map(goals.map((g) => [g.goal_id, g]));
  const krs = goals.filter((g) => g.goal_type === "key_result");
  const latest = await store.latestKeyResultValues(krs.map((k) => k.goal_id));
  // One clock for the whole report: every key result's health is judged at the same moment.
  const now = tracker.now();
  const krSummary = new Map<string, KeyResultSummary>(krs.map((k) => [k.goal_id, tracker.summarize(k, latest.get(k.goal_id) ?? null, now)]));

  const children = new Map<string, StatusGoalRow[]>();
  const roots: StatusGoalRow[] = [];
  for (const g of goals) {
    if (g.parent_goal_id === null || !byId.has(g.parent_goal_id)) {
      roots.push(g);
      continue;
    }
    const siblings = children.get(g.parent_goal_id);
    if (siblings === undefined) children.set(g.parent_goal_id, [g]);
    else siblings.push(g);
  }
  const toNode = (g: StatusGoalRow, depth: number): StatusNode => {
    const kids = depth > 50 ? [] : (children.get(g.goal_id) ?? []).map((c) => toNode(c, depth + 1));
    let progress: number | null = null;
    let health: Health = "unknown";
    if (g.goal_type === "key_result") {
      const s = krSummary.get(g.goal_id);
      progress = s?.progress ?? null;
      health = s?.health ?? "unknown";
    } else if (g.goal_type === "objective") {
      const krKids = kids.filter((k) => k.goal_type === "key_result");
      const measured = krKids.flatMap((k) => (k.progress === null ? [] : [k.progress]));
      progress = measured.length === 0 ? null : measured.reduce((a, b) => a + b, 0) / measured.length;
      health = worstHealth(krKids.map((k) => k.health));
    }
    return { goal_id: g.goal_id, goal_type: g.goal_type, title: g.title, status: g.status, priority: g.priority, intent_error: g.intent_error, progress, health, children: kids };
  };

  const counts: Record<string, number> = {};
  for (const g of goals) counts[g.status] = (counts[g.status] ?? 0) + 1;
  const recentRuns = (await store.listRuns({ limit: options.recentRuns ?? 10 })).map(({ run_id, goal_id, run_state, local_outcome, failure_category, started_at }) => ({ run_id, goal_id, run_state, local_outcome, failure_category, started_at }));
  return {
    goals: roots.map((r) => toNode(r, 0)),
    counts,
    recentRuns,
    invalidFiles: await store.invalidFiles(),
    sync: await syncPosition(store),
    daemon: options.stateDir === undefined ? null : runningDaemon(options.stateDir),
  };
}

function runningDaemon(stateDir: string): StatusReport["daemon"] {
  const lock = readDaemonLock(join(stateDir, "daemon.lock"));
  return lock !== null && processAlive(lock.pid) ? { pid: lock.pid, url: lock.url ?? null } : null;
}
