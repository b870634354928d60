/**
 * The sandbox every piece of tenant code runs in (hooks now; the application and its crons
 * next), built from kernel isolation with bubblewrap:
 *
 *   sh (CPU time and file size limits, no core files; joins the run's cgroup)
 *     → setpriv (the project's uid/gid, no supplementary groups, no new privileges)
 *       → bwrap (new user, pid, network, IPC and UTS namespaces; a new root with only the
 *                system directories read-only, the app at /app, its mounts; a fresh /proc,
 *                /dev and /tmp; dies with the worker)
 *         → the command
 *
 * Nothing of the data directory is visible but what the run binds; no engine port is
 * reachable (the network namespace has only its own loopback); the environment is exactly
 * the one given (never the worker's); every process dies when the command ends (bubblewrap's
 * init is pid 1 of the namespace) or when the run is stopped (the cgroup is killed whole).
 * A run given `netns` joins that persistent namespace (its environment's, where its services
 * listen) with nsenter before setpriv, instead of getting a new one.
 *
 * Long-running services (`startSandboxService`, below) use the same sandbox, shaped to outlive
 * the worker.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ensureHostProgram } from '../host-packages';
import { formatDuration, formatSize, type SandboxLimits } from '../domain/sandbox-limits';
import { SandboxCgroup } from './cgroup';
import type { SandboxIdentity } from './identity';

/** Where the application is inside the sandbox, as on Magento Cloud. */
export const SANDBOX_APP_DIR = '/app';

export interface SandboxBind {
  /** A directory on the host. */
  dir: string;
  /** Where it is inside the sandbox (an absolute path, never under /app). */
  at: string;
  writable: boolean;
}

export interface SandboxRun {
  /** Unique among running sandboxes of this machine: the cgroup's name. */
  name: string;
  /** The data directory the bound directories are in (made searchable, never listable). */
  dataDir: string;
  identity: SandboxIdentity;
  hostname: string;
  /** The application directory, bound at /app (the working directory; / when there is none). */
  app?: { dir: string; writable: boolean };
  binds: SandboxBind[];
  command: string[];
  /** The whole environment of the command. */
  env: Record<string, string>;
  /**
   * A persistent network namespace to join (its path, /run/netns/<name>: the environment's,
   * where its services listen) instead of a new one with nothing but its own loopback.
   */
  netns?: string;
  limits: SandboxLimits;
  /** Wall-clock limit for this run, in seconds. */
  timeoutSeconds: number;
  onOutput: (line: string) => void;
  /** Aborting stops the run (SIGTERM to every process, SIGKILL 3 s later). */
  signal?: AbortSignal;
}

export type LimitName = 'memory' | 'processes' | 'cpu-time' | 'file-size' | 'timeout' | 'silence';

export type SandboxEnd =
  | { kind: 'exited'; code: number; tail: string[] }
  | { kind: 'limit'; limit: LimitName; message: string; code: number | null; tail: string[] }
  | { kind: 'cancelled'; tail: string[] };

/** The sandbox could not be set up: the engine's failure, not the tenant's (worth a retry). */
export class SandboxSetupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SandboxSetupError';
  }
}

interface Tools {
  bwrap: string;
  setpriv: string;
  nsenter: string;
}

let tools: Promise<Tools> | undefined;

/** bubblewrap (installed from Debian on first use when root) and setpriv (util-linux). */
export function sandboxTools(progress?: (m: string) => void): Promise<Tools> {
  tools ??= (async () => ({
    bwrap: await ensureHostProgram({ program: 'bwrap', debianPackage: 'bubblewrap', purpose: 'to run tenant code in a sandbox' }, progress),
    setpriv: await ensureHostProgram({ program: 'setpriv', debianPackage: 'util-linux', purpose: "to run tenant code as its project's user" }),
    nsenter: await ensureHostProgram({ program: 'nsenter', debianPackage: 'util-linux', purpose: "to run tenant code in its environment's network namespace" }),
  }))().catch((err: unknown) => {
    tools = undefined;
    throw err;
  });
  return tools;
}

/**
 * What a worker checks before it takes work: root (a user per project, cgroups), bubblewrap
 * (installed now if missing), and a cgroup with memory and process limits.
 */
export async function checkSandbox(progress?: (m: string) => void): Promise<void> {
  if (process.getuid?.() !== 0) {
    throw new SandboxSetupError(
      "Slipway's worker runs tenant code in a sandbox, as each project's own user and with cgroup limits, which needs root: run the worker as root",
    );
  }
  await sandboxTools(progress);
  const probe = SandboxCgroup.create(`probe-${process.pid}`, { memoryBytes: 64 * 1024 * 1024, processes: 8 });
  probe.remove();
}

/** System directories shown read-only: what shells, PHP and the usual build tools need. */
const SYSTEM_DIRS = ['/usr', '/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32'];
const ETC_ENTRIES = [
  // Debian's /usr/bin/php and friends are links through /etc/alternatives.
  'alternatives',
  'ssl',
  'ca-certificates',
  'ld.so.cache',
  'localtime',
  'resolv.conf',
  'php',
];

let systemArgs: string[] | undefined;

function systemBinds(): string[] {
  if (systemArgs) return systemArgs;
  const args: string[] = [];
  for (const dir of SYSTEM_DIRS) {
    const st = fs.lstatSync(dir, { throwIfNoEntry: false });
    if (!st) continue;
    if (st.isSymbolicLink()) args.push('--symlink', fs.readlinkSync(dir), dir);
    else if (st.isDirectory()) args.push('--ro-bind', dir, dir);
  }
  for (const entry of ETC_ENTRIES) {
    const p = path.join('/etc', entry);
    if (fs.existsSync(p)) args.push('--ro-bind', p, p);
  }
  systemArgs = args;
  return args;
}

/**
 * bubblewrap, started as the unprivileged user, reaches the directories it binds with that
 * user's rights: each directory above them must be searchable by others. The data directory
 * is made so (search only: 0711, nothing can be listed); any other is reported.
 */
const reachable = new Set<string>();
export function makeReachable(dir: string, ownedRoot: string): void {
  if (reachable.has(dir)) return;
  const chain: string[] = [];
  for (let d = path.resolve(dir); ; d = path.dirname(d)) {
    chain.unshift(d);
    if (d === path.dirname(d)) break;
  }
  const root = path.resolve(ownedRoot);
  for (const d of chain.slice(0, -1)) {
    const mode = fs.statSync(d).mode;
    if (mode & 0o001) continue;
    if (d === root || d.startsWith(`${root}${path.sep}`)) fs.chmodSync(d, (mode & 0o7777) | 0o711);
    else {
      throw new SandboxSetupError(
        `the sandbox cannot reach ${dir}: ${d} is not searchable by other users (chmod o+x ${d}, or choose another SLIPWAY_HOME)`,
      );
    }
  }
  reachable.add(dir);
}

/** What differs between a run to completion (a hook) and a service that outlives the worker. */
interface Shape {
  identity: SandboxIdentity;
  hostname: string;
  app?: { dir: string; writable: boolean };
  binds: SandboxBind[];
  /** Keep the network namespace the sandbox is started in (a joined persistent one). */
  shareNet: boolean;
  /** Die when the process that started bubblewrap dies (hooks: yes; services: no). */
  dieWithParent: boolean;
  /** Report bubblewrap's status (the child's pid once it started) on fd 3. */
  statusFd: boolean;
  /**
   * A new session for the command (default): it cannot reach the caller's terminal. Only an
   * attached run on a terminal of its own (an SSH session's pty) keeps it, for job control.
   */
  newSession?: boolean;
}

function bwrapArgs(shape: Shape): string[] {
  const args = [
    '--unshare-user',
    '--unshare-pid',
    ...(shape.shareNet ? [] : ['--unshare-net']),
    '--unshare-ipc',
    '--unshare-uts',
    '--unshare-cgroup-try',
    '--hostname',
    shape.hostname,
    ...(shape.dieWithParent ? ['--die-with-parent'] : []),
    ...(shape.newSession === false ? [] : ['--new-session']),
    ...systemBinds(),
    '--ro-bind',
    path.join(shape.identity.etcDir, 'passwd'),
    '/etc/passwd',
    '--ro-bind',
    path.join(shape.identity.etcDir, 'group'),
    '/etc/group',
    '--ro-bind',
    path.join(shape.identity.etcDir, 'hosts'),
    '/etc/hosts',
    '--proc',
    '/proc',
    '--dev',
    '/dev',
    '--tmpfs',
    '/tmp',
    '--tmpfs',
    '/var/tmp',
  ];
  if (shape.app) args.push(shape.app.writable ? '--bind' : '--ro-bind', shape.app.dir, SANDBOX_APP_DIR);
  for (const b of shape.binds) args.push(b.writable ? '--bind' : '--ro-bind', b.dir, b.at);
  // The new root itself (a tmpfs holding the mount points) is read-only too.
  args.push('--remount-ro', '/', '--chdir', shape.app ? SANDBOX_APP_DIR : '/');
  if (shape.statusFd) args.push('--json-status-fd', '3');
  return args;
}

/**
 * Stops what a run of this name left (its worker died under it): the number of processes
 * killed, or undefined when no such run had been set up.
 */
export function stopLeftoverSandbox(name: string): number | undefined {
  const group = SandboxCgroup.named(name);
  if (!group || group.procsFiles.length === 0) return undefined;
  const n = group.pids().length;
  group.remove();
  return n;
}

/**
 * The first process of a run: sets the CPU-time limit (hard, then a lower soft one, so a
 * process gets SIGXCPU before SIGKILL), the file-size limit (512-byte blocks) and no core
 * files, joins the cgroups named before `--`, then becomes the rest. The limits come as
 * arguments: no value is ever part of the script.
 */
const ENTER_SANDBOX =
  'ulimit -t "$2" && ulimit -S -t "$1" && ulimit -f "$3" && ulimit -c 0 || exit 125; shift 3; ' +
  'while [ "$1" != -- ]; do echo $$ > "$1" || exit 125; shift; done; shift; exec "$@"';

/** A CPU delta below this between two checks counts as "no CPU" for silence detection. */
const IDLE_CPU_NS = 20_000_000;

/** `/bin/sh`'s arguments for a run to completion: limits, its cgroup, the netns, the user, bubblewrap, the command. */
function runArgv(
  t: Tools,
  run: Pick<SandboxRun, 'identity' | 'hostname' | 'app' | 'binds' | 'command' | 'netns' | 'limits'>,
  cgroup: SandboxCgroup,
  shape: { statusFd: boolean; newSession: boolean },
): string[] {
  const cpu = Math.max(1, Math.ceil(run.limits.cpuSeconds));
  return [
    '-c',
    ENTER_SANDBOX,
    'slipway-sandbox',
    String(cpu),
    String(cpu + 5),
    String(Math.max(1, Math.floor(run.limits.fileSizeBytes / 512))),
    ...cgroup.procsFiles,
    '--',
    ...(run.netns ? [t.nsenter, `--net=${run.netns}`, '--'] : []),
    t.setpriv,
    `--reuid=${run.identity.uid}`,
    `--regid=${run.identity.gid}`,
    '--clear-groups',
    '--no-new-privs',
    '--',
    t.bwrap,
    ...bwrapArgs({ ...run, shareNet: run.netns !== undefined, dieWithParent: true, statusFd: shape.statusFd, newSession: shape.newSession }),
    '--',
    ...run.command,
  ];
}

export async function runInSandbox(run: SandboxRun): Promise<SandboxEnd> {
  const t = await sandboxTools();
  for (const dir of [...(run.app ? [run.app.dir] : []), run.identity.etcDir, ...run.binds.map((b) => b.dir)]) makeReachable(dir, run.dataDir);
  stopLeftoverSandbox(run.name);
  const cgroup = SandboxCgroup.create(run.name, run.limits);
  const argv = runArgv(t, run, cgroup, { statusFd: true, newSession: true });

  const tail: string[] = [];
  let lastActivity = Date.now();
  const child = spawn('/bin/sh', argv, { cwd: '/', env: run.env, stdio: ['ignore', 'pipe', 'pipe', 'pipe'] });
  let started = false;
  let status = '';
  const statusPipe = child.stdio[3] as NodeJS.ReadableStream;
  statusPipe.setEncoding('utf8');
  statusPipe.on('data', (chunk: string) => {
    status += chunk;
    if (/"child-pid"/.test(status)) started = true;
  });
  const collect = (stream: NodeJS.ReadableStream): void => {
    let partial = '';
    stream.setEncoding('utf8');
    const emit = (l: string): void => {
      run.onOutput(l);
      tail.push(l);
      if (tail.length > 40) tail.shift();
    };
    stream.on('data', (chunk: string) => {
      lastActivity = Date.now();
      const lines = (partial + chunk).split('\n');
      partial = lines.pop() ?? '';
      for (const l of lines) emit(l);
    });
    stream.on('end', () => {
      if (partial) emit(partial);
    });
  };
  collect(child.stdout!);
  collect(child.stderr!);

  let stopped: { limit: LimitName; message: string } | 'cancelled' | undefined;
  const stop = (why: typeof stopped): void => {
    if (stopped) return;
    stopped = why;
    cgroup.killAll();
  };
  const timeout = setTimeout(
    () => stop({ limit: 'timeout', message: `ran past its time limit of ${formatDuration(run.timeoutSeconds)} and was stopped` }),
    run.timeoutSeconds * 1000,
  );
  let lastCpu = cgroup.usage().cpuNs ?? 0;
  const silenceMs = run.limits.silenceSeconds * 1000;
  const watch = setInterval(
    () => {
      const cpuNs = cgroup.usage().cpuNs;
      if (cpuNs !== undefined && cpuNs - lastCpu > IDLE_CPU_NS) lastActivity = Date.now();
      lastCpu = cpuNs ?? lastCpu;
      if (Date.now() - lastActivity >= silenceMs) {
        stop({ limit: 'silence', message: `printed nothing and used no CPU for ${formatDuration(run.limits.silenceSeconds)} and was stopped` });
      }
    },
    Math.min(5000, Math.max(250, silenceMs / 4)),
  );
  let termTimer: NodeJS.Timeout | undefined;
  const onAbort = (): void => {
    if (stopped) return;
    stopped = 'cancelled';
    cgroup.signalAll('SIGTERM');
    termTimer = setTimeout(() => cgroup.killAll(), 3000);
  };
  run.signal?.addEventListener('abort', onAbort);
  if (run.signal?.aborted) onAbort();

  try {
    const { code, signal } = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
      child.once('error', reject);
      child.once('close', (c, s) => resolve({ code: c, signal: s }));
    });
    const usage = cgroup.usage();
    if (stopped === 'cancelled') return { kind: 'cancelled', tail };
    if (stopped) return { kind: 'limit', ...stopped, code, tail };
    if (!started) {
      throw new SandboxSetupError(`the sandbox did not start (exit ${code ?? signal}): ${tail.slice(-3).join(' / ') || 'no message'}`);
    }
    if (code === 0) return { kind: 'exited', code: 0, tail };
    if (usage.oomKills > 0) {
      return { kind: 'limit', limit: 'memory', message: `exceeded its memory limit of ${formatSize(run.limits.memoryBytes)}`, code, tail };
    }
    if (usage.processLimitHits > 0) {
      return { kind: 'limit', limit: 'processes', message: `reached its limit of ${run.limits.processes} processes`, code, tail };
    }
    // bash reports a child killed by a signal as 128 + the signal: SIGXCPU 24, SIGXFSZ 25.
    if (code === 128 + 24) {
      return { kind: 'limit', limit: 'cpu-time', message: `exceeded its CPU-time limit of ${formatDuration(run.limits.cpuSeconds)} per process`, code, tail };
    }
    if (code === 128 + 25) {
      return { kind: 'limit', limit: 'file-size', message: `exceeded its file-size limit of ${formatSize(run.limits.fileSizeBytes)}`, code, tail };
    }
    return { kind: 'exited', code: code ?? 128, tail };
  } finally {
    clearTimeout(timeout);
    clearInterval(watch);
    if (termTimer) clearTimeout(termTimer);
    run.signal?.removeEventListener('abort', onAbort);
    // Nothing the command started outlives it.
    cgroup.remove();
  }
}

/**
 * A run attached to the caller's standard input, output and error (an SSH session through the
 * gateway, src/ssh-gateway/): the same sandbox as a hook (the project's uid, bubblewrap's
 * namespaces, its cgroup's memory and process limits, the rlimits), but no time limit and no
 * silence detection: a person is at the other end. With `terminal`, the command keeps the
 * caller's session, so that a shell on the SSH session's pty has job control (bubblewrap's
 * `--new-session` is left out: see docs/security.md, "The SSH gateway"). `signal` stops it
 * (SIGTERM to every process, SIGKILL 3 s later). Its exit status (128 + signal when killed).
 */
export interface AttachedSandboxRun extends Omit<SandboxRun, 'onOutput' | 'timeoutSeconds'> {
  terminal: boolean;
}

export async function runAttachedInSandbox(run: AttachedSandboxRun): Promise<number> {
  const t = await sandboxTools();
  for (const dir of [...(run.app ? [run.app.dir] : []), run.identity.etcDir, ...run.binds.map((b) => b.dir)]) makeReachable(dir, run.dataDir);
  stopLeftoverSandbox(run.name);
  const cgroup = SandboxCgroup.create(run.name, run.limits);
  const argv = runArgv(t, run, cgroup, { statusFd: false, newSession: !run.terminal });
  let termTimer: NodeJS.Timeout | undefined;
  const onAbort = (): void => {
    cgroup.signalAll('SIGTERM');
    termTimer ??= setTimeout(() => cgroup.killAll(), 3000);
  };
  try {
    const child = spawn('/bin/sh', argv, { cwd: '/', env: run.env, stdio: 'inherit' });
    run.signal?.addEventListener('abort', onAbort);
    if (run.signal?.aborted) onAbort();
    const { code, signal } = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
      child.once('error', reject);
      child.once('close', (c, s) => resolve({ code: c, signal: s }));
    });
    return code ?? 128 + (signal ? (os.constants.signals[signal] ?? 0) : 0);
  } finally {
    if (termTimer) clearTimeout(termTimer);
    run.signal?.removeEventListener('abort', onAbort);
    cgroup.remove();
  }
}

/**
 * A long-running service of an environment (a database, a cache; later the web server and
 * the application), in the same sandbox as a hook but shaped to outlive the worker:
 *
 *   sh (no core files; joins the service's own cgroup)             ← detached: a new session
 *     → nsenter --net=/run/netns/<environment's>  (joins the environment's persistent netns)
 *       → setpriv (the project's uid/gid, no groups, no new privileges)
 *         → bwrap (new user, pid, IPC and UTS namespaces; the network namespace kept;
 *                  no --die-with-parent)
 *           → the service
 *
 * It has no time limit and no silence detection; its cgroup limits its memory and processes
 * (threads count). It is started detached (setsid, stdio on its log file, not on pipes to
 * the worker) and without bubblewrap's --die-with-parent, so a worker's restart or `kill -9`
 * does not take it down: what owns it is its cgroup, named after the environment and the
 * service. A new worker finds it by that name (`sandboxServiceRunning`), and stops it
 * through it (`stopSandboxService`: SIGTERM to every process, SIGKILL after a grace period).
 */
export interface SandboxService {
  /** Unique on this machine: the name of its cgroup, by which any later worker finds it. */
  name: string;
  /** The data directory the bound directories are in (made searchable, never listable). */
  dataDir: string;
  identity: SandboxIdentity;
  hostname: string;
  /** The persistent network namespace it joins: its path, /run/netns/<name>. */
  netns: string;
  /** The application directory, bound at /app and the working directory (the application's processes). */
  app?: { dir: string; writable: boolean };
  /** Its data (read-write), its configuration (read-only), its run directory for sockets. */
  binds: SandboxBind[];
  command: string[];
  /** The whole environment of the service. */
  env: Record<string, string>;
  /** Its cgroup's limits (threads count as processes). */
  limits: { memoryBytes: number; processes: number };
  /** stdout and stderr are appended to this file (created 0600, the engine's). */
  logFile: string;
}

/** The first process of a service: no core files, joins the cgroups named before `--`, becomes the rest. */
const ENTER_SERVICE = 'ulimit -c 0 || exit 125; while [ "$1" != -- ]; do echo $$ > "$1" || exit 125; shift; done; shift; exec "$@"';

/** The processes of the service of this name now (none: stopped, or never started). */
export function sandboxServicePids(name: string): number[] {
  const group = SandboxCgroup.named(name);
  return group?.exists() ? group.pids() : [];
}

export function sandboxServiceRunning(name: string): boolean {
  return sandboxServicePids(name).length > 0;
}

/** The names of the services whose name starts with `prefix` and that have a cgroup now (running or not). */
export function sandboxServiceNames(prefix: string): string[] {
  return SandboxCgroup.list(prefix);
}

/**
 * Starts the service, detached, and returns once its first process is in its cgroup; whether
 * it then serves is the caller's to check (each kind has its own readiness). Refuses a
 * service that is running already.
 */
export async function startSandboxService(svc: SandboxService): Promise<void> {
  const t = await sandboxTools();
  if (sandboxServiceRunning(svc.name)) throw new SandboxSetupError(`the service ${svc.name} is running already`);
  for (const dir of [...(svc.app ? [svc.app.dir] : []), svc.identity.etcDir, ...svc.binds.map((b) => b.dir)]) makeReachable(dir, svc.dataDir);
  const cgroup = SandboxCgroup.create(svc.name, svc.limits);
  fs.mkdirSync(path.dirname(svc.logFile), { recursive: true });
  const log = fs.openSync(svc.logFile, 'a', 0o600);
  const argv = [
    '-c',
    ENTER_SERVICE,
    'slipway-service',
    ...cgroup.procsFiles,
    '--',
    t.nsenter,
    `--net=${svc.netns}`,
    '--',
    t.setpriv,
    `--reuid=${svc.identity.uid}`,
    `--regid=${svc.identity.gid}`,
    '--clear-groups',
    '--no-new-privs',
    '--',
    t.bwrap,
    ...bwrapArgs({
      identity: svc.identity,
      hostname: svc.hostname,
      ...(svc.app ? { app: svc.app } : {}),
      binds: svc.binds,
      shareNet: true,
      dieWithParent: false,
      statusFd: false,
    }),
    '--',
    ...svc.command,
  ];
  try {
    const child = spawn('/bin/sh', argv, { cwd: '/', env: svc.env, detached: true, stdio: ['ignore', log, log] });
    await new Promise<void>((resolve, reject) => {
      child.once('error', reject);
      child.once('spawn', resolve);
    });
    child.unref();
    // Its first process joins the cgroup before anything else; a failure to join ends it (125).
    for (let i = 0; i < 200 && cgroup.pids().length === 0 && child.exitCode === null; i++) await sleep(10);
    if (cgroup.pids().length === 0) {
      throw new SandboxSetupError(`the service ${svc.name} did not start (exit ${child.exitCode ?? child.signalCode ?? 'unknown'}); see ${svc.logFile}`);
    }
  } finally {
    fs.closeSync(log);
  }
}

/**
 * Stops the service of this name, whoever started it: SIGTERM (or `signal`: SIGQUIT is
 * graceful for nginx and PHP-FPM, which finish the requests they serve) to every process of
 * its cgroup, SIGKILL to what is left after `graceMs`, then the cgroup removed. Whether anything
 * was running.
 */
export async function stopSandboxService(name: string, graceMs = 15_000, signal: NodeJS.Signals = 'SIGTERM'): Promise<boolean> {
  const group = SandboxCgroup.named(name);
  if (!group?.exists()) return false;
  const running = group.pids().length > 0;
  if (running) {
    group.signalAll(signal);
    const deadline = Date.now() + graceMs;
    while (group.pids().length > 0 && Date.now() < deadline) await sleep(25);
  }
  group.remove();
  return running;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
