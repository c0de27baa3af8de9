/**
 * The daemon's path syncs end in exactly the state a fresh full sync of the same files gives,
 * whatever the edit: content, cross-file references, deletions, renames, invalid files and fixes,
 * folders. Each step syncs only the paths it touched, then compares with a full sync of a copy of
 * the same database (and, when every file is valid, with a fresh sync into an empty one).
 */
import { mkdtempSync, renameSync, rmSync, unlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig, type ResolvedConfig } from "../src/spec/config.js";
import { openStore } from "../src/store/openStore.js";
import type { GoalOpsStore } from "../src/store/types.js";
import { LiveSync } from "../src/sync/liveSync.js";
import { syncRepo } from "../src/sync/syncRepo.js";
import { type SpecState, specState } from "./helpers/dbState.js";
import { goalYaml, IDS, krYaml, validTree } from "./helpers/specs.js";
import { tempRepo, writeFiles } from "./helpers/tempRepo.js";

const noGit = async () => null;

describe("live path syncs", () => {
  let root: string;
  let config: ResolvedConfig;
  let store: GoalOpsStore;
  let live: LiveSync;

  beforeAll(async () => {
    root = tempRepo(validTree());
    const loaded = loadConfig(root);
    if (!loaded.ok) throw new Error("bad config");
    config = loaded.config;
    store = openStore(config);
    live = new LiveSync(config, store, { probeGit: noGit });
    const report = await live.syncAll("test");
    expect(report.outcome).toBe("applied");
  });
  afterAll(async () => {
    await store.close();
  });

  /** A full sync (every file, by hash) of the same files, from a copy of the live database. */
  async function fullSyncOfCopy() {
    const dir = mkdtempSync(join(tmpdir(), "goalops-full-"));
    const copyConfig = { ...config, databasePath: join(dir, "copy.db") };
    const source = new Database(config.databasePath);
    source.exec(`VACUUM INTO '${copyConfig.databasePath}'`);
    source.close();
    const copy = openStore(copyConfig);
    try {
      const report = await syncRepo(copyConfig, copy, { probeGit: noGit, trigger: "full" });
      return { report, state: specState(copyConfig.databasePath) };
    } finally {
      await copy.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }

  /** A fresh sync of the same files into a new database: what is in force must be the same. */
  async function freshState() {
    const dir = mkdtempSync(join(tmpdir(), "goalops-fresh-"));
    const freshConfig = { ...config, databasePath: join(dir, "fresh.db") };
    const fresh = openStore(freshConfig);
    try {
      await syncRepo(freshConfig, fresh, { probeGit: noGit, trigger: "fresh" });
    } finally {
      await fresh.close();
    }
    const state = inForce(specState(freshConfig.databasePath));
    rmSync(dir, { recursive: true, force: true });
    return state;
  }

  /** The live definitions (a fresh database never saw the archived ones), without runtime status (history decides it). */
  function inForce(state: SpecState) {
    const live = (rows: unknown[]) => (rows as Record<string, unknown>[]).filter((r) => r.archived === 0).map(({ status: _s, ...rest }) => rest);
    return { goals: live(state.goals), lessons: live(state.lessons), rules: live(state.rules), files: state.files };
  }

  async function expectSameAsFresh(hints: string[]) {
    await live.syncPaths(hints, "test:watch");
    const now = specState(config.databasePath);
    const full = await fullSyncOfCopy();
    expect(full.state).toEqual(now);
    expect(full.report.wouldChange).toBe(false);
    // A fresh database has no last good version of an invalid file to keep: compare only valid trees.
    if ((now.files as { sync_state: string }[]).every((f) => f.sync_state === "synced")) expect(inForce(now)).toEqual(await freshState());
  }

  it("starts equal", async () => {
    expect(inForce(specState(config.databasePath))).toEqual(await freshState());
  });

  it("an edit to one field", async () => {
    writeFiles(root, { "goals/kr.yaml": krYaml(IDS.kr, IDS.objective).replace("target: 95", "target: 97") });
    await expectSameAsFresh(["goals/kr.yaml"]);
    expect(JSON.stringify(specState(config.databasePath).goals)).toContain('\\"target\\":97');
  });

  it("a parent pointed at an unknown goal, then back", async () => {
    writeFiles(root, { "goals/initiative.yaml": goalYaml({ goal_id: IDS.initiative, goal_type: "initiative", title: "Build a harness", parent_goal_id: "goal_01M6B5CJM0W8B9F354SPG2VVZZ" }) });
    await expectSameAsFresh(["goals/initiative.yaml"]);
    const file = (specState(config.databasePath).files as { path: string; sync_state: string }[]).find((f) => f.path === "goals/initiative.yaml");
    expect(file?.sync_state).toBe("invalid");
    writeFiles(root, { "goals/initiative.yaml": goalYaml({ goal_id: IDS.initiative, goal_type: "initiative", title: "Build a harness", parent_goal_id: IDS.kr }) });
    await expectSameAsFresh(["goals/initiative.yaml"]);
  });

  it("a deleted parent makes its children invalid (files no hint named)", async () => {
    unlinkSync(join(root, "goals/kr.yaml"));
    await expectSameAsFresh(["goals/kr.yaml"]);
    writeFiles(root, { "goals/kr.yaml": krYaml(IDS.kr, IDS.objective) });
    await expectSameAsFresh(["goals/kr.yaml"]);
  });

  it("a rename keeps the definition", async () => {
    renameSync(join(root, "goals/initiative.yaml"), join(root, "goals/harness.yaml"));
    await expectSameAsFresh(["goals/initiative.yaml", "goals/harness.yaml"]);
  });

  it("an invalid file keeps its last good version, and its fix clears it", async () => {
    writeFiles(root, { "goals/objective.yaml": "goal_id: [unclosed\n" });
    await expectSameAsFresh(["goals/objective.yaml"]);
    writeFiles(root, { "goals/objective.yaml": goalYaml({ goal_id: IDS.objective, title: "Improve reliability more", status: "active" }) });
    await expectSameAsFresh(["goals/objective.yaml"]);
  });

  it("a folder added and removed", async () => {
    writeFiles(root, {
      "goals/team/a.yaml": goalYaml({ goal_id: "goal_01M6B5CJM0W8B9F354SPG2VVB0", title: "A" }),
      "goals/team/b.yaml": goalYaml({ goal_id: "goal_01M6B5CJM0W8B9F354SPG2VVB1", title: "B", dependencies: ["goal_01M6B5CJM0W8B9F354SPG2VVB0"] }),
      "goals/team/.hidden.yaml": "not: a spec\n",
    });
    await expectSameAsFresh(["goals/team"]);
    rmSync(join(root, "goals/team"), { recursive: true });
    await expectSameAsFresh(["goals/team"]);
  });

  it("a duplicate id, then its removal", async () => {
    writeFiles(root, { "goals/copy.yaml": goalYaml({ goal_id: IDS.objective, title: "Copy" }) });
    await expectSameAsFresh(["goals/copy.yaml"]);
    unlinkSync(join(root, "goals/copy.yaml"));
    await expectSameAsFresh(["goals/copy.yaml"]);
  });

  it("an edit is written once: looking again at once finds nothing to write", async () => {
    // A clock an hour ahead makes every file old enough for its stat signature to be trusted;
    // back at the real time, the edited file is too recent for one.
    let ahead = 3_600_000;
    const clocked = new LiveSync(config, store, { probeGit: noGit, now: () => new Date(Date.now() + ahead) });
    await clocked.syncAll("test");
    ahead = 0;
    writeFiles(root, { "goals/kr.yaml": krYaml(IDS.kr, IDS.objective).replace("target: 95", "target: 94") });
    expect(await clocked.syncPaths(["goals/kr.yaml"], "test:watch")).not.toBeNull();
    expect(await clocked.syncPaths(["goals/kr.yaml"], "test:watch")).toBeNull();
  });

  it("hints that change nothing write nothing", async () => {
    expect(await live.syncPaths(["goals/objective.yaml", "README.md", "goals/none.yaml"], "test:watch")).toBeNull();
  });
});
