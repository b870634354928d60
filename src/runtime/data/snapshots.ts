/**
 * Snapshots of an environment's databases and mounts, kept on the host:
 *
 *   <home>/snapshots/<project>/<environment>/          root, 0700; bound by no sandbox
 *     <id>/snapshot.json                               the record (id, time, commit, reason, sizes, durations)
 *     <id>/databases/<service>/                        a prepared hot copy (a complete data directory)
 *     <id>/mounts/<n>/                                 a mount's files (`cp -a`: links as links)
 *
 * Ids sort by time: `s<UTC yyyymmddHHMMss>-<milliseconds in 3 hex><1 random hex>`. A snapshot is made in `.<id>.partial` and
 * renamed into place once complete, so a listed snapshot is always whole. Taking one does not
 * stop anything (databases are hot-copied, consistent as of one moment each); restoring one is
 * the same all-or-nothing switch as a copy between environments.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';
import { NotFoundError, SlipwayError } from '../../errors';
import { sandboxIdentity } from '../../sandbox/identity';
import type { DeclaredServices } from '../services';
import type { EnvironmentRef } from '../services/environment';
import { checkSelection, settled, workDirFor, type DataCopyResult, type DataPartResult } from './copy';
import { envName, prepareForTarget, stageDatabase } from './database';
import { copyTree, errorText, moveTree, now, rootDir, treeBytes } from './files';
import { mountDir } from './mounts';
import { switchIn, type StagedParts } from './switch';

const SNAPSHOT_ID = /^s\d{14}-[0-9a-f]{4}$/;

const partSchema = z.object({ name: z.string(), method: z.enum(['mariadb-backup', 'copy']), bytes: z.number(), ms: z.number() });

const snapshotSchema = z.object({
  id: z.string().regex(SNAPSHOT_ID),
  project: z.string(),
  environment: z.string(),
  createdAt: z.string(),
  commit: z.string().optional(),
  reason: z.string(),
  sizeBytes: z.number(),
  durationMs: z.number(),
  /** Each database service and its directory under databases/. */
  databases: z.array(partSchema.extend({ dir: z.string() })),
  /** Each mount's source and its directory under mounts/ (a number: sources may hold slashes). */
  mounts: z.array(partSchema.extend({ dir: z.string() })),
});
export type Snapshot = z.infer<typeof snapshotSchema>;

export interface SnapshotRequest {
  databases: string[];
  mounts: string[];
  commit?: string;
  reason: string;
}

function snapshotsRoot(ref: EnvironmentRef): string {
  const dir = ref.layout.snapshots(ref.project, ref.environment);
  rootDir(path.join(ref.layout.home, 'snapshots'), 0o700);
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  return dir;
}

function newId(at: Date): string {
  const stamp = at.toISOString().replace(/[-:T]/g, '').slice(0, 14);
  // Its milliseconds (three hex digits), then one random: ids sort by time within a second too.
  return `s${stamp}-${at.getUTCMilliseconds().toString(16).padStart(3, '0')}${crypto.randomBytes(1).toString('hex').slice(1)}`;
}

function snapshotDir(ref: EnvironmentRef, id: string): string {
  if (!SNAPSHOT_ID.test(id)) throw new NotFoundError(`no snapshot "${id}" of ${envName(ref)} (snapshot ids look like s20261130173000-1a2b)`);
  return path.join(snapshotsRoot(ref), id);
}

export async function createSnapshot(ref: EnvironmentRef, req: SnapshotRequest, progress: (line: string) => void = () => undefined): Promise<Snapshot> {
  const t0 = now();
  checkSelection(req);
  const at = new Date();
  const id = newId(at);
  const root = snapshotsRoot(ref);
  const partial = rootDir(path.join(root, `.${id}.partial`), 0o700);
  const work = workDirFor(ref);
  const owner = sandboxIdentity(ref.layout, ref.project);
  const databases: Snapshot['databases'] = [];
  const mounts: Snapshot['mounts'] = [];
  try {
    rootDir(path.join(partial, 'databases'), 0o700);
    rootDir(path.join(partial, 'mounts'), 0o700);
    await settled([
      (async () => {
        for (const name of req.databases) {
          const t = now();
          // Made in the environment's work directory (the sandbox writes there), then moved into the snapshot.
          const staged = path.join(work, `db-${name}`);
          const method = await stageDatabase(ref, name, staged, owner, progress);
          const dir = path.join('databases', name);
          await moveTree(staged, path.join(partial, dir), `keeping the copy of the MariaDB service ${name}`);
          databases.push({ name, method, dir, bytes: treeBytes(path.join(partial, dir)), ms: now() - t });
        }
      })(),
      (async () => {
        for (const [i, name] of req.mounts.entries()) {
          const t = now();
          const dir = path.join('mounts', String(i));
          progress(`mount ${name}: copying its files`);
          await copyTree(mountDir(ref, name), path.join(partial, dir), `copying the mount ${name} of ${envName(ref)}`);
          mounts.push({ name, method: 'copy', dir, bytes: treeBytes(path.join(partial, dir)), ms: now() - t });
        }
      })(),
    ]);
    const record: Snapshot = {
      id,
      project: ref.project,
      environment: ref.environment,
      createdAt: at.toISOString(),
      ...(req.commit ? { commit: req.commit } : {}),
      reason: req.reason,
      sizeBytes: [...databases, ...mounts].reduce((n, p) => n + p.bytes, 0),
      durationMs: now() - t0,
      databases,
      mounts,
    };
    fs.writeFileSync(path.join(partial, 'snapshot.json'), `${JSON.stringify(record, null, 2)}\n`, { mode: 0o600 });
    fs.renameSync(partial, path.join(root, id));
    progress(`snapshot ${id} of ${envName(ref)}: ${record.sizeBytes} bytes in ${Math.round(record.durationMs)} ms`);
    return record;
  } catch (err) {
    fs.rmSync(partial, { recursive: true, force: true });
    throw new SlipwayError(`the snapshot of ${envName(ref)} failed, and none was kept: ${errorText(err)}`);
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

function readSnapshot(ref: EnvironmentRef, id: string): Snapshot | undefined {
  try {
    const s = snapshotSchema.parse(JSON.parse(fs.readFileSync(path.join(snapshotDir(ref, id), 'snapshot.json'), 'utf8')));
    return s.id === id ? s : undefined;
  } catch {
    return undefined;
  }
}

/** The environment's snapshots, newest first (unreadable records left out). */
export function listSnapshots(ref: EnvironmentRef): Snapshot[] {
  const root = ref.layout.snapshots(ref.project, ref.environment);
  if (!fs.existsSync(root)) return [];
  return fs
    .readdirSync(root)
    .filter((d) => SNAPSHOT_ID.test(d))
    .sort()
    .reverse()
    .map((id) => readSnapshot(ref, id))
    .filter((s): s is Snapshot => s !== undefined);
}

function existing(ref: EnvironmentRef, id: string): Snapshot {
  const s = readSnapshot(ref, id);
  if (!s) throw new NotFoundError(`no snapshot "${id}" of ${envName(ref)}`);
  return s;
}

/**
 * Puts the snapshot's databases and mounts back in place of the environment's, all or nothing
 * (running services are stopped, switched and started again; if anything fails everything is
 * as before, and the error says what). The snapshot is kept.
 */
export async function restoreSnapshot(
  ref: EnvironmentRef,
  id: string,
  progress: (line: string) => void = () => undefined,
  services?: DeclaredServices,
): Promise<DataCopyResult> {
  const t0 = now();
  const snap = existing(ref, id);
  const dir = snapshotDir(ref, id);
  const work = workDirFor(ref);
  const parts: DataPartResult[] = [];
  const staged: StagedParts = { databases: [], mounts: [] };
  try {
    try {
      await settled([
        (async () => {
          for (const d of snap.databases) {
            const t = now();
            const to = path.join(work, `db-${d.name}`);
            progress(`${d.name}: copying the snapshot's database`);
            await copyTree(path.join(dir, d.dir), to, `restoring the MariaDB service ${d.name} from snapshot ${id}`);
            await prepareForTarget(ref, d.name, to, progress);
            staged.databases.push({ name: d.name, staged: to });
            parts.push({ kind: 'database', name: d.name, method: 'copy', bytes: treeBytes(to), ms: now() - t });
          }
        })(),
        (async () => {
          for (const [i, m] of snap.mounts.entries()) {
            const t = now();
            const to = path.join(work, `mount-${i}`);
            progress(`mount ${m.name}: copying the snapshot's files`);
            await copyTree(path.join(dir, m.dir), to, `restoring the mount ${m.name} from snapshot ${id}`);
            staged.mounts.push({ name: m.name, staged: to });
            parts.push({ kind: 'mount', name: m.name, method: 'copy', bytes: treeBytes(to), ms: now() - t });
          }
        })(),
      ]);
    } catch (err) {
      throw new SlipwayError(`restoring snapshot ${id} of ${envName(ref)} failed before anything changed: ${errorText(err)}`);
    }
    const ts = now();
    try {
      await switchIn(ref, staged, work, progress, services);
    } catch (err) {
      throw new SlipwayError(`restoring snapshot ${id}: ${errorText(err)}`);
    }
    return { parts, switchMs: now() - ts, totalMs: now() - t0 };
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

export function deleteSnapshot(ref: EnvironmentRef, id: string): void {
  existing(ref, id);
  const dir = snapshotDir(ref, id);
  // Renamed first, so that a listing never shows a half-deleted snapshot.
  const doomed = path.join(path.dirname(dir), `.${id}.deleting`);
  fs.renameSync(dir, doomed);
  fs.rmSync(doomed, { recursive: true, force: true });
}

/** Deletes all but the newest `keep` snapshots (of those `which` selects: default all); the deleted ids, oldest first. */
export function pruneSnapshots(ref: EnvironmentRef, keep: number, which: (s: Snapshot) => boolean = () => true): string[] {
  if (!Number.isInteger(keep) || keep < 0) throw new SlipwayError(`the number of snapshots to keep must be a whole number ≥ 0, not ${keep}`);
  const doomed = listSnapshots(ref).filter(which).slice(keep).reverse();
  for (const s of doomed) deleteSnapshot(ref, s.id);
  return doomed.map((s) => s.id);
}
