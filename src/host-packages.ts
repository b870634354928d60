/**
 * Host software from Debian packages (bubblewrap now; the web server and services later):
 * found on PATH, else installed with `apt-get` on first use when Slipway runs as root on
 * Debian or Ubuntu, else one clear error naming the package and the command to install it.
 * Never a binary from anywhere else.
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import { findOnPath } from './temporal/locate';
import { SlipwayError } from './errors';

export interface HostProgram {
  /** The program's name on PATH. */
  program: string;
  /** The Debian package that ships it. */
  debianPackage: string;
  /** What Slipway needs it for, for the messages. */
  purpose: string;
  /** Other Debian packages installed with it (e.g. PHP's extensions beside php-fpm). */
  extraPackages?: string[];
  /** Finds the program where its name varies or lies off PATH (default: `program` on PATH, then /usr/sbin). */
  locate?: () => string | undefined;
}

const packagesOf = (p: HostProgram): string => [p.debianPackage, ...(p.extraPackages ?? [])].join(' ');
const locateProgram = (p: HostProgram): string | undefined =>
  p.locate ? p.locate() : (findOnPath(p.program, process.env.PATH) ?? findOnPath(p.program, '/usr/sbin:/usr/bin:/sbin:/bin'));

export class HostPackageMissingError extends SlipwayError {
  constructor(p: HostProgram, why: string) {
    super(`${p.program} is needed ${p.purpose} and is not on PATH; ${why}. Install the Debian package: apt-get install ${packagesOf(p)}`);
    this.name = 'HostPackageMissingError';
  }
}

/** Debian or a derivative (Ubuntu): apt-get installs from the distribution's own packages. */
export function isDebianLike(osRelease = '/etc/os-release'): boolean {
  try {
    const text = fs.readFileSync(osRelease, 'utf8');
    const field = (k: string): string => (new RegExp(`^${k}=(.*)$`, 'm').exec(text)?.[1] ?? '').replace(/^"|"$/g, '');
    return [field('ID'), ...field('ID_LIKE').split(/\s+/)].some((id) => id === 'debian' || id === 'ubuntu');
  } catch {
    return false;
  }
}

function run(cmd: string, args: string[]): Promise<{ ok: boolean; output: string }> {
  return new Promise((resolve) => {
    execFile(
      cmd,
      args,
      { env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }, maxBuffer: 16 * 1024 * 1024 },
      (err, stdout, stderr) => resolve({ ok: !err, output: `${stdout}${stderr}` }),
    );
  });
}

const installs = new Map<string, Promise<string>>();

export interface HostSystem {
  /** The os-release file that tells Debian or Ubuntu (default /etc/os-release; tests name another). */
  osRelease?: string;
}

/**
 * The program's path: on PATH, or installed now (root on Debian/Ubuntu; `progress` says so).
 * Concurrent callers share one installation.
 */
export function ensureHostProgram(p: HostProgram, progress: (message: string) => void = QUIET, system: HostSystem = {}): Promise<string> {
  const found = p.locate ? p.locate() : findOnPath(p.program, process.env.PATH);
  if (found) return Promise.resolve(found);
  let pending = installs.get(p.debianPackage);
  if (!pending) {
    pending = install(p, progress, system).finally(() => installs.delete(p.debianPackage));
    installs.set(p.debianPackage, pending);
  }
  return pending;
}

/** What installing says goes to the worker's stderr too: the operator learns the host is being changed. */
function toOperator(progress: (message: string) => void): (message: string) => void {
  return (message) => {
    console.error(`slipway: ${message}`);
    progress(message);
  };
}
/** No progress callback: what installing says goes to stderr only. */
const QUIET = (): void => {};

async function install(p: HostProgram, report: (message: string) => void, system: HostSystem): Promise<string> {
  const progress = toOperator(report);
  if (process.getuid?.() !== 0) throw new HostPackageMissingError(p, 'Slipway installs it itself only when it runs as root');
  if (!isDebianLike(system.osRelease)) throw new HostPackageMissingError(p, 'Slipway installs it itself only on Debian or Ubuntu');
  progress(`installing the Debian package ${packagesOf(p)} (${p.program}, needed ${p.purpose}) with apt-get…`);
  const args = ['-o', 'DPkg::Lock::Timeout=300', 'install', '-y', '--no-install-recommends', p.debianPackage, ...(p.extraPackages ?? [])];
  let r = await run('apt-get', args);
  if (!r.ok) {
    // A fresh machine may have no package lists yet.
    await run('apt-get', ['-o', 'DPkg::Lock::Timeout=300', 'update']);
    r = await run('apt-get', args);
  }
  const found = locateProgram(p);
  if (!r.ok || !found) {
    const tail = r.output.trim().split('\n').slice(-3).join(' / ');
    throw new HostPackageMissingError(p, `apt-get install ${packagesOf(p)} failed: ${tail}`);
  }
  progress(`installed ${packagesOf(p)}: ${found}`);
  return found;
}
