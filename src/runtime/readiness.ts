/**
 * Whether a long-running process of an environment (a service, nginx, PHP-FPM) serves yet: a
 * Unix socket that accepts connections, or a port that answers inside the environment's
 * network namespace; and the one wait loop that gives up when its processes are gone or time
 * runs out, quoting the end of its log.
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import { SlipwayError } from '../errors';
import { sandboxServicePids, sandboxTools, stopSandboxService } from '../sandbox/sandbox';

/** Whether the Unix socket (or TCP host and port) accepts a connection now. */
export function socketAccepts(socket: string | { host: string; port: number }): Promise<boolean> {
  return new Promise((resolve) => {
    const c = typeof socket === 'string' ? net.connect(socket) : net.connect(socket);
    c.once('connect', () => {
      c.destroy();
      resolve(true);
    });
    c.once('error', () => resolve(false));
  });
}

/** Whether a process with this pid exists (signal 0). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Whether something listens on the port inside the network namespace (asked from in there). */
export async function portAnswers(netns: string, port: number): Promise<boolean> {
  const { nsenter } = await sandboxTools();
  return new Promise((resolve) => {
    execFile(nsenter, [`--net=${netns}`, '--', 'bash', '-c', `exec 3<>/dev/tcp/127.0.0.1/${Math.floor(port)}`], { timeout: 5000 }, (err) => resolve(!err));
  });
}

export interface ServingWait {
  /** Asked until it says yes. */
  serves: () => Promise<boolean>;
  /** The process's cgroup: empty means it ended. */
  cgroup: string;
  /** Its log, whose last lines a failure quotes. */
  log: string;
  logLines: number;
  /** What the messages call it ("the service", "it") and what it must do ("accept connections on …"). */
  subject: string;
  awaited: string;
  timeoutMs: number;
  intervalMs: number;
  /** How long it is given to stop when it did not serve in time. */
  stopGraceMs: number;
}

/** Waits until the process serves; throws, quoting its log, when it ended or did not serve in time (then stopped). */
export async function waitUntilServing(w: ServingWait): Promise<void> {
  const deadline = Date.now() + w.timeoutMs;
  const tail = (): string => {
    try {
      return fs.readFileSync(w.log, 'utf8').trim().split('\n').slice(-w.logLines).join(' / ');
    } catch {
      return 'no log';
    }
  };
  while (!(await w.serves())) {
    if (sandboxServicePids(w.cgroup).length === 0) throw new SlipwayError(`${w.subject} ended as it started: ${tail()}`);
    if (Date.now() > deadline) {
      await stopSandboxService(w.cgroup, w.stopGraceMs);
      throw new SlipwayError(`${w.subject} did not ${w.awaited} within ${w.timeoutMs / 1000} s: ${tail()}`);
    }
    await new Promise((r) => setTimeout(r, w.intervalMs));
  }
}
