/**
 * The HTTP edge: serves every deployed environment by host name
 * (`<environment>.<project>.localhost:<port>`) from the release its `current` symlink points
 * at, resolved per request, so a switch is seen whole or not at all. While the environment is
 * in maintenance it answers 503 with a maintenance page and Retry-After.
 */
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as http from 'node:http';
import * as path from 'node:path';
import * as mime from 'mime-types';
import send from 'send';
import { releaseInfoFile, releaseInfoSchema, type ReleaseInfo } from '../domain/release-info';
import type { Layout } from '../home';
import { locationsForWebRoot, resolveRequest } from '../domain/project-files/web-locations';
import { publishOnRequest, ThemeCatalog } from '../magento/static-content';
import { isInside } from '../tree-links';
import { plainPath } from '../domain/runtime/edge-config';
import { startEdge } from './edge';
import { freePort } from '../temporal/dev-server';

export interface RouterOptions {
  layout: Layout;
  /** 0: a free port. */
  port: number;
  host?: string;
  /**
   * nginx in front (src/router/edge.ts), passing what it can straight to the environments' web
   * servers; the router behind it on a Unix socket (default). false: the router alone on the port.
   */
  edge?: boolean;
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

/**
 * What the router may serve from: the current release and the environment's mounts, each by
 * its real path. A mount counts only while its own path has no link in it (a tenant could
 * otherwise turn one mount into a link through another).
 */
async function servingRoots(layout: Layout, t: RouteTarget, current: { dir: string; info: ReleaseInfo }): Promise<string[]> {
  const release = await fsp.realpath(current.dir).catch(() => undefined);
  if (release === undefined) return [];
  const roots = [release];
  const environment = await fsp.realpath(layout.environment(t.project, t.environment)).catch(() => undefined);
  for (const source of Object.values(current.info.mounts ?? {})) {
    const real = await fsp.realpath(layout.mount(t.project, t.environment, source)).catch(() => undefined);
    if (real && environment && real === path.join(environment, 'mounts', source)) roots.push(real);
  }
  return roots;
}

/** The same, synchronously: for the checks before a request is passed on (local, fast, no thread-pool hop). */
function servingRootsSync(layout: Layout, t: RouteTarget, current: { dir: string; info: ReleaseInfo }): string[] {
  const real = (p: string): string | undefined => {
    try {
      return fs.realpathSync.native(p);
    } catch {
      return undefined;
    }
  };
  const release = real(current.dir);
  if (release === undefined) return [];
  const roots = [release];
  const environment = real(layout.environment(t.project, t.environment));
  for (const source of Object.values(current.info.mounts ?? {})) {
    const mount = real(layout.mount(t.project, t.environment, source));
    if (mount && environment && mount === path.join(environment, 'mounts', source)) roots.push(mount);
  }
  return roots;
}

/** A path the router serves nothing under: a hidden file or directory (".env", ".git/config"). */
const hidden = (rel: string): boolean => rel.split(/[\\/]/).some((s) => s.startsWith('.'));
/** A PHP script: the application's to run, never served as a file. */
const script = (file: string): boolean => /\.php$/i.test(file);

/** Whether a real path may be served: inside a root, nothing hidden on the way from it, no PHP script. */
function servable(real: string, roots: readonly string[]): boolean {
  if (script(real)) return false;
  return roots.some((root) => isInside(root, real) && !hidden(path.relative(root, real)));
}

/**
 * Whether the nearest existing ancestor of `file` (below `top`) is a symbolic link that does not
 * resolve: what it names may exist in the application's sandbox (its configuration, its logs)
 * though not on the host.
 */
function danglingLinkOnTheWay(top: string, file: string): boolean {
  for (let p = file; p.startsWith(`${top}${path.sep}`); p = path.dirname(p)) {
    const st = fs.lstatSync(p, { throwIfNoEntry: false });
    if (!st) continue;
    if (!st.isSymbolicLink()) return false;
    return realpathOrUndefined(p) === undefined;
  }
  return false;
}

function realpathOrUndefined(p: string): string | undefined {
  try {
    return fs.realpathSync.native(p);
  } catch {
    return undefined;
  }
}

/** A file opened for serving, or a directory (whose index files are looked up the same way). */
type Resolved = { kind: 'file'; handle: fsp.FileHandle; real: string } | { kind: 'directory'; real: string };

/**
 * Resolves a path of the release as the router may serve it: every link resolved (realpath),
 * the real path inside the release or a mount, then that real path opened with O_NOFOLLOW, and
 * the file actually opened checked again (its /proc/self/fd link on Linux): a link swapped in
 * between the check and the open cannot make it serve anything else. Nothing (missing, outside,
 * hidden, a script, no regular file) is what a missing file is: nobody learns which it was.
 */
async function resolveServable(file: string, roots: readonly string[]): Promise<Resolved | undefined> {
  const real = await fsp.realpath(file).catch(() => undefined);
  if (real === undefined || !servable(real, roots)) return undefined;
  const handle = await fsp.open(real, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK).catch(() => undefined);
  if (!handle) return undefined;
  try {
    const opened = await fsp.readlink(`/proc/self/fd/${handle.fd}`).catch(() => real);
    const stat = await handle.stat();
    if (servable(opened, roots) && (stat.isFile() || stat.isDirectory())) {
      if (stat.isFile()) return { kind: 'file', handle, real: opened };
      await handle.close();
      return { kind: 'directory', real: opened };
    }
  } catch {
    /* as if it were not there */
  }
  await handle.close().catch(() => undefined);
  return undefined;
}

/**
 * Sends an opened file (conditional GET, ranges and HEAD by `send`). On Linux `send` reads
 * /proc/self/fd/<fd>, the very file opened and checked, so no path is resolved again.
 */
function sendOpened(req: http.IncomingMessage, res: http.ServerResponse, file: { handle: fsp.FileHandle; real: string }): void {
  const close = (): void => void file.handle.close().catch(() => undefined);
  res.once('close', close);
  const proc = `/proc/self/fd/${file.handle.fd}`;
  // `send` takes a URL path: the fallback's segments are encoded.
  const through = fs.existsSync(proc) ? proc : file.real.split('/').map(encodeURIComponent).join('/');
  res.setHeader('content-type', mime.contentType(path.extname(file.real)) || 'application/octet-stream');
  send(req, through, { dotfiles: 'allow', index: false, cacheControl: false })
    .on('error', (err: { status?: number }) => {
      res.removeHeader('content-type');
      const status = err.status ?? 500;
      page(res, status, status === 404 ? 'Not found' : 'Error', status === 404 ? 'No such page.' : 'The page could not be served.');
    })
    .pipe(res);
}

/** Set on an answer that the application's PHP front controller would have given: which one. */
export const PASSTHRU_HEADER = 'x-slipway-passthru';

/** Connections to the environments' web servers, kept open between requests (one pool per socket). */
const appAgent = new http.Agent({ keepAlive: true, maxSockets: 256, maxFreeSockets: 64 });

/**
 * The socket of the release being served: where the environment's `web.sock` link points,
 * resolved per request. Connections are pooled per release's socket, so a switch sends every
 * new request to the new release at once (a pooled connection to the old one is never reused).
 */
function servedSocket(link: string): string | undefined {
  try {
    return path.resolve(path.dirname(link), fs.readlinkSync(link));
  } catch {
    return undefined;
  }
}

/** Request headers not passed on: hop-by-hop ones (RFC 9110 7.6.1). */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'proxy-authorization']);

/**
 * Passes the request to the environment's web server (nginx, in the environment's sandbox) on
 * its Unix socket, and its answer back. The router has answered routes, redirects and
 * maintenance already. A web server that does not answer (stopped, crashed: its supervisor
 * restarts it) gets a 502 page that says so.
 */
function proxyToApplication(req: http.IncomingMessage, res: http.ServerResponse, socketPath: string, urlPath: string, host: string): void {
  const headers: http.OutgoingHttpHeaders = {};
  for (const [name, v] of Object.entries(req.headers)) if (!HOP_BY_HOP.has(name) && v !== undefined) headers[name] = v;
  const forwarded = typeof req.headers['x-forwarded-for'] === 'string' ? req.headers['x-forwarded-for'] : undefined;
  // Behind the edge (a Unix socket: no remote address) the edge has added the client already.
  const remote = req.socket.remoteAddress;
  headers['x-forwarded-for'] = remote ? `${forwarded ? `${forwarded}, ` : ''}${remote}` : (forwarded ?? '');
  headers['x-forwarded-proto'] = 'http';
  headers['x-forwarded-host'] = host;
  const upstream = http.request({ socketPath, method: req.method, path: urlPath, headers, agent: appAgent }, (answer) => {
    const out: http.OutgoingHttpHeaders = {};
    for (const [name, v] of Object.entries(answer.headers)) if (!HOP_BY_HOP.has(name) && v !== undefined) out[name] = v;
    res.writeHead(answer.statusCode ?? 502, out);
    answer.pipe(res);
    answer.on('error', () => res.destroy());
  });
  upstream.on('error', () => {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    page(res, 502, 'Application not running', 'The web server of this environment does not answer; it is being restarted. Try again in a moment.', { 'retry-after': '2' });
  });
  res.on('close', () => {
    if (!res.writableFinished) upstream.destroy();
  });
  // A request with neither Content-Length nor Transfer-Encoding has no body (RFC 9112 6.3):
  // it is passed on at once, its head and end in one write, instead of after its (empty)
  // body's 'end' a few ticks later; about 10% less of the router's CPU per proxied request.
  if (req.headers['content-length'] === undefined && req.headers['transfer-encoding'] === undefined) {
    upstream.end();
    req.resume();
  } else req.pipe(upstream);
}

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

  /** One theme catalogue per release with static content made on request (releases never change). */
  const catalogs = new Map<string, ThemeCatalog>();
  const catalogOf = (releaseDir: string): ThemeCatalog => {
    let catalog = catalogs.get(releaseDir);
    if (!catalog) {
      if (catalogs.size >= 64) catalogs.delete(catalogs.keys().next().value!);
      catalog = new ThemeCatalog(releaseDir);
      catalogs.set(releaseDir, catalog);
    }
    return catalog;
  };

  /** The directory pub/static lands in: its mount (the engine's own path) or the release's own. */
  const staticDir = (t: RouteTarget, current: { dir: string; info: ReleaseInfo }): string => {
    const source = current.info.mounts?.['pub/static'];
    return source ? layout.mount(t.project, t.environment, source) : path.join(current.dir, 'pub', 'static');
  };

  const notFound = (res: http.ServerResponse, why = 'No such page.'): void => page(res, 404, 'Not found', escapeHtml(why));

  /**
   * The path to ask the environment's web server for, or undefined when the router answers 404
   * itself. A file the path names is checked as the router checks what it serves: every link
   * resolved, its real path inside the release or a mount, nothing hidden on the way, no PHP
   * source behind another name (nginx in the sandbox cannot reach the host, but a tenant's link
   * could still show its own PHP source as text, or files of the sandbox). Static content made
   * now if it is made on request and missing (as Magento's pub/static.php would), and Magento's
   * versioned static URLs (/static/version<N>/…) taken without their version where no rule of
   * the locations rewrites them and no such file exists.
   */
  async function proxiedPath(t: RouteTarget, current: { dir: string; info: ReleaseInfo }, pathname: string): Promise<string | undefined> {
    const locations = current.info.locations ?? locationsForWebRoot(current.info.webRoot);
    let urlPath = pathname;
    // Synchronous file checks: a few local system calls each, cheaper than a hop through the
    // thread pool on every request.
    for (let hops = 0; hops < 2; hops++) {
      const r = resolveRequest(locations, urlPath);
      if (r.kind === 'none' || hidden(r.file)) return urlPath;
      const file = path.join(current.dir, r.file);
      const real = realpathOrUndefined(file);
      if (real !== undefined) {
        // A script the location runs or passes through: nginx's to decide, by its own name.
        if (script(r.file)) return urlPath;
        const roots = servingRootsSync(layout, t, current);
        const st = fs.statSync(real, { throwIfNoEntry: false });
        const inside = roots.some((root) => isInside(root, real) && !hidden(path.relative(root, real)));
        if (!inside || (st?.isFile() && script(real))) return undefined;
        return urlPath;
      }
      // A link that leads nowhere on the host may lead somewhere in the sandbox: never followed.
      if (danglingLinkOnTheWay(current.dir, file)) return undefined;
      if (current.info.staticContent?.onDemand && r.file.startsWith('pub/static/')) {
        const roots = servingRootsSync(layout, t, current);
        const out = realpathOrUndefined(staticDir(t, current));
        const made = out && servable(out, roots) ? await publishOnRequest(catalogOf(current.dir), out, r.file.slice('pub/static/'.length)).catch(() => undefined) : undefined;
        if (made) return urlPath;
      }
      const versioned = /^\/static\/version\d+\/(.+)$/.exec(r.path);
      if (!versioned) return urlPath;
      urlPath = `/static/${versioned[1]}`;
    }
    return urlPath;
  }

  /**
   * Serves a path of the current release through its `web.locations`: a file that may be
   * served, else static content made on request, Magento's versioned static URLs, or the
   * location's passthru. Only what lies, every link resolved, inside the release or one of the
   * environment's mounts is served; never a hidden file or a PHP script.
   */
  async function serve(req: http.IncomingMessage, res: http.ServerResponse, t: RouteTarget, current: { dir: string; info: ReleaseInfo }, pathname: string): Promise<void> {
    const locations = current.info.locations ?? locationsForWebRoot(current.info.webRoot);
    const roots = await servingRoots(layout, t, current);
    let urlPath = pathname;
    for (let hops = 0; hops < 5; hops++) {
      const r = resolveRequest(locations, urlPath);
      if (r.kind === 'none') return notFound(res);
      const isScript = script(r.file);
      const found = hidden(r.file) ? undefined : await resolveServable(path.join(current.dir, r.file), roots);
      const indexes = r.location.index.filter((i) => !script(i));
      if (found?.kind === 'file' && (!r.allow || isScript)) await found.handle.close();
      else if (found?.kind === 'file') return sendOpened(req, res, found);
      else if (found?.kind === 'directory' && r.allow && indexes.length > 0) {
        if (!urlPath.endsWith('/')) {
          res.writeHead(301, { location: `${urlPath}/`, 'cache-control': 'no-store' });
          res.end();
          return;
        }
        for (const name of indexes) {
          const index = await resolveServable(path.join(found.real, name), roots);
          if (index?.kind === 'file') return sendOpened(req, res, index);
        }
        return notFound(res);
      }
      // Static content made on its first request (SCD_ON_DEMAND), as Magento's pub/static.php does.
      if (!found && current.info.staticContent?.onDemand && r.file.startsWith('pub/static/')) {
        const rel = r.file.slice('pub/static/'.length);
        const outDir = staticDir(t, current);
        const real = await fsp.realpath(outDir).catch(() => undefined);
        // Written only where the router would serve it from: never through a link out.
        const made = real && servable(real, roots) ? await publishOnRequest(catalogOf(current.dir), real, rel).catch(() => undefined) : undefined;
        const opened = made ? await resolveServable(made, roots) : undefined;
        if (opened?.kind === 'file') return sendOpened(req, res, opened);
      }
      // Magento's versioned static URLs, for locations that do not rewrite them themselves.
      const versioned = /^\/static\/version\d+\/(.+)$/.exec(r.path);
      if (!found && versioned) {
        urlPath = `/static/${versioned[1]}`;
        continue;
      }
      if (typeof r.passthru === 'string' && r.passthru !== r.path) {
        if (script(r.passthru)) {
          // Said in a header too: the health check tells this from a page that is missing.
          res.setHeader(PASSTHRU_HEADER, r.passthru);
          return notFound(res, 'No such file; this environment runs no PHP front controller for it.');
        }
        urlPath = r.passthru;
        continue;
      }
      return notFound(res, isScript ? 'PHP scripts are not served as files.' : 'No such page.');
    }
    return notFound(res);
  }

  return http.createServer((req, res) => {
    if (isHealthCheck(req)) {
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      res.end(JSON.stringify(servingReport(layout)));
      return;
    }
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
      const location = new URL(route.to.replace(/\/$/, '') + pathname.slice(route.path.length - (route.path.endsWith('/') ? 1 : 0)));
      // A redirect to a host this router serves keeps the scheme (plain http: this edge has
      // no TLS) and the port the request came to.
      const port = /:(\d+)$/.exec(req.headers.host ?? '')?.[1];
      if (location.hostname.endsWith('.localhost')) {
        location.protocol = 'http:';
        if (port && location.port === '') location.port = port;
      }
      res.writeHead(301, { location: location.href, 'cache-control': 'no-store' });
      res.end();
      return;
    }
    if (!route && !target.exact) {
      page(res, 404, 'No route', `No route of ${escapeHtml(target.environment)} matches this host.`);
      return;
    }
    res.setHeader('x-slipway-release', current.info.release);
    res.setHeader('x-slipway-commit', current.info.commit);
    // The environment's application runs: nginx serves the release (and PHP runs), the router
    // passes the request on. Releases served before the environments had one are served here.
    // A link to the socket of the release being served (a dead web server's: a 502 that says so).
    const socket = layout.webSocket(target.project, target.environment);
    const served = servedSocket(socket);
    if (served) {
      const search = new URL(req.url ?? '/', 'http://x').search;
      proxiedPath(target, current, pathname).then(
        (p) => (p === undefined ? notFound(res) : proxyToApplication(req, res, served, p === pathname ? (req.url ?? '/') : `${p}${search}`, target.host)),
        () => proxyToApplication(req, res, served, req.url ?? '/', target.host),
      );
      return;
    }
    serve(req, res, target, current, pathname).catch(() => {
      if (!res.headersSent) page(res, 500, 'Error', 'The page could not be served.');
      else res.destroy();
    });
  });
}

/**
 * The health check a front router (src/router/front.ts) makes of a host's router: the path
 * under the Host `slipway-health`, which names no environment (the edge passes it here).
 */
export const HEALTH_HOST = 'slipway-health';
export const HEALTH_PATH = '/.slipway/health';

function isHealthCheck(req: http.IncomingMessage): boolean {
  return (req.headers.host ?? '').replace(/:\d+$/, '') === HEALTH_HOST && (req.url ?? '') === HEALTH_PATH;
}

/** What a host's router answers its health check with: the environments it serves, and which are in maintenance. */
export interface ServingReport {
  environments: Array<{ project: string; environment: string; release: string; maintenance: boolean }>;
}

/** The environments of this data directory that have a release served (their `current` link to a release that exists). */
export function servingReport(layout: Layout): ServingReport {
  const environments: ServingReport['environments'] = [];
  const root = path.join(layout.home, 'envs');
  const dirs = (dir: string): string[] => {
    try {
      return fs.readdirSync(dir, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name);
    } catch {
      return [];
    }
  };
  for (const project of dirs(root)) {
    for (const environment of dirs(path.join(root, project))) {
      const current = layout.current(project, environment);
      if (!fs.existsSync(current)) continue;
      let release: string;
      try {
        release = path.basename(fs.readlinkSync(current));
      } catch {
        continue;
      }
      environments.push({ project, environment, release, maintenance: fs.existsSync(layout.maintenanceFlag(project, environment)) });
    }
  }
  return { environments };
}

export async function startRouter(options: RouterOptions): Promise<RunningRouter> {
  const server = createRouter(options.layout);
  server.keepAliveTimeout = 5000;
  const host = options.host ?? '127.0.0.1';
  const listen = (where: { port: number; host: string } | { path: string }): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(where, () => {
        server.off('error', reject);
        resolve();
      });
    });
  const closeServer = (): Promise<void> =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  const url = (port: number) => (project: string, environment: string) => `http://${environment}.${project}.localhost:${port}/`;

  if (options.edge === false || !plainPath(options.layout.home)) {
    await listen({ port: options.port, host });
    const addr = server.address();
    const port = typeof addr === 'object' && addr ? addr.port : options.port;
    return { port, url: url(port), close: closeServer };
  }
  // nginx on the port, the router behind it on a Unix socket of the edge's directory.
  for (let attempt = 0; ; attempt++) {
    // nginx cannot say which port 0 gave it: a free one is chosen first.
    const port = options.port === 0 ? await freePort(host) : options.port;
    const dir = path.join(options.layout.home, 'run', `edge-${port}`);
    const routerSocket = path.join(dir, 'router.sock');
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    fs.rmSync(routerSocket, { force: true });
    await listen({ path: routerSocket });
    fs.chmodSync(routerSocket, 0o600);
    try {
      const edge = await startEdge({ home: options.layout.home, dir, listenHost: host, port, routerSocket });
      return {
        port,
        url: url(port),
        close: async () => {
          await edge.close();
          await closeServer();
          fs.rmSync(dir, { recursive: true, force: true });
        },
      };
    } catch (err) {
      await closeServer();
      // A free port taken meanwhile by someone else: another one.
      if (options.port !== 0 || attempt >= 2 || !/in use/i.test((err as Error).message)) throw err;
    }
  }
}
