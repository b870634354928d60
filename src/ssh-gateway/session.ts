/**
 * The session program (`slipway ssh-session <project> <environment> <person> <fingerprint>`):
 * the forced command of every key the gateway lets in. It runs as root on the host, started by
 * sshd; everything it runs of the user's runs in the environment's sandbox:
 *
 *   the live release at /app (read-only), its mounts read-write, as the project's uid, in the
 *   environment's network namespace (its services on 127.0.0.1), with the environment the
 *   application gets (MAGENTO_CLOUD_RELATIONSHIPS, _ROUTES, _VARIABLES, …); the command sshd
 *   was asked for (SSH_ORIGINAL_COMMAND) with `bash -c`, else a shell (interactive on a pty).
 *
 * Nothing the client sent runs on the host: the command is an argument of bash inside the
 * sandbox. The session's start and end (person, key, command, exit status) are signalled to the
 * environment's workflow, so its history records them; a session that cannot be recorded does
 * not start. Each open session has a file in `run/ssh-sessions/`, which `closeSshSessions` reads
 * to end a revoked key's sessions.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Client } from '@temporalio/client';
import { SANDBOX_BASE_ENV } from '../activities/lib/hook-process';
import type { SshSessionEvent } from '../domain/environment';
import { workflowIds } from '../domain/names';
import type { Layout } from '../home';
import { hasServices, readWanted, releaseBinds, runtimeEnvironment } from '../runtime/environment-runtime';
import { processAlive } from '../runtime/readiness';
import { environmentNetnsPath } from '../runtime/services';
import { SandboxCgroup } from '../sandbox/cgroup';
import { sandboxIdentity } from '../sandbox/identity';
import { sandboxLimitsFor } from '../sandbox/limits';
import { chownTree } from '../sandbox/ownership';
import { runAttachedInSandbox } from '../sandbox/sandbox';
import { sshSessionSignal } from '../workflows/environment';
import { FINGERPRINT, isName, PERSON } from './config';
import { sessionsDir } from './paths';

export interface SessionRecord {
  session: string;
  project: string;
  environment: string;
  person: string;
  fingerprint: string;
  /** The session program's pid (a process group leader: sshd starts it in a session of its own). */
  pid: number;
  /** Its sandbox's cgroup. */
  sandbox: string;
  startedAt: number;
}

export class SessionRefused extends Error {}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The open sessions of this data directory (files of sessions whose program is gone are removed). */
export function openSessions(layout: Layout): SessionRecord[] {
  const dir = sessionsDir(layout);
  let names: string[];
  try {
    names = fs.readdirSync(dir).filter((n) => n.endsWith('.json'));
  } catch {
    return [];
  }
  const open: SessionRecord[] = [];
  for (const name of names) {
    const file = path.join(dir, name);
    try {
      const r = JSON.parse(fs.readFileSync(file, 'utf8')) as SessionRecord;
      if (processAlive(r.pid)) open.push(r);
      else fs.rmSync(file, { force: true });
    } catch {
      /* being written or removed */
    }
  }
  return open;
}

async function endSessions(layout: Layout, which: (r: SessionRecord) => boolean): Promise<number> {
  const sessions = openSessions(layout).filter(which);
  for (const s of sessions) {
    // The sandbox first, whole and at once; then the session program, which records the end.
    SandboxCgroup.named(s.sandbox)?.killAll();
    try {
      process.kill(s.pid, 'SIGTERM');
    } catch {
      /* ended meanwhile */
    }
  }
  const deadline = Date.now() + 5000;
  while (sessions.some((s) => processAlive(s.pid)) && Date.now() < deadline) await sleep(50);
  for (const s of sessions) {
    if (!processAlive(s.pid)) continue;
    SandboxCgroup.named(s.sandbox)?.killAll();
    try {
      process.kill(-s.pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
  return sessions.length;
}

/**
 * Ends, at once, every open session of this key on this environment (its key was revoked): the
 * sandbox is killed whole, the session program records the end (exit status 137) in the
 * environment's history and the connection closes. The number of sessions ended. Logins are
 * refused already from the moment the key is gone from the registry; this ends those open.
 */
export async function closeSshSessions(layout: Layout, which: { project: string; environment: string; fingerprint: string }): Promise<number> {
  return endSessions(layout, (r) => r.project === which.project && r.environment === which.environment && r.fingerprint === which.fingerprint);
}

/** Ends every open session of the data directory (the gateway stops). */
export async function closeAllSshSessions(layout: Layout): Promise<number> {
  return endSessions(layout, () => true);
}

/** A process's parent, name and start time (/proc/<pid>/stat), or nothing when it is gone. */
function statOf(pid: number): { ppid: number; comm: string; start: string } | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const close = stat.lastIndexOf(')');
    const fields = stat.slice(close + 2).split(' ');
    return { comm: stat.slice(stat.indexOf('(') + 1, close), ppid: Number(fields[1]), start: fields[19]! };
  } catch {
    return undefined;
  }
}

/**
 * sshd's process for this connection: the nearest ancestor named sshd (there may be shells in
 * between). It exits when the client goes away; without a pty nothing else tells the session.
 */
function sshdAncestor(): { pid: number; start: string } | undefined {
  for (let pid = process.ppid, i = 0; pid > 1 && i < 10; i++) {
    const st = statOf(pid);
    if (!st) return undefined;
    if (st.comm === 'sshd') return { pid, start: st.start };
    pid = st.ppid;
  }
  return undefined;
}

export interface SessionRequest {
  project: string;
  environment: string;
  person: string;
  fingerprint: string;
  /** What the client asked to run (SSH_ORIGINAL_COMMAND); absent: a shell. */
  command?: string;
  /** sshd allocated a pty (SSH_TTY): an interactive shell, with job control. */
  terminal: boolean;
  /** The client's terminal type (TERM), passed on when it is a plain name. */
  term?: string;
}

/**
 * Runs one session to its end; its exit status. Refused (SessionRefused, with the reason for
 * the user) when the environment has no live release or is not running, or when the start
 * cannot be recorded.
 */
export async function runSshSession(layout: Layout, temporal: Client, req: SessionRequest): Promise<number> {
  if (!isName(req.project) || !isName(req.environment) || !PERSON.test(req.person) || !FINGERPRINT.test(req.fingerprint)) {
    throw new SessionRefused('malformed session arguments');
  }
  const ref = { layout, project: req.project, environment: req.environment };
  const wanted = readWanted(ref);
  if (!wanted || wanted.state !== 'running' || !wanted.release) {
    throw new SessionRefused(`${req.project}/${req.environment} is not running (nothing deployed, or inactive)`);
  }
  const release = wanted.release;
  const releaseDir = layout.release(req.project, req.environment, release);
  if (!fs.existsSync(releaseDir)) throw new SessionRefused(`${req.project}/${req.environment}: release ${release} is not on this host`);

  const session = crypto.randomBytes(6).toString('hex');
  const what = req.command ?? 'shell';
  const event = (e: Pick<SshSessionEvent, 'event' | 'exitCode'>): SshSessionEvent => ({
    at: Date.now(),
    session,
    user: req.person,
    fingerprint: req.fingerprint,
    command: what.slice(0, 200),
    ...e,
  });
  const workflow = temporal.workflow.getHandle(workflowIds.environment(req.project, req.environment));
  try {
    await workflow.signal(sshSessionSignal, event({ event: 'start' }));
  } catch (err) {
    throw new SessionRefused(`the session could not be recorded in ${req.project}/${req.environment}'s history, so it does not start: ${err instanceof Error ? err.message : String(err)}`);
  }

  const identity = sandboxIdentity(layout, req.project);
  const { limits } = await sandboxLimitsFor(layout, req.project);
  const binds = releaseBinds(layout, ref, release, wanted.manifest.mounts);
  for (const b of binds) if (b.writable) await chownTree(b.dir, identity);
  const { env } = runtimeEnvironment(layout, { project: req.project, environment: req.environment, branch: wanted.branch, treeId: wanted.treeId, manifest: wanted.manifest });
  const term: Record<string, string> = req.terminal && req.term && /^[A-Za-z0-9._+-]{1,64}$/.test(req.term) ? { TERM: req.term } : {};
  const sandbox = `${layout.homeTag()}.${req.project}.${req.environment}.ssh-${session}`;

  const record: SessionRecord = { session, project: req.project, environment: req.environment, person: req.person, fingerprint: req.fingerprint, pid: process.pid, sandbox, startedAt: Date.now() };
  const file = path.join(sessionsDir(layout), `${session}.json`);
  fs.mkdirSync(sessionsDir(layout), { recursive: true, mode: 0o700 });
  fs.writeFileSync(file, JSON.stringify(record), { mode: 0o600 });

  // Ended from outside (closeSshSessions, the gateway stopping), by a hangup of the pty, or
  // when sshd's process for this connection is gone (a client that vanished without a pty).
  const stop = new AbortController();
  const onSignal = (): void => stop.abort();
  // Ctrl-C on the pty reaches the sandbox's foreground processes itself; it does not end the session.
  const ignore = (): void => undefined;
  for (const s of ['SIGTERM', 'SIGHUP'] as const) process.on(s, onSignal);
  process.on('SIGINT', ignore);
  const connection = sshdAncestor();
  const watch = setInterval(() => {
    if (connection && statOf(connection.pid)?.start !== connection.start) stop.abort();
  }, 1000);
  let code = 255;
  try {
    if (!stop.signal.aborted) {
      code = await runAttachedInSandbox({
        name: sandbox,
        dataDir: layout.home,
        identity,
        hostname: `${req.project}-${req.environment}`.slice(0, 63),
        app: { dir: releaseDir, writable: false },
        binds,
        command: req.command !== undefined ? ['bash', '-c', req.command] : req.terminal ? ['bash', '-i'] : ['bash', '-s'],
        env: { ...SANDBOX_BASE_ENV, ...env, ...term },
        ...(hasServices(wanted.manifest) ? { netns: await environmentNetnsPath(ref) } : {}),
        limits,
        terminal: req.terminal,
        signal: stop.signal,
      });
    } else code = 143;
  } finally {
    clearInterval(watch);
    // The handlers stay until the end is recorded: a SIGTERM now (closeSshSessions sends one
    // after killing the sandbox) must not cut the record short.
    await workflow.signal(sshSessionSignal, event({ event: 'end', exitCode: code })).catch((err: unknown) => {
      process.stderr.write(`slipway: the end of the session could not be recorded: ${err instanceof Error ? err.message : String(err)}\n`);
    });
    fs.rmSync(file, { force: true });
    for (const s of ['SIGTERM', 'SIGHUP'] as const) process.off(s, onSignal);
    process.off('SIGINT', ignore);
  }
  return code;
}
