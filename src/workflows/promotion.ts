/**
 * A promotion, id `promote/<project>/<target>/SUP-<n>`: opens a support ticket (with the
 * deployment-settings diff), waits for its decision, fast-forwards the target branch to the
 * source's deployed commit, has the target's environment deploy the source's slug (no build:
 * what was tested is what runs), and after production updates master. Cancelling it closes the
 * ticket; production's smoke check failing rolls production back (the deployment's compensation).
 */
import {
  CancellationScope,
  condition,
  defineQuery,
  getExternalWorkflowHandle,
  isCancellation,
  log,
  patched,
  setDefaultSignalHandler,
  setHandler,
  startChild,
} from '@temporalio/workflow';
import type { DeploymentRecord } from '../domain/environment';
import { workflowIds } from '../domain/names';
import type { PromotionInput, PromotionResult } from '../domain/promotion';
import { SlipwayEnvironment, SlipwayKind, SlipwayProject, SlipwayTicketStatus } from '../domain/search-attributes';
import type { TicketRecord } from '../domain/tickets';
import { promotionGit as git } from './activity-proxies';
import { environmentPromoteSignal, promotionDeployedSignal } from './environment';
import { promotionClosedSignal } from './project-signals';
import { internalSignal, RETIRED_SIGNAL_NAMES, ticketClosedSignal, ticketOutcomeSignal, ticketWorkflow } from './ticket';

export const promotionQuery = defineQuery<PromotionResult>('promotion');

/**
 * Patch: when the promoted deployment fails and is rolled back, the target branch is moved back
 * to the commit it had, which is the one still served.
 */
export const BRANCH_FOLLOWS_ROLLBACK = 'branch-follows-rollback';

export async function promotionWorkflow(input: PromotionInput): Promise<PromotionResult> {
  const ticketName = `SUP-${input.ticket}`;
  const result: PromotionResult = {
    status: 'waiting',
    ticket: ticketName,
    target: input.target,
    commit: input.release.commit,
    slug: input.release.slug,
  };
  setHandler(promotionQuery, () => result, { description: 'The promotion: its ticket, target, commit, slug, status and deployment.' });
  let ticket: TicketRecord | undefined;
  let deployed: DeploymentRecord | undefined;
  const ticketClosed = (t: TicketRecord): void => {
    ticket = t;
  };
  setHandler(ticketClosedSignal, ticketClosed, { description: 'Internal (sent by its ticket when it closes). Not an operator action: decide the ticket/… workflow instead.' });
  setHandler(
    promotionDeployedSignal,
    (d) => {
      deployed = d;
    },
    { description: "Internal (sent by the target's environment workflow with the deployment's outcome). Not an operator action." },
  );
  // The retired name of ticketClosed (runs and histories of before): not listed in the UI, still honoured.
  setDefaultSignalHandler((name, ...args) => {
    if (name === RETIRED_SIGNAL_NAMES[ticketClosedSignal.name]) ticketClosed(args[0] as TicketRecord);
    else log.warn(`signal ${JSON.stringify(name)} is not one a promotion takes (its ticket takes the decision): ignored`);
  });
  const project = getExternalWorkflowHandle(workflowIds.project(input.project));

  try {
    const live = await git.resolveBranchHead.executeWithOptions({ summary: `head of ${input.target}` }, [
      { project: input.project, branch: input.target },
    ]);
    const settingsChange = await git.settingsChange.executeWithOptions({ summary: 'deployment settings changed?' }, [
      { project: input.project, from: live, to: input.release.commit },
    ]);
    const ticketHandle = await startChild(ticketWorkflow, {
      workflowId: workflowIds.ticket(input.project, input.ticket),
      args: [
        {
          project: input.project,
          number: input.ticket,
          kind: input.withData ? 'code-and-data' : 'promotion',
          target: input.target,
          requester: input.requester,
          title: `Promote ${input.withData ? 'code and data of ' : ''}${input.source} (${input.release.commit.slice(0, 12)}, deployment #${input.release.deployment}) to ${input.target}${input.withData ? `: its database and mounts replace ${input.target}'s (snapshotted first)` : ''}`,
          requiredApprovals: input.requiredApprovals,
          expiresInMs: input.expiresInMs,
          remindBeforeMs: input.remindBeforeMs,
          roster: input.roster,
          settingsChange,
          payload: { slug: input.release.slug, commit: input.release.commit, ...(input.withData ? { data: `${input.source} → ${input.target}` } : {}) },
        },
      ],
      staticSummary: `${ticketName}: promote ${input.project} ${input.source} to ${input.target}, requested by ${input.requester}`,
      typedSearchAttributes: [
        { key: SlipwayProject, value: input.project },
        { key: SlipwayEnvironment, value: input.target },
        { key: SlipwayKind, value: 'ticket' },
        { key: SlipwayTicketStatus, value: 'open' },
      ],
    });
    await condition(() => ticket !== undefined);
    const decided = ticket!;
    if (decided.status !== 'approved') {
      result.status = decided.status === 'open' ? 'failed' : decided.status;
      result.error = decided.closedReason;
      return result;
    }

    result.status = 'deploying';
    const moved = await git.fastForward.executeWithOptions({ summary: `fast-forward ${input.target}` }, [
      { project: input.project, branch: input.target, commit: input.release.commit },
    ]);
    await getExternalWorkflowHandle(workflowIds.environment(input.project, input.target)).signal(environmentPromoteSignal, {
      slug: input.release.slug,
      treeId: input.release.treeId,
      commit: input.release.commit,
      source: input.source,
      sourceDeployment: input.release.deployment,
      replyTo: `promote/${input.project}/${input.target}/${ticketName}`,
      smokePaths: input.target === 'production' ? ['/admin'] : [],
      ...(input.withData ? { withData: true } : {}),
    });
    await condition(() => deployed !== undefined);
    const d = deployed!;
    result.deployment = d.deployment;
    if (d.status !== 'succeeded') {
      result.status = 'failed';
      result.error = d.error;
      // The deployment was undone: the branch goes back to the commit still served (since this patch).
      if (patched(BRANCH_FOLLOWS_ROLLBACK)) {
        await git.moveBranchBack
          .executeWithOptions({ summary: `move ${input.target} back to ${moved.from.slice(0, 12)}` }, [
            { project: input.project, branch: input.target, to: moved.from, from: input.release.commit },
          ])
          .catch((err: unknown) => {
            result.error = `${result.error ?? ''}; ${input.target} not moved back: ${err instanceof Error ? (err.cause instanceof Error ? err.cause.message : err.message) : String(err)}`;
          });
      }
      await ticketHandle.signal(internalSignal(ticketOutcomeSignal), {
        outcome: `deployment #${d.deployment} of ${input.target} failed and was rolled back: ${d.error ?? ''}`,
      });
      return result;
    }
    if (input.target === 'production') {
      await git.fastForward.executeWithOptions({ summary: 'update master (Global Master)' }, [
        { project: input.project, branch: 'master', commit: input.release.commit },
      ]);
      result.masterUpdated = true;
    }
    result.status = 'deployed';
    await ticketHandle.signal(internalSignal(ticketOutcomeSignal), {
      outcome: `deployed to ${input.target} as deployment #${d.deployment} (slug ${input.release.slug})${result.masterUpdated ? '; master updated' : ''}`,
    });
    return result;
  } catch (err) {
    if (isCancellation(err)) result.status = 'cancelled';
    else {
      result.status = 'failed';
      result.error = err instanceof Error ? (err.cause instanceof Error ? err.cause.message : err.message) : String(err);
    }
    if (isCancellation(err)) throw err;
    return result;
  } finally {
    // The target takes a new promotion once this one is over, however it ended.
    await CancellationScope.nonCancellable(() => project.signal(promotionClosedSignal, { target: input.target, ticket: input.ticket }));
  }
}
