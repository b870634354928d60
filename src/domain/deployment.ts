/**
 * A deployment: its input, its ordered named steps, and what it reports.
 * Pure types and helpers, shared by workflow code and activities.
 */

/** Build then deploy, in this order; each is logged with its start, duration and outcome. */
export const DEPLOYMENT_STEPS = [
  'checkout',
  'validate',
  'build-hook',
  'store-slug',
  'stage-release',
  'switch-release',
] as const;
export type DeploymentStep = (typeof DEPLOYMENT_STEPS)[number];

/** Identifies one deployment everywhere: ids of files, directories and log lines derive from it. */
export interface DeploymentKey {
  project: string;
  environment: string;
  /** 1, 2, 3 … per environment. */
  number: number;
}

export interface DeploymentInput extends DeploymentKey {
  branch: string;
  commit: string;
  /** The host whose task queue runs the deploy activities. */
  host: string;
}

export interface ReleaseRef {
  deployment: number;
  commit: string;
  slug: string;
  /** Directory name of the release under the environment's releases/. */
  release: string;
}

export interface DeploymentSucceeded {
  status: 'succeeded';
  deployment: number;
  commit: string;
  treeId: string;
  slug: string;
  slugReused: boolean;
  release: string;
}

/** Why a deployment failed, in an operator's words. */
export interface StepFailureDetails {
  step: DeploymentStep;
  /** Exit code of the hook or command, when a process failed. */
  exitCode?: number;
  /** The last lines of the step's log. */
  logTail: string;
  message: string;
}

export interface DeploymentFailed {
  status: 'failed';
  deployment: number;
  commit: string;
  failure: StepFailureDetails;
}

export type DeploymentOutcome = DeploymentSucceeded | DeploymentFailed;

/** Temporal error type of a step that must not be retried (a user's hook or file is at fault). */
export const STEP_FAILED = 'SlipwayStepFailed';
/** Temporal error type a failed deployment workflow ends with. */
export const DEPLOYMENT_FAILED = 'SlipwayDeploymentFailed';

export function isStepFailureDetails(x: unknown): x is StepFailureDetails {
  return typeof x === 'object' && x !== null && 'step' in x && 'message' in x && 'logTail' in x;
}

export function describeFailure(f: StepFailureDetails): string {
  const code = f.exitCode === undefined ? '' : ` (exit code ${f.exitCode})`;
  return `step "${f.step}" failed${code}: ${f.message}`;
}

/** Directory name of a deployment's release: sortable. */
export const releaseName = (n: number): string => `d${String(n).padStart(6, '0')}`;
