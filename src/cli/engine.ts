/**
 * How a command reaches the engine, and as whom.
 * - Through the HTTP API when SLIPWAY_API_URL is set: the user is the one whose token is in
 *   SLIPWAY_TOKEN, and the API checks their roles on every project. `--as` is refused.
 * - Else on the engine host, through Temporal directly: shell access there already means
 *   operator, and `--as <user>` names who asks for a promotion or decides a ticket.
 */
import * as os from 'node:os';
import { ApiClient, type StartedPromotion, type VariableRequest } from '../client-lib/api-client';
import type { VariableChangeResult } from '../client-lib/variables';
import type { WaitOptions } from '../client-lib/deployments';
import type { PromotionProgress } from '../client-lib/promotions';
import type { SlipwayClient } from '../client';
import type { CronStatus } from '../domain/crons';
import type { DeploymentRecord, EnvironmentStatus } from '../domain/environment';
import type { HostLiveness } from '../domain/hosts';
import type { EnvironmentEntry, ProjectInfo, ProjectSummary } from '../domain/project';
import type { PromotionResult } from '../domain/promotion';
import type { TicketRecord } from '../domain/tickets';
import type { VariableView } from '../domain/variables';
import { SlipwayError } from '../errors';
import type { DeploymentProgress } from '../workflows/deployment';
import type { MergeResult } from '../workflows/project';

/** What the commands developers and support engineers use need of the engine. */
export interface Engine {
  /** Through the API (as the token's user), or on the engine host. */
  readonly remote: boolean;
  listProjects(): Promise<ProjectSummary[]>;
  project(project: string): Promise<ProjectInfo>;
  branch(project: string, request: { name: string; parent?: string; inactive?: boolean }): Promise<EnvironmentEntry>;
  activate(project: string, name: string): Promise<EnvironmentEntry>;
  deactivate(project: string, name: string): Promise<EnvironmentEntry>;
  deleteEnvironment(project: string, name: string): Promise<{ deleted: string }>;
  sync(project: string, name: string): Promise<MergeResult>;
  merge(project: string, name: string): Promise<MergeResult>;
  /** With the liveness of the environment's host. */
  environmentStatus(project: string, environment: string): Promise<EnvironmentStatus>;
  /** Every host that has run a worker, with its liveness. */
  listHosts(): Promise<HostLiveness[]>;
  crons(project: string, environment: string): Promise<CronStatus[]>;
  redeploy(project: string, environment: string): Promise<{ deployment: number }>;
  rollback(project: string, environment: string, to?: number, withData?: boolean): Promise<{ deployment: number }>;
  /** The current release deployed again with the parent's database and mounts. */
  syncData(project: string, environment: string): Promise<{ deployment: number }>;
  /** A ticket to refresh the environment's data from another (staging from production). */
  requestDataRefresh(project: string, environment: string, from: string): Promise<{ ticket: string }>;
  cancelDeployment(project: string, environment: string): Promise<DeploymentRecord>;
  deploymentProgress(project: string, environment: string, n: number): Promise<DeploymentProgress>;
  deploymentLog(project: string, environment: string, n: number): Promise<string>;
  waitForDeployment(project: string, environment: string, options?: WaitOptions): Promise<DeploymentRecord>;
  promote(project: string, target: string, options?: { withData?: boolean }): Promise<StartedPromotion>;
  waitForPromotion(started: StartedPromotion, onProgress?: (p: PromotionProgress) => void): Promise<PromotionResult>;
  listTickets(project: string, options?: { open?: boolean }): Promise<TicketRecord[]>;
  ticket(project: string, ticket: string): Promise<TicketRecord>;
  decide(project: string, ticket: string, request: { decision: 'approve' | 'reject'; comment?: string }): Promise<TicketRecord>;
  /** Variables (`env var …`, `project var …`): changed as the token's user, or on the engine host as --as (else cli:<login>). */
  setEnvironmentVariable(project: string, environment: string, request: VariableRequest): Promise<VariableChangeResult>;
  unsetEnvironmentVariable(project: string, environment: string, name: string): Promise<VariableChangeResult>;
  environmentVariables(project: string, environment: string): Promise<VariableView[]>;
  environmentVariable(project: string, environment: string, name: string): Promise<VariableView>;
  setProjectVariable(project: string, request: VariableRequest): Promise<{ applied: true; deployments: number[] }>;
  unsetProjectVariable(project: string, name: string): Promise<{ applied: true; deployments: number[] }>;
  projectVariables(project: string): Promise<VariableView[]>;
  projectVariable(project: string, name: string): Promise<VariableView>;
}

export const AS_REFUSED =
  '--as is accepted only on the engine host: through the API (SLIPWAY_API_URL) you act as the user whose token is in SLIPWAY_TOKEN';

/** The API's address and token from the environment, or nothing when the CLI runs on the engine host. */
export function apiFromEnvironment(env: NodeJS.ProcessEnv = process.env): ApiClient | undefined {
  const url = env.SLIPWAY_API_URL;
  if (!url) return undefined;
  return new ApiClient(url, env.SLIPWAY_TOKEN ?? '');
}

/** Through the API: the token's user. */
export function throughApi(api: ApiClient, as: string | undefined): Engine {
  if (as !== undefined) throw new SlipwayError(AS_REFUSED, 2);
  return Object.assign(api, { remote: true as const });
}

/** On the engine host: the Temporal client itself, acting as `as` where a user is needed. */
export function onEngineHost(client: SlipwayClient, as: string | undefined): Engine {
  const who = (what: string): string => {
    if (as === undefined) throw new SlipwayError(`${what} needs --as <user> on the engine host (through the API, SLIPWAY_TOKEN says who you are)`, 2);
    return as;
  };
  /** Who changes a variable: --as, else the login on the engine host (a ticket needs a known user: --as). */
  const changer = (): string => as ?? `cli:${os.userInfo().username}`;
  return {
    remote: false,
    listProjects: () => client.listProjects(),
    project: (p) => client.project(p),
    branch: (p, r) => client.branch(p, r),
    activate: (p, e) => client.activate(p, e),
    deactivate: (p, e) => client.deactivate(p, e),
    deleteEnvironment: (p, e) => client.deleteEnvironment(p, e),
    sync: (p, e) => client.sync(p, e),
    merge: (p, e) => client.merge(p, e),
    environmentStatus: (p, e) => client.environmentStatus(p, e, { host: true }),
    listHosts: () => client.listHosts(),
    crons: (p, e) => client.crons(p, e),
    redeploy: (p, e) => client.redeploy(p, e),
    rollback: (p, e, to, withData) => client.rollback(p, e, to, withData),
    syncData: (p, e) => client.syncData(p, e),
    requestDataRefresh: (p, e, from) => client.requestDataRefresh(p, e, from, who('a data refresh ticket')),
    cancelDeployment: (p, e) => client.cancelDeployment(p, e),
    deploymentProgress: (p, e, n) => client.deploymentProgress(p, e, n),
    deploymentLog: (p, e, n) => Promise.resolve().then(() => client.deploymentLog(p, e, n)),
    waitForDeployment: (p, e, o) => client.waitForDeployment(p, e, o),
    promote: async (p, target, options) => ({ project: p, ...(await client.promote(p, target, who('promote'), options ?? {})) }),
    waitForPromotion: (started, onProgress) => client.waitForPromotion(started.workflowId, onProgress),
    listTickets: (p, o) => client.listTickets(p, o),
    ticket: (p, t) => client.ticket(p, t),
    decide: (p, t, r) => client.decide(p, t, { ...r, user: who(`deciding ${t}`) }),
    setEnvironmentVariable: (p, e, r) => client.setEnvironmentVariable(p, e, { ...r, by: changer() }),
    unsetEnvironmentVariable: (p, e, name) => client.unsetEnvironmentVariable(p, e, name, changer()),
    environmentVariables: (p, e) => client.environmentVariables(p, e),
    environmentVariable: (p, e, name) => client.environmentVariable(p, e, name),
    setProjectVariable: (p, r) => client.setProjectVariable(p, { ...r, by: changer() }),
    unsetProjectVariable: (p, name) => client.unsetProjectVariable(p, name),
    projectVariables: (p) => client.projectVariables(p),
    projectVariable: (p, name) => client.projectVariable(p, name),
  };
}
