/**
 * SSH keys of staging and production: a request opens a ticket, and the key is recorded only
 * once the ticket is approved.
 */
import { defineUpdate } from '@temporalio/workflow';
import { sshKeyRefusal, sshKeyRemovalRefusal, type SshKeyRemovalRequest, type SshKeyTicketRequest } from '../../domain/project-rules';
import type { TicketRecord } from '../../domain/tickets';
import type { ProjectContext } from './context';
import { openTicket, takeTicketNumber } from './tickets';
import { setAnsweredOnceHandler } from '../lib/answered-updates';

export type { SshKeyTicketRequest } from '../../domain/project-rules';
/** Opens a ticket to add an SSH public key to staging or production; recorded once approved. */
export const requestSshKeyUpdate = defineUpdate<{ ticket: string }, [SshKeyTicketRequest]>('requestSshKey');
/** Opens a ticket to take an SSH key away from staging or production; removed once approved (the SSH gateway then ends its sessions). */
export const requestSshKeyRemovalUpdate = defineUpdate<{ ticket: string }, [SshKeyRemovalRequest]>('requestSshKeyRemoval');

export function registerSshKeys(ctx: ProjectContext): (t: TicketRecord) => void {
  const { state, outbox } = ctx;
  setAnsweredOnceHandler(
    ctx.state,
    requestSshKeyUpdate,
    async (r) => {
      ctx.recheck(sshKeyRefusal(state, r));
      const number = takeTicketNumber(state);
      const { roster, expiresInMs, remindBeforeMs, ...key } = r;
      (state.pendingSshKeys ??= {})[String(number)] = key;
      await openTicket(
        {
          project: state.project,
          number,
          kind: 'ssh-key',
          target: r.environment as 'staging' | 'production',
          requester: r.requester,
          title: `Add SSH key ${r.fingerprint} (${r.comment || r.type}) to ${r.environment}`,
          requiredApprovals: 1,
          expiresInMs,
          remindBeforeMs,
          roster,
          payload: { key: r.key, fingerprint: r.fingerprint },
        },
        `SUP-${number}: add an SSH key to ${state.project} ${r.environment}, requested by ${r.requester}`,
      );
      return { ticket: `SUP-${number}` };
    },
    { validator: (r: SshKeyTicketRequest) => ctx.validate(() => sshKeyRefusal(state, r)) },
  );
  setAnsweredOnceHandler(
    ctx.state,
    requestSshKeyRemovalUpdate,
    async (r) => {
      ctx.recheck(sshKeyRemovalRefusal(state, r));
      const record = (state.sshKeys?.[r.environment] ?? []).find((k) => k.fingerprint === r.fingerprint)!;
      const number = takeTicketNumber(state);
      (state.pendingSshKeys ??= {})[String(number)] = {
        action: 'remove',
        environment: r.environment,
        type: record.type,
        key: record.key,
        comment: record.comment,
        fingerprint: record.fingerprint,
        requester: r.requester,
      };
      await openTicket(
        {
          project: state.project,
          number,
          kind: 'ssh-key',
          target: r.environment as 'staging' | 'production',
          requester: r.requester,
          title: `Remove SSH key ${r.fingerprint} (${record.comment || record.type}) from ${r.environment}`,
          requiredApprovals: 1,
          expiresInMs: r.expiresInMs,
          remindBeforeMs: r.remindBeforeMs,
          roster: r.roster,
          payload: { action: 'remove', fingerprint: r.fingerprint },
        },
        `SUP-${number}: remove an SSH key from ${state.project} ${r.environment}, requested by ${r.requester}`,
      );
      return { ticket: `SUP-${number}` };
    },
    { validator: (r: SshKeyRemovalRequest) => ctx.validate(() => sshKeyRemovalRefusal(state, r)) },
  );
  /** An SSH-key ticket closed: the key is recorded (or taken away) only if it was approved. */
  return (t) => {
    const key = state.pendingSshKeys?.[String(t.number)];
    if (!key || t.kind !== 'ssh-key') return;
    delete state.pendingSshKeys![String(t.number)];
    if (t.status === 'approved' && key.action === 'remove') {
      state.sshKeys![key.environment] = (state.sshKeys?.[key.environment] ?? []).filter((k) => k.fingerprint !== key.fingerprint);
      outbox.push({ ticket: t.number, outcome: `key ${key.fingerprint} removed from ${key.environment}` });
      return;
    }
    if (t.status === 'approved') {
      ((state.sshKeys ??= {})[key.environment] ??= []).push({
        ...key,
        ticket: t.id,
        approvedBy: t.approvals.map((a) => a.user),
        addedAt: Date.now(),
      });
      outbox.push({ ticket: t.number, outcome: `key ${key.fingerprint} added to ${key.environment}` });
    }
  };
}
