/**
 * Environments that run (issue 16): the sample store with its services (MariaDB, Redis), its
 * nginx and PHP-FPM in the sandbox, measured against nginx alone.
 *
 * 1. Static file throughput: a 100 KB JavaScript asset of the storefront theme, published by
 *    the build's static content deploy, fetched by 16 concurrent keep-alive clients through the
 *    router's port (TCP, by host name: its nginx edge, which passes this release straight to
 *    the release's nginx) and straight from nginx's Unix socket, with the same client code,
 *    interleaved run by run; then, without a goal, through the Node router's socket behind the
 *    edge (the way of a release that needs the router's own checks).
 * 2. PHP page latency: sequential GETs of /products (a Redis cache hit) the same three ways,
 *    p50 of each run.
 * 3. Cold start: from an environment whose processes are all stopped (data kept) to nginx
 *    answering /products with 200 on its socket, the way activation starts it
 *    (provisionServices, then startApplicationFor). The first-ever start (MariaDB's data
 *    directory initialised) of a new branch's environment, from its deployment's log.
 * 4. Memory of the idle environment: PSS (shared pages split between their users) and RSS of
 *    every process in its cgroups, a few seconds after a cold start and a few requests.
 * 5. Push to live with one schema migration: git push returned → the deployment closed.
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { environmentHostname } from '../../src/domain/names';
import { Layout } from '../../src/home';
import { APP_PROCESSES, appCgroupName, runningRelease } from '../../src/runtime/application';
import { provisionServices, readWanted, startApplicationFor, stopEnvironment, writeWanted, type WantedRuntime } from '../../src/runtime/environment-runtime';
import type { EnvironmentRef } from '../../src/runtime/services';
import { serviceCgroupPrefix } from '../../src/runtime/services/environment';
import { SandboxCgroup } from '../../src/sandbox/cgroup';
import { sandboxServicePids } from '../../src/sandbox/sandbox';
import { sleep } from '../lib/exec';
import { deploymentTimeline } from '../lib/history';
import { cloneBranch, commit, createDeployedProject, deployedQuietly, nextDeployment, push, sampleVariant } from '../lib/projects';
import { figure } from '../lib/results';
import { median, percentile } from '../lib/stats';
import type { Scenario } from './scenario';

const now = (): number => Number(process.hrtime.bigint()) / 1e6;

/** The static asset: committed in the theme, published by the build to pub/static. */
const ASSET_SOURCE = 'app/design/frontend/Luma/storefront/web/js/bench-bundle.js';
const ASSET_URL = '/static/frontend/Luma/storefront/en_US/js/bench-bundle.js';
const ASSET_BYTES = 100 * 1024;
const CONCURRENCY = 16;
const STATIC_REQUESTS = Number(process.env.SLIPWAY_BENCH_RUNTIME_REQUESTS ?? 3000);
const LATENCY_REQUESTS = 200;
const IDLE_MS = 3000;

/** 100 KB of plausible minified JavaScript. */
function bundle(bytes: number): string {
  let s = '/* bench bundle: 100 KB of JavaScript */\n';
  for (let i = 0; s.length < bytes; i++) s += `define("bench/m${i}",["jquery","underscore"],function(a,b){"use strict";return{name:"m${i}",init:function(c){return b.extend({},c,{id:${i}})}}});\n`;
  return s.slice(0, bytes - 1) + '\n';
}

/** Where a client connects: the router's TCP port, or nginx's Unix socket. */
type Target = { port: number } | { socketPath: string };

interface Answer {
  status: number;
  bytes: number;
  headers: http.IncomingHttpHeaders;
}

function get(agent: http.Agent, target: Target, host: string, urlPath: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const where = 'port' in target ? { host: '127.0.0.1', port: target.port } : { socketPath: target.socketPath };
    const req = http.get({ ...where, path: urlPath, headers: { host }, agent }, (res) => {
      let bytes = 0;
      res.on('data', (c: Buffer) => (bytes += c.length));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, bytes, headers: res.headers }));
      res.on('error', reject);
    });
    req.setTimeout(15_000, () => req.destroy(new Error(`${urlPath}: timed out`)));
    req.on('error', reject);
  });
}

/**
 * `requests` GETs by `concurrency` clients, each on its own keep-alive connection (opened and
 * used once before the clock starts). Requests per second; every answer must be a 200 of
 * `expectBytes` bytes.
 */
async function throughput(target: Target, host: string, urlPath: string, concurrency: number, requests: number, expectBytes: number): Promise<number> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency, maxFreeSockets: concurrency });
  const check = (a: Answer): void => {
    if (a.status !== 200 || a.bytes !== expectBytes) throw new Error(`${urlPath}: ${a.status}, ${a.bytes} bytes (expected 200, ${expectBytes})`);
  };
  try {
    (await Promise.all(Array.from({ length: concurrency }, () => get(agent, target, host, urlPath)))).forEach(check);
    let left = requests;
    const client = async (): Promise<void> => {
      while (left > 0) {
        left--;
        check(await get(agent, target, host, urlPath));
      }
    };
    const t0 = now();
    await Promise.all(Array.from({ length: concurrency }, client));
    return (requests / (now() - t0)) * 1000;
  } finally {
    agent.destroy();
  }
}

/** `n` sequential GETs on one keep-alive connection: each one's latency (ms) and how many were cache hits. */
async function latencies(target: Target, host: string, urlPath: string, n: number): Promise<{ ms: number[]; hits: number }> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  try {
    await get(agent, target, host, urlPath);
    const ms: number[] = [];
    let hits = 0;
    for (let i = 0; i < n; i++) {
      const t0 = now();
      const a = await get(agent, target, host, urlPath);
      ms.push(now() - t0);
      if (a.status !== 200) throw new Error(`${urlPath}: ${a.status}`);
      if (a.headers['x-store-cache'] === 'hit') hits++;
    }
    return { ms, hits };
  } finally {
    agent.destroy();
  }
}

/** Both measurements of run `i`, the router's first in even runs and nginx's first in odd ones (neither always warms the other). */
async function alternately<T>(i: number, viaRouter: () => Promise<T>, direct: () => Promise<T>): Promise<[T, T]> {
  if (i % 2 === 0) {
    const a = await viaRouter();
    return [a, await direct()];
  }
  const b = await direct();
  return [await viaRouter(), b];
}

/** Every process of the environment: its services' cgroups and its application's. */
function environmentPids(ref: EnvironmentRef): number[] {
  const release = runningRelease(ref);
  const groups = [...SandboxCgroup.list(serviceCgroupPrefix(ref)), ...(release ? APP_PROCESSES.map((p) => appCgroupName(ref, p, release)) : [])];
  return [...new Set(groups.flatMap((g) => sandboxServicePids(g)))].sort((a, b) => a - b);
}

/** PSS and RSS (MB) summed over processes, from /proc/<pid>/smaps_rollup. */
function memoryOf(pids: number[]): { pssMb: number; rssMb: number; processes: number } {
  let pss = 0;
  let rss = 0;
  let processes = 0;
  for (const pid of pids) {
    let text: string;
    try {
      text = fs.readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
    } catch {
      continue; // ended meanwhile
    }
    const kb = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? 0);
    pss += kb('Pss');
    rss += kb('Rss');
    processes++;
  }
  return { pssMb: pss / 1024, rssMb: rss / 1024, processes };
}

/** Polls nginx's socket until /products answers 200; when it did. */
async function untilProducts(socketPath: string, host: string, timeoutMs: number): Promise<number> {
  const deadline = now() + timeoutMs;
  for (;;) {
    const agent = new http.Agent({ keepAlive: false });
    const a = await get(agent, { socketPath }, host, '/products').catch(() => undefined);
    agent.destroy();
    if (a?.status === 200) return now();
    if (now() > deadline) throw new Error(`/products did not answer 200 on ${socketPath} within ${timeoutMs} ms (last: ${a?.status ?? 'no answer'})`);
    await sleep(10);
  }
}

/** "<name> (<type>) started in N ms" of each service, and the application's "serving dNNN in N ms", from a deployment's log. */
function startTimesFromLog(log: string): { servicesMs: number; applicationMs: number } {
  const services = [...log.matchAll(/\[provision-services\] \S+ \([^)]+\) started in (\d+) ms/g)].map((m) => Number(m[1]));
  const app = /\[start-application\] .*(?:started|running) for \S+ in (\d+) ms/.exec(log);
  if (services.length === 0 || !app) throw new Error(`no start times in the deployment's log:\n${log.slice(-2000)}`);
  return { servicesMs: services.reduce((s, x) => s + x, 0), applicationMs: Number(app[1]) };
}

export const runtime: Scenario = {
  name: 'runtime',
  title: 'Environments that run: the sample store behind the router vs nginx alone, cold start, memory, push with a migration',
  async run({ stack, runs, warmup, log }) {
    const { client } = stack;
    const layout = new Layout(stack.layout.home);
    const project = 'bench-runtime';
    const env = 'integration';
    const host = environmentHostname(project, env);
    const ref: EnvironmentRef = { layout, project, environment: env };
    const from = sampleVariant({
      [ASSET_SOURCE]: bundle(ASSET_BYTES),
      'db/migrations/003-bench-pushes.sql': 'CREATE TABLE bench_pushes (n INT UNSIGNED PRIMARY KEY, pushed_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP);\n',
    }, { services: true });
    const { remote } = await createDeployedProject(client, project, from);
    const socketPath = layout.webSocket(project, env);
    if (!fs.existsSync(socketPath)) throw new Error(`${project}/${env}: nginx's socket ${socketPath} is missing after the deployment`);
    // What the figures "through the router" measure: the router's port, whose nginx edge passes
    // a release that needs none of the Node router's checks straight to the release's nginx. The
    // deployment says which way its requests go; a release that fell back to the Node router
    // would change what the figures mean, so the scenario stops instead.
    const staged = client.deploymentLog(project, env, 1);
    if (!staged.includes('requests go from the edge straight to nginx')) {
      throw new Error(`${project}/${env}: the edge does not pass this release straight to nginx:\n${staged.split('\n').filter((l) => l.includes('requests go')).join('\n')}`);
    }
    const router: Target = { port: stack.routerPort };
    const nginx: Target = { socketPath };
    // The Node router behind the edge, on its Unix socket: the way of a release that needs its
    // checks (static content made on request, a redirect on its own host, a committed link).
    const nodeRouter: Target = { socketPath: path.join(layout.home, 'run', `edge-${stack.routerPort}`, 'router.sock') };
    if (!fs.existsSync(nodeRouter.socketPath)) throw new Error(`the router's socket ${nodeRouter.socketPath} is missing: is the edge running?`);
    const label = (i: number): string => (i < warmup ? 'warm-up' : `run ${i - warmup + 1}/${runs}`);

    // 1. Static file throughput.
    const viaRouterRps: number[] = [];
    const nginxRps: number[] = [];
    const nodeRouterRps: number[] = [];
    for (let i = 0; i < warmup + runs; i++) {
      const [a, b] = await alternately(
        i,
        () => throughput(router, host, ASSET_URL, CONCURRENCY, STATIC_REQUESTS, ASSET_BYTES),
        () => throughput(nginx, host, ASSET_URL, CONCURRENCY, STATIC_REQUESTS, ASSET_BYTES),
      );
      const c = await throughput(nodeRouter, host, ASSET_URL, CONCURRENCY, STATIC_REQUESTS, ASSET_BYTES);
      log(`  runtime static ${label(i)}: ${a.toFixed(0)} req/s through the router's port, ${b.toFixed(0)} req/s from nginx's socket (×${(b / a).toFixed(2)}), ${c.toFixed(0)} req/s through the Node router (×${(b / c).toFixed(2)})`);
      if (i < warmup) continue;
      viaRouterRps.push(a);
      nginxRps.push(b);
      nodeRouterRps.push(c);
    }

    // 2. PHP page latency (cache hits).
    const routerP50: number[] = [];
    const nginxP50: number[] = [];
    const nodeRouterP50: number[] = [];
    let hits = 0;
    let pages = 0;
    await latencies(router, host, '/products', 20); // fills the cache, warms PHP's opcache
    for (let i = 0; i < warmup + runs; i++) {
      const [a, b] = await alternately(
        i,
        () => latencies(router, host, '/products', LATENCY_REQUESTS),
        () => latencies(nginx, host, '/products', LATENCY_REQUESTS),
      );
      const c = await latencies(nodeRouter, host, '/products', LATENCY_REQUESTS);
      log(`  runtime /products ${label(i)}: p50 ${percentile(a.ms, 50).toFixed(2)} ms through the router's port, ${percentile(b.ms, 50).toFixed(2)} ms from nginx's socket, ${percentile(c.ms, 50).toFixed(2)} ms through the Node router`);
      if (i < warmup) continue;
      routerP50.push(percentile(a.ms, 50));
      nginxP50.push(percentile(b.ms, 50));
      nodeRouterP50.push(percentile(c.ms, 50));
      hits += a.hits + b.hits + c.hits;
      pages += a.ms.length + b.ms.length + c.ms.length;
    }

    // 3 and 4. Cold start, then the idle environment's memory.
    const wanted = readWanted(ref);
    if (!wanted?.release) throw new Error(`${project}/${env}: no wanted state with a release after its deployment`);
    const running: WantedRuntime & { release: string } = { ...wanted, release: wanted.release, state: 'running' };
    const flag = layout.maintenanceFlag(project, env);
    const coldMs: number[] = [];
    const servicesMs: number[] = [];
    const appMs: number[] = [];
    const pssMb: number[] = [];
    const rssMb: number[] = [];
    let processes = 0;
    for (let i = 0; i < warmup + runs; i++) {
      // The host's supervisor leaves an environment in maintenance alone (as during a deployment).
      fs.writeFileSync(flag, JSON.stringify({ bench: 'runtime', since: Date.now() }));
      try {
        await sleep(300);
        await stopEnvironment(ref);
        if (environmentPids(ref).length > 0) throw new Error(`${project}/${env}: processes left after stopEnvironment: ${environmentPids(ref).join(' ')}`);
        await sleep(500);
        const t0 = now();
        const p = await provisionServices(ref, running.manifest, () => undefined);
        if (p.warnings.length > 0) throw new Error(p.warnings.join('; '));
        const t1 = now();
        await startApplicationFor(ref, running);
        const t2 = now();
        const t3 = await untilProducts(socketPath, host, 30_000);
        writeWanted(ref, { ...running, since: new Date().toISOString() });
        log(`  runtime cold start ${label(i)}: ${(t3 - t0).toFixed(0)} ms (services ${(t1 - t0).toFixed(0)}, nginx and PHP-FPM ${(t2 - t1).toFixed(0)}, first /products 200 after ${(t3 - t2).toFixed(0)})`);
        if (i >= warmup) {
          coldMs.push(t3 - t0);
          servicesMs.push(t1 - t0);
          appMs.push(t2 - t1);
        }
      } finally {
        fs.rmSync(flag, { force: true });
      }
      // A few pages and the asset through the router, then idle.
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      for (let k = 0; k < 10; k++) {
        await get(agent, router, host, '/products');
        await get(agent, router, host, ASSET_URL);
      }
      agent.destroy();
      await sleep(IDLE_MS);
      const m = memoryOf(environmentPids(ref));
      log(`  runtime memory ${label(i)}: PSS ${m.pssMb.toFixed(1)} MB, RSS ${m.rssMb.toFixed(1)} MB over ${m.processes} processes`);
      if (i < warmup) continue;
      pssMb.push(m.pssMb);
      rssMb.push(m.rssMb);
      processes = m.processes;
    }

    // 5. Push to live with one migration.
    const repo = await cloneBranch(remote, env);
    const pushMs: number[] = [];
    for (let i = 0; i < warmup + runs; i++) {
      const number = String(10 + i).padStart(3, '0');
      const file = `db/migrations/${number}-bench-push.sql`;
      const c = await commit(repo, { [file]: `INSERT INTO bench_pushes (n) VALUES (${10 + i});\n` });
      const n = await nextDeployment(client, project, env);
      const p = await push(repo);
      await deployedQuietly(client, project, env, n, c);
      const t = await deploymentTimeline(client.temporal, project, env, n);
      if (!client.deploymentLog(project, env, n).includes(`applied ${file}`)) throw new Error(`${project}/${env} #${n}: ${file} not applied`);
      const ms = t.closedMs - p.returnedMs;
      log(`  runtime push with a migration ${label(i)}: ${ms.toFixed(0)} ms (push itself ${(p.returnedMs - p.startedMs).toFixed(0)} ms)`);
      if (i >= warmup) pushMs.push(ms);
    }

    // 3'. First-ever start: a new branch's environment (its services initialised), from its deployment's log.
    const firstServicesMs: number[] = [];
    const firstAppMs: number[] = [];
    for (let i = 0; i < runs; i++) {
      const name = `fresh-${i + 1}`;
      await client.branch(project, { name, parent: env });
      const d = await client.waitForDeployment(project, name, { timeoutMs: 600_000 });
      if (d.status !== 'succeeded') throw new Error(`${project}/${name}: its first deployment failed: ${d.error ?? ''}`);
      const s = startTimesFromLog(client.deploymentLog(project, name, d.deployment));
      log(`  runtime first-ever start run ${i + 1}/${runs}: services ${s.servicesMs} ms, nginx and PHP-FPM ${s.applicationMs} ms`);
      firstServicesMs.push(s.servicesMs);
      firstAppMs.push(s.applicationMs);
      await client.deleteEnvironment(project, name);
    }

    const sc = 'runtime';
    const slowdown = median(nginxRps) / median(viaRouterRps);
    return {
      figures: [
        figure(sc, {
          id: 'static-rps',
          label: `100 KB static file, ${CONCURRENCY} keep-alive clients: requests/s through the router's port (its nginx edge, straight to the release's nginx; ratio: its share of nginx's rate)`,
          unit: 'req/s',
          samples: viaRouterRps,
          baseline: { label: "the same client straight at nginx's Unix socket", samples: nginxRps },
        }),
        figure(sc, {
          id: 'static-slowdown',
          label: "static file throughput: nginx alone ÷ through the router's port (rate of nginx's socket over the router's)",
          unit: '×',
          stat: 'ratio of medians',
          samples: nginxRps.map((b, i) => b / viaRouterRps[i]!),
          value: slowdown,
          goal: { max: 1.3, on: 'value' },
        }),
        figure(sc, {
          id: 'php-p50',
          label: "PHP page /products (Redis cache hit), sequential: p50 through the router's port",
          unit: 'ms',
          stat: "median of the runs' p50s",
          samples: routerP50,
          baseline: { label: "p50 straight at nginx's Unix socket", samples: nginxP50 },
          goal: { max: 1.3, on: 'ratio' },
        }),
        figure(sc, {
          id: 'static-rps-node-router',
          label: `the same static file through the Node router's socket behind the edge (a release that needs its checks; ratio: its share of nginx's rate)`,
          unit: 'req/s',
          samples: nodeRouterRps,
          baseline: { label: "the same client straight at nginx's Unix socket", samples: nginxRps },
        }),
        figure(sc, {
          id: 'php-p50-node-router',
          label: "PHP page /products: p50 through the Node router's socket behind the edge",
          unit: 'ms',
          stat: "median of the runs' p50s",
          samples: nodeRouterP50,
          baseline: { label: "p50 straight at nginx's Unix socket", samples: nginxP50 },
        }),
        figure(sc, {
          id: 'cold-start',
          label: 'cold start (processes stopped, data kept) → /products 200 from nginx',
          unit: 'ms',
          samples: coldMs,
          goal: { max: 5000, on: 'value' },
        }),
        figure(sc, { id: 'cold-services', label: 'cold start: services (MariaDB, Redis) started', unit: 'ms', samples: servicesMs }),
        figure(sc, { id: 'cold-application', label: 'cold start: nginx and PHP-FPM started', unit: 'ms', samples: appMs }),
        figure(sc, {
          id: 'first-start-services',
          label: "first-ever start, a new branch's environment: services started (MariaDB initialised), from its deployment's log",
          unit: 'ms',
          samples: firstServicesMs,
        }),
        figure(sc, { id: 'first-start-application', label: 'first-ever start: nginx and PHP-FPM started, from its log', unit: 'ms', samples: firstAppMs }),
        figure(sc, {
          id: 'idle-pss',
          label: `idle environment's memory: PSS over its ${processes} processes (services and application)`,
          unit: 'MB',
          samples: pssMb,
          goal: { max: 150, on: 'value' },
        }),
        figure(sc, {
          id: 'idle-rss',
          label: "idle environment's memory: RSS over the same processes (shared pages counted in each)",
          unit: 'MB',
          samples: rssMb,
          goal: { max: 150, on: 'value' },
        }),
        figure(sc, {
          id: 'push-migration',
          label: 'push to live with one schema migration: git push returned → deployment done',
          unit: 'ms',
          samples: pushMs,
          goal: { max: 2000, on: 'value' },
        }),
      ],
      notes: [
        `The sample store with its services (MariaDB, Redis) and a 100 KB JavaScript file committed in its theme (${ASSET_SOURCE}), published by the build's static content deploy and fetched as ${ASSET_URL}. Throughput: ${STATIC_REQUESTS} GETs per side and run (SLIPWAY_BENCH_RUNTIME_REQUESTS to change) by ${CONCURRENCY} clients of one Node process with a keep-alive agent, connections opened before the clock starts; through the router's port over TCP with Host ${host} (its nginx edge; the deployment's log must say this release's requests go from the edge straight to nginx, or the scenario stops), and straight to nginx's socket (${path.relative(layout.home, socketPath)} under the data directory) with the same code, alternating which goes first. The goal is on the slowdown, nginx's rate over the router's (≤ 1.3). The Node router's figures (no goal) are the way of a release the edge cannot pass straight to nginx: the same client at the Node router's Unix socket behind the edge, measured after each pair.`,
        `/products: ${LATENCY_REQUESTS} sequential GETs per way and run on one keep-alive connection after 20 to warm up; ${hits} of ${pages} measured answers were Redis cache hits. The figure is the median over runs of each run's p50.`,
        'Cold start: the environment put in maintenance (the host supervisor leaves it alone), stopEnvironment (every process stopped, data kept), then provisionServices and startApplicationFor with its wanted state, as activation starts it, timed until nginx answers /products with 200 on its socket. First-ever start: a branch of integration per run, its first deployment\'s "started in" times of its services (MariaDB initialising its data directory) and of nginx and PHP-FPM, summed per kind; the branch is deleted after; no goal.',
        `Memory: ${IDLE_MS / 1000} s after the cold start and 10 requests each of /products and the asset, the sum of PSS from /proc/<pid>/smaps_rollup (shared pages split between the processes that map them) and of RSS over every process in the environment's cgroups (svc-* and app-*, the sandboxes' own processes included).`,
        'Push with a migration: each run commits a new db/migrations/<NNN>-bench-push.sql (one INSERT into a table made by migration 003) and is timed from `git push` returning to the deployment workflow closing (server event time); the deploy hook must log it applied. No baseline besides the absolute goal (push-to-live has none either).',
      ],
    };
  },
};
