/**
 * A support ticket, id `ticket/<project>/SUP-<n>`: it waits for a support engineer's decision,
 * reminds before it expires, and expires if nobody decides. A decision arrives as a signal
 * (from the Temporal UI or `temporal workflow signal`) or as an Update (CLI, API: refused at
 * once); both go through the same rules, and every attempt is kept in the ticket's record.
 */
import {
  ApplicationFailure,
  condition,
  defineQuery,
  defineSignal,
  defineUpdate,
  getExternalWorkflowHandle,
  isCancellation,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { REFUSED } from '../domain/failure-types';
import { SlipwayTicketStatus } from '../domain/search-attributes';
import {
  decisionRefusal,
  malformedDecision,
  ticketId,
  type DecisionRequest,
  type TicketInput,
  type TicketRecord,
} from '../domain/tickets';

/** Approve or reject, as a signal: invalid ones are recorded and change nothing. */
export const ticketDecideSignal = defineSignal<[DecisionRequest]>('decide');
/** Approve or reject, as an Update: an invalid one is recorded and refused to the caller. */
export const ticketDecisionUpdate = defineUpdate<TicketRecord, [DecisionRequest]>('decision');
/** Close the ticket (its promotion was cancelled). */
export const ticketCancelSignal = defineSignal<[{ reason: string }]>('cancel');
export const ticketQuery = defineQuery<TicketRecord>('ticket');
/** Sent to the parent (the promotion) when the ticket closes, with its record. */
export const ticketClosedSignal = defineSignal<[TicketRecord]>('ticketClosed');
/** What came of an approved ticket, from the promotion: kept in the ticket's record. */
export const ticketOutcomeSignal = defineSignal<[{ outcome: string }]>('outcome');

export async function ticketWorkflow(input: TicketInput): Promise<TicketRecord> {
  const { roster, ...rest } = input;
  const openedAt = Date.now();
  const ticket: TicketRecord = {
    ...rest,
    id: ticketId(input.number),
    status: 'open',
    openedAt,
    expiresAt: openedAt + input.expiresInMs,
    approvals: [],
    attempts: [],
    reminders: [],
  };
  setHandler(ticketQuery, () => ticket);

  const close = (status: TicketRecord['status'], reason: string): void => {
    ticket.status = status;
    ticket.closedAt = Date.now();
    ticket.closedReason = reason;
    upsertSearchAttributes([{ key: SlipwayTicketStatus, value: status }]);
  };

  /** Applies a decision if the rules allow it; records the attempt either way. */
  const decide = (raw: DecisionRequest, via: 'signal' | 'update'): string | undefined => {
    const malformed = malformedDecision(raw);
    const refusal = malformed ?? decisionRefusal(ticket, roster, raw);
    const at = Date.now();
    const shown = (v: unknown): string => (typeof v === 'string' ? v.slice(0, 100) : JSON.stringify(v) ?? 'undefined');
    const r = (raw ?? {}) as unknown as Record<string, unknown>;
    ticket.attempts.push({
      user: shown(r.user),
      decision: shown(r.decision),
      comment: typeof r.comment === 'string' ? r.comment.slice(0, 2000) : undefined,
      at,
      via,
      accepted: refusal === undefined,
      refusal,
    });
    if (refusal) return refusal;
    if (raw.decision === 'reject') {
      ticket.rejection = { user: raw.user, comment: raw.comment, at };
      close('rejected', `rejected by ${raw.user}${raw.comment ? `: ${raw.comment}` : ''}`);
    } else {
      ticket.approvals.push({ user: raw.user, comment: raw.comment, at });
      if (ticket.approvals.length >= ticket.requiredApprovals) {
        close('approved', `approved by ${ticket.approvals.map((a) => a.user).join(' and ')}`);
      }
    }
    return undefined;
  };

  setHandler(ticketDecideSignal, (req) => {
    decide(req, 'signal');
  });
  setHandler(
    ticketDecisionUpdate,
    (req) => {
      const refusal = decide(req, 'update');
      if (refusal) throw ApplicationFailure.create({ message: refusal, type: REFUSED, nonRetryable: true });
      return ticket;
    },
    {
      // Only the shape is checked at the door: a well-formed but refused decision must still
      // reach the handler, so that the attempt is kept in the record.
      validator: (req: DecisionRequest) => {
        const problem = malformedDecision(req);
        if (problem) throw new Error(problem);
      },
    },
  );
  // Sent by the engine; a hand-made one that is not an object would fail every workflow task.
  setHandler(ticketCancelSignal, (cancel) => {
    if (typeof cancel !== 'object' || cancel === null) return;
    if (ticket.status === 'open') close('cancelled', cancel.reason);
  });
  setHandler(ticketOutcomeSignal, (told) => {
    if (typeof told !== 'object' || told === null) return;
    ticket.outcome = told.outcome;
  });

  upsertSearchAttributes([{ key: SlipwayTicketStatus, value: 'open' }]);
  try {
    const remindAt = Math.max(0, input.expiresInMs - input.remindBeforeMs);
    if (!(await condition(() => ticket.status !== 'open', remindAt, { summary: 'wait for a decision, then remind' }))) {
      ticket.reminders.push(Date.now());
      const untilExpiry = { summary: 'wait for a decision, then expire the ticket' };
      if (!(await condition(() => ticket.status !== 'open', input.expiresInMs - remindAt, untilExpiry))) {
        close('expired', `nobody decided within ${Math.round(input.expiresInMs / 60_000)} minutes`);
      }
    }
  } catch (err) {
    if (isCancellation(err) && ticket.status === 'open') close('cancelled', 'the request was cancelled');
    throw err;
  }
  const parent = workflowInfo().parent;
  if (parent) {
    // The promotion acts on the decision, then tells the ticket what came of it.
    // By id alone: an entity parent may have continued-as-new since it opened this ticket.
    await getExternalWorkflowHandle(parent.workflowId).signal(ticketClosedSignal, ticket);
    if (ticket.status === 'approved') {
      await condition(() => ticket.outcome !== undefined, '7 days', { summary: 'wait for the promotion outcome' });
    }
  }
  return ticket;
}
