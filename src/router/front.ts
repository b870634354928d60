/**
 * The front router: in front of the hosts' routers (`slipway router --front`), it sends each
 * request for `<environment>.<project>.localhost` to a host that serves that environment and
 * answers its health checks.
 *
 * - **The registry** is a directory shared by the hosts (as the slug store is): each host's
 *   worker, started with `--registry <dir>`, advertises its router there as `hosts/<host>.json`
 *   (`{host, router}`; `--advertise <url>`, by default `http://127.0.0.1:<router port>`). The
 *   front router reads it at every round of checks: a host added is used within a round.
 * - **Health checks**: every `checkEveryMs` (500 ms) each host's router is asked
 *   `GET /.slipway/health` (Host `slipway-health`, 1 s timeout). It answers with the
 *   environments it serves (a `current` release in its data directory) and which are in
 *   maintenance. So which hosts serve which environment comes from the hosts themselves: what
 *   the engine deployed there. A host that answers anything but that, or refuses or resets the
 *   check's connection, is out until it answers again; one that is only slow (no answer within
 *   the timeout) is out after `failAfter` (2) such checks in a row, so one busy second on a
 *   loaded host does not take it out. A request's connection to it that fails takes it out at once.
 * - **An environment no host is known to serve** (deployed since the last round, or all its
 *   hosts out) is not refused at once: the request waits for one complete round of checks begun
 *   after it arrived (started at once, so at most one check timeout plus the round in progress),
 *   then is sent, or answered 502 naming the environment. Such rounds are shared by the requests
 *   waiting together and start at least 100 ms apart, so made-up names cannot flood the hosts
 *   with checks.
 * - **Choice**: round robin over the healthy hosts that serve the environment, those not in
 *   maintenance first (one host's maintenance window is not seen while another serves).
 * - **Retries**: a GET or HEAD whose connection to a host fails before any byte of the
 *   response (refused, reset, timed out) is sent to another healthy host of the environment;
 *   any other request is not repeated (its body went to the host that failed). So a host that
 *   dies loses only the requests it had begun to answer.
 *
 * Node's own `http` is used (no proxy library): the retry rule needs the point where the
 * upstream's response has started, which proxy libraries keep to themselves.
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { z } from 'zod';
import { HEALTH_HOST, HEALTH_PATH, parseHost } from './router';

/** What a host advertises in the registry: its name and its router's base URL. */
export const advertisementSchema = z.object({
  host: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'host must be a lowercase name'),
  router: z
    .string()
    .url('router must be a URL')
    .refine((u) => /^http:\/\/[^/]+\/?$/.test(u), 'router must be http://<address>:<port>, with no path'),
});
export type Advertisement = z.infer<typeof advertisementSchema>;

const healthSchema = z.object({
  environments: z.array(z.object({ project: z.string(), environment: z.string(), release: z.string(), maintenance: z.boolean() })),
});

/** A host's file in the registry directory. */
export const advertisementFile = (registry: string, host: string): string => path.join(registry, 'hosts', `${host}.json`);

/** Writes the host's advertisement (atomically): the front routers use its router from their next round. */
export function advertiseHost(registry: string, ad: Advertisement): string {
  const parsed = advertisementSchema.parse(ad);
  const file = advertisementFile(registry, parsed.host);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, `${JSON.stringify({ ...parsed, advertisedAt: new Date().toISOString() })}\n`);
  fs.renameSync(tmp, file);
  return file;
}

/** The hosts advertised in the registry; a file that does not parse is skipped (and reported once). */
export function readRegistry(registry: string, warn: (line: string) => void = () => undefined): Advertisement[] {
  const dir = path.join(registry, 'hosts');
  let names: string[];
  try {
    names = fs.readdirSync(dir).filter((n) => n.endsWith('.json'));
  } catch {
    return [];
  }
  const ads: Advertisement[] = [];
  for (const name of names.sort()) {
    try {
      const parsed = advertisementSchema.safeParse(JSON.parse(fs.readFileSync(path.join(dir, name), 'utf8')));
      if (parsed.success) ads.push(parsed.data);
      else warn(`registry ${path.join(dir, name)}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    } catch (err) {
      warn(`registry ${path.join(dir, name)}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  return ads;
}

/** One host as the front router sees it. */
export interface HostHealth {
  host: string;
  router: string;
  healthy: boolean;
  /** `<environment>.<project>` → in maintenance. */
  serving: Map<string, boolean>;
  checkedAt: number;
  /** Why it is out, when it is. */
  reason?: string;
  /** Checks in a row that got no answer within the timeout. */
  slowChecks: number;
}

export interface FrontRouterOptions {
  registry: string;
  /** 0: a free port. */
  port: number;
  host?: string;
  checkEveryMs?: number;
  checkTimeoutMs?: number;
  /** Checks in a row without an answer in time that take a host out (2). */
  failAfter?: number;
  log?: (line: string) => void;
}

export interface RunningFrontRouter {
  port: number;
  /** The hosts as the last round of checks found them. */
  hosts(): HostHealth[];
  /** Resolves after the next complete round of health checks. */
  checked(): Promise<void>;
  close(): Promise<void>;
}

const key = (project: string, environment: string): string => `${environment}.${project}`;
/** The least time between the end of a round and one a request asks for. */
const FRESH_GAP_MS = 100;
/** Errors of a connection that failed before the host sent anything back. */
const IDEMPOTENT = new Set(['GET', 'HEAD']);
/** Hop-by-hop headers are not passed on (RFC 9110 7.6.1). */
const HOP_BY_HOP = ['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer'];

function page(res: http.ServerResponse, status: number, title: string, body: string): void {
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', 'retry-after': '1' });
  res.end(`<!doctype html><html><head><meta charset="utf-8"><title>${title}</title></head><body><h1>${title}</h1><p>${body}</p></body></html>\n`);
}

export async function startFrontRouter(options: FrontRouterOptions): Promise<RunningFrontRouter> {
  const every = options.checkEveryMs ?? 500;
  const timeout = options.checkTimeoutMs ?? 1000;
  const failAfter = options.failAfter ?? 2;
  const log = options.log ?? (() => undefined);
  const warned = new Set<string>();
  const warnOnce = (line: string): void => {
    if (warned.has(line)) return;
    warned.add(line);
    log(line);
  };
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  const hosts = new Map<string, HostHealth>();
  let rounds: Array<() => void> = [];
  let cursor = 0;

  const markDown = (h: HostHealth, reason: string): void => {
    if (h.healthy) log(`host ${h.host} (${h.router}) is out: ${reason}`);
    h.healthy = false;
    h.reason = reason;
  };

  const check = (h: HostHealth): Promise<void> =>
    new Promise<void>((resolve) => {
      const url = new URL(HEALTH_PATH, h.router);
      const req = http.get({ hostname: url.hostname, port: url.port, path: url.pathname, headers: { host: HEALTH_HOST }, agent: false, timeout }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => {
          let parsed: z.infer<typeof healthSchema> | undefined;
          try {
            const r = healthSchema.safeParse(JSON.parse(body));
            parsed = r.success ? r.data : undefined;
          } catch {
            parsed = undefined;
          }
          if (res.statusCode !== 200 || !parsed) markDown(h, `health check answered ${res.statusCode ?? '?'}${parsed ? '' : ' without its report'}`);
          else {
            if (!h.healthy) log(`host ${h.host} (${h.router}) is in: serves ${parsed.environments.map((e) => key(e.project, e.environment)).join(', ') || 'nothing'}`);
            h.serving = new Map(parsed.environments.map((e) => [key(e.project, e.environment), e.maintenance]));
            h.healthy = true;
            h.reason = undefined;
            h.slowChecks = 0;
          }
          h.checkedAt = Date.now();
          resolve();
        });
        res.on('error', () => resolve());
      });
      let slow = false;
      req.on('timeout', () => {
        slow = true;
        req.destroy(new Error(`no answer in ${timeout} ms`));
      });
      req.on('error', (err) => {
        h.slowChecks = slow ? h.slowChecks + 1 : 0;
        if (!slow || h.slowChecks >= failAfter) markDown(h, `health check failed: ${err.message}${slow ? ` (${h.slowChecks} checks in a row)` : ''}`);
        else log(`host ${h.host} (${h.router}) is slow: its health check had no answer in ${timeout} ms (${h.slowChecks} of ${failAfter} in a row take it out)`);
        h.checkedAt = Date.now();
        resolve();
      });
    });

  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const runRound = async (): Promise<void> => {
    const ads = readRegistry(options.registry, warnOnce);
    for (const ad of ads) {
      const known = hosts.get(ad.host);
      if (!known || known.router !== ad.router) {
        hosts.set(ad.host, { host: ad.host, router: ad.router, healthy: false, serving: new Map(), checkedAt: 0, reason: 'not checked yet', slowChecks: 0 });
      }
    }
    for (const name of [...hosts.keys()]) if (!ads.some((a) => a.host === name)) hosts.delete(name);
    await Promise.all([...hosts.values()].map(check));
    const waiting = rounds;
    rounds = [];
    for (const w of waiting) w();
  };
  /** The round in progress, and the one a request asked for, to begin when it ends. */
  let current: Promise<void> | undefined;
  let asked: Promise<void> | undefined;
  /** When the last round ended: rounds asked for by requests start no sooner than FRESH_GAP_MS after it. */
  let lastEnded = 0;
  const startRound = (): Promise<void> => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (stopped) return Promise.resolve();
    // One round at a time: it is also the one a caller asked for.
    if (current) return current;
    current = runRound().finally(() => {
      current = undefined;
      lastEnded = Date.now();
      if (!stopped && !asked) timer = setTimeout(() => void startRound(), every);
    });
    return current;
  };
  /**
   * A complete round begun after this call, shared by the requests that wait at the same time.
   * At most one round runs and one waits, FRESH_GAP_MS apart: requests for names no host serves
   * (a flood of made-up ones) make the hosts' checks at most 1000 / FRESH_GAP_MS a second.
   */
  const freshRound = (): Promise<void> => {
    if (asked) return asked;
    asked = (async (): Promise<void> => {
      // The round in progress began before the call: it does not count.
      if (current) await current;
      const gap = lastEnded + FRESH_GAP_MS - Date.now();
      if (gap > 0) await new Promise((r) => setTimeout(r, gap));
      asked = undefined;
      // One the schedule began meanwhile began after the call: startRound returns it.
      return startRound();
    })();
    return asked;
  };

  /** Healthy hosts serving the environment, those in maintenance last, rotated for round robin. */
  const candidates = (k: string): HostHealth[] => {
    const serving = [...hosts.values()].filter((h) => h.healthy && h.serving.has(k));
    if (serving.length === 0) return [];
    const start = cursor++ % serving.length;
    const rotated = [...serving.slice(start), ...serving.slice(0, start)];
    return [...rotated.filter((h) => h.serving.get(k) === false), ...rotated.filter((h) => h.serving.get(k) === true)];
  };

  const forward = (req: http.IncomingMessage, res: http.ServerResponse, k: string, tried: Set<string>, staleRetried = false, rechecked = false): void => {
    const target = candidates(k).find((h) => !tried.has(h.host));
    if (!target && tried.size === 0 && !rechecked) {
      const again = (): void => forward(req, res, k, tried, staleRetried, true);
      void freshRound().then(again, again);
      return;
    }
    if (!target) {
      page(res, 502, 'No host available', `No healthy host serves ${k.replace(/[<>&"']/g, '')} now${tried.size > 0 ? ` (tried ${[...tried].join(', ')})` : ''}.`);
      return;
    }
    tried.add(target.host);
    const url = new URL(target.router);
    const headers: http.OutgoingHttpHeaders = { ...req.headers };
    for (const h of HOP_BY_HOP) delete headers[h];
    headers['x-forwarded-for'] = [req.headers['x-forwarded-for'], req.socket.remoteAddress].filter(Boolean).join(', ');
    const retriable = IDEMPOTENT.has(req.method ?? '');
    let answered = false;
    const upstream = http.request(
      { hostname: url.hostname, port: url.port, method: req.method, path: req.url, headers, agent },
      (answer) => {
        answered = true;
        const out: http.OutgoingHttpHeaders = { ...answer.headers, 'x-slipway-host': target.host };
        for (const h of HOP_BY_HOP) delete out[h];
        res.writeHead(answer.statusCode ?? 502, answer.statusMessage, out);
        answer.pipe(res);
        answer.on('error', () => res.destroy());
        answer.on('aborted', () => res.destroy());
      },
    );
    upstream.on('error', (err) => {
      if (answered) {
        res.destroy();
        return;
      }
      // A kept-alive connection the host had closed meanwhile says nothing of the host: once, a new one.
      if (upstream.reusedSocket && retriable && !staleRetried && !res.headersSent) {
        tried.delete(target.host);
        forward(req, res, k, tried, true);
        return;
      }
      markDown(target, `request failed: ${err.message}`);
      if (retriable && !res.headersSent) {
        forward(req, res, k, tried);
        return;
      }
      if (!res.headersSent) page(res, 502, 'Host failed', `Host ${target.host} failed before answering (${err.message}); the request was not repeated.`);
      else res.destroy();
    });
    res.on('close', () => {
      if (!res.writableFinished) upstream.destroy();
    });
    if (retriable) upstream.end();
    else req.pipe(upstream);
  };

  const server = http.createServer((req, res) => {
    const t = parseHost(req.headers.host);
    if (!t) {
      page(res, 404, 'Unknown host', 'Slipway serves environments at &lt;environment&gt;.&lt;project&gt;.localhost.');
      return;
    }
    // A GET or HEAD has no body to keep: it can be sent again. Others stream to one host.
    if (IDEMPOTENT.has(req.method ?? '')) req.resume();
    forward(req, res, key(t.project, t.environment), new Set());
  });
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  await startRound();
  const addr = server.address();
  return {
    port: typeof addr === 'object' && addr ? addr.port : options.port,
    hosts: () => [...hosts.values()].map((h) => ({ ...h, serving: new Map(h.serving) })),
    checked: () => new Promise<void>((resolve) => rounds.push(resolve)),
    close: async () => {
      stopped = true;
      if (timer) clearTimeout(timer);
      for (const w of rounds) w();
      agent.destroy();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
