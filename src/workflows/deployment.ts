/**
 * One deployment of one environment, id `deploy/<project>/<environment>/<n>`: its plan
 * (src/domain/deployment-plan.ts) walked by the plan runner. The build first (the live site
 * untouched), then the deploy; a failure after maintenance went on is compensated (the release
 * served before restored, maintenance off) and reported with its step, exit code and log tail.
 */
import { ActivityFailure, ApplicationFailure, CancellationScope, defineQuery, isCancellation, patched, setHandler, TimeoutFailure } from '@temporalio/workflow';
import { DEFAULT_HOST_START_TIMEOUT_SECONDS, hostDidNotTakeStep } from '../domain/activity-timeouts';
import { DEPLOYMENT_FAILED, describeFailure, isStepFailureDetails, type DeploymentInput, type DeploymentStep, type DeploymentSucceeded, type StepFailureDetails } from '../domain/deployment';
import { planBuild, planDeploy, SERVICES_IN_BUILD_PHASE } from '../domain/deployment-plan';
import { deploymentProxies } from './activity-proxies';
import { applicationFailureOf, failedStepOf, PlanRunner, type DeploymentProgress, type RunnerProxies } from './lib/plan-runner';

export type { DeploymentProgress, StepProgress, StepStatus } from './lib/plan-runner';

/** Phase and steps so far: what the CLI shows as live progress. */
export const deploymentProgressQuery = defineQuery<DeploymentProgress>('progress');

export async function deploymentWorkflow(input: DeploymentInput): Promise<DeploymentSucceeded> {
  // Several hosts: each one's proxies (the same options and timeouts as the single host's).
  const byHost = new Map<string, RunnerProxies>();
  const proxiesOn = (host: string): RunnerProxies => {
    if (!byHost.has(host)) byHost.set(host, deploymentProxies(host, input.hostStartTimeout) as unknown as RunnerProxies);
    return byHost.get(host)!;
  };
  const runner = new PlanRunner(
    input,
    {
      project: input.project,
      environment: input.environment,
      number: input.number,
      branch: input.branch,
      commit: input.commit,
      mode: input.mode,
      smokePaths: input.smokePaths ?? [],
      pruneKeeping: input.liveRelease ? [input.liveRelease] : [],
      // A stored slug (redeploy, rollback, promotion): known before the plan runs.
      ...(input.source.kind === 'slug' ? { slug: input.source.slug, treeId: input.source.treeId } : {}),
      ...(input.data ? { data: input.data } : {}),
    },
    proxiesOn(input.host),
    proxiesOn,
  );
  setHandler(deploymentProgressQuery, () => runner.progress);
  const { ctx } = runner;
  try {
    runner.setPhase('build');
    await runner.run(planBuild(input));
    // Since services-in-build-phase, staging the release, its services and its application end
    // the build phase (the phase becomes 'deploy' with the maintenance window): one search
    // attribute upsert moves, so runs recorded before it keep the old order.
    await runner.run(planDeploy(input, ctx.manifest!, { servicesInBuild: patched(SERVICES_IN_BUILD_PHASE) }));
    runner.setPhase('succeeded');
    return {
      status: 'succeeded',
      deployment: input.number,
      commit: input.commit,
      treeId: ctx.treeId!,
      slug: ctx.slug!,
      slugReused: ctx.slugReused ?? false,
      release: ctx.release!,
      maintenanceMs: (ctx.until ?? 0) - (ctx.since ?? 0),
      crons: Object.keys(ctx.manifest?.crons ?? {}),
    };
  } catch (err) {
    const failure = failureDetails(err, runner.currentStep, input, runner.failedHost ?? input.host);
    if (runner.failedHost) failure.host = runner.failedHost;
    // Compensation runs to the end even when the deployment was cancelled.
    const undone = await CancellationScope.nonCancellable(() => runner.compensate(failedStepOf(err), (e, host) => failureDetails(e, 'restore-previous', input, host).message));
    if (undone.length > 0) failure.compensation = undone.join('; ');
    runner.setPhase('failed');
    if (isCancellation(err)) throw err;
    throw ApplicationFailure.create({ message: describeFailure(failure), type: DEPLOYMENT_FAILED, nonRetryable: true, details: [failure] });
  }
}

/** What failed, for the deployment's record; `host` is the host the failed step (or undo) was bound to. */
function failureDetails(err: unknown, step: DeploymentStep, input: DeploymentInput, host: string): StepFailureDetails {
  const notTaken = hostNotTaking(err, host, input.hostStartTimeout);
  if (notTaken) return { step, logTail: '', message: notTaken };
  const failure = applicationFailureOf(err);
  if (failure) {
    const d: unknown = failure.details?.[0];
    if (isStepFailureDetails(d)) return { ...d };
    return { step, logTail: '', message: failure.message };
  }
  const cause = err instanceof ActivityFailure && err.cause ? err.cause : err;
  return { step, logTail: '', message: cause instanceof Error ? cause.message : String(cause) };
}

/** "host web2 did not take the step in 60 s (activity stageRelease)…" for a step its host's queue kept waiting. */
function hostNotTaking(err: unknown, host: string, startTimeout: number | undefined): string | undefined {
  if (!(err instanceof ActivityFailure) || !(err.cause instanceof TimeoutFailure) || err.cause.timeoutType !== 'SCHEDULE_TO_START') return undefined;
  return hostDidNotTakeStep(host, startTimeout ?? DEFAULT_HOST_START_TIMEOUT_SECONDS, err.activityType);
}
