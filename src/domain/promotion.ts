/** Promotion: integration → staging → production, each behind a support ticket. */
import type { Identity } from './tickets';

export type PromotionTarget = 'staging' | 'production';
export const PROMOTION_SOURCE: Record<PromotionTarget, string> = { staging: 'integration', production: 'staging' };

export interface PromotionInput {
  project: string;
  target: PromotionTarget;
  source: string;
  requester: string;
  ticket: number;
  /** The source's live release when the promotion was asked for: what gets promoted. */
  release: { deployment: number; commit: string; slug: string; treeId: string };
  roster: Identity[];
  requiredApprovals: 1 | 2;
  expiresInMs: number;
  remindBeforeMs: number;
  /** promote --data: the source's database and mounts go too (the target snapshotted first). */
  withData?: boolean;
}

export type PromotionStatus = 'waiting' | 'deploying' | 'deployed' | 'rejected' | 'expired' | 'cancelled' | 'failed';

export interface PromotionResult {
  status: PromotionStatus;
  ticket: string;
  target: PromotionTarget;
  commit: string;
  slug: string;
  deployment?: number;
  /** Production: master was updated to this commit. */
  masterUpdated?: boolean;
  error?: string;
}

export const promotionWorkflowId = (project: string, target: PromotionTarget, ticket: number): string =>
  `promote/${project}/${target}/SUP-${ticket}`;
