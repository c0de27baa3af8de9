/**
 * The no-op shortcut: when git says the spec files are exactly those of the commit last synced
 * from a clean tree, sync neither lists nor reads them. It must never hide a real change.
 */
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { resolveConfig } from "../src/spec/config.js";
import { openStore } from "../src/store/openStore.js";
import { specPaths, syncRepo } from "../src/sync/syncRepo.js";
import { runCliJson } from "./helpers/cli.js";
import { IDS, goalYaml, validTree } from "./helpers/specs.js";
import { commitAll, tempRepo, writeFiles } from "./helpers/tempRepo.js";

describe("the git no-op shortcut", () => {
  it("is taken only when git reports the same commit and a clean tree", async () => {
    const root = tempRepo(validTree());
    const config = resolveConfig(root, {});
    const store = openStore({ databasePath: join(root, "state/goalops.db"), busyTimeoutMs: 1000 });
    const clean = async () => ({ head: "a".repeat(40), clean: true });
    try {
      expect((await syncRepo(config, store, { probeGit: clean })).counts.added).toBe(5);
      // A change git does not report (as with `git update-index --assume-unchanged`): the shortcut
      // trusts git, which proves it is taken.
      writeFiles(root, { "goals/objective.yaml": goalYaml({ goal_id: IDS.objective, title: "Changed behind git's back", status: "active" }) });
      expect((await syncRepo(config, store, { probeGit: clean })).outcome).toBe("unchanged");
      // The same change with git reporting a dirty tree is seen.
      const dirty = await syncRepo(config, store, { probeGit: async () => ({ head: "a".repeat(40), clean: false }) });
      expect(dirty.changes).toEqual([{ kind: "goal", id: IDS.objective, path: "goals/objective.yaml", change: "changed" }]);
      // A new commit is never taken for the last one.
      writeFiles(root, { "goals/objective.yaml": goalYaml({ goal_id: IDS.objective, title: "At the next commit", status: "active" }) });
      const moved = await syncRepo(config, store, { probeGit: async () => ({ head: "b".repeat(40), clean: true }) });
      expect(moved.counts.changed).toBe(1);
    } finally {
      await store.close();
    }
  });

  it("sees a new file that .gitignore hides from git", async () => {
    const root = tempRepo({ ...validTree(), ".gitignore": "state/\ngoals/local-*.yaml\n" }, { git: true });
    await runCliJson(["sync", "--json"], { cwd: root });
    writeFiles(root, { "goals/local-extra.yaml": goalYaml({ goal_id: "goal_01M6B5CJM0W8B9F354SPG2VVD0", goal_type: "maintenance", title: "Local only" }) });
    const result = await runCliJson<{ counts: { added: number } }>(["sync", "--json"], { cwd: root });
    expect(result.json.counts.added).toBe(1);
  });

  it("records the commit only when the tree was clean, and uses it on the next sync", async () => {
    const root = tempRepo({ ...validTree(), ".gitignore": "state/\n" }, { git: true });
    const first = await runCliJson<{ commit: string; outcome: string }>(["sync", "--json"], { cwd: root });
    expect(first.json.commit).toMatch(/^[0-9a-f]{40}$/);
    const second = await runCliJson<{ outcome: string; counts: { unchanged: number } }>(["sync", "--json"], { cwd: root });
    expect(second.json).toMatchObject({ outcome: "unchanged", counts: { unchanged: 5 } });
    writeFiles(root, { "goals/objective.yaml": goalYaml({ goal_id: IDS.objective, title: "Committed change", status: "active" }) });
    commitAll(root, "change");
    const third = await runCliJson<{ counts: { changed: number } }>(["sync", "--json"], { cwd: root });
    expect(third.json.counts.changed).toBe(1);
  });

  it("uses a git status started earlier only when it asked about this repository's spec paths", async () => {
    const root = tempRepo(validTree());
    const config = resolveConfig(root, {});
    const store = openStore({ databasePath: join(root, "state/goalops.db"), busyTimeoutMs: 1000 });
    const cleanAtA = () => Promise.resolve({ head: "a".repeat(40), clean: true });
    try {
      await syncRepo(config, store, { probeGit: cleanAtA });
      writeFiles(root, { "goals/objective.yaml": goalYaml({ goal_id: IDS.objective, title: "Changed behind git's back", status: "active" }) });
      // Asked about other paths (goalops.yaml names other folders): not used; this folder is not
      // in git, so the files are read and the change is seen.
      const otherPaths = await syncRepo(config, store, { startedGitProbe: { root, paths: ["objectives", "lessons", "playbooks", "goalops.yaml"], state: cleanAtA() } });
      expect(otherPaths.counts.changed).toBe(1);
      // Another repository's: not used either.
      writeFiles(root, { "goals/objective.yaml": goalYaml({ goal_id: IDS.objective, title: "Changed again", status: "active" }) });
      const otherRoot = await syncRepo(config, store, { startedGitProbe: { root: `${root}-other`, paths: specPaths(config), state: cleanAtA() } });
      expect(otherRoot.counts.changed).toBe(1);
      // This repository's spec paths: used (it reports the tree clean at the recorded commit, so
      // the shortcut trusts it and a change behind git's back is not read, which proves it).
      await syncRepo(config, store, { probeGit: cleanAtA });
      writeFiles(root, { "goals/objective.yaml": goalYaml({ goal_id: IDS.objective, title: "Changed a third time", status: "active" }) });
      const same = await syncRepo(config, store, { startedGitProbe: { root, paths: specPaths(config), state: cleanAtA() } });
      expect(same.outcome).toBe("unchanged");
    } finally {
      await store.close();
    }
  });

  it("sees an uncommitted change in spec folders that goalops.yaml names (the CLI's early git status asks about the default ones)", async () => {
    const objective = goalYaml({ goal_id: IDS.objective, title: "Improve reliability", status: "active" });
    const root = tempRepo({ "goalops.yaml": "version: 1\npaths:\n  goals: objectives\n", "objectives/objective.yaml": objective, ".gitignore": "state/\n" }, { git: true });
    const first = await runCliJson<{ counts: { added: number } }>(["sync", "--json"], { cwd: root });
    expect(first.json.counts.added).toBe(1);
    expect((await runCliJson<{ outcome: string }>(["sync", "--json"], { cwd: root })).json.outcome).toBe("unchanged");
    writeFiles(root, { "objectives/objective.yaml": goalYaml({ goal_id: IDS.objective, title: "Not committed yet", status: "active" }) });
    const edited = await runCliJson<{ counts: { changed: number } }>(["sync", "--json"], { cwd: root });
    expect(edited.json.counts.changed).toBe(1);
  });
});
