// The daemon's JSON log as the benchmark's parts read it (bench/daemon.mjs, bench/continuity.mjs):
// stdout split into lines as it arrives, entries counted by level, warnings and errors grouped by
// message shape with the first example kept, a few lines that are not JSON kept, stderr kept up to
// 20 KB.

/**
 * Follows `child`'s output. `onOther(line)` sees each line first and returns true when it took it
 * (node's --trace-gc lines, say); `onEntry(entry, msg)` sees each JSON entry; `shape(msg)` folds a
 * warning's varying parts (ids, numbers); `extra()` adds fields to a problem's first example.
 * Returns the log and `flush()`, to call once the process has exited (a last line without newline).
 */
export function followDaemonLog(child, { shape, onEntry = () => {}, onOther = () => false, exampleChars = 400, extra = () => ({}) }) {
  const log = { lines: 0, levels: {}, problems: new Map(), nonJson: [], stderr: "" };
  const onLine = (line) => {
    if (line.trim() === "" || onOther(line)) return;
    log.lines++;
    let entry;
    try {
      entry = JSON.parse(line);
    } catch {
      if (log.nonJson.length < 20) log.nonJson.push(line.slice(0, 300));
      return;
    }
    log.levels[entry.level] = (log.levels[entry.level] ?? 0) + 1;
    const msg = String(entry.msg ?? "");
    onEntry(entry, msg);
    if (entry.level === "warn" || entry.level === "error") {
      const key = `${entry.level}: ${shape(msg)}`;
      const seen = log.problems.get(key);
      if (seen === undefined) log.problems.set(key, { count: 1, example: line.slice(0, exampleChars), ...extra() });
      else seen.count++;
    }
  };
  let buffer = "";
  child.stdout.setEncoding("utf8");
  child.stdout.on("data", (chunk) => {
    buffer += chunk;
    for (let i = buffer.indexOf("\n"); i !== -1; i = buffer.indexOf("\n")) {
      onLine(buffer.slice(0, i));
      buffer = buffer.slice(i + 1);
    }
  });
  child.stderr.setEncoding("utf8");
  child.stderr.on("data", (chunk) => {
    if (log.stderr.length < 20_000) log.stderr += chunk;
  });
  const flush = () => {
    if (buffer !== "") onLine(buffer);
    buffer = "";
  };
  return { log, flush };
}

/**
 * SIGTERM to `child`, then SIGKILL if it has not exited within `timeoutMs`. Resolves with its exit
 * (`exited` resolves to { code, signal }), `ms` from the signal until it exited or the timeout, and
 * whether it had to be killed.
 */
export async function terminate(child, exited, timeoutMs) {
  const started = performance.now();
  child.kill("SIGTERM");
  let timer;
  const timedOut = new Promise((resolve) => {
    timer = setTimeout(() => resolve(null), timeoutMs);
  });
  const result = await Promise.race([exited, timedOut]);
  clearTimeout(timer);
  const ms = performance.now() - started;
  if (result !== null) return { ...result, ms, killedAfterTimeout: false };
  child.kill("SIGKILL");
  return { ...(await exited), ms, killedAfterTimeout: true };
}

/** The last lines of a process's output, indented, for an error message. */
export function tailText(text, lines = 15) {
  const all = (text ?? "").trimEnd().split("\n");
  return all.slice(-lines).map((l) => `  | ${l}`).join("\n");
}
