/**
 * The files a learning cycle proposes, written by pure functions: new lesson and rule files, and
 * edits to existing ones through yaml's Document API, so that their comments, key order and
 * formatting survive and a reviewer's diff shows only the change.
 *
 * Ids of proposed files are derived from what they propose (the lesson's fingerprint, the rule's
 * source lesson), so that running the cycle again proposes the same file, not a second one.
 */
import { createHash } from "node:crypto";
import { Document, parseDocument } from "yaml";
import type { LessonSpec, PlaybookRuleSpec } from "../spec/types.js";
import type { LessonCandidateGroup } from "./lessonCandidates.js";

export interface ProposedFile {
  kind: "lesson" | "rule";
  change: "add" | "edit";
  /** Repository path. */
  path: string;
  id: string;
  text: string;
  /** One line for the commit message and the report, citing the evidence. */
  reason: string;
}

const CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/** A ULID-shaped id derived from a seed: the same seed, the same id. */
export function derivedId<P extends string>(prefix: P, seed: string): `${P}${string}` {
  const bytes = createHash("sha256").update(seed).digest();
  let id = CROCKFORD[(bytes[0] as number) % 8] as string; // a ULID's first character is 0-7
  for (let i = 1; i < 26; i++) id += CROCKFORD[(bytes[i] as number) % 32];
  return `${prefix}${id}`;
}

export function slugOf(text: string, words = 6): string {
  return (
    text
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, " ")
      .trim()
      .split(" ")
      .slice(0, words)
      .join("-") || "lesson"
  );
}

/** A new file in block style, one field per line (a flow mapping would put the whole file on one line). */
function fileText(schema: string, data: Record<string, unknown>): string {
  const doc = new Document(Object.fromEntries(Object.entries(data).filter(([, value]) => value !== undefined)));
  return `# yaml-language-server: $schema=../schemas/${schema}\n# Proposed by goalops learn; review it like any change.\n${doc.toString({ lineWidth: 0 })}`;
}

export function newLessonFile(candidate: LessonCandidateGroup, folder: string, reviewBy: string): ProposedFile {
  const id = derivedId("les_", candidate.fingerprint);
  const spec: LessonSpec = {
    lesson_id: id,
    goal_type: candidate.goal_type as LessonSpec["goal_type"],
    action_type: candidate.action_type,
    ...(candidate.failure_category !== null ? { failure_category: candidate.failure_category as NonNullable<LessonSpec["failure_category"]> } : {}),
    lesson_text: candidate.text,
    category: candidate.failure_category !== null ? "anti_pattern" : "winning_strategy",
    active: true,
    confidence: 0.5,
    evidence_run_ids: candidate.run_ids.slice(0, 50),
    review_by: reviewBy,
  };
  return {
    kind: "lesson",
    change: "add",
    path: `${folder}/${slugOf(candidate.text)}-${id.slice(-6).toLowerCase()}.yaml`,
    id,
    text: fileText("lesson.schema.json", spec as unknown as Record<string, unknown>),
    reason: `new lesson ${id}: score ${candidate.score} (${candidate.frequency} runs x impact ${candidate.impact}), runs ${candidate.run_ids.slice(0, 5).join(", ")}${candidate.run_ids.length > 5 ? ", ..." : ""}`,
  };
}

export function newRuleFile(lesson: { lesson_id: string; goal_type: string; action_type: string; lesson_text: string; current_confidence: number; times_validated: number }, folder: string): ProposedFile {
  const id = derivedId("rule_", `rule-from:${lesson.lesson_id}`);
  const title = lesson.lesson_text.length <= 80 ? lesson.lesson_text : `${lesson.lesson_text.slice(0, 77)}...`;
  const spec: PlaybookRuleSpec = {
    rule_id: id,
    title,
    applies_to_goal_type: lesson.goal_type as PlaybookRuleSpec["applies_to_goal_type"],
    applies_to_action_type: lesson.action_type,
    rule_text: lesson.lesson_text,
    source_lesson_ids: [lesson.lesson_id],
    activation_mode: "shadow",
  };
  return {
    kind: "rule",
    change: "add",
    path: `${folder}/${slugOf(lesson.lesson_text)}-${id.slice(-6).toLowerCase()}.yaml`,
    id,
    text: fileText("playbook-rule.schema.json", spec as unknown as Record<string, unknown>),
    reason: `new shadow rule ${id} from lesson ${lesson.lesson_id}: confidence ${lesson.current_confidence} after ${lesson.times_validated} validations`,
  };
}

/** The file's text with one top-level field set, everything else (comments, order, style) as it was. */
export function editField(text: string, field: string, value: unknown): string {
  const doc = parseDocument(text, { keepSourceTokens: true });
  doc.set(field, value);
  return doc.toString({ lineWidth: 0 });
}
