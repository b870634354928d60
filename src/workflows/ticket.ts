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
  log,
  patched,
  setDefaultSignalHandler,
  setHandler,
  upsertMemo,
  upsertSearchAttributes,
  workflowInfo,
  type SignalDefinition,
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
export const ticketQuery = defineQuery<TicketRecord>('ticket');
/**
 * Workflow-to-workflow plumbing, named `internal:…` so that the Temporal UI (which lists a
 * workflow's signals) offers no operator a `cancel` or an `outcome` that looks like a decision.
 * Their names before (`cancel`, `outcome`, `ticketClosed`) are retired aliases: still handled
 * (running workflows may get them from senders of before, and the stored histories hold them)
 * by the default signal handler, so they are no longer listed; senders use the new names since
 * the patch INTERNAL_SIGNAL_NAMES.
 */
/** Close the open ticket as cancelled, with a reason. Internal (no engine component sends it today: a promotion's ticket is cancelled with the promotion). */
export const ticketCancelSignal = defineSignal<[{ reason: string }]>('internal:cancelTicket');
/** Sent to the parent (the promotion, or the project) when the ticket closes, with its record. Internal. */
export const ticketClosedSignal = defineSignal<[TicketRecord]>('internal:ticketClosed');
/** What came of an approved ticket, from the promotion or the project: kept in the ticket's record. Internal. */
export const ticketOutcomeSignal = defineSignal<[{ outcome: string }]>('internal:ticketOutcome');
/** The names the internal signals had before, by their current name. */
export const RETIRED_SIGNAL_NAMES = {
  [ticketCancelSignal.name]: 'cancel',
  [ticketClosedSignal.name]: 'ticketClosed',
  [ticketOutcomeSignal.name]: 'outcome',
} as const;
/** Patch: internal signals are sent under their `internal:` names (before: `cancel`, `outcome`, `ticketClosed`). */
export const INTERNAL_SIGNAL_NAMES = 'internal-signal-names';
/** Patch: a refused decision is recorded in the ticket's memo (`lastRefusal`), an event in its history. */
export const REFUSAL_TRACE = 'ticket-refusal-trace';

/** The signal to send for an internal one: its `internal:` name once the patch is in, else the name it had. */
export function internalSignal<Args extends unknown[]>(def: SignalDefinition<Args>): SignalDefinition<Args> | string {
  return patched(INTERNAL_SIGNAL_NAMES) ? def : RETIRED_SIGNAL_NAMES[def.name]!;
}

const DECISION_HELP =
  'Input: {"user":"sam","decision":"approve"|"reject","comment":"…"}. Only a support engineer of the project other than the requester decides; production may need two. ' +
  'A decision that breaks a rule changes nothing and is shown in the memo (lastRefusal) and the ticket record.';

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
  setHandler(ticketQuery, () => ticket, { description: 'The ticket: its request, status, approvals and every decision attempt (accepted or refused).' });

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
    if (refusal) {
      // Visible in the Temporal UI: a memo change is an event of the history (WorkflowPropertiesModified).
      if (patched(REFUSAL_TRACE)) {
        upsertMemo({ lastRefusal: `refused: ${refusal} (${shown(r.user)} ${shown(r.decision)} by ${via}, ${new Date(at).toISOString()})`, refusals: ticket.attempts.filter((a) => !a.accepted).length });
      }
      return refusal;
    }
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

  setHandler(
    ticketDecideSignal,
    (req) => {
      decide(req, 'signal');
    },
    { description: `Operator decision: approve or reject this ticket (as \`slipway ticket approve|reject\`). ${DECISION_HELP}` },
  );
  setHandler(
    ticketDecisionUpdate,
    (req) => {
      const refusal = decide(req, 'update');
      if (refusal) throw ApplicationFailure.create({ message: refusal, type: REFUSED, nonRetryable: true });
      return ticket;
    },
    {
      description: `Operator decision, answered at once: approve or reject this ticket; a refused one fails with the reason. ${DECISION_HELP}`,
      // Only the shape is checked at the door: a well-formed but refused decision must still
      // reach the handler, so that the attempt is kept in the record.
      validator: (req: DecisionRequest) => {
        const problem = malformedDecision(req);
        if (problem) throw new Error(problem);
      },
    },
  );
  // Sent by the engine; a hand-made one that is not an object would fail every workflow task.
  const cancelTicket = (cancel: { reason: string }): void => {
    if (typeof cancel !== 'object' || cancel === null) return;
    if (ticket.status === 'open') close('cancelled', cancel.reason);
  };
  const toldOutcome = (told: { outcome: string }): void => {
    if (typeof told !== 'object' || told === null) return;
    ticket.outcome = told.outcome;
  };
  setHandler(ticketCancelSignal, cancelTicket, { description: 'Internal (sent by engine code, with a reason): closes the open ticket as cancelled. Not an operator action: cancel the promote/… workflow, which closes its ticket.' });
  setHandler(ticketOutcomeSignal, toldOutcome, { description: 'Internal (sent by the promotion or the project): what came of the approved ticket. Not an operator action.' });
  // The retired names: not listed in the UI, still honoured.
  setDefaultSignalHandler((name, ...args) => {
    if (name === RETIRED_SIGNAL_NAMES[ticketCancelSignal.name]) cancelTicket(args[0] as { reason: string });
    else if (name === RETIRED_SIGNAL_NAMES[ticketOutcomeSignal.name]) toldOutcome(args[0] as { outcome: string });
    else log.warn(`signal ${JSON.stringify(name)} is not one a ticket takes (decide is the decision): ignored`);
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
    await getExternalWorkflowHandle(parent.workflowId).signal(internalSignal(ticketClosedSignal), ticket);
    if (ticket.status === 'approved') {
      await condition(() => ticket.outcome !== undefined, '7 days', { summary: 'wait for the promotion outcome' });
    }
  }
  return ticket;
}
