/**
 * The SSH gateway's process: OpenSSH's sshd (Debian's openssh-server, found or installed as the
 * other host packages are), started by Slipway as root with a generated configuration, in a
 * mount namespace of its own where a generated passwd file lies over /etc/passwd (one uid-0 login
 * user per environment, `<project>-<environment>`; the host's /etc/passwd is never changed). That
 * file is rewritten in place every 2 s from the environments of the data directory, so a new
 * environment is reachable within seconds. sshd dies with the process that started it
 * (setpriv --pdeathsig); it and every process it forks start in a cgroup of the gateway's, which
 * `close` kills whole, after ending the open sessions; one left by a process killed before is
 * stopped by the next gateway of the data directory.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { SlipwayError } from '../errors';
import { socketAccepts } from '../runtime/readiness';
import { ensureHostProgram } from '../host-packages';
import type { Layout } from '../home';
import { SandboxCgroup } from '../sandbox/cgroup';
import { passwdFile, SAFE_PATH, sshdConfig, wrapperScript } from './config';
import { environmentUsers, gatewayCgroupName, gatewayKeyDir, gatewayRunDir, gatewayWrapper } from './paths';
import { closeAllSshSessions, closeSshSessions, openSessions } from './session';
import { allowedKeys, type KeyRegistry } from './authorized-keys';
import { SlipwayClient } from '../client';
import { loadIdentities, loadIdentitiesFile } from '../identities';

export interface SshGatewayOptions {
  layout: Layout;
  port: number;
  /** Default 127.0.0.1. */
  listenHost?: string;
  /** The Temporal server the helper programs ask for approved keys and record sessions in. */
  temporalAddress: string;
  /** The identities file the key registry reads (default: what the engine reads, SLIPWAY_IDENTITIES or the data directory's). */
  identitiesFile?: string;
  log?: (line: string) => void;
}

export interface RunningSshGateway {
  port: number;
  close(): Promise<void>;
}

/** What the helper programs are given besides these (sshd clears the environment). */
const PASSED_ON = ['SLIPWAY_SANDBOX_UID_BASE', 'TEMPORAL_TLS_CERT', 'TEMPORAL_TLS_KEY', 'TEMPORAL_TLS_CA', 'TEMPORAL_TLS_SERVER_NAME', 'TEMPORAL_API_KEY'];

/** Seconds between two rewrites of the login users. */
export const USERS_REFRESH_MS = 2000;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Rewrites a file in place (same inode: it is bind-mounted) when its content changes. */
function rewriteInPlace(file: string, content: string): void {
  if (fs.readFileSync(file, 'utf8') === content) return;
  const fd = fs.openSync(file, 'r+');
  try {
    const data = Buffer.from(content);
    fs.writeSync(fd, data, 0, data.length, 0);
    fs.ftruncateSync(fd, data.length);
  } finally {
    fs.closeSync(fd);
  }
}

function logTail(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8').trim().split('\n').slice(-3).join(' / ');
  } catch {
    return '';
  }
}

export async function startSshGateway(options: SshGatewayOptions): Promise<RunningSshGateway> {
  const { layout, port } = options;
  const listenHost = options.listenHost ?? '127.0.0.1';
  const log = options.log ?? (() => undefined);
  if (process.getuid?.() !== 0) throw new SlipwayError('the SSH gateway runs sshd as root (its sessions start sandboxes): run it as root');
  const [sshd, sshKeygen, setpriv, unshare] = await Promise.all([
    ensureHostProgram({ program: 'sshd', debianPackage: 'openssh-server', purpose: 'for the SSH gateway' }),
    ensureHostProgram({ program: 'ssh-keygen', debianPackage: 'openssh-client', purpose: "to make the SSH gateway's host key" }),
    ensureHostProgram({ program: 'setpriv', debianPackage: 'util-linux', purpose: 'to stop the SSH gateway with the process that started it' }),
    ensureHostProgram({ program: 'unshare', debianPackage: 'util-linux', purpose: "to give the SSH gateway's sshd a mount namespace of its own" }),
  ]);
  const runDir = gatewayRunDir(layout);
  const wrapper = gatewayWrapper(layout);
  if (!SAFE_PATH.test(wrapper)) {
    throw new SlipwayError(`the SSH gateway writes the data directory's path into sshd's forced commands, and ${layout.home} has characters it will not quote there: use a path of letters, digits, "/._+-"`);
  }
  fs.mkdirSync(runDir, { recursive: true, mode: 0o700 });
  fs.chmodSync(runDir, 0o700);

  // A gateway left by a process killed before (pdeathsig came too late, or none): stopped whole.
  const leftover = SandboxCgroup.named(gatewayCgroupName(layout));
  if (leftover?.exists()) {
    await closeAllSshSessions(layout);
    leftover.remove();
  }

  // The host key, made once; clients see the same host across restarts.
  const keyDir = gatewayKeyDir(layout);
  fs.mkdirSync(keyDir, { recursive: true, mode: 0o700 });
  const hostKey = path.join(keyDir, 'ssh_host_ed25519_key');
  if (!fs.existsSync(hostKey)) {
    await new Promise<void>((resolve, reject) => {
      const p = spawn(sshKeygen, ['-q', '-t', 'ed25519', '-N', '', '-C', 'slipway-ssh-gateway', '-f', hostKey], { stdio: ['ignore', 'ignore', 'pipe'] });
      let err = '';
      p.stderr.on('data', (d: Buffer) => (err += d.toString()));
      p.once('error', reject);
      p.once('exit', (code) => (code === 0 ? resolve() : reject(new SlipwayError(`ssh-keygen could not make the gateway's host key: ${err.trim() || `exit ${code}`}`))));
    });
  }
  fs.chmodSync(hostKey, 0o600);

  // The helper programs, through one wrapper: sshd gives them an empty environment.
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    SLIPWAY_HOME: layout.home,
    TEMPORAL_ADDRESS: options.temporalAddress,
  };
  const identities = options.identitiesFile ?? process.env.SLIPWAY_IDENTITIES;
  if (identities) env.SLIPWAY_IDENTITIES = path.resolve(identities);
  for (const k of PASSED_ON) if (process.env[k]) env[k] = process.env[k];
  const main = path.resolve(__dirname, '..', 'cli', 'main.js');
  fs.writeFileSync(wrapper, wrapperScript(process.execPath, main, env), { mode: 0o700 });
  fs.chmodSync(wrapper, 0o700);

  const passwd = path.join(runDir, 'passwd');
  const users = (): string => passwdFile(fs.readFileSync('/etc/passwd', 'utf8'), environmentUsers(layout).keys());
  fs.writeFileSync(passwd, users(), { mode: 0o644 });
  const conf = path.join(runDir, 'sshd_config');
  const pidFile = path.join(runDir, 'sshd.pid');
  fs.writeFileSync(conf, sshdConfig({ listenHost, port, hostKey, pidFile, wrapper }), { mode: 0o600 });
  // sshd's privilege separation directory (Debian's service makes it at boot).
  fs.mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  fs.rmSync(pidFile, { force: true });
  const logFile = path.join(runDir, 'sshd.log');
  const out = fs.openSync(logFile, 'w', 0o600);

  const cgroup = SandboxCgroup.create(gatewayCgroupName(layout), { memoryBytes: 4 * 1024 ** 3, processes: 4096 });
  // sh (joins the gateway's cgroup; the generated passwd over /etc/passwd, in this mount
  // namespace only) → sshd in the foreground, logging to stderr.
  const script = 'for f in "$@"; do [ "$f" = -- ] && break; echo $$ > "$f" || exit 125; shift; done; shift; ' + 'mount --bind "$1" /etc/passwd || exit 125; exec "$2" -D -e -f "$3"';
  let child: ChildProcess;
  try {
    child = spawn(
      setpriv,
      ['--pdeathsig', 'TERM', '--', unshare, '--mount', '--propagation', 'private', '--', '/bin/sh', '-c', script, 'slipway-ssh-gateway', ...cgroup.procsFiles, '--', passwd, sshd, conf],
      // A process group of its own: Ctrl-C on `slipway up`'s terminal reaches `close`, which ends
      // the sessions (recording their ends) before it stops sshd; it does not reach sshd first.
      { stdio: ['ignore', out, out], cwd: '/', detached: true },
    );
  } finally {
    fs.closeSync(out);
  }
  let exited: string | undefined;
  child.once('exit', (code, signal) => (exited = signal ?? `exit ${code}`));
  child.once('error', (err) => (exited = err.message));
  const ours = (): boolean => {
    try {
      return Number(fs.readFileSync(pidFile, 'utf8').trim()) === child.pid;
    } catch {
      return false;
    }
  };
  const deadline = Date.now() + 10_000;
  while (!(ours() && (await socketAccepts({ host: listenHost, port })))) {
    if (exited !== undefined || Date.now() > deadline) {
      child.kill('SIGKILL');
      cgroup.remove();
      throw new SlipwayError(`the SSH gateway (sshd) could not serve ${listenHost}:${port}: ${logTail(logFile) || exited || 'no answer within 10 s'}`);
    }
    await sleep(20);
  }
  log(`SSH gateway: sshd on ${listenHost}:${port} (log ${logFile})`);

  // Revocation closes access at once: every 2 s, an open session whose key the registry no
  // longer allows (a key removed from identities.yaml, an approved key removed by its ticket)
  // is ended. The registry unreachable: sessions are left as they are until it answers.
  let registryClient: SlipwayClient | undefined;
  const registry: KeyRegistry = {
    identities: () => (options.identitiesFile ? loadIdentitiesFile(options.identitiesFile) : loadIdentities(layout)),
    approvedKeys: async (project, environment) => {
      registryClient ??= await SlipwayClient.connect({ layout, address: options.temporalAddress });
      return registryClient.sshKeys(project, environment);
    },
  };
  let checking = false;
  const revokeWithdrawn = async (): Promise<void> => {
    const open = openSessions(layout);
    if (checking || open.length === 0) return;
    checking = true;
    try {
      const allowedOn = new Map<string, Awaited<ReturnType<typeof allowedKeys>> | undefined>();
      for (const s of open) {
        const key = `${s.project}/${s.environment}`;
        if (!allowedOn.has(key)) allowedOn.set(key, await allowedKeys(registry, s.project, s.environment).catch(() => undefined));
        const allowed = allowedOn.get(key);
        if (!allowed || allowed.some((k) => k.key.fingerprint === s.fingerprint && k.person === s.person)) continue;
        const n = await closeSshSessions(layout, { project: s.project, environment: s.environment, fingerprint: s.fingerprint });
        log(`SSH gateway: key ${s.fingerprint} of ${s.person} is no longer allowed on ${key}: ${n} session(s) ended`);
      }
    } finally {
      checking = false;
    }
  };
  const refresh = setInterval(() => {
    try {
      rewriteInPlace(passwd, users());
    } catch (err) {
      log(`SSH gateway: could not update the login users: ${err instanceof Error ? err.message : String(err)}`);
    }
    revokeWithdrawn().catch((err: unknown) => log(`SSH gateway: could not check the open sessions' keys: ${err instanceof Error ? err.message : String(err)}`));
  }, USERS_REFRESH_MS);
  refresh.unref();

  let closed = false;
  return {
    port,
    close: async () => {
      if (closed) return;
      closed = true;
      clearInterval(refresh);
      await closeAllSshSessions(layout);
      await registryClient?.close();
      if (exited === undefined) {
        const done = new Promise<void>((r) => child.once('exit', () => r()));
        child.kill('SIGTERM');
        await Promise.race([done, sleep(5000)]);
      }
      // Every connection's sshd and anything else it forked.
      cgroup.remove();
    },
  };
}
