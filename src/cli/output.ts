/** Rendering problems for people (text), machines (json) and GitHub Actions (workflow annotations). */
import type { FileProblem } from "../spec/validateRepo.js";

export type ProblemFormat = "text" | "json" | "github";

export function formatProblemText(p: FileProblem): string {
  const field = p.field !== "" ? ` ${p.field}:` : "";
  const hint = p.hint !== undefined ? `\n    hint: ${p.hint}` : "";
  return `${p.file}:${p.line}:${p.column}: error${field} ${p.message} [${p.code}]${hint}`;
}

/** A GitHub workflow command; data and properties escaped as the runner expects. */
export function formatProblemGithub(p: FileProblem): string {
  const escapeData = (s: string) => s.replace(/%/g, "%25").replace(/\r/g, "%0D").replace(/\n/g, "%0A");
  const escapeProperty = (s: string) => escapeData(s).replace(/:/g, "%3A").replace(/,/g, "%2C");
  const title = p.field !== "" ? `goalops: ${p.field}` : "goalops";
  const message = p.hint !== undefined ? `${p.message} (${p.hint})` : p.message;
  return `::error file=${escapeProperty(p.file)},line=${p.line},col=${p.column},title=${escapeProperty(title)}::${escapeData(message)}`;
}

export function printProblems(problems: readonly FileProblem[], format: Exclude<ProblemFormat, "json">, stream: NodeJS.WritableStream): void {
  for (const p of problems) stream.write(`${format === "github" ? formatProblemGithub(p) : formatProblemText(p)}\n`);
}

export function plural(n: number, word: string, many = `${word}s`): string {
  return `${n} ${n === 1 ? word : many}`;
}
