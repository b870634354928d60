/**
 * A deployment: its input, its ordered named steps, and what it reports.
 * Pure types and helpers, shared by workflow code and activities.
 */

/** Build then deploy, in this order; each is logged with its start, duration and outcome. */
export const BUILD_STEPS = ['checkout', 'validate', 'patches', 'build-hook', 'static-content-build', 'store-slug'] as const;
export const DEPLOY_STEPS = [
  'stage-release',
  'provision-services',
  'start-application',
  'maintenance-on',
  'snapshot-data',
  'copy-data',
  'static-content-deploy',
  'deploy-hook',
  'switch-release',
  'maintenance-off',
  'post-deploy-hook',
  'warm-up',
  'health-check',
] as const;
/** Compensation: runs only when a deployment fails after maintenance went on. */
export const COMPENSATION_STEPS = ['restore-previous'] as const;
export const DEPLOYMENT_STEPS = [...BUILD_STEPS, ...DEPLOY_STEPS, ...COMPENSATION_STEPS] as const;
export type DeploymentStep = (typeof DEPLOYMENT_STEPS)[number];

/**
 * One named step of several that a single activity ran, in order (a group of the deployment's
 * plan): when it started and ended, and whether it had work to do.
 */
export interface StepTiming {
  step: DeploymentStep;
  status: 'succeeded' | 'skipped';
  startedAt: number;
  endedAt: number;
}


/** Identifies one deployment everywhere: ids of files, directories and log lines derive from it. */
export interface DeploymentKey {
  project: string;
  environment: string;
  /** 1, 2, 3 … per environment. */
  number: number;
  /**
   * The host that serves the environment, on a host's step that the engine runs locally: the
   * engine runs it only if it is that host (else it refuses with NOT_THIS_HOST).
   */
  host?: string;
}

/** A host's step run locally by an engine that is not that host: the step runs on the host's queue. */
export { NOT_THIS_HOST } from './failure-types';

/** Where the code comes from: a commit to build, or a stored slug (redeploy, rollback, promotion). */
export type DeploymentSource =
  | { kind: 'commit' }
  | { kind: 'slug'; slug: string; treeId: string; reason: 'redeploy' | 'rollback' | 'promotion'; from?: number };

export interface DeploymentInput extends DeploymentKey {
  branch: string;
  commit: string;
  /** The host whose task queue runs the deploy activities (with `hosts`: the first of them). */
  host: string;
  /**
   * Every host that serves the environment, when there are several (production on its
   * dedicated hosts): each stages the release, then all switch or none does. Absent: `host` alone.
   */
  hosts?: string[];
  source: DeploymentSource;
  /** The environment's first deployment installs; later ones update. */
  mode: 'install' | 'update';
  /** The release being served when this deployment started: what a failure restores. */
  liveRelease?: string;
  /** Paths the health check requests besides the routes (production's smoke check: /admin). */
  smokePaths?: string[];
  /** Data brought into the environment inside the maintenance window, before the deploy hook. */
  data?: DataSource;
  /**
   * Seconds a host step may wait for the host to take it (schedule-to-start); absent in
   * inputs from before it existed: DEFAULT_HOST_START_TIMEOUT_SECONDS.
   */
  hostStartTimeout?: number;
}

/**
 * Where a deployment's data comes from: another environment's database and mounts (a new
 * branch's parent, `sync --data`, `promote --data`), or a snapshot of this environment: the one
 * taken before a deployment (`rollback --with-data`) or one by its id (`env snapshot restore`).
 */
export type DataSource = { kind: 'environment'; from: string } | { kind: 'snapshot'; before: number } | { kind: 'snapshot'; id: string };

export interface ReleaseRef {
  deployment: number;
  commit: string;
  slug: string;
  treeId: string;
  /** Directory name of the release under the environment's releases/. */
  release: string;
}

export interface DeploymentSucceeded {
  status: 'succeeded';
  /** Milliseconds the router answered with the maintenance page (maintenance on → off). */
  maintenanceMs: number;
  deployment: number;
  commit: string;
  treeId: string;
  slug: string;
  slugReused: boolean;
  release: string;
  /** The names of the release's `crons:` (absent in results of deployments before crons ran). */
  crons?: string[];
}

/** Why a deployment failed, in an operator's words. */
export interface StepFailureDetails {
  step: DeploymentStep;
  /** Exit code of the hook or command, when a process failed. */
  exitCode?: number;
  /** The last lines of the step's log. */
  logTail: string;
  message: string;
  /** The sandbox limit the hook hit (memory, processes, cpu-time, file-size, timeout, silence). */
  limit?: string;
  /** What was done to leave the environment as it was: "restored d000003; maintenance off". */
  compensation?: string;
  /** The host the step failed on, when the environment has several. */
  host?: string;
}

export interface DeploymentFailed {
  status: 'failed';
  deployment: number;
  commit: string;
  failure: StepFailureDetails;
}

export type DeploymentOutcome = DeploymentSucceeded | DeploymentFailed;

/** Temporal error types of a deployment (their home is failure-types; kept here for the importers). */
export { DEPLOYMENT_FAILED, STEP_FAILED } from './failure-types';

export function isStepFailureDetails(x: unknown): x is StepFailureDetails {
  return typeof x === 'object' && x !== null && 'step' in x && 'message' in x && 'logTail' in x;
}

export function describeFailure(f: StepFailureDetails): string {
  const code = f.exitCode === undefined ? '' : ` (exit code ${f.exitCode})`;
  const comp = f.compensation ? ` [${f.compensation}]` : '';
  const on = f.host ? ` on host ${f.host}` : '';
  return `step "${f.step}" failed${on}${code}: ${f.message}${comp}`;
}

/** Directory name of a deployment's release: sortable. */
export const releaseName = (n: number): string => `d${String(n).padStart(6, '0')}`;
