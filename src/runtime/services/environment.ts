/**
 * Where one environment's runtime lives (directories, sockets, cgroup and namespace names),
 * and its services' passwords.
 *
 *   <data dir>/envs/<project>/<env>/
 *     run/                      sockets (<service>.sock); the project's user, 0700; bound
 *                               read-write at /run/slipway in the environment's sandboxes
 *     secrets/<service>.password  the sandbox's copy of each password: the project's user,
 *                               0600, in a directory of its own (0500); bound read-only
 *     services/<service>/
 *       data/                   the service's data: the project's user, 0700; bound read-write at /srv/data
 *       conf/                   its generated configuration: root, 0755; bound read-only at /srv/conf
 *       service.log             its stdout and stderr: root, 0600
 *   <data dir>/secrets/services/<project>/<env>/   root, 0700: the engine's copies
 *     <service>.password        root, 0600
 *     <service>.cnf             the engine's client options for MariaDB (password included), 0600
 *
 * The engine's copies are in no directory any sandbox binds.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';
import type { Layout } from '../../home';
import { SlipwayError } from '../../errors';
import type { SandboxIdentity } from '../../sandbox/identity';
import { netnsName } from '../netns';

export interface EnvironmentRef {
  layout: Layout;
  project: string;
  environment: string;
}

/** Inside the sandbox of a service or of the application. */
export const SANDBOX_RUN_DIR = '/run/slipway';
export const SANDBOX_SECRETS_DIR = '/run/secrets';
export const SANDBOX_SERVICE_DATA = '/srv/data';
export const SANDBOX_SERVICE_CONF = '/srv/conf';

/** sun_path holds 108 bytes, the final NUL included. */
const MAX_SOCKET_PATH = 107;

export interface ServicePaths {
  dir: string;
  data: string;
  conf: string;
  log: string;
  /** The socket on the host, and inside the sandbox. */
  socket: string;
  sandboxSocket: string;
  /** Written once the data directory is initialised (root's, outside the data directory). */
  initialisedMarker: string;
  enginePasswordFile: string;
  engineClientOptions: string;
  sandboxPasswordFile: string;
  /** MariaDB: the engine's own account (hot backups), its password and client options (root, 0600). */
  engineAdminPasswordFile: string;
  engineAdminClientOptions: string;
  /** Written once the engine's account exists in the data directory (root's, outside it). */
  adminMarker: string;
}

export function environmentDir(ref: EnvironmentRef): string {
  return ref.layout.environment(ref.project, ref.environment);
}
export function runDir(ref: EnvironmentRef): string {
  return path.join(environmentDir(ref), 'run');
}
export function servicesDir(ref: EnvironmentRef): string {
  return path.join(environmentDir(ref), 'services');
}
export function sandboxSecretsDir(ref: EnvironmentRef): string {
  return path.join(environmentDir(ref), 'secrets');
}
export function engineSecretsDir(ref: EnvironmentRef): string {
  return path.join(ref.layout.home, 'secrets', 'services', ref.project, ref.environment);
}
export function environmentNetns(ref: EnvironmentRef): string {
  return netnsName(ref.layout, ref.project, ref.environment);
}

const SERVICE_NAME = /^[a-z][a-z0-9_-]*$/;

export function servicePaths(ref: EnvironmentRef, name: string): ServicePaths {
  if (!SERVICE_NAME.test(name)) throw new SlipwayError(`invalid service name "${name}"`);
  const dir = path.join(servicesDir(ref), name);
  return {
    dir,
    data: path.join(dir, 'data'),
    conf: path.join(dir, 'conf'),
    log: path.join(dir, 'service.log'),
    socket: path.join(runDir(ref), `${name}.sock`),
    sandboxSocket: `${SANDBOX_RUN_DIR}/${name}.sock`,
    initialisedMarker: path.join(dir, 'initialised'),
    enginePasswordFile: path.join(engineSecretsDir(ref), `${name}.password`),
    engineClientOptions: path.join(engineSecretsDir(ref), `${name}.cnf`),
    sandboxPasswordFile: path.join(sandboxSecretsDir(ref), `${name}.password`),
    engineAdminPasswordFile: path.join(engineSecretsDir(ref), `${name}.admin.password`),
    engineAdminClientOptions: path.join(engineSecretsDir(ref), `${name}.admin.cnf`),
    adminMarker: path.join(dir, 'admin-account'),
  };
}


/** The cgroup-name prefix of every service of the environment (release names never start with "svc-"). */
export function serviceCgroupPrefix(ref: EnvironmentRef): string {
  return `${ref.layout.homeTag()}.${ref.project}.${ref.environment}.svc-`;
}
export function serviceCgroupName(ref: EnvironmentRef, name: string): string {
  return `${serviceCgroupPrefix(ref)}${name}`;
}

/** Makes the environment's directories (idempotent), owned as described above. */
export function prepareDirectories(ref: EnvironmentRef, name: string, identity: SandboxIdentity): ServicePaths {
  const p = servicePaths(ref, name);
  if (Buffer.byteLength(p.socket) > MAX_SOCKET_PATH) {
    throw new SlipwayError(
      `the socket path ${p.socket} is longer than the ${MAX_SOCKET_PATH} bytes a Unix socket's path may have: choose a shorter SLIPWAY_HOME`,
    );
  }
  const owned = (dir: string, mode: number): void => {
    fs.mkdirSync(dir, { recursive: true, mode });
    fs.chownSync(dir, identity.uid, identity.gid);
    fs.chmodSync(dir, mode);
  };
  fs.mkdirSync(p.dir, { recursive: true, mode: 0o755 });
  owned(runDir(ref), 0o700);
  owned(sandboxSecretsDir(ref), 0o500);
  owned(p.data, 0o700);
  fs.mkdirSync(p.conf, { recursive: true, mode: 0o755 });
  fs.mkdirSync(path.join(ref.layout.home, 'secrets'), { recursive: true, mode: 0o700 });
  fs.chmodSync(path.join(ref.layout.home, 'secrets'), 0o700);
  fs.mkdirSync(engineSecretsDir(ref), { recursive: true, mode: 0o700 });
  return p;
}

const passwordSchema = z.string().regex(/^[A-Za-z0-9_-]{32}$/);

/**
 * The service's password: generated once (192 random bits, base64url: no character needs
 * quoting in SQL, a configuration file or a URL) into the engine's 0600 file, then read from
 * it. Never part of a workflow's input, result or log: activities read it here.
 */
export function servicePassword(ref: EnvironmentRef, name: string): string {
  return generatedPassword(ref, servicePaths(ref, name).enginePasswordFile);
}

/**
 * The password of the engine's own account in a MariaDB service (hot backups): generated once
 * like the service's, kept only in the engine's 0600 file, never handed to any sandbox.
 */
export function serviceAdminPassword(ref: EnvironmentRef, name: string): string {
  return generatedPassword(ref, servicePaths(ref, name).engineAdminPasswordFile);
}

function generatedPassword(ref: EnvironmentRef, file: string): string {
  fs.mkdirSync(path.join(ref.layout.home, 'secrets'), { recursive: true, mode: 0o700 });
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  try {
    fs.writeFileSync(file, `${crypto.randomBytes(24).toString('base64url')}\n`, { flag: 'wx', mode: 0o600 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  const parsed = passwordSchema.safeParse(fs.readFileSync(file, 'utf8').trim());
  if (!parsed.success) throw new SlipwayError(`the password file ${file} is damaged: delete it and the service's data to start over`);
  return parsed.data;
}

/** Writes a file atomically with the given owner and mode (the secret never exists with a looser mode). */
export function writeOwned(file: string, text: string, mode: number, owner?: { uid: number; gid: number }): void {
  const tmp = `${file}.${process.pid}.tmp`;
  fs.rmSync(tmp, { force: true });
  fs.writeFileSync(tmp, text, { mode, flag: 'wx' });
  if (owner) fs.chownSync(tmp, owner.uid, owner.gid);
  fs.chmodSync(tmp, mode);
  fs.renameSync(tmp, file);
}

/** The sandbox's copy of the password: the project's user's, 0600. */
export function handPasswordToSandbox(ref: EnvironmentRef, name: string, identity: SandboxIdentity): void {
  const p = servicePaths(ref, name);
  const password = servicePassword(ref, name);
  try {
    if (fs.readFileSync(p.sandboxPasswordFile, 'utf8') === `${password}\n`) return;
  } catch {
    /* not there yet */
  }
  writeOwned(p.sandboxPasswordFile, `${password}\n`, 0o600, identity);
}
