/**
 * The data directory (SLIPWAY_HOME, default ./.slipway) and where everything lives in it.
 * Node side only.
 */
import * as path from 'node:path';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import { z } from 'zod';
import { releaseName, type DeploymentKey } from './domain/deployment';

export function resolveHome(explicit?: string): string {
  return path.resolve(explicit ?? process.env.SLIPWAY_HOME ?? '.slipway');
}

/** Root of the installed Slipway package (where package.json is). */
export const PACKAGE_ROOT = path.resolve(__dirname, '..', '..');

export class Layout {
  constructor(readonly home: string) {}

  get temporalDb(): string {
    return path.join(this.home, 'temporal.db');
  }
  /** Shared secret of the remotes' git hooks and the engine's ingest endpoint (mode 0600). */
  get hookTokenFile(): string {
    return path.join(this.home, 'hook-token');
  }
  get runtimeFile(): string {
    return path.join(this.home, 'runtime.json');
  }
  remote(project: string): string {
    return path.join(this.home, 'git', `${project}.git`);
  }
  buildWorkspace(k: DeploymentKey): string {
    return path.join(this.home, 'builds', k.project, k.environment, releaseName(k.number));
  }
  slugs(): string {
    return path.join(this.home, 'slugs');
  }
  slug(id: string): string {
    return path.join(this.home, 'slugs', id);
  }
  environment(project: string, environment: string): string {
    return path.join(this.home, 'envs', project, environment);
  }
  releases(project: string, environment: string): string {
    return path.join(this.environment(project, environment), 'releases');
  }
  release(project: string, environment: string, release: string): string {
    return path.join(this.releases(project, environment), release);
  }
  /** Symlink to the release being served; switched with rename(2). */
  current(project: string, environment: string): string {
    return path.join(this.environment(project, environment), 'current');
  }
  maintenanceFlag(project: string, environment: string): string {
    return path.join(this.environment(project, environment), 'maintenance');
  }
  deployLog(k: DeploymentKey): string {
    return path.join(this.home, 'logs', k.project, k.environment, `${releaseName(k.number)}.log`);
  }
}

/** What a running `slipway up` tells the other processes (git hooks, CLI) about itself. */
export const runtimeInfoSchema = z.object({
  temporalAddress: z.string(),
  namespace: z.string(),
  uiUrl: z.string().optional(),
  /** Base URL of the engine's HTTP API (git hooks post pushes there). */
  apiUrl: z.string().optional(),
  routerPort: z.number().optional(),
  pid: z.number(),
});
export type RuntimeInfo = z.infer<typeof runtimeInfoSchema>;

export function writeRuntimeInfo(layout: Layout, info: RuntimeInfo): void {
  fs.mkdirSync(layout.home, { recursive: true });
  const tmp = `${layout.runtimeFile}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(info, null, 2));
  fs.renameSync(tmp, layout.runtimeFile);
}

export function readRuntimeInfo(layout: Layout): RuntimeInfo | undefined {
  try {
    return runtimeInfoSchema.parse(JSON.parse(fs.readFileSync(layout.runtimeFile, 'utf8')));
  } catch {
    return undefined;
  }
}

export function removeRuntimeInfo(layout: Layout, pid: number): void {
  const info = readRuntimeInfo(layout);
  if (info && info.pid === pid) fs.rmSync(layout.runtimeFile, { force: true });
}

/** The hook token, made on first use. Never logged, never in a workflow's input. */
export function hookToken(layout: Layout): string {
  try {
    return fs.readFileSync(layout.hookTokenFile, 'utf8').trim();
  } catch {
    fs.mkdirSync(layout.home, { recursive: true });
    const token = crypto.randomBytes(32).toString('hex');
    try {
      fs.writeFileSync(layout.hookTokenFile, `${token}\n`, { mode: 0o600, flag: 'wx' });
      return token;
    } catch {
      return fs.readFileSync(layout.hookTokenFile, 'utf8').trim(); // made by another process meanwhile
    }
  }
}
