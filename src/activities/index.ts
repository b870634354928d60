/**
 * All activities, made by factories that take their dependencies. The worker registers the
 * engine's on the engine task queue and the release ones on each host's task queue.
 */
import { ApplicationFailure } from '@temporalio/common';
import type { DeploymentKey } from '../domain/deployment';
import { NOT_THIS_HOST } from '../domain/failure-types';
import { DEFAULT_HOST } from '../domain/names';
import type { Layout } from '../home';
import type { ScheduleClient } from '@temporalio/client';
import { createBuildActivities } from './build';
import { createCronEngineActivities, createCronHostActivities } from './crons';
import { createGitActivities } from './git';
import { createReleaseActivities, type ReleaseDeps } from './release';
import { createVariableActivities } from './variables';
import { createSupervisionActivities, type SupervisionDeps } from './supervision';

/**
 * The engine's activities. `schedules` reaches the Temporal Schedules of the crons (the worker
 * gives a client of its own server; without it, cron activities fail and are retried).
 */
export function createEngineActivities(layout: Layout, schedules: () => Promise<ScheduleClient> = noSchedules) {
  return { ...createGitActivities(layout), ...createBuildActivities(layout), ...createCronEngineActivities(layout, schedules), ...createVariableActivities(layout) };
}

export function createHostActivities(deps: ReleaseDeps & Pick<SupervisionDeps, 'recordRestart'>) {
  return { ...createReleaseActivities(deps), ...createCronHostActivities(deps.layout), ...createSupervisionActivities(deps) };
}

function noSchedules(): Promise<ScheduleClient> {
  return Promise.reject(new Error('this worker was started without a Temporal client for Schedules'));
}

export type EngineActivities = ReturnType<typeof createEngineActivities>;
export type HostActivities = ReturnType<typeof createHostActivities>;

/**
 * A host's activities as an engine that is also that host runs them: as local activities of
 * the deployment workflow, with no round trip through the server. Each first checks that the
 * deployment is for this host; if not, it refuses (NOT_THIS_HOST, not retried) and the
 * workflow runs the step on the host's own task queue instead.
 */
export function localHostActivities(host: string, activities: HostActivities): HostActivities {
  const guarded: Record<string, unknown> = {};
  for (const [name, fn] of Object.entries(activities) as [string, (input: DeploymentKey) => Promise<unknown>][]) {
    guarded[name] = (input: DeploymentKey) => {
      const wanted = input.host ?? DEFAULT_HOST;
      if (wanted !== host) {
        return Promise.reject(
          ApplicationFailure.create({ message: `this engine is host ${host}, not ${wanted}`, type: NOT_THIS_HOST, nonRetryable: true }),
        );
      }
      return fn(input);
    };
  }
  return guarded as HostActivities;
}
