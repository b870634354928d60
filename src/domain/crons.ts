/**
 * Crons as Temporal Schedules: one Schedule per environment and `crons:` entry, id
 * `cron/<project>/<environment>/<name>`, starting a `cronRunWorkflow` per run (overlap: skip).
 * Pure names and shapes, shared by the workflows, the activities and the client.
 */

export const CRON_FAILED = 'SlipwayCronFailed';

/** The release a cron runs in: the environment's live one when the Schedule was last synced. */
export interface CronRelease {
  deployment: number;
  commit: string;
  treeId: string;
  slug: string;
  release: string;
}

/** A Schedule's action: one run of one cron of one environment. */
export interface CronRunInput extends CronRelease {
  project: string;
  environment: string;
  host: string;
  name: string;
  /** As written when the Schedule was synced (shown in the UI and by `env crons`); a run takes the release's own. */
  spec?: string;
  cmd?: string;
}

export interface CronRunResult {
  name: string;
  release: string;
  exitCode: number;
  ms: number;
  /** The last lines of its output. */
  tail: string;
}

/** What the environment workflow asks for after a deployment, an activation or a deactivation. */
export interface CronSyncInput {
  project: string;
  environment: string;
  host: string;
  /** The live release; absent: nothing is served, so no cron can run (its Schedules are deleted). */
  live?: CronRelease;
  /** Inactive environments keep their Schedules, paused. */
  active: boolean;
}

export const cronScheduleId = (project: string, environment: string, name: string): string => `cron/${project}/${environment}/${name}`;
export const cronSchedulePrefix = (project: string, environment: string): string => `cron/${project}/${environment}/`;

/** One cron of an environment as `slipway env crons` shows it. */
export interface CronStatus {
  name: string;
  scheduleId: string;
  spec: string;
  cmd: string;
  paused: boolean;
  note?: string;
  lastRun?: { at: string; workflowId: string };
  nextRun?: string;
}
