/**
 * The daemon's log: one line per event, for people (`12:00:01 info  synced 1 file (watch) ...`)
 * or as JSON lines for machines (`--log-format json`). Fields are data, never formatted into the
 * message, so the JSON form loses nothing.
 */
export type LogFormat = "text" | "json";
export type LogLevel = "debug" | "info" | "warn" | "error";
export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

export function createLogger(format: LogFormat, write: (line: string) => void = (line) => process.stdout.write(line), options: { debug?: boolean } = {}): Logger {
  const emit = (level: LogLevel, message: string, fields: LogFields = {}) => {
    if (level === "debug" && !options.debug) return;
    const time = new Date();
    if (format === "json") {
      write(`${JSON.stringify({ time: time.toISOString(), level, msg: message, ...fields })}\n`);
      return;
    }
    const rest = Object.entries(fields)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `${k}=${typeof v === "string" && !/[\s"]/.test(v) ? v : JSON.stringify(v)}`)
      .join(" ");
    write(`${time.toISOString().slice(11, 23)} ${level.padEnd(5)} ${message}${rest === "" ? "" : `  ${rest}`}\n`);
  };
  return {
    debug: (m, f) => emit("debug", m, f),
    info: (m, f) => emit("info", m, f),
    warn: (m, f) => emit("warn", m, f),
    error: (m, f) => emit("error", m, f),
  };
}
