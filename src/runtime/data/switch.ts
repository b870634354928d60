/**
 * The all-or-nothing step of a copy or a restore: staged databases and mounts (complete, their
 * databases already started once as the target's, in `mariadbd --bootstrap`) become the
 * target's. Each database service that runs is stopped, its data directory moved aside and the
 * staged one moved in, then started again and asked a query with the target's own password;
 * each mount's content is switched (src/runtime/data/mounts.ts). When anything fails, every
 * part is put back as it was (services that ran are started again on their old data) and the
 * error says what failed. What was moved aside is removed only once everything is in place.
 *
 * Within this process it holds the environment's runtime lock, so the host's supervisor does
 * not start a service between its stop and the switch.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { SlipwayError } from '../../errors';
import { readWanted } from '../environment-runtime';
import { withEnvironmentLock } from '../locks';
import { mariadbQuery, startService, stopService, type DeclaredServices } from '../services';
import { servicePaths, type EnvironmentRef } from '../services/environment';
import { MARIADB_ADMIN_USER } from '../services/mariadb';
import { envName, isRunning, prepareForTarget, setTargetPasswordsLive } from './database';
import { errorText } from './files';
import { switchMount, undoMount, type MountSwitch } from './mounts';

export interface StagedParts {
  /**
   * `accountsOf`: the staged copy still holds that environment's accounts (made for a target
   * that runs): the target's passwords are set once it runs on it, or in bootstrap mode first
   * if it no longer runs.
   */
  databases: Array<{ name: string; staged: string; accountsOf?: EnvironmentRef }>;
  mounts: Array<{ name: string; staged: string }>;
}

interface DatabaseSwitch {
  name: string;
  wasRunning: boolean;
  data: string;
  aside: string;
  staged: string;
  switched: boolean;
  markers: Array<{ file: string; existed: boolean }>;
}

/** The services the target is started with: given, else its wanted state's, else each database as a lone `mysql` service. */
function declaredFor(target: EnvironmentRef, names: string[], given?: DeclaredServices): DeclaredServices {
  if (given) return given;
  const wanted = readWanted(target)?.manifest.services;
  if (wanted && names.every((n) => Object.prototype.hasOwnProperty.call(wanted, n))) return wanted;
  return Object.fromEntries(names.map((n) => [n, { type: 'mysql', kind: 'mysql' as const }]));
}

/** The target's service answers its own user and the engine's account. */
async function checkServes(target: EnvironmentRef, name: string): Promise<void> {
  const p = servicePaths(target, name);
  await mariadbQuery(target, p, 'SELECT 1');
  await mariadbQuery(target, { ...p, engineClientOptions: p.engineAdminClientOptions }, 'SELECT CURRENT_USER()').then((out) => {
    if (!out.startsWith(`${MARIADB_ADMIN_USER}@`)) throw new SlipwayError(`the engine's account answered as ${out.trim()}`);
  });
}

export async function switchIn(
  target: EnvironmentRef,
  parts: StagedParts,
  workDir: string,
  progress: (line: string) => void,
  services?: DeclaredServices,
): Promise<void> {
  await withEnvironmentLock(target, async () => {
    const declared = declaredFor(
      target,
      parts.databases.map((d) => d.name),
      services,
    );
    const dbs: DatabaseSwitch[] = [];
    const mounts: MountSwitch[] = [];
    const started: string[] = [];
    // A target that stopped meanwhile gets its passwords in the copy before anything changes.
    for (const d of parts.databases) {
      if (d.accountsOf && !isRunning(target, d.name)) {
        await prepareForTarget(target, d.name, d.staged, progress);
        d.accountsOf = undefined;
      }
    }
    const accountsOf = new Map(parts.databases.map((d) => [d.name, d.accountsOf]));
    try {
      for (const d of parts.databases) {
        const p = servicePaths(target, d.name);
        const s: DatabaseSwitch = {
          name: d.name,
          wasRunning: isRunning(target, d.name),
          data: p.data,
          aside: path.join(workDir, `aside-db-${d.name}`),
          staged: d.staged,
          switched: false,
          markers: [p.initialisedMarker, p.adminMarker].map((file) => ({ file, existed: fs.existsSync(file) })),
        };
        dbs.push(s);
        if (s.wasRunning) {
          progress(`${d.name}: stopping ${envName(target)}'s MariaDB for the switch`);
          await stopService(target, d.name);
        }
        fs.mkdirSync(p.dir, { recursive: true, mode: 0o755 });
        if (fs.existsSync(s.data)) fs.renameSync(s.data, s.aside);
        fs.renameSync(s.staged, s.data);
        s.switched = true;
        for (const m of s.markers) if (!m.existed) fs.writeFileSync(m.file, `${new Date().toISOString()}\n`, { mode: 0o644 });
      }
      parts.mounts.forEach((m, i) => {
        mounts.push(switchMount(target, m.name, m.staged, path.join(workDir, `aside-mount-${i}`)));
      });
      progress(`switched ${envName(target)}'s data in place`);
      for (const s of dbs.filter((x) => x.wasRunning)) {
        progress(`${s.name}: starting ${envName(target)}'s MariaDB on the copied data`);
        try {
          started.push(s.name);
          const status = await startService(target, declared, s.name, progress);
          if (status.state !== 'running') throw new SlipwayError(`it is ${status.state} after its start`);
          const source = accountsOf.get(s.name);
          if (source) await setTargetPasswordsLive(target, s.name, source, workDir);
          await checkServes(target, s.name);
          progress(`${s.name}: ${envName(target)}'s MariaDB serves the copied data`);
        } catch (err) {
          throw new SlipwayError(`the MariaDB service ${s.name} of ${envName(target)} did not serve on the copied data: ${errorText(err)}`);
        }
      }
    } catch (err) {
      const why = errorText(err);
      progress(`the switch failed (${why}): putting ${envName(target)}'s data back as it was`);
      const problems: string[] = [];
      for (const name of started) await stopService(target, name).catch((e: unknown) => problems.push(errorText(e)));
      for (const m of mounts.reverse()) {
        try {
          undoMount(m);
        } catch (e) {
          problems.push(`the mount ${m.dir}: ${errorText(e)}`);
        }
      }
      for (const s of dbs.reverse()) {
        try {
          if (isRunning(target, s.name)) await stopService(target, s.name);
          if (s.switched) {
            fs.renameSync(s.data, s.staged);
            if (fs.existsSync(s.aside)) fs.renameSync(s.aside, s.data);
            for (const m of s.markers) if (!m.existed) fs.rmSync(m.file, { force: true });
          }
          if (s.wasRunning) await startService(target, declared, s.name, progress);
        } catch (e) {
          problems.push(`the MariaDB service ${s.name}: ${errorText(e)}`);
        }
      }
      throw new SlipwayError(
        `switching the copied data into ${envName(target)} failed, and its data was put back as it was: ${why}` +
          (problems.length > 0 ? ` (while putting it back: ${problems.join('; ')})` : ''),
      );
    }
  });
}
