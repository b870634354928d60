/**
 * The rules of a project's registry, tickets and promotions: each takes the project's state and
 * a request as it arrived (a caller may send anything) and returns nothing, or why the request
 * is turned down. A request that names an environment the project does not have is `not-found`
 * (the API answers 404); any other is `refused` (409). Pure: the project workflow runs them in
 * its validators and again in its handlers.
 */
import { environmentNameProblem } from './environment-names';
import { notFound, refused, type Refusal } from './failure-types';
import { MAIN_BRANCHES } from './names';
import { activationRefusal, type DataRefreshRequest, type EnvironmentEntry, type ProjectState, type SshKeyRequest, type VariableChangeRequest } from './project';
import type { PromotionInput } from './promotion';
import type { TicketInput } from './tickets';

export interface BranchRequest {
  name: string;
  parent?: string;
  inactive?: boolean;
}
export interface EnvironmentRequest {
  name: string;
}
export type SshKeyTicketRequest = SshKeyRequest & Pick<TicketInput, 'roster' | 'expiresInMs' | 'remindBeforeMs'>;
export type PromoteRequest = Omit<PromotionInput, 'project' | 'source' | 'ticket' | 'requiredApprovals'>;

/**
 * What the registry rules read of a project. `entryOf` finds an environment by name; by default
 * only the registry's own keys name one (see `ownEntry`).
 */
export interface Registry extends Pick<ProjectState, 'project' | 'plan' | 'environments'> {
  entryOf?: (name: string) => EnvironmentEntry | undefined;
}

/** A request or signal that is an object at all (anything may arrive from outside). */
export const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;
const NOT_A_REQUEST = refused('a request must be an object such as {"name": "sprint-3"}');

/** The registry's entry of a name: its own keys only ("constructor" names no environment). */
export const ownEntry = (environments: Record<string, EnvironmentEntry>, name: string): EnvironmentEntry | undefined =>
  Object.prototype.hasOwnProperty.call(environments, name) ? environments[name] : undefined;

const entryOf = (reg: Registry, name: string): EnvironmentEntry | undefined =>
  reg.entryOf ? reg.entryOf(name) : ownEntry(reg.environments, name);

/** The entry of an environment that must exist, or why it does not. */
function existing(reg: Registry, name: string): EnvironmentEntry | Refusal {
  return entryOf(reg, name) ?? notFound(`no environment ${JSON.stringify(name)} in project ${reg.project}`);
}
const isRefusal = (x: EnvironmentEntry | Refusal): x is Refusal => 'kind' in x && 'message' in x;

/** Operations open to integration's children only. */
function childOnly(reg: Registry, name: string, what: string): Refusal | undefined {
  const e = existing(reg, name);
  if (isRefusal(e)) return e;
  switch (e.type) {
    case 'integration-child':
      return undefined;
    case 'integration':
      return refused(`integration cannot be ${what}: it is the base of every integration environment and always active`);
    case 'global-master':
      return refused(`master (Global Master) cannot be ${what}: it only receives production's code`);
    default:
      return refused(`${name} cannot be ${what}: its code arrives only by promotion (slipway promote ${reg.project} ${name})`);
  }
}

/** A project that is still being created takes no request. */
export function notReadyRefusal(state: Pick<ProjectState, 'project' | 'remote'>): Refusal | undefined {
  return state.remote === undefined ? refused(`project ${state.project} is still being created`) : undefined;
}

export function branchRefusal(reg: Registry, r: BranchRequest): Refusal | undefined {
  if (!isObject(r)) return NOT_A_REQUEST;
  const parent = r.parent ?? 'integration';
  const nameProblem = environmentNameProblem(r.name);
  if (nameProblem) return refused(nameProblem);
  if (entryOf(reg, r.name)) return refused(`environment ${r.name} exists already in project ${reg.project}`);
  const parentProblem = environmentNameProblem(parent);
  if (parentProblem) return refused(`--parent: ${parentProblem}`);
  const p = existing(reg, parent);
  if (isRefusal(p)) return p;
  if (p.type === 'global-master') return refused('nobody may branch from master (Global Master): branch from integration or one of its children');
  if (p.type === 'staging' || p.type === 'production') return refused(`branch from integration or one of its children, not from ${parent}`);
  if (p.branchDeleted) return refused(`the branch of ${parent} was deleted`);
  return r.inactive ? undefined : activation(reg);
}

const activation = (reg: Registry): Refusal | undefined => {
  const problem = activationRefusal(reg);
  return problem ? refused(problem) : undefined;
};

export function activateRefusal(reg: Registry, r: EnvironmentRequest): Refusal | undefined {
  if (!isObject(r)) return NOT_A_REQUEST;
  const e = existing(reg, r.name);
  if (isRefusal(e)) return e;
  if (e.type === 'integration') return refused('integration is always active');
  const child = childOnly(reg, r.name, 'activated or deactivated');
  if (child) return child;
  if (e.status === 'active') return refused(`${r.name} is active already`);
  if (e.branchDeleted) return refused(`the branch of ${r.name} was deleted; push it again first`);
  return activation(reg);
}

export function deactivateRefusal(reg: Registry, r: EnvironmentRequest): Refusal | undefined {
  if (!isObject(r)) return NOT_A_REQUEST;
  const e = existing(reg, r.name);
  if (isRefusal(e)) return e;
  if (e.type === 'integration') return refused('integration is always active: it cannot be deactivated');
  const child = childOnly(reg, r.name, 'activated or deactivated');
  if (child) return child;
  return e.status === 'inactive' ? refused(`${r.name} is inactive already`) : undefined;
}

export function deleteRefusal(reg: Registry, r: EnvironmentRequest): Refusal | undefined {
  if (!isObject(r)) return NOT_A_REQUEST;
  if ((MAIN_BRANCHES as readonly string[]).includes(r.name)) {
    return refused(`${r.name} cannot be deleted: every project keeps master, integration, staging and production`);
  }
  const child = childOnly(reg, r.name, 'deleted');
  if (child) return child;
  const children = Object.values(reg.environments).filter((e) => e.parent === r.name).map((e) => e.name);
  return children.length > 0 ? refused(`${r.name} has child environments (${children.join(', ')}); delete them first`) : undefined;
}

/** Sync (the parent's code into the child) or merge (the child's into its parent). */
export function syncRefusal(reg: Registry, r: EnvironmentRequest, op: 'synced' | 'merged'): Refusal | undefined {
  if (!isObject(r)) return NOT_A_REQUEST;
  const e = existing(reg, r.name);
  if (isRefusal(e)) return e;
  if (e.type === 'integration') return refused(`integration has no parent to be ${op} with`);
  const child = childOnly(reg, r.name, op);
  if (child) return child;
  if (e.branchDeleted) return refused(`the branch of ${r.name} was deleted`);
  return undefined;
}

export function sshKeyRefusal(state: Pick<ProjectState, 'sshKeys' | 'pendingSshKeys'>, r: SshKeyTicketRequest): Refusal | undefined {
  if (!isObject(r) || !Array.isArray(r.roster)) {
    return refused('an SSH-key request needs {environment, type, key, comment, fingerprint, requester, roster, expiresInMs, remindBeforeMs}');
  }
  if (r.environment !== 'staging' && r.environment !== 'production') {
    return refused(`SSH keys go through a ticket for staging and production only, not ${JSON.stringify(r.environment)}`);
  }
  if ((state.sshKeys?.[r.environment] ?? []).some((k) => k.fingerprint === r.fingerprint)) {
    return refused(`${r.environment} has the key ${r.fingerprint} already`);
  }
  const pending = Object.entries(state.pendingSshKeys ?? {}).find(([, k]) => k.environment === r.environment && k.fingerprint === r.fingerprint);
  if (pending) return refused(`the key ${r.fingerprint} waits for SUP-${pending[0]} already`);
  if (!r.roster.some((i) => i.user === r.requester)) return refused(`unknown user ${JSON.stringify(r.requester)}`);
  return undefined;
}

export interface SshKeyRemovalRequest {
  environment: string;
  fingerprint: string;
  requester: string;
  roster: TicketInput['roster'];
  expiresInMs: number;
  remindBeforeMs: number;
}

export function sshKeyRemovalRefusal(state: Pick<ProjectState, 'sshKeys' | 'pendingSshKeys'>, r: SshKeyRemovalRequest): Refusal | undefined {
  if (!isObject(r) || !Array.isArray(r.roster) || typeof r.fingerprint !== 'string') {
    return refused('an SSH-key removal needs {environment, fingerprint, requester, roster, expiresInMs, remindBeforeMs}');
  }
  if (r.environment !== 'staging' && r.environment !== 'production') {
    return refused(`SSH keys go through a ticket for staging and production only, not ${JSON.stringify(r.environment)}`);
  }
  if (!(state.sshKeys?.[r.environment] ?? []).some((k) => k.fingerprint === r.fingerprint)) return refused(`${r.environment} has no key ${r.fingerprint}`);
  const pending = Object.entries(state.pendingSshKeys ?? {}).find(([, k]) => k.environment === r.environment && k.fingerprint === r.fingerprint);
  if (pending) return refused(`the key ${r.fingerprint} waits for SUP-${pending[0]} already`);
  if (!r.roster.some((i) => i.user === r.requester)) return refused(`unknown user ${JSON.stringify(r.requester)}`);
  return undefined;
}

export type DataRefreshTicketRequest = DataRefreshRequest & Pick<TicketInput, 'roster' | 'expiresInMs' | 'remindBeforeMs'>;

export function dataRefreshRefusal(state: Pick<ProjectState, 'pendingDataRefreshes' | 'environments'>, r: DataRefreshTicketRequest): Refusal | undefined {
  if (!isObject(r) || !Array.isArray(r.roster)) return refused('a data refresh needs {environment, from, requester, roster, expiresInMs, remindBeforeMs}');
  if (r.environment !== 'staging' || r.from !== 'production') return refused("only staging's data is refreshed through a ticket, from production");
  for (const e of [r.environment, r.from]) if (!state.environments[e]?.started) return refused(`${e} has never been deployed: it has no data`);
  const pending = Object.entries(state.pendingDataRefreshes ?? {}).find(([, d]) => d.environment === r.environment);
  if (pending) return refused(`a refresh of ${r.environment}'s data waits for SUP-${pending[0]} already`);
  if (!r.roster.some((i) => i.user === r.requester)) return refused(`unknown user ${JSON.stringify(r.requester)}`);
  return undefined;
}

export type VariableTicketRequest = VariableChangeRequest & Pick<TicketInput, 'roster' | 'expiresInMs' | 'remindBeforeMs'>;

export function variableChangeRefusal(state: Pick<ProjectState, 'pendingVariables' | 'environments'>, r: VariableTicketRequest): Refusal | undefined {
  if (!isObject(r) || !Array.isArray(r.roster) || typeof r.name !== 'string' || typeof r.change !== 'string') {
    return refused('a variable-change request needs {environment, name, action, change, sensitive, valueChanged, requester, roster, expiresInMs, remindBeforeMs}');
  }
  if (r.environment !== 'staging' && r.environment !== 'production') {
    return refused(`variables change through a ticket on staging and production only, not ${JSON.stringify(r.environment)}`);
  }
  const pending = Object.entries(state.pendingVariables ?? {}).find(([, v]) => v.environment === r.environment && v.name === r.name);
  if (pending) return refused(`a change of ${r.name} on ${r.environment} waits for SUP-${pending[0]} already; decide or cancel it first`);
  if (!r.roster.some((i) => i.user === r.requester)) return refused(`unknown user ${JSON.stringify(r.requester)}`);
  return undefined;
}

export function promoteRefusal(state: Pick<ProjectState, 'openPromotions'>, r: PromoteRequest): Refusal | undefined {
  if (!isObject(r) || !Array.isArray(r.roster)) return refused('a promotion request needs {target, requester, release, roster, expiresInMs, remindBeforeMs}');
  if (r.target !== 'staging' && r.target !== 'production') return refused('a promotion goes to staging or production');
  const open = state.openPromotions?.[r.target];
  if (open !== undefined) return refused(`${r.target} has an open promotion already (SUP-${open}); decide or cancel it first`);
  const who = r.roster.find((i) => i.user === r.requester);
  if (!who) return refused(`unknown user ${JSON.stringify(r.requester)}`);
  if (!who.roles.includes('developer') && !who.roles.includes('admin')) {
    return refused(`${r.requester} may not ask for promotions (developer or admin role needed)`);
  }
  return undefined;
}
