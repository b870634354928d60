/**
 * The typed client of Slipway: the one way the CLI, the git hooks and the HTTP API talk to
 * the engine. It validates its input before anything is started.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  Client,
  Connection,
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
} from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { z } from 'zod';
import type { DeploymentRecord, EnvironmentStatus, PushEvent } from './domain/environment';
import { ZERO_COMMIT } from './domain/git-refs';
import { environmentNameProblem } from './domain/environment-names';
import { NOT_FOUND } from './domain/failure-types';
import { ENGINE_TASK_QUEUE, workflowIds } from './domain/names';
import { createProjectInputSchema, projectIdSchema } from './domain/schemas';
import { type BranchPush, type ProjectInfo, type ProjectState } from './domain/project';
import { SlipwayKind, SlipwayProject, SlipwayTicketStatus } from './domain/search-attributes';
import { InvalidInputError, NotFoundError, SlipwayError } from './errors';
import { readRuntimeInfo, type Layout } from './home';
import { deploymentProgressQuery, type DeploymentProgress } from './workflows/deployment';
import { environmentPushSignal, environmentStatusQuery, redeployUpdate, rollbackUpdate } from './workflows/environment';
import { ticketDecisionUpdate, ticketQuery, ticketWorkflow } from './workflows/ticket';
import type { DecisionRequest, TicketInput, TicketRecord } from './domain/tickets';
import { loadIdentities } from './identities';
import { PROMOTION_SOURCE, type PromotionResult } from './domain/promotion';
import { promotionQuery } from './workflows/promotion';
import {
  activateUpdate,
  allocateTicketUpdate,
  promoteUpdate,
  requestSshKeyUpdate,
  branchPushedSignal,
  branchUpdate,
  deactivateUpdate,
  deleteUpdate,
  mergeUpdate,
  projectInfoQuery,
  projectReadyUpdate,
  projectWorkflow,
  syncUpdate,
  type MergeResult,
} from './workflows/project';
import type { EnvironmentEntry, SshKeyRecord } from './domain/project';
import { parsePublicKey } from './ssh-keys';

export interface ConnectOptions {
  layout: Layout;
  address?: string;
  namespace?: string;
}

/** TEMPORAL_ADDRESS, else the address a running `slipway up` wrote, else the default. */
export function resolveTemporalAddress(layout: Layout, explicit?: string): string {
  return explicit ?? process.env.TEMPORAL_ADDRESS ?? readRuntimeInfo(layout)?.temporalAddress ?? '127.0.0.1:7233';
}

/** The innermost message of a failure chain: an activity's own words, not "Activity task failed". */
function failureMessage(err: Error): string {
  let e: unknown = err.cause ?? err;
  while (e instanceof Error && e.cause instanceof Error && /^Activity task failed$|^Update failed$/.test(e.message)) e = e.cause;
  return e instanceof Error ? e.message : String(e);
}

/** A refused Update as the caller's error: not found (404 in the API) or refused (409). */
function updateRefusal(err: WorkflowUpdateFailedError): SlipwayError {
  if (err.cause instanceof ApplicationFailure && err.cause.type === NOT_FOUND) return new NotFoundError(err.cause.message);
  return new SlipwayError(`refused: ${failureMessage(err)}`);
}

function zodMessage(err: z.ZodError): string {
  return err.issues.map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message)).join('; ');
}

/** A project and environment named by a caller: refused as bad input unless both could exist. */
function checkEnvironmentRef(project: string, environment: string): void {
  const id = projectIdSchema.safeParse(project);
  if (!id.success) throw new InvalidInputError(zodMessage(id.error));
  const problem = environmentNameProblem(environment);
  if (problem) throw new InvalidInputError(problem);
}

export interface WaitOptions {
  /** Wait for a deployment numbered above this one. */
  after?: number;
  /** …of this commit (or any, when absent). */
  commit?: string;
  timeoutMs?: number;
  onProgress?: (p: DeploymentProgress & { deployment: number }) => void;
}

/** A promotion in flight: its ticket while it waits, the target's deployment while it deploys. */
export interface PromotionProgress {
  promotion: PromotionResult;
  ticket?: TicketRecord;
  deployment?: DeploymentProgress & { deployment: number };
}

export class SlipwayClient {
  private constructor(
    readonly temporal: Client,
    private readonly connection: Connection,
    readonly layout: Layout,
  ) {}

  static async connect(options: ConnectOptions): Promise<SlipwayClient> {
    const address = resolveTemporalAddress(options.layout, options.address);
    let connection: Connection;
    try {
      connection = await Connection.connect({ address, connectTimeout: 5000 });
    } catch (err) {
      throw new SlipwayError(
        `cannot reach the Temporal server at ${address}: ${err instanceof Error ? err.message : String(err)}. ` +
          'Start one with `slipway up`, or set TEMPORAL_ADDRESS.',
      );
    }
    const temporal = new Client({ connection, namespace: options.namespace ?? 'default' });
    return new SlipwayClient(temporal, connection, options.layout);
  }

  async close(): Promise<void> {
    await this.connection.close();
  }

  /** Creates a project: its remote with the four main branches, and deploys integration. */
  async createProject(raw: { project: string; plan?: string; from: string; host?: string; productionApprovals?: number }): Promise<ProjectInfo> {
    const parsed = createProjectInputSchema.safeParse(raw);
    if (!parsed.success) throw new InvalidInputError(zodMessage(parsed.error));
    const input = { ...parsed.data, from: path.resolve(parsed.data.from) };
    if (!fs.statSync(input.from, { throwIfNoEntry: false })?.isDirectory()) {
      throw new InvalidInputError(`--from ${raw.from}: not a directory`);
    }
    if (!fs.existsSync(path.join(input.from, '.magento.app.yaml'))) {
      throw new InvalidInputError(`--from ${raw.from}: no .magento.app.yaml there; it is not a Magento Cloud project`);
    }
    const state: ProjectState = {
      project: input.project,
      plan: input.plan,
      from: input.from,
      host: input.host,
      productionApprovals: input.productionApprovals,
      environments: {},
    };
    try {
      const handle = await this.temporal.workflow.start(projectWorkflow, {
        taskQueue: ENGINE_TASK_QUEUE,
        workflowId: workflowIds.project(input.project),
        args: [state],
        workflowIdConflictPolicy: 'FAIL',
        staticSummary: `Project ${input.project} (plan ${input.plan})`,
        typedSearchAttributes: [
          { key: SlipwayProject, value: input.project },
          { key: SlipwayKind, value: 'project' },
        ],
      });
      return await handle.executeUpdate(projectReadyUpdate);
    } catch (err) {
      if (err instanceof WorkflowExecutionAlreadyStartedError) {
        throw new SlipwayError(`project ${input.project} already exists`);
      }
      throw err;
    }
  }

  async project(project: string): Promise<ProjectInfo> {
    const id = projectIdSchema.safeParse(project);
    if (!id.success) throw new InvalidInputError(zodMessage(id.error));
    try {
      const info = await this.temporal.workflow.getHandle(workflowIds.project(project)).query(projectInfoQuery);
      if (!info) throw new SlipwayError(`project ${project} is still being created`);
      return info;
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) throw new NotFoundError(`no project ${project}`);
      throw err;
    }
  }

  /** Runs one of the project's refusable operations (an Update with a validator). */
  private async projectUpdate<Ret>(
    project: string,
    run: (handle: ReturnType<Client['workflow']['getHandle']>) => Promise<Ret>,
  ): Promise<Ret> {
    const id = projectIdSchema.safeParse(project);
    if (!id.success) throw new InvalidInputError(zodMessage(id.error));
    const handle = this.temporal.workflow.getHandle(workflowIds.project(project));
    try {
      return await run(handle);
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) throw new NotFoundError(`no project ${project}`);
      if (err instanceof WorkflowUpdateFailedError) throw updateRefusal(err);
      throw err;
    }
  }

  /** Creates an environment: a branch from its parent's head; active (and deployed) unless `inactive`. */
  branch(project: string, request: { name: string; parent?: string; inactive?: boolean }): Promise<EnvironmentEntry> {
    return this.projectUpdate(project, (h) => h.executeUpdate(branchUpdate, { args: [request] }));
  }
  activate(project: string, name: string): Promise<EnvironmentEntry> {
    return this.projectUpdate(project, (h) => h.executeUpdate(activateUpdate, { args: [{ name }] }));
  }
  /** Resolves once the environment is no longer served (after a deployment in flight, if any). */
  async deactivate(project: string, name: string): Promise<EnvironmentEntry> {
    const entry = await this.projectUpdate(project, (h) => h.executeUpdate(deactivateUpdate, { args: [{ name }] }));
    if (entry.started) {
      await this.until(async () => {
        const s = await this.environmentStatus(project, name);
        return s.active === false && !s.running && (s.lifecycle ?? []).length === 0;
      }, `${name} to stop serving`);
    }
    return entry;
  }
  /** Resolves once the environment and its branch are gone. */
  async deleteEnvironment(project: string, name: string): Promise<{ deleted: string }> {
    const result = await this.projectUpdate(project, (h) => h.executeUpdate(deleteUpdate, { args: [{ name }] }));
    await this.until(async () => {
      const d = await this.temporal.workflow.getHandle(workflowIds.environment(project, name)).describe().catch(() => undefined);
      return d === undefined || d.status.name !== 'RUNNING';
    }, `${name} to be removed`);
    return result;
  }

  private async until(done: () => Promise<boolean>, what: string, timeoutMs = 300_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(await done())) {
      if (Date.now() > deadline) throw new SlipwayError(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  /** Merges the parent's code into the environment, which then deploys (if active). */
  sync(project: string, name: string): Promise<MergeResult> {
    return this.projectUpdate(project, (h) => h.executeUpdate(syncUpdate, { args: [{ name }] }));
  }
  /** Merges the environment's code into its parent, which then deploys (if active). */
  merge(project: string, name: string): Promise<MergeResult> {
    return this.projectUpdate(project, (h) => h.executeUpdate(mergeUpdate, { args: [{ name }] }));
  }

  /**
   * Opens a support ticket (promotions and SSH-key requests do this): numbered SUP-<n> by the
   * project, decided by the roster's support engineers.
   */
  async openTicket(input: Omit<TicketInput, 'number' | 'roster' | 'requiredApprovals'> & { requiredApprovals?: 1 | 2 }): Promise<TicketRecord> {
    const identities = loadIdentities(this.layout);
    if (!identities.roster.some((i) => i.user === input.requester)) {
      throw new InvalidInputError(`unknown user ${JSON.stringify(input.requester)} (identities: ${identities.file})`);
    }
    const { number } = await this.projectUpdate(input.project, (h) => h.executeUpdate(allocateTicketUpdate));
    const requiredApprovals =
      input.requiredApprovals ?? (input.target === 'production' ? (await this.project(input.project)).productionApprovals : 1);
    const handle = await this.temporal.workflow.start(ticketWorkflow, {
      taskQueue: ENGINE_TASK_QUEUE,
      workflowId: workflowIds.ticket(input.project, number),
      args: [{ ...input, number, requiredApprovals, roster: identities.roster }],
      staticSummary: `SUP-${number}: ${input.title} (${input.project}, requested by ${input.requester})`,
      typedSearchAttributes: [
        { key: SlipwayProject, value: input.project },
        { key: SlipwayKind, value: 'ticket' },
        { key: SlipwayTicketStatus, value: 'open' },
      ],
    });
    return handle.query(ticketQuery);
  }

  private ticketHandle(project: string, ticket: string) {
    const m = /^SUP-(\d{1,9})$/.exec(ticket);
    if (!m) throw new InvalidInputError(`ticket must look like SUP-<number>, not ${JSON.stringify(ticket)}`);
    return this.temporal.workflow.getHandle(workflowIds.ticket(project, Number(m[1])));
  }

  async ticket(project: string, ticket: string): Promise<TicketRecord> {
    try {
      return await this.ticketHandle(project, ticket).query(ticketQuery);
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) throw new NotFoundError(`no ticket ${ticket} in project ${project}`);
      throw err;
    }
  }

  /** Approves or rejects, as an Update: a refusal comes back at once (and is in the record). */
  async decide(project: string, ticket: string, request: DecisionRequest): Promise<TicketRecord> {
    const handle = this.ticketHandle(project, ticket);
    try {
      return await handle.executeUpdate(ticketDecisionUpdate, { args: [request] });
    } catch (err) {
      if (err instanceof WorkflowUpdateFailedError) throw updateRefusal(err);
      if (err instanceof WorkflowNotFoundError || (err instanceof Error && /already completed/i.test(err.message))) {
        // A closed ticket's workflow has ended and takes no updates: say why, from its record.
        const record = await handle.query(ticketQuery).catch(() => undefined);
        if (!record) throw new NotFoundError(`no ticket ${ticket} in project ${project}`);
        throw new SlipwayError(`refused: ${record.id} is ${record.status}: it takes no more decisions`);
      }
      throw err;
    }
  }

  async listTickets(project: string, options: { open?: boolean } = {}): Promise<TicketRecord[]> {
    await this.project(project); // a valid id (it goes into the query) of a project that exists
    const query = `SlipwayProject = "${project}" AND SlipwayKind = "ticket"${options.open ? ' AND SlipwayTicketStatus = "open"' : ''}`;
    const records: TicketRecord[] = [];
    for await (const wf of this.temporal.workflow.list({ query })) {
      records.push(await this.temporal.workflow.getHandle(wf.workflowId, wf.runId).query(ticketQuery));
    }
    return records.sort((a, b) => a.number - b.number);
  }

  /**
   * Asks for a promotion of the source's live release (integration → staging, staging →
   * production): refused at once if the source has nothing deployed, if its last deployment
   * failed, or if the target has a promotion open. Returns the ticket to decide.
   */
  async promote(
    project: string,
    target: string,
    requester: string,
    options: { expiresInMs?: number; remindBeforeMs?: number } = {},
  ): Promise<{ ticket: string; workflowId: string }> {
    if (target !== 'staging' && target !== 'production') throw new InvalidInputError(`promote to staging or production, not ${JSON.stringify(target)}`);
    const source = PROMOTION_SOURCE[target];
    const identities = loadIdentities(this.layout);
    let status: EnvironmentStatus;
    try {
      status = await this.environmentStatus(project, source);
    } catch (err) {
      if (err instanceof NotFoundError) throw new SlipwayError(`refused: ${source} has never been deployed: nothing to promote`);
      throw err;
    }
    const last = status.running ?? status.deployments[status.deployments.length - 1];
    if (!status.current || !last) throw new SlipwayError(`refused: ${source} has never been deployed: nothing to promote`);
    if (last.status === 'running') throw new SlipwayError(`refused: ${source} is deploying (#${last.deployment}); promote once it is done`);
    if (last.status === 'failed') {
      throw new SlipwayError(`refused: the last deployment of ${source} (#${last.deployment}) failed: ${last.error ?? ''}; fix it before promoting`);
    }
    const { deployment, commit, slug, treeId } = status.current;
    const started = await this.projectUpdate(project, (h) =>
      h.executeUpdate(promoteUpdate, {
        args: [
          {
            target,
            requester,
            release: { deployment, commit, slug, treeId },
            roster: identities.roster,
            expiresInMs: options.expiresInMs ?? identities.ticketExpiryMs,
            remindBeforeMs: options.remindBeforeMs ?? identities.ticketReminderMs,
          },
        ],
      }),
    );
    // Answer once the ticket is open, so that it can be decided straight away.
    await this.until(async () => {
      const open = await this.ticket(project, started.ticket).then(() => true, () => false);
      if (open) return true;
      const d = await this.temporal.workflow.getHandle(started.workflowId).describe();
      if (d.status.name !== 'RUNNING') {
        const r = await this.promotion(started.workflowId);
        throw new SlipwayError(`the promotion ended before its ticket opened: ${r.error ?? r.status}`);
      }
      return false;
    }, `ticket ${started.ticket} to open`, 60_000);
    return started;
  }

  /** Opens a ticket to add an SSH public key to staging or production (recorded once approved). */
  async requestSshKey(project: string, environment: string, publicKey: string, requester: string): Promise<{ ticket: string; fingerprint: string }> {
    const key = parsePublicKey(publicKey);
    const identities = loadIdentities(this.layout);
    const { ticket } = await this.projectUpdate(project, (h) =>
      h.executeUpdate(requestSshKeyUpdate, {
        args: [
          {
            environment,
            type: key.type,
            key: key.key,
            comment: key.comment,
            fingerprint: key.fingerprint,
            requester,
            roster: identities.roster,
            expiresInMs: identities.ticketExpiryMs,
            remindBeforeMs: identities.ticketReminderMs,
          },
        ],
      }),
    );
    return { ticket, fingerprint: key.fingerprint };
  }

  async sshKeys(project: string, environment: string): Promise<SshKeyRecord[]> {
    const info = await this.project(project);
    if (!info.environments.some((e) => e.name === environment)) throw new NotFoundError(`no environment ${environment} in project ${project}`);
    return info.sshKeys[environment] ?? [];
  }

  async promotion(workflowId: string): Promise<PromotionResult> {
    return this.temporal.workflow.getHandle(workflowId).query(promotionQuery);
  }

  /**
   * Waits for a promotion to end (deployed, rejected, expired, cancelled or failed). With
   * `onProgress`, polls it meanwhile: its ticket while it waits for a decision, the target's
   * deployment while it deploys.
   */
  async waitForPromotion(workflowId: string, onProgress?: (p: PromotionProgress) => void): Promise<PromotionResult> {
    const handle = this.temporal.workflow.getHandle(workflowId);
    const result = handle.result() as Promise<PromotionResult>;
    if (!onProgress) return result;
    const project = workflowId.split('/')[1] ?? '';
    let finished = false;
    void result.then(
      () => (finished = true),
      () => (finished = true),
    );
    const poll = async (): Promise<void> => {
      while (!finished) {
        try {
          const promotion = await handle.query(promotionQuery);
          const progress: PromotionProgress = { promotion };
          if (promotion.status === 'waiting') progress.ticket = await this.ticket(project, promotion.ticket);
          if (promotion.status === 'deploying') {
            const running = (await this.environmentStatus(project, promotion.target)).running;
            if (running) {
              const p = await this.deploymentProgress(project, promotion.target, running.deployment);
              progress.deployment = { ...p, deployment: running.deployment };
            }
          }
          if (!finished) onProgress(progress);
        } catch {
          /* between states (the ticket not started yet, the deployment just finished): poll again */
        }
        await new Promise((r) => setTimeout(r, 200));
      }
    };
    await Promise.all([result, poll()]);
    return result;
  }

  /**
   * Called by the remote's post-receive hook. A new commit on an existing environment goes
   * straight to the environment's workflow, which ignores it while inactive; the project
   * still gets every push, to keep its records and to handle new and deleted branches (and
   * forwards only what was not delivered). One workflow task less between the push and the
   * deployment (bench/analysis.md).
   */
  async branchPushed(project: string, push: BranchPush): Promise<void> {
    let delivered = false;
    if (push.after !== ZERO_COMMIT && environmentNameProblem(push.branch) === undefined) {
      try {
        const event: PushEvent = { commit: push.after, pushedAt: push.pushedAt, before: push.before };
        await this.temporal.workflow.getHandle(workflowIds.environment(project, push.branch)).signal(environmentPushSignal, event);
        delivered = true;
      } catch (err) {
        if (!(err instanceof WorkflowNotFoundError)) throw err; // no such environment yet: the project decides
      }
    }
    try {
      await this.temporal.workflow.getHandle(workflowIds.project(project)).signal(branchPushedSignal, { ...push, delivered });
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) throw new NotFoundError(`no project ${project} is running`);
      throw err;
    }
  }

  async environmentStatus(project: string, environment: string): Promise<EnvironmentStatus> {
    checkEnvironmentRef(project, environment);
    try {
      return await this.temporal.workflow
        .getHandle(workflowIds.environment(project, environment))
        .query(environmentStatusQuery);
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) {
        throw new NotFoundError(`no environment ${environment} in project ${project}`);
      }
      throw err;
    }
  }

  /** Deploys the current slug again (no build); resolves with the new deployment's number. */
  async redeploy(project: string, environment: string): Promise<{ deployment: number }> {
    const handle = this.temporal.workflow.getHandle(workflowIds.environment(project, environment));
    return this.refusable(() => handle.executeUpdate(redeployUpdate), project, environment);
  }

  /** Deploys an earlier deployment's slug again (default: the previous release), no build. */
  async rollback(project: string, environment: string, to?: number): Promise<{ deployment: number }> {
    const handle = this.temporal.workflow.getHandle(workflowIds.environment(project, environment));
    return this.refusable(() => handle.executeUpdate(rollbackUpdate, { args: [{ to }] }), project, environment);
  }

  /**
   * Cancels the running deployment of an environment: its hook is stopped with its whole
   * process group, what it had changed is undone (the release served before it is served
   * again, maintenance off). Resolves with the deployment's record once that is done.
   */
  async cancelDeployment(project: string, environment: string): Promise<DeploymentRecord> {
    const status = await this.environmentStatus(project, environment);
    const running = status.running;
    if (!running) throw new SlipwayError(`nothing to cancel: no deployment of ${project}/${environment} is running`);
    try {
      await this.temporal.workflow.getHandle(workflowIds.deployment(project, environment, running.deployment)).cancel();
    } catch (err) {
      if (!(err instanceof WorkflowNotFoundError)) throw err; // it ended meanwhile: its record says how
    }
    return this.waitForDeployment(project, environment, { after: running.deployment - 1 });
  }

  /** Turns an Update's validator refusal into a SlipwayError with its reason. */
  private async refusable<T>(call: () => Promise<T>, project: string, environment: string): Promise<T> {
    checkEnvironmentRef(project, environment);
    try {
      return await call();
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) throw new NotFoundError(`no environment ${environment} in project ${project}`);
      if (err instanceof WorkflowUpdateFailedError) throw updateRefusal(err);
      throw err;
    }
  }

  async deploymentProgress(project: string, environment: string, n: number): Promise<DeploymentProgress> {
    return this.temporal.workflow
      .getHandle(workflowIds.deployment(project, environment, n))
      .query(deploymentProgressQuery);
  }

  /** Waits until a deployment (newer than `after`, of `commit` if given) has finished. */
  async waitForDeployment(project: string, environment: string, options: WaitOptions = {}): Promise<DeploymentRecord> {
    const deadline = Date.now() + (options.timeoutMs ?? 300_000);
    const after = options.after ?? 0;
    for (;;) {
      let status: EnvironmentStatus;
      try {
        status = await this.environmentStatus(project, environment);
      } catch (err) {
        // A query needs a worker: while one restarts, keep waiting (until the deadline).
        if (err instanceof SlipwayError || Date.now() > deadline) throw err;
        await new Promise((r) => setTimeout(r, 500));
        continue;
      }
      const done = status.deployments.find(
        (d) => d.deployment > after && (options.commit === undefined || d.commit === options.commit),
      );
      if (done) return done;
      if (status.running && options.onProgress) {
        try {
          const p = await this.deploymentProgress(project, environment, status.running.deployment);
          options.onProgress({ ...p, deployment: status.running.deployment });
        } catch {
          /* the deployment just finished */
        }
      }
      if (Date.now() > deadline) {
        throw new SlipwayError(
          `timed out waiting for a deployment of ${project}/${environment}${options.commit ? ` at ${options.commit}` : ''}`,
        );
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** The deployment's log, as written by its steps. */
  deploymentLog(project: string, environment: string, n: number): string {
    checkEnvironmentRef(project, environment);
    const file = this.layout.deployLog({ project, environment, number: n });
    if (!fs.existsSync(file)) throw new NotFoundError(`no log for deployment ${n} of ${project}/${environment}`);
    return fs.readFileSync(file, 'utf8');
  }
}
