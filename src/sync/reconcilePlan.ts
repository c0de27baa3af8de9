/**
 * The reconcile plan: files as they are now vs what the database holds -> what one sync writes.
 * Pure: data in, data out; `sync` applies the plan, `diff` prints it.
 */
import { TRANSITIONS, pathToStatus } from "../goals/stateMachine.js";
import { dependencyBlockReason, unmetDependencies } from "../goals/dependencies.js";
import type { ObjectKind } from "../spec/kinds.js";
import type { SpecProblem } from "../spec/parseYaml.js";
import type { SpecFile } from "../spec/specFile.js";
import type { GoalStatus, StatusIntent } from "../spec/types.js";
import type { FileStateWrite, ObjectArchive, ObjectUpsert, StateEventInput, SyncPlanWrite, SyncSnapshot } from "../store/types.js";

export interface PlanInput {
  files: readonly SpecFile[];
  snapshot: SyncSnapshot;
  commit: string | null;
  at: string;
  trigger: string;
  /** Largest share of live goals one sync may archive without allowPrune. */
  pruneLimit: number;
  allowPrune: boolean;
  /** Each present file's stat signature to record (see fileSnapshot.ts). */
  signatures?: ReadonlyMap<string, string | null>;
  /**
   * A plan for some files only (the daemon's live sync): `files` are those files, `snapshot` holds
   * their index entries and the definitions they touch (their ids, what their paths held, their
   * dependencies), and this says what the rest of the tree declares.
   */
  scope?: PlanScope;
}

export interface PlanScope {
  /** Whether a file outside the scope declares the id (valid or not): never archived. */
  isDeclared(id: string): boolean;
  /** Whether a valid file outside the scope declares the id. */
  isValid(id: string): boolean;
  /** Goals not archived in the database (the prune guard's denominator). */
  liveGoals: number;
}

export interface PlannedChange {
  kind: ObjectKind;
  id: string;
  path: string;
  change: "added" | "changed" | "moved" | "restored" | "archived";
  /** Goals: the status transitions this sync makes, in order. */
  transitions?: { from: GoalStatus | null; to: GoalStatus }[];
  intentError?: string;
}

export interface PlannedInvalidFile {
  path: string;
  kind: ObjectKind;
  /** The id of the definition that stays in force (its last good version), if any. */
  keptId: string | null;
  problems: SpecProblem[];
}

export type ReconcileResult =
  | { ok: true; plan: SyncPlanWrite; changes: PlannedChange[]; invalid: PlannedInvalidFile[] }
  | { ok: false; reason: "prune_guard"; message: string; wouldArchive: PlannedChange[]; invalid: PlannedInvalidFile[] };

/** The actor name of a change made from a file at a commit. */
export function gitActor(path: string, commit: string | null): string {
  return commit === null ? `git:${path}` : `git:${path}@${commit}`;
}

export function reconcilePlan(input: PlanInput): ReconcileResult {
  const { snapshot, commit, at, trigger } = input;
  const upserts: ObjectUpsert[] = [];
  const archives: ObjectArchive[] = [];
  const stateEvents: StateEventInput[] = [];
  const changes: PlannedChange[] = [];
  const invalid: PlannedInvalidFile[] = [];
  const fileStates: FileStateWrite[] = [];
  const counts = { added: 0, changed: 0, archived: 0, restored: 0, invalid: 0, unchanged: 0 };
  /** Ids still declared by a file (valid or not): never archived. */
  const declared = new Set<string>();
  const isDeclared = (id: string): boolean => declared.has(id) || (input.scope?.isDeclared(id) ?? false);
  // A dependency's status: as stored, or 'planned' for a goal this sync adds (no intent completes a goal).
  const validIds = new Set(input.files.flatMap((f) => (f.ok && f.id !== undefined ? [f.id] : [])));
  const isValid = (id: string): boolean => validIds.has(id) || (input.scope?.isValid(id) ?? false);
  const statusOf = (id: string): GoalStatus | undefined => snapshot.objects.get(id)?.status ?? (isValid(id) ? "planned" : undefined);

  for (const file of input.files) {
    const kind = file.kind as ObjectKind;
    if (!file.ok) {
      // An invalid file keeps the last good version of what it declares (or declared) in force.
      const keptId = file.id ?? snapshot.files.get(file.path)?.objectId ?? null;
      if (keptId !== null) declared.add(keptId);
      const kept = keptId !== null && snapshot.objects.has(keptId) ? keptId : null;
      invalid.push({ path: file.path, kind, keptId: kept, problems: file.problems });
      fileStates.push({ path: file.path, kind, objectId: kept, hash: file.hash, syncState: "invalid", problems: file.problems, statSignature: input.signatures?.get(file.path) ?? null });
      counts.invalid++;
      continue;
    }
    const id = file.id as string;
    declared.add(id);
    fileStates.push({ path: file.path, kind, objectId: id, hash: file.hash, syncState: "synced", problems: [], statSignature: input.signatures?.get(file.path) ?? null });
    const existing = snapshot.objects.get(id);
    const actor = gitActor(file.path, commit);
    const intent = kind === "goal" ? ((file.data.status as StatusIntent | undefined) ?? null) : null;

    let change: PlannedChange["change"];
    if (existing === undefined) change = "added";
    else if (existing.archived) change = "restored";
    else if (existing.hash !== file.hash) change = "changed";
    else if (existing.path !== file.path) change = "moved";
    else {
      counts.unchanged++;
      continue;
    }
    if (change === "moved") counts.changed++;
    else counts[change]++;

    const upsert: ObjectUpsert = { kind, id, path: file.path, hash: file.hash, spec: file.data, change };
    const planned: PlannedChange = { kind, id, path: file.path, change };
    if (kind === "goal") {
      const transitions: { from: GoalStatus | null; to: GoalStatus }[] = [];
      let status: GoalStatus;
      if (existing === undefined) {
        status = "planned";
        transitions.push({ from: null, to: "planned" });
      } else if (existing.archived) {
        status = "planned";
        transitions.push({ from: "archived", to: "planned" });
      } else {
        status = existing.status as GoalStatus;
      }
      // Apply the intent when the goal is new or restored, or the file's intent changed since last applied.
      const wantsIntent = intent !== null && (existing === undefined || existing.archived || intent !== (existing.statusIntent ?? null));
      // Undefined leaves a recorded intent error as it is: the intent did not change, neither did its reachability.
      let intentError: string | null | undefined = wantsIntent ? null : undefined;
      let holdReason: string | undefined;
      if (wantsIntent && intent !== null) {
        let target: GoalStatus = intent;
        const unmet = intent === "active" ? unmetDependencies((file.data.dependencies as string[] | undefined) ?? [], statusOf) : [];
        if (unmet.length > 0) {
          // Active is asked for, but dependencies are not completed: held (or kept) blocked with the reason.
          target = "blocked";
          holdReason = `${dependencyBlockReason(unmet)} (status intent 'active' in ${file.path})`;
        }
        const path = target === status ? [] : pathToStatus(status, target);
        if (path === undefined) {
          intentError = `status intent '${intent}' cannot be reached from '${status}' (legal next states: ${TRANSITIONS[status].join(", ")})`;
        } else {
          for (const to of path) {
            transitions.push({ from: status, to });
            status = to;
          }
        }
      }
      transitions.forEach((t, i) => {
        const reason =
          i === 0 && change === "added" ? `created from ${file.path}`
          : i === 0 && change === "restored" ? `file ${file.path} restored`
          : t.to === "blocked" && holdReason !== undefined ? holdReason
          : `status intent '${intent}' in ${file.path}`;
        stateEvents.push({ goalId: id, from: t.from, to: t.to, actor, reason });
      });
      Object.assign(upsert, { status, expectedStatus: existing === undefined ? null : (existing.status ?? null), statusIntent: intent, intentError });
      if (transitions.length > 0) planned.transitions = transitions;
      if (typeof intentError === "string") planned.intentError = intentError;
    }
    upserts.push(upsert);
    changes.push(planned);
  }

  // Definitions whose file is gone: archived (goals through the state machine), history kept.
  let liveGoals = 0;
  const archivedGoals: PlannedChange[] = [];
  for (const object of snapshot.objects.values()) {
    if (object.archived) continue;
    if (object.kind === "goal") liveGoals++;
    if (isDeclared(object.id)) continue;
    const archive: ObjectArchive = { kind: object.kind, id: object.id, path: object.path };
    const planned: PlannedChange = { kind: object.kind, id: object.id, path: object.path, change: "archived" };
    if (object.kind === "goal") {
      const from = object.status as GoalStatus;
      archive.expectedStatus = from;
      stateEvents.push({ goalId: object.id, from, to: "archived", actor: gitActor(object.path, commit), reason: `file ${object.path} deleted` });
      planned.transitions = [{ from, to: "archived" }];
      archivedGoals.push(planned);
    }
    archives.push(archive);
    changes.push(planned);
    counts.archived++;
  }

  if (input.scope !== undefined) liveGoals = input.scope.liveGoals;
  // Guarded pruning: an empty or wrong checkout must not archive the whole tree.
  if (!input.allowPrune && archivedGoals.length >= 2 && archivedGoals.length > input.pruneLimit * liveGoals) {
    return {
      ok: false,
      reason: "prune_guard",
      message: `this sync would archive ${archivedGoals.length} of ${liveGoals} goals (more than ${Math.round(input.pruneLimit * 100)}%); if that is intended, run again with --allow-prune`,
      wouldArchive: archivedGoals,
      invalid,
    };
  }

  const present = new Set(input.files.map((f) => f.path));
  const removedFiles = [...snapshot.files.keys()].filter((p) => !present.has(p));
  // Unchanged files whose index entry is unchanged need no write; keep the plan small on re-syncs.
  const files = fileStates.filter((f) => {
    const before = snapshot.files.get(f.path);
    return before === undefined || before.hash !== f.hash || before.syncState !== f.syncState || f.syncState === "invalid" || before.objectId !== f.objectId || before.statSignature !== f.statSignature;
  });
  return {
    ok: true,
    plan: { trigger, commit, at, upserts, archives, stateEvents, files, removedFiles, counts },
    changes,
    invalid,
  };
}
