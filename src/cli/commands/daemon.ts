import type { Command } from "commander";
import { UsageError } from "../../errors.js";
import { withRepo, type RepoOptions } from "../options.js";

interface DaemonCliOptions extends RepoOptions {
  host?: string;
  port?: string;
  logFormat?: string;
  polling?: boolean;
  debug?: boolean;
}

export function registerDaemon(program: Command): void {
  withRepo(program.command("daemon"))
    .description("watch the spec files and sync each change, serve the HTTP API for agents; stops cleanly on SIGTERM/SIGINT")
    .option("--host <address>", "address to bind (default: daemon.host in goalops.yaml, else 127.0.0.1)")
    .option("--port <port>", "TCP port (default: daemon.port in goalops.yaml, else 7420; 0 picks a free one)")
    .option("--log-format <format>", "text (for people) or json (one JSON object per line)", "text")
    .option("--polling", "poll the files instead of using inotify (network file systems)")
    .option("--debug", "log every refused request and WAL checkpoint too")
    .addHelpText("after", `
The daemon syncs every file at start, then each change as it is saved (an invalid file keeps its
last good version in force and is logged with file:line:col), rescans everything every
sync.rescan_interval (default 5m) and whenever git moves HEAD. Agents call the API at
http://127.0.0.1:7420/v1 with the token in state/token:

  curl -H "Authorization: Bearer $(cat state/token)" http://127.0.0.1:7420/v1/goals

At start it reconciles what the last stop left (goalops report reconcile): runs in flight are
resumed from their checkpoints or parked by each goal's continuity policy. It runs review_cadence
schedules, watchdogs, due retries and dispatched agent jobs.

One daemon per repository (state/daemon.lock holds its pid and address). SIGTERM or SIGINT stops
it cleanly: new runs are refused, jobs are stopped, runs in flight checkpointed, a summary written
(goalops report shutdown); a second signal exits at once.`)
    .action(async (options: DaemonCliOptions) => {
      const format = options.logFormat ?? "text";
      if (format !== "text" && format !== "json") throw new UsageError("daemon.bad_log_format", `--log-format ${format}: expected text or json`);
      let port: number | undefined;
      if (options.port !== undefined) {
        port = Number(options.port);
        if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError("daemon.bad_port", `--port ${options.port}: expected a whole number from 0 to 65535`);
      }
      // Loaded here: the daemon brings chokidar, execa and croner, which no other command needs at start.
      const { startDaemon } = await import("../../daemon/daemon.js");
      const daemon = await startDaemon({
        ...(options.repo !== undefined ? { repo: options.repo } : {}),
        ...(options.host !== undefined ? { host: options.host } : {}),
        ...(port !== undefined ? { port } : {}),
        logFormat: format,
        polling: options.polling ?? false,
        debug: options.debug ?? false,
      });
      await daemon.stopped;
    });
}
