/**
 * What earlier deployments leave in a data directory, removed so that it does not grow without
 * bound: build workspaces of failed builds and old deployment logs. (Releases are pruned by
 * stageRelease, slugs by the slug store, src/activities/slug-store.ts.)
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { releaseName, type DeploymentKey } from '../domain/deployment';
import { DEPLOY_LOGS_KEPT } from '../domain/retention';
import type { Layout } from '../home';

/**
 * What earlier deployments of an environment left in this data directory and nobody needs: a
 * build workspace of a failed build (an environment deploys one at a time), and deployment logs
 * past the newest DEPLOY_LOGS_KEPT. Returns what was removed.
 */
export async function removeLeftoversOf(layout: Layout, key: DeploymentKey): Promise<string[]> {
  const removed: string[] = [];
  const own = releaseName(key.number);
  const builds = path.dirname(layout.buildWorkspace(key));
  for (const name of fs.existsSync(builds) ? fs.readdirSync(builds) : []) {
    const m = /^d(\d{6})$/.exec(name);
    if (!m || name === own || Number(m[1]) > key.number) continue;
    // Asynchronous: a large workspace must not stall the worker's heartbeats.
    await fs.promises.rm(path.join(builds, name), { recursive: true, force: true });
    removed.push(`build workspace ${name}`);
  }
  const logs = layout.deployLogs(key.project, key.environment);
  const old = (fs.existsSync(logs) ? fs.readdirSync(logs) : [])
    .map((f) => /^d(\d{6})\.log$/.exec(f))
    .filter((m): m is RegExpExecArray => m !== null && Number(m[1]) <= key.number - DEPLOY_LOGS_KEPT);
  for (const m of old) fs.rmSync(path.join(logs, m[0]), { force: true });
  if (old.length > 0) removed.push(`${old.length} deployment log(s) before #${key.number - DEPLOY_LOGS_KEPT + 1}`);
  return removed;
}
