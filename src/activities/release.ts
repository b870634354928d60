/**
 * Deploy activities, on the task queue of the host that serves the environment. A release is
 * a directory staged from a slug with the environment's persistent mounts linked in; the
 * environment's `current` symlink points at the one being served and is switched with
 * rename(2). While the `maintenance` flag exists the router answers 503.
 */
import * as fs from 'node:fs';
import { ApplicationFailure } from '@temporalio/common';
import * as path from 'node:path';
import { releaseName, type DataSource, type DeploymentKey, type DeploymentStep, type StepTiming } from '../domain/deployment';
import type { Snapshot } from '../runtime/data';
import { copyDataIn, copyPlan, restoreAfterFailureIn, snapshotDataIn, snapshotOnRequest, snapshotPlan } from './data-steps';
import { releaseInfoFile, type ReleaseInfo } from '../domain/release-info';
import type { SlugManifest } from '../domain/project-files';
import { locationsForWebRoot } from '../domain/project-files/web-locations';
import type { Layout } from '../home';
import { deployStaticContent, findThemes, staticVersion, themeSelection } from '../magento/static-content';
import { INIT_DIR, keepBuildContentAside, realDirectory, seedMounts } from '../magento/mounts';
import { runsPhpFpm } from '../runtime/application';
import { deleteEnvironment, hasServices, releaseBinds, runtimeEnvironment, stopEnvironment } from '../runtime/environment-runtime';
import { withEnvironmentLock } from '../runtime/locks';
import { environmentNetnsPath } from '../runtime/services';
import { copyTree } from './lib/copy-tree';
import { runHook } from './lib/hook-process';
import { readReleaseInfo } from './lib/release-info-file';
import { StepLog, StepRun, errorMessage, stepFailure } from './lib/step-log';
import { removeLeftoversOf } from './leftovers';
import { healthCheckThroughRouter, routesFor, warmUpThroughRouter } from './routing';
import {
  deployModeOf,
  envRef,
  provisionServicesIn,
  restartPreviousApplication,
  startApplicationIn,
  stopOtherApplicationsIn,
  stopUnswitchedApplicationIn,
  switchApplicationIn,
  webConfigIn,
} from './runtime-steps';
import { forgetEnvironment, recordReleaseRef, syncReleaseRefs } from './slug-store';

export { releaseBinds };

export interface ReleaseDeps {
  layout: Layout;
  /** The router's port, for warm-up and health checks (requests go through the real router). */
  routerPort: () => number | undefined;
}

export interface DeployContext extends DeploymentKey {
  branch: string;
  commit: string;
  treeId: string;
  release: string;
  manifest: SlugManifest;
}

/** Releases kept per environment, beside the current and previous ones. */
const RELEASES_KEPT = 5;

/** Removes all but the newest RELEASES_KEPT releases of an environment, never one in `keep`. */
function pruneReleasesOf(layout: Layout, key: DeploymentKey, keep: readonly string[]): string[] {
  const releases = layout.releases(key.project, key.environment);
  const names = fs.existsSync(releases) ? fs.readdirSync(releases).filter((n) => /^d\d{6}$/.test(n)).sort() : [];
  const removed = names.slice(0, Math.max(0, names.length - RELEASES_KEPT)).filter((n) => !keep.includes(n));
  for (const n of removed) {
    fs.rmSync(path.join(releases, n), { recursive: true, force: true });
    fs.rmSync(releaseInfoFile(releases, n), { force: true });
  }
  return removed;
}


/**
 * The environment of the release's code (deploy and post-deploy hooks, crons): the real
 * relationships of the environment's services on this host, with their passwords. It goes to
 * the sandbox only: never into a log, a workflow's input or its result.
 */
export function hookEnv(layout: Layout, c: DeployContext, extra: Record<string, string>): Record<string, string> {
  return runtimeEnvironment(layout, c, extra).env;
}

function writeAtomically(file: string, content: string): void {
  fs.writeFileSync(`${file}.tmp-${process.pid}`, content);
  fs.renameSync(`${file}.tmp-${process.pid}`, file);
}


/** The release `current` points at, if any. */
function liveRelease(layout: Layout, key: DeploymentKey): string | undefined {
  try {
    return path.basename(fs.readlinkSync(layout.current(key.project, key.environment)));
  } catch {
    return undefined;
  }
}

/**
 * Seeds the environment's mounts from a release's build content (`init/`, see src/magento/mounts.ts), as
 * that release's own settings say. Releases staged before this kept nothing aside: no-op.
 */
async function seedMountsFrom(layout: Layout, key: DeploymentKey, release: string, log: (line: string) => void): Promise<void> {
  const info = readReleaseInfo(layout, key, release);
  if (!info?.mounts || Object.keys(info.mounts).length === 0) return;
  const sc = info.staticContent;
  const mounts = Object.fromEntries(Object.entries(info.mounts).map(([at, source]) => [at, layout.mount(key.project, key.environment, source)]));
  // A mount inside another one (`shared:files/a` and `shared:files/a/b`) may have been replaced
  // by a link through the outer one: each mount is a real directory again before it is written.
  for (const dir of Object.values(mounts)) await realDirectory(mountsRootOf(layout, key), dir);
  await seedMounts({
    release: layout.release(key.project, key.environment, release),
    mounts,
    staticSymlink: sc?.symlink ?? true,
    cleanStatic: sc?.clean ?? true,
    ...(sc?.onDemand && sc.version ? { onDemandVersion: sc.version } : {}),
    log,
  });
}

/** The directory that holds an environment's mounts (made if missing: the engine's own path). */
function mountsRootOf(layout: Layout, key: { project: string; environment: string }): string {
  const root = layout.mount(key.project, key.environment, '');
  fs.mkdirSync(root, { recursive: true });
  return root;
}

/** Points `current` at a release (or removes it): a new symlink renamed over the old one. */
function pointCurrent(layout: Layout, key: DeploymentKey, release: string | undefined): string | undefined {
  const current = layout.current(key.project, key.environment);
  let previous: string | undefined;
  try {
    previous = path.basename(fs.readlinkSync(current));
  } catch {
    previous = undefined;
  }
  if (release === undefined) {
    fs.rmSync(current, { force: true });
    return previous;
  }
  // A retried switch (its first attempt's worker died after the rename) does not switch again.
  if (previous === release) return previous;
  const tmp = `${current}.tmp-${key.number}`;
  fs.rmSync(tmp, { force: true });
  fs.symlinkSync(path.join('releases', release), tmp);
  fs.renameSync(tmp, current);
  return previous;
}

/** Stages a release from a slug (the stage-release step's work); nothing is left half-written. */
async function stageIn(
layout: Layout,
log: StepLog,
  input: DeploymentKey & { commit: string; slug: string; manifest: SlugManifest },
  release: string,
): Promise<{ release: string }> {
  const releases = layout.releases(input.project, input.environment);
  const dir = layout.release(input.project, input.environment, release);
  const infoFile = releaseInfoFile(releases, release);
  if (fs.existsSync(infoFile)) return { release };
  const tmp = `${dir}.tmp`;
  try {
    fs.mkdirSync(releases, { recursive: true });
    fs.rmSync(tmp, { recursive: true, force: true });
    fs.rmSync(dir, { recursive: true, force: true });
    // The release's reference to its slug, in the shared slug store, before the slug is read:
    // pruning keeps a slug that a release references.
    recordReleaseRef(layout, input, release, input.slug);
    if (!fs.existsSync(layout.slug(input.slug))) {
      throw new Error(`slug ${input.slug} is no longer stored (pruned); push or redeploy a commit instead (it is built again)`);
    }
    // Asynchronous: a large slug must not stall the worker's heartbeats.
    await copyTree(layout.slug(input.slug), tmp);
    // What the build left at mounted paths is kept aside in init/, to seed the mounts at deploy.
    await keepBuildContentAside(tmp, Object.keys(input.manifest.mounts), (l) => log.line('stage-release', l));
    for (const [mountPath, source] of Object.entries(input.manifest.mounts)) {
      const shared = layout.mount(input.project, input.environment, source);
      await realDirectory(mountsRootOf(layout, input), shared);
      const at = path.join(tmp, mountPath);
      // Every directory above the mount is a real one of the release: a committed symbolic
      // link there would have the engine write wherever it points.
      await realDirectory(tmp, path.dirname(at));
      fs.rmSync(at, { recursive: true, force: true });
      // Relative (releases/<r>/<path> → ../../mounts/<source>): the same link resolves on the
      // host and in a hook's sandbox, where the release is /app and the mounts /mounts/<source>.
      fs.symlinkSync(path.relative(path.dirname(at), shared), at);
      log.line('stage-release', `mount ${mountPath} -> shared:files/${source}`);
    }
    fs.renameSync(tmp, dir);
    const scd = input.manifest.staticContent;
    const info: ReleaseInfo = {
      release,
      deployment: input.number,
      commit: input.commit,
      slug: input.slug,
      webRoot: input.manifest.webRoot,
      stagedAt: new Date().toISOString(),
      routes: routesFor(input, input.manifest).map((r) => ({ host: r.host, path: r.path, type: r.type, url: r.url, to: r.to })),
      locations: input.manifest.locations ?? locationsForWebRoot(input.manifest.webRoot),
      mounts: input.manifest.mounts,
      staticContent: {
        symlink: scd.symlink ?? true,
        clean: scd.clean ?? true,
        onDemand: scd.where === 'none' && scd.onDemand === true,
        inDeploy: scd.where === 'deploy',
        // Magento's deployed version: digits, as its URLs (/static/version<N>/) need.
        ...(scd.where === 'none' && scd.onDemand === true ? { version: staticVersion() } : {}),
      },
    };
    writeAtomically(infoFile, JSON.stringify(info, null, 2));
  } catch (err) {
    // A full or unwritable disk: nothing half-written is left, and the failure says why.
    for (const leftover of [tmp, dir, path.join(layout.slugs(), 'refs', input.project, input.environment, `${release}.json`)]) {
      try {
        fs.rmSync(leftover, { recursive: true, force: true });
      } catch {
        /* as unwritable as the rest */
      }
    }
    throw stepFailure({ step: 'stage-release', logTail: errorMessage(err), message: `cannot stage release ${release}: ${errorMessage(err)}` });
  }
  return { release };
}

/** Maintenance on: the router answers 503 with the maintenance page. Returns when. */
function maintenanceOnIn(layout: Layout, input: DeploymentKey): number {
  fs.mkdirSync(layout.environment(input.project, input.environment), { recursive: true });
  const since = Date.now();
  writeAtomically(layout.maintenanceFlag(input.project, input.environment), JSON.stringify({ deployment: input.number, since }));
  return since;
}

/** Maintenance off: the router serves the site again. Returns when. */
function maintenanceOffIn(layout: Layout, input: DeploymentKey): number {
  fs.rmSync(layout.maintenanceFlag(input.project, input.environment), { force: true });
  return Date.now();
}

/** The atomic switch of the environment's current release (a retried switch does not switch again). */
function switchIn(layout: Layout, input: DeploymentKey & { release: string }, log: StepLog): void {
  const info = readReleaseInfo(layout, input, input.release);
  for (const r of info?.routes ?? []) log.line('switch-release', `route ${r.url} ${r.type}${r.to ? ` -> ${r.to}` : ''}`);
  const previous = pointCurrent(layout, input, input.release);
  if (previous === input.release) {
    log.line('switch-release', `already current (a retried attempt): not switched again`);
    return;
  }
  log.line('switch-release', previous ? `was ${previous}` : 'first release of this environment');
  // One line per switch actually made: what the fault-injection tests count.
  fs.appendFileSync(
    path.join(layout.environment(input.project, input.environment), 'switches.log'),
    `${JSON.stringify({ at: new Date().toISOString(), deployment: input.number, from: previous ?? null, to: input.release })}\n`,
  );
}

/** A project hook in the release directory (absent: says so). */
async function releaseHookIn(
  layout: Layout,
  input: DeployContext,
  step: 'deploy-hook' | 'post-deploy-hook',
  script: string,
  extraEnv: Record<string, string>,
  log: StepLog,
): Promise<void> {
  if (!script.trim()) {
    log.line(step, `no ${step === 'deploy-hook' ? 'deploy' : 'post_deploy'} hook`);
    return;
  }
  const dir = layout.release(input.project, input.environment, input.release);
  await runHook({
    layout,
    project: input.project,
    environment: input.environment,
    step,
    kind: step === 'deploy-hook' ? 'deploy' : 'post_deploy',
    name: layout.hookSandboxName(input, step),
    script,
    app: { dir, writable: false },
    binds: releaseBinds(layout, input, input.release, input.manifest.mounts),
    log,
    env: hookEnv(layout, input, extraEnv),
    // With services, the hook runs in the environment's network namespace, where they listen.
    ...(hasServices(input.manifest) ? { netns: await environmentNetnsPath(envRef(layout, input)) } : {}),
  });
}

/** After a failed step inside the maintenance window: the mounts seeded again from the release still served. */
async function reseedFromLive(layout: Layout, input: DeploymentKey & { release: string }, log: StepLog, step: DeploymentStep): Promise<void> {
  const live = liveRelease(layout, input);
  if (!live || live === input.release) return;
  try {
    await seedMountsFrom(layout, input, live, (l) => log.line(step, `restoring the mounts of ${live}: ${l}`));
  } catch (e) {
    log.line(step, `warning: the mounts could not be seeded again from ${live}: ${errorMessage(e)}`);
  }
}

/** Static content deployed in the deploy (the build did not do it): into the release, or its init/ with a pub/static mount. */
async function staticContentDeployIn(layout: Layout, input: DeployContext, log: StepLog): Promise<void> {
  const scd = input.manifest.staticContent;
  const dir = layout.release(input.project, input.environment, input.release);
  const mounted = Object.keys(input.manifest.mounts).some((m) => m === 'pub/static' || m === 'pub');
  if (scd.themes.length === 0 && (await findThemes(dir)).size === 0) {
    log.line('static-content-deploy', 'no theme in app/design or registered under vendor/: nothing to deploy');
    return;
  }
  // init/ is the engine's own directory of a release: one committed as a link is not followed.
  if (mounted) await realDirectory(dir, path.join(dir, INIT_DIR, 'pub'));
  const r = await deployStaticContent({
    appDir: dir,
    ...(mounted ? { outDir: path.join(dir, INIT_DIR, 'pub', 'static') } : {}),
    ...themeSelection(scd, 'deploy'),
    threads: scd.deployThreads,
    version: staticVersion(),
    log: (l) => log.line('static-content-deploy', l),
  }).catch((err: unknown) => {
    throw stepFailure({ step: 'static-content-deploy', logTail: errorMessage(err), message: errorMessage(err) });
  });
  log.line('static-content-deploy', `${r.files} files for ${r.jobs} theme/locale pairs, version ${r.version}`);
}

export function createReleaseActivities(deps: ReleaseDeps) {
  const { layout } = deps;

  /**
   * The window on a host other than the first of an environment on several hosts: the snapshot,
   * the data copy and the deploy hook ran once, on the first host (each host's database and
   * mounts are its own: not replicated); here static content (when in the deploy), the mounts
   * seeded from the release, the switch. A failure before the switch leaves this host on the
   * release it served, and the workflow switches back the hosts that switched.
   */
  async function switchAnotherHost(run: StepRun, input: DeployContext, onceOn: string, since: number): Promise<{ since: number; until: number; steps: StepTiming[] }> {
    const once = `runs once for the environment, on host ${onceOn}`;
    run.skip('snapshot-data', once);
    run.skip('copy-data', once);
    const scd = input.manifest.staticContent;
    try {
      if (scd.where === 'deploy') {
        await run.step('static-content-deploy', `${scd.locales.join(', ')} with ${scd.deployThreads} thread(s)`, (log) => staticContentDeployIn(layout, input, log));
      } else run.skip('static-content-deploy', scd.reason);
      run.skip('deploy-hook', once);
    } catch (err) {
      await stopUnswitchedApplicationIn(layout, input, input.release, run.log, 'static-content-deploy');
      throw err;
    }
    await run.step('switch-release', `current -> ${input.release}`, async (log) => {
      await seedMountsFrom(layout, input, input.release, (l) => log.line('switch-release', l));
      switchIn(layout, input, log);
      await switchApplicationIn(layout, input, log);
    });
    const until = await run.step('maintenance-off', 'the router serves the site again', () => Promise.resolve(maintenanceOffIn(layout, input)));
    await stopOtherApplicationsIn(layout, input, run.log);
    return { since, until, steps: run.timings };
  }

  return {
    /**
     * Copies the slug into a new release directory and links the persistent mounts (the
     * build's content of mounted paths kept in init/). Idempotent. Then removes old releases
     * (never the new one or those in `pruneKeeping`); one that cannot be removed now is
     * removed by a later deployment.
     */
    async stageRelease(
      // The plan runner passes its whole context: the branch and the tree are there too.
      input: DeploymentKey & { commit: string; slug: string; manifest: SlugManifest; pruneKeeping?: string[]; branch?: string; treeId?: string },
    ): Promise<{ release: string; steps: StepTiming[] }> {
      const run = new StepRun(layout, input);
      const release = releaseName(input.number);
      await run.step('stage-release', `release ${release} from slug ${input.slug}`, async (log) => {
        await stageIn(layout, log, input, release);
        await webConfigIn(layout, input, release, log);
      });
      // Seed 000's build ends with "provision all backend services": started (or adopted) before
      // the maintenance window, so the deploy hook finds them.
      if (hasServices(input.manifest)) {
        await run.step('provision-services', Object.keys(input.manifest.services).sort().join(', '), (log) => provisionServicesIn(layout, input, log));
      } else run.skip('provision-services', 'no services declared in .magento/services.yaml');
      // The release's application is started beside the one serving: the switch only re-points the router.
      await run.step('start-application', `nginx${input.manifest.webStart ? ' and web.commands.start' : runsPhpFpm(input.manifest) ? ' and PHP-FPM' : ''} for ${release}`, (log) =>
        startApplicationIn(layout, { ...input, branch: input.branch ?? input.environment, treeId: input.treeId ?? '' }, release, log),
      );
      try {
        const removed = pruneReleasesOf(layout, input, [release, ...(input.pruneKeeping ?? [])]);
        if (removed.length > 0) run.log.line('stage-release', `old releases removed: ${removed.join(', ')}`);
        // The slug store's references follow: a removed release's slug may be pruned.
        syncReleaseRefs(layout, input.project, input.environment);
        const leftovers = await removeLeftoversOf(layout, input);
        if (leftovers.length > 0) run.log.line('stage-release', `left by earlier deployments, removed: ${leftovers.join('; ')}`);
      } catch (err) {
        run.log.line('stage-release', `warning: old releases not removed: ${errorMessage(err)}`);
      }
      return { release, steps: run.timings };
    },

    /**
     * Maintenance on, static content (when in the deploy), the mounts seeded from the release,
     * the deploy hook, the switch, maintenance off: in one activity, so that no hand-over falls
     * inside the maintenance window. The switch happens only after the hook succeeded; a
     * failure before it seeds the mounts again from the release still served, and the
     * workflow's compensation switches maintenance off.
     */
    async deployAndSwitch(input: DeployContext & { mode: 'install' | 'update'; data?: DataSource; onceOn?: string }): Promise<{ since: number; until: number; steps: StepTiming[] }> {
      const run = new StepRun(layout, input);
      const since = await run.step('maintenance-on', 'the router answers 503 with the maintenance page', () => Promise.resolve(maintenanceOnIn(layout, input)));
      if (input.onceOn !== undefined) return switchAnotherHost(run, input, input.onceOn, since);
      const scd = input.manifest.staticContent;
      let failedAt: DeploymentStep = 'snapshot-data';
      // Staging and production: a snapshot first, restored if the deploy hook (or a copy) fails.
      let snapshot: Snapshot | undefined;
      try {
        const plan = snapshotPlan(input);
        if (plan.take) snapshot = await run.step('snapshot-data', `database and mounts of ${input.environment}`, (log) => snapshotDataIn(layout, input, log));
        else run.skip('snapshot-data', plan.why);
        failedAt = 'copy-data';
        const noCopy = copyPlan(input);
        if (noCopy === undefined) {
          const d = input.data!;
          const what = d.kind === 'environment' ? `from ${d.from}` : 'id' in d ? `snapshot ${d.id}` : `the snapshot taken before deployment #${d.before}`;
          await run.step('copy-data', what, (log) => copyDataIn(layout, input, log));
        } else run.skip('copy-data', noCopy);
        failedAt = 'static-content-deploy';
        if (scd.where === 'deploy') {
          await run.step('static-content-deploy', `${scd.locales.join(', ')} with ${scd.deployThreads} thread(s)`, (log) => staticContentDeployIn(layout, input, log));
        } else run.skip('static-content-deploy', scd.reason);
        failedAt = 'deploy-hook';
        await run.step('deploy-hook', `hooks.deploy (${input.mode})`, async (log) => {
          await seedMountsFrom(layout, input, input.release, (l) => log.line('deploy-hook', l));
          const mode = await deployModeOf(layout, input, log);
          await releaseHookIn(layout, input, 'deploy-hook', input.manifest.hooks.deploy, { MAGENTO_CLOUD_DEPLOY_MODE: mode, SLIPWAY_DEPLOY_MODE: mode }, log);
        });
      } catch (err) {
        // What the deploy hook (or a copy) changed in the database and mounts is undone whole.
        if (snapshot && failedAt !== 'snapshot-data') await restoreAfterFailureIn(layout, input, snapshot, run.log, failedAt === 'copy-data' ? 'copy-data' : failedAt === 'deploy-hook' ? 'deploy-hook' : 'static-content-deploy');
        await reseedFromLive(layout, input, run.log, failedAt);
        await stopUnswitchedApplicationIn(layout, input, input.release, run.log, failedAt);
        throw err;
      }
      await run.step('switch-release', `current -> ${input.release}`, async (log) => {
        switchIn(layout, input, log);
        await switchApplicationIn(layout, input, log);
      });
      const until = await run.step('maintenance-off', 'the router serves the site again', () => Promise.resolve(maintenanceOffIn(layout, input)));
      await stopOtherApplicationsIn(layout, input, run.log);
      return { since, until, steps: run.timings };
    },

    /** The post-deploy hook, then the warm-up and the health check: the site is live already. */
    async postDeployAndVerify(input: DeployContext & { smokePaths?: string[]; onceOn?: string }): Promise<{ warmUp: { pages: number; failed: number }; steps: StepTiming[] }> {
      const run = new StepRun(layout, input);
      if (input.onceOn !== undefined) run.skip('post-deploy-hook', `runs once for the environment, on host ${input.onceOn}`);
      else await run.step('post-deploy-hook', 'hooks.post_deploy', (log) => releaseHookIn(layout, input, 'post-deploy-hook', input.manifest.hooks.postDeploy, {}, log));
      const warmUp = await run.step('warm-up', `${input.manifest.warmUpPages.length} page(s)`, (log) => warmUpThroughRouter(deps.routerPort(), input, log));
      await run.step('health-check', 'the routes answer', (log) => healthCheckThroughRouter(deps.routerPort(), input, log));
      return { warmUp, steps: run.timings };
    },

    /** Compensation: serve the release that was live before this deployment (none: no current), its mounts seeded again. */
    async restorePreviousRelease(input: DeploymentKey & { previous?: string }): Promise<void> {
      const log = new StepLog(layout, input);
      await log.step('restore-previous', input.previous ? `current -> ${input.previous}` : 'no previous release: unpublish', async () => {
        pointCurrent(layout, input, input.previous);
        // The mounts hold what the failed release put there: seeded again from the one restored.
        if (input.previous) await seedMountsFrom(layout, input, input.previous, (l) => log.line('restore-previous', l));
        await restartPreviousApplication(layout, input, log);
      });
    },

    /** A snapshot of the environment's database and mounts on request (between deployments): its id and size. */
    async snapshotEnvironment(input: { project: string; environment: string; commit?: string }): Promise<{ snapshot: string; sizeBytes: number }> {
      try {
        const snap = await snapshotOnRequest(layout, input, input.commit);
        return { snapshot: snap.id, sizeBytes: snap.sizeBytes };
      } catch (err) {
        // The data or the environment is the problem: trying again would say the same.
        throw ApplicationFailure.create({ message: `the snapshot of ${input.environment} failed: ${errorMessage(err)}`, nonRetryable: true });
      }
    },

    /** Compensation: maintenance off. */
    async maintenanceOff(input: DeploymentKey): Promise<{ until: number }> {
      const log = new StepLog(layout, input);
      return { until: await log.step('maintenance-off', 'the router serves the site again', () => Promise.resolve(maintenanceOffIn(layout, input))) };
    },

    /**
     * Stops serving an environment (deactivation): no current release, no maintenance flag.
     * With `remove` (deletion) its releases, mounts and logs go too.
     */
    async unpublishEnvironment(input: { project: string; environment: string; remove: boolean }): Promise<void> {
      fs.rmSync(layout.current(input.project, input.environment), { force: true });
      fs.rmSync(layout.maintenanceFlag(input.project, input.environment), { force: true });
      // Its processes stop (their data kept), or go with their data.
      const ref = envRef(layout, input);
      await withEnvironmentLock(ref, () => (input.remove ? deleteEnvironment(ref) : stopEnvironment(ref).then(() => undefined)));
      if (input.remove) {
        fs.rmSync(layout.environment(input.project, input.environment), { recursive: true, force: true });
        fs.rmSync(layout.deployLogs(input.project, input.environment), { recursive: true, force: true });
        fs.rmSync(path.dirname(layout.buildWorkspace({ ...input, number: 0 })), { recursive: true, force: true });
        // Its slugs' records in the store: what only it kept is pruned after the next build.
        forgetEnvironment(layout, input.project, input.environment);
      }
    },
  };
}
