import type { Command } from "commander";
import type { StatusNode, StatusReport } from "../../index.js";
import { GOAL_STATUSES } from "../../spec/types.js";
import { withJson, withRepo, type RepoOptions } from "../options.js";
import { withGoalOps } from "../withGoalOps.js";
import { progressBar } from "./kr.js";

function treeLines(nodes: readonly StatusNode[], prefix: string, out: string[]): void {
  nodes.forEach((n, i) => {
    const last = i === nodes.length - 1;
    const measured = n.goal_type === "key_result" || n.goal_type === "objective";
    const signal = measured ? `${progressBar(n.progress)} ${n.health.padEnd(9)}` : " ".repeat(37);
    out.push(`${prefix}${last ? "└─ " : "├─ "}${n.status.padEnd(12)} ${signal} ${n.title}  (${n.goal_type}, ${n.goal_id})${n.intent_error !== null ? `\n${prefix}${last ? "   " : "│  "}   ! ${n.intent_error}` : ""}`);
    treeLines(n.children, `${prefix}${last ? "   " : "│  "}`, out);
  });
}

export function formatStatus(report: StatusReport): string {
  const out: string[] = [];
  const total = Object.values(report.counts).reduce((a, b) => a + b, 0);
  // In the state machine's order, so the line reads the same every time.
  const byStatus = GOAL_STATUSES.filter((s) => report.counts[s] !== undefined).map((s) => `${report.counts[s]} ${s}`);
  out.push(`goals: ${total}${total > 0 ? ` (${byStatus.join(", ")})` : ""}`);
  const sync = report.sync;
  out.push(`last sync: ${sync.lastAttemptedAt ?? "never"}${sync.lastAttemptedCommit !== null ? ` at ${sync.lastAttemptedCommit.slice(0, 12)}` : ""}; last fully applied: ${sync.lastAppliedCommit !== null ? sync.lastAppliedCommit.slice(0, 12) : sync.lastAppliedAt ?? "never"}`);
  out.push(report.daemon !== null ? `daemon: running (pid ${report.daemon.pid}${report.daemon.url !== null ? `, ${report.daemon.url}` : ""})` : "daemon: not running (goalops daemon starts it)");
  out.push("");
  treeLines(report.goals, "", out);
  if (report.recentRuns.length > 0) {
    out.push("", "recent runs:");
    for (const r of report.recentRuns) out.push(`  ${r.started_at}  ${r.run_id}  ${r.goal_id}  ${r.run_state}${r.local_outcome !== null ? ` ${r.local_outcome}` : ""}${r.failure_category !== null ? ` (${r.failure_category})` : ""}`);
  }
  if (report.invalidFiles.length > 0) {
    out.push("", "invalid files (the last good version stays in force):");
    for (const f of report.invalidFiles) for (const p of f.problems) out.push(`  ${f.path}:${p.line}:${p.column}: ${p.field !== "" ? `${p.field}: ` : ""}${p.message}`);
  }
  return `${out.join("\n")}\n`;
}

export function registerStatus(program: Command): void {
  withJson(withRepo(program.command("status")))
    .description("the goal tree with runtime status, health and key-result progress; recent runs; files that failed the last sync")
    .action(async (options: RepoOptions & { json?: boolean }) => {
      await withGoalOps(options, async (ops) => {
        const report = await ops.status();
        process.stdout.write(options.json ? `${JSON.stringify(report, null, 2)}\n` : formatStatus(report));
      });
    });
}
