/**
 * A project's entity workflow, id `project/<project>`: it creates the project's remote, owns
 * the environment registry (types, parents, active or inactive, the plan's limit), and routes
 * pushes to the environments' workflows. Every operation that can be refused is an Update with
 * a validator: the caller gets the reason at once and the registry does not change.
 */
import {
  ApplicationFailure,
  ParentClosePolicy,
  allHandlersFinished,
  condition,
  continueAsNew,
  defineQuery,
  defineSignal,
  defineUpdate,
  getExternalWorkflowHandle,
  patched,
  proxyActivities,
  setHandler,
  startChild,
  workflowInfo,
} from '@temporalio/workflow';
import { ACTIVITY_HEARTBEAT_TIMEOUT } from '../domain/activity-timeouts';
import type { EngineActivities } from '../activities';
import { environmentNameProblem } from '../domain/environment-names';
import { ZERO_COMMIT } from '../domain/git-refs';
import { environmentTypeOf, MAIN_BRANCHES, workflowIds } from '../domain/names';
import {
  activationRefusal,
  countActiveIntegration,
  PLANS,
  type BranchPush,
  type EnvironmentEntry,
  type ProjectInfo,
  type ProjectState,
  type SshKeyRequest,
} from '../domain/project';
import { SlipwayEnvironment, SlipwayKind, SlipwayProject, SlipwayTicketStatus } from '../domain/search-attributes';
import { environmentLifecycleSignal, environmentPushSignal, environmentWorkflow } from './environment';
import { promotionClosedSignal } from './project-signals';
import { promotionWorkflow } from './promotion';
import { ticketClosedSignal, ticketOutcomeSignal, ticketWorkflow } from './ticket';
import type { TicketInput } from '../domain/tickets';
import { PROMOTION_SOURCE, promotionWorkflowId, type PromotionInput } from '../domain/promotion';

/** Resolves once the project's remote exists; returns where it is. */
export const projectReadyUpdate = defineUpdate<ProjectInfo>('awaitReady');
export const projectInfoQuery = defineQuery<ProjectInfo | undefined>('project');
/** Sent by the remote's post-receive hook for every updated branch. */
export const branchPushedSignal = defineSignal<[BranchPush]>('branchPushed');

export interface BranchRequest {
  name: string;
  parent?: string;
  inactive?: boolean;
}
export interface EnvironmentRequest {
  name: string;
}
export interface MergeResult {
  environment: string;
  /** The branch that received the code and its new head. */
  target: string;
  commit: string;
  changed: boolean;
  /** The target deploys (it is active and its code changed). */
  deploys: boolean;
}

/** The next support ticket number of the project (SUP-<n>). */
export const allocateTicketUpdate = defineUpdate<{ number: number }>('allocateTicket');
export type SshKeyTicketRequest = SshKeyRequest & Pick<TicketInput, 'roster' | 'expiresInMs' | 'remindBeforeMs'>;
/** Opens a ticket to add an SSH public key to staging or production; recorded once approved. */
export const requestSshKeyUpdate = defineUpdate<{ ticket: string }, [SshKeyTicketRequest]>('requestSshKey');
export type PromoteRequest = Omit<PromotionInput, 'project' | 'source' | 'ticket' | 'requiredApprovals'>;
/** Starts a promotion to staging or production: one open at a time per target. */
export const promoteUpdate = defineUpdate<{ ticket: string; workflowId: string }, [PromoteRequest]>('promote');
export const branchUpdate = defineUpdate<EnvironmentEntry, [BranchRequest]>('branch');
export const activateUpdate = defineUpdate<EnvironmentEntry, [EnvironmentRequest]>('activate');
export const deactivateUpdate = defineUpdate<EnvironmentEntry, [EnvironmentRequest]>('deactivate');
export const deleteUpdate = defineUpdate<{ deleted: string }, [EnvironmentRequest]>('delete');
export const syncUpdate = defineUpdate<MergeResult, [EnvironmentRequest]>('sync');
export const mergeUpdate = defineUpdate<MergeResult, [EnvironmentRequest]>('merge');

const git = proxyActivities<EngineActivities>({
  startToCloseTimeout: '5 minutes',
  heartbeatTimeout: ACTIVITY_HEARTBEAT_TIMEOUT,
  retry: {
    initialInterval: '1s',
    maximumAttempts: 5,
    nonRetryableErrorTypes: ['SlipwayInvalidInput', 'SlipwayRefused', 'SlipwayMergeConflict'],
  },
});

const refuse = (message: string): ApplicationFailure => ApplicationFailure.create({ message, type: 'SlipwayRefused', nonRetryable: true });
const notFound = (message: string): ApplicationFailure => ApplicationFailure.create({ message, type: 'SlipwayNotFound', nonRetryable: true });
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;
/** Names such as "constructor" are keys of every JS object; since this patch they name no environment. */
const OWN_NAMES_PATCH = 'environment-names-are-own-keys';

export async function projectWorkflow(initial: ProjectState): Promise<void> {
  const state = initial;
  const inbox: BranchPush[] = [];
  /** Outcomes to tell closed tickets (sent from the main loop: signals cannot be awaited in handlers). */
  const outbox: Array<{ ticket: number; outcome: string }> = [];

  const info = (): ProjectInfo | undefined =>
    state.remote === undefined
      ? undefined
      : {
          project: state.project,
          plan: state.plan,
          productionApprovals: state.productionApprovals ?? 1,
          remote: state.remote,
          environments: Object.values(state.environments),
          activeIntegration: countActiveIntegration(state.environments),
          activeIntegrationLimit: PLANS[state.plan].activeIntegrationLimit,
          sshKeys: state.sshKeys ?? {},
        };
  setHandler(projectInfoQuery, info);
  setHandler(projectReadyUpdate, async () => {
    await condition(() => state.remote !== undefined);
    return info()!;
  });
  setHandler(branchPushedSignal, (push) => {
    if (isObject(push)) inbox.push(push); // anything else (a hand-made signal) names no branch
  });
  // ---- Rules: each returns the reason for a refusal, or nothing. ----
  const ready = (): string | undefined => (state.remote === undefined ? `project ${state.project} is still being created` : undefined);
  /** True while a validator runs: it may not call patched(). */
  let validating = false;
  /**
   * The registry's entry of a name. An inherited key ("constructor") was taken for an
   * environment before OWN_NAMES_PATCH; histories made then replay as they ran.
   */
  const entryOf = (name: string): EnvironmentEntry | undefined => {
    if (Object.prototype.hasOwnProperty.call(state.environments, name)) return state.environments[name];
    if (!(name in state.environments) || validating || patched(OWN_NAMES_PATCH)) return undefined;
    return state.environments[name];
  };
  const existing = (name: string): EnvironmentEntry | string => {
    const entry = entryOf(name);
    return entry ?? `no environment ${JSON.stringify(name)} in project ${state.project}`;
  };
  const NOT_A_REQUEST = 'a request must be an object such as {"name": "sprint-3"}';
  const childOnly = (name: string, what: string): string | undefined => {
    const e = existing(name);
    if (typeof e === 'string') return e;
    switch (e.type) {
      case 'integration-child':
        return undefined;
      case 'integration':
        return `integration cannot be ${what}: it is the base of every integration environment and always active`;
      case 'global-master':
        return `master (Global Master) cannot be ${what}: it only receives production's code`;
      default:
        return `${name} cannot be ${what}: its code arrives only by promotion (slipway promote ${state.project} ${name})`;
    }
  };
  const branchRefusal = (r: BranchRequest): string | undefined => {
    if (!isObject(r)) return NOT_A_REQUEST;
    const parent = r.parent ?? 'integration';
    const nameProblem = environmentNameProblem(r.name);
    if (nameProblem) return nameProblem;
    if (entryOf(r.name)) return `environment ${r.name} exists already in project ${state.project}`;
    const parentProblem = environmentNameProblem(parent);
    if (parentProblem) return `--parent: ${parentProblem}`;
    const p = existing(parent);
    if (typeof p === 'string') return p;
    if (p.type === 'global-master') return 'nobody may branch from master (Global Master): branch from integration or one of its children';
    if (p.type === 'staging' || p.type === 'production') return `branch from integration or one of its children, not from ${parent}`;
    if (p.branchDeleted) return `the branch of ${parent} was deleted`;
    return r.inactive ? undefined : activationRefusal(state);
  };
  const activateRefusal = (r: EnvironmentRequest): string | undefined => {
    if (!isObject(r)) return NOT_A_REQUEST;
    const e = existing(r.name);
    if (typeof e === 'string') return e;
    if (e.type === 'integration') return 'integration is always active';
    const child = childOnly(r.name, 'activated or deactivated');
    if (child) return child;
    if (e.status === 'active') return `${r.name} is active already`;
    if (e.branchDeleted) return `the branch of ${r.name} was deleted; push it again first`;
    return activationRefusal(state);
  };
  const deactivateRefusal = (r: EnvironmentRequest): string | undefined => {
    if (!isObject(r)) return NOT_A_REQUEST;
    const e = existing(r.name);
    if (typeof e === 'string') return e;
    if (e.type === 'integration') return 'integration is always active: it cannot be deactivated';
    const child = childOnly(r.name, 'activated or deactivated');
    if (child) return child;
    return e.status === 'inactive' ? `${r.name} is inactive already` : undefined;
  };
  const deleteRefusal = (r: EnvironmentRequest): string | undefined => {
    if (!isObject(r)) return NOT_A_REQUEST;
    if ((MAIN_BRANCHES as readonly string[]).includes(r.name)) return `${r.name} cannot be deleted: every project keeps master, integration, staging and production`;
    const child = childOnly(r.name, 'deleted');
    if (child) return child;
    const children = Object.values(state.environments).filter((e) => e.parent === r.name).map((e) => e.name);
    return children.length > 0 ? `${r.name} has child environments (${children.join(', ')}); delete them first` : undefined;
  };
  const syncRefusal = (r: EnvironmentRequest, op: 'synced' | 'merged'): string | undefined => {
    if (!isObject(r)) return NOT_A_REQUEST;
    const e = existing(r.name);
    if (typeof e === 'string') return e;
    if (e.type === 'integration') return `integration has no parent to be ${op} with`;
    const child = childOnly(r.name, op);
    if (child) return child;
    if (e.branchDeleted) return `the branch of ${r.name} was deleted`;
    return undefined;
  };
  const validate = (rule: () => string | undefined): void => {
    const notReady = ready();
    if (notReady) throw refuse(notReady);
    validating = true;
    let problem: string | undefined;
    try {
      problem = rule();
    } finally {
      validating = false;
    }
    // What does not exist is told apart from what is refused (the API answers 404, not 409).
    if (problem) throw /^no environment /.test(problem) ? notFound(problem) : refuse(problem);
  };
  /** Handlers check again before they change anything: updates may have been accepted together. */
  const recheck = (problem: string | undefined): void => {
    if (problem) throw refuse(problem);
  };

  // Handlers are registered only below this line: an Update buffered before this run started
  // (e.g. across continue-as-new) is delivered the moment its handler is set, and its validator
  // needs the rules above to exist.
  const sshKeyRefusal = (r: SshKeyTicketRequest): string | undefined => {
    if (!isObject(r) || !Array.isArray(r.roster)) return 'an SSH-key request needs {environment, type, key, comment, fingerprint, requester, roster, expiresInMs, remindBeforeMs}';
    if (r.environment !== 'staging' && r.environment !== 'production') {
      return `SSH keys go through a ticket for staging and production only, not ${JSON.stringify(r.environment)}`;
    }
    if ((state.sshKeys?.[r.environment] ?? []).some((k) => k.fingerprint === r.fingerprint)) {
      return `${r.environment} has the key ${r.fingerprint} already`;
    }
    const pending = Object.entries(state.pendingSshKeys ?? {}).find(([, k]) => k.environment === r.environment && k.fingerprint === r.fingerprint);
    if (pending) return `the key ${r.fingerprint} waits for SUP-${pending[0]} already`;
    if (!r.roster.some((i) => i.user === r.requester)) return `unknown user ${JSON.stringify(r.requester)}`;
    return undefined;
  };
  setHandler(
    requestSshKeyUpdate,
    async (r) => {
      recheck(sshKeyRefusal(r));
      const number = state.nextTicket ?? 1;
      state.nextTicket = number + 1;
      const { roster, expiresInMs, remindBeforeMs, ...key } = r;
      (state.pendingSshKeys ??= {})[String(number)] = key;
      await startChild(ticketWorkflow, {
        workflowId: workflowIds.ticket(state.project, number),
        args: [
          {
            project: state.project,
            number,
            kind: 'ssh-key',
            target: r.environment as 'staging' | 'production',
            requester: r.requester,
            title: `Add SSH key ${r.fingerprint} (${r.comment || r.type}) to ${r.environment}`,
            requiredApprovals: 1,
            expiresInMs,
            remindBeforeMs,
            roster,
            payload: { key: r.key, fingerprint: r.fingerprint },
          },
        ],
        parentClosePolicy: ParentClosePolicy.ABANDON,
        staticSummary: `SUP-${number}: add an SSH key to ${state.project} ${r.environment}, requested by ${r.requester}`,
        typedSearchAttributes: [
          { key: SlipwayProject, value: state.project },
          { key: SlipwayKind, value: 'ticket' },
          { key: SlipwayTicketStatus, value: 'open' },
        ],
      });
      return { ticket: `SUP-${number}` };
    },
    { validator: (r: SshKeyTicketRequest) => validate(() => sshKeyRefusal(r)) },
  );
  /** An SSH-key ticket closed: the key is recorded only if it was approved. */
  setHandler(ticketClosedSignal, (t) => {
    if (!isObject(t)) return;
    const key = state.pendingSshKeys?.[String(t.number)];
    if (!key || t.kind !== 'ssh-key') return;
    delete state.pendingSshKeys![String(t.number)];
    if (t.status === 'approved') {
      ((state.sshKeys ??= {})[key.environment] ??= []).push({
        ...key,
        ticket: t.id,
        approvedBy: t.approvals.map((a) => a.user),
        addedAt: Date.now(),
      });
      outbox.push({ ticket: t.number, outcome: `key ${key.fingerprint} added to ${key.environment}` });
    }
  });
  setHandler(promotionClosedSignal, (closed) => {
    if (!isObject(closed)) return;
    const { target, ticket } = closed;
    if (state.openPromotions?.[target] === ticket) delete state.openPromotions[target];
  });
  const promoteRefusal = (r: PromoteRequest): string | undefined => {
    if (!isObject(r) || !Array.isArray(r.roster)) return 'a promotion request needs {target, requester, release, roster, expiresInMs, remindBeforeMs}';
    if (r.target !== 'staging' && r.target !== 'production') return 'a promotion goes to staging or production';
    const open = state.openPromotions?.[r.target];
    if (open !== undefined) return `${r.target} has an open promotion already (SUP-${open}); decide or cancel it first`;
    const who = r.roster.find((i) => i.user === r.requester);
    if (!who) return `unknown user ${JSON.stringify(r.requester)}`;
    if (!who.roles.includes('developer') && !who.roles.includes('admin')) return `${r.requester} may not ask for promotions (developer or admin role needed)`;
    return undefined;
  };
  setHandler(
    promoteUpdate,
    async (r) => {
      recheck(promoteRefusal(r));
      const target = r.target;
      const number = state.nextTicket ?? 1;
      state.nextTicket = number + 1;
      (state.openPromotions ??= {})[target] = number;
      const entry = state.environments[target]!;
      if (!entry.started) {
        entry.started = true;
        await startEnvironment(target);
      }
      entry.status = 'active';
      const workflowId = promotionWorkflowId(state.project, target, number);
      await startChild(promotionWorkflow, {
        workflowId,
        args: [
          {
            ...r,
            project: state.project,
            source: PROMOTION_SOURCE[target],
            ticket: number,
            // The project's plan setting, not the caller's word.
            requiredApprovals: target === 'production' ? (state.productionApprovals ?? 1) : 1,
          },
        ],
        parentClosePolicy: ParentClosePolicy.ABANDON,
        staticSummary: `Promote ${state.project} ${PROMOTION_SOURCE[target]} to ${target} (SUP-${number}), requested by ${r.requester}`,
        typedSearchAttributes: [
          { key: SlipwayProject, value: state.project },
          { key: SlipwayEnvironment, value: target },
          { key: SlipwayKind, value: 'promotion' },
        ],
      });
      return { ticket: `SUP-${number}`, workflowId };
    },
    { validator: (r: PromoteRequest) => validate(() => promoteRefusal(r)) },
  );
  setHandler(
    allocateTicketUpdate,
    () => {
      const number = state.nextTicket ?? 1;
      state.nextTicket = number + 1;
      return { number };
    },
    { validator: () => validate(() => undefined) },
  );

  const startOrActivate = async (entry: EnvironmentEntry): Promise<void> => {
    if (!entry.started) {
      entry.started = true;
      await startEnvironment(entry.name, { commit: '', pushedAt: Date.now() });
    } else {
      await getExternalWorkflowHandle(workflowIds.environment(state.project, entry.name)).signal(environmentLifecycleSignal, 'activate');
    }
  };
  const lifecycle = async (entry: EnvironmentEntry, action: 'deactivate' | 'retire'): Promise<void> => {
    if (entry.started) {
      await getExternalWorkflowHandle(workflowIds.environment(state.project, entry.name)).signal(environmentLifecycleSignal, action);
    }
  };
  const merge = async (source: string, target: string, environment: string, message: string): Promise<MergeResult> => {
    const result = await git.mergeBranch.executeWithOptions({ summary: `merge ${source} into ${target}` }, [
      { project: state.project, source, target, message },
    ]);
    const deploys = result.changed && state.environments[target]?.status === 'active';
    return { environment, target, commit: result.commit, changed: result.changed, deploys };
  };

  setHandler(
    branchUpdate,
    async (r) => {
      recheck(branchRefusal(r));
      const parent = r.parent ?? 'integration';
      const entry: EnvironmentEntry = {
        name: r.name,
        type: 'integration-child',
        parent,
        status: r.inactive ? 'inactive' : 'active',
        host: state.environments[parent]?.host ?? state.host,
      };
      state.environments[r.name] = entry; // the slot is taken now, before anything is awaited
      try {
        await git.createBranch.executeWithOptions({ summary: `branch ${r.name} from ${parent}` }, [
          { project: state.project, name: r.name, from: parent },
        ]);
      } catch (err) {
        delete state.environments[r.name];
        throw err;
      }
      if (!r.inactive) await startOrActivate(entry);
      return { ...entry };
    },
    { validator: (r: BranchRequest) => validate(() => branchRefusal(r)) },
  );

  setHandler(
    activateUpdate,
    async (r) => {
      recheck(activateRefusal(r));
      const entry = state.environments[r.name]!;
      entry.status = 'active';
      await startOrActivate(entry);
      return { ...entry };
    },
    { validator: (r: EnvironmentRequest) => validate(() => activateRefusal(r)) },
  );

  setHandler(
    deactivateUpdate,
    async (r) => {
      recheck(deactivateRefusal(r));
      const entry = state.environments[r.name]!;
      entry.status = 'inactive';
      await lifecycle(entry, 'deactivate');
      return { ...entry };
    },
    { validator: (r: EnvironmentRequest) => validate(() => deactivateRefusal(r)) },
  );

  setHandler(
    deleteUpdate,
    async (r) => {
      recheck(deleteRefusal(r));
      const entry = state.environments[r.name]!;
      delete state.environments[r.name];
      await lifecycle(entry, 'retire');
      await git.deleteBranch.executeWithOptions({ summary: `delete branch ${r.name}` }, [{ project: state.project, name: r.name }]);
      return { deleted: r.name };
    },
    { validator: (r: EnvironmentRequest) => validate(() => deleteRefusal(r)) },
  );

  setHandler(
    syncUpdate,
    async (r) => {
      recheck(syncRefusal(r, 'synced'));
      const parent = state.environments[r.name]!.parent!;
      return merge(parent, r.name, r.name, `Sync ${r.name} with ${parent}`);
    },
    { validator: (r: EnvironmentRequest) => validate(() => syncRefusal(r, 'synced')) },
  );

  setHandler(
    mergeUpdate,
    async (r) => {
      recheck(syncRefusal(r, 'merged'));
      const parent = state.environments[r.name]!.parent!;
      return merge(r.name, parent, r.name, `Merge ${r.name} into ${parent}`);
    },
    { validator: (r: EnvironmentRequest) => validate(() => syncRefusal(r, 'merged')) },
  );

  if (state.remote === undefined) {
    const created = await git.createProjectRemote.executeWithOptions({ summary: 'create the Git remote' }, [
      { project: state.project, from: state.from },
    ]);
    for (const branch of MAIN_BRANCHES) {
      state.environments[branch] = {
        name: branch,
        type: environmentTypeOf(branch),
        status: branch === 'integration' ? 'active' : 'inactive',
        host: state.host,
      };
    }
    state.initialCommit = created.commit;
    state.environments.integration!.started = true;
    await startEnvironment('integration', { commit: created.commit, pushedAt: Date.now() });
    state.remote = created.remote;
  }

  for (;;) {
    await condition(() => inbox.length > 0 || outbox.length > 0 || workflowInfo().continueAsNewSuggested);
    const told = outbox.shift();
    if (told) {
      await getExternalWorkflowHandle(workflowIds.ticket(state.project, told.ticket)).signal(ticketOutcomeSignal, { outcome: told.outcome });
      continue;
    }
    if (inbox.length === 0) {
      await condition(allHandlersFinished);
      await continueAsNew<typeof projectWorkflow>(state);
    }
    const push = inbox.shift()!;
    await routePush(push);
  }

  /** What a push means: a deployment, a new inactive environment, or a deactivation. */
  async function routePush(push: BranchPush): Promise<void> {
    const env = entryOf(push.branch);
    const deleted = push.after === ZERO_COMMIT;
    if (!env) {
      if (deleted || environmentNameProblem(push.branch)) return;
      // A new branch: an inactive child of integration (it takes no slot until activated).
      state.environments[push.branch] = {
        name: push.branch,
        type: 'integration-child',
        parent: 'integration',
        status: 'inactive',
        host: state.environments.integration?.host ?? state.host,
      };
      return;
    }
    if (deleted) {
      if (env.type === 'integration-child') {
        env.branchDeleted = true;
        if (env.status === 'active') {
          env.status = 'inactive';
          await lifecycle(env, 'deactivate');
        }
      }
      return;
    }
    env.branchDeleted = undefined;
    // A push the client delivered to the environment itself is not forwarded again.
    if (env.status === 'active' && env.started && push.delivered !== true) {
      await getExternalWorkflowHandle(workflowIds.environment(state.project, push.branch)).signal(environmentPushSignal, {
        commit: push.after,
        pushedAt: push.pushedAt,
      });
    }
  }

  async function startEnvironment(name: string, pending?: { commit: string; pushedAt: number }): Promise<void> {
    const entry = state.environments[name]!;
    await startChild(environmentWorkflow, {
      workflowId: workflowIds.environment(state.project, name),
      args: [
        {
          project: state.project,
          environment: name,
          branch: name,
          host: entry.host,
          nextDeployment: 1,
          deployments: [],
          requests: [],
          pending,
        },
      ],
      parentClosePolicy: ParentClosePolicy.ABANDON,
      staticSummary: `Environment ${name} of ${state.project} (${entry.type}${entry.parent ? `, child of ${entry.parent}` : ''})`,
      typedSearchAttributes: [
        { key: SlipwayProject, value: state.project },
        { key: SlipwayEnvironment, value: name },
        { key: SlipwayKind, value: 'environment' },
      ],
    });
  }
}
