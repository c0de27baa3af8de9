/**
 * The watcher on its own: batches of repository paths from real file events, and the fallback to
 * polling when the inotify watch limit is reached (ENOSPC), which must never stop it.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createLogger } from "../src/daemon/logger.js";
import { SpecWatcher, type WatchBatch } from "../src/daemon/specWatcher.js";
import { eventually } from "./helpers/daemon.js";
import { tempRepo } from "./helpers/tempRepo.js";

function watcherOn(root: string) {
  const batches: WatchBatch[] = [];
  const lines: string[] = [];
  const watcher = new SpecWatcher({ root, folders: ["goals", "lessons", "playbooks"], gitPaths: [] }, (b) => batches.push(b), createLogger("json", (l) => lines.push(l)));
  return { watcher, batches, lines };
}

describe("SpecWatcher", () => {
  it("turns file events into batches of repository paths, skipping what is not YAML", async () => {
    const root = tempRepo({ "goals/a.yaml": "x: 1\n" });
    const { watcher, batches } = watcherOn(root);
    await watcher.start();
    writeFileSync(join(root, "goals/a.yaml"), "x: 2\n");
    writeFileSync(join(root, "goals/b.yaml"), "x: 3\n");
    writeFileSync(join(root, "goals/notes.txt"), "not a spec\n");
    await eventually(() => (batches.flatMap((b) => [...b.paths]).includes("goals/b.yaml") ? true : undefined));
    const paths = new Set(batches.flatMap((b) => [...b.paths]));
    expect(paths.has("goals/a.yaml")).toBe(true);
    expect(paths.has("goals/notes.txt")).toBe(false);
    await watcher.close();
  });

  it("falls back to polling on ENOSPC and keeps reporting changes", async () => {
    const root = tempRepo({ "goals/a.yaml": "x: 1\n" });
    const { watcher, batches, lines } = watcherOn(root);
    await watcher.start();
    expect(watcher.status().mode).toBe("native");
    const chokidar = (watcher as unknown as { watcher: import("node:events").EventEmitter }).watcher;
    chokidar.emit("error", Object.assign(new Error("ENOSPC: System limit for number of file watchers reached"), { code: "ENOSPC" }));
    await eventually(() => (watcher.status().mode === "polling" && (watcher as unknown as { watcher: unknown }).watcher !== null ? true : undefined));
    expect(watcher.status().reason).toContain("inotify watch limit");
    expect(lines.some((l) => l.includes("falls back to polling"))).toBe(true);
    // Polling notices the next change (chokidar polls every second).
    await new Promise((r) => setTimeout(r, 300));
    writeFileSync(join(root, "goals/a.yaml"), "x: 22\n");
    await eventually(() => (batches.some((b) => b.paths.has("goals/a.yaml")) ? true : undefined), 8_000, "a polled change");
    await watcher.close();
  });
});
