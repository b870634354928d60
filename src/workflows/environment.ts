/**
 * An environment's entity workflow, id `env/<project>/<environment>`: it owns the push queue
 * and the current and previous releases, and runs one deployment at a time. Pushes that
 * arrive during a deployment are coalesced: the branch's newest commit deploys next.
 */
import {
  ChildWorkflowFailure,
  ApplicationFailure,
  condition,
  continueAsNew,
  defineQuery,
  defineSignal,
  executeChild,
  proxyActivities,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { EngineActivities } from '../activities';
import { describeFailure, isStepFailureDetails, type DeploymentInput } from '../domain/deployment';
import {
  DEPLOYMENT_RECORDS_KEPT,
  type DeploymentRecord,
  type EnvironmentState,
  type EnvironmentStatus,
  type PushEvent,
} from '../domain/environment';
import { workflowIds } from '../domain/names';
import {
  SlipwayCommit,
  SlipwayEnvironment,
  SlipwayKind,
  SlipwayPhase,
  SlipwayProject,
} from '../domain/search-attributes';
import { deploymentWorkflow } from './deployment';

/** A push to the environment's branch (sent by the project workflow). */
export const environmentPushSignal = defineSignal<[PushEvent]>('push');
export const environmentStatusQuery = defineQuery<EnvironmentStatus>('status');

const git = proxyActivities<EngineActivities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1s', maximumAttempts: 10 },
});

export async function environmentWorkflow(initial: EnvironmentState): Promise<void> {
  const state: EnvironmentState = initial;
  let running: DeploymentRecord | undefined;

  setHandler(environmentPushSignal, (push) => {
    if (!state.pending || push.pushedAt >= state.pending.pushedAt) state.pending = push;
  });
  setHandler(environmentStatusQuery, () => ({ ...state, running }));

  const record = (r: DeploymentRecord): void => {
    state.deployments.push(r);
    if (state.deployments.length > DEPLOYMENT_RECORDS_KEPT) state.deployments.shift();
  };

  for (;;) {
    await condition(() => state.pending !== undefined || workflowInfo().continueAsNewSuggested);
    if (workflowInfo().continueAsNewSuggested) {
      await continueAsNew<typeof environmentWorkflow>(state);
    }
    state.pending = undefined;

    // The branch's newest commit, not the signal's: signals from concurrent pushes may arrive
    // out of order, the branch head cannot.
    const commit = await git.resolveBranchHead.executeWithOptions({ summary: `resolve ${state.branch}` }, [
      { project: state.project, branch: state.branch },
    ]);
    const last = state.deployments[state.deployments.length - 1];
    if (state.current?.commit === commit && last?.status === 'succeeded') continue;

    const n = state.nextDeployment++;
    const input: DeploymentInput = {
      project: state.project,
      environment: state.environment,
      branch: state.branch,
      commit,
      number: n,
      host: state.host,
    };
    running = { deployment: n, commit, status: 'running', startedAt: Date.now() };
    upsertSearchAttributes([
      { key: SlipwayPhase, value: 'deploying' },
      { key: SlipwayCommit, value: commit },
    ]);
    try {
      const result = await executeChild(deploymentWorkflow, {
        workflowId: workflowIds.deployment(state.project, state.environment, n),
        args: [input],
        staticSummary: `Deploy ${state.project}/${state.environment} #${n} at ${commit.slice(0, 12)}`,
        typedSearchAttributes: [
          { key: SlipwayProject, value: state.project },
          { key: SlipwayEnvironment, value: state.environment },
          { key: SlipwayCommit, value: commit },
          { key: SlipwayKind, value: 'deployment' },
          { key: SlipwayPhase, value: 'build' },
        ],
      });
      if (state.current) state.previous = state.current;
      state.current = { deployment: n, commit, slug: result.slug, release: result.release };
      record({
        ...running,
        status: 'succeeded',
        endedAt: Date.now(),
        slug: result.slug,
        slugReused: result.slugReused,
      });
    } catch (err) {
      const details =
        err instanceof ChildWorkflowFailure && err.cause instanceof ApplicationFailure
          ? err.cause.details?.[0]
          : undefined;
      record({
        ...running,
        status: 'failed',
        endedAt: Date.now(),
        error: isStepFailureDetails(details)
          ? describeFailure(details)
          : err instanceof Error
            ? err.message
            : String(err),
        failedStep: isStepFailureDetails(details) ? details.step : undefined,
      });
    } finally {
      running = undefined;
      upsertSearchAttributes([{ key: SlipwayPhase, value: 'idle' }]);
    }
  }
}
