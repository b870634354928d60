/**
 * Support tickets of a project: the one counter that numbers them (SUP-<n>), whoever opens
 * them (an SSH-key request, a promotion, the client), and how the project opens one.
 */
import { ParentClosePolicy, defineUpdate, startChild, type ChildWorkflowHandle } from '@temporalio/workflow';
import { workflowIds } from '../../domain/names';
import type { ProjectState } from '../../domain/project';
import { SlipwayEnvironment, SlipwayKind, SlipwayProject, SlipwayTicketStatus } from '../../domain/search-attributes';
import type { TicketInput } from '../../domain/tickets';
import { ticketWorkflow } from '../ticket';
import type { ProjectContext } from './context';
import { setAnsweredOnceHandler } from '../lib/answered-updates';

/** The next support ticket number of the project (SUP-<n>). */
export const allocateTicketUpdate = defineUpdate<{ number: number }>('allocateTicket');

/** Takes the project's next ticket number. */
export function takeTicketNumber(state: ProjectState): number {
  const number = state.nextTicket ?? 1;
  state.nextTicket = number + 1;
  return number;
}

/** Starts a ticket that outlives this run of the project (which continues-as-new). */
export function openTicket(input: TicketInput, summary: string): Promise<ChildWorkflowHandle<typeof ticketWorkflow>> {
  return startChild(ticketWorkflow, {
    workflowId: workflowIds.ticket(input.project, input.number),
    args: [input],
    parentClosePolicy: ParentClosePolicy.ABANDON,
    staticSummary: summary,
    typedSearchAttributes: [
      { key: SlipwayProject, value: input.project },
      { key: SlipwayEnvironment, value: input.target },
      { key: SlipwayKind, value: 'ticket' },
      { key: SlipwayTicketStatus, value: 'open' },
    ],
  });
}

export function registerTickets(ctx: ProjectContext): void {
  setAnsweredOnceHandler(ctx.state,allocateTicketUpdate, () => ({ number: takeTicketNumber(ctx.state) }), { validator: () => ctx.validate(() => undefined) });
}
