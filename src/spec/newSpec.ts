/**
 * Writers of new spec files: fields in, YAML text out (pure). Each file starts with the
 * yaml-language-server line so editors complete and check it against the schema.
 */
import { relative, dirname, join, sep } from "node:path";
import { Document } from "yaml";
import { type IdPrefix, newPrefixedId } from "../ids.js";
import { KINDS, type ObjectKind } from "./kinds.js";

/** A fresh prefixed id: goal_, les_ or rule_ followed by a ULID. */
export function newId(kind: ObjectKind): string {
  return newPrefixedId(KINDS[kind].idPrefix as IdPrefix);
}

/** The `# yaml-language-server: $schema=...` comment for a file at `filePath` in a repo whose schemas are in `schemasDir`. */
export function schemaComment(kind: ObjectKind | "config", filePath: string, schemasDir: string): string {
  const rel = relative(dirname(filePath), join(schemasDir, KINDS[kind].schemaFile)).split(sep).join("/");
  return ` yaml-language-server: $schema=${rel.startsWith(".") ? rel : `./${rel}`}`;
}

/** Renders a spec document: the schema comment, then the fields in the order given. */
export function renderSpec(fields: Record<string, unknown>, comment: string): string {
  const clean = Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined));
  const doc = new Document(clean, { version: "1.2" });
  doc.commentBefore = comment;
  return doc.toString({ lineWidth: 100 });
}

/** A file name for a title: lower-case words joined by dashes, short. */
export function slugify(title: string): string {
  const slug = title
    .toLowerCase()
    .normalize("NFKD")
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 60)
    .replace(/-+$/, "");
  return slug === "" ? "untitled" : slug;
}
