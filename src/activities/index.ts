/**
 * All activities, made by factories that take their dependencies. The worker registers the
 * engine's on the engine task queue and the release ones on each host's task queue.
 */
import type { Layout } from '../home';
import { createBuildActivities } from './build';
import { createGitActivities } from './git';
import { createReleaseActivities, type ReleaseDeps } from './release';

export function createEngineActivities(layout: Layout) {
  return { ...createGitActivities(layout), ...createBuildActivities(layout) };
}

export function createHostActivities(deps: ReleaseDeps) {
  return createReleaseActivities(deps);
}

export type EngineActivities = ReturnType<typeof createEngineActivities>;
export type HostActivities = ReturnType<typeof createHostActivities>;
