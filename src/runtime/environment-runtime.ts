/**
 * One environment's runtime on its host, as a whole: its services (src/runtime/services/), its
 * application (src/runtime/application.ts), the environment its code runs with, and the
 * wanted state a supervisor reconciles.
 *
 * The wanted state is the environment workflow's (active or not, which release is live): its
 * deploy and lifecycle activities write the host's copy, `<env>/runtime.json` (the engine's,
 * no secret in it), and the host's supervisor (src/activities/supervision.ts) makes the
 * processes match it. Whether a process runs is the kernel's to say (its cgroup has
 * processes), never a worker's memory: a restarted worker re-adopts what runs and restarts
 * what does not.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';
import { phaseVariables } from '../variables/store';
import { hookEnvironment } from '../domain/hook-env';
import type { SlugManifest } from '../domain/project-files';
import { computeRelationships } from '../domain/project-files/services';
import { resolveRoutes } from '../domain/project-files/routes';
import { environmentHostname } from '../domain/names';
import { releaseInfoFile, releaseInfoSchema } from '../domain/release-info';
import { locationsForWebRoot } from '../domain/project-files/web-locations';
import type { Layout } from '../home';
import { SANDBOX_APP_DIR, type SandboxBind } from '../sandbox/sandbox';
import { activateApplication, applicationStatus, processesOf, runningRelease, startApplication, stopApplication, type ApplicationStatus } from './application';
import {
  deleteEnvironmentRuntime,
  relationshipsFor,
  serviceStatus,
  servicesStatus,
  startService,
  stopChangedServices,
  stopEnvironmentServices,
  stopService,
  type EnvironmentRef,
  type ServiceStatus,
} from './services';
import { sandboxServiceNames } from '../sandbox/sandbox';
import { environmentNetns, serviceCgroupPrefix } from './services/environment';
import { deleteNetns } from './netns';

/** What the host keeps of the environment's wanted state (no secret: passwords are read from their files). */
const wantedSchema = z.object({
  state: z.enum(['running', 'stopped']),
  release: z.string().optional(),
  branch: z.string(),
  treeId: z.string(),
  deployment: z.number(),
  manifest: z.custom<SlugManifest>((v) => typeof v === 'object' && v !== null),
  since: z.string(),
});
export type WantedRuntime = z.infer<typeof wantedSchema>;

export function wantedFile(ref: EnvironmentRef): string {
  return path.join(ref.layout.environment(ref.project, ref.environment), 'runtime.json');
}

export function readWanted(ref: EnvironmentRef): WantedRuntime | undefined {
  try {
    return wantedSchema.parse(JSON.parse(fs.readFileSync(wantedFile(ref), 'utf8')));
  } catch {
    return undefined;
  }
}

export function writeWanted(ref: EnvironmentRef, wanted: WantedRuntime): void {
  const file = wantedFile(ref);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(wanted));
  fs.renameSync(tmp, file);
}

export function hasServices(manifest: Pick<SlugManifest, 'services'>): boolean {
  return Object.keys(manifest.services).length > 0;
}

export interface RuntimeContext {
  project: string;
  environment: string;
  branch: string;
  treeId: string;
  manifest: SlugManifest;
}

/**
 * The environment the application's code runs with (deploy and post-deploy hooks, crons, PHP):
 * MAGENTO_CLOUD_RELATIONSHIPS with the real addresses and generated passwords of the services
 * this host runs (never put this in a log, a workflow's input or result), _ROUTES, _VARIABLES,
 * and the application's variables. `unavailable` says which relationships are left out and why.
 */
export function runtimeEnvironment(
  layout: Layout,
  c: RuntimeContext,
  extra: Record<string, string> = {},
): { env: Record<string, string>; unavailable: Array<{ relationship: string; service: string; type: string; reason: string }> } {
  const ref: EnvironmentRef = { layout, project: c.project, environment: c.environment };
  let relationships: Record<string, unknown> = {};
  let unavailable: Array<{ relationship: string; service: string; type: string; reason: string }> = [];
  if (hasServices(c.manifest)) {
    const r = relationshipsFor(ref, c.manifest.appRelationships, c.manifest.services);
    if (r.ok) {
      relationships = r.relationships;
      unavailable = r.unavailable;
    }
  } else {
    const r = computeRelationships(c.manifest.appRelationships, c.manifest.services, c);
    if (r.ok) relationships = r.value;
  }
  const routes = Object.fromEntries(
    resolveRoutes(c.manifest.routes, { defaultHost: environmentHostname(c.project, c.environment) }).map((r) => [
      r.url,
      { type: r.type, upstream: r.upstream, to: r.to, original_url: r.template, primary: r.primary },
    ]),
  );
  // The project's and environments' variables visible at runtime, over the app file's (sensitive ones opened here, for the sandbox only).
  const own = phaseVariables(layout, c.project, c.environment, 'runtime');
  const env = hookEnvironment({
    project: c.project,
    environment: c.environment,
    branch: c.branch,
    treeId: c.treeId,
    appDir: SANDBOX_APP_DIR,
    relationships,
    routes,
    variables: own.variables,
    env: { ...c.manifest.variables, ...own.env },
    extra,
  });
  return { env, unavailable };
}

/**
 * Starts every declared service the host can provide (those running are left as they are) and
 * stops those of the environment no longer declared (their data kept). Each service's status;
 * `warnings` names each unavailable service and each relationship it leaves unavailable, and
 * why. Never throws for a kind the host lacks.
 */
export async function provisionServices(
  ref: EnvironmentRef,
  manifest: Pick<SlugManifest, 'services' | 'appRelationships'>,
  progress: (m: string) => void,
): Promise<{ statuses: ServiceStatus[]; warnings: string[]; stopped: string[] }> {
  const declared = manifest.services;
  const prefix = serviceCgroupPrefix(ref);
  const stopped: string[] = [];
  for (const group of sandboxServiceNames(prefix)) {
    const name = group.slice(prefix.length);
    if (!Object.prototype.hasOwnProperty.call(declared, name) && (await stopService(ref, name))) stopped.push(name);
  }
  const restarted = await stopChangedServices(ref, declared, progress);
  const statuses: ServiceStatus[] = [];
  // One at a time: two MariaDB initialisations at once would double the peak.
  for (const name of Object.keys(declared).sort()) {
    const running = serviceStatus(ref, declared, name).state === 'running' && !restarted.includes(name);
    const started = Date.now();
    const s = await startService(ref, declared, name, progress);
    statuses.push(s);
    if (s.state === 'running') progress(running ? `${name} (${s.type}) running, adopted` : `${name} (${s.type}) started in ${Date.now() - started} ms, listening on 127.0.0.1:${s.port}`);
  }
  const warnings = [
    ...statuses.filter((s) => s.state === 'unavailable').map((s) => `warning: service ${s.name} (${s.type}) is unavailable: ${(s as { reason: string }).reason}`),
    ...unavailableRelationshipWarnings(manifest.appRelationships, statuses),
  ];
  return { statuses, warnings, stopped };
}

/**
 * One warning per relationship of the application whose service is unavailable (a kind the
 * host cannot provide, or a package it could not install): the relationship, its
 * `<service>:<endpoint>` and why. It is left out of MAGENTO_CLOUD_RELATIONSHIPS.
 */
export function unavailableRelationshipWarnings(appRelationships: Record<string, string>, statuses: readonly ServiceStatus[]): string[] {
  const why = new Map(statuses.flatMap((s) => (s.state === 'unavailable' ? [[s.name, s.reason] as const] : [])));
  return Object.entries(appRelationships).flatMap(([rel, target]) => {
    const reason = why.get(target.split(':')[0] ?? '');
    return reason === undefined ? [] : [`warning: relationship ${rel} (${target}) is unavailable: ${reason}`];
  });
}

/** The release's sandbox binds: the release again at /releases/<r>, each mount at /mounts/<source>. */
export function releaseBinds(layout: Layout, key: { project: string; environment: string }, release: string, mounts: Record<string, string>): SandboxBind[] {
  return [
    { dir: layout.release(key.project, key.environment, release), at: path.posix.join('/releases', release), writable: false },
    ...[...new Set(Object.values(mounts))].map((source) => ({
      dir: layout.mount(key.project, key.environment, source),
      at: path.posix.join('/mounts', source),
      writable: true,
    })),
  ];
}

/** What the application of a release needs to start: its release, branch, tree and manifest. */
export type ReleaseToRun = Pick<WantedRuntime, 'branch' | 'treeId' | 'manifest'> & { release: string };

/**
 * Starts the application's processes for a release (its services must run), beside those of
 * the release being served, which keep serving: the next release is ready before the switch.
 * A release whose processes run already is adopted.
 */
export async function prepareApplicationFor(ref: EnvironmentRef, r: ReleaseToRun, progress?: (m: string) => void): Promise<'started' | 'adopted'> {
  const { layout } = ref;
  const releases = layout.releases(ref.project, ref.environment);
  const info = releaseInfoSchema.parse(JSON.parse(fs.readFileSync(releaseInfoFile(releases, r.release), 'utf8')));
  const { env } = runtimeEnvironment(layout, { project: ref.project, environment: ref.environment, branch: r.branch, treeId: r.treeId, manifest: r.manifest });
  return startApplication(
    ref,
    {
      release: r.release,
      releaseDir: layout.release(ref.project, ref.environment, r.release),
      releaseBinds: releaseBinds(layout, ref, r.release, r.manifest.mounts),
      locations: info.locations ?? locationsForWebRoot(info.webRoot),
      ...(r.manifest.appType ? { type: r.manifest.appType } : {}),
      ...(r.manifest.webStart ? { start: { command: r.manifest.webStart, family: r.manifest.upstream ?? 'tcp' } } : {}),
      env,
    },
    progress,
  );
}

/** The release's application started (or adopted), made the one served, and every other release's stopped. */
export async function startApplicationFor(ref: EnvironmentRef, r: ReleaseToRun, progress?: (m: string) => void): Promise<void> {
  await prepareApplicationFor(ref, r, progress);
  activateApplication(ref, r.release);
  await stopApplication(ref, r.release);
}

export interface Restart {
  process: string;
  reason: string;
}

/**
 * Makes the environment's processes what its wanted state says: running (every available
 * service, then the application on the wanted release) or stopped. What it (re)started,
 * which the supervisor records in the environment's history.
 */
export async function reconcileEnvironment(ref: EnvironmentRef, progress: (m: string) => void = () => undefined): Promise<Restart[]> {
  const wanted = readWanted(ref);
  if (!wanted) return [];
  if (wanted.state === 'stopped') {
    const app = await stopApplication(ref);
    const services = await stopEnvironmentServices(ref);
    return [...app, ...services].map((p) => ({ process: p, reason: 'running while the environment is inactive: stopped' }));
  }
  const restarts: Restart[] = [];
  const declared = wanted.manifest.services;
  for (const s of servicesStatus(ref, declared)) {
    if (s.state !== 'stopped') continue;
    await startService(ref, declared, s.name, progress);
    restarts.push({ process: `service ${s.name} (${s.type})`, reason: 'not running' });
  }
  if (wanted.release && fs.existsSync(ref.layout.release(ref.project, ref.environment, wanted.release))) {
    const app = applicationStatus(ref);
    const down = app.processes.filter((p) => !p.running && wantedProcesses(wanted).includes(p.name));
    const serving = runningRelease(ref);
    if (down.length > 0 || serving !== wanted.release) {
      await startApplicationFor(ref, { ...wanted, release: wanted.release }, progress);
      restarts.push({
        process: `application (${down.map((p) => p.name).join(', ') || 'release'})`,
        reason: down.length > 0 ? 'not running' : `serving ${serving ?? 'nothing'} instead of ${wanted.release}`,
      });
    }
  }
  return restarts;
}

/** The application's processes a wanted state needs: nginx, and PHP-FPM or the application's own server. */
function wantedProcesses(w: WantedRuntime): string[] {
  return processesOf({
    ...(w.manifest.appType ? { type: w.manifest.appType } : {}),
    ...(w.manifest.webStart ? { start: { command: w.manifest.webStart, family: w.manifest.upstream ?? 'tcp' } } : {}),
  });
}

/** Stops every process of the environment (deactivation): data kept, wanted state "stopped". */
export async function stopEnvironment(ref: EnvironmentRef): Promise<string[]> {
  const wanted = readWanted(ref);
  if (wanted) writeWanted(ref, { ...wanted, state: 'stopped', since: new Date().toISOString() });
  const app = await stopApplication(ref);
  const services = await stopEnvironmentServices(ref);
  return [...app, ...services];
}

/** Deletes the environment's runtime: processes, network namespace, services' data and passwords. */
export async function deleteEnvironment(ref: EnvironmentRef): Promise<void> {
  fs.rmSync(wantedFile(ref), { force: true });
  await stopApplication(ref);
  await deleteEnvironmentRuntime(ref);
}

/** The application's status, listing the processes the wanted state runs (all three without one). */
function applicationOf(ref: EnvironmentRef, wanted: WantedRuntime | undefined): ApplicationStatus {
  const status = applicationStatus(ref);
  if (!wanted) return status;
  const names = wantedProcesses(wanted);
  return { ...status, processes: status.processes.filter((p) => names.includes(p.name)) };
}

export interface RuntimeStatus {
  wanted?: 'running' | 'stopped';
  release?: string;
  services: ServiceStatus[];
  application: ApplicationStatus;
}

export function runtimeStatus(ref: EnvironmentRef): RuntimeStatus {
  const wanted = readWanted(ref);
  return {
    ...(wanted ? { wanted: wanted.state, ...(wanted.release ? { release: wanted.release } : {}) } : {}),
    services: wanted ? servicesStatus(ref, wanted.manifest.services) : [],
    application: applicationOf(ref, wanted),
  };
}

/** Every environment of this data directory that has a wanted state (for the supervisor). */
export function environmentsWithRuntime(layout: Layout): EnvironmentRef[] {
  const envs = path.join(layout.home, 'envs');
  const refs: EnvironmentRef[] = [];
  for (const project of safeList(envs)) {
    for (const environment of safeList(path.join(envs, project))) {
      const ref = { layout, project, environment };
      if (fs.existsSync(wantedFile(ref))) refs.push(ref);
    }
  }
  return refs;
}

function safeList(dir: string): string[] {
  try {
    return fs.readdirSync(dir);
  } catch {
    return [];
  }
}


/**
 * Stops every process of every environment of this data directory and removes their network
 * namespaces, data kept (an engine's data directory being thrown away: the tests' teardown).
 */
export async function stopAllRuntimes(layout: Layout): Promise<number> {
  const envs = path.join(layout.home, 'envs');
  let n = 0;
  for (const project of safeList(envs)) {
    for (const environment of safeList(path.join(envs, project))) {
      const ref = { layout, project, environment };
      n += (await stopApplication(ref)).length + (await stopEnvironmentServices(ref)).length;
      await deleteNetns(environmentNetns(ref));
    }
  }
  return n;
}
