/**
 * The steps of a deployment that concern the environment's data (src/runtime/data/), inside
 * the maintenance window, before the deploy hook:
 * - `snapshot-data`: staging and production are snapshotted before every deployment (the
 *   newest SLIPWAY_SNAPSHOTS_KEPT kept, default 3), so that a deploy hook that fails after it
 *   changed the database is undone whole: the snapshot is restored with the previous release;
 * - `copy-data`: another environment's database and mounts copied in (a new branch's parent,
 *   `env sync --data`, `promote --data`), or the snapshot taken before a deployment restored
 *   (`env rollback --with-data`). All or nothing: a copy that fails leaves the data as it was.
 * Step bodies of the release activities (src/activities/release.ts).
 */
import type { DataSource, DeploymentKey } from '../domain/deployment';
import { noSnapshotReason } from '../domain/deployment-plan';
import type { SlugManifest } from '../domain/project-files';
import type { Layout } from '../home';
import { copyEnvironmentData, createSnapshot, listSnapshots, pruneSnapshots, restoreSnapshot, type Snapshot } from '../runtime/data';
import { readWanted } from '../runtime/environment-runtime';
import { redisQuery, servicePaths } from '../runtime/services';
import { errorMessage, stepFailure, type StepLog } from './lib/step-log';
import { envRef } from './runtime-steps';

export function snapshotsKept(): number {
  const n = Number(process.env.SLIPWAY_SNAPSHOTS_KEPT ?? 3);
  return Number.isInteger(n) && n >= 1 ? n : 3;
}

/** The data a manifest declares: its MariaDB services and its mounts' sources. */
export function dataOf(manifest: Pick<SlugManifest, 'services' | 'mounts'>): { databases: string[]; mounts: string[] } {
  return {
    databases: Object.entries(manifest.services)
      .filter(([, s]) => s.kind === 'mysql' || s.kind === 'mariadb')
      .map(([name]) => name)
      .sort(),
    mounts: [...new Set(Object.values(manifest.mounts))].sort(),
  };
}

const describe = (d: { databases: string[]; mounts: string[] }): string =>
  [d.databases.length ? `database${d.databases.length > 1 ? 's' : ''} ${d.databases.join(', ')}` : '', d.mounts.length ? `mount${d.mounts.length > 1 ? 's' : ''} ${d.mounts.join(', ')}` : '']
    .filter(Boolean)
    .join(' and ');

const reasonBefore = (deployment: number): string => `before deployment #${deployment}`;

/** Taken before a deployment (pruned to the newest SLIPWAY_SNAPSHOTS_KEPT), not on request. */
export const isAutomatic = (s: Pick<Snapshot, 'reason'>): boolean => /^before deployment #\d+$/.test(s.reason);

export function snapshotBefore(layout: Layout, key: DeploymentKey, deployment: number): Snapshot | undefined {
  return listSnapshots(envRef(layout, key)).find((s) => s.reason === reasonBefore(deployment));
}

/** A snapshot on request (`env snapshot create`), of what the live release declares. */
export async function snapshotOnRequest(layout: Layout, key: { project: string; environment: string }, commit: string | undefined): Promise<Snapshot> {
  const ref = envRef(layout, key);
  const wanted = readWanted(ref);
  if (!wanted) throw new Error(`${key.environment} runs nothing on this host: there is no data to snapshot`);
  return createSnapshot(ref, { ...dataOf(wanted.manifest), ...(commit ? { commit } : {}), reason: 'on request' });
}

/** Whether this deployment takes a snapshot first (and why not): the plan's rule (src/domain/deployment-plan.ts). */
export function snapshotPlan(input: DeploymentKey & { manifest: SlugManifest }): { take: true } | { take: false; why: string } {
  const why = noSnapshotReason(input.environment, input.manifest);
  return why === undefined ? { take: true } : { take: false, why };
}

/**
 * The snapshot an earlier attempt of this same deployment took (the activity runs again after
 * a worker died in it): same environment, same deployment number, same commit, the same
 * databases and mounts. Only complete snapshots are listed (made in `.partial`, renamed once whole).
 */
export function earlierAttemptSnapshot(layout: Layout, input: DeploymentKey & { commit: string }, what: { databases: string[]; mounts: string[] }): Snapshot | undefined {
  const same = (a: string[], b: string[]): boolean => a.length === b.length && [...a].sort().every((x, i) => x === [...b].sort()[i]);
  const snap = snapshotBefore(layout, input, input.number);
  if (!snap || snap.commit !== input.commit) return undefined;
  if (!same(snap.databases.map((d) => d.name), what.databases) || !same(snap.mounts.map((m) => m.name), what.mounts)) return undefined;
  return snap;
}

export async function snapshotDataIn(layout: Layout, input: DeploymentKey & { commit: string; manifest: SlugManifest }, log: StepLog): Promise<Snapshot> {
  const ref = envRef(layout, input);
  const what = dataOf(input.manifest);
  // A new attempt after a worker died mid-deployment: the data may be half-migrated by now; the
  // first attempt's snapshot holds it as it was before the deployment, and stays the one restored.
  const earlier = earlierAttemptSnapshot(layout, input, what);
  if (earlier) {
    log.line('snapshot-data', `snapshot ${earlier.id} of ${describe(what)} reused: an earlier attempt of deployment #${input.number} took it (${earlier.createdAt}), before anything of this deployment changed the data`);
    return earlier;
  }
  try {
    const snap = await createSnapshot(ref, { ...what, commit: input.commit, reason: reasonBefore(input.number) }, (l) => log.line('snapshot-data', l));
    log.line('snapshot-data', `snapshot ${snap.id} of ${describe(what)}: ${(snap.sizeBytes / 1e6).toFixed(1)} MB in ${Math.round(snap.durationMs)} ms`);
    // Only the automatic ones: a snapshot taken on request stays until it is deleted.
    const pruned = pruneSnapshots(ref, snapshotsKept(), (s) => isAutomatic(s));
    if (pruned.length > 0) log.line('snapshot-data', `older automatic snapshots removed (newest ${snapshotsKept()} kept): ${pruned.join(', ')}`);
    return snap;
  } catch (err) {
    throw stepFailure({ step: 'snapshot-data', logTail: errorMessage(err), message: `the snapshot before the deployment failed, nothing was changed: ${errorMessage(err)}` });
  }
}

/** Why the deployment copies no data, or undefined when it does. */
export function copyPlan(input: { data?: DataSource }): string | undefined {
  return input.data ? undefined : 'no data to bring in';
}

export async function copyDataIn(layout: Layout, input: DeploymentKey & { manifest: SlugManifest; data?: DataSource }, log: StepLog): Promise<void> {
  const to = envRef(layout, input);
  const data = input.data!;
  try {
    if (data.kind === 'snapshot') {
      const snap = 'id' in data ? listSnapshots(to).find((s) => s.id === data.id) : snapshotBefore(layout, input, data.before);
      if (!snap) {
        throw new Error('id' in data ? `${input.environment} has no snapshot ${data.id}` : `no snapshot of ${input.environment} was taken before deployment #${data.before} (or it was pruned): nothing restored`);
      }
      const r = await restoreSnapshot(to, snap.id, (l) => log.line('copy-data', l), input.manifest.services);
      log.line('copy-data', `database and mounts restored from snapshot ${snap.id} (${snap.reason}, commit ${snap.commit?.slice(0, 12) ?? '?'}) in ${Math.round(r.totalMs)} ms`);
      await flushCaches(layout, input, input.manifest, log, 'copy-data');
      return;
    }
    const from = envRef(layout, { project: input.project, environment: data.from });
    const source = readWanted(from);
    if (!source) {
      log.line('copy-data', `${data.from} has no data on this host yet: ${input.environment} starts with its own`);
      return;
    }
    // What both declare; a database of the source that is not running cannot be copied hot.
    const mine = dataOf(input.manifest);
    const theirs = dataOf(source.manifest);
    const what = {
      databases: mine.databases.filter((d) => theirs.databases.includes(d)),
      mounts: mine.mounts.filter((m) => theirs.mounts.includes(m)),
      services: input.manifest.services,
    };
    const left = [...mine.databases.filter((d) => !what.databases.includes(d)), ...mine.mounts.filter((m) => !what.mounts.includes(m))];
    if (left.length > 0) log.line('copy-data', `not in ${data.from}, kept as they are: ${left.join(', ')}`);
    if (what.databases.length === 0 && what.mounts.length === 0) {
      log.line('copy-data', `${data.from} has none of this environment's data`);
      return;
    }
    const r = await copyEnvironmentData(from, to, what, (l) => log.line('copy-data', l));
    const bytes = r.parts.reduce((n, p) => n + p.bytes, 0);
    log.line('copy-data', `${describe(what)} of ${data.from} copied in: ${(bytes / 1e6).toFixed(1)} MB in ${Math.round(r.totalMs)} ms (switch ${Math.round(r.switchMs)} ms)`);
    await flushCaches(layout, input, input.manifest, log, 'copy-data');
  } catch (err) {
    throw stepFailure({ step: 'copy-data', logTail: errorMessage(err), message: `the data could not be brought in; ${input.environment}'s data is as it was: ${errorMessage(err)}` });
  }
}

/**
 * The caches of the environment (its Redis or Valkey services) emptied after its data was
 * replaced: what they held was made from the data before. A failure is a warning.
 */
async function flushCaches(layout: Layout, key: DeploymentKey, manifest: Pick<SlugManifest, 'services'>, log: StepLog, step: 'copy-data' | 'deploy-hook' | 'static-content-deploy'): Promise<void> {
  const ref = envRef(layout, key);
  for (const [name] of Object.entries(manifest.services).filter(([, s]) => s.kind === 'redis' || s.kind === 'valkey')) {
    try {
      await redisQuery(ref, name, servicePaths(ref, name), ['FLUSHALL']);
      log.line(step, `cache ${name} emptied (it held what the data before made)`);
    } catch (err) {
      log.line(step, `warning: cache ${name} not emptied: ${errorMessage(err)}`);
    }
  }
}

/** After a failure inside the window: the snapshot this deployment took put back (database and mounts). */
export async function restoreAfterFailureIn(layout: Layout, input: DeploymentKey & { manifest: SlugManifest }, snap: Snapshot, log: StepLog, step: 'deploy-hook' | 'copy-data' | 'static-content-deploy'): Promise<void> {
  try {
    const r = await restoreSnapshot(envRef(layout, input), snap.id, (l) => log.line(step, l), input.manifest.services);
    log.line(step, `database and mounts restored from snapshot ${snap.id} (taken before this deployment) in ${Math.round(r.totalMs)} ms`);
    await flushCaches(layout, input, input.manifest, log, step);
  } catch (err) {
    log.line(step, `error: the snapshot ${snap.id} could not be restored (restore it with: slipway env snapshot restore ${input.project} ${input.environment} ${snap.id}): ${errorMessage(err)}`);
  }
}
