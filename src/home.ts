/**
 * The data directory (SLIPWAY_HOME, default ./.slipway) and where everything lives in it.
 * Node side only.
 */
import * as path from 'node:path';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import { z } from 'zod';
import { releaseName, type DeploymentKey } from './domain/deployment';

export function resolveHome(explicit?: string): string {
  return path.resolve(explicit ?? process.env.SLIPWAY_HOME ?? '.slipway');
}

/** Root of the installed Slipway package (where package.json is). */
export const PACKAGE_ROOT = path.resolve(__dirname, '..', '..');

/** The sample store the demo and `project create` start from by default. */
export const SAMPLE_STORE = path.join(PACKAGE_ROOT, 'examples', 'sample-store');

export class Layout {
  /**
   * @param home the data directory
   * @param slugsDir where slugs are stored, when not in `home` (a host worker on its own disk
   *   reads the engine's slug store, shared with it)
   * @param shared where the environments' logs go when not in `home` (a host worker on its own
   *   disk writes its half of each deployment's log into the engine's log store, shared with
   *   it), and the label of this host on every line it writes there
   * @param variablesHome the data directory whose project variables (`variables/`) and their key
   *   (`secrets/variables.key`) are read, when not `home` (a host worker on its own disk reads
   *   the engine's, mounted on it)
   */
  constructor(
    readonly home: string,
    readonly slugsDir?: string,
    readonly shared?: { logsDir: string; host: string },
    readonly variablesHome?: string,
  ) {}
  /** The host a deployment log's lines are labelled with: the host writing into a shared log store; none on the engine's own. */
  get logLabel(): string | undefined {
    return this.shared?.host;
  }

  get temporalDb(): string {
    return path.join(this.home, 'temporal.db');
  }
  /** Shared secret of the remotes' git hooks and the engine's ingest endpoint (mode 0600). */
  get hookTokenFile(): string {
    return path.join(this.home, 'hook-token');
  }
  /** `authorization: Bearer <hook token>`, for curl's -H @file (mode 0600). */
  get hookAuthFile(): string {
    return path.join(this.home, 'hook-auth');
  }
  /** The API's base URL as a plain file, for the shell hook. */
  get apiUrlFile(): string {
    return path.join(this.home, 'api-url');
  }
  get runtimeFile(): string {
    return path.join(this.home, 'runtime.json');
  }
  /**
   * The Temporal server's address as the last worker, API or `slipway setup` of this data
   * directory was given it (TEMPORAL_ADDRESS); kept after they stop, so that a remote's hook
   * (its fallback when no API answers) and the CLI on this host find the real server.
   */
  get temporalAddressFile(): string {
    return path.join(this.home, 'temporal-address');
  }
  remote(project: string): string {
    return path.join(this.home, 'git', `${project}.git`);
  }
  buildWorkspace(k: DeploymentKey): string {
    return path.join(this.home, 'builds', k.project, k.environment, releaseName(k.number));
  }
  slugs(): string {
    return this.slugsDir ?? path.join(this.home, 'slugs');
  }
  slug(id: string): string {
    return path.join(this.slugs(), id);
  }
  environment(project: string, environment: string): string {
    return path.join(this.home, 'envs', project, environment);
  }
  releases(project: string, environment: string): string {
    return path.join(this.environment(project, environment), 'releases');
  }
  release(project: string, environment: string, release: string): string {
    return path.join(this.releases(project, environment), release);
  }
  /** Symlink to the release being served; switched with rename(2). */
  current(project: string, environment: string): string {
    return path.join(this.environment(project, environment), 'current');
  }
  /** A mount's persistent storage (`shared:files/<source>`), linked into each release. */
  mount(project: string, environment: string, source: string): string {
    return path.join(this.environment(project, environment), 'mounts', source);
  }
  /**
   * An environment's snapshots (databases and mounts, src/runtime/data/snapshots.ts): one
   * directory each, `<id>/snapshot.json` and its parts; root's, 0700, bound by no sandbox.
   */
  snapshots(project: string, environment: string): string {
    return path.join(this.home, 'snapshots', project, environment);
  }
  /** The environment's application (nginx, PHP-FPM): its configurations, sockets and logs. */
  application(project: string, environment: string): string {
    return path.join(this.environment(project, environment), 'app');
  }
  /** The socket of the environment's web server, which the router proxies to. */
  webSocket(project: string, environment: string): string {
    return path.join(this.application(project, environment), 'run', 'web.sock');
  }
  /** A link to the run directory of the release the edge passes requests to straight (src/runtime/edge-serving.ts). */
  edgeLink(project: string, environment: string): string {
    return path.join(this.application(project, environment), 'run', 'edge');
  }
  maintenanceFlag(project: string, environment: string): string {
    return path.join(this.environment(project, environment), 'maintenance');
  }
  /** The environments' logs: deployments', crons' and the runtime's (`--logs`: a store shared with the engine). */
  logs(): string {
    return this.shared?.logsDir ?? path.join(this.home, 'logs');
  }
  deployLogs(project: string, environment: string): string {
    return path.join(this.logs(), project, environment);
  }
  /**
   * The name of a hook's sandbox (its cgroup): unique per data directory, deployment and step,
   * so that a retried attempt finds and stops what a dead worker's attempt left running.
   */
  /**
   * The tag of this data directory in cgroup names (hooks', services', the application's): the
   * first 10 hex digits of SHA-256 of its resolved path.
   */
  homeTag(): string {
    return crypto.createHash('sha256').update(path.resolve(this.home)).digest('hex').slice(0, 10);
  }
  hookSandboxName(k: DeploymentKey, step: string): string {
    return `${this.homeTag()}.${k.project}.${k.environment}.${releaseName(k.number)}.${step}`;
  }
  deployLog(k: DeploymentKey): string {
    return path.join(this.deployLogs(k.project, k.environment), `${releaseName(k.number)}.log`);
  }
}

/** What a running `slipway up` tells the other processes (git hooks, CLI) about itself. */
export const runtimeInfoSchema = z.object({
  temporalAddress: z.string(),
  namespace: z.string(),
  uiUrl: z.string().optional(),
  /** Base URL of the engine's HTTP API (git hooks post pushes there). */
  apiUrl: z.string().optional(),
  routerPort: z.number().optional(),
  pid: z.number(),
});
export type RuntimeInfo = z.infer<typeof runtimeInfoSchema>;

export function writeRuntimeInfo(layout: Layout, info: RuntimeInfo): void {
  fs.mkdirSync(layout.home, { recursive: true });
  const tmp = `${layout.runtimeFile}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(info, null, 2));
  fs.renameSync(tmp, layout.runtimeFile);
  if (info.apiUrl) {
    fs.writeFileSync(`${layout.apiUrlFile}.tmp`, `${info.apiUrl}\n`);
    fs.renameSync(`${layout.apiUrlFile}.tmp`, layout.apiUrlFile);
  } else {
    fs.rmSync(layout.apiUrlFile, { force: true });
  }
}

export function readRuntimeInfo(layout: Layout): RuntimeInfo | undefined {
  try {
    return runtimeInfoSchema.parse(JSON.parse(fs.readFileSync(layout.runtimeFile, 'utf8')));
  } catch {
    return undefined;
  }
}

export function removeRuntimeInfo(layout: Layout, pid: number): void {
  const info = readRuntimeInfo(layout);
  if (info && info.pid === pid) {
    fs.rmSync(layout.runtimeFile, { force: true });
    fs.rmSync(layout.apiUrlFile, { force: true });
  }
}

/** Records the Temporal server's address for the hooks and the CLI of this data directory (see Layout.temporalAddressFile). */
export function recordTemporalAddress(layout: Layout, address: string): void {
  fs.mkdirSync(layout.home, { recursive: true });
  const tmp = `${layout.temporalAddressFile}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, `${address}\n`);
  fs.renameSync(tmp, layout.temporalAddressFile);
}

/** The address recorded by recordTemporalAddress, if any. */
export function recordedTemporalAddress(layout: Layout): string | undefined {
  try {
    return fs.readFileSync(layout.temporalAddressFile, 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

/** The hook token, made on first use, and the header file curl sends it from. Never logged. */
export function hookToken(layout: Layout): string {
  fs.mkdirSync(layout.home, { recursive: true });
  try {
    fs.writeFileSync(layout.hookTokenFile, `${crypto.randomBytes(32).toString('hex')}\n`, { mode: 0o600, flag: 'wx' });
  } catch {
    /* it exists already (made earlier, or by another process just now) */
  }
  const token = fs.readFileSync(layout.hookTokenFile, 'utf8').trim();
  if (!fs.existsSync(layout.hookAuthFile)) {
    fs.writeFileSync(`${layout.hookAuthFile}.tmp`, `authorization: Bearer ${token}\n`, { mode: 0o600 });
    fs.renameSync(`${layout.hookAuthFile}.tmp`, layout.hookAuthFile);
  }
  return token;
}

/**
 * The control plane's secrets readable by the engine's user only, whatever made them: the
 * hook token, curl's header file, the identities file in the data directory and Temporal's
 * database. The data directory itself is searchable (the sandbox's users reach the
 * directories bound into their sandboxes through it) but not listable by others. Idempotent.
 */
export function protectControlPlane(layout: Layout): void {
  fs.mkdirSync(layout.home, { recursive: true });
  const homeMode = fs.statSync(layout.home).mode & 0o7777;
  if ((homeMode & 0o077) !== 0o011) fs.chmodSync(layout.home, (homeMode & 0o700) | 0o711);
  for (const file of [
    layout.hookTokenFile,
    layout.hookAuthFile,
    path.join(layout.home, 'identities.yaml'),
    layout.temporalDb,
    `${layout.temporalDb}-wal`,
    `${layout.temporalDb}-shm`,
  ]) {
    try {
      if ((fs.statSync(file).mode & 0o077) !== 0) fs.chmodSync(file, 0o600);
    } catch {
      /* not made (yet) */
    }
  }
}
