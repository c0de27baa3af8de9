/**
 * `goalops learn` end to end on a temp git repository: a dry run writes nothing; --commit puts
 * validated lesson and rule proposals on the week's branch through a separate worktree, leaving a
 * dirty working tree, index and branch byte-for-byte as they were; a re-run commits nothing new;
 * and merged, the lesson reaches agents' context after a sync.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { isoWeek } from "../src/git/proposalBranch.js";
import { openGoalOps } from "../src/index.js";
import { runCli, runCliJson } from "./helpers/cli.js";
import { IDS, validTree } from "./helpers/specs.js";
import { git, tempRepo } from "./helpers/tempRepo.js";

const LESSON = "Confirm the recipient by name before sending.";

/** Everything of the user's git state a proposal must not touch. */
function userState(root: string) {
  return {
    status: git(root, "status", "--porcelain=v1", "--untracked-files=all"),
    diff: git(root, "diff"),
    staged: git(root, "diff", "--cached"),
    head: git(root, "rev-parse", "HEAD"),
    branch: git(root, "branch", "--show-current"),
    stash: git(root, "stash", "list"),
    objective: readFileSync(join(root, "goals/objective.yaml")),
    scratch: readFileSync(join(root, "scratch.txt")),
  };
}

describe("goalops learn", () => {
  it("dry-runs, commits proposals on the week's branch without touching the working tree, and closes the loop", async () => {
    const root = tempRepo({ ...validTree(), ".gitignore": "state/\n", "goalops.yaml": "version: 1\nlearning:\n  promote_score: 2\n" }, { git: true });
    expect((await runCli(["sync"], { cwd: root })).exitCode).toBe(0);
    const ops = await openGoalOps({ repo: root });
    for (let i = 0; i < 2; i++) {
      const run = await ops.runs.start(IDS.initiative);
      await ops.runs.finish(run.run_id, { outcome: "failed", failureCategory: "interpretation_error", actions: ["send_message"], lessonCandidates: [LESSON] });
    }
    await ops.close();

    // --dry-run: the proposal is printed; no review, no report, no file is written.
    const dry = await runCli(["learn", "--dry-run", "--since", "1d"], { cwd: root });
    expect(dry.exitCode, dry.stderr).toBe(0);
    expect(dry.stdout).toContain("(dry run: nothing written)");
    expect(dry.stdout).toContain(`lesson_text: ${LESSON}`);
    const db = () => new Database(join(root, "state/goalops.db"), { readonly: true });
    const counts = () => {
      const d = db();
      try {
        return [d.prepare("SELECT COUNT(*) FROM after_action_reviews").pluck().get(), d.prepare("SELECT COUNT(*) FROM learning_cycle_reports").pluck().get()];
      } finally {
        d.close();
      }
    };
    expect(counts()).toEqual([0, 0]);
    expect(git(root, "status", "--porcelain")).toBe("");
    // --db: another ledger (an empty one here) is what the cycle reads.
    const elsewhere = await runCli(["learn", "--dry-run", "--since", "1d", "--db", join(root, "state/other.db")], { cwd: root });
    expect(elsewhere.stdout).toContain("- runs: 0 ");
    expect(elsewhere.stdout).toContain("None this time.");

    // A dirty working tree: an unstaged edit, a staged edit, an untracked file.
    writeFileSync(join(root, "goals/objective.yaml"), `${readFileSync(join(root, "goals/objective.yaml"), "utf8")}# local note\n`);
    writeFileSync(join(root, "playbooks/confirm.yaml"), `${readFileSync(join(root, "playbooks/confirm.yaml"), "utf8")}# staged note\n`);
    git(root, "add", "playbooks/confirm.yaml");
    writeFileSync(join(root, "scratch.txt"), "mine\n");
    const before = userState(root);

    const learned = await runCliJson<{ proposals: { path: string; reason: string; change: string }[]; commit: { branch: string; commit: string; created: boolean } }>(["learn", "--commit", "--since", "1d", "--json"], { cwd: root });
    expect(learned.exitCode, learned.stderr).toBe(0);
    const branch = `goalops/learn/${isoWeek(new Date())}`;
    expect(learned.json.commit).toMatchObject({ branch, created: true, commit: expect.stringMatching(/^[0-9a-f]{40}$/) });
    expect(learned.json.proposals.some((p) => p.change === "add" && p.reason.startsWith("new lesson"))).toBe(true);
    expect(userState(root)).toEqual(before);
    expect(counts()[0]).toBe(2);
    expect(counts()[1]).toBe(1);

    // The branch: the proposals, validated by goalops itself in a clone; evidence in the message.
    const files = git(root, "ls-tree", "-r", "--name-only", branch).split("\n");
    for (const p of learned.json.proposals) expect(files).toContain(p.path);
    const message = git(root, "log", "-1", "--format=%B", branch);
    expect(message).toMatch(/new lesson les_\w+: score \d/);
    expect(message).toMatch(/grun_\w{26}/);
    const clone = mkdtempSync(join(tmpdir(), "goalops-clone-"));
    try {
      execFileSync("git", ["clone", "-q", "--branch", branch, root, clone]);
      const validate = await runCli(["validate"], { cwd: clone });
      expect(validate.exitCode, validate.stdout).toBe(0);
      // A new lesson file reads like one a person wrote: block style, one field per line.
      const added = learned.json.proposals.find((p) => p.change === "add" && p.path.startsWith("lessons/"));
      const addedText = readFileSync(join(clone, added?.path ?? "missing"), "utf8");
      expect(addedText).toMatch(/^lesson_id: les_\w{26}$/m);
      expect(addedText).toMatch(/^evidence_run_ids:\n {2}- grun_\w{26}$/m);
      expect(addedText).not.toMatch(/^\{/m);
      // The lesson the failed runs contradicted: its measured confidence, one line added, the rest as it was.
      const edited = learned.json.proposals.find((p) => p.change === "edit" && p.path === "lessons/ask.yaml");
      expect(edited?.reason).toBe(`lesson ${IDS.lesson} confidence 0.5 -> 0.25: 0 validated, 2 contradicted of 2 runs`);
      expect(git(clone, "diff", "HEAD~1", "--", "lessons/ask.yaml").split("\n").filter((l) => /^[-+][^-+]/.test(l))).toEqual(["+confidence: 0.25"]);
    } finally {
      rmSync(clone, { recursive: true, force: true });
    }

    // The same week again: the same files, so nothing new is committed.
    const again = await runCliJson<{ commit: { commit: string | null; head: string } }>(["learn", "--commit", "--since", "1d", "--json"], { cwd: root });
    expect(again.json.commit).toMatchObject({ commit: null, head: learned.json.commit.commit });
    expect(userState(root)).toEqual(before);

    // Merged, synced: the lesson is in the context agents read.
    git(root, "reset", "-q", "--hard");
    git(root, "clean", "-fdq", "-e", "state");
    git(root, "-c", "user.name=t", "-c", "user.email=t@t", "merge", "-q", "--no-edit", branch);
    expect((await runCli(["sync"], { cwd: root })).exitCode).toBe(0);
    const context = await runCli(["context", "--goal", IDS.initiative], { cwd: root });
    expect(context.stdout).toContain(LESSON);
  });

  it("proposes at most learning.max_new_lessons new lessons, highest score first, and reports the rest", async () => {
    const root = tempRepo({ ...validTree(), "goalops.yaml": "version: 1\nlearning:\n  promote_score: 2\n  max_new_lessons: 1\n" }, { git: true });
    expect((await runCli(["sync"], { cwd: root })).exitCode).toBe(0);
    const ops = await openGoalOps({ repo: root });
    for (let i = 0; i < 3; i++) {
      const run = await ops.runs.start(IDS.initiative);
      // One lesson from all three runs, another from two: the first scores higher.
      await ops.runs.finish(run.run_id, { outcome: "failed", actions: ["send_message"], lessonCandidates: i < 2 ? [LESSON, "Ask before messaging a group."] : [LESSON] });
    }
    await ops.close();
    type Out = { promotedCandidates: { text: string; score: number }[]; heldBackCandidates: { text: string; score: number }[]; proposals: { change: string; kind: string }[]; markdown: string };
    const learned = await runCliJson<Out>(["learn", "--dry-run", "--since", "1d", "--json"], { cwd: root });
    expect(learned.exitCode, learned.stderr).toBe(0);
    expect(learned.json.promotedCandidates.map((c) => c.text)).toEqual([LESSON]);
    expect(learned.json.heldBackCandidates).toHaveLength(1);
    expect(learned.json.heldBackCandidates[0]?.score).toBeLessThan(learned.json.promotedCandidates[0]?.score ?? 0);
    expect(learned.json.proposals.filter((p) => p.kind === "lesson" && p.change === "add")).toHaveLength(1);
    expect(learned.json.markdown).toContain("lesson candidates promoted: 1 (1 more at the threshold held back by learning.max_new_lessons");
    expect(learned.json.markdown).toContain("## Held back (learning.max_new_lessons)\n\n- score 2 (2 runs): Ask before messaging a group.");
  });
});

describe("goalops learn, the database held by another writer", () => {
  it("stops with a clear error and exits (its review writer thread stopped) when the lock outlasts the busy timeout, and runs once it is free", async () => {
    const root = tempRepo({ ...validTree(), "goalops.yaml": "version: 1\ndatabase:\n  busy_timeout_ms: 200\n" }, { git: true });
    expect((await runCli(["sync"], { cwd: root })).exitCode).toBe(0);
    const ops = await openGoalOps({ repo: root });
    for (let i = 0; i < 2; i++) {
      const run = await ops.runs.start(IDS.initiative);
      await ops.runs.finish(run.run_id, { outcome: "failed", failureCategory: "tool_error", actions: ["send_message"] });
    }
    await ops.close();
    const holder = new Database(join(root, "state/goalops.db"));
    holder.exec("BEGIN IMMEDIATE");
    try {
      const started = Date.now();
      const locked = await runCli(["learn", "--since", "1d"], { cwd: root, timeoutMs: 30_000 });
      expect(locked.exitCode, locked.stderr).toBe(2);
      expect(locked.stderr).toContain("goalops: the database is locked by another writer");
      expect(locked.stderr).not.toContain("unexpected error");
      expect(Date.now() - started).toBeLessThan(20_000);
    } finally {
      holder.exec("ROLLBACK");
      holder.close();
    }
    const learned = await runCliJson<{ reviews: { made: number } }>(["learn", "--since", "1d", "--json"], { cwd: root });
    expect(learned.exitCode, learned.stderr).toBe(0);
    expect(learned.json.reviews.made).toBe(2);
  });
});

describe("goalops learn --push --open-pr", () => {
  it("pushes the week's branch, opens one pull request and updates it, keeps others' commits, and does not re-propose a rejected proposal", async () => {
    const { createServer } = await import("node:http");
    interface Pull { number: number; html_url: string; state: string; merged_at: string | null; body: string; title: string; head: string }
    const pulls: Pull[] = [];
    const requests: string[] = [];
    const server = createServer((req, res) => {
      let text = "";
      req.on("data", (c) => (text += c)).on("end", () => {
        const url = new URL(req.url ?? "/", "http://x");
        requests.push(`${req.method} ${url.pathname}${url.searchParams.get("state") !== null ? `?state=${url.searchParams.get("state")}` : ""}`);
        expect(req.headers.authorization).toBe("Bearer test-token");
        const send = (status: number, body: unknown) => res.writeHead(status, { "Content-Type": "application/json" }).end(JSON.stringify(body));
        if (req.method === "GET") return send(200, pulls.filter((p) => p.state === url.searchParams.get("state") && url.searchParams.get("head") === `acme:${p.head}`));
        const body = JSON.parse(text) as { title: string; body: string; head?: string };
        if (req.method === "POST") {
          const pull = { number: pulls.length + 1, html_url: `https://github.example/acme/agents/pull/${pulls.length + 1}`, state: "open", merged_at: null, body: body.body, title: body.title, head: body.head as string };
          pulls.push(pull);
          return send(201, pull);
        }
        const pull = pulls.find((p) => url.pathname.endsWith(`/pulls/${p.number}`)) as Pull;
        Object.assign(pull, { title: body.title, body: body.body });
        return send(200, pull);
      });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const env = { GITHUB_TOKEN: "test-token", GITHUB_API_URL: `http://127.0.0.1:${(server.address() as { port: number }).port}` };
    try {
      const root = tempRepo({ ...validTree(), ".gitignore": "state/\n", "goalops.yaml": "version: 1\nlearning:\n  promote_score: 2\ngit:\n  github_repo: acme/agents\n" }, { git: true });
      const remote = mkdtempSync(join(tmpdir(), "goalops-remote-"));
      execFileSync("git", ["init", "-q", "--bare", remote]);
      git(root, "remote", "add", "origin", remote);
      expect((await runCli(["sync"], { cwd: root })).exitCode).toBe(0);
      const fail = async (n: number, category: string) => {
        const ops = await openGoalOps({ repo: root });
        for (let i = 0; i < n; i++) {
          const run = await ops.runs.start(IDS.initiative);
          await ops.runs.finish(run.run_id, { outcome: "failed", failureCategory: category, actions: ["send_message"], lessonCandidates: [LESSON] });
        }
        await ops.close();
      };
      await fail(2, "interpretation_error");
      const branch = `goalops/learn/${isoWeek(new Date())}`;

      const first = await runCli(["learn", "--open-pr", "--since", "1d"], { cwd: root, env });
      expect(first.exitCode, first.stderr).toBe(0);
      expect(first.stdout).toContain(`pushed ${branch} to origin`);
      expect(first.stdout).toContain("pull request #1 created: https://github.example/acme/agents/pull/1");
      expect(requests).toEqual(["GET /repos/acme/agents/pulls?state=open", "GET /repos/acme/agents/pulls?state=closed", "POST /repos/acme/agents/pulls"]);
      expect(pulls[0]?.body).toContain("goalops-evidence:");
      expect(git(remote, "rev-parse", `refs/heads/${branch}`)).toBe(git(root, "rev-parse", `refs/heads/${branch}`));

      // Someone pushes a commit of their own to the branch.
      const other = mkdtempSync(join(tmpdir(), "goalops-other-"));
      execFileSync("git", ["clone", "-q", "--branch", branch, remote, other]);
      writeFileSync(join(other, "REVIEW.md"), "looks right\n");
      git(other, "add", "REVIEW.md");
      git(other, "commit", "-q", "-m", "reviewer note");
      git(other, "push", "-q", "origin", branch);
      const theirs = git(other, "rev-parse", "HEAD").trim();

      // New evidence: the proposal changes, the pull request is updated, not duplicated.
      await fail(2, "tool_error");
      requests.length = 0;
      const second = await runCli(["learn", "--open-pr", "--since", "1d"], { cwd: root, env });
      expect(second.exitCode, second.stderr).toBe(0);
      expect(second.stdout).toContain("pull request #1 updated");
      expect(requests).toEqual(["GET /repos/acme/agents/pulls?state=open", "PATCH /repos/acme/agents/pulls/1"]);
      expect(pulls).toHaveLength(1);
      git(remote, "merge-base", "--is-ancestor", theirs, `refs/heads/${branch}`); // throws if their commit was lost

      // Closed unmerged: the same evidence is not proposed again.
      Object.assign(pulls[0] as Pull, { state: "closed" });
      requests.length = 0;
      const third = await runCli(["learn", "--open-pr", "--since", "1d"], { cwd: root, env });
      expect(third.exitCode, third.stderr).toBe(0);
      expect(third.stdout).toContain("was closed unmerged; not proposed again until the evidence changes");
      expect(requests.some((r) => r.startsWith("POST"))).toBe(false);
      rmSync(other, { recursive: true, force: true });
      rmSync(remote, { recursive: true, force: true });

      expect((await runCli(["learn", "--open-pr"], { cwd: root, env: { GITHUB_API_URL: env.GITHUB_API_URL } })).stderr).toContain("GITHUB_TOKEN");
    } finally {
      server.close();
    }
  });
});
