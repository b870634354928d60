/**
 * One persistent network namespace per environment, in the manner of a pod: the environment's
 * services (and later its web server and application) listen on their usual ports on its own
 * loopback, so no two environments collide and nothing of theirs is reachable from the host's
 * loopback. The host reaches them through Unix sockets, which cross network namespaces.
 *
 * Made with iproute2's `ip netns add` (a namespace bound at /run/netns/<name>, so that it lives
 * without any process in it and survives the worker); `lo` is brought up in it. Nothing else
 * is in it: no route out, no other interface.
 *
 * Names: `slw-` and the first 12 hex digits of SHA-256(resolved data directory, project,
 * environment), NUL-separated: 16 characters, the same for every worker of one data directory,
 * different between data directories (two test runs, two engines on one machine) and
 * environments. The name says nothing of the project; `ip netns list` shows them, and
 * `netnsName` tells which is whose.
 */
import { execFile } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ensureHostProgram } from '../host-packages';
import { SlipwayError } from '../errors';
import type { Layout } from '../home';

export const NETNS_DIR = '/run/netns';

export function netnsName(layout: Layout, project: string, environment: string): string {
  const hash = crypto.createHash('sha256').update(`${path.resolve(layout.home)}\0${project}\0${environment}`).digest('hex');
  return `slw-${hash.slice(0, 12)}`;
}

/** Where the namespace is bound: what `nsenter --net=` and `setns` take. */
export function netnsPath(name: string): string {
  return path.join(NETNS_DIR, name);
}

export class NetnsError extends SlipwayError {
  constructor(message: string) {
    super(message);
    this.name = 'NetnsError';
  }
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

function checkName(name: string): void {
  if (!NAME.test(name)) throw new NetnsError(`invalid network namespace name "${name}"`);
}

let ipPath: Promise<string> | undefined;

function ipTool(): Promise<string> {
  ipPath ??= ensureHostProgram({ program: 'ip', debianPackage: 'iproute2', purpose: "to give each environment its own network namespace" }).catch((err: unknown) => {
    ipPath = undefined;
    throw err;
  });
  return ipPath;
}

function ip(args: string[]): Promise<{ ok: boolean; output: string }> {
  return ipTool().then(
    (bin) =>
      new Promise((resolve) => {
        execFile(bin, args, { env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' } }, (err, stdout, stderr) =>
          resolve({ ok: !err, output: `${stdout}${stderr}`.trim() }),
        );
      }),
  );
}

/** Whether the namespace is there (bound at /run/netns/<name>). */
export function netnsExists(name: string): boolean {
  checkName(name);
  return fs.existsSync(netnsPath(name));
}

/**
 * Makes the namespace if it is not there, and brings its loopback up (again). Idempotent; a
 * leftover file that is no namespace any more (a half-made one) is replaced. Returns its path.
 */
export async function ensureNetns(name: string): Promise<string> {
  checkName(name);
  if (netnsExists(name)) {
    const up = await ip(['-n', name, 'link', 'set', 'lo', 'up']);
    if (up.ok) return netnsPath(name);
    await ip(['netns', 'delete', name]);
    fs.rmSync(netnsPath(name), { force: true });
  }
  const add = await ip(['netns', 'add', name]);
  // Another worker may have made it meanwhile: "File exists" is fine.
  if (!add.ok && !/exists/i.test(add.output)) throw new NetnsError(`cannot make the network namespace ${name}: ${add.output}`);
  const up = await ip(['-n', name, 'link', 'set', 'lo', 'up']);
  if (!up.ok) throw new NetnsError(`cannot bring up the loopback of the network namespace ${name}: ${up.output}`);
  return netnsPath(name);
}

/**
 * Removes the namespace (once no process is left in it, the kernel frees it). Whether it was
 * there. Its processes must be stopped first: they would keep the namespace alive, unnamed.
 */
export async function deleteNetns(name: string): Promise<boolean> {
  checkName(name);
  if (!netnsExists(name)) return false;
  const del = await ip(['netns', 'delete', name]);
  if (!del.ok && netnsExists(name)) throw new NetnsError(`cannot delete the network namespace ${name}: ${del.output}`);
  return true;
}
