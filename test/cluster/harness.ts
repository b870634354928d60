/**
 * The production-like suite's harness (mocha global fixtures, .mocharc.cluster.json): one
 * cluster per run, started from the topology that docker-compose.yml also describes
 * (src/domain/topology.ts):
 *   - PostgreSQL and the Temporal server's four services as separate processes
 *     (src/temporal/cluster.ts; the server is built once into .tools with `go install`);
 *   - `slipway setup` once, then Slipway's engine worker, API and router as separate `slipway`
 *     processes sharing the engine's data directory;
 *   - the web hosts (`slipway worker --host webN --no-engine`), each with its own data
 *     directory and router, reading the engine's slug store and writing into its log store,
 *     their routers advertised in a registry that the front router (`router --front`) reads.
 * Test files read what runs through `clusterWorld()`. Everything is stopped at the end, the
 * environments' processes included (stopAllRuntimes).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { strict as assert } from 'node:assert';
import { Layout } from '../../src/home';
import { stopAllRuntimes } from '../../src/runtime/environment-runtime';
import { freePort } from '../../src/temporal/dev-server';
import { startCluster, type RunningCluster } from '../../src/temporal/cluster';
import { SLIPWAY_PROCESSES, WEB_HOSTS, type SlipwayProcess, type TopologyPaths, type TopologyPorts } from '../../src/domain/topology';
import type { ProjectInfo } from '../../src/domain/project';
import { spawnSlipway, type Spawned } from '../harness/processes';

export interface ClusterWorld {
  /** The Temporal frontend's address. */
  address: string;
  engineHome: string;
  apiUrl: string;
  /** The `slipway router` process's port (the engine host's environments). */
  routerPort: number;
  /** The front router's port (`slipway router --front`, in front of the web hosts). */
  frontPort: number;
  /** Each web host's data directory and router port. */
  webHomes: Record<string, string>;
  webRouterPorts: Record<string, number>;
  /** How long starting the cluster took, building the server included (a first run only). */
  clusterStartMs: number;
  serverBuildMs: number;
}

const ENV_KEY = 'SLIPWAY_CLUSTER_WORLD';

export function clusterWorld(): ClusterWorld {
  const raw = process.env[ENV_KEY];
  if (!raw) throw new Error('the production-like harness (test/cluster/harness) did not run: use npm run test:cluster');
  return JSON.parse(raw) as ClusterWorld;
}

/** The topology's one-shot `setup` (`slipway setup`: the namespace checked, the search attributes registered). */
async function runSetup(setup: SlipwayProcess, engineHome: string, env: NodeJS.ProcessEnv, at: TopologyPaths, ports: TopologyPorts): Promise<void> {
  const spawned = spawnSlipway(['--home', engineHome, ...setup.args(ports, at)], env);
  processes.push(spawned);
  await spawned.waitFor(/Setup done\./, 120_000);
  const { code } = await spawned.exited;
  if (code !== 0) throw new Error(`slipway setup exited with ${String(code)}: ${spawned.output()}`);
}

/**
 * The URL a developer clones and pushes to: the API's Git smart-HTTP endpoint, the user's API
 * token as the password (what `project create` prints as the HTTP remote).
 */
export function remoteUrl(project: ProjectInfo, world: ClusterWorld, user: string, token: string): string {
  assert.ok(project.httpRemote, `${project.project}: the API gives its HTTP remote`);
  const url = new URL(project.httpRemote);
  assert.equal(url.origin, new URL(world.apiUrl).origin, 'the HTTP remote is on the API');
  url.username = user;
  url.password = token;
  return url.toString();
}

let cluster: RunningCluster | undefined;
const processes: Spawned[] = [];
const dirs: string[] = [];
const homes: string[] = [];

function killAll(): Promise<unknown> {
  return Promise.all(
    processes.map(async (p) => {
      if (p.child.exitCode !== null || p.child.signalCode !== null) return;
      p.child.kill('SIGTERM');
      const timer = setTimeout(() => p.child.kill('SIGKILL'), 20_000);
      await p.exited;
      clearTimeout(timer);
    }),
  );
}

export async function mochaGlobalSetup(): Promise<void> {
  try {
    await setUp();
  } catch (err) {
    // Mocha runs no teardown after a failed setup: nothing may be left running.
    await mochaGlobalTeardown();
    throw err;
  }
}

async function setUp(): Promise<void> {
  const t0 = Date.now();
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'slipway-cluster-'));
  dirs.push(root);
  // Searchable by others, as the main harness's data directory in /tmp is: PostgreSQL's user
  // and the sandboxes' users reach their directories through it.
  fs.chmodSync(root, 0o711);
  cluster = await startCluster({
    dir: path.join(root, 'temporal-cluster'),
    progress: (m) => console.log(m),
    // Search attributes added at start-up are read at once rather than after the services'
    // cache refresh (a minute): the suite starts workflows right after registering them.
    dynamicConfig: { 'system.forceSearchAttributesCacheRefreshOnRead': true },
  });
  const address = cluster.address;
  const engineHome = path.join(root, 'engine');
  fs.mkdirSync(engineHome);
  homes.push(engineHome);
  const engine = new Layout(engineHome);
  const ports: TopologyPorts = { api: await freePort(), router: await freePort(), webRouter: {}, front: await freePort() };
  const frontHome = path.join(root, 'front');
  fs.mkdirSync(frontHome);
  const webHomes: Record<string, string> = {};
  for (const host of WEB_HOSTS) {
    ports.webRouter[host] = await freePort();
    webHomes[host] = path.join(root, host);
    fs.mkdirSync(webHomes[host]);
    homes.push(webHomes[host]);
  }
  const apiUrl = `http://127.0.0.1:${ports.api}`;
  const env = { ...process.env, TEMPORAL_ADDRESS: address };
  const ready: Record<string, RegExp> = {
    worker: /Worker for host local and the engine is running/,
    api: /API on http/,
    router: /Router on :\d+/,
    // The web hosts start before it: it finds both advertised at once.
    front: new RegExp(`Front router on :\\d+ for ${WEB_HOSTS.length} host\\(s\\)`),
    ...Object.fromEntries(WEB_HOSTS.map((h) => [h, new RegExp(`Worker for host ${h} is running`)])),
  };
  const at: TopologyPaths = {
    listen: '127.0.0.1',
    slugs: engine.slugs(),
    logs: engine.logs(),
    registry: path.join(root, 'registry'),
    engineData: engineHome,
    apiUrl,
    webRouterUrl: (host, p) => `http://127.0.0.1:${p.webRouter[host]}`,
  };
  for (const proc of SLIPWAY_PROCESSES) {
    if (proc.oneShot) {
      await runSetup(proc, engineHome, env, at, ports);
      continue;
    }
    const home = proc.data.kind === 'engine' ? engineHome : proc.data.kind === 'own' ? webHomes[proc.data.host]! : frontHome;
    const args = proc.args(ports, at);
    const spawned = spawnSlipway(['--home', home, ...args], env);
    processes.push(spawned);
    const pattern = ready[proc.name];
    if (!pattern) throw new Error(`the harness does not know when ${proc.name} is ready`);
    await spawned.waitFor(pattern, 120_000);
  }
  const world: ClusterWorld = {
    address,
    engineHome,
    apiUrl,
    routerPort: ports.router,
    frontPort: ports.front,
    webHomes,
    webRouterPorts: ports.webRouter,
    clusterStartMs: cluster.startMs,
    serverBuildMs: cluster.buildMs,
  };
  process.env[ENV_KEY] = JSON.stringify(world);
  console.log(
    `Cluster harness: Temporal ${address} (${cluster.source}; four services on PostgreSQL :${cluster.postgresPort}, started in ${cluster.startMs} ms, ` +
      `of which building/locating the server ${cluster.buildMs} ms); Slipway processes: ${SLIPWAY_PROCESSES.map((p) => p.name).join(', ')}; ready in ${Date.now() - t0} ms`,
  );
}

export async function mochaGlobalTeardown(): Promise<void> {
  await killAll();
  // The environments' processes outlive workers by design: stopped with each data directory.
  for (const home of homes) await stopAllRuntimes(new Layout(home));
  await cluster?.stop();
  if (!process.env.SLIPWAY_TEST_KEEP) for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
}
