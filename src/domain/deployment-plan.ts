/**
 * A deployment as a declared plan, as ece-tools' scenario files list a build's and a deploy's
 * steps: ordered groups of named steps, each group run by one activity (one hand-over), on the
 * engine's queue or the serving host's, locally or not, with what undoes it. The deployment
 * workflow walks the plan with one runner; adding a step is one entry here and its body in
 * the group's activity. Pure: unit-tested, bundled into workflow code.
 */
import { BUILD_STEPS, type DeploymentInput, type DeploymentStep } from './deployment';
import type { SlugManifest } from './project-files';

/** The activities that run a group of steps (see src/activities). */
export type GroupActivity = 'loadSlugManifest' | 'prepareBuild' | 'buildSlug' | 'stageRelease' | 'deployAndSwitch' | 'postDeployAndVerify';

/** What undoes a group's work once it may have started, in the order the stack unwinds it. */
export interface Undo {
  /** The compensation step, as reported and logged; its activity runs on the host's queue. */
  step: 'restore-previous' | 'maintenance-off';
  /**
   * Not needed when the group failed at one of these steps (they come before what this
   * undoes): a failed deploy hook switched nothing. A failure that names no step (a timeout, a
   * cancellation) always needs it.
   */
  notAfterFailureOf?: DeploymentStep[];
  /** Needed only while the group runs: the group undoes it itself when it completes. */
  whileRunning?: boolean;
  /** The host whose work it undoes, when the environment has several (its group's host). */
  host?: string;
}

export interface PlannedGroup {
  activity: GroupActivity;
  phase: 'build' | 'deploy';
  /** The named steps the activity runs, in order (it reports each: succeeded or skipped). */
  steps: DeploymentStep[];
  /** The engine's queue, or the queue of the host that serves the environment. */
  queue: 'engine' | 'host';
  /**
   * A local activity of the deployment's workflow task (no round trip through the server); a
   * host's group runs so only when this engine is that host, else on the host's queue.
   */
  local: boolean;
  /** Runs user code (a hook) or static content: long, heartbeats, cancelled at once. */
  long: boolean;
  /** What the Temporal UI shows for the call. */
  summary: string;
  /** Steps the plan does not run here, reported as skipped before the group runs. */
  skips?: DeploymentStep[];
  /** Run only when the slug was not found built: the build proper. */
  onlyIfNotBuilt?: boolean;
  /** Pushed on the compensation stack before the call: a call that timed out may have done part of it. */
  undo?: Undo[];
  /**
   * An environment on several hosts: the group runs on each of these hosts' queues (never
   * locally), in parallel, its steps recorded per host; any host's failure fails the group.
   */
  hosts?: string[];
  /**
   * The group on a host other than the first: the work done once for the environment (the
   * snapshot, the data copy, the deploy and post-deploy hooks) ran on this host, not here.
   */
  onceOn?: string;
}

/** Steps a deployment of a stored slug does not run: everything of the build. */
export const BUILD_STEP_NAMES: readonly DeploymentStep[] = BUILD_STEPS;

const short = (commit: string): string => commit.slice(0, 12);

/** The build: from a commit, or nothing to build (a stored slug: redeploy, rollback, promotion). */
export function planBuild(input: Pick<DeploymentInput, 'commit' | 'source'>): PlannedGroup[] {
  if (input.source.kind === 'slug') {
    const slug = input.source.slug;
    return [{ activity: 'loadSlugManifest', phase: 'build', steps: [], skips: [...BUILD_STEP_NAMES], queue: 'engine', local: true, long: false, summary: `load slug ${slug}` }];
  }
  return [
    {
      activity: 'prepareBuild',
      phase: 'build',
      steps: ['checkout', 'validate', 'patches'],
      queue: 'engine',
      local: true,
      long: false,
      summary: `check out ${short(input.commit)} unless its tree was built, validate, look up the slug, apply m2-hotfixes`,
    },
    {
      activity: 'buildSlug',
      phase: 'build',
      steps: ['build-hook', 'static-content-build', 'store-slug'],
      queue: 'engine',
      local: false,
      long: true,
      summary: 'run hooks.build, deploy static content when in the build, store the slug',
      onlyIfNotBuilt: true,
    },
  ];
}

/** Environments whose deployments are snapshotted first (their database and mounts). */
export const SNAPSHOTTED_ENVIRONMENTS: readonly string[] = ['staging', 'production'];

/** Why a deployment takes no snapshot first, or undefined when it does (the same rule for the plan and the step). */
export function noSnapshotReason(environment: string, manifest: Pick<SlugManifest, 'services' | 'mounts'>): string | undefined {
  if (!SNAPSHOTTED_ENVIRONMENTS.includes(environment)) return 'snapshots are taken before deployments of staging and production';
  const databases = Object.values(manifest.services ?? {}).some((s) => s.kind === 'mysql' || s.kind === 'mariadb');
  if (!databases && Object.keys(manifest.mounts ?? {}).length === 0) return 'no database and no mount declared';
  return undefined;
}

/** The version patch under which the staging group (stage, provision services, start the application) reports as the build's end. */
export const SERVICES_IN_BUILD_PHASE = 'services-in-build-phase';

/** How the plan is shaped for a run's history (workflow code passes what its patches say). */
export interface PlanOptions {
  /**
   * The staging group ends the build phase, as the seed's build script ends with "provision all
   * backend services and applications" while the site still serves; the deploy phase starts
   * with the maintenance window. False only for histories recorded before the
   * `services-in-build-phase` patch, where that group reported as the deploy phase.
   */
  servicesInBuild?: boolean;
}

/**
 * The deploy of a slug whose manifest is known: stage (the end of the build phase: the release,
 * its services and its application on the environment's host, beside the one serving), switch
 * inside the maintenance window, verify.
 */
export function planDeploy(
  input: Pick<DeploymentInput, 'number' | 'mode'> & Partial<Pick<DeploymentInput, 'environment' | 'data' | 'hosts'>>,
  manifest: Pick<SlugManifest, 'staticContent'> & Partial<Pick<SlugManifest, 'services' | 'mounts'>>,
  options: PlanOptions = {},
): PlannedGroup[] {
  // The build proper runs on the engine, where no environment's services live: they are
  // provisioned at the end of the build phase, on the environment's host, before maintenance.
  const stagePhase: PlannedGroup['phase'] = options.servicesInBuild === false ? 'deploy' : 'build';
  const release = `d${String(input.number).padStart(6, '0')}`;
  const scdInDeploy = manifest.staticContent.where === 'deploy';
  // Known from the input: whether the window snapshots the data first, and whether it brings data.
  const snapshot = noSnapshotReason(input.environment ?? '', { services: manifest.services ?? {}, mounts: manifest.mounts ?? {} }) === undefined;
  const copy = input.data !== undefined;
  const windowSteps: DeploymentStep[] = [...(snapshot ? ['snapshot-data' as const] : []), ...(copy ? ['copy-data' as const] : []), ...(scdInDeploy ? ['static-content-deploy' as const] : []), 'deploy-hook', 'switch-release'];
  const windowSkips: DeploymentStep[] = [...(snapshot ? [] : ['snapshot-data' as const]), ...(copy ? [] : ['copy-data' as const]), ...(scdInDeploy ? [] : ['static-content-deploy' as const])];
  if (input.hosts && input.hosts.length > 1) return planOnHosts(input.hosts, release, input.mode, scdInDeploy, windowSteps, windowSkips, stagePhase);
  return [
    {
      activity: 'stageRelease',
      phase: stagePhase,
      steps: ['stage-release', 'provision-services', 'start-application'],
      queue: 'host',
      local: true,
      long: false,
      summary: `stage ${release}, start its services and its application beside the one serving, then prune old releases`,
    },
    {
      activity: 'deployAndSwitch',
      phase: 'deploy',
      steps: windowSteps,
      ...(windowSkips.length > 0 ? { skips: windowSkips } : {}),
      queue: 'host',
      local: false,
      long: true,
      summary: `maintenance on, ${scdInDeploy ? 'deploy static content, ' : ''}run hooks.deploy (${input.mode}), switch current to ${release}, maintenance off`,
      undo: [{ step: 'maintenance-off', whileRunning: true }, { step: 'restore-previous', notAfterFailureOf: ['snapshot-data', 'copy-data', 'static-content-deploy', 'deploy-hook'] }],
    },
    {
      activity: 'postDeployAndVerify',
      phase: 'deploy',
      steps: ['post-deploy-hook', 'warm-up', 'health-check'],
      queue: 'host',
      local: false,
      long: true,
      summary: 'run hooks.post_deploy, warm up pages, health check of the routes',
    },
  ];
}

/**
 * The deploy on several hosts (production on its dedicated hosts): every host stages the
 * release, in parallel; then the first host runs the window with the work done once for the
 * environment (snapshot, data copy, deploy hook: the migrations) and switches; then each other
 * host switches in turn (its own window: maintenance, static content, switch); a failure on any
 * host switches back every host that switched (their `restore-previous`). The post-deploy hook
 * runs once, on the first host; the warm-up and health check run on every host.
 */
function planOnHosts(
  hosts: string[],
  release: string,
  mode: DeploymentInput['mode'],
  scdInDeploy: boolean,
  windowSteps: DeploymentStep[],
  windowSkips: DeploymentStep[],
  stagePhase: PlannedGroup['phase'],
): PlannedGroup[] {
  const [first, ...others] = hosts as [string, ...string[]];
  const onceSteps: DeploymentStep[] = ['snapshot-data', 'copy-data', 'deploy-hook'];
  const switchUndo = (host: string, notAfterFailureOf: DeploymentStep[]): Undo[] => [
    { step: 'maintenance-off', whileRunning: true, host },
    { step: 'restore-previous', notAfterFailureOf, host },
  ];
  return [
    {
      activity: 'stageRelease',
      phase: stagePhase,
      steps: ['stage-release', 'provision-services', 'start-application'],
      queue: 'host',
      local: false,
      long: false,
      hosts: [...hosts],
      summary: `stage ${release} on ${hosts.join(', ')}, start its services and its application beside the one serving, then prune old releases`,
    },
    {
      activity: 'deployAndSwitch',
      phase: 'deploy',
      steps: windowSteps,
      ...(windowSkips.length > 0 ? { skips: windowSkips } : {}),
      queue: 'host',
      local: false,
      long: true,
      hosts: [first],
      summary: `on ${first}: maintenance on, ${scdInDeploy ? 'deploy static content, ' : ''}run hooks.deploy (${mode}) once for all hosts, switch current to ${release}, maintenance off`,
      undo: switchUndo(first, ['snapshot-data', 'copy-data', 'static-content-deploy', 'deploy-hook']),
    },
    ...others.map(
      (host): PlannedGroup => ({
        activity: 'deployAndSwitch',
        phase: 'deploy',
        steps: [...(scdInDeploy ? ['static-content-deploy' as const] : []), 'switch-release'],
        skips: [...onceSteps, ...(scdInDeploy ? [] : ['static-content-deploy' as const])],
        queue: 'host',
        local: false,
        long: true,
        hosts: [host],
        onceOn: first,
        summary: `on ${host}: maintenance on, ${scdInDeploy ? 'deploy static content, ' : ''}switch current to ${release} (hooks.deploy ran on ${first}), maintenance off`,
        undo: switchUndo(host, ['static-content-deploy']),
      }),
    ),
    {
      activity: 'postDeployAndVerify',
      phase: 'deploy',
      steps: ['post-deploy-hook', 'warm-up', 'health-check'],
      queue: 'host',
      local: false,
      long: true,
      hosts: [first],
      summary: `on ${first}: run hooks.post_deploy once for all hosts, warm up pages, health check of the routes`,
    },
    ...(others.length === 0
      ? []
      : [
          {
            activity: 'postDeployAndVerify',
            phase: 'deploy',
            steps: ['warm-up', 'health-check'],
            skips: ['post-deploy-hook'],
            queue: 'host',
            local: false,
            long: true,
            hosts: others,
            onceOn: first,
            summary: `on ${others.join(', ')}: warm up pages, health check of the routes (hooks.post_deploy ran on ${first})`,
          } satisfies PlannedGroup,
        ]),
  ];
}

/**
 * The undos to run after a group failed, in order: the stack unwound from its top, without
 * those that the step it failed at makes unneeded.
 */
export function undosToRun(stack: readonly Undo[], failedStep: DeploymentStep | undefined): Undo[] {
  return [...stack].reverse().filter((u) => failedStep === undefined || !u.notAfterFailureOf?.includes(failedStep));
}
