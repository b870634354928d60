/**
 * Branching with data: a copy "as of that moment" of one environment's databases and mounts
 * into another's, replacing the target's, all or nothing. The source keeps running and serving
 * (its databases are hot-copied); the target's services may run (stopped, switched, started
 * again) or not (switched only). See src/runtime/data/switch.ts for the switch.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { SlipwayError } from '../../errors';
import { sandboxIdentity } from '../../sandbox/identity';
import type { DeclaredServices } from '../services';
import type { EnvironmentRef } from '../services/environment';
import { envName, isRunning, prepareForTarget, stageDatabase } from './database';
import { errorText, now, rootDir, treeBytes } from './files';
import { stageMount } from './mounts';
import { switchIn, type StagedParts } from './switch';

export interface DataPartResult {
  kind: 'database' | 'mount';
  /** The service's name, or the mount's source. */
  name: string;
  /** How it was copied: a hot copy of a running MariaDB, or `cp -a` of a directory. */
  method: 'mariadb-backup' | 'copy';
  bytes: number;
  /** Time to make the copy (the switch is counted once, in `switchMs`). */
  ms: number;
}

export interface DataCopyResult {
  parts: DataPartResult[];
  /** Stopping, switching, starting and checking the target's services. */
  switchMs: number;
  totalMs: number;
}

export interface DataSelection {
  /** Names of MariaDB (`mysql`, `mariadb`) services present in both environments. */
  databases: string[];
  /** Mount sources (the keys of the mounts directory). */
  mounts: string[];
  /** The target's declared services, to start them again with (default: its wanted state's). */
  services?: DeclaredServices;
}

/**
 * The environment's directory for the work of one copy or restore, on the filesystem of its
 * data and mounts (renames): `<env>/data-work-<id>/`, root's, 0711 (the sandboxes that fill it
 * reach their own subdirectories through it). Removed at the end, whatever happened.
 */
export function workDirFor(target: EnvironmentRef): string {
  const dir = path.join(target.layout.environment(target.project, target.environment), `data-work-${crypto.randomBytes(4).toString('hex')}`);
  fs.mkdirSync(path.dirname(dir), { recursive: true });
  return rootDir(dir, 0o711);
}

export function checkSelection(what: { databases: string[]; mounts: string[] }): void {
  for (const list of [what.databases, what.mounts]) {
    if (new Set(list).size !== list.length) throw new SlipwayError(`a part is named twice: ${list.join(', ')}`);
  }
}

/** Waits for every part (nothing left writing into the work directory), then fails with the first failure. */
export async function settled(work: Array<Promise<void>>): Promise<void> {
  const results = await Promise.allSettled(work);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}

export async function copyEnvironmentData(
  from: EnvironmentRef,
  to: EnvironmentRef,
  what: DataSelection,
  progress: (line: string) => void = () => undefined,
): Promise<DataCopyResult> {
  const t0 = now();
  checkSelection(what);
  if (from.layout.home === to.layout.home && from.project === to.project && from.environment === to.environment) {
    throw new SlipwayError(`cannot copy ${envName(from)}'s data onto itself`);
  }
  const owner = sandboxIdentity(to.layout, to.project);
  const work = workDirFor(to);
  const parts: DataPartResult[] = [];
  const staged: StagedParts = { databases: [], mounts: [] };
  try {
    try {
      await settled([
        (async () => {
          for (const name of what.databases) {
            const t = now();
            const dir = path.join(work, `db-${name}`);
            const method = await stageDatabase(from, name, dir, owner, progress);
            // A running target is restarted on the copy anyway: its passwords are set then, over the copy's engine account.
            const live = method === 'mariadb-backup' && isRunning(to, name);
            if (!live) await prepareForTarget(to, name, dir, progress);
            staged.databases.push({ name, staged: dir, ...(live ? { accountsOf: from } : {}) });
            parts.push({ kind: 'database', name, method, bytes: treeBytes(dir), ms: now() - t });
          }
        })(),
        (async () => {
          for (const [i, name] of what.mounts.entries()) {
            const t = now();
            const dir = path.join(work, `mount-${i}`);
            progress(`mount ${name}: copying ${envName(from)}'s files`);
            await stageMount(from, name, dir, owner);
            staged.mounts.push({ name, staged: dir });
            parts.push({ kind: 'mount', name, method: 'copy', bytes: treeBytes(dir), ms: now() - t });
          }
        })(),
      ]);
    } catch (err) {
      throw new SlipwayError(`copying ${envName(from)}'s data into ${envName(to)} failed before anything of ${envName(to)} changed: ${errorText(err)}`);
    }
    const ts = now();
    try {
      await switchIn(to, staged, work, progress, what.services);
    } catch (err) {
      throw new SlipwayError(`copying ${envName(from)}'s data into ${envName(to)}: ${errorText(err)}`);
    }
    const switchMs = now() - ts;
    progress(`copied ${envName(from)}'s data into ${envName(to)} in ${Math.round(now() - t0)} ms`);
    return { parts, switchMs, totalMs: now() - t0 };
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}
