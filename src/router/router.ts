/**
 * The HTTP edge: serves every deployed environment by host name
 * (`<environment>.<project>.localhost:<port>`) from the release its `current` symlink points
 * at, resolved per request, so a switch is seen whole or not at all. While the environment is
 * in maintenance it answers 503 with a maintenance page and Retry-After.
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import send from 'send';
import { releaseInfoFile, releaseInfoSchema, type ReleaseInfo } from '../activities/release';
import type { Layout } from '../home';

export interface RouterOptions {
  layout: Layout;
  port: number;
  host?: string;
}

export interface RunningRouter {
  port: number;
  url(project: string, environment: string): string;
  close(): Promise<void>;
}

export interface RouteTarget {
  project: string;
  environment: string;
}

/** `integration.shop.localhost:8080` → { project: 'shop', environment: 'integration' }. */
export function parseHost(hostHeader: string | undefined): RouteTarget | undefined {
  if (!hostHeader) return undefined;
  const host = hostHeader.replace(/:\d+$/, '').toLowerCase();
  const labels = host.split('.');
  if (labels.length < 3 || labels[labels.length - 1] !== 'localhost') return undefined;
  const project = labels[labels.length - 2]!;
  const environment = labels.slice(0, -2).join('.');
  if (!/^[a-z][a-z0-9-]{2,39}$/.test(project) || !/^[a-z0-9][a-z0-9._-]*$/.test(environment)) return undefined;
  return { project, environment };
}

function page(res: http.ServerResponse, status: number, title: string, body: string, headers: Record<string, string> = {}): void {
  const html = `<!doctype html><html><head><meta charset="utf-8"><title>${title}</title></head><body><h1>${title}</h1><p>${body}</p></body></html>\n`;
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', ...headers });
  res.end(html);
}

const escapeHtml = (s: string): string =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

export function createRouter(layout: Layout): http.Server {
  const infoCache = new Map<string, ReleaseInfo>();

  const currentRelease = (t: RouteTarget): { dir: string; info: ReleaseInfo } | undefined => {
    let release: string;
    try {
      release = path.basename(fs.readlinkSync(layout.current(t.project, t.environment)));
    } catch {
      return undefined;
    }
    const releases = layout.releases(t.project, t.environment);
    const cacheKey = `${t.project}/${t.environment}/${release}`;
    let info = infoCache.get(cacheKey);
    if (!info) {
      try {
        info = releaseInfoSchema.parse(JSON.parse(fs.readFileSync(releaseInfoFile(releases, release), 'utf8')));
      } catch {
        return undefined;
      }
      infoCache.set(cacheKey, info);
    }
    return { dir: path.join(releases, release), info };
  };

  /**
   * The environment a host belongs to: `integration.shop.localhost`, or a route's own host
   * such as `www.integration.shop.localhost` (the longest suffix naming an environment).
   */
  const resolveHost = (hostHeader: string | undefined): (RouteTarget & { exact: boolean; host: string }) | undefined => {
    const direct = parseHost(hostHeader);
    if (!direct) return undefined;
    const host = (hostHeader ?? '').replace(/:\d+$/, '').toLowerCase();
    const labels = direct.environment.split('.');
    for (let i = 0; i < labels.length; i++) {
      const environment = labels.slice(i).join('.');
      if (fs.existsSync(layout.environment(direct.project, environment))) {
        return { project: direct.project, environment, exact: i === 0, host };
      }
    }
    return { ...direct, exact: true, host };
  };

  return http.createServer((req, res) => {
    const target = resolveHost(req.headers.host);
    if (!target) {
      page(res, 404, 'Unknown host', `Slipway serves environments at &lt;environment&gt;.&lt;project&gt;.localhost; "${escapeHtml(req.headers.host ?? '')}" is not one.`);
      return;
    }
    if (fs.existsSync(layout.maintenanceFlag(target.project, target.environment))) {
      page(res, 503, 'Down for maintenance', 'This environment is being deployed. It will be back in a moment.', {
        'retry-after': '5',
      });
      return;
    }
    const current = currentRelease(target);
    if (!current) {
      page(res, 404, 'Not deployed', `Environment ${escapeHtml(target.environment)} of project ${escapeHtml(target.project)} has no deployed release.`);
      return;
    }
    const pathname = new URL(req.url ?? '/', 'http://x').pathname;
    // The release's routes (.magento/routes.yaml): the longest matching path wins.
    const route = current.info.routes
      .filter((r) => r.host === target.host && pathname.startsWith(r.path))
      .sort((a, b) => b.path.length - a.path.length)[0];
    if (route?.type === 'redirect' && route.to) {
      const location = route.to.replace(/\/$/, '') + pathname.slice(route.path.length - (route.path.endsWith('/') ? 1 : 0));
      res.writeHead(301, { location, 'cache-control': 'no-store' });
      res.end();
      return;
    }
    if (!route && !target.exact) {
      page(res, 404, 'No route', `No route of ${escapeHtml(target.environment)} matches this host.`);
      return;
    }
    const root = path.join(current.dir, current.info.webRoot);
    res.setHeader('x-slipway-release', current.info.release);
    res.setHeader('x-slipway-commit', current.info.commit);
    send(req, pathname, { root, index: ['index.html'], dotfiles: 'deny', cacheControl: false })
      .on('error', (err: { status?: number }) => {
        const status = err.status ?? 500;
        page(res, status, status === 404 ? 'Not found' : 'Error', status === 404 ? 'No such page.' : 'The page could not be served.');
      })
      .pipe(res);
  });
}

export async function startRouter(options: RouterOptions): Promise<RunningRouter> {
  const server = createRouter(options.layout);
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '127.0.0.1', () => resolve());
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : options.port;
  return {
    port,
    url: (project, environment) => `http://${environment}.${project}.localhost:${port}/`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
