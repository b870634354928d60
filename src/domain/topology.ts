/**
 * The production-like topology, described once: what `docker-compose.yml` runs and what the
 * production-like suite (test/cluster) starts on this machine without Docker. A unit test
 * (test/unit/docker-compose.test.ts) checks the compose file against it; the suite's harness
 * starts its processes from it.
 *
 *   postgresql ── temporal (frontend, history, matching, worker) ── temporal-ui
 *   setup (once: search attributes)
 *   worker (the engine: workflows, builds; host "local")  ┐
 *   api (HTTP API; publishes its address to the remotes)  ├ one data directory
 *   router (serves the engine host's environments)        ┘ (its slugs and logs shared with the web hosts)
 *   web1, web2 (deploy activities of their host, each its own data directory and router,
 *               advertised in the shared registry)
 *   front (the router in front of the web hosts: to a healthy host serving the environment)
 */

/** The ports a topology's processes listen on (compose: fixed; the suite: free ports). */
export interface TopologyPorts {
  api: number;
  router: number;
  /** Each web host's own router (health checks, warm-up, its environments' traffic). */
  webRouter: Record<string, number>;
  /** The front router (`router --front`), in front of the web hosts' routers. */
  front: number;
}

/** Where a Slipway process keeps its data. */
export type DataDirectory =
  /** The engine's data directory, shared by the engine worker, the API and the router. */
  | { kind: 'engine' }
  /** A web host's own data directory; it reads the engine's slug store (`--slugs`) and writes its half of each deployment's log into the engine's log store (`--logs`). */
  | { kind: 'own'; host: string }
  /** No data directory: the front router reads only the hosts' registry. */
  | { kind: 'none' };

/** Where a process finds what it shares with the others (see `args`). */
export interface TopologyPaths {
  listen: string;
  slugs: string;
  logs: string;
  /** The directory the web hosts advertise their routers in, for the front router. */
  registry: string;
  /** The engine's data directory as a web host sees it (read-only is enough): its project variables and their key. */
  engineData: string;
  apiUrl: string;
  /** A web host's router as the front router reaches it. */
  webRouterUrl(host: string, ports: TopologyPorts): string;
}

export interface SlipwayProcess {
  /** The compose service's name. */
  name: string;
  /** Runs once and exits (compose: `restart: "no"`, the others wait for it to complete). */
  oneShot?: boolean;
  data: DataDirectory;
  /** Needs the Temporal server (TEMPORAL_ADDRESS). */
  temporal: boolean;
  /**
   * The `slipway` arguments (after the global options). `listen` is the address servers bind
   * (compose: 0.0.0.0), `slugs` and `logs` the paths of the engine's slug and log stores as this process sees them,
   * `apiUrl` the API's address as the remotes' hooks reach it.
   */
  args(ports: TopologyPorts, at: TopologyPaths): string[];
}

export const WEB_HOSTS = ['web1', 'web2'] as const;
export const ENGINE_HOST = 'local';

/** Temporal and what it stands on; not Slipway processes. */
export const INFRASTRUCTURE = ['postgresql', 'temporal', 'temporal-ui'] as const;

/** The Temporal server's four services, each its own process in the suite. */
export const TEMPORAL_SERVICES = ['frontend', 'history', 'matching', 'worker'] as const;

export const SLIPWAY_PROCESSES: readonly SlipwayProcess[] = [
  { name: 'setup', oneShot: true, data: { kind: 'engine' }, temporal: true, args: () => ['setup'] },
  { name: 'worker', data: { kind: 'engine' }, temporal: true, args: () => ['worker', '--host', ENGINE_HOST] },
  {
    name: 'api',
    data: { kind: 'engine' },
    temporal: true,
    args: (p, at) => ['api', '--port', String(p.api), '--listen', at.listen, '--advertise', at.apiUrl],
  },
  { name: 'router', data: { kind: 'engine' }, temporal: false, args: (p, at) => ['router', '--port', String(p.router), '--listen', at.listen] },
  ...WEB_HOSTS.map(
    (host): SlipwayProcess => ({
      name: host,
      data: { kind: 'own', host },
      temporal: true,
      args: (p, at) => [
        'worker',
        '--host',
        host,
        '--no-engine',
        '--slugs',
        at.slugs,
        '--logs',
        at.logs,
        '--variables-from',
        at.engineData,
        '--router-port',
        String(p.webRouter[host]),
        '--registry',
        at.registry,
        '--advertise',
        at.webRouterUrl(host, p),
      ],
    }),
  ),
  { name: 'front', data: { kind: 'none' }, temporal: false, args: (p, at) => ['router', '--front', '--registry', at.registry, '--port', String(p.front), '--listen', at.listen] },
];

/** The ports of docker-compose.yml (inside the containers; published as the same numbers). */
export const COMPOSE_PORTS: TopologyPorts = { api: 8081, router: 8080, webRouter: Object.fromEntries(WEB_HOSTS.map((h) => [h, 8080])), front: 8090 };

/** docker-compose.yml's paths: the engine's data volume, the shared slug and log stores, the API's address for hooks. */
export const COMPOSE_PATHS = {
  listen: '0.0.0.0',
  slugs: '/slugs',
  logs: '/logs',
  registry: '/registry',
  engineData: '/engine',
  apiUrl: 'http://api:8081',
  data: '/data',
  webRouterUrl: (host: string, ports: TopologyPorts) => `http://${host}:${ports.webRouter[host]}`,
} as const;
