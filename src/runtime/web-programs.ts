/**
 * The web server and PHP of an environment, from the host's Debian packages: nginx, and
 * PHP-FPM with the MySQL and Redis extensions. Found on PATH (or /usr/sbin, where Debian puts
 * them), else installed on first use as src/host-packages.ts does, else one error naming the
 * packages. Debian names PHP-FPM after its version (/usr/sbin/php-fpm8.2): any `php-fpm<version>`
 * is found, the newest first, and its version reported.
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ensureHostProgram, type HostProgram } from '../host-packages';
import { findOnPath } from '../temporal/locate';

/** Where Debian puts daemons, searched after PATH (an unprivileged PATH often lacks it). */
const SYSTEM_DIRS = ['/usr/sbin', '/usr/bin', '/sbin'];

function searchDirs(): string[] {
  return [...(process.env.PATH ?? '').split(path.delimiter).filter((d) => d !== ''), ...SYSTEM_DIRS];
}

const isExecutableFile = (p: string): boolean => {
  try {
    fs.accessSync(p, fs.constants.X_OK);
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
};

/** "8.2" → [8, 2]; "" (plain `php-fpm`) sorts last. */
const versionKey = (v: string): number[] => (v === '' ? [-1] : v.split('.').map(Number));
function compareVersions(a: string, b: string): number {
  const [x, y] = [versionKey(a), versionKey(b)];
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const d = (x[i] ?? 0) - (y[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** The newest `php-fpm` or `php-fpm<version>` on PATH or in /usr/sbin, or undefined. */
export function locatePhpFpm(dirs: readonly string[] = searchDirs()): string | undefined {
  const found: Array<{ file: string; version: string }> = [];
  for (const dir of dirs) {
    let names: string[];
    try {
      names = fs.readdirSync(dir);
    } catch {
      continue;
    }
    for (const name of names) {
      const m = /^php-fpm(\d+(?:\.\d+)*)?$/.exec(name);
      if (m && isExecutableFile(path.join(dir, name))) found.push({ file: path.join(dir, name), version: m[1] ?? '' });
    }
  }
  // Newest version first; the first directory wins among equals (PATH order).
  found.sort((a, b) => compareVersions(b.version, a.version));
  return found[0]?.file;
}

export function locateNginx(): string | undefined {
  return findOnPath('nginx', searchDirs().join(path.delimiter));
}

export const NGINX_PROGRAM: HostProgram = {
  program: 'nginx',
  debianPackage: 'nginx',
  purpose: "to serve an environment's web locations",
  locate: locateNginx,
};

export const PHP_FPM_PROGRAM: HostProgram = {
  program: 'php-fpm',
  debianPackage: 'php-fpm',
  extraPackages: ['php-mysql', 'php-redis'],
  purpose: "to run an environment's PHP application",
  locate: () => locatePhpFpm(),
};

export interface PhpFpm {
  path: string;
  /** The full version, such as "8.2.29". */
  version: string;
  /** "8.2": what `type: php:8.2` names. */
  minor: string;
  /** The extensions it loads (lower case), such as "mysqli", "pdo_mysql", "redis". */
  extensions: string[];
}

function output(file: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { timeout: 15_000 }, (err, stdout, stderr) => (err ? reject(new Error(`${file} ${args.join(' ')}: ${err.message} ${stderr}`.trim())) : resolve(stdout)));
  });
}

/** nginx's path (installed on first use where Slipway may). */
export function ensureNginx(progress?: (message: string) => void): Promise<string> {
  return ensureHostProgram(NGINX_PROGRAM, progress);
}

/** PHP-FPM (installed with php-mysql and php-redis on first use where Slipway may), its version and extensions. */
export async function ensurePhpFpm(progress?: (message: string) => void): Promise<PhpFpm> {
  const file = await ensureHostProgram(PHP_FPM_PROGRAM, progress);
  return describePhpFpm(file);
}

export async function describePhpFpm(file: string): Promise<PhpFpm> {
  const [v, m] = await Promise.all([output(file, ['-v']), output(file, ['-m'])]);
  const version = /^PHP (\d+\.\d+\.\d+)/m.exec(v)?.[1];
  if (!version) throw new Error(`${file} -v did not say its PHP version: ${v.slice(0, 200)}`);
  const extensions = m
    .split('\n')
    .map((l) => l.trim().toLowerCase())
    .filter((l) => l !== '' && !l.startsWith('['));
  return { path: file, version, minor: version.split('.').slice(0, 2).join('.'), extensions };
}

/**
 * What a deployment says when the application's `type: php:<version>` is not the host's PHP,
 * or undefined when they agree (or the type is no PHP).
 */
export function phpVersionNote(type: string, host: Pick<PhpFpm, 'version' | 'minor'>): string | undefined {
  const m = /^php:(\d+(?:\.\d+)?)/.exec(type.trim());
  if (!m) return undefined;
  const declared = m[1]!;
  if (declared === host.minor || host.version.startsWith(`${declared}.`)) return undefined;
  return `type ${type.trim()} is declared, and this host runs PHP ${host.version} (its Debian package): the application runs on PHP ${host.version}`;
}

export const PHP_CLI_PROGRAM: HostProgram = {
  program: 'php',
  debianPackage: 'php-cli',
  extraPackages: ['php-mysql', 'php-redis'],
  purpose: "to run a PHP application's hooks and crons (`php` on their PATH)",
};

/** Whether the application's `type:` is PHP (absent, in manifests of older slugs: PHP, as Magento is). */
export const isPhpType = (type: string | undefined): boolean => type === undefined || /^php(:|$)/.test(type.trim());

/**
 * The `php` command the hooks and crons of a PHP application run (installed on first use where
 * Slipway may): a Magento project's hooks call `php` (bin/magento, composer) and expect it.
 */
export async function ensurePhpCli(type: string | undefined, progress?: (message: string) => void): Promise<void> {
  if (isPhpType(type)) await ensureHostProgram(PHP_CLI_PROGRAM, progress);
}
