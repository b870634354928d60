/**
 * Staging's data refreshed from production (`slipway env sync <p> staging --data --from
 * production`): a ticket first; once approved, staging deploys its release again with
 * production's database and mounts (snapshotted first, all or nothing).
 */
import { defineUpdate, getExternalWorkflowHandle } from '@temporalio/workflow';
import { workflowIds } from '../../domain/names';
import { dataRefreshRefusal, type DataRefreshTicketRequest } from '../../domain/project-rules';
import type { TicketRecord } from '../../domain/tickets';
import { refreshDataSignal } from '../environment';
import type { ProjectContext } from './context';
import { openTicket, takeTicketNumber } from './tickets';
import { setAnsweredOnceHandler } from '../lib/answered-updates';

export type { DataRefreshTicketRequest } from '../../domain/project-rules';
export const requestDataRefreshUpdate = defineUpdate<{ ticket: string }, [DataRefreshTicketRequest]>('requestDataRefresh');

export function registerDataRefreshes(ctx: ProjectContext, decided: Array<{ ticket: number; approved: boolean }>): (t: TicketRecord) => void {
  const { state } = ctx;
  setAnsweredOnceHandler(
    ctx.state,
    requestDataRefreshUpdate,
    async (r) => {
      ctx.recheck(dataRefreshRefusal(state, r));
      const number = takeTicketNumber(state);
      (state.pendingDataRefreshes ??= {})[String(number)] = { environment: r.environment, from: r.from, requester: r.requester };
      await openTicket(
        {
          project: state.project,
          number,
          kind: 'data-refresh',
          target: r.environment,
          requester: r.requester,
          title: `Refresh ${r.environment}'s data from ${r.from}: its database and mounts replace ${r.environment}'s (snapshotted first)`,
          requiredApprovals: 1,
          expiresInMs: r.expiresInMs,
          remindBeforeMs: r.remindBeforeMs,
          roster: r.roster,
          payload: { from: r.from },
        },
        `SUP-${number}: refresh ${state.project} ${r.environment}'s data from ${r.from}, requested by ${r.requester}`,
      );
      return { ticket: `SUP-${number}` };
    },
    { validator: (r: DataRefreshTicketRequest) => ctx.validate(() => dataRefreshRefusal(state, r)) },
  );
  return (t) => {
    if (t.kind === 'data-refresh' && state.pendingDataRefreshes?.[String(t.number)]) decided.push({ ticket: t.number, approved: t.status === 'approved' });
  };
}

/** A decided refresh: the environment told to deploy again with the data (if approved), the ticket told. */
export async function settleDataRefresh(ctx: ProjectContext, d: { ticket: number; approved: boolean }): Promise<void> {
  const { state } = ctx;
  const pending = state.pendingDataRefreshes?.[String(d.ticket)];
  if (!pending) return;
  delete state.pendingDataRefreshes![String(d.ticket)];
  if (!d.approved) return;
  await getExternalWorkflowHandle(workflowIds.environment(state.project, pending.environment)).signal(refreshDataSignal, { from: pending.from });
  ctx.outbox.push({ ticket: d.ticket, outcome: `${pending.environment} deploys again with ${pending.from}'s database and mounts` });
}
