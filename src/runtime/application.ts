/**
 * The application of an environment, run for real: nginx (the Debian package) serving the
 * live release's `web.locations` on a Unix socket, and for `type: php:<version>` one PHP-FPM
 * pool, both as the project's sandbox user in the environment's network namespace (where its
 * services listen on 127.0.0.1), each in a cgroup of its own named after the environment, so
 * that they outlive the worker and any later worker finds and stops them.
 *
 *   <env>/app/
 *     conf/<release>/nginx.conf     generated per release at staging (root's, 0644); checked with nginx -t
 *     php/<release>/php-fpm.conf    generated at each start (the project user's, 0600), shown to
 *                                   PHP-FPM only; it holds no value: each variable is a reference
 *                                   to PHP-FPM's own environment, where the values (passwords,
 *                                   sensitive variables, opened from the variable store at each
 *                                   start, restarts by the supervisor included) are handed
 *     run/web.sock, run/php.sock    the sockets (nginx's is what the router proxies to)
 *     logs/                         nginx's and PHP's error logs (the project user's)
 *
 * In the sandbox: the release at /app (read-only) and again at /releases/<release>, the mounts
 * at /mounts/<source> (read-write), conf/<release> at /srv/app-conf (read-only; nginx's) or
 * php/ at /srv/php-conf (read-only; PHP-FPM's), run/ at /run/app and logs/ at /srv/app-logs
 * (read-write). A switch of release restarts both with the
 * new release's configuration: a change of `web.locations` takes effect with the switch.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { nginxConfig } from '../domain/runtime/nginx-config';
import { phpFpmConfig } from '../domain/runtime/php-fpm-config';
import type { WebLocation } from '../domain/project-files/web-locations';
import { SlipwayError } from '../errors';
import { sandboxIdentity, type SandboxIdentity } from '../sandbox/identity';
import { runInSandbox, sandboxServiceNames, sandboxServicePids, startSandboxService, stopSandboxService, type SandboxBind } from '../sandbox/sandbox';
import { portAnswers, socketAccepts, waitUntilServing } from './readiness';
import { PLAN_SANDBOX_LIMITS } from '../domain/sandbox-limits';
import { ensureNetns } from './netns';
import { environmentNetns, writeOwned, type EnvironmentRef } from './services/environment';
import { ensureNginx, ensurePhpFpm, isPhpType, type PhpFpm } from './web-programs';
import { readReleaseInfoOf, whyTheRouterServes } from './edge-serving';

const MIB = 1024 * 1024;

/** Inside the application's sandbox. */
/** nginx's configuration of the release (nothing else: the web server never sees PHP-FPM's). */
const SANDBOX_CONF = '/srv/app-conf';
/** PHP-FPM's configuration, bound for PHP-FPM only. */
const SANDBOX_PHP_CONF = '/srv/php-conf';
const SANDBOX_LOGS = '/srv/app-logs';
const SANDBOX_RUN = '/run/app';

export type AppProcess = 'nginx' | 'php' | 'start';
export const APP_PROCESSES: readonly AppProcess[] = ['nginx', 'php', 'start'];

/**
 * The port a non-PHP application's server listens on ($PORT), on the environment's own
 * loopback: one per release (8000 + its number modulo 1000), as the next release's server
 * starts while the current one still serves.
 */
export function appPort(release: string): number {
  return 8000 + (Number(release.replace(/\D/g, '')) % 1000);
}

export interface ApplicationPaths {
  dir: string;
  /** PHP-FPM's configuration directory of a release. */
  phpConf: (release: string) => string;
  conf: (release: string) => string;
  /** Sockets and pid files of a release's processes (bound at /run/app in their sandboxes). */
  run: (release: string) => string;
  logs: string;
  /** What the router proxies to: a link to the web socket of the release being served. */
  webSocket: string;
  /**
   * What the edge passes requests to straight: a link to the run directory of the release
   * served (its web.sock), there only when that release needs no router (src/runtime/edge-serving.ts).
   */
  edgeLink: string;
  /** Which release the application serves (written at the switch). */
  activeFile: string;
}

export function applicationPaths(ref: EnvironmentRef): ApplicationPaths {
  const dir = ref.layout.application(ref.project, ref.environment);
  const run = path.dirname(ref.layout.webSocket(ref.project, ref.environment));
  return {
    dir,
    conf: (release) => path.join(dir, 'conf', release),
    phpConf: (release) => path.join(dir, 'php', release),
    run: (release) => path.join(run, release),
    logs: path.join(dir, 'logs'),
    webSocket: ref.layout.webSocket(ref.project, ref.environment),
    edgeLink: ref.layout.edgeLink(ref.project, ref.environment),
    activeFile: path.join(run, 'release'),
  };
}


/** The cgroup names of the environment's application processes start with this ("app-" never starts a release or a service name). */
function appCgroupPrefix(ref: EnvironmentRef): string {
  return `${ref.layout.homeTag()}.${ref.project}.${ref.environment}.app-`;
}

/** The cgroup of one of the application's processes for one release. */
export function appCgroupName(ref: EnvironmentRef, proc: AppProcess, release: string): string {
  return `${appCgroupPrefix(ref)}${proc}-${release}`;
}

/** Whether a release runs PHP-FPM: a PHP type, without an own server (`web.commands.start`). */
export function runsPhpFpm(m: { appType?: string; webStart?: string }): boolean {
  return !m.webStart && isPhpType(m.appType);
}

/** The cgroup limits of each process (threads count as processes). */
const LIMITS: Record<AppProcess, { memoryBytes: number; processes: number }> = {
  nginx: { memoryBytes: 128 * MIB, processes: 32 },
  php: { memoryBytes: 1024 * MIB, processes: 64 },
  start: { memoryBytes: 1024 * MIB, processes: 128 },
};

export interface ApplicationSpec {
  release: string;
  /** The release's directory and its sandbox binds (release again at /releases/<r>, the mounts). */
  releaseDir: string;
  releaseBinds: SandboxBind[];
  locations: readonly WebLocation[];
  type?: string;
  /** `web.commands.start`: the application runs its own server (instead of PHP-FPM). */
  start?: { command: string; family: 'tcp' | 'unix' };
  /** The PHP application's environment (relationships with their passwords: never logged). */
  env: Record<string, string>;
}

function owned(dir: string, identity: SandboxIdentity, mode: number): void {
  fs.mkdirSync(dir, { recursive: true, mode });
  fs.chownSync(dir, identity.uid, identity.gid);
  fs.chmodSync(dir, mode);
}

function prepare(ref: EnvironmentRef, identity: SandboxIdentity, release: string): ApplicationPaths {
  const p = applicationPaths(ref);
  const longest = path.join(p.run(release), 'web.sock');
  if (Buffer.byteLength(longest) > 107) {
    throw new SlipwayError(`the socket path ${longest} is longer than a Unix socket's path may be: choose a shorter SLIPWAY_HOME`);
  }
  fs.mkdirSync(path.join(p.dir, 'conf'), { recursive: true, mode: 0o755 });
  fs.mkdirSync(path.dirname(p.webSocket), { recursive: true, mode: 0o755 });
  fs.mkdirSync(path.join(p.dir, 'php'), { recursive: true, mode: 0o755 });
  owned(p.run(release), identity, 0o700);
  owned(p.logs, identity, 0o700);
  owned(p.phpConf(release), identity, 0o500);
  return p;
}

/** Beside a release's nginx.conf: "direct", or "router: <why>" (src/runtime/edge-serving.ts). */
const EDGE_FILE = 'edge';

/** How the edge reaches a release: straight to its nginx, or through the router (and why). */
export function edgeServing(ref: EnvironmentRef, release: string): { direct: true } | { direct: false; why: string } {
  let text: string;
  try {
    text = fs.readFileSync(path.join(applicationPaths(ref).conf(release), EDGE_FILE), 'utf8').trim();
  } catch {
    return { direct: false, why: 'prepared before the edge went straight to nginx' };
  }
  return text === 'direct' ? { direct: true } : { direct: false, why: text.replace(/^router: /, '') };
}

/** Digests of configurations nginx accepted (`nginx -t`) in this process. */
const checkedConfigs = new Set<string>();

/**
 * Writes the release's nginx configuration (from its `web.locations`) and checks it with
 * `nginx -t` in the application's sandbox: a release whose configuration nginx refuses is never
 * switched to. Returns the configuration's directory.
 */
export async function prepareWebConfig(ref: EnvironmentRef, spec: Omit<ApplicationSpec, 'env'>, progress?: (m: string) => void): Promise<string> {
  const identity = sandboxIdentity(ref.layout, ref.project);
  const p = prepare(ref, identity, spec.release);
  const conf = p.conf(spec.release);
  fs.mkdirSync(conf, { recursive: true, mode: 0o755 });
  const info = readReleaseInfoOf(ref, spec.release);
  const configWith = (engineHeaders: Record<string, string>): string => nginxConfig({
    appDir: '/app',
    engineHeaders,
    locations: spec.locations,
    listenSocket: `${SANDBOX_RUN}/web.sock`,
    ...(spec.start
      ? { appServer: spec.start.family === 'unix' ? { socket: `${SANDBOX_RUN}/app.sock` } : { port: appPort(spec.release) } }
      : isPhpType(spec.type)
        ? { phpFpmSocket: `${SANDBOX_RUN}/php.sock` }
        : {}),
    pidFile: `${SANDBOX_RUN}/nginx.pid`,
    tempDir: '/tmp',
    errorLog: `${SANDBOX_LOGS}/nginx-error.log`,
  });
  // Every answer says which release and commit it comes from (as the router's do).
  const text = configWith(info ? { 'X-Slipway-Release': info.release, 'X-Slipway-Commit': info.commit } : {});
  writeOwned(path.join(conf, 'nginx.conf'), text, 0o644);
  // Whether the edge passes this release's requests straight to nginx (or through the router, and why).
  const why = whyTheRouterServes(ref, spec.release, spec.releaseDir);
  writeOwned(path.join(conf, EDGE_FILE), why === undefined ? 'direct\n' : `router: ${why}\n`, 0o644);
  // The same text but for the release's headers (same web.locations: paths are those of the
  // sandbox, the same for every release) was accepted by nginx already: not checked again.
  const digest = crypto.createHash('sha256').update(info ? configWith({ 'X-Slipway-Release': 'r', 'X-Slipway-Commit': 'c' }) : text).digest('hex');
  if (checkedConfigs.has(digest)) return conf;
  const nginx = await ensureNginx(progress);
  const output: string[] = [];
  const end = await runInSandbox({
    name: `${appCgroupName(ref, 'nginx', spec.release)}.check`,
    dataDir: ref.layout.home,
    identity,
    hostname: ref.project,
    app: { dir: spec.releaseDir, writable: false },
    binds: sandboxBinds(p, spec.release, conf, spec.releaseBinds),
    command: [nginx, '-t', '-q', '-c', `${SANDBOX_CONF}/nginx.conf`, '-e', '/tmp/nginx-check.log'],
    env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C.UTF-8' },
    limits: { ...PLAN_SANDBOX_LIMITS.pro, memoryBytes: 256 * MIB, processes: 32 },
    timeoutSeconds: 30,
    onOutput: (l) => output.push(l),
  });
  if (end.kind !== 'exited' || end.code !== 0) {
    throw new SlipwayError(`nginx refuses the configuration generated for release ${spec.release}: ${output.slice(-3).join(' / ') || end.kind}`);
  }
  if (checkedConfigs.size > 1000) checkedConfigs.clear();
  checkedConfigs.add(digest);
  return conf;
}

function sandboxBinds(p: ApplicationPaths, release: string, conf: string, releaseBinds: SandboxBind[]): SandboxBind[] {
  return [
    ...releaseBinds,
    { dir: conf, at: SANDBOX_CONF, writable: false },
    { dir: p.run(release), at: SANDBOX_RUN, writable: true },
    { dir: p.logs, at: SANDBOX_LOGS, writable: true },
  ];
}

/** nginx or PHP-FPM accepts connections on its socket (15 s at most). */
function serving(socket: string, cgroup: string, log: string): Promise<void> {
  return waitUntilServing({
    serves: () => socketAccepts(socket),
    cgroup,
    log,
    logLines: 3,
    subject: 'it',
    awaited: `accept connections on ${socket}`,
    timeoutMs: 15_000,
    intervalMs: 20,
    stopGraceMs: 2000,
  });
}

export interface ApplicationStatus {
  release?: string;
  processes: Array<{ name: AppProcess; running: boolean; pids: number }>;
}

/** Which release the application serves (recorded at the switch), if any. */
export function runningRelease(ref: EnvironmentRef): string | undefined {
  try {
    return fs.readFileSync(applicationPaths(ref).activeFile, 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

/** The processes of the release being served (all stopped when none is). */
export function applicationStatus(ref: EnvironmentRef): ApplicationStatus {
  const release = runningRelease(ref);
  return {
    ...(release ? { release } : {}),
    processes: APP_PROCESSES.map((name) => {
      const pids = release ? sandboxServicePids(appCgroupName(ref, name, release)).length : 0;
      return { name, running: pids > 0, pids };
    }),
  };
}

/** The application's processes a spec runs: nginx, and PHP-FPM or its own server. */
export function processesOf(spec: Pick<ApplicationSpec, 'type' | 'start'>): AppProcess[] {
  return spec.start ? ['nginx', 'start'] : isPhpType(spec.type) ? ['nginx', 'php'] : ['nginx'];
}

let php: Promise<PhpFpm> | undefined;
function phpFpm(progress?: (m: string) => void): Promise<PhpFpm> {
  php ??= ensurePhpFpm(progress).catch((err: unknown) => {
    php = undefined;
    throw err;
  });
  return php;
}

/** The host's PHP-FPM (installed on first use), for the deployment's notes on versions and extensions. */
export { phpFpm as hostPhpFpm };

/**
 * Starts the application's processes for a release (PHP-FPM first, then nginx), stopping
 * whatever ran before: returns once nginx accepts connections. The release's nginx
 * configuration must have been prepared (`prepareWebConfig`).
 */
export async function startApplication(ref: EnvironmentRef, spec: ApplicationSpec, progress?: (m: string) => void): Promise<'started' | 'adopted'> {
  const wanted = processesOf(spec);
  if (wanted.every((proc) => sandboxServicePids(appCgroupName(ref, proc, spec.release)).length > 0)) return 'adopted';
  await stopReleaseProcesses(ref, spec.release);
  const identity = sandboxIdentity(ref.layout, ref.project);
  const p = prepare(ref, identity, spec.release);
  const conf = p.conf(spec.release);
  if (!fs.existsSync(path.join(conf, 'nginx.conf'))) await prepareWebConfig(ref, spec, progress);
  const netns = await ensureNetns(environmentNetns(ref));
  const app = { dir: spec.releaseDir, writable: false };
  const base = { dataDir: ref.layout.home, identity, hostname: ref.project, netns, app };
  const run = p.run(spec.release);
  for (const f of ['web.sock', 'php.sock', 'app.sock']) fs.rmSync(path.join(run, f), { force: true });
  const shared = [{ dir: run, at: SANDBOX_RUN, writable: true }, { dir: p.logs, at: SANDBOX_LOGS, writable: true }];
  const startPhp = async (): Promise<void> => {
    const fpm = await phpFpm(progress);
    const config = phpFpmConfig({
      pool: `${ref.project}-${ref.environment}`.replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 64),
      listenSocket: `${SANDBOX_RUN}/php.sock`,
      pidFile: `${SANDBOX_RUN}/php-fpm.pid`,
      errorLog: `${SANDBOX_LOGS}/php-fpm.log`,
      phpErrorLog: `${SANDBOX_LOGS}/php-error.log`,
      env: spec.env,
    });
    // References only (env[NAME] = $SLIPWAY_FPM_ENV_n): the values, passwords and sensitive
    // variables among them, go to PHP-FPM's process environment below and are never on disk.
    writeOwned(path.join(p.phpConf(spec.release), 'php-fpm.conf'), config.config, 0o600, identity);
    const cgroup = appCgroupName(ref, 'php', spec.release);
    await startSandboxService({
      ...base,
      binds: [...spec.releaseBinds, { dir: p.phpConf(spec.release), at: SANDBOX_PHP_CONF, writable: false }, ...shared],
      name: cgroup,
      command: [fpm.path, '-F', '-y', `${SANDBOX_PHP_CONF}/php-fpm.conf`],
      env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C.UTF-8', HOME: '/app', ...config.processEnv },
      limits: LIMITS.php,
      logFile: path.join(p.dir, 'php-fpm.out'),
    });
    await serving(path.join(run, 'php.sock'), cgroup, path.join(p.logs, 'php-fpm.log')).catch((err: unknown) => {
      throw new SlipwayError(`PHP-FPM of ${ref.project}/${ref.environment} did not start: ${(err as Error).message}`);
    });
  };
  const startNginx = async (): Promise<void> => {
    const nginx = await ensureNginx(progress);
    const cgroup = appCgroupName(ref, 'nginx', spec.release);
    await startSandboxService({
      ...base,
      binds: [...spec.releaseBinds, { dir: conf, at: SANDBOX_CONF, writable: false }, ...shared],
      name: cgroup,
      command: [nginx, '-c', `${SANDBOX_CONF}/nginx.conf`, '-e', `${SANDBOX_LOGS}/nginx-error.log`],
      env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C.UTF-8' },
      limits: LIMITS.nginx,
      logFile: path.join(p.dir, 'nginx.out'),
    });
    await serving(path.join(run, 'web.sock'), cgroup, path.join(p.logs, 'nginx-error.log')).catch((err: unknown) => {
      throw new SlipwayError(`nginx of ${ref.project}/${ref.environment} did not start: ${(err as Error).message}`);
    });
  };
  const startOwnServer = async (): Promise<void> => {
    const start = spec.start!;
    const cgroup = appCgroupName(ref, 'start', spec.release);
    const socket = path.join(run, 'app.sock');
    await startSandboxService({
      ...base,
      binds: [...spec.releaseBinds, ...shared],
      name: cgroup,
      command: ['bash', '-c', start.command],
      env: {
        PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
        LANG: 'C.UTF-8',
        HOME: '/app',
        ...spec.env,
        ...(start.family === 'unix' ? { SOCKET: `${SANDBOX_RUN}/app.sock` } : { PORT: String(appPort(spec.release)) }),
      },
      limits: LIMITS.start,
      logFile: path.join(p.logs, 'app.log'),
    });
    const listening =
      start.family === 'unix' ? () => socketAccepts(socket) : () => portAnswers(netns, appPort(spec.release));
    const deadline = Date.now() + 30_000;
    while (!(await listening())) {
      if (sandboxServicePids(cgroup).length === 0) throw new SlipwayError(`the application's command (web.commands.start) ended as it started; see ${path.join(p.logs, 'app.log')}`);
      if (Date.now() > deadline) {
        throw new SlipwayError(`the application's command (web.commands.start) did not listen on ${start.family === 'unix' ? '$SOCKET' : `$PORT (${appPort(spec.release)})`} within 30 s`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  // At once: nginx does not need PHP-FPM to start (a request before PHP-FPM listens would get 502).
  const own = spec.start ? [startOwnServer()] : isPhpType(spec.type) ? [startPhp()] : [];
  const started = await Promise.allSettled([...own, startNginx()]);
  const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) {
    await stopReleaseProcesses(ref, spec.release);
    throw failed.reason;
  }
  return 'started';
}

/**
 * Makes the release's web server the one the router reaches: the link `web.sock` replaced at
 * once by one to that release's socket (rename(2)), and the release recorded.
 */
export function activateApplication(ref: EnvironmentRef, release: string): void {
  const p = applicationPaths(ref);
  const tmp = `${p.webSocket}.${process.pid}.tmp`;
  fs.rmSync(tmp, { force: true });
  fs.symlinkSync(path.join(release, 'web.sock'), tmp);
  fs.renameSync(tmp, p.webSocket);
  const edgeTmp = `${p.edgeLink}.${process.pid}.tmp`;
  fs.rmSync(edgeTmp, { force: true });
  if (edgeServing(ref, release).direct) {
    fs.symlinkSync(release, edgeTmp);
    fs.renameSync(edgeTmp, p.edgeLink);
  } else fs.rmSync(p.edgeLink, { force: true });
  const info = `${p.activeFile}.${process.pid}.tmp`;
  fs.writeFileSync(info, `${release}\n`);
  fs.renameSync(info, p.activeFile);
}

/** The releases whose application processes have a cgroup now. */
function releasesWithProcesses(ref: EnvironmentRef): Map<string, string[]> {
  const prefix = appCgroupPrefix(ref);
  const byRelease = new Map<string, string[]>();
  for (const group of sandboxServiceNames(prefix)) {
    const m = /^[a-z]+-(.+)$/.exec(group.slice(prefix.length));
    if (!m) continue;
    byRelease.set(m[1]!, [...(byRelease.get(m[1]!) ?? []), group]);
  }
  return byRelease;
}

/**
 * Stops one release's processes and removes its sockets. Whether any ran. `graceful`: they
 * finish the requests in flight first (SIGQUIT; what a release that served gets after a switch).
 */
export async function stopReleaseProcesses(ref: EnvironmentRef, release: string, graceful = false): Promise<boolean> {
  const running = await Promise.all(
    APP_PROCESSES.map((proc) => stopSandboxService(appCgroupName(ref, proc, release), graceful ? 15_000 : 5000, graceful ? 'SIGQUIT' : 'SIGTERM')),
  );
  fs.rmSync(applicationPaths(ref).run(release), { recursive: true, force: true });
  return running.some(Boolean);
}

/**
 * Stops the application's processes of every release but `keep` (all of them without it: the
 * link the router follows and the recorded release go too). The releases that had processes.
 */
export async function stopApplication(ref: EnvironmentRef, keep?: string): Promise<string[]> {
  const stopped: string[] = [];
  for (const release of releasesWithProcesses(ref).keys()) {
    if (release === keep) continue;
    // Beside a release kept serving, the others stop gracefully: requests already passed to
    // them (before the switch) are answered.
    if (await stopReleaseProcesses(ref, release, keep !== undefined)) stopped.push(`application of ${release}`);
  }
  if (keep === undefined) {
    const p = applicationPaths(ref);
    for (const f of [p.edgeLink, p.webSocket, p.activeFile]) fs.rmSync(f, { force: true });
  }
  return stopped;
}

/** Removes the configurations of releases that are gone (kept: those in `keep`). */
export function pruneWebConfigs(ref: EnvironmentRef, keep: readonly string[]): void {
  const dir = path.join(applicationPaths(ref).dir, 'conf');
  if (!fs.existsSync(dir)) return;
  for (const name of fs.readdirSync(dir)) if (!keep.includes(name)) fs.rmSync(path.join(dir, name), { recursive: true, force: true });
}
