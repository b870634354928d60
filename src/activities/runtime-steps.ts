/**
 * The steps of a deployment that concern the environment's runtime (src/runtime/): the
 * release's nginx configuration at staging, its services provisioned, the deploy mode read from
 * its database, the application started on the new release (or on the previous one again when
 * a deployment is undone). Step bodies of the release activities (src/activities/release.ts).
 */
import * as fs from 'node:fs';
import type { DeploymentKey, DeploymentStep } from '../domain/deployment';
import type { SlugManifest } from '../domain/project-files';
import type { EnvironmentRef } from '../runtime/services';
import { locationsForWebRoot } from '../domain/project-files/web-locations';
import type { Layout } from '../home';
import { activateApplication, edgeServing, hostPhpFpm, prepareWebConfig, pruneWebConfigs, runningRelease, runsPhpFpm, stopApplication, stopReleaseProcesses } from '../runtime/application';
import { prepareApplicationFor, provisionServices, readWanted, releaseBinds, startApplicationFor, writeWanted, type WantedRuntime } from '../runtime/environment-runtime';
import { withEnvironmentLock } from '../runtime/locks';
import { hasApplicationTables, servicesStatus } from '../runtime/services';
import { ensurePhpCli, phpVersionNote } from '../runtime/web-programs';
import { readSlugManifest } from './build';
import { readReleaseInfo } from './lib/release-info-file';
import { errorMessage, stepFailure, type StepLog } from './lib/step-log';
import type { DeployContext } from './release';

function readSlugManifestOf(layout: Layout, slug: string): SlugManifest | undefined {
  try {
    return readSlugManifest(layout, slug);
  } catch {
    return undefined;
  }
}

export const envRef = (layout: Layout, key: { project: string; environment: string }) => ({ layout, project: key.project, environment: key.environment });

/**
 * ece-tools' rule: install when the environment's database has no application tables, update
 * otherwise. Without a running database service, the engine's own record decides.
 */
export async function deployModeOf(layout: Layout, input: DeployContext & { mode: 'install' | 'update' }, log: StepLog): Promise<'install' | 'update'> {
  const ref = envRef(layout, input);
  const database = servicesStatus(ref, input.manifest.services).find((s) => s.state === 'running' && /^(mysql|mariadb)$/.test(input.manifest.services[s.name]!.kind));
  if (!database) return input.mode;
  const tables = await hasApplicationTables(ref, database.name);
  const mode = tables ? 'update' : 'install';
  log.line('deploy-hook', `deploy mode ${mode}: the database of service ${database.name} has ${tables ? 'application tables' : 'no application tables'}`);
  return mode;
}

/** The application started on the release now live (the wanted state recorded first, for the supervisor). */
export async function startApplicationIn(
  layout: Layout,
  input: DeploymentKey & { branch: string; treeId: string; manifest: SlugManifest },
  release: string,
  log: StepLog,
): Promise<void> {
  const ref = envRef(layout, input);
  const started = Date.now();
  let how: 'started' | 'adopted';
  try {
    how = await withEnvironmentLock(ref, () => {
      wantRunningDuringDeployment(ref, input.manifest);
      return prepareApplicationFor(ref, { release, branch: input.branch, treeId: input.treeId, manifest: input.manifest }, (l) => log.line('start-application', l));
    });
  } catch (err) {
    throw stepFailure({ step: 'start-application', logTail: errorMessage(err), message: `the application did not start: ${errorMessage(err)}` });
  }
  const php = runsPhpFpm(input.manifest);
  const beside = input.manifest.webStart ? ` and the application's own server (web.commands.start, ${input.manifest.upstream === 'unix' ? '$SOCKET' : '$PORT'})` : php ? ' and PHP-FPM' : '';
  log.line('start-application', `nginx${beside} ${how === 'adopted' ? 'running' : 'started'} for ${release} in ${Date.now() - started} ms; it serves from the switch`);
  if (php) {
    const fpm = await hostPhpFpm();
    const note = phpVersionNote(input.manifest.appType ?? '', fpm);
    log.line('start-application', note ?? `PHP ${fpm.version}`);
    const missing = (input.manifest.extensions ?? []).filter((e) => !fpm.extensions.includes(e));
    if (missing.length > 0) log.line('start-application', `warning: runtime.extensions declares ${missing.join(', ')}, which PHP ${fpm.version} on this host lacks`);
  }
  pruneWebConfigs(ref, fs.existsSync(layout.releases(input.project, input.environment)) ? fs.readdirSync(layout.releases(input.project, input.environment)) : []);
}

/**
 * At the switch: the new release's application, started at staging, becomes the one the
 * router reaches (a link renamed), and the wanted state says so, for the supervisor.
 */
export async function switchApplicationIn(layout: Layout, input: DeployContext, log: StepLog): Promise<void> {
  const ref = envRef(layout, input);
  const wanted = { state: 'running' as const, release: input.release, branch: input.branch, treeId: input.treeId, deployment: input.number, manifest: input.manifest, since: new Date().toISOString() };
  writeWanted(ref, wanted);
  await withEnvironmentLock(ref, async () => {
    // Started at staging; started now if it is not running any more (a worker lost since).
    await prepareApplicationFor(ref, wanted);
    activateApplication(ref, input.release);
  });
  log.line('switch-release', `the application of ${input.release} serves`);
}

/** After the switch: the processes of the releases no longer served are stopped. */
export async function stopOtherApplicationsIn(layout: Layout, input: DeployContext, log: StepLog): Promise<void> {
  const ref = envRef(layout, input);
  const stopped = await withEnvironmentLock(ref, () => stopApplication(ref, input.release)).catch((err: unknown) => {
    log.line('maintenance-off', `warning: the earlier application could not be stopped (the supervisor will): ${errorMessage(err)}`);
    return [];
  });
  if (stopped.length > 0) log.line('maintenance-off', `stopped: ${stopped.join(', ')}`);
}

/** A deployment that failed before its switch: the processes started for its release are stopped. */
export async function stopUnswitchedApplicationIn(layout: Layout, key: DeploymentKey, release: string, log: StepLog, step: DeploymentStep): Promise<void> {
  const ref = envRef(layout, key);
  if (runningRelease(ref) === release) return;
  if (await withEnvironmentLock(ref, () => stopReleaseProcesses(ref, release)).catch(() => false)) log.line(step, `the application started for ${release} stopped`);
}

/** The previous release served again after a failed deployment (or nothing, and no application). */
export async function restartPreviousApplication(layout: Layout, input: DeploymentKey & { previous?: string }, log: StepLog): Promise<void> {
  const ref = envRef(layout, input);
  const wanted = readWanted(ref);
  if (!input.previous) {
    if (wanted) {
      const rest: typeof wanted = { ...wanted, since: new Date().toISOString() };
      delete rest.release;
      writeWanted(ref, rest);
    }
    await withEnvironmentLock(ref, () => stopApplication(ref));
    return;
  }
  const info = readReleaseInfo(layout, input, input.previous);
  if (!wanted || !info) return;
  const manifest = readSlugManifestOf(layout, info.slug) ?? wanted.manifest;
  const previous = { ...wanted, state: 'running' as const, release: input.previous, deployment: info.deployment, manifest, since: new Date().toISOString() };
  writeWanted(ref, previous);
  await withEnvironmentLock(ref, () => startApplicationFor(ref, previous, (l) => log.line('restore-previous', l)));
  log.line('restore-previous', `the application serves ${input.previous} again`);
}

/** The release's nginx configuration, generated from its web.locations and checked by nginx (never switched to if refused). */
export async function webConfigIn(layout: Layout, input: DeploymentKey & { manifest: SlugManifest }, release: string, log: StepLog): Promise<void> {
  const info = readReleaseInfo(layout, input, release);
  try {
    await prepareWebConfig(envRef(layout, input), {
      release,
      releaseDir: layout.release(input.project, input.environment, release),
      releaseBinds: releaseBinds(layout, input, release, input.manifest.mounts),
      locations: info?.locations ?? locationsForWebRoot(input.manifest.webRoot),
      ...(input.manifest.appType ? { type: input.manifest.appType } : {}),
      ...(input.manifest.webStart ? { start: { command: input.manifest.webStart, family: input.manifest.upstream ?? 'tcp' } } : {}),
    });
  } catch (err) {
    throw stepFailure({ step: 'stage-release', logTail: errorMessage(err), message: errorMessage(err) });
  }
  log.line('stage-release', `web server configuration generated from web.locations and checked by nginx`);
  const edge = edgeServing(envRef(layout, input), release);
  log.line('stage-release', edge.direct ? 'requests go from the edge straight to nginx' : `requests go through the router, which checks each path: ${edge.why}`);
  // What the deploy hook, the crons and the application run: found or installed before the maintenance window.
  await ensurePhpCli(input.manifest.appType, (l) => log.line('stage-release', l));
  if (runsPhpFpm(input.manifest)) await hostPhpFpm((l) => log.line('stage-release', l));
}

/**
 * What the host's supervisor keeps running, from the moment a deployment starts processes (under
 * the environment's lock, before it starts them): the services the deployment declares, and, for
 * a deployment that activates the environment, the state "running" with no release until its
 * switch. Otherwise the supervisor, between this step and the switch, stopped what an
 * activation had just started ("running while the environment is inactive") and started again a
 * service the deployment had just stopped as no longer declared.
 */
function wantRunningDuringDeployment(ref: EnvironmentRef, manifest: SlugManifest): void {
  const wanted = readWanted(ref);
  if (!wanted) return;
  // Already so (a running environment whose services did not change): nothing to write.
  if (wanted.state === 'running' && JSON.stringify(wanted.manifest.services ?? {}) === JSON.stringify(manifest.services ?? {})) return;
  const next: WantedRuntime = { ...wanted, state: 'running', manifest: { ...wanted.manifest, services: manifest.services }, since: new Date().toISOString() };
  if (wanted.state === 'stopped') delete next.release;
  writeWanted(ref, next);
}

/** Every declared service started or adopted (one no longer declared stopped, data kept); what the host cannot run is a warning. */
export async function provisionServicesIn(layout: Layout, input: DeploymentKey & { manifest: SlugManifest }, log: StepLog): Promise<void> {
  const ref = envRef(layout, input);
  const r = await withEnvironmentLock(ref, () => {
    wantRunningDuringDeployment(ref, input.manifest);
    return provisionServices(ref, input.manifest, (l) => log.line('provision-services', l));
  }).catch((err: unknown) => {
    throw stepFailure({ step: 'provision-services', logTail: errorMessage(err), message: `the services could not be started: ${errorMessage(err)}` });
  });
  for (const w of r.warnings) log.line('provision-services', w);
  if (r.stopped.length > 0) log.line('provision-services', `no longer declared, stopped (data kept): ${r.stopped.join(', ')}`);
}
