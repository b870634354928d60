/**
 * The typed client of Slipway: the one way the CLI, the git hooks and the HTTP API talk to
 * the engine. It validates its input before anything is started. Its operations live in
 * src/client-lib/, by what they act on: projects, deployments, tickets, promotions.
 */
import { temporalConnectionOptions } from './temporal/connection-options';
import { Client, Connection } from '@temporalio/client';
import type { DeploymentRecord, EnvironmentStatus } from './domain/environment';
import type { BranchPush, EnvironmentEntry, ProjectInfo, ProjectSummary, SshKeyRecord } from './domain/project';
import type { PromotionResult } from './domain/promotion';
import type { DecisionRequest, TicketRecord } from './domain/tickets';
import { InvalidInputError, NotFoundError, SlipwayError } from './errors';
import { deleteSnapshot, listSnapshots, type Snapshot } from './runtime/data';
import { readRuntimeInfo, recordedTemporalAddress, type Layout } from './home';
import { loadIdentities, type Identities } from './identities';
import type { DeploymentProgress } from './workflows/deployment';
import type { MergeResult } from './workflows/project';
import * as deployments from './client-lib/deployments';
import * as hosts from './client-lib/hosts';
import type { HostLiveness } from './domain/hosts';
import * as projects from './client-lib/projects';
import * as promotions from './client-lib/promotions';
import * as tickets from './client-lib/tickets';
import * as variables from './client-lib/variables';
import type { VariableView } from './domain/variables';
import { cronStatuses } from './client-lib/crons';
import type { CronStatus } from './domain/crons';

export type { WaitOptions } from './client-lib/deployments';
export type { PromotionProgress } from './client-lib/promotions';
export type { SetVariableRequest, VariableChangeResult } from './client-lib/variables';

export interface ConnectOptions {
  layout: Layout;
  address?: string;
  namespace?: string;
  /** Users and their roles per project; default: the home's identities file (see src/identities.ts). */
  identities?: () => Identities;
}

/**
 * TEMPORAL_ADDRESS, else the address a running `slipway up` or `slipway api` wrote, else the
 * one the last worker, API or setup of this data directory was given, else the default.
 */
export function resolveTemporalAddress(layout: Layout, explicit?: string): string {
  return explicit ?? (process.env.TEMPORAL_ADDRESS || undefined) ?? readRuntimeInfo(layout)?.temporalAddress ?? recordedTemporalAddress(layout) ?? '127.0.0.1:7233';
}

export class SlipwayClient {
  private constructor(
    readonly temporal: Client,
    private readonly connection: Connection,
    readonly layout: Layout,
    private readonly identitiesSource: () => Identities,
  ) {}

  identities(): Identities {
    return this.identitiesSource();
  }

  static async connect(options: ConnectOptions): Promise<SlipwayClient> {
    const address = resolveTemporalAddress(options.layout, options.address);
    const auth = temporalConnectionOptions();
    let connection: Connection;
    try {
      connection = await Connection.connect({ address, connectTimeout: 5000, ...auth });
    } catch (err) {
      throw new SlipwayError(
        `cannot reach the Temporal server at ${address}: ${err instanceof Error ? err.message : String(err)}. ` +
          'Start one with `slipway up`, or set TEMPORAL_ADDRESS.',
      );
    }
    const temporal = new Client({ connection, namespace: options.namespace ?? 'default' });
    const layout = options.layout;
    return new SlipwayClient(temporal, connection, layout, options.identities ?? (() => loadIdentities(layout)));
  }

  async close(): Promise<void> {
    await this.connection.close();
  }

  // Projects and their environments.

  /** Creates a project: its remote with the four main branches, and deploys integration. */
  createProject(raw: projects.CreateProjectRequest): Promise<ProjectInfo> {
    return projects.createProject(this, raw);
  }
  /** Every project, by id (`visibleTo`: only those this user holds a role on, all for an admin). */
  listProjects(options: { visibleTo?: string } = {}): Promise<ProjectSummary[]> {
    return projects.listProjects(this, options);
  }
  project(project: string): Promise<ProjectInfo> {
    return projects.projectInfo(this, project);
  }
  /** Creates an environment: a branch from its parent's head; active (and deployed) unless `inactive`. */
  branch(project: string, request: projects.BranchRequest): Promise<EnvironmentEntry> {
    return projects.branch(this, project, request);
  }
  activate(project: string, name: string): Promise<EnvironmentEntry> {
    return projects.activate(this, project, name);
  }
  /** Resolves once the environment is no longer served (after a deployment in flight, if any). */
  deactivate(project: string, name: string): Promise<EnvironmentEntry> {
    return projects.deactivate(this, project, name);
  }
  /** Resolves once the environment and its branch are gone. */
  deleteEnvironment(project: string, name: string): Promise<{ deleted: string }> {
    return projects.deleteEnvironment(this, project, name);
  }
  /** Merges the parent's code into the environment, which then deploys (if active). */
  sync(project: string, name: string): Promise<MergeResult> {
    return projects.sync(this, project, name);
  }
  /** Merges the environment's code into its parent, which then deploys (if active). */
  merge(project: string, name: string): Promise<MergeResult> {
    return projects.merge(this, project, name);
  }
  /** Called by the remote's post-receive hook: hands the push to its environment and to the project. */
  branchPushed(project: string, push: BranchPush): Promise<void> {
    return projects.branchPushed(this, project, push);
  }

  // Tickets, and the SSH keys they decide.

  /**
   * Opens a support ticket (promotions and SSH-key requests do this): numbered SUP-<n> by the
   * project, decided by the roster's support engineers.
   */
  openTicket(input: tickets.TicketRequest): Promise<TicketRecord> {
    return tickets.openTicket(this, input);
  }
  ticket(project: string, ticket: string): Promise<TicketRecord> {
    return tickets.ticketRecord(this, project, ticket);
  }
  /** Approves or rejects, as an Update: a refusal comes back at once (and is in the record). */
  decide(project: string, ticket: string, request: DecisionRequest): Promise<TicketRecord> {
    return tickets.decide(this, project, ticket, request);
  }
  listTickets(project: string, options: { open?: boolean } = {}): Promise<TicketRecord[]> {
    return tickets.listTickets(this, project, options);
  }
  /** Opens a ticket to add an SSH public key to staging or production (recorded once approved). */
  requestSshKey(project: string, environment: string, publicKey: string, requester: string): Promise<{ ticket: string; fingerprint: string }> {
    return tickets.requestSshKey(this, project, environment, publicKey, requester);
  }
  /** Sets a variable of an environment: applied and redeployed (integration), or a ticket opened (staging, production). */
  setEnvironmentVariable(project: string, environment: string, request: variables.SetVariableRequest): Promise<variables.VariableChangeResult> {
    return variables.setEnvironmentVariable(this, project, environment, request);
  }
  unsetEnvironmentVariable(project: string, environment: string, name: string, by: string): Promise<variables.VariableChangeResult> {
    return variables.unsetEnvironmentVariable(this, project, environment, name, by);
  }
  /** The variables that apply to an environment (its own, its ancestors' inherited ones, the project's); sensitive values shown as "(sensitive)". */
  environmentVariables(project: string, environment: string): Promise<VariableView[]> {
    return variables.environmentVariables(this, project, environment);
  }
  environmentVariable(project: string, environment: string, name: string): Promise<VariableView> {
    return variables.environmentVariable(this, project, environment, name);
  }
  setProjectVariable(project: string, request: variables.SetVariableRequest): Promise<{ applied: true; deployments: number[] }> {
    return variables.setProjectVariable(this, project, request);
  }
  unsetProjectVariable(project: string, name: string): Promise<{ applied: true; deployments: number[] }> {
    return variables.unsetProjectVariable(this, project, name);
  }
  projectVariables(project: string): Promise<VariableView[]> {
    return variables.projectVariables(this, project);
  }
  projectVariable(project: string, name: string): Promise<VariableView> {
    return variables.projectVariable(this, project, name);
  }
  /** A ticket to refresh staging's database and mounts from production (`env sync <p> staging --data --from production`). */
  requestDataRefresh(project: string, environment: string, from: string, requester: string): Promise<{ ticket: string }> {
    return tickets.requestDataRefresh(this, project, environment, from, requester);
  }
  /** A ticket to take an SSH key away from staging or production. */
  requestSshKeyRemoval(project: string, environment: string, fingerprint: string, requester: string): Promise<{ ticket: string }> {
    return tickets.requestSshKeyRemoval(this, project, environment, fingerprint, requester);
  }
  sshKeys(project: string, environment: string): Promise<SshKeyRecord[]> {
    return tickets.sshKeys(this, project, environment);
  }

  // Promotions.

  /**
   * Asks for a promotion of the source's live release (integration → staging, staging →
   * production): refused at once if the source has nothing deployed, if its last deployment
   * failed, or if the target has a promotion open. Returns the ticket to decide.
   */
  promote(project: string, target: string, requester: string, options: promotions.PromoteOptions = {}): Promise<{ ticket: string; workflowId: string }> {
    return promotions.promote(this, project, target, requester, options);
  }
  promotion(workflowId: string): Promise<PromotionResult> {
    return promotions.promotion(this, workflowId);
  }
  /** The promotion a ticket gates, with its workflow id. */
  promotionOfTicket(project: string, ticket: string): Promise<PromotionResult & { workflowId: string }> {
    return promotions.promotionOfTicket(this, project, ticket);
  }
  /**
   * Waits for a promotion to end (deployed, rejected, expired, cancelled or failed). With
   * `onProgress`, polls it meanwhile: its ticket while it waits for a decision, the target's
   * deployment while it deploys.
   */
  waitForPromotion(workflowId: string, onProgress?: (p: promotions.PromotionProgress) => void): Promise<PromotionResult> {
    return promotions.waitForPromotion(this, workflowId, onProgress);
  }

  // Environments and their deployments.

  /** The environment's crons: their Schedules' spec, command, state, last and next run. */
  async crons(project: string, environment: string): Promise<CronStatus[]> {
    await this.environmentStatus(project, environment); // the environment must exist: NotFound otherwise
    return cronStatuses(this.temporal.schedule, project, environment);
  }
  /** With `host: true`, the liveness of the environment's host too. */
  environmentStatus(project: string, environment: string, options: { host?: boolean } = {}): Promise<EnvironmentStatus> {
    return deployments.environmentStatus(this, project, environment, options);
  }
  /** A host's liveness: its supervisor's heartbeats and its queue's pollers. */
  hostLiveness(host: string): Promise<HostLiveness> {
    return hosts.hostLiveness(this, host);
  }
  /** Every host that has run a worker, with its liveness. */
  listHosts(): Promise<HostLiveness[]> {
    return hosts.listHosts(this);
  }
  /** Deploys the current slug again (no build); resolves with the new deployment's number. */
  redeploy(project: string, environment: string): Promise<{ deployment: number }> {
    return deployments.redeploy(this, project, environment);
  }
  /** Deploys an earlier deployment's slug again (default: the previous release), no build. */
  /** `withData`: the database and mounts as they were before the current release's deployment too (its snapshot). */
  rollback(project: string, environment: string, to?: number, withData = false): Promise<{ deployment: number }> {
    return deployments.rollback(this, project, environment, to, withData);
  }
  /** The current release deployed again with the parent's database and mounts (`env sync --data`); data never flows up. */
  async syncData(project: string, environment: string): Promise<{ deployment: number }> {
    const entry = (await this.project(project)).environments.find((e) => e.name === environment);
    if (!entry) throw new NotFoundError(`no environment ${environment} in project ${project}`);
    if (!entry.parent) {
      throw new InvalidInputError(
        environment === 'staging'
          ? `staging has no parent to take data from; its data is refreshed from production through a ticket: slipway env sync ${project} staging --data --from production --as <user> (API: POST /v1/projects/${project}/environments/staging/data-refresh {"from": "production"})`
          : `${environment} has no parent to take data from`,
      );
    }
    return deployments.syncData(this, project, environment, entry.parent);
  }
  /** A snapshot of the environment's database and mounts, taken between deployments. */
  snapshot(project: string, environment: string): Promise<{ snapshot: string; sizeBytes: number }> {
    return deployments.snapshot(this, project, environment);
  }
  /** The environment's snapshots on this host, newest first. */
  snapshots(project: string, environment: string): Snapshot[] {
    return listSnapshots({ layout: this.layout, project, environment });
  }
  /** The current release deployed again with a snapshot's database and mounts. */
  async restoreSnapshot(project: string, environment: string, id: string): Promise<{ deployment: number }> {
    if (!this.snapshots(project, environment).some((s) => s.id === id)) throw new NotFoundError(`${environment} of ${project} has no snapshot ${id}`);
    return deployments.restoreSnapshot(this, project, environment, id);
  }
  deleteSnapshot(project: string, environment: string, id: string): void {
    deleteSnapshot({ layout: this.layout, project, environment }, id);
  }
  /**
   * Cancels the running deployment of an environment: its hook is stopped with its whole
   * process group, what it had changed is undone (the release served before it is served
   * again, maintenance off). Resolves with the deployment's record once that is done.
   */
  cancelDeployment(project: string, environment: string): Promise<DeploymentRecord> {
    return deployments.cancelDeployment(this, project, environment);
  }
  deploymentProgress(project: string, environment: string, n: number): Promise<DeploymentProgress> {
    return deployments.deploymentProgress(this, project, environment, n);
  }
  /** Waits until a deployment (newer than `after`, of `commit` if given) has finished. */
  waitForDeployment(project: string, environment: string, options: deployments.WaitOptions = {}): Promise<DeploymentRecord> {
    return deployments.waitForDeployment(this, project, environment, options);
  }
  /** The deployment's log, as written by its steps. */
  deploymentLog(project: string, environment: string, n: number): string {
    return deployments.deploymentLog(this, project, environment, n);
  }
}
