/**
 * One deployment of one environment: build (the live site untouched), then deploy.
 * Workflow id `deploy/<project>/<environment>/<n>`.
 */
import {
  ActivityFailure,
  ApplicationFailure,
  defineQuery,
  proxyActivities,
  setHandler,
  upsertSearchAttributes,
  type RetryPolicy,
} from '@temporalio/workflow';
import type { EngineActivities, HostActivities } from '../activities';
import {
  DEPLOYMENT_FAILED,
  STEP_FAILED,
  describeFailure,
  isStepFailureDetails,
  type DeploymentInput,
  type DeploymentStep,
  type DeploymentSucceeded,
  type StepFailureDetails,
} from '../domain/deployment';
import { hostTaskQueue } from '../domain/names';
import { SlipwayPhase } from '../domain/search-attributes';

export type StepStatus = 'running' | 'succeeded' | 'failed' | 'skipped';
export interface StepProgress {
  step: DeploymentStep;
  status: StepStatus;
  startedAt: number;
  endedAt?: number;
}
export interface DeploymentProgress {
  phase: 'build' | 'deploy' | 'succeeded' | 'failed';
  commit: string;
  steps: StepProgress[];
}

/** Phase and steps so far: what the CLI shows as live progress. */
export const deploymentProgressQuery = defineQuery<DeploymentProgress>('progress');

const retry: RetryPolicy = { initialInterval: '1s', maximumAttempts: 5, nonRetryableErrorTypes: [STEP_FAILED] };

const engine = proxyActivities<EngineActivities>({ startToCloseTimeout: '5 minutes', retry });
const engineHooks = proxyActivities<EngineActivities>({
  startToCloseTimeout: '60 minutes',
  heartbeatTimeout: '30 seconds',
  retry,
});

export async function deploymentWorkflow(input: DeploymentInput): Promise<DeploymentSucceeded> {
  const host = proxyActivities<HostActivities>({
    taskQueue: hostTaskQueue(input.host),
    startToCloseTimeout: '5 minutes',
    retry,
  });
  const key = { project: input.project, environment: input.environment, number: input.number };
  const progress: DeploymentProgress = { phase: 'build', commit: input.commit, steps: [] };
  setHandler(deploymentProgressQuery, () => progress);

  const setPhase = (phase: DeploymentProgress['phase']): void => {
    progress.phase = phase;
    upsertSearchAttributes([{ key: SlipwayPhase, value: phase }]);
  };
  async function step<T>(name: DeploymentStep, run: () => Promise<T>): Promise<T> {
    const s: StepProgress = { step: name, status: 'running', startedAt: Date.now() };
    progress.steps.push(s);
    try {
      const result = await run();
      s.status = 'succeeded';
      return result;
    } catch (err) {
      s.status = 'failed';
      throw err;
    } finally {
      s.endedAt = Date.now();
    }
  }
  const skip = (name: DeploymentStep): void => {
    const now = Date.now();
    progress.steps.push({ step: name, status: 'skipped', startedAt: now, endedAt: now });
  };

  let currentStep: DeploymentStep = 'checkout';
  try {
    setPhase('build');
    const { workspace, treeId } = await step('checkout', () =>
      engine.checkoutCommit.executeWithOptions({ summary: `check out ${input.commit.slice(0, 12)}` }, [
        { ...key, commit: input.commit },
      ]),
    );
    const ctx = { ...key, branch: input.branch, treeId, workspace };
    currentStep = 'validate';
    const plan = await step('validate', () =>
      engine.validateProject.executeWithOptions({ summary: 'validate project files' }, [ctx]),
    );
    const { slug, exists } = await engine.lookupSlug.executeWithOptions({ summary: 'look up slug' }, [
      { ...ctx, plan },
    ]);
    if (exists) {
      skip('build-hook');
      skip('store-slug');
      await engine.discardWorkspace(ctx);
    } else {
      currentStep = 'build-hook';
      await step('build-hook', () =>
        engineHooks.runBuildHook.executeWithOptions({ summary: 'run hooks.build' }, [{ ...ctx, plan }]),
      );
      currentStep = 'store-slug';
      await step('store-slug', () =>
        engine.storeSlug.executeWithOptions({ summary: `store slug ${slug}` }, [{ ...ctx, slug }]),
      );
    }

    setPhase('deploy');
    currentStep = 'stage-release';
    const { release } = await step('stage-release', () =>
      host.stageRelease.executeWithOptions({ summary: `stage release from slug ${slug}` }, [
        { ...key, commit: input.commit, slug, webRoot: plan.webRoot },
      ]),
    );
    currentStep = 'switch-release';
    await step('switch-release', () =>
      host.switchRelease.executeWithOptions({ summary: `switch current to ${release}` }, [{ ...key, release }]),
    );
    setPhase('succeeded');
    return {
      status: 'succeeded',
      deployment: input.number,
      commit: input.commit,
      treeId,
      slug,
      slugReused: exists,
      release,
    };
  } catch (err) {
    setPhase('failed');
    const failure = failureDetails(err, currentStep);
    throw ApplicationFailure.create({
      message: describeFailure(failure),
      type: DEPLOYMENT_FAILED,
      nonRetryable: true,
      details: [failure],
    });
  }
}

function failureDetails(err: unknown, step: DeploymentStep): StepFailureDetails {
  if (err instanceof ActivityFailure && err.cause instanceof ApplicationFailure) {
    const d: unknown = err.cause.details?.[0];
    if (isStepFailureDetails(d)) return d;
    return { step, logTail: '', message: err.cause.message };
  }
  return { step, logTail: '', message: err instanceof Error ? err.message : String(err) };
}
