/**
 * The daemon's HTTP server: checks every request before a route sees it, then answers in JSON.
 *
 * Checks, in order: the Host header must name the bound address (a DNS-rebinding page in a
 * browser sends its own host name); a foreign Origin is refused; the bearer token (all routes
 * but health), compared in constant time; a POST's body must be JSON and within the size limit.
 * Errors are `{ "error": { "code", "message", "field"? } }` with a 4xx; a 500 only for a bug of
 * ours, logged with its stack.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { GoalOpsError } from "../errors.js";
import { isStoreBusy } from "../store/errors.js";
import type { GoalOps } from "../index.js";
import type { Logger } from "../daemon/logger.js";
import { tokenMatches } from "../daemon/token.js";
import { ApiError, readJsonBody, statusOfError } from "./request.js";
import { type DaemonView, matchRoute } from "./routes.js";

export interface ApiServerOptions {
  ops: GoalOps;
  daemon: DaemonView;
  token: string;
  maxBodyBytes: number;
  log: Logger;
}

export interface ApiServer {
  server: Server;
  /** Set once listening: the Host values (host:port) accepted. */
  allowHosts(host: string, port: number): void;
  /** Requests being handled right now (shutdown waits for them). */
  inFlight(): number;
}

const LOOPBACK_NAMES = ["127.0.0.1", "localhost", "[::1]"];

export function createApiServer(options: ApiServerOptions): ApiServer {
  const allowedHosts = new Set<string>();
  const allowedOrigins = new Set<string>();
  let inFlight = 0;

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = requestTarget(req.url ?? "/");
    const host = (req.headers.host ?? "").toLowerCase();
    if (!allowedHosts.has(host)) {
      throw new ApiError(403, "request.host", `Host '${host || "(none)"}' is not this daemon's address (${[...allowedHosts].join(", ")}); requests through another host name are refused`);
    }
    const origin = req.headers.origin;
    if (origin !== undefined && origin !== "null" && !allowedOrigins.has(origin.toLowerCase())) {
      throw new ApiError(403, "request.origin", `Origin '${origin}' is not allowed: the API is not for web pages of other sites`);
    } else if (origin === "null") {
      throw new ApiError(403, "request.origin", "Origin 'null' is not allowed");
    }
    const { route, params } = matchRoute(req.method ?? "GET", url.pathname);
    if (!route.public) {
      const header = req.headers.authorization ?? "";
      const presented = /^Bearer\s+(.+)$/i.exec(header)?.[1]?.trim();
      if (presented === undefined) throw new ApiError(401, "auth.missing", "send the token from state/token as 'Authorization: Bearer <token>'");
      if (!tokenMatches(presented, options.token)) throw new ApiError(401, "auth.invalid", "the bearer token is not this daemon's (see state/token)");
    }
    const body = route.method === "POST" ? await readJsonBody(req, options.maxBodyBytes) : {};
    const result = await route.handle(options.ops, options.daemon, { params, query: url.searchParams, body });
    if (result.markdown !== undefined) {
      send(res, result.status ?? 200, result.markdown, "text/markdown; charset=utf-8");
      return;
    }
    send(res, result.status ?? 200, JSON.stringify(result.body), "application/json; charset=utf-8");
  };

  const server = createServer((req, res) => {
    inFlight++;
    res.on("close", () => inFlight--);
    handle(req, res).catch((error: unknown) => {
      const { status, code, message, field } = describeError(error);
      if (status >= 500) options.log.error("request failed", { method: req.method, path: req.url, error: (error as Error).stack ?? String(error) });
      else options.log.debug("request refused", { method: req.method, path: req.url, status, code });
      if (status === 413) res.setHeader("Connection", "close");
      if (status === 401) res.setHeader("WWW-Authenticate", 'Bearer realm="goalops"');
      if (status === 503) res.setHeader("Retry-After", "1");
      send(res, status, JSON.stringify({ error: { code, message, ...(field !== undefined ? { field } : {}) } }), "application/json; charset=utf-8");
      // A body left unread (refused before it was read) must not be parsed as the next request.
      if (!req.complete) req.resume();
    });
  });
  // Slow or idle clients do not hold the daemon: headers within 10 s, a whole request within 30 s.
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  server.keepAliveTimeout = 5_000;

  return {
    server,
    allowHosts(host, port) {
      const names = isLoopback(host) ? LOOPBACK_NAMES : [host.includes(":") && !host.startsWith("[") ? `[${host}]` : host, ...LOOPBACK_NAMES];
      for (const name of names) {
        allowedHosts.add(`${name}:${port}`.toLowerCase());
        allowedOrigins.add(`http://${name}:${port}`.toLowerCase());
      }
    },
    inFlight: () => inFlight,
  };
}

/** A path of letters, digits, `_`, `-` and `/`, not starting "//" (which URL reads as a host). */
const PLAIN_PATH = /^\/(?!\/)[A-Za-z0-9_\-/]*$/;

/**
 * The path and query of a request line. A plain path (what agents send, ids included) is its own
 * pathname, as URL would give it; anything else goes through WHATWG URL parsing (percent-encoding,
 * dot segments, a query). Parsing every request was 2% of the daemon's time per recorded run.
 */
function requestTarget(target: string): { pathname: string; searchParams: URLSearchParams } {
  if (PLAIN_PATH.test(target)) return { pathname: target, searchParams: new URLSearchParams() };
  return new URL(target, "http://goalops.invalid");
}

function isLoopback(host: string): boolean {
  return host === "127.0.0.1" || host === "localhost" || host === "::1" || host === "[::1]";
}

function send(res: ServerResponse, status: number, text: string, type: string): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  res.writeHead(status, { "Content-Type": type, "Content-Length": Buffer.byteLength(text), "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff" });
  res.end(text);
}

function describeError(error: unknown): { status: number; code: string; message: string; field?: string } {
  if (error instanceof ApiError) return { status: error.status, code: error.code, message: error.message, ...(error.field !== undefined ? { field: error.field } : {}) };
  if (error instanceof GoalOpsError) {
    return { status: statusOfError(error), code: error.code, message: error.message, ...(error.field !== undefined ? { field: error.field } : {}) };
  }
  // Another process holds the database's write lock past the busy timeout: retry, nothing was written.
  if (isStoreBusy(error)) return { status: 503, code: "store.busy", message: "the database is locked by another writer; retry in a moment" };
  return { status: 500, code: "internal", message: "the daemon failed to handle this request; its log has the details" };
}
