/**
 * Opening (or updating) the pull request of a proposal branch through GitHub's REST API, with the
 * token from GITHUB_TOKEN. One pull request per branch: an open one is updated, not duplicated; a
 * proposal a reviewer closed unmerged is not proposed again while its evidence (a hash in the
 * body) is the same. GITHUB_API_URL points it elsewhere (GitHub Enterprise, tests).
 */
import { UsageError } from "../errors.js";

export interface PullRequestRequest {
  repo: string;
  branch: string;
  base: string;
  title: string;
  body: string;
  /** A hash of the proposal; written into the body, compared with closed pull requests. */
  evidenceHash: string;
  token: string;
  apiUrl?: string;
}

export interface PullRequestResult {
  action: "created" | "updated" | "skipped";
  number: number | null;
  url: string | null;
  reason?: string;
}

interface GithubPull {
  number: number;
  html_url: string;
  state: string;
  merged_at: string | null;
  body: string | null;
}

export function evidenceLine(hash: string): string {
  return `<!-- goalops-evidence: ${hash} -->`;
}

export async function openOrUpdatePullRequest(request: PullRequestRequest): Promise<PullRequestResult> {
  const api = (request.apiUrl ?? process.env.GITHUB_API_URL ?? "https://api.github.com").replace(/\/+$/, "");
  const [owner] = request.repo.split("/");
  const call = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const response = await fetch(`${api}${path}`, {
      method,
      headers: { Authorization: `Bearer ${request.token}`, Accept: "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28", "User-Agent": "goalops", ...(body !== undefined ? { "Content-Type": "application/json" } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await response.text();
    if (!response.ok) throw new UsageError("github.failed", `GitHub ${method} ${path} answered ${response.status}: ${text.slice(0, 300)}`);
    return (text === "" ? null : JSON.parse(text)) as T;
  };
  const head = encodeURIComponent(`${owner}:${request.branch}`);
  const body = `${request.body}\n\n${evidenceLine(request.evidenceHash)}\n`;
  const open = await call<GithubPull[]>("GET", `/repos/${request.repo}/pulls?head=${head}&state=open&per_page=10`);
  const current = open[0];
  if (current !== undefined) {
    const updated = await call<GithubPull>("PATCH", `/repos/${request.repo}/pulls/${current.number}`, { title: request.title, body });
    return { action: "updated", number: updated.number, url: updated.html_url };
  }
  const closed = await call<GithubPull[]>("GET", `/repos/${request.repo}/pulls?head=${head}&state=closed&per_page=30`);
  const rejected = closed.find((p) => p.merged_at === null && (p.body ?? "").includes(evidenceLine(request.evidenceHash)));
  if (rejected !== undefined) {
    return { action: "skipped", number: rejected.number, url: rejected.html_url, reason: `pull request #${rejected.number} with the same evidence was closed unmerged; not proposed again until the evidence changes` };
  }
  const created = await call<GithubPull>("POST", `/repos/${request.repo}/pulls`, { title: request.title, head: request.branch, base: request.base, body });
  return { action: "created", number: created.number, url: created.html_url };
}
