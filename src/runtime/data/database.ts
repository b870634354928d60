/**
 * One MariaDB service's data, copied "as of that moment" into a staged directory that is a
 * complete data directory, ready to be switched in:
 *
 * - from a running service, a physical hot copy: `mariadb-backup --backup` then `--prepare`, in a
 *   sandbox as the source project's user (its data directory bound read-only at the path the
 *   server knows it by, its socket directory, the staged directory read-write), over the
 *   engine's own account (`slipway`@`localhost`, RELOAD, PROCESS, LOCK TABLES, BINLOG MONITOR:
 *   what BACKUP STAGE needs; its password is the engine's only). The server keeps serving.
 * - from a stopped one (shut down cleanly), `cp -a` of its data directory.
 *
 * A copy carries the source's accounts (mysql.user): `prepareForTarget` sets the target's own
 * passwords again in it (`mariadbd --bootstrap`, as the target project's user), which also
 * proves the staged directory starts.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { SlipwayError } from '../../errors';
import { PLAN_SANDBOX_LIMITS } from '../../domain/sandbox-limits';
import { ensureHostProgram, type HostProgram } from '../../host-packages';
import { chownTree } from '../../sandbox/ownership';
import { sandboxIdentity, type SandboxIdentity } from '../../sandbox/identity';
import { runInSandbox, sandboxServicePids } from '../../sandbox/sandbox';
import { SANDBOX_RUN_DIR, SANDBOX_SERVICE_CONF, SANDBOX_SERVICE_DATA, runDir, serviceAdminPassword, serviceCgroupName, servicePaths, writeOwned, type EnvironmentRef } from '../services/environment';
import { accountsSql, bootstrapMariadb, MARIADB_ADMIN_USER, setPasswordsLive } from '../services/mariadb';
import { copyTree, errorText, now } from './files';

export const MARIADB_BACKUP: HostProgram = {
  program: 'mariadb-backup',
  debianPackage: 'mariadb-backup',
  purpose: "to copy an environment's running MariaDB (branching with data, snapshots)",
};

const SANDBOX_BACKUP_DIR = '/srv/backup';

export const envName = (ref: EnvironmentRef): string => `${ref.project}/${ref.environment}`;

export function isRunning(ref: EnvironmentRef, name: string): boolean {
  return sandboxServicePids(serviceCgroupName(ref, name)).length > 0;
}

/**
 * Stages a copy of the source's database service `name` at `staged` (which must not exist),
 * owned by `owner` (the target project's user). How it was made: 'mariadb-backup' (running)
 * or 'copy' (stopped).
 */
export async function stageDatabase(
  source: EnvironmentRef,
  name: string,
  staged: string,
  owner: SandboxIdentity,
  progress: (line: string) => void,
): Promise<'mariadb-backup' | 'copy'> {
  const paths = servicePaths(source, name);
  if (!fs.existsSync(paths.initialisedMarker)) {
    throw new SlipwayError(`the MariaDB service ${name} of ${envName(source)} has no data yet (it never ran): nothing to copy`);
  }
  if (!isRunning(source, name)) {
    progress(`${name}: ${envName(source)}'s MariaDB is stopped: copying its data directory`);
    await copyTree(paths.data, staged, `copying the MariaDB service ${name} of ${envName(source)}`);
    fs.rmSync(path.join(staged, 'mariadbd.pid'), { force: true });
    await chownTree(staged, owner);
    return 'copy';
  }
  if (!fs.existsSync(paths.adminMarker)) {
    throw new SlipwayError(
      `the MariaDB service ${name} of ${envName(source)} was initialised before the engine had its own account there, which a hot copy needs; ` +
        'it gets it at its next start (deactivate and activate the environment), or copy it while it is stopped',
    );
  }
  const backup = await ensureHostProgram(MARIADB_BACKUP, progress);
  const identity = sandboxIdentity(source.layout, source.project);
  // The backup's client options (the engine's account) beside the staged directory, the source user's (0600), removed after.
  const confDir = fs.mkdtempSync(`${staged}.conf-`);
  fs.mkdirSync(staged, { mode: 0o700 });
  fs.chownSync(staged, identity.uid, identity.gid);
  try {
    fs.chmodSync(confDir, 0o755);
    writeOwned(
      `${confDir}/backup.cnf`,
      `[client]\nuser=${MARIADB_ADMIN_USER}\npassword=${serviceAdminPassword(source, name)}\nsocket=${paths.sandboxSocket}\n`,
      0o600,
      identity,
    );
    progress(`${name}: hot copy of ${envName(source)}'s MariaDB (mariadb-backup --backup, --prepare)`);
    const t = now();
    const output: string[] = [];
    const end = await runInSandbox({
      name: `${serviceCgroupName(source, name)}.backup`,
      dataDir: source.layout.home,
      identity,
      hostname: source.project,
      binds: [
        { dir: paths.data, at: SANDBOX_SERVICE_DATA, writable: false },
        { dir: runDir(source), at: SANDBOX_RUN_DIR, writable: true },
        { dir: confDir, at: SANDBOX_SERVICE_CONF, writable: false },
        { dir: staged, at: SANDBOX_BACKUP_DIR, writable: true },
      ],
      command: [
        '/bin/sh',
        '-c',
        `"$0" --defaults-file=${SANDBOX_SERVICE_CONF}/backup.cnf --backup --datadir=${SANDBOX_SERVICE_DATA} --target-dir=${SANDBOX_BACKUP_DIR} && ` +
          `"$0" --prepare --target-dir=${SANDBOX_BACKUP_DIR}`,
        backup,
      ],
      env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C.UTF-8', HOME: '/tmp' },
      limits: { ...PLAN_SANDBOX_LIMITS.pro, memoryBytes: 1024 * 1024 * 1024, processes: 512, cpuSeconds: 3600, silenceSeconds: 600, fileSizeBytes: 1024 ** 4 },
      timeoutSeconds: 3600,
      onOutput: (l) => output.push(l),
    });
    if (end.kind !== 'exited' || end.code !== 0) {
      const errors = output.filter((l) => /error|failed/i.test(l));
      const why = end.kind === 'limit' ? end.message : (errors.length > 0 ? errors.slice(-3) : output.slice(-3)).join(' / ') || end.kind;
      throw new SlipwayError(`the hot copy (mariadb-backup) of the MariaDB service ${name} of ${envName(source)} failed: ${why}`);
    }
    progress(`${name}: hot copy of ${envName(source)}'s MariaDB made in ${Math.round(now() - t)} ms`);
  } finally {
    fs.rmSync(confDir, { recursive: true, force: true });
  }
  if (owner.uid !== identity.uid) await chownTree(staged, owner);
  return 'mariadb-backup';
}

/**
 * The target's own passwords set in its running server, started on data copied from `source`
 * (whose engine account, with `source`'s password, the copy holds): quicker than
 * `prepareForTarget` (no server started for it), for a target that runs and is restarted anyway.
 */
export async function setTargetPasswordsLive(target: EnvironmentRef, name: string, source: EnvironmentRef, workDir: string): Promise<void> {
  const cnf = path.join(workDir, `${name}.source-admin.cnf`);
  writeOwned(cnf, `[client]\nuser=${MARIADB_ADMIN_USER}\npassword=${serviceAdminPassword(source, name)}\nsocket=${servicePaths(target, name).socket}\n`, 0o600);
  try {
    await setPasswordsLive(target, name, cnf);
  } finally {
    fs.rmSync(cnf, { force: true });
  }
}

/**
 * Makes a staged data directory the target's: its own user and engine account with its own
 * passwords (a copy holds the source's), as the target project's user. Fails, naming the
 * target and the service, when the directory does not start.
 */
export async function prepareForTarget(target: EnvironmentRef, name: string, staged: string, progress: (line: string) => void): Promise<void> {
  const identity = sandboxIdentity(target.layout, target.project);
  progress(`${name}: setting ${envName(target)}'s own credentials in the copy`);
  const t = now();
  try {
    await bootstrapMariadb({ ref: target, name, identity, dataDir: staged, sql: accountsSql(target, name), what: "setting the environment's credentials in the copied data" }, progress);
  } catch (err) {
    throw new SlipwayError(`the copied data of the MariaDB service ${name} does not start as ${envName(target)}'s: ${errorText(err)}`);
  }
  progress(`${name}: ${envName(target)}'s credentials set in ${Math.round(now() - t)} ms`);
}
