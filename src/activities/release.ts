/**
 * Deploy activities, on the task queue of the host that serves the environment. A release is
 * a directory staged from a slug with the environment's persistent mounts linked in; the
 * environment's `current` symlink points at the one being served and is switched with
 * rename(2). While the `maintenance` flag exists the router answers 503.
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { releaseName, timedStep, type DeploymentKey, type DeploymentStep, type StepTiming } from '../domain/deployment';
import { hookEnvironment } from '../domain/hook-env';
import { environmentHostname } from '../domain/names';
import { releaseInfoFile, releaseInfoSchema, type ReleaseInfo } from '../domain/release-info';
import { PASSTHRU_HEADER } from '../router/router';
import type { SlugManifest } from '../domain/project-files';
import { classifyPage } from '../domain/project-files/env-config';
import { resolveRoutes, type ResolvedRoute } from '../domain/project-files/routes';
import { computeRelationships } from '../domain/project-files/services';
import type { Layout } from '../home';
import { runHook } from './lib/hook-process';
import { deployStaticContent, findThemes, staticVersion, themeSelection } from '../magento/static-content';
import { copyTree } from './lib/copy-tree';
import { INIT_DIR, keepBuildContentAside, realDirectory, seedMounts } from '../magento/mounts';
import { locationsForWebRoot } from '../domain/project-files/web-locations';
import { StepLog, errorMessage, stepFailure } from './lib/step-log';

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

/** What a GET through the router answered: the final status, time to first byte, the redirects followed. */
interface RouterAnswer {
  status: number;
  /** The PHP front controller the request went to, which this Slipway does not run yet (issue 16). */
  passthru?: string;
  ttfbMs: number;
  /** The URLs redirected to, in order. */
  redirects: string[];
}

/** One GET through the router with a Host header. */
function getOnce(port: number, host: string, urlPath: string): Promise<{ status: number; location?: string; passthru?: string; ttfbMs: number }> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: urlPath, headers: { host }, agent: false }, (res) => {
      const ttfbMs = Math.round(performance.now() - started);
      res.resume();
      const passthru = res.headers[PASSTHRU_HEADER];
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, location: res.headers.location, ttfbMs, ...(typeof passthru === 'string' ? { passthru } : {}) }),
      );
    });
    req.setTimeout(10_000, () => req.destroy(new Error('timed out after 10 s')));
    req.on('error', reject);
  });
}

/**
 * GET through the router with the environment's Host header, following redirects (at most 5)
 * to hosts the router serves: what a visitor gets in the end. A redirect elsewhere is answered
 * as it is.
 */
async function getThroughRouter(port: number, host: string, urlPath: string): Promise<RouterAnswer> {
  const redirects: string[] = [];
  let at = { host, path: urlPath };
  for (;;) {
    const answer = await getOnce(port, at.host, at.path);
    if (answer.status < 300 || answer.status >= 400 || !answer.location || redirects.length >= 5) {
      return { status: answer.status, ttfbMs: answer.ttfbMs, redirects, ...(answer.passthru ? { passthru: answer.passthru } : {}) };
    }
    const next = new URL(answer.location, `http://${at.host}${at.path}`);
    redirects.push(next.href);
    if (!next.hostname.endsWith('.localhost')) return { status: answer.status, ttfbMs: answer.ttfbMs, redirects };
    at = { host: next.hostname, path: `${next.pathname}${next.search}` };
  }
}

/** A warm-up or TTFB page resolved against the environment's routes: which host, which path. */
interface PageTarget {
  url: string;
  host: string;
  path: string;
}

/**
 * The pages of WARM_UP_PAGES or TTFB_TESTED_PAGES as requests: a relative page or a path
 * against the base URL of each upstream route, an absolute URL as it is when this environment
 * serves its host; the pattern forms (category:, product:, store-page:) need the catalogue of
 * a running Magento and are skipped. Each skipped entry is said why.
 */
export function pageTargets(pages: readonly string[], routes: readonly ResolvedRoute[], skipped: (line: string) => void): PageTarget[] {
  const bases = routes.filter((r) => r.type === 'upstream').map((r) => r.url);
  const hosts = new Set(routes.map((r) => r.host));
  const targets = new Map<string, PageTarget>();
  const add = (u: URL): void => {
    targets.set(u.href, { url: u.href, host: u.hostname, path: `${u.pathname}${u.search}` });
  };
  for (const page of pages) {
    const c = classifyPage(page);
    const kind = c.kind;
    if (kind === 'pattern') skipped(`${page}: needs the catalogue of a running Magento; skipped`);
    else if (c.kind === 'invalid') skipped(`${page}: ${c.reason}; skipped`);
    else if (kind === 'url') {
      const u = new URL(page);
      if (hosts.has(u.hostname)) add(u);
      else skipped(`${page}: ${u.hostname} is no host of this environment's routes; skipped`);
    } else for (const base of bases) add(new URL(page, base));
  }
  return [...targets.values()];
}

/** Runs `fn` over `items`, at most `limit` at once. */
async function eachConcurrently<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, lane));
}

function writeAtomically(file: string, content: string): void {
  fs.writeFileSync(`${file}.tmp-${process.pid}`, content);
  fs.renameSync(`${file}.tmp-${process.pid}`, file);
}

/** A mount's directory on disk: the environment's persistent storage. */
function mountDirectory(layout: Layout, key: { project: string; environment: string }, source: string): string {
  return path.join(layout.environment(key.project, key.environment), 'mounts', source);
}

function readReleaseInfo(layout: Layout, key: DeploymentKey, release: string): ReleaseInfo | undefined {
  try {
    return releaseInfoSchema.parse(JSON.parse(fs.readFileSync(releaseInfoFile(layout.releases(key.project, key.environment), release), 'utf8')));
  } catch {
    return undefined;
  }
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
 * Seeds the environment's mounts from a release's build content (`init/`, see lib/mounts), as
 * that release's own settings say. Releases staged before this kept nothing aside: no-op.
 */
async function seedMountsFrom(layout: Layout, key: DeploymentKey, release: string, log: (line: string) => void): Promise<void> {
  const info = readReleaseInfo(layout, key, release);
  if (!info?.mounts || Object.keys(info.mounts).length === 0) return;
  const sc = info.staticContent;
  await seedMounts({
    release: layout.release(key.project, key.environment, release),
    mounts: Object.fromEntries(Object.entries(info.mounts).map(([at, source]) => [at, mountDirectory(layout, key, source)])),
    staticSymlink: sc?.symlink ?? true,
    cleanStatic: sc?.clean ?? true,
    ...(sc?.onDemand && sc.version ? { onDemandVersion: sc.version } : {}),
    log,
  });
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

  /**
   * A project hook run in the new release directory, logged as one step (absent: says so).
   * With `seed`, the mounts are seeded from the release's build content first; if the hook
   * then fails (or is cancelled), they are seeded again from the release still served.
   */
  async function runReleaseHook(
    input: DeployContext,
    step: 'deploy-hook' | 'post-deploy-hook',
    hook: 'deploy' | 'post_deploy',
    summary: string,
    script: string,
    extraEnv: Record<string, string>,
    seed = false,
  ): Promise<void> {
    const log = new StepLog(layout, input);
    await log.step(step, summary, async () => {
      if (seed) await seedMountsFrom(layout, input, input.release, (l) => log.line(step, l));
      try {
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
      } catch (err) {
        if (seed) await reseedFromLive(input, log, step);
        throw err;
      }
    });
  }

  /** After a failed deploy hook: the mounts seeded again from the release still served. */
  async function reseedFromLive(input: DeploymentKey & { release: string }, log: StepLog, step: DeploymentStep): Promise<void> {
    const live = liveRelease(layout, input);
    if (!live || live === input.release) return;
    try {
      await seedMountsFrom(layout, input, live, (l) => log.line(step, `restoring the mounts of ${live}: ${l}`));
    } catch (e) {
      log.line(step, `warning: the mounts could not be seeded again from ${live}: ${errorMessage(e)}`);
    }
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
      // What the build left at mounted paths is kept aside in init/, to seed the mounts at deploy.
      await keepBuildContentAside(tmp, Object.keys(input.manifest.mounts), (l) => log.line('stage-release', l));
      for (const [mountPath, source] of Object.entries(input.manifest.mounts)) {
        const shared = mountDirectory(layout, input, source);
        fs.mkdirSync(shared, { recursive: true });
        const at = path.join(tmp, mountPath);
        // Every directory above the mount is a real one of the release: a committed symbolic
        // link there would have the engine write wherever it points.
        await realDirectory(tmp, path.dirname(at));
        fs.rmSync(at, { recursive: true, force: true });
        fs.symlinkSync(shared, at);
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
          ...(scd.where === 'none' && scd.onDemand === true ? { version: String(Math.floor(Date.now() / 1000)) } : {}),
        },
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
        // With a pub/static mount the release's static content goes to init/pub/static, then
        // the mount is seeded from it, as from static content built in the build.
        const mounted = Object.keys(input.manifest.mounts).some((m) => m === 'pub/static' || m === 'pub');
        if (scd.themes.length === 0 && (await findThemes(dir)).size === 0) {
          log.line('static-content-deploy', 'no theme in app/design or registered under vendor/: nothing to deploy');
          await seedMountsFrom(layout, input, input.release, (l) => log.line('static-content-deploy', l));
          return;
        }
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
        await seedMountsFrom(layout, input, input.release, (l) => log.line('static-content-deploy', l));
      });
    },

    /**
     * The deploy hook (hooks.deploy) in the new release; SLIPWAY_DEPLOY_MODE says install (first
     * deploy) or update. With `maintenanceFirst`, maintenance is switched on in the same activity,
     * just before the hook: the window does not include a round trip through the server.
     */
    async runDeployHook(input: DeployContext & { mode: 'install' | 'update'; maintenanceFirst?: boolean }): Promise<{ since?: number }> {
      const since = input.maintenanceFirst ? (await maintenanceOn(input)).since : undefined;
      // The mounts are seeded here, inside the maintenance window, unless the static content
      // deploy just before did it.
      const seed = input.manifest.staticContent.where !== 'deploy';
      await runReleaseHook(
        input,
        'deploy-hook',
        'deploy',
        `hooks.deploy (${input.mode})`,
        input.manifest.hooks.deploy,
        { SLIPWAY_DEPLOY_MODE: input.mode },
        seed,
      );
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
      await log.step('restore-previous', input.previous ? `current -> ${input.previous}` : 'no previous release: unpublish', async () => {
        pointCurrent(layout, input, input.previous);
        // The mounts hold what the failed release put there: seeded again from the one restored.
        if (input.previous) await seedMountsFrom(layout, input, input.previous, (l) => log.line('restore-previous', l));
      });
    },

    async runPostDeployHook(input: DeployContext): Promise<void> {
      await runReleaseHook(input, 'post-deploy-hook', 'post_deploy', 'hooks.post_deploy', input.manifest.hooks.postDeploy, {});
    },

    /**
     * Requests WARM_UP_PAGES through the router (WARM_UP_CONCURRENCY at once) so the first
     * visitor gets a warm cache, then measures the time to first byte of TTFB_TESTED_PAGES.
     */
    async warmUp(input: DeployContext): Promise<{ pages: number; failed: number }> {
      const log = new StepLog(layout, input);
      const pages = input.manifest.warmUpPages;
      return log.step('warm-up', `${pages.length} page(s)`, async () => {
        const port = deps.routerPort();
        let failed = 0;
        if (port === undefined) {
          log.line('warm-up', 'no router on this host: skipped');
          return { pages: 0, failed: 0 };
        }
        const routes = routesFor(input, input.manifest);
        const skipped = (l: string): void => log.line('warm-up', `warning: ${l}`);
        const targets = pageTargets(pages, routes, skipped);
        await eachConcurrently(targets, input.manifest.warmUpConcurrency ?? 1, async (t) => {
          const started = Date.now();
          try {
            const answer = await getThroughRouter(port, t.host, t.path);
            const via = answer.redirects.length > 0 ? ` (via ${answer.redirects.join(' → ')})` : '';
            log.line('warm-up', `${t.url}: ${answer.status} in ${Date.now() - started} ms${via}`);
            if (answer.status >= 400) failed++;
          } catch (err) {
            failed++;
            log.line('warm-up', `${t.url}: ${errorMessage(err)}`);
          }
        });
        // A page that does not warm up is worth a warning, not a rollback (as in ece-tools).
        if (failed > 0) log.line('warm-up', `warning: ${failed} page(s) did not warm up`);
        for (const t of pageTargets(input.manifest.ttfbPages ?? [], routes, skipped)) {
          try {
            const answer = await getThroughRouter(port, t.host, t.path);
            log.line('warm-up', `ttfb ${t.url}: ${answer.ttfbMs} ms (status ${answer.status})`);
          } catch (err) {
            log.line('warm-up', `ttfb ${t.url}: ${errorMessage(err)}`);
          }
        }
        return { pages: targets.length, failed };
      });
    },

    /**
     * Every upstream route of the environment (and each smoke path) must answer 2xx through
     * the router, after following its redirects: a redirect to a failing page fails.
     */
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
          let via = '';
          try {
            const answer = await getThroughRouter(port, r.host, r.path);
            status = answer.status;
            if (answer.redirects.length > 0) via = ` (via ${answer.redirects.join(' → ')})`;
            if (answer.passthru) {
              // Magento's front controller answers this route: not checkable until PHP runs.
              log.line('health-check', `warning: ${r.url}${via} is served by the PHP front controller ${answer.passthru}, which this Slipway does not run yet: not checked`);
              continue;
            }
          } catch (err) {
            status = errorMessage(err);
          }
          log.line('health-check', `${r.url}: ${status}${via}`);
          if (typeof status !== 'number' || status >= 300) problems.push(`${r.url} answered ${status}${via}`);
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
