/**
 * The client's support tickets: opening, reading, deciding and listing them, and the SSH-key
 * requests they decide.
 */
import { WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import { ENGINE_TASK_QUEUE, workflowIds } from '../domain/names';
import type { SshKeyRecord } from '../domain/project';
import { SlipwayEnvironment, SlipwayKind, SlipwayProject, SlipwayTicketStatus } from '../domain/search-attributes';
import type { DecisionRequest, TicketInput, TicketRecord } from '../domain/tickets';
import { InvalidInputError, NotFoundError, SlipwayError } from '../errors';
import { rolesOn } from '../domain/access';
import { projectRoster } from '../identities';
import { parsePublicKey } from '../ssh-keys';
import { ticketDecisionUpdate, ticketQuery, ticketWorkflow } from '../workflows/ticket';
import { allocateTicketUpdate, requestDataRefreshUpdate, requestSshKeyRemovalUpdate, requestSshKeyUpdate } from '../workflows/project';
import { updateRefusal } from './checks';
import type { ClientContext, WorkflowHandle } from './context';
import { projectInfo, projectUpdate } from './projects';

export type TicketRequest = Omit<TicketInput, 'number' | 'roster' | 'requiredApprovals'> & { requiredApprovals?: 1 | 2 };

export async function openTicket(ctx: ClientContext, input: TicketRequest): Promise<TicketRecord> {
  const identities = ctx.identities();
  if (!identities.users.has(input.requester)) {
    throw new InvalidInputError(`unknown user ${JSON.stringify(input.requester)} (identities: ${identities.file})`);
  }
  const { number } = await projectUpdate(ctx, input.project, (h) => h.executeUpdate(allocateTicketUpdate));
  const requiredApprovals =
    input.requiredApprovals ?? (input.target === 'production' ? (await projectInfo(ctx, input.project)).productionApprovals : 1);
  const handle = await ctx.temporal.workflow.start(ticketWorkflow, {
    taskQueue: ENGINE_TASK_QUEUE,
    workflowId: workflowIds.ticket(input.project, number),
    args: [{ ...input, number, requiredApprovals, roster: projectRoster(identities, input.project) }],
    staticSummary: `SUP-${number}: ${input.title} (${input.project}, requested by ${input.requester})`,
    typedSearchAttributes: [
      { key: SlipwayProject, value: input.project },
      { key: SlipwayEnvironment, value: input.target },
      { key: SlipwayKind, value: 'ticket' },
      { key: SlipwayTicketStatus, value: 'open' },
    ],
  });
  return handle.query(ticketQuery);
}

function ticketHandle(ctx: ClientContext, project: string, ticket: string): WorkflowHandle {
  const m = /^SUP-(\d{1,9})$/.exec(ticket);
  if (!m) throw new InvalidInputError(`ticket must look like SUP-<number>, not ${JSON.stringify(ticket)}`);
  return ctx.temporal.workflow.getHandle(workflowIds.ticket(project, Number(m[1])));
}

export async function ticketRecord(ctx: ClientContext, project: string, ticket: string): Promise<TicketRecord> {
  try {
    return await ticketHandle(ctx, project, ticket).query(ticketQuery);
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) throw new NotFoundError(`no ticket ${ticket} in project ${project}`);
    throw err;
  }
}

export async function decide(ctx: ClientContext, project: string, ticket: string, request: DecisionRequest): Promise<TicketRecord> {
  const handle = ticketHandle(ctx, project, ticket);
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

export async function listTickets(ctx: ClientContext, project: string, options: { open?: boolean }): Promise<TicketRecord[]> {
  await projectInfo(ctx, project); // a valid id (it goes into the query) of a project that exists
  const query = `SlipwayProject = "${project}" AND SlipwayKind = "ticket"${options.open ? ' AND SlipwayTicketStatus = "open"' : ''}`;
  const records: TicketRecord[] = [];
  for await (const wf of ctx.temporal.workflow.list({ query })) {
    records.push(await ctx.temporal.workflow.getHandle(wf.workflowId, wf.runId).query(ticketQuery));
  }
  return records.sort((a, b) => a.number - b.number);
}

export async function requestSshKey(
  ctx: ClientContext,
  project: string,
  environment: string,
  publicKey: string,
  requester: string,
): Promise<{ ticket: string; fingerprint: string }> {
  const key = parsePublicKey(publicKey);
  const identities = ctx.identities();
  const grants = identities.users.get(requester);
  if (grants && rolesOn(grants, project).length === 0) throw new SlipwayError(`refused: ${requester} holds no role on project ${project}`);
  const { ticket } = await projectUpdate(ctx, project, (h) =>
    h.executeUpdate(requestSshKeyUpdate, {
      args: [
        {
          environment,
          type: key.type,
          key: key.key,
          comment: key.comment,
          fingerprint: key.fingerprint,
          requester,
          roster: projectRoster(identities, project),
          expiresInMs: identities.ticketExpiryMs,
          remindBeforeMs: identities.ticketReminderMs,
        },
      ],
    }),
  );
  return { ticket, fingerprint: key.fingerprint };
}

/** Opens a ticket to take an SSH key away from staging or production (the gateway ends its sessions once approved). */
export async function requestSshKeyRemoval(ctx: ClientContext, project: string, environment: string, fingerprint: string, requester: string): Promise<{ ticket: string }> {
  if (!/^SHA256:[A-Za-z0-9+/]{43}$/.test(fingerprint)) throw new InvalidInputError(`not a key fingerprint: ${JSON.stringify(fingerprint.slice(0, 80))} (SHA256:…, as slipway env ssh-keys lists them)`);
  const identities = ctx.identities();
  const grants = identities.users.get(requester);
  if (grants && rolesOn(grants, project).length === 0) throw new SlipwayError(`refused: ${requester} holds no role on project ${project}`);
  return projectUpdate(ctx, project, (h) =>
    h.executeUpdate(requestSshKeyRemovalUpdate, {
      args: [{ environment, fingerprint, requester, roster: projectRoster(identities, project), expiresInMs: identities.ticketExpiryMs, remindBeforeMs: identities.ticketReminderMs }],
    }),
  );
}

/** Opens a ticket to refresh staging's database and mounts from production; staging deploys again with them once approved. */
export async function requestDataRefresh(ctx: ClientContext, project: string, environment: string, from: string, requester: string): Promise<{ ticket: string }> {
  if (environment !== 'staging' || from !== 'production') throw new InvalidInputError("only staging's data is refreshed through a ticket, from production (--from production)");
  const identities = ctx.identities();
  const grants = identities.users.get(requester);
  if (grants && rolesOn(grants, project).length === 0) throw new SlipwayError(`refused: ${requester} holds no role on project ${project}`);
  return projectUpdate(ctx, project, (h) =>
    h.executeUpdate(requestDataRefreshUpdate, {
      args: [{ environment: 'staging', from: 'production', requester, roster: projectRoster(identities, project), expiresInMs: identities.ticketExpiryMs, remindBeforeMs: identities.ticketReminderMs }],
    }),
  );
}

export async function sshKeys(ctx: ClientContext, project: string, environment: string): Promise<SshKeyRecord[]> {
  const info = await projectInfo(ctx, project);
  if (!info.environments.some((e) => e.name === environment)) throw new NotFoundError(`no environment ${environment} in project ${project}`);
  return info.sshKeys[environment] ?? [];
}
