/**
 * The edge's process: nginx (the Debian package, as for the environments) on the router's port,
 * with the configuration of src/domain/runtime/edge-config.ts. It dies with the process that
 * started it (setpriv --pdeathsig); one left by a process killed before that existed is stopped
 * by the next edge on the same port (its pid file).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { edgeConfig } from '../domain/runtime/edge-config';
import { ensureHostProgram } from '../host-packages';
import { processAlive, socketAccepts } from '../runtime/readiness';
import { ensureNginx } from '../runtime/web-programs';

export interface EdgeOptions {
  home: string;
  dir: string;
  listenHost: string;
  port: number;
  routerSocket: string;
}

export interface RunningEdge {
  close(): Promise<void>;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** An nginx left running on this edge's directory by a process that died: stopped. */
async function stopLeftover(dir: string): Promise<void> {
  const pid = Number(fs.readFileSync(path.join(dir, 'nginx.pid'), 'utf8').trim());
  if (!Number.isInteger(pid) || pid <= 1 || !processAlive(pid)) return;
  const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
  if (!cmdline.some((a) => a.startsWith('nginx')) || !cmdline.includes(path.join(dir, 'nginx.conf'))) return;
  process.kill(pid, 'SIGTERM');
  for (let i = 0; i < 50 && processAlive(pid); i++) await sleep(100);
}

function errorTail(dir: string): string {
  try {
    return fs.readFileSync(path.join(dir, 'error.log'), 'utf8').trim().split('\n').slice(-2).join(' / ');
  } catch {
    return '';
  }
}

export async function startEdge(options: EdgeOptions): Promise<RunningEdge> {
  const [nginx, setpriv] = await Promise.all([
    ensureNginx(),
    ensureHostProgram({ program: 'setpriv', debianPackage: 'util-linux', purpose: 'to stop the edge (nginx) with the process that started it' }),
  ]);
  const { dir } = options;
  fs.mkdirSync(path.join(dir, 'tmp'), { recursive: true, mode: 0o700 });
  await stopLeftover(dir).catch(() => undefined);
  fs.rmSync(path.join(dir, 'error.log'), { force: true });
  const conf = path.join(dir, 'nginx.conf');
  const root = process.getuid?.() === 0;
  fs.writeFileSync(
    conf,
    edgeConfig({
      home: options.home,
      dir,
      listenHost: options.listenHost,
      port: options.port,
      routerSocket: options.routerSocket,
      workers: Math.min(2, os.availableParallelism()),
      workersAsRoot: root,
    }),
    { mode: 0o600 },
  );
  // Removed before nginx starts: removed after, it could already hold the new pid (nginx can
  // write it before this process runs again under load), and nginx would never be seen as ours.
  fs.rmSync(path.join(dir, 'nginx.pid'), { force: true });
  const child: ChildProcess = spawn(setpriv, ['--pdeathsig', 'TERM', '--', nginx, '-c', conf, '-e', path.join(dir, 'error.log')], { stdio: 'ignore' });
  let exited: string | undefined;
  child.once('exit', (code, signal) => (exited = signal ?? `exit ${code}`));
  child.once('error', (err) => (exited = err.message));
  const deadline = Date.now() + 10_000;
  // Ours once it wrote its pid file (after binding the port) and the port answers.
  const ours = (): boolean => {
    try {
      return Number(fs.readFileSync(path.join(dir, 'nginx.pid'), 'utf8').trim()) === child.pid;
    } catch {
      return false;
    }
  };
  while (!(ours() && (await socketAccepts({ host: options.listenHost, port: options.port })))) {
    if (exited !== undefined || Date.now() > deadline) {
      const why = errorTail(dir) || exited || 'no answer within 10 s';
      // TERM first: nginx stops its workers then; a master killed outright would leave them behind.
      if (exited === undefined) {
        const gone = new Promise<void>((r) => child.once('exit', () => r()));
        child.kill('SIGTERM');
        await Promise.race([gone, sleep(2000)]);
        if (exited === undefined) child.kill('SIGKILL');
      }
      throw new Error(`the edge (nginx) could not serve ${options.listenHost}:${options.port}: ${why}`);
    }
    await sleep(20);
  }
  return {
    close: async () => {
      if (exited !== undefined) return;
      const done = new Promise<void>((r) => child.once('exit', () => r()));
      child.kill('SIGTERM');
      await Promise.race([done, sleep(5000)]);
      if (exited === undefined) child.kill('SIGKILL');
    },
  };
}
