/** Printing a sync or diff report for people. */
import type { SyncReport } from "../sync/syncRepo.js";
import { formatProblemText } from "./output.js";

const MARK = { added: "+", changed: "~", moved: "~", restored: "+", archived: "-" } as const;

export function formatSyncReport(report: SyncReport, verb: "sync" | "diff"): string {
  const lines: string[] = [];
  const at = report.commit === null ? "working tree (not a git commit)" : `commit ${report.commit.slice(0, 12)}`;
  lines.push(`${verb}: ${at}`);
  for (const c of report.changes) {
    const transitions = c.transitions?.length ? ` [${c.transitions.map((t) => t.to).reduce((acc, to) => `${acc} -> ${to}`, c.transitions[0]?.from ?? "new")}]` : "";
    const moved = c.change === "moved" ? " (moved)" : c.change === "restored" ? " (restored)" : "";
    lines.push(`  ${MARK[c.change]} ${c.kind} ${c.id}  ${c.path}${moved}${transitions}`);
    if (c.intentError !== undefined) lines.push(`      intent not applied: ${c.intentError}`);
  }
  for (const f of report.invalid) {
    const kept = f.keptId !== null ? `; the last good version of ${f.keptId} stays in force` : "; nothing from it is in force";
    lines.push(`  ! ${f.path}: invalid${kept}`);
    for (const p of f.problems) lines.push(`      ${formatProblemText({ file: f.path, ...p }).replace(/\n/g, "\n      ")}`);
  }
  const c = report.counts;
  lines.push(`${c.added} added, ${c.changed} changed, ${c.archived} archived, ${c.restored} restored, ${c.invalid} invalid, ${c.unchanged} unchanged`);
  if (report.message !== undefined) lines.push(report.message);
  if (report.inForce !== undefined) {
    const f = report.inForce;
    const goals = Object.values(f.goals).reduce((a, b) => a + (b ?? 0), 0);
    const byStatus = Object.entries(f.goals).map(([status, n]) => `${n} ${status}`).join(", ");
    const rules = Object.values(f.rules).reduce((a, b) => a + (b ?? 0), 0);
    const byMode = Object.entries(f.rules).map(([mode, n]) => `${n} ${mode}`).join(", ");
    lines.push(`in force: ${goals} goals${byStatus ? ` (${byStatus})` : ""}, ${f.lessons} active lessons, ${rules} playbook rules${byMode ? ` (${byMode})` : ""}`);
  }
  return `${lines.join("\n")}\n`;
}
