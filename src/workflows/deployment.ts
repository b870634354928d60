/**
 * One deployment of one environment, id `deploy/<project>/<environment>/<n>`: build (the live
 * site untouched), then deploy. A failure after maintenance went on is compensated: the
 * previous release is restored and maintenance switched off, then the failure is reported
 * with its step, exit code and log tail.
 */
import { ACTIVITY_HEARTBEAT_TIMEOUT } from '../domain/activity-timeouts';
import {
  ActivityCancellationType,
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  defineQuery,
  isCancellation,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  upsertSearchAttributes,
  type RetryPolicy,
} from '@temporalio/workflow';
import type { EngineActivities, HostActivities } from '../activities';
import {
  DEPLOYMENT_FAILED,
  NOT_THIS_HOST,
  STEP_FAILED,
  describeFailure,
  isStepFailureDetails,
  releaseName,
  type DeploymentInput,
  type DeploymentStep,
  type DeploymentSucceeded,
  type StepFailureDetails,
  type StepTiming,
} from '../domain/deployment';
import { hostTaskQueue } from '../domain/names';
import type { SlugManifest } from '../domain/project-files';
import { SlipwayPhase } from '../domain/search-attributes';

export type StepStatus = 'running' | 'succeeded' | 'failed' | 'skipped';
export interface StepProgress {
  step: DeploymentStep;
  status: StepStatus;
  startedAt: number;
  endedAt?: number;
}
export interface DeploymentProgress {
  phase: 'build' | 'deploy' | 'compensating' | 'succeeded' | 'failed';
  commit: string;
  steps: StepProgress[];
}

/** Phase and steps so far: what the CLI shows as live progress. */
export const deploymentProgressQuery = defineQuery<DeploymentProgress>('progress');

/** Patch: maintenance on inside the deploy hook's activity, off inside the switch's. */
export const SHORT_MAINTENANCE_WINDOW = 'maintenance-in-release-steps';
/** Patch: a pushed tree built before is found by its tree id, before any checkout. */
export const SLUG_BY_TREE = 'slug-by-tree-before-checkout';
/**
 * Patch: the engine's own short steps (checkout, validation, patches, slug store and lookup,
 * stage, switch, warm-up, health check, prune) run as local activities, in the workflow's own
 * task, with no round trip through the server each; the host's are run so only when this
 * engine is that host. The hooks and static content stay activities of their own.
 */
export const LOCAL_STEPS = 'short-steps-as-local-activities';
/**
 * Patch: the lookups that are no steps of their own ride with the step beside them, each a
 * hand-over less: the slug of the pushed tree with the checkout (checkoutUnlessBuilt), the
 * slug key with the validation (validateAndLookUpSlug), and pruning old releases with the
 * staging of the new one. Every named step is still one local activity or activity.
 */
export const LOOKUPS_WITH_STEPS = 'lookups-with-their-steps';
/**
 * Patch: consecutive steps run together, one hand-over per group, as ece-tools runs its build,
 * deploy and post-deploy scenarios:
 * - prepareBuild (local activity): checkout, validation, slug lookup, patches;
 * - buildSlug (activity): the build hook, static content, the slug store;
 * - stageRelease (local activity, as before);
 * - deployAndSwitch (activity): maintenance on, the deploy hook, the switch, maintenance off,
 *   so no hand-over falls inside the maintenance window;
 * - postDeployAndVerify (activity): the post-deploy hook, warm-up, health check.
 * Each named step is still logged, timed and reported in the progress, and a failure still
 * names its step; the history has one event per group.
 */
export const STEPS_TOGETHER = 'short-steps-together';

const retry: RetryPolicy = { initialInterval: '1s', maximumAttempts: 5, nonRetryableErrorTypes: [STEP_FAILED] };
const heartbeatTimeout = ACTIVITY_HEARTBEAT_TIMEOUT;
const engine = proxyActivities<EngineActivities>({ startToCloseTimeout: '5 minutes', heartbeatTimeout, retry });
/** Hooks and static content: long; like every activity they heartbeat, so a dead worker is noticed soon. */
/** On cancellation, the deployment waits until the hook's whole process group is stopped. */
const cancellationType = ActivityCancellationType.WAIT_CANCELLATION_COMPLETED;
const engineLong = proxyActivities<EngineActivities>({ startToCloseTimeout: '60 minutes', heartbeatTimeout, cancellationType, retry });
const engineLocal = proxyLocalActivities<EngineActivities>({ startToCloseTimeout: '5 minutes', retry });
const hostLocal = proxyLocalActivities<HostActivities>({ startToCloseTimeout: '5 minutes', retry });

/** What the build steps after the checkout work on. */
interface BuildContextOf {
  project: string;
  environment: string;
  number: number;
  branch: string;
  treeId: string;
  workspace: string;
}

/** What a step's call needs of an activity proxy, local or not. */
type Steps<A> = {
  [K in keyof A]: A[K] extends (...args: infer P) => infer R ? { executeWithOptions(o: { summary: string }, args: P): Promise<Awaited<R>> } : never;
};

/** The application failure a step raised: an activity's comes wrapped, a local activity's as it is. */
function applicationFailureOf(err: unknown): ApplicationFailure | undefined {
  if (err instanceof ActivityFailure && err.cause instanceof ApplicationFailure) return err.cause;
  if (err instanceof ApplicationFailure) return err;
  return undefined;
}

/** The step a step failure names, if the error is one. */
function failedStepOf(err: unknown): DeploymentStep | undefined {
  const d: unknown = applicationFailureOf(err)?.details?.[0];
  return isStepFailureDetails(d) ? d.step : undefined;
}

function isNotThisHost(err: unknown): boolean {
  return applicationFailureOf(err)?.type === NOT_THIS_HOST;
}

export async function deploymentWorkflow(input: DeploymentInput): Promise<DeploymentSucceeded> {
  const hostQueue = hostTaskQueue(input.host);
  const host = proxyActivities<HostActivities>({ taskQueue: hostQueue, startToCloseTimeout: '5 minutes', heartbeatTimeout, retry });
  const hostLong = proxyActivities<HostActivities>({
    taskQueue: hostQueue,
    startToCloseTimeout: '60 minutes',
    heartbeatTimeout,
    cancellationType,
    retry,
  });
  const key = { project: input.project, environment: input.environment, number: input.number };
  // Since this patch the short steps run as local activities (see LOCAL_STEPS).
  const local = patched(LOCAL_STEPS);
  // Since this patch the lookups ride with their steps (see LOOKUPS_WITH_STEPS).
  const withSteps = local && patched(LOOKUPS_WITH_STEPS);
  // Since this patch consecutive short steps run together (see STEPS_TOGETHER).
  const together = withSteps && patched(STEPS_TOGETHER);
  const short: Steps<EngineActivities> = local ? engineLocal : engine;
  /** Whether this host's short steps may run locally: until an engine says it is not the host. */
  let hostHere = local;
  /** A host's short step: locally when this engine is the host, else on the host's queue. */
  async function onHost<R>(
    call: (h: Steps<HostActivities>, hostKey: typeof key & { host?: string }) => Promise<R>,
    remote: Steps<HostActivities> = host,
  ): Promise<R> {
    if (hostHere) {
      try {
        return await call(hostLocal, { ...key, host: input.host });
      } catch (err) {
        if (!isNotThisHost(err)) throw err;
        hostHere = false;
      }
    }
    return call(remote, key);
  }
  const progress: DeploymentProgress = { phase: 'build', commit: input.commit, steps: [] };
  setHandler(deploymentProgressQuery, () => progress);

  const setPhase = (phase: DeploymentProgress['phase']): void => {
    progress.phase = phase;
    upsertSearchAttributes([{ key: SlipwayPhase, value: phase }]);
  };
  let currentStep: DeploymentStep = 'checkout';
  /** Runs a named step; `outcome` may report a step that found nothing to do as skipped. */
  async function step<T>(name: DeploymentStep, run: () => Promise<T>, outcome?: (result: T) => StepStatus): Promise<T> {
    currentStep = name;
    const s: StepProgress = { step: name, status: 'running', startedAt: Date.now() };
    progress.steps.push(s);
    try {
      const result = await run();
      s.status = outcome?.(result) ?? 'succeeded';
      return result;
    } catch (err) {
      s.status = 'failed';
      throw err;
    } finally {
      s.endedAt = Date.now();
    }
  }
  /**
   * Several named steps run in order by one local activity or activity: reported as they ran
   * (from the activity's timings), or up to the one that failed.
   */
  async function steps<T extends { steps: StepTiming[] }>(names: readonly DeploymentStep[], run: () => Promise<T>): Promise<T> {
    currentStep = names[0]!;
    const first: StepProgress = { step: currentStep, status: 'running', startedAt: Date.now() };
    progress.steps.push(first);
    const at = progress.steps.length - 1;
    try {
      const result = await run();
      progress.steps.splice(at, 1, ...result.steps.map((t) => ({ ...t })));
      return result;
    } catch (err) {
      const named = failedStepOf(err);
      const failed = named !== undefined && names.includes(named) ? named : currentStep;
      const now = Date.now();
      const before = names.slice(0, names.indexOf(failed)).map((step): StepProgress => ({ step, status: 'succeeded', startedAt: first.startedAt, endedAt: now }));
      progress.steps.splice(at, 1, ...before, { step: failed, status: 'failed', startedAt: first.startedAt, endedAt: now });
      currentStep = failed;
      throw err;
    }
  }
  const skip = (name: DeploymentStep): void => {
    const now = Date.now();
    progress.steps.push({ step: name, status: 'skipped', startedAt: now, endedAt: now });
  };

  /** Patches, build hook, static content (when in the build) and the slug store. */
  async function build(ctx: BuildContextOf, manifest: SlugManifest, slug: string): Promise<void> {
    await step('patches', () => short.applyPatches.executeWithOptions({ summary: 'apply m2-hotfixes' }, [ctx]));
    await step('build-hook', () => engineLong.runBuildHook.executeWithOptions({ summary: 'run hooks.build' }, [{ ...ctx, manifest }]));
    if (manifest.staticContent.where === 'build') {
      await step('static-content-build', () =>
        engineLong.buildStaticContent.executeWithOptions({ summary: 'deploy static content (build)' }, [{ ...ctx, manifest, slug }]),
      );
    } else skip('static-content-build');
    await step('store-slug', () => short.storeSlug.executeWithOptions({ summary: `store slug ${slug}` }, [{ ...ctx, slug, manifest }]));
  }

  // What compensation must undo.
  let maintenanceOn = false;
  let switched = false;

  try {
    // ---- Build ----
    setPhase('build');
    let slug: string;
    let treeId: string;
    let manifest: SlugManifest;
    let slugReused: boolean;
    // A pushed tree built before is found by its tree id, before any checkout (since this patch).
    const known =
      input.source.kind === 'commit' && !withSteps && patched(SLUG_BY_TREE)
        ? await short.findSlugOfCommit.executeWithOptions({ summary: `look up the slug of ${input.commit.slice(0, 12)}'s tree` }, [
            { ...key, commit: input.commit },
          ])
        : undefined;
    if (input.source.kind === 'slug') {
      ({ slug, treeId } = input.source);
      manifest = await short.loadSlugManifest.executeWithOptions({ summary: `load slug ${slug}` }, [{ slug }]);
      slugReused = true;
      for (const s of ['checkout', 'validate', 'patches', 'build-hook', 'static-content-build', 'store-slug'] as const) skip(s);
    } else if (together) {
      // Checkout (unless the tree was built), validation, slug lookup and patches in one go.
      const prepared = await steps(['checkout', 'validate', 'patches'], () =>
        short.prepareBuild.executeWithOptions(
          { summary: `check out ${input.commit.slice(0, 12)} unless its tree was built, validate, look up the slug, apply m2-hotfixes` },
          [{ ...key, commit: input.commit, branch: input.branch }],
        ),
      );
      ({ treeId, slug, manifest } = prepared);
      slugReused = prepared.reused;
      if (prepared.reused) {
        const reported = new Set(prepared.steps.map((t) => t.step));
        for (const s of ['validate', 'patches', 'build-hook', 'static-content-build', 'store-slug'] as const) if (!reported.has(s)) skip(s);
      } else {
        // The build hook, static content and the slug store in one activity.
        const ctx = { ...key, branch: input.branch, treeId, workspace: prepared.workspace ?? '' };
        await steps(['build-hook', 'static-content-build', 'store-slug'], () =>
          engineLong.buildSlug.executeWithOptions(
            { summary: `run hooks.build${manifest.staticContent.where === 'build' ? ', deploy static content' : ''}, store slug ${slug}` },
            [{ ...ctx, manifest, slug }],
          ),
        );
      }
    } else if (withSteps) {
      // The checkout step looks up the tree's slug first: a tree built before is not checked out.
      const checkout = await step(
        'checkout',
        () =>
          short.checkoutUnlessBuilt.executeWithOptions({ summary: `check out ${input.commit.slice(0, 12)} unless its tree was built` }, [
            { ...key, commit: input.commit },
          ]),
        (r) => (r.slug !== undefined ? 'skipped' : 'succeeded'),
      );
      treeId = checkout.treeId;
      if (checkout.slug !== undefined && checkout.manifest !== undefined) {
        ({ slug, manifest } = { slug: checkout.slug, manifest: checkout.manifest });
        slugReused = true;
        for (const s of ['validate', 'patches', 'build-hook', 'static-content-build', 'store-slug'] as const) skip(s);
      } else {
        const ctx = { ...key, branch: input.branch, treeId, workspace: checkout.workspace ?? '' };
        const found = await step('validate', () =>
          short.validateAndLookUpSlug.executeWithOptions({ summary: 'validate the project files, then look up the slug' }, [ctx]),
        );
        ({ manifest, slug } = found);
        slugReused = found.exists;
        if (found.exists) {
          for (const s of ['patches', 'build-hook', 'static-content-build', 'store-slug'] as const) skip(s);
          await short.discardWorkspace.executeWithOptions({ summary: 'discard the workspace' }, [ctx]);
        } else await build(ctx, manifest, slug);
      }
    } else if (known?.slug !== undefined && known.manifest !== undefined) {
      // The tree was built before: its slug is deployed, with no checkout and no build.
      ({ slug, treeId, manifest } = { slug: known.slug, treeId: known.treeId, manifest: known.manifest });
      slugReused = true;
      for (const s of ['checkout', 'validate', 'patches', 'build-hook', 'static-content-build', 'store-slug'] as const) skip(s);
    } else {
      const checkout = await step('checkout', () =>
        short.checkoutCommit.executeWithOptions({ summary: `check out ${input.commit.slice(0, 12)}` }, [
          { ...key, commit: input.commit },
        ]),
      );
      treeId = checkout.treeId;
      const ctx = { ...key, branch: input.branch, treeId, workspace: checkout.workspace };
      manifest = await step('validate', () =>
        short.validateProject.executeWithOptions({ summary: 'validate the project files' }, [ctx]),
      );
      const found = await short.lookupSlug.executeWithOptions({ summary: 'look up the slug' }, [{ ...ctx, manifest }]);
      slug = found.slug;
      slugReused = found.exists;
      if (found.exists) {
        for (const s of ['patches', 'build-hook', 'static-content-build', 'store-slug'] as const) skip(s);
        await short.discardWorkspace.executeWithOptions({ summary: 'discard the workspace' }, [ctx]);
      } else await build(ctx, manifest, slug);
    }

    // ---- Deploy ----
    setPhase('deploy');
    const keepLive = input.liveRelease ? [input.liveRelease] : [];
    const { release } = await step('stage-release', () =>
      onHost((h, k) =>
        h.stageRelease.executeWithOptions(
          { summary: `stage ${releaseName(input.number)} from slug ${slug}${withSteps ? ', then prune old releases' : ''}` },
          [{ ...k, commit: input.commit, slug, manifest, ...(withSteps ? { pruneKeeping: keepLive } : {}) }],
        ),
      ),
    );
    const dctx = { ...key, branch: input.branch, commit: input.commit, treeId, release, manifest };
    maintenanceOn = true; // set before the call: a retried or timed-out call may have written the flag
    // Since this patch the maintenance window has no round trip through the server at either
    // end: the deploy hook's activity switches maintenance on just before the hook, and the
    // switch's activity switches it off just after the switch.
    const shortWindow = patched(SHORT_MAINTENANCE_WINDOW) && manifest.staticContent.where !== 'deploy';
    let since: number;
    let until: number;
    if (shortWindow && together) {
      // Maintenance on, the hook, the switch and maintenance off in one activity (see STEPS_TOGETHER).
      skip('static-content-deploy');
      switched = true; // before the call: a call that timed out or was cancelled may have switched
      let done: { since: number; until: number };
      try {
        done = await steps(['deploy-hook', 'switch-release'], () =>
          hostLong.deployAndSwitch.executeWithOptions(
            { summary: `maintenance on, run hooks.deploy (${input.mode}), switch current to ${release}, maintenance off` },
            [{ ...dctx, mode: input.mode }],
          ),
        );
      } catch (err) {
        // A failed hook (its step's own failure) switched nothing: only maintenance to undo.
        if (failedStepOf(err) === 'deploy-hook') switched = false;
        throw err;
      }
      ({ since, until } = done);
    } else if (shortWindow) {
      const hook = await step('deploy-hook', () =>
        hostLong.runDeployHook.executeWithOptions({ summary: `maintenance on, then run hooks.deploy (${input.mode})` }, [
          { ...dctx, mode: input.mode, maintenanceFirst: true },
        ]),
      );
      since = hook.since ?? Date.now();
      skip('static-content-deploy');
      switched = true; // before the call: a call that timed out may still have switched
      ({ until } = await step('switch-release', () =>
        onHost((h, k) =>
          h.switchReleaseAndServe.executeWithOptions({ summary: `switch current to ${release}, then maintenance off` }, [{ ...k, release }]),
        ),
      ));
    } else {
      ({ since } = await step('maintenance-on', () => host.maintenanceOn.executeWithOptions({ summary: 'maintenance on' }, [key])));
      if (manifest.staticContent.where === 'deploy') {
        await step('static-content-deploy', () =>
          hostLong.deployStaticContentInRelease.executeWithOptions({ summary: 'deploy static content (deploy)' }, [dctx]),
        );
      } else skip('static-content-deploy');
      await step('deploy-hook', () =>
        hostLong.runDeployHook.executeWithOptions({ summary: `run hooks.deploy (${input.mode})` }, [{ ...dctx, mode: input.mode }]),
      );
      switched = true; // before the call: a call that timed out may still have switched
      await step('switch-release', () =>
        host.switchRelease.executeWithOptions({ summary: `switch current to ${release}` }, [{ ...key, release }]),
      );
      ({ until } = await step('maintenance-off', () =>
        host.maintenanceOff.executeWithOptions({ summary: 'maintenance off' }, [key]),
      ));
    }
    maintenanceOn = false;
    if (together) {
      // The checks follow the hook in the same activity: the site is live already.
      await steps(['post-deploy-hook', 'warm-up', 'health-check'], () =>
        hostLong.postDeployAndVerify.executeWithOptions({ summary: 'run hooks.post_deploy, warm up pages, health check of the routes' }, [
          { ...dctx, smokePaths: input.smokePaths ?? [] },
        ]),
      );
    } else {
      await step('post-deploy-hook', () =>
        hostLong.runPostDeployHook.executeWithOptions({ summary: 'run hooks.post_deploy' }, [dctx]),
      );
      await step('warm-up', () => onHost((h, k) => h.warmUp.executeWithOptions({ summary: 'warm up pages' }, [{ ...dctx, ...k }]), hostLong));
      await step('health-check', () =>
        onHost((h, k) =>
          h.healthCheck.executeWithOptions({ summary: 'health check of the routes' }, [{ ...dctx, ...k, smokePaths: input.smokePaths ?? [] }]),
        ),
      );
    }

    if (!withSteps) {
      const keep = [release, ...keepLive];
      await onHost((h, k) => h.pruneReleases.executeWithOptions({ summary: 'prune old releases' }, [{ ...k, keep }]));
    }
    setPhase('succeeded');
    return {
      status: 'succeeded',
      deployment: input.number,
      commit: input.commit,
      treeId,
      slug,
      slugReused,
      release,
      maintenanceMs: until - since,
    };
  } catch (err) {
    const failure = failureDetails(err, currentStep);
    const undone: string[] = [];
    if (maintenanceOn || switched) {
      setPhase('compensating');
      // Compensation runs to the end even when the deployment was cancelled.
      await CancellationScope.nonCancellable(async () => {
        if (switched) {
          const previous = input.liveRelease;
          await step('restore-previous', () =>
            host.restorePreviousRelease.executeWithOptions({ summary: `restore ${previous ?? 'nothing'}` }, [{ ...key, previous }]),
          );
          undone.push(previous ? `restored ${previous}` : 'no previous release: unpublished');
        }
        if (maintenanceOn) {
          await host.maintenanceOff.executeWithOptions({ summary: 'maintenance off (compensation)' }, [key]);
          undone.push('maintenance off');
        }
      });
    }
    if (undone.length > 0) failure.compensation = undone.join('; ');
    setPhase('failed');
    if (isCancellation(err)) throw err;
    throw ApplicationFailure.create({
      message: describeFailure(failure),
      type: DEPLOYMENT_FAILED,
      nonRetryable: true,
      details: [failure],
    });
  }
}

function failureDetails(err: unknown, step: DeploymentStep): StepFailureDetails {
  const failure = applicationFailureOf(err);
  if (failure) {
    const d: unknown = failure.details?.[0];
    if (isStepFailureDetails(d)) return { ...d };
    return { step, logTail: '', message: failure.message };
  }
  return { step, logTail: '', message: err instanceof Error ? err.message : String(err) };
}
