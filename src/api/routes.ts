/**
 * The HTTP API's routes (`/v1`): each a thin layer over the library (GoalOps), reading its input
 * with the field readers of request.ts. The README documents every route with a curl line; a test
 * checks that the two lists agree.
 */
import type { GoalOps } from "../index.js";
import { contextMarkdown } from "../goals/agentContext.js";
import { ApiError, field, type Json, queryLimit } from "./request.js";
import { windowStart } from "../spec/interval.js";

export interface RouteRequest {
  params: string[];
  query: URLSearchParams;
  /** The JSON body (POST only). */
  body: Json;
}

export interface RouteResult {
  status?: number;
  body: unknown;
  /** Sent as text/markdown instead of JSON. */
  markdown?: string;
}

/** What the daemon adds to the library: its own health and sync, and the drain flag. */
export interface DaemonView {
  health(): Promise<Json>;
  /** Syncs every file now (as the periodic rescan does) and returns the report. */
  syncNow(): Promise<unknown>;
  /** Set while shutting down: new run starts are refused. */
  draining(): boolean;
  /** The initiative router's ranking; with `dispatch`, the first is dispatched. */
  route(dispatch: boolean): Promise<unknown>;
  /** Dispatches a goal's job now. */
  dispatch(goalId: string): Promise<Json>;
  /** Schedules and their last firings. */
  schedules(): Promise<Json>;
}

export interface Route {
  method: "GET" | "POST";
  /** The path with `:name` parameters, as documented. */
  path: string;
  pattern: RegExp;
  /** Health is the one route without the token. */
  public?: boolean;
  handle(ops: GoalOps, daemon: DaemonView, req: RouteRequest): Promise<RouteResult>;
}

function route(method: Route["method"], path: string, handle: Route["handle"], options: { public?: boolean } = {}): Route {
  const pattern = new RegExp(`^${path.replace(/:[a-z_]+/g, "([^/]+)")}$`);
  return { method, path, pattern, handle, ...(options.public ? { public: true } : {}) };
}

const param = (req: RouteRequest, i: number): string => {
  try {
    return decodeURIComponent(req.params[i] as string);
  } catch {
    throw new ApiError(400, "request.bad_path", `the path segment '${req.params[i]}' is not valid percent-encoding`);
  }
};

const refuseWhileDraining = (daemon: DaemonView) => {
  if (daemon.draining()) throw new ApiError(503, "daemon.draining", "the daemon is shutting down and takes no new runs; retry against the next daemon");
};

export const ROUTES: Route[] = [
  route("GET", "/v1/health", async (_ops, daemon) => ({ body: await daemon.health() }), { public: true }),

  route("GET", "/v1/status", async (ops) => ({ body: await ops.status() })),

  route("GET", "/v1/sync", async (ops, _d, req) => ({ body: await ops.syncStatus({ recent: queryLimit(req.query, "recent", 10, 100) }) })),
  route("POST", "/v1/sync", async (_ops, daemon, req) => {
    field.only(req.body, []);
    const report = await daemon.syncNow();
    // The daemon logs a failed sync and keeps the last good state; the client learns it failed.
    if (report === undefined) throw new ApiError(503, "sync.failed", "the sync failed and the last good state stays in force; GET /v1/health has the error");
    return { body: report };
  }),

  route("GET", "/v1/goals", async (ops, _d, req) => {
    const includeArchived = req.query.get("include_archived") === "true";
    const status = req.query.get("status");
    const type = req.query.get("goal_type");
    const goals = (await ops.goals.list({ includeArchived })).filter((g) => (status === null || g.status === status) && (type === null || g.goal_type === type));
    return { body: { goals } };
  }),
  route("GET", "/v1/goals/:goal_id", async (ops, _d, req) => ({ body: await ops.goals.show(param(req, 0)) })),
  route("POST", "/v1/goals/:goal_id/transition", async (ops, _d, req) => {
    field.only(req.body, ["to", "reason", "actor", "run_id"]);
    const runId = field.string(req.body, "run_id", { max: 100 });
    const detail = await ops.goals.transition(param(req, 0), {
      to: field.requiredString(req.body, "to", 50),
      reason: field.requiredString(req.body, "reason", 2000),
      actor: field.string(req.body, "actor", { max: 200 }) ?? "api",
      ...(runId !== undefined ? { runId } : {}),
    });
    return { body: detail };
  }),
  route("GET", "/v1/goals/:goal_id/context", async (ops, _d, req) => {
    const format = req.query.get("format") ?? "json";
    if (format !== "json" && format !== "md") throw new ApiError(400, "request.bad_query", "'format' must be json or md", "format");
    const runId = req.query.get("run_id");
    const agent = req.query.get("agent");
    const context = await ops.context(param(req, 0), { ...(runId !== null ? { runId } : {}), ...(agent !== null ? { agent } : {}) });
    return format === "md" ? { body: null, markdown: contextMarkdown(context) } : { body: context };
  }),

  route("POST", "/v1/runs", async (ops, daemon, req) => {
    refuseWhileDraining(daemon);
    field.only(req.body, ["goal_id", "job_id", "plan", "idempotency_key"]);
    const jobId = field.string(req.body, "job_id", { max: 200 });
    const plan = field.string(req.body, "plan");
    const idempotencyKey = field.string(req.body, "idempotency_key", { max: 200 });
    const started = await ops.runs.start(field.requiredString(req.body, "goal_id", 100), {
      ...(jobId !== undefined ? { jobId } : {}),
      ...(plan !== undefined ? { plan } : {}),
      ...(idempotencyKey !== undefined ? { idempotencyKey } : {}),
    });
    return { status: started.existing ? 200 : 201, body: started };
  }),
  route("GET", "/v1/runs", async (ops, _d, req) => {
    const goalId = req.query.get("goal_id");
    const runs = await ops.runs.list({ ...(goalId !== null ? { goalId } : {}), limit: queryLimit(req.query, "limit", 50, 1000) });
    return { body: { runs } };
  }),
  route("GET", "/v1/runs/:run_id", async (ops, _d, req) => ({ body: await ops.runs.show(param(req, 0)) })),
  route("POST", "/v1/runs/:run_id/finish", async (ops, _d, req) => {
    field.only(req.body, ["outcome", "verifier", "failure_category", "actions", "notes", "lesson_candidates"]);
    const verifier = field.string(req.body, "verifier", { max: 20 });
    const failureCategory = field.string(req.body, "failure_category", { max: 50 });
    const actions = field.strings(req.body, "actions");
    const notes = field.string(req.body, "notes");
    const lessonCandidates = field.strings(req.body, "lesson_candidates", { maxItems: 50 });
    const finished = await ops.runs.finish(param(req, 0), {
      outcome: field.requiredString(req.body, "outcome", 20),
      ...(verifier !== undefined ? { verifier } : {}),
      ...(failureCategory !== undefined ? { failureCategory } : {}),
      ...(actions !== undefined ? { actions } : {}),
      ...(notes !== undefined ? { notes } : {}),
      ...(lessonCandidates !== undefined ? { lessonCandidates } : {}),
    });
    return { body: finished };
  }),
  route("POST", "/v1/runs/:run_id/checkpoint", async (ops, _d, req) => {
    field.only(req.body, ["ref", "state"]);
    const state = req.body.state;
    return { body: await ops.runs.checkpoint(param(req, 0), field.requiredString(req.body, "ref", 2000), state) };
  }),
  route("POST", "/v1/runs/:run_id/resume", async (ops, daemon, req) => {
    refuseWhileDraining(daemon);
    field.only(req.body, []);
    return { body: await ops.runs.resume(param(req, 0)) };
  }),

  route("POST", "/v1/key-results/:goal_id/values", async (ops, _d, req) => {
    field.only(req.body, ["value", "at", "source", "run_id"]);
    const at = field.string(req.body, "at", { max: 40 });
    const source = field.string(req.body, "source", { max: 200 });
    const runId = field.string(req.body, "run_id", { max: 100 });
    const summary = await ops.keyResults.record(param(req, 0), field.number(req.body, "value", { required: true }) as number, {
      ...(at !== undefined ? { at } : {}),
      ...(source !== undefined ? { source } : {}),
      ...(runId !== undefined ? { runId } : {}),
    });
    return { status: 201, body: summary };
  }),
  route("GET", "/v1/key-results/:goal_id/values", async (ops, _d, req) => ({ body: await ops.keyResults.history(param(req, 0), queryLimit(req.query, "limit", 1000, 100_000)) })),

  route("GET", "/v1/loops", async (ops, _d, req) => {
    const goalId = req.query.get("goal_id");
    const loops = await ops.loops.list({ ...(goalId !== null ? { goalId } : {}), includeResolved: req.query.get("include_resolved") === "true" });
    return { body: { loops } };
  }),
  route("POST", "/v1/loops", async (ops, _d, req) => {
    field.only(req.body, ["kind", "description", "goal_id", "run_id", "due"]);
    const goalId = field.string(req.body, "goal_id", { max: 100 });
    const runId = field.string(req.body, "run_id", { max: 100 });
    const due = field.string(req.body, "due", { max: 40 });
    const loop = await ops.loops.add({
      kind: field.requiredString(req.body, "kind", 50),
      description: field.requiredString(req.body, "description", 5000),
      ...(goalId !== undefined ? { goalId } : {}),
      ...(runId !== undefined ? { runId } : {}),
      ...(due !== undefined ? { due } : {}),
    });
    return { status: 201, body: loop };
  }),
  route("POST", "/v1/loops/:loop_id/resolve", async (ops, _d, req) => {
    field.only(req.body, ["resolution"]);
    return { body: await ops.loops.resolve(param(req, 0), field.string(req.body, "resolution", { max: 5000 })) };
  }),

  route("GET", "/v1/schedules", async (_ops, daemon) => ({ body: await daemon.schedules() })),
  route("GET", "/v1/router", async (_ops, daemon) => ({ body: await daemon.route(false) })),
  route("POST", "/v1/dispatch", async (_ops, daemon, req) => {
    refuseWhileDraining(daemon);
    field.only(req.body, ["goal_id"]);
    const goalId = field.string(req.body, "goal_id", { max: 100 });
    if (goalId === undefined) {
      const routed = (await daemon.route(true)) as { dispatched?: Json; ranked: unknown[] };
      if (routed.dispatched === undefined) throw new ApiError(409, "dispatch.nothing_to_route", "the router found no initiative to dispatch; GET /v1/router says why each was excluded");
      return { status: routed.dispatched.dispatched === true ? 201 : 409, body: routed };
    }
    const outcome = await daemon.dispatch(goalId);
    return { status: outcome.dispatched === true ? 201 : outcome.code === "goal.not_found" ? 404 : 409, body: outcome };
  }),
  route("GET", "/v1/reports/reconcile", async (ops) => ({ body: (await ops.continuity.report("reconcile")).summary })),
  route("GET", "/v1/reports/shutdown", async (ops) => ({ body: (await ops.continuity.report("shutdown")).summary })),
  route("GET", "/v1/alerts", async (ops, _d, req) => {
    const goalId = req.query.get("goal_id");
    return { body: { alerts: await ops.continuity.alerts({ ...(goalId !== null ? { goalId } : {}), limit: queryLimit(req.query, "limit", 50, 1000) }) } };
  }),
  route("GET", "/v1/reports/learning", async (ops, _d, req) => ({ body: await ops.outcomes.aggregate({ since: sinceQuery(ops, req) }) })),
  route("GET", "/v1/aars", async (ops, _d, req) => {
    const goalId = req.query.get("goal_id");
    return { body: { aars: await ops.reviews.list({ ...(goalId !== null ? { goalId } : {}), limit: queryLimit(req.query, "limit", 50, 1000) }) } };
  }),
  route("GET", "/v1/aars/:aar_id", async (ops, _d, req) => ({ body: await ops.reviews.show(param(req, 0)) })),
  route("POST", "/v1/aars", async (ops, _d, req) => {
    field.only(req.body, ["run_id"]);
    const created = await ops.reviews.create(field.requiredString(req.body, "run_id", 100));
    return { status: created.existing ? 200 : 201, body: { ...created.review, existing: created.existing, ...(created.summarizerError !== undefined ? { summarizer_error: created.summarizerError } : {}) } };
  }),
  route("GET", "/v1/lessons", async (ops, _d, req) => ({ body: { lessons: await ops.lessons.list({ includeArchived: req.query.get("include_archived") === "true" }) } })),
  route("GET", "/v1/lessons/:lesson_id", async (ops, _d, req) => ({ body: await ops.lessons.show(param(req, 0)) })),
  route("GET", "/v1/playbook", async (ops, _d, req) => ({ body: { rules: await ops.playbook.list({ since: sinceQuery(ops, req), includeArchived: req.query.get("include_archived") === "true" }) } })),
  route("GET", "/v1/playbook/:rule_id", async (ops, _d, req) => ({ body: await ops.playbook.show(param(req, 0), { since: sinceQuery(ops, req) }) })),
];

/** `?since=7d` (default: learning.since, else 7d) as the start of a window. */
function sinceQuery(ops: GoalOps, req: RouteRequest): Date {
  const start = windowStart(req.query.get("since") ?? undefined, ops.config.spec.learning?.since);
  if (start === undefined) throw new ApiError(400, "request.bad_query", "'since' must be an interval such as 7d, 24h or 4w", "since");
  return start;
}

/** The route for a method and path: the route, 404 (no such path) or 405 (path exists, other method). */
export function matchRoute(method: string, path: string): { route: Route; params: string[] } {
  let pathExists = false;
  for (const r of ROUTES) {
    const m = r.pattern.exec(path);
    if (m === null) continue;
    pathExists = true;
    if (r.method === method) return { route: r, params: m.slice(1) };
  }
  if (pathExists) throw new ApiError(405, "request.method", `${method} is not allowed on ${path}`);
  throw new ApiError(404, "request.no_route", `no route ${method} ${path}; see GET /v1/health and the README's API section`);
}
