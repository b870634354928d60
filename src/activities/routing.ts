/**
 * Requests through the router, as a visitor makes them: the warm-up of WARM_UP_PAGES and the
 * time to first byte of TTFB_TESTED_PAGES, and the health check of the routes (and production's
 * smoke paths). Redirects to hosts the router serves are followed.
 */
import * as http from 'node:http';
import { performance } from 'node:perf_hooks';
import type { DeploymentKey } from '../domain/deployment';
import { environmentHostname } from '../domain/names';
import type { SlugManifest } from '../domain/project-files';
import { classifyPage } from '../domain/project-files/env-config';
import { resolveRoutes, type ResolvedRoute } from '../domain/project-files/routes';
import { PASSTHRU_HEADER } from '../router/router';
import { errorMessage, stepFailure, type StepLog } from './lib/step-log';

/** The environment's routes of .magento/routes.yaml, on its host names. */
export function routesFor(key: DeploymentKey, manifest: SlugManifest): ResolvedRoute[] {
  return resolveRoutes(manifest.routes, { defaultHost: environmentHostname(key.project, key.environment) });
}

/** What a GET through the router answered: the final status, time to first byte, the redirects followed. */
interface RouterAnswer {
  status: number;
  /** The PHP front controller the request went to, for a release the router serves itself (one served before environments ran an application). */
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

/**
 * Requests WARM_UP_PAGES through the router (WARM_UP_CONCURRENCY at once) so the first visitor
 * gets a warm cache, then logs the time to first byte of TTFB_TESTED_PAGES. A page that does not
 * warm up is worth a warning, not a rollback (as in ece-tools).
 */
export async function warmUpThroughRouter(
  port: number | undefined,
  input: DeploymentKey & { manifest: SlugManifest },
  log: StepLog,
): Promise<{ pages: number; failed: number }> {
  const pages = input.manifest.warmUpPages;
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
}

/** Every upstream route (and each smoke path) must answer 2xx through the router, its redirects followed. */
export async function healthCheckThroughRouter(
  port: number | undefined,
  input: DeploymentKey & { manifest: SlugManifest; smokePaths?: string[] },
  log: StepLog,
): Promise<void> {
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
        // A release the router serves itself (no application of the environment runs): its
        // front controller is not run, so the route is not checkable.
        log.line('health-check', `warning: ${r.url}${via} is served by the PHP front controller ${answer.passthru}, and this environment runs no application: not checked`);
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
}
