/** Signals other workflows send to a project's workflow (kept apart to avoid an import cycle). */
import { defineSignal } from '@temporalio/workflow';

/** A promotion is over (deployed, refused, expired, cancelled or failed): its target is free. */
export const promotionClosedSignal = defineSignal<[{ target: string; ticket: number }]>('promotionClosed');
