/**
 * Promotion gating: one open promotion per target (staging, production). A promotion takes a
 * ticket number here and frees its target when it closes, however it ended.
 */
import { ParentClosePolicy, defineUpdate, setHandler, startChild } from '@temporalio/workflow';
import { isObject, promoteRefusal, type PromoteRequest } from '../../domain/project-rules';
import { PROMOTION_SOURCE, promotionWorkflowId } from '../../domain/promotion';
import { SlipwayCommit, SlipwayEnvironment, SlipwayKind, SlipwayProject } from '../../domain/search-attributes';
import { promotionClosedSignal } from '../project-signals';
import { promotionWorkflow } from '../promotion';
import type { ProjectContext } from './context';
import { startEnvironment } from './environments';
import { takeTicketNumber } from './tickets';
import { setAnsweredOnceHandler } from '../lib/answered-updates';

export type { PromoteRequest } from '../../domain/project-rules';
/** Starts a promotion to staging or production: one open at a time per target. */
export const promoteUpdate = defineUpdate<{ ticket: string; workflowId: string }, [PromoteRequest]>('promote');

export function registerPromotions(ctx: ProjectContext): void {
  const { state } = ctx;
  setHandler(promotionClosedSignal, (closed) => {
    if (!isObject(closed)) return;
    const { target, ticket } = closed;
    if (state.openPromotions?.[target] === ticket) delete state.openPromotions[target];
  }, { description: 'Internal (sent by a promotion workflow when it ends: its target takes a new promotion). Not an operator action.' });
  setAnsweredOnceHandler(
    ctx.state,
    promoteUpdate,
    async (r) => {
      ctx.recheck(promoteRefusal(state, r));
      const target = r.target;
      const number = takeTicketNumber(state);
      (state.openPromotions ??= {})[target] = number;
      const entry = state.environments[target]!;
      if (!entry.started) {
        entry.started = true;
        await startEnvironment(state, target);
      }
      entry.status = 'active';
      const workflowId = promotionWorkflowId(state.project, target, number);
      await startChild(promotionWorkflow, {
        workflowId,
        args: [
          {
            ...r,
            project: state.project,
            source: PROMOTION_SOURCE[target],
            ticket: number,
            // The project's plan setting, not the caller's word.
            requiredApprovals: target === 'production' ? (state.productionApprovals ?? 1) : 1,
          },
        ],
        parentClosePolicy: ParentClosePolicy.ABANDON,
        staticSummary: `Promote ${state.project} ${PROMOTION_SOURCE[target]} to ${target} (SUP-${number}), requested by ${r.requester}`,
        typedSearchAttributes: [
          { key: SlipwayProject, value: state.project },
          { key: SlipwayEnvironment, value: target },
          { key: SlipwayCommit, value: r.release.commit },
          { key: SlipwayKind, value: 'promotion' },
        ],
      });
      return { ticket: `SUP-${number}`, workflowId };
    },
    { validator: (r: PromoteRequest) => ctx.validate(() => promoteRefusal(state, r)) },
  );
}
