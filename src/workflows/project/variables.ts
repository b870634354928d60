/**
 * Variables of staging and production: a change opens a ticket; the value waits in the
 * variable store (never in this history), and is applied only once the ticket is approved,
 * then the environment is deployed again (built again when the build sees the variable).
 */
import { defineUpdate, getExternalWorkflowHandle } from '@temporalio/workflow';
import { workflowIds } from '../../domain/names';
import { variableChangeRefusal, type VariableTicketRequest } from '../../domain/project-rules';
import type { TicketRecord } from '../../domain/tickets';
import { projectGit as engine } from '../activity-proxies';
import { variablesChangedSignal } from '../environment';
import type { ProjectContext } from './context';
import { openTicket, takeTicketNumber } from './tickets';
import { setAnsweredOnceHandler } from '../lib/answered-updates';

export type { VariableTicketRequest } from '../../domain/project-rules';
/** Opens a ticket to set or unset a variable of staging or production; applied once approved. */
export const requestVariableChangeUpdate = defineUpdate<{ ticket: string }, [VariableTicketRequest]>('requestVariableChange');

/** Decided variable tickets whose change is still to apply or drop (from the main loop: it runs an activity). */
export interface VariableSettlement {
  ticket: number;
  approved: boolean;
}

export function registerVariables(ctx: ProjectContext, settlements: VariableSettlement[]): (t: TicketRecord) => void {
  const { state } = ctx;
  setAnsweredOnceHandler(
    ctx.state,
    requestVariableChangeUpdate,
    async (r) => {
      ctx.recheck(variableChangeRefusal(state, r));
      const number = takeTicketNumber(state);
      const { roster, expiresInMs, remindBeforeMs, ...change } = r;
      (state.pendingVariables ??= {})[String(number)] = change;
      const what = r.action === 'unset' ? `Remove variable ${r.name}` : `Set variable ${r.name}`;
      await openTicket(
        {
          project: state.project,
          number,
          kind: 'variable',
          target: r.environment as 'staging' | 'production',
          requester: r.requester,
          title: `${what} on ${r.environment}${r.action === 'set' ? (r.valueChanged ? ' (new value' : ' (same value') + (r.sensitive ? ', sensitive)' : ')') : ''}`,
          requiredApprovals: 1,
          expiresInMs,
          remindBeforeMs,
          roster,
          payload: { name: r.name, action: r.action, sensitive: String(r.sensitive), valueChanged: String(r.valueChanged) },
        },
        `SUP-${number}: ${what.toLowerCase()} on ${state.project} ${r.environment}, requested by ${r.requester}`,
      );
      return { ticket: `SUP-${number}` };
    },
    { validator: (r: VariableTicketRequest) => ctx.validate(() => variableChangeRefusal(state, r)) },
  );
  return (t) => {
    if (t.kind !== 'variable' || !state.pendingVariables?.[String(t.number)]) return;
    settlements.push({ ticket: t.number, approved: t.status === 'approved' });
  };
}

/** Applies (or drops) a decided ticket's change, deploys the environment again, and tells the ticket. */
export async function settleVariableTicket(ctx: ProjectContext, s: VariableSettlement): Promise<void> {
  const { state } = ctx;
  const pending = state.pendingVariables?.[String(s.ticket)];
  if (!pending) return;
  const applied = await engine.settleVariableChange.executeWithOptions(
    { summary: `${s.approved ? 'apply' : 'drop'} the variable change of SUP-${s.ticket}` },
    [{ project: state.project, change: pending.change, approved: s.approved }],
  );
  delete state.pendingVariables![String(s.ticket)];
  if (!s.approved) return;
  if (applied && state.environments[applied.environment]?.started) {
    await getExternalWorkflowHandle(workflowIds.environment(state.project, applied.environment)).signal(variablesChangedSignal, { build: applied.build });
  }
  ctx.outbox.push({
    ticket: s.ticket,
    outcome: applied
      ? `variable ${applied.name} ${pending.action === 'unset' ? 'removed from' : 'set on'} ${applied.environment}; ${applied.build ? 'built again and deployed' : 'deployed again'}`
      : 'the staged change was gone: nothing applied',
  });
}
