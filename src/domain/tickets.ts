/**
 * Support tickets (seed 004, "assisted deployment"): who may decide, and what a ticket keeps.
 * Pure rules, shared by the ticket workflow (which enforces them for signals and updates alike)
 * and the client.
 */
export const ROLES = ['developer', 'support', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** A person as the workflows see them: name and roles, never a credential. */
export interface Identity {
  user: string;
  roles: Role[];
}

/** `code-and-data`: a promotion that copies the source's database and mounts too (promote --data); `data-refresh`: staging's data from production (env sync staging --data --from production). */
export type TicketKind = 'promotion' | 'code-and-data' | 'data-refresh' | 'ssh-key' | 'variable';
export type TicketStatus = 'open' | 'approved' | 'rejected' | 'expired' | 'cancelled';

export interface DecisionRequest {
  user: string;
  decision: 'approve' | 'reject';
  comment?: string;
}

/** Every decision attempt, accepted or refused, in the ticket's record (as it arrived). */
export interface DecisionAttempt {
  user: string;
  decision: string;
  comment?: string;
  at: number;
  via: 'signal' | 'update';
  accepted: boolean;
  refusal?: string;
}

export interface TicketInput {
  project: string;
  /** SUP-<number>, per project. */
  number: number;
  kind: TicketKind;
  target: 'staging' | 'production';
  requester: string;
  title: string;
  /** Distinct approvals needed (production may need 2). */
  requiredApprovals: 1 | 2;
  expiresInMs: number;
  /** A reminder this long before expiry. */
  remindBeforeMs: number;
  roster: Identity[];
  /** Deployment-settings files changed by the promoted code, and their diff. */
  settingsChange?: { files: string[]; diff: string };
  /** Kind-specific payload (e.g. the SSH key's fingerprint). */
  payload?: Record<string, string>;
}

export interface TicketRecord extends Omit<TicketInput, 'roster'> {
  id: string;
  status: TicketStatus;
  openedAt: number;
  expiresAt: number;
  closedAt?: number;
  closedReason?: string;
  approvals: Array<{ user: string; comment?: string; at: number }>;
  rejection?: { user: string; comment?: string; at: number };
  attempts: DecisionAttempt[];
  reminders: number[];
  /** What came of it (set by the promotion after an approval): deployed, rolled back, … */
  outcome?: string;
}

export const ticketId = (n: number): string => `SUP-${n}`;

/** Why a decision is refused, or nothing when it is valid. */
export function decisionRefusal(ticket: TicketRecord, roster: Identity[], req: DecisionRequest): string | undefined {
  if (ticket.status !== 'open') return `${ticket.id} is ${ticket.status}: it takes no more decisions`;
  const who = roster.find((i) => i.user === req.user);
  if (!who) return `unknown user ${JSON.stringify(req.user)}`;
  if (!who.roles.includes('support')) return `${req.user} is not in the support role: only support engineers decide tickets`;
  if (req.user === ticket.requester) return `${req.user} requested this and cannot decide it`;
  if (req.decision === 'approve' && ticket.approvals.some((a) => a.user === req.user)) {
    return `${req.user} has approved already; ${ticket.id} needs ${ticket.requiredApprovals} distinct approvers`;
  }
  return undefined;
}

/** Shape of a decision as it arrives from outside (a signal may carry anything). */
export function malformedDecision(req: unknown): string | undefined {
  if (typeof req !== 'object' || req === null) return 'a decision must be an object {user, decision, comment?}';
  const r = req as Record<string, unknown>;
  if (typeof r.user !== 'string' || r.user.length === 0 || r.user.length > 100) return 'user must be a name';
  if (r.decision !== 'approve' && r.decision !== 'reject') return 'decision must be "approve" or "reject"';
  if (r.comment !== undefined && (typeof r.comment !== 'string' || r.comment.length > 2000)) return 'comment must be text of at most 2000 characters';
  return undefined;
}
