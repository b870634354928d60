/** A project: its plan, its remote and its environment registry. */
import type { AnsweredUpdate } from './answered-updates';
import type { EnvironmentType } from './names';
import type { Role } from './tickets';

export const PLANS = { pro: { activeIntegrationLimit: 5 }, enterprise: { activeIntegrationLimit: 8 } } as const;
export type Plan = keyof typeof PLANS;

export interface EnvironmentEntry {
  name: string;
  type: EnvironmentType;
  parent?: string;
  status: 'active' | 'inactive';
  /** The first of its hosts (the one that runs its single-host steps); every environment has one. */
  host: string;
  /**
   * Every host that serves it, `host` first (staging and production on dedicated hosts,
   * production on several). Absent (state before multi-host): `host` alone.
   */
  hosts?: string[];
  /** Its entity workflow has been started (on first activation). */
  started?: boolean;
  /** The branch was deleted by a push: the environment keeps its record, not its code. */
  branchDeleted?: boolean;
}

export interface ProjectState {
  project: string;
  plan: Plan;
  /** Distinct approvals a promotion to production needs (plan setting: 1, or 2 for the two-person rule). */
  productionApprovals?: 1 | 2;
  from: string;
  /** The host of every environment when the project names no `hosts` (`project create --host`). */
  host: string;
  /**
   * The plan's hosts per kind of environment (`project create --hosts production=web2,web3`):
   * integration and its branches on shared hosts, staging and production on dedicated ones.
   * Absent (state before multi-host, or `--host` alone): every environment on `host`.
   */
  hosts?: ProjectHosts;
  /** Seconds a step bound to a host may wait for the host to take it (absent: DEFAULT_HOST_START_TIMEOUT_SECONDS). */
  hostStartTimeout?: number;
  remote?: string;
  initialCommit?: string;
  environments: Record<string, EnvironmentEntry>;
  /** The number the next support ticket (SUP-<n>) gets. */
  nextTicket?: number;
  /** Open promotions by target: the ticket number. One at a time per target. */
  openPromotions?: Record<string, number>;
  /** SSH keys recorded per environment (after an approved ticket). */
  sshKeys?: Record<string, SshKeyRecord[]>;
  /** SSH-key tickets still open, by ticket number. */
  pendingSshKeys?: Record<string, SshKeyRequest>;
  /** Data-refresh tickets still open, by ticket number: the environment and where its data comes from. */
  pendingDataRefreshes?: Record<string, DataRefreshRequest>;
  /** Variable-change tickets still open, by ticket number (no value: it waits in the variable store). */
  pendingVariables?: Record<string, VariableChangeRequest>;
  /** The last Updates answered, by Update ID: a repeat after continue-as-new gets the same answer. */
  answeredUpdates?: AnsweredUpdate[];
}

/** Staging's data refreshed from production, asked for through a ticket. */
export interface DataRefreshRequest {
  environment: 'staging';
  from: 'production';
  requester: string;
}

/** A change of a staging or production variable, asked for through a ticket. */
export interface VariableChangeRequest {
  environment: string;
  name: string;
  action: 'set' | 'unset';
  /** The id of the change staged in the variable store (src/variables/store.ts). */
  change: string;
  sensitive: boolean;
  /** Whether the value differs from the one set now (a sensitive value is never shown). */
  valueChanged: boolean;
  requester: string;
}

export interface SshKeyRequest {
  /** Absent: add (the first form); remove: the key is taken away once approved. */
  action?: 'add' | 'remove';
  environment: string;
  type: string;
  key: string;
  comment: string;
  fingerprint: string;
  requester: string;
}

export interface SshKeyRecord extends SshKeyRequest {
  ticket: string;
  approvedBy: string[];
  addedAt: number;
}

/** The kinds of environment a project's plan assigns hosts to (master is never served). */
export const HOST_ROLES = ['integration', 'staging', 'production'] as const;
export type HostRole = (typeof HOST_ROLES)[number];
/** Which hosts serve which kind of environment, each list non-empty, its first host first. */
export type ProjectHosts = Record<HostRole, string[]>;

/** The kind of hosts an environment of this type runs on: integration's branches share integration's. */
export const hostRoleOf = (type: EnvironmentType): HostRole => (type === 'staging' || type === 'production' ? type : 'integration');

/** The project's hosts per kind, `host` for every kind when it names none. */
export function projectHosts(state: Pick<ProjectState, 'host' | 'hosts'>): ProjectHosts {
  return state.hosts ?? { integration: [state.host], staging: [state.host], production: [state.host] };
}

/** Every host of an environment (entry or state), the first one first. */
export const hostsOf = (e: { host: string; hosts?: string[] }): string[] => (e.hosts && e.hosts.length > 0 ? e.hosts : [e.host]);

/**
 * The host fields of a new environment's entry of this kind: `hosts` only when the project
 * names hosts, so that a project created with `--host` alone keeps the state it always had.
 */
export function hostFieldsFor(state: Pick<ProjectState, 'host' | 'hosts'>, role: HostRole): { host: string; hosts?: string[] } {
  if (!state.hosts) return { host: state.host };
  const hosts = state.hosts[role];
  return { host: hosts[0]!, hosts: [...hosts] };
}

export interface ProjectInfo {
  project: string;
  plan: Plan;
  /** Which hosts serve integration (shared), staging and production (dedicated). */
  hosts: ProjectHosts;
  productionApprovals: 1 | 2;
  remote: string;
  /**
   * The remote over Git smart HTTP (`<API>/git/<project>.git`, token as password), when an API
   * runs for this data directory: added by the client from the advertised API address, never
   * by the workflow.
   */
  httpRemote?: string;
  environments: EnvironmentEntry[];
  /** Active integration environments (integration and its children) and the plan's limit. */
  activeIntegration: number;
  activeIntegrationLimit: number;
  sshKeys: Record<string, SshKeyRecord[]>;
}

/** A project in a list: its id and the roles the one who asks holds there. */
export interface ProjectSummary {
  project: string;
  roles: Role[];
}

/** Active integration environments: what the plan limits. */
export function countActiveIntegration(envs: Record<string, EnvironmentEntry>): number {
  return Object.values(envs).filter(
    (e) => e.status === 'active' && (e.type === 'integration' || e.type === 'integration-child'),
  ).length;
}

/** The reason an environment cannot be made active now, if any. */
export function activationRefusal(state: Pick<ProjectState, 'plan' | 'environments' | 'project'>): string | undefined {
  const limit = PLANS[state.plan].activeIntegrationLimit;
  const active = countActiveIntegration(state.environments);
  if (active >= limit) {
    return `plan ${state.plan} allows ${limit} active integration environments (integration included) and ${state.project} has ${active}; deactivate one first, or create this one with --inactive`;
  }
  return undefined;
}

export type EnvironmentOperation = 'branch' | 'activate' | 'deactivate' | 'delete' | 'sync' | 'merge';

/** What the remote's post-receive hook reports for one updated ref. */
export interface BranchPush {
  branch: string;
  before: string;
  after: string;
  pushedAt: number;
  /**
   * True when the engine's client has already handed the push to the environment's own
   * workflow (an existing environment, a new commit): the project then only keeps its
   * records and does not forward it a second time.
   */
  delivered?: boolean;
}
