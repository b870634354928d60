/**
 * The client's promotions (integration → staging → production): asking for one, reading it,
 * and waiting for it with its progress.
 */
import type { EnvironmentStatus } from '../domain/environment';
import { PROMOTION_SOURCE, promotionWorkflowId, type PromotionInput, type PromotionResult } from '../domain/promotion';
import type { TicketRecord } from '../domain/tickets';
import { InvalidInputError, NotFoundError, SlipwayError } from '../errors';
import { projectRoster } from '../identities';
import type { DeploymentProgress } from '../workflows/deployment';
import { promoteUpdate } from '../workflows/project';
import { promotionQuery } from '../workflows/promotion';
import { sleep, until, type ClientContext } from './context';
import { deploymentProgress, environmentStatus } from './deployments';
import { projectUpdate } from './projects';
import { ticketRecord } from './tickets';

/** A promotion in flight: its ticket while it waits, the target's deployment while it deploys. */
export interface PromotionProgress {
  promotion: PromotionResult;
  ticket?: TicketRecord;
  deployment?: DeploymentProgress & { deployment: number };
}

export interface PromoteOptions {
  /** Code and data: the source's database and mounts replace the target's (a snapshot of the target first). */
  withData?: boolean;
  expiresInMs?: number;
  remindBeforeMs?: number;
}

export async function promote(
  ctx: ClientContext,
  project: string,
  target: string,
  requester: string,
  options: PromoteOptions,
): Promise<{ ticket: string; workflowId: string }> {
  if (target !== 'staging' && target !== 'production') throw new InvalidInputError(`promote to staging or production, not ${JSON.stringify(target)}`);
  const source = PROMOTION_SOURCE[target];
  const identities = ctx.identities();
  const release = await promotableRelease(ctx, project, source);
  const started = await projectUpdate(ctx, project, (h) =>
    h.executeUpdate(promoteUpdate, {
      args: [
        {
          target,
          requester,
          release,
          roster: projectRoster(identities, project),
          expiresInMs: options.expiresInMs ?? identities.ticketExpiryMs,
          remindBeforeMs: options.remindBeforeMs ?? identities.ticketReminderMs,
          ...(options.withData ? { withData: true } : {}),
        },
      ],
    }),
  );
  await ticketOpened(ctx, project, started);
  return started;
}

/** The source's live release: refused if it has nothing deployed, is deploying, or its last deployment failed. */
async function promotableRelease(ctx: ClientContext, project: string, source: string): Promise<PromotionInput['release']> {
  let status: EnvironmentStatus;
  try {
    status = await environmentStatus(ctx, project, source);
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
  return { deployment, commit, slug, treeId };
}

/** Resolves once the promotion's ticket is open, so that it can be decided straight away. */
async function ticketOpened(ctx: ClientContext, project: string, started: { ticket: string; workflowId: string }): Promise<void> {
  await until(async () => {
    const open = await ticketRecord(ctx, project, started.ticket).then(() => true, () => false);
    if (open) return true;
    const d = await ctx.temporal.workflow.getHandle(started.workflowId).describe();
    if (d.status.name !== 'RUNNING') {
      const r = await promotion(ctx, started.workflowId);
      throw new SlipwayError(`the promotion ended before its ticket opened: ${r.error ?? r.status}`);
    }
    return false;
  }, `ticket ${started.ticket} to open`, 60_000);
}

/** The promotion a ticket gates, by the ticket's id. */
export async function promotionOfTicket(ctx: ClientContext, project: string, ticket: string): Promise<PromotionResult & { workflowId: string }> {
  const record = await ticketRecord(ctx, project, ticket);
  if (record.kind !== 'promotion' && record.kind !== 'code-and-data') throw new NotFoundError(`${ticket} of project ${project} is no promotion's ticket (it is a ${record.kind} ticket)`);
  const workflowId = promotionWorkflowId(project, record.target, record.number);
  return { ...(await promotion(ctx, workflowId)), workflowId };
}

export async function promotion(ctx: ClientContext, workflowId: string): Promise<PromotionResult> {
  return ctx.temporal.workflow.getHandle(workflowId).query(promotionQuery);
}

export async function waitForPromotion(ctx: ClientContext, workflowId: string, onProgress?: (p: PromotionProgress) => void): Promise<PromotionResult> {
  const handle = ctx.temporal.workflow.getHandle(workflowId);
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
        const progress = await progressOf(ctx, project, await handle.query(promotionQuery));
        if (!finished) onProgress(progress);
      } catch {
        /* between states (the ticket not started yet, the deployment just finished): poll again */
      }
      await sleep(200);
    }
  };
  await Promise.all([result, poll()]);
  return result;
}

async function progressOf(ctx: ClientContext, project: string, state: PromotionResult): Promise<PromotionProgress> {
  const progress: PromotionProgress = { promotion: state };
  if (state.status === 'waiting') progress.ticket = await ticketRecord(ctx, project, state.ticket);
  if (state.status === 'deploying') {
    const running = (await environmentStatus(ctx, project, state.target)).running;
    if (running) {
      const p = await deploymentProgress(ctx, project, state.target, running.deployment);
      progress.deployment = { ...p, deployment: running.deployment };
    }
  }
  return progress;
}
