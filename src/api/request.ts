/**
 * Reading what a client sent: the JSON body (within the size limit) and its fields, each checked
 * with an error that names the field. Everything here throws ApiError, which the server turns
 * into a 4xx with a JSON body; a client's input never becomes a 500.
 */
import type { IncomingMessage } from "node:http";
import { type GoalOpsError, InvalidInputError, UsageError } from "../errors.js";

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

/** A goalops error as an HTTP status: missing things 404, conflicts with state 409, other bad input 400. */
export function statusOfError(error: GoalOpsError): number {
  if (error.code.endsWith("not_found")) return 404;
  if (/illegal|already|archived|finished|conflict|stale|draining/.test(error.code)) return 409;
  if (error instanceof InvalidInputError || error instanceof UsageError) return 400;
  return 500;
}

export type Json = Record<string, unknown>;

/** Reads the request body as a JSON object: 413 past the limit, 415 without a JSON content type, 400 if malformed. */
export async function readJsonBody(req: IncomingMessage, maxBytes: number): Promise<Json> {
  const type = req.headers["content-type"] ?? "";
  if (!/^application\/json\s*(;|$)/i.test(type)) {
    throw new ApiError(415, "request.content_type", `send the body as JSON with 'Content-Type: application/json' (got '${type || "none"}')`);
  }
  const declared = Number(req.headers["content-length"] ?? Number.NaN);
  if (declared > maxBytes) throw new ApiError(413, "request.too_large", `the body is ${declared} bytes; the limit is ${maxBytes} (daemon.max_body_bytes)`);
  const text = await readBodyText(req, maxBytes);
  if (text.trim() === "") return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new ApiError(400, "request.bad_json", `the body is not valid JSON: ${(error as Error).message}`);
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) throw new ApiError(400, "request.not_object", "the body must be a JSON object");
  return parsed as Json;
}

/**
 * The body as text, read by stream events: the async iterator (`for await`) cost more than the
 * JSON it read, 2-3% of the daemon's time per recorded run. Past the limit it stops reading and
 * refuses; the server drains or closes the connection.
 */
function readBodyText(req: IncomingMessage, maxBytes: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = (outcome: () => void) => {
      req.off("data", onData);
      req.off("end", onEnd);
      req.off("error", onError);
      req.off("close", onClose);
      outcome();
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) done(() => reject(new ApiError(413, "request.too_large", `the body is over the limit of ${maxBytes} bytes (daemon.max_body_bytes)`)));
      else chunks.push(chunk);
    };
    const onEnd = () => done(() => resolve(chunks.length === 1 ? (chunks[0] as Buffer).toString("utf8") : Buffer.concat(chunks).toString("utf8")));
    // The client went away before the body ended ('aborted', or a close with no 'end'): its doing,
    // not a failure of the daemon's (nothing was written; no one is left to answer).
    const aborted = () => new ApiError(400, "request.aborted", "the client closed the connection before the body ended");
    const onError = () => done(() => reject(aborted()));
    const onClose = () => done(() => reject(aborted()));
    req.on("data", onData);
    req.on("end", onEnd);
    req.on("error", onError);
    req.on("close", onClose);
  });
}

const MAX_TEXT = 100_000;

/** Typed field readers: each names the field in its error. Unknown fields are refused by `only`. */
export const field = {
  string(body: Json, name: string, options: { required?: boolean; max?: number } = {}): string | undefined {
    const value = body[name];
    if (value === undefined || value === null) {
      if (options.required) throw new ApiError(400, "request.missing_field", `'${name}' is required`, name);
      return undefined;
    }
    if (typeof value !== "string") throw new ApiError(400, "request.bad_field", `'${name}' must be a string, not ${describe(value)}`, name);
    if (options.required && value.trim() === "") throw new ApiError(400, "request.bad_field", `'${name}' must not be empty`, name);
    if (value.length > (options.max ?? MAX_TEXT)) throw new ApiError(400, "request.bad_field", `'${name}' is longer than ${options.max ?? MAX_TEXT} characters`, name);
    return value;
  },
  requiredString(body: Json, name: string, max?: number): string {
    return field.string(body, name, { required: true, ...(max !== undefined ? { max } : {}) }) as string;
  },
  number(body: Json, name: string, options: { required?: boolean } = {}): number | undefined {
    const value = body[name];
    if (value === undefined || value === null) {
      if (options.required) throw new ApiError(400, "request.missing_field", `'${name}' is required`, name);
      return undefined;
    }
    if (typeof value !== "number" || !Number.isFinite(value)) throw new ApiError(400, "request.bad_field", `'${name}' must be a finite number, not ${describe(value)}`, name);
    return value;
  },
  strings(body: Json, name: string, options: { maxItems?: number } = {}): string[] | undefined {
    const value = body[name];
    if (value === undefined || value === null) return undefined;
    if (!Array.isArray(value) || value.some((v) => typeof v !== "string")) throw new ApiError(400, "request.bad_field", `'${name}' must be an array of strings`, name);
    if (value.length > (options.maxItems ?? 1000)) throw new ApiError(400, "request.bad_field", `'${name}' has more than ${options.maxItems ?? 1000} items`, name);
    return value as string[];
  },
  /** Refuses fields the route does not know: a typo must not be silently ignored. */
  only(body: Json, known: readonly string[]): void {
    for (const name of Object.keys(body)) {
      if (!known.includes(name)) throw new ApiError(400, "request.unknown_field", `unknown field '${name}'; known fields: ${known.join(", ")}`, name);
    }
  },
};

/** A positive whole number from the query string, or the default. */
export function queryLimit(query: URLSearchParams, name: string, fallback: number, max: number): number {
  const raw = query.get(name);
  if (raw === null) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > max) throw new ApiError(400, "request.bad_query", `'${name}' must be a whole number from 1 to ${max}`, name);
  return n;
}

function describe(value: unknown): string {
  if (Array.isArray(value)) return "an array";
  if (value === null) return "null";
  return typeof value === "object" ? "an object" : `${typeof value} ${typeof value === "string" ? JSON.stringify(value) : String(value)}`;
}
