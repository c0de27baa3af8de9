#!/usr/bin/env python3
"""A minimal goalops agent in Python, using only the standard library.

It walks through one full turn of the goalops loop against a running daemon's
HTTP JSON API (`goalops daemon`):

  1. find the daemon and its bearer token          (state/daemon.lock, state/token)
  2. check the daemon's health                     GET  /v1/health
  3. pick a goal                                   GET  /v1/goals
  4. read the goal's context for the prompt        GET  /v1/goals/<id>/context
  5. continue the goal's unfinished run, if the    (the context's unfinishedRuns;
     context has one, resuming it if parked         POST /v1/runs/<id>/resume)
     ... else record that a new run starts         POST /v1/runs
  6. do the work in steps (here 3; the last one    POST /v1/key-results/<id>/values
     records a key-result value), checkpointing    POST /v1/runs/<id>/checkpoint
     after each and skipping those already done
  7. record how the run ended                      POST /v1/runs/<id>/finish

A real agent would call its model in step 6, with the context's markdown in the
prompt. Copy this file and replace `do_the_work`.

Continuity: stop the agent mid-run (`--stop-after-step 1` simulates it) and the
run keeps its last checkpoint. When the daemon restarts, it resumes that run
(same run id, attempt counted, state running); the next invocation finds it in
the context, and goes on from the checkpoint instead of starting over.

Exit codes: 0 done, or stopped as --stop-after-step asked (the run checkpointed);
1 the API refused a request (its JSON error is printed to stderr); 2 the daemon
could not be found or reached.
"""

import argparse
import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request

EXIT_OK = 0
EXIT_API_ERROR = 1
EXIT_UNREACHABLE = 2

# The work, in steps. Each is checkpointed once done ({"done": N}), so a resumed run skips it.
STEPS = ("plan", "act", "measure")

# Where `goalops daemon` writes its address and its token, relative to the repository.
LOCK_FILE = os.path.join("state", "daemon.lock")
TOKEN_FILE = os.path.join("state", "token")


class ApiError(Exception):
    """The daemon answered with an HTTP error: `{"error": {"code", "message", "field"?}}`."""

    def __init__(self, method, path, status, body_text):
        self.method = method
        self.path = path
        self.status = status
        self.body_text = body_text
        try:
            self.error = json.loads(body_text)["error"]
        except (ValueError, KeyError, TypeError):
            # Not the daemon's JSON (a proxy, or something else on that port): keep the text.
            self.error = {"code": "http.%d" % status, "message": body_text.strip() or "(empty body)"}
        super().__init__(self.error.get("message", ""))


class Unreachable(Exception):
    """The daemon could not be found, or did not answer."""


class GoalOpsClient:
    """A thin client of the goalops HTTP API: JSON in, JSON out, errors as exceptions."""

    def __init__(self, url, token, timeout=10.0):
        self.url = url.rstrip("/")
        self.token = token
        self.timeout = timeout

    def send(self, method, path, body=None, query=None):
        """Sends one request; returns (HTTP status, response text). Raises ApiError or Unreachable."""
        if query:
            path = path + "?" + urllib.parse.urlencode(query)
        # Every route but /v1/health needs the token; sending it always is simplest.
        headers = {"Authorization": "Bearer " + self.token}
        data = None
        if body is not None:
            # The daemon only takes JSON bodies, and says so with a 415 otherwise.
            data = json.dumps(body).encode("utf-8")
            headers["Content-Type"] = "application/json"
        req = urllib.request.Request(self.url + path, data=data, headers=headers, method=method)
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as response:
                return response.status, response.read().decode("utf-8")
        except urllib.error.HTTPError as error:  # a 4xx/5xx: the daemon's JSON error
            with error:
                text = error.read().decode("utf-8", "replace")
            raise ApiError(method, path, error.code, text) from None
        except urllib.error.URLError as error:  # no answer at all
            if isinstance(error.reason, ConnectionRefusedError):
                raise Unreachable("cannot connect to %s: connection refused" % self.url) from None
            raise Unreachable("cannot reach %s: %s" % (self.url, error.reason)) from None
        except (TimeoutError, ConnectionError) as error:
            raise Unreachable("no answer from %s: %s" % (self.url, error)) from None

    def request(self, method, path, body=None, query=None):
        """Sends one request; returns the JSON answer."""
        return json.loads(self.send(method, path, body, query)[1])

    # One method per route this example uses (the README lists all of them).

    def health(self):
        return self.request("GET", "/v1/health")

    def goals(self):
        return self.request("GET", "/v1/goals")["goals"]

    def context(self, goal_id, agent, markdown=False):
        path = "/v1/goals/%s/context" % quote(goal_id)
        if markdown:  # format=md answers text/markdown, not JSON
            return self.send("GET", path, query={"agent": agent, "format": "md"})[1]
        return self.request("GET", path, query={"agent": agent})

    def start_run(self, goal_id, job_id=None, plan=None, idempotency_key=None):
        """Returns the run. 201: a new run; 200: the run this idempotency key started before."""
        body = {"goal_id": goal_id, "job_id": job_id, "plan": plan, "idempotency_key": idempotency_key}
        status, text = self.send("POST", "/v1/runs", without_none(body))
        run = json.loads(text)
        run["existing"] = status == 200  # the body's own "existing" field says the same
        return run

    def resume_run(self, run_id):
        """Resumes a parked run: the same run, its attempt counted. Returns the run."""
        return self.request("POST", "/v1/runs/%s/resume" % quote(run_id), {})

    def checkpoint(self, run_id, ref, state):
        """Saves a resume pointer and the agent's state (any JSON, at most 64 KiB)."""
        return self.request("POST", "/v1/runs/%s/checkpoint" % quote(run_id), {"ref": ref, "state": state})

    def record_kr_value(self, kr_goal_id, value, source, run_id):
        body = {"value": value, "source": source, "run_id": run_id}
        return self.request("POST", "/v1/key-results/%s/values" % quote(kr_goal_id), body)

    def kr_values(self, kr_goal_id):
        return self.request("GET", "/v1/key-results/%s/values" % quote(kr_goal_id))

    def finish_run(self, run_id, outcome, verifier, actions, notes):
        body = {"outcome": outcome, "verifier": verifier, "actions": actions, "notes": notes}
        return self.request("POST", "/v1/runs/%s/finish" % quote(run_id), body)


def quote(segment):
    """Ids go into the path: escape them so that any id makes a valid URL."""
    return urllib.parse.quote(segment, safe="")


def without_none(body):
    """Optional fields are left out rather than sent as null."""
    return {k: v for k, v in body.items() if v is not None}


# --- Finding the daemon ---------------------------------------------------------------------


def find_url(args):
    """--url, else $GOALOPS_URL, else the address the daemon wrote into state/daemon.lock."""
    if args.url:
        return args.url, "--url"
    if os.environ.get("GOALOPS_URL"):
        return os.environ["GOALOPS_URL"], "$GOALOPS_URL"
    lock_path = os.path.join(args.repo, LOCK_FILE)
    try:
        with open(lock_path, encoding="utf-8") as f:
            lock = json.load(f)
    except FileNotFoundError:
        raise Unreachable("no %s: no goalops daemon runs for the repository %s" % (lock_path, os.path.abspath(args.repo))) from None
    except ValueError as error:
        raise Unreachable("cannot read %s: %s" % (lock_path, error)) from None
    if not lock.get("url"):
        raise Unreachable("%s has no url yet: the daemon (pid %s) is still starting; try again in a moment" % (lock_path, lock.get("pid")))
    return lock["url"], lock_path


def read_token(args):
    path = args.token_file or os.path.join(args.repo, TOKEN_FILE)
    try:
        with open(path, encoding="utf-8") as f:
            token = f.read().strip()
    except OSError as error:
        raise Unreachable("cannot read the API token %s (%s); the daemon creates it on its first start, or pass --token-file" % (path, error.strerror)) from None
    if not token:
        raise Unreachable("the token file %s is empty" % path)
    return token


# --- The agent ------------------------------------------------------------------------------


def pick_goal(client, goal_id):
    """--goal, else the first key result the daemon lists, else its first goal."""
    if goal_id:
        return goal_id
    goals = client.goals()
    if not goals:
        # SystemExit with a message: printed to stderr, exit code 1.
        raise SystemExit("the daemon knows no goals: add a YAML file under goals/ (see `goalops new`)")
    key_results = [g for g in goals if g["goal_type"] == "key_result"]
    return (key_results or goals)[0]["goal_id"]


def value_of_run(client, kr_goal_id, run_id):
    """The key-result value this run recorded, if it recorded one (for retries)."""
    for v in client.kr_values(kr_goal_id)["values"]:
        if v["run_id"] == run_id:
            return v
    return None


def do_the_work(context, args, step):
    """Where a real agent calls its model with the context and acts, one step at a time.
    Here: "plan" and "act" do nothing; "measure" returns the key-result value to record."""
    return args.value if STEPS[step - 1] == "measure" else None


def continue_or_start(client, context, args, say):
    """The run to work on: an unfinished run of the goal to continue, else a new one.

    After a restart the daemon resumes a checkpointed run (state `running`, attempt counted), or
    parks it when the goal's continuity policy says so (`parked`): that one is resumed by hand.
    This example assumes one agent per goal: a run another agent is doing now is `running` too.
    Returns (run, how), how being "resumed", "replayed" or "started"."""
    for unfinished in context["unfinishedRuns"]:
        if unfinished["run_state"] == "running":
            say("run %s was resumed by the daemon (attempt %d)" % (unfinished["run_id"], unfinished["attempt"]))
            return unfinished, "resumed"
        if unfinished["run_state"] == "parked":
            run = client.resume_run(unfinished["run_id"])
            say("run %s was parked (%s): resumed it (attempt %d)" % (run["run_id"], unfinished["parked_reason"], run["attempt"]))
            return run, "resumed"
    # With an idempotency key, a retry of the same job gets the same run back.
    run = client.start_run(context["goal"]["goal_id"], job_id=args.job_id, plan=args.plan, idempotency_key=args.idempotency_key)
    if run["existing"]:
        say("run %s: already started with idempotency key %r (state %s)" % (run["run_id"], args.idempotency_key, run["run_state"]))
        return run, "replayed"
    say("run %s started (attempt %d)" % (run["run_id"], run["attempt"]))
    return run, "started"


def steps_done(run):
    """How many steps the run's last checkpoint covers (0 for a run never checkpointed)."""
    state = run.get("checkpoint_state")
    return state.get("done", 0) if isinstance(state, dict) else 0


def record_value(client, goal_id, run_id, value, new_run):
    """Records the run's key-result value once. Returns (value, health, what was done).

    A run continued may have recorded it already: stopped between recording and checkpointing,
    or retried with the same idempotency key. Then the earlier value stands."""
    earlier = None if new_run else value_of_run(client, goal_id, run_id)
    if earlier is not None:
        return earlier["value"], None, "value %s was recorded by an earlier attempt of this run" % earlier["value"]
    summary = client.record_kr_value(goal_id, value, "python-agent", run_id)
    progress = summary["progress"]
    what = "recorded %s = %s %s: progress %s, health %s" % (
        summary["signal"]["metric"], summary["latest"]["value"], summary["signal"]["unit"],
        "n/a" if progress is None else "%d%%" % round(progress * 100), summary["health"])
    return summary["latest"]["value"], summary["health"], what


def run_agent(args, say):
    # 1. The daemon's address and token.
    url, url_from = find_url(args)
    client = GoalOpsClient(url, read_token(args), timeout=args.timeout)

    # 2. Health: is the daemon up, and are its files synced? (`degraded` still serves.)
    health = client.health()
    say("daemon %s (from %s): %s, version %s" % (url, url_from, health["status"], health["version"]))

    # 3-4. The goal and its context: what the agent must know before it acts.
    goal_id = pick_goal(client, args.goal)
    context = client.context(goal_id, args.agent)
    goal = context["goal"]
    say("goal %s (%s, %s): %s" % (goal["goal_id"], goal["goal_type"], goal["status"], goal["title"]))
    for parent in context["chain"]:
        say("  serves %s: %s" % (parent["goal_type"], parent["title"]))
    say("  context: %d lessons, %d playbook rules, %d open loops, %d unfinished runs" % (
        len(context["lessons"]), len(context["rules"]), len(context["openLoops"]), len(context["unfinishedRuns"])))
    # The same context as markdown: what an agent pastes into its prompt.
    markdown = client.context(goal_id, args.agent, markdown=True)
    say("--- context as markdown (for the prompt) ---")
    say(markdown.rstrip("\n"))
    say("---")

    # 5. The run: the one the daemon resumed after a restart (or a parked one), else a new one.
    run, how = continue_or_start(client, context, args, say)
    run_id = run["run_id"]
    done = steps_done(run)
    if done:
        say("  from checkpoint %s %s: %d of %d steps done" % (run["checkpoint_ref"], json.dumps(run["checkpoint_state"]), done, len(STEPS)))

    # 6. The work, step by step, checkpointed after each. Only a key result takes values.
    is_kr = goal["goal_type"] == "key_result"
    kr_value = kr_health = None
    did = []
    stopped = False
    if run["run_state"] == "finished":  # only a replayed idempotency key gets a finished run back
        earlier = value_of_run(client, goal_id, run_id) if is_kr else None
        kr_value = earlier["value"] if earlier else None
        say("run %s is finished already: nothing left to do" % run_id)
    else:
        for step in range(1, len(STEPS) + 1):
            label = "step %d/%d (%s)" % (step, len(STEPS), STEPS[step - 1])
            if step <= done:
                say("%s: skipped, done before (checkpoint step-%d)" % (label, done))
                continue
            if args.stop_after_step is not None and step > args.stop_after_step:
                stopped = True
                break
            value = do_the_work(context, args, step)
            what = "done"
            if value is not None and is_kr:
                kr_value, kr_health, what = record_value(client, goal_id, run_id, value, how == "started")
            elif value is not None:
                what = "a %s takes no key-result values: nothing to record" % goal["goal_type"]
            # Checkpoint only once the step is done: a resumed run goes on after it, never repeats it.
            run = client.checkpoint(run_id, "step-%d" % step, {"done": step})
            did.append(step)
            say("%s: %s; checkpoint step-%d" % (label, what, step))

    # 7. Finish the run, once. A finished run cannot be finished again (409 run.already_finished).
    if stopped:
        say("stopping after step %d (--stop-after-step): run %s stays %s; after a daemon restart, run the agent again to resume it" % (
            args.stop_after_step, run_id, run["run_state"]))
    else:
        if run["run_state"] != "finished":
            actions = ["read_context", "record_kr"] if is_kr else ["read_context"]
            run = client.finish_run(run_id, "succeeded", "passed", actions, "example run of examples/python/agent.py")
        say("run %s: %s, outcome %s, verifier %s" % (run_id, run["run_state"], run["local_outcome"], run["verifier_status"]))

    return {
        "run_id": run_id,
        "goal_id": goal_id,
        "attempt": run["attempt"],
        "outcome": run.get("local_outcome"),
        "verifier": run.get("verifier_status"),
        "run_state": run["run_state"],
        "replayed": how == "replayed",
        "resumed": how == "resumed",
        "steps_done": did,
        "stopped_after_step": args.stop_after_step if stopped else None,
        "kr_value": kr_value,
        "kr_health": kr_health,
        "health": health["status"],
    }


def parse_args(argv):
    parser = argparse.ArgumentParser(
        prog="agent.py",
        description="An example goalops agent: reads a goal's context from a running `goalops daemon`, "
        "continues the run the daemon resumed or starts one, does its steps with a checkpoint after each "
        "(recording a key-result value), and finishes the run.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="""\
The daemon is found by --url, else $GOALOPS_URL, else the url in <repo>/state/daemon.lock.
Its token is read from --token-file, else <repo>/state/token.

examples:
  goalops daemon &                       # in the repository, once
  python3 agent.py                       # the first key result, value 90
  python3 agent.py --goal goal_01H... --value 93.5
  python3 agent.py --idempotency-key nightly-2026-11-24 --json   # safe to retry
  GOALOPS_URL=http://127.0.0.1:7878 python3 agent.py --repo ~/goals
  python3 agent.py --stop-after-step 1   # then restart the daemon: the next
  python3 agent.py                       # run resumes the same run at step 2

exit codes: 0 done (or stopped as --stop-after-step asked, the run checkpointed),
            1 the API refused a request (its error on stderr),
            2 the daemon could not be found or reached.""",
    )
    where = parser.add_argument_group("finding the daemon")
    where.add_argument("--repo", default=".", help="the goalops repository (default: the current folder)")
    where.add_argument("--url", help="the daemon's address, such as http://127.0.0.1:7878")
    where.add_argument("--token-file", help="the bearer token file (default: <repo>/state/token)")
    where.add_argument("--timeout", type=float, default=10.0, help="seconds to wait for each answer (default: 10)")
    what = parser.add_argument_group("what the agent does")
    what.add_argument("--goal", metavar="GOAL_ID", help="the goal to work on (default: the first key result)")
    what.add_argument("--agent", default="python-agent", help="the agent's name, sent with the context request")
    what.add_argument("--value", type=float, default=90.0, help="the key-result value to record (default: 90)")
    what.add_argument("--job-id", default="python-agent-example", help="the job this run belongs to (attempts are counted per job)")
    what.add_argument("--plan", default="plan, act, measure (record the key-result value), a checkpoint after each; finish", help="a one-line plan, kept with the run")
    what.add_argument("--idempotency-key", metavar="KEY", help="run again with the same key to get the same run back instead of a new one")
    what.add_argument("--stop-after-step", type=int, choices=range(1, len(STEPS) + 1), metavar="N",
                      help="exit after checkpointing step N, leaving the run unfinished (simulates an agent stopped mid-run)")
    parser.add_argument("--json", action="store_true", help="print only one JSON summary on stdout, for machines")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)

    def say(line):
        if not args.json:
            print(line)

    try:
        summary = run_agent(args, say)
    except ApiError as error:
        e = error.error
        field = " (field '%s')" % e["field"] if e.get("field") else ""
        print("goalops API error: %s %s -> HTTP %d %s%s: %s" % (error.method, error.path, error.status, e.get("code"), field, e.get("message")), file=sys.stderr)
        print(error.body_text.strip(), file=sys.stderr)
        return EXIT_API_ERROR
    except Unreachable as error:
        print("error: %s" % error, file=sys.stderr)
        print("is `goalops daemon` running? Start it in the repository with: goalops daemon", file=sys.stderr)
        return EXIT_UNREACHABLE
    if args.json:
        print(json.dumps(summary))
    else:
        print("run_id: %s" % summary["run_id"])
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
