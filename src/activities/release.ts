/**
 * Deploy activities, on the task queue of the host that serves the environment. A release is
 * a directory staged from a slug with the environment's persistent mounts linked in; the
 * environment's `current` symlink points at the one being served and is switched with
 * rename(2). While the `maintenance` flag exists the router answers 503.
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { z } from 'zod';
import { releaseName, timedStep, type DeploymentKey, type StepTiming } from '../domain/deployment';
import { hookEnvironment } from '../domain/hook-env';
import { environmentHostname } from '../domain/names';
import type { SlugManifest } from '../domain/project-files';
import { resolveRoutes, type ResolvedRoute } from '../domain/project-files/routes';
import { computeRelationships } from '../domain/project-files/services';
import type { Layout } from '../home';
import { runHook } from './lib/hook-process';
import { deployStaticContent } from './lib/static-content';
import { copyTree } from './lib/copy-tree';
import { StepLog, errorMessage, stepFailure } from './lib/step-log';

/** Written beside each release directory: what the router needs to serve it. */
export const releaseInfoSchema = z.object({
  release: z.string(),
  deployment: z.number(),
  commit: z.string(),
  slug: z.string(),
  webRoot: z.string(),
  stagedAt: z.string(),
  routes: z
    .array(
      z.object({
        host: z.string(),
        path: z.string(),
        type: z.enum(['upstream', 'redirect']),
        url: z.string(),
        to: z.string().optional(),
      }),
    )
    .default([]),
});
export type ReleaseInfo = z.infer<typeof releaseInfoSchema>;

export const releaseInfoFile = (releasesDir: string, release: string): string =>
  path.join(releasesDir, `${release}.json`);

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

function routesFor(key: DeploymentKey, manifest: SlugManifest): ResolvedRoute[] {
  return resolveRoutes(manifest.routes, { defaultHost: environmentHostname(key.project, key.environment) });
}

function hookEnv(layout: Layout, c: DeployContext, extra: Record<string, string>): Record<string, string> {
  const rel = computeRelationships(c.manifest.appRelationships, c.manifest.services, {
    project: c.project,
    environment: c.environment,
  });
  const routes = Object.fromEntries(
    routesFor(c, c.manifest).map((r) => [r.url, { type: r.type, upstream: r.upstream, to: r.to, original_url: r.template, primary: r.primary }]),
  );
  return hookEnvironment({
    project: c.project,
    environment: c.environment,
    branch: c.branch,
    treeId: c.treeId,
    appDir: layout.release(c.project, c.environment, c.release),
    relationships: rel.ok ? rel.value : {},
    routes,
    env: c.manifest.variables,
    extra,
  });
}

/** GET through the router with the environment's Host header. */
function getThroughRouter(port: number, host: string, urlPath: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: urlPath, headers: { host }, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.setTimeout(10_000, () => req.destroy(new Error('timed out after 10 s')));
    req.on('error', reject);
  });
}

function writeAtomically(file: string, content: string): void {
  fs.writeFileSync(`${file}.tmp-${process.pid}`, content);
  fs.renameSync(`${file}.tmp-${process.pid}`, file);
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

export function createReleaseActivities(deps: ReleaseDeps) {
  const { layout } = deps;

  /** A project hook run in the new release directory, logged as one step (absent: says so). */
  async function runReleaseHook(
    input: DeployContext,
    step: 'deploy-hook' | 'post-deploy-hook',
    hook: 'deploy' | 'post_deploy',
    summary: string,
    script: string,
    extraEnv: Record<string, string>,
  ): Promise<void> {
    const log = new StepLog(layout, input);
    await log.step(step, summary, async () => {
      if (!script.trim()) {
        log.line(step, `no ${hook} hook`);
        return;
      }
      await runHook({
        step,
        groupFile: layout.hookGroupFile(input, step),
        script,
        cwd: layout.release(input.project, input.environment, input.release),
        log,
        env: hookEnv(layout, input, extraEnv),
      });
    });
  }
  function maintenanceOn(input: DeploymentKey): Promise<{ since: number }> {
    const log = new StepLog(layout, input);
    return log.step('maintenance-on', 'the router answers 503 with the maintenance page', () => {
      fs.mkdirSync(layout.environment(input.project, input.environment), { recursive: true });
      const since = Date.now();
      writeAtomically(layout.maintenanceFlag(input.project, input.environment), JSON.stringify({ deployment: input.number, since }));
      return Promise.resolve({ since });
    });
  }

  function maintenanceOff(input: DeploymentKey): Promise<{ until: number }> {
    const log = new StepLog(layout, input);
    return log.step('maintenance-off', 'the router serves the site again', () => {
      fs.rmSync(layout.maintenanceFlag(input.project, input.environment), { force: true });
      return Promise.resolve({ until: Date.now() });
    });
  }

  /** Routing and the atomic switch of the environment's current release. */
  function switchRelease(input: DeploymentKey & { release: string }): Promise<{ previous?: string }> {
    const log = new StepLog(layout, input);
    return log.step('switch-release', `current -> ${input.release}`, () => {
      const info = releaseInfoSchema.parse(
        JSON.parse(fs.readFileSync(releaseInfoFile(layout.releases(input.project, input.environment), input.release), 'utf8')),
      );
      for (const r of info.routes) log.line('switch-release', `route ${r.url} ${r.type}${r.to ? ` -> ${r.to}` : ''}`);
      const previous = pointCurrent(layout, input, input.release);
      if (previous === input.release) log.line('switch-release', `already current (a retried attempt): not switched again`);
      else {
        log.line('switch-release', previous ? `was ${previous}` : 'first release of this environment');
        // One line per switch actually made: what the fault-injection tests count.
        fs.appendFileSync(
          path.join(layout.environment(input.project, input.environment), 'switches.log'),
          `${JSON.stringify({ at: new Date().toISOString(), deployment: input.number, from: previous ?? null, to: input.release })}\n`,
        );
      }
      return Promise.resolve(previous === input.release ? {} : { previous });
    });
  }

  /** Stages a release from a slug (the stage-release step's work); nothing is left half-written. */
  async function stage(
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
      // Asynchronous: a large slug must not stall the worker's heartbeats.
      await copyTree(layout.slug(input.slug), tmp);
      for (const [mountPath, source] of Object.entries(input.manifest.mounts)) {
        const shared = path.join(layout.environment(input.project, input.environment), 'mounts', source);
        fs.mkdirSync(shared, { recursive: true });
        const at = path.join(tmp, mountPath);
        fs.rmSync(at, { recursive: true, force: true });
        fs.mkdirSync(path.dirname(at), { recursive: true });
        fs.symlinkSync(shared, at);
        log.line('stage-release', `mount ${mountPath} -> shared:files/${source}`);
      }
      fs.renameSync(tmp, dir);
      const info: ReleaseInfo = {
        release,
        deployment: input.number,
        commit: input.commit,
        slug: input.slug,
        webRoot: input.manifest.webRoot,
        stagedAt: new Date().toISOString(),
        routes: routesFor(input, input.manifest).map((r) => ({ host: r.host, path: r.path, type: r.type, url: r.url, to: r.to })),
      };
      writeAtomically(infoFile, JSON.stringify(info, null, 2));
    } catch (err) {
      // A full or unwritable disk: nothing half-written is left, and the failure says why.
      for (const leftover of [tmp, dir]) {
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

  const activities = {
    /**
     * Copies the slug into a new release directory and links the persistent mounts. Idempotent.
     * With `pruneKeeping`, then removes old releases (never the new one or those named): what
     * a deployment did as a last step of its own before (one hand-over less).
     */
    async stageRelease(
      input: DeploymentKey & { commit: string; slug: string; manifest: SlugManifest; pruneKeeping?: string[] },
    ): Promise<{ release: string }> {
      const log = new StepLog(layout, input);
      const release = releaseName(input.number);
      const staged = await log.step('stage-release', `release ${release} from slug ${input.slug}`, () => stage(log, input, release));
      if (input.pruneKeeping) {
        // Housekeeping: a release that cannot be removed now is removed by a later deployment.
        try {
          const removed = pruneReleasesOf(layout, input, [release, ...input.pruneKeeping]);
          if (removed.length > 0) log.line('stage-release', `old releases removed: ${removed.join(', ')}`);
        } catch (err) {
          log.line('stage-release', `warning: old releases not removed: ${errorMessage(err)}`);
        }
      }
      return staged;
    },

    maintenanceOn: (input: DeploymentKey): Promise<{ since: number }> => maintenanceOn(input),
    maintenanceOff: (input: DeploymentKey): Promise<{ until: number }> => maintenanceOff(input),

    /** Static content deployed in the deploy (the build did not do it), into the new release. */
    async deployStaticContentInRelease(input: DeployContext): Promise<void> {
      const log = new StepLog(layout, input);
      const scd = input.manifest.staticContent;
      await log.step('static-content-deploy', `${scd.locales.join(', ')} with ${scd.deployThreads} thread(s)`, async () => {
        const dir = layout.release(input.project, input.environment, input.release);
        if (!fs.existsSync(path.join(dir, 'app', 'design'))) {
          log.line('static-content-deploy', 'no app/design directory: no themes to deploy');
          return;
        }
        const r = await deployStaticContent({
          appDir: dir,
          themes: scd.themes,
          locales: scd.locales,
          threads: scd.deployThreads,
          version: `${input.release}-${Date.now()}`,
          log: (l) => log.line('static-content-deploy', l),
        }).catch((err: unknown) => {
          throw stepFailure({ step: 'static-content-deploy', logTail: errorMessage(err), message: errorMessage(err) });
        });
        log.line('static-content-deploy', `${r.files} files for ${r.jobs} theme/locale pairs`);
      });
    },

    /** hooks.deploy in the new release; SLIPWAY_DEPLOY_MODE says install (first deploy) or update. */
    /**
     * The deploy hook. With `maintenanceFirst`, maintenance is switched on in the same activity,
     * just before the hook: the window does not include a round trip through the server.
     */
    async runDeployHook(input: DeployContext & { mode: 'install' | 'update'; maintenanceFirst?: boolean }): Promise<{ since?: number }> {
      const since = input.maintenanceFirst ? (await maintenanceOn(input)).since : undefined;
      await runReleaseHook(input, 'deploy-hook', 'deploy', `hooks.deploy (${input.mode})`, input.manifest.hooks.deploy, {
        SLIPWAY_DEPLOY_MODE: input.mode,
      });
      return { since };
    },

    /** The switch, then maintenance off, in one activity: the window ends without a round trip through the server. */
    async switchReleaseAndServe(input: DeploymentKey & { release: string }): Promise<{ previous?: string; until: number }> {
      const switched = await switchRelease(input);
      const { until } = await maintenanceOff(input);
      return { ...switched, until };
    },

    /** Routing and the atomic switch of the environment's current release. */
    switchRelease: (input: DeploymentKey & { release: string }): Promise<{ previous?: string }> => switchRelease(input),

    /** Compensation: serve the release that was live before this deployment (none: no current). */
    async restorePreviousRelease(input: DeploymentKey & { previous?: string }): Promise<void> {
      const log = new StepLog(layout, input);
      await log.step('restore-previous', input.previous ? `current -> ${input.previous}` : 'no previous release: unpublish', () => {
        pointCurrent(layout, input, input.previous);
        return Promise.resolve();
      });
    },

    async runPostDeployHook(input: DeployContext): Promise<void> {
      await runReleaseHook(input, 'post-deploy-hook', 'post_deploy', 'hooks.post_deploy', input.manifest.hooks.postDeploy, {});
    },

    /** Requests WARM_UP_PAGES through the router so the first visitor gets a warm cache. */
    async warmUp(input: DeployContext): Promise<{ pages: number; failed: number }> {
      const log = new StepLog(layout, input);
      return log.step('warm-up', `${input.manifest.warmUpPages.length} page(s)`, async () => {
        const port = deps.routerPort();
        let failed = 0;
        if (port === undefined) {
          log.line('warm-up', 'no router on this host: skipped');
          return { pages: 0, failed: 0 };
        }
        const host = environmentHostname(input.project, input.environment);
        for (const page of input.manifest.warmUpPages) {
          const urlPath = page.startsWith('/') ? page : new URL(page).pathname;
          const started = Date.now();
          try {
            const status = await getThroughRouter(port, host, urlPath);
            log.line('warm-up', `${urlPath}: ${status} in ${Date.now() - started} ms`);
            if (status >= 400) failed++;
          } catch (err) {
            failed++;
            log.line('warm-up', `${urlPath}: ${errorMessage(err)}`);
          }
        }
        // A page that does not warm up is worth a warning, not a rollback (as in ece-tools).
        if (failed > 0) log.line('warm-up', `warning: ${failed} page(s) did not warm up`);
        return { pages: input.manifest.warmUpPages.length, failed };
      });
    },

    /** Every upstream route of the environment must answer 2xx or 3xx through the router. */
    async healthCheck(input: DeployContext & { smokePaths?: string[] }): Promise<void> {
      const log = new StepLog(layout, input);
      await log.step('health-check', 'the routes answer', async () => {
        const port = deps.routerPort();
        if (port === undefined) {
          log.line('health-check', 'no router on this host: skipped');
          return;
        }
        const problems: string[] = [];
        const targets = routesFor(input, input.manifest)
          .filter((x) => x.type === 'upstream')
          .map((r) => ({ url: r.url, host: r.host, path: r.path }));
        const defaultHost = environmentHostname(input.project, input.environment);
        for (const smoke of input.smokePaths ?? []) targets.push({ url: `http://${defaultHost}${smoke}`, host: defaultHost, path: smoke });
        for (const r of targets) {
          let status: number | string;
          try {
            status = await getThroughRouter(port, r.host, r.path);
          } catch (err) {
            status = errorMessage(err);
          }
          log.line('health-check', `${r.url}: ${status}`);
          if (typeof status !== 'number' || status >= 400) problems.push(`${r.url} answered ${status}`);
        }
        if (problems.length > 0) {
          throw stepFailure({ step: 'health-check', logTail: problems.join('\n'), message: `health check failed: ${problems.join('; ')}` });
        }
      });
    },

    /**
     * Stops serving an environment (deactivation): no current release, no maintenance flag.
     * With `remove` (deletion) its releases, mounts and logs go too.
     */
    unpublishEnvironment(input: { project: string; environment: string; remove: boolean }): Promise<void> {
      fs.rmSync(layout.current(input.project, input.environment), { force: true });
      fs.rmSync(layout.maintenanceFlag(input.project, input.environment), { force: true });
      if (input.remove) {
        fs.rmSync(layout.environment(input.project, input.environment), { recursive: true, force: true });
        fs.rmSync(layout.deployLogs(input.project, input.environment), { recursive: true, force: true });
      }
      return Promise.resolve();
    },

    /** Removes releases beyond the newest few, never the current or previous one. */
    pruneReleases(input: DeploymentKey & { keep: string[] }): Promise<{ removed: string[] }> {
      return Promise.resolve({ removed: pruneReleasesOf(layout, input, input.keep) });
    },
  };
  return {
    ...activities,

    /**
     * Maintenance on, the deploy hook, the switch, maintenance off: in one activity, so that
     * no hand-over falls inside the maintenance window. The switch happens only after the
     * hook succeeded; a failed hook leaves the live release as it was.
     */
    async deployAndSwitch(
      input: DeployContext & { mode: 'install' | 'update' },
    ): Promise<{ since: number; until: number; previous?: string; steps: StepTiming[] }> {
      const steps: StepTiming[] = [];
      const { since } = await timedStep(steps, 'deploy-hook', () => activities.runDeployHook({ ...input, maintenanceFirst: true }));
      const switched = await timedStep(steps, 'switch-release', () => activities.switchReleaseAndServe(input));
      return { since: since ?? switched.until, ...switched, steps };
    },

    /**
     * The post-deploy hook, then the warm-up and the health check, in one activity: the site
     * is live already, and the checks follow the hook with no hand-over.
     */
    async postDeployAndVerify(
      input: DeployContext & { smokePaths?: string[] },
    ): Promise<{ warmUp: { pages: number; failed: number }; steps: StepTiming[] }> {
      const steps: StepTiming[] = [];
      await timedStep(steps, 'post-deploy-hook', () => activities.runPostDeployHook(input));
      const warmUp = await timedStep(steps, 'warm-up', () => activities.warmUp(input));
      await timedStep(steps, 'health-check', () => activities.healthCheck(input));
      return { warmUp, steps };
    },
  };
}
