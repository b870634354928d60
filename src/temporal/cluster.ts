/**
 * A Temporal cluster on this machine without Docker, as the production-like suite and the
 * benchmark run it: PostgreSQL from Debian (`initdb` + `pg_ctl` on a private port) and the
 * Temporal server's four services (frontend, history, matching, worker) as separate processes
 * on it, with the `default` namespace registered. Everything lives in one directory; `stop()`
 * ends every process it started.
 */
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { Connection } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time';
import { ensureHostProgram, type HostProgram } from '../host-packages';
import { SlipwayError } from '../errors';
import { TEMPORAL_SERVICES } from '../domain/topology';
import { freePort } from './dev-server';
import { findOnPath } from './locate';
import { locateTemporalServer, type ServerLocateOptions, type TemporalServerTools } from './server-build';

/** Debian's PostgreSQL binaries live off PATH, under /usr/lib/postgresql/<major>/bin. */
function locatePostgresProgram(name: string): string | undefined {
  const onPath = findOnPath(name, process.env.PATH);
  if (onPath) return onPath;
  const base = '/usr/lib/postgresql';
  const majors = fs.existsSync(base) ? fs.readdirSync(base).filter((d) => /^\d+$/.test(d)).sort((a, b) => Number(b) - Number(a)) : [];
  for (const major of majors) {
    const candidate = path.join(base, major, 'bin', name);
    if (fs.existsSync(candidate)) return candidate;
  }
  return undefined;
}

const postgresProgram = (program: string): HostProgram => ({
  program,
  debianPackage: 'postgresql',
  purpose: "to run the PostgreSQL database of the production-like setup's Temporal server",
  locate: () => locatePostgresProgram(program),
});

export interface ClusterOptions {
  /** Directory for PostgreSQL's data, the server's configuration and the logs; its parents must be searchable by others when running as root (PostgreSQL runs as its own user). */
  dir: string;
  progress?: (message: string) => void;
  locate?: ServerLocateOptions;
  /** Dynamic configuration values for the four services. */
  dynamicConfig?: Record<string, unknown>;
}

export interface RunningCluster {
  /** The frontend's gRPC address. */
  address: string;
  namespace: string;
  postgresPort: number;
  /** How long the start took, and what part of it building the server was. */
  startMs: number;
  buildMs: number;
  source: string;
  /** One process per Temporal service. */
  services: Record<string, ChildProcess>;
  stop(): Promise<void>;
}

/** PostgreSQL refuses to run as root: as root, it runs as Debian's `postgres` user (or nobody). */
function unprivilegedUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  for (const name of ['postgres', 'nobody']) {
    const r = spawnSync('id', ['-u', name], { encoding: 'utf8' });
    const g = spawnSync('id', ['-g', name], { encoding: 'utf8' });
    if (r.status === 0 && g.status === 0) return { uid: Number(r.stdout.trim()), gid: Number(g.stdout.trim()) };
  }
  throw new SlipwayError('PostgreSQL refuses to run as root, and there is neither a postgres nor a nobody user to run it as');
}

function runChecked(program: string, args: string[], what: string, opts: { uid?: number; gid?: number; env?: NodeJS.ProcessEnv } = {}): string {
  const r = spawnSync(program, args, { encoding: 'utf8', timeout: 120_000, uid: opts.uid, gid: opts.gid, env: opts.env ?? process.env });
  if (r.status !== 0) {
    const out = `${r.stdout ?? ''}${r.stderr ?? ''}`.trim().split('\n').slice(-5).join('\n');
    throw new SlipwayError(`${what} failed (${r.error?.message ?? `exit ${r.status}`}):\n${out}`);
  }
  return r.stdout;
}

async function startPostgres(dir: string, progress: (m: string) => void): Promise<{ port: number; stop: () => void }> {
  const initdb = await ensureHostProgram(postgresProgram('initdb'), progress);
  const pgCtl = await ensureHostProgram(postgresProgram('pg_ctl'), progress);
  const user = unprivilegedUser();
  const data = path.join(dir, 'postgresql');
  const sockets = path.join(dir, 'postgresql-sockets');
  fs.mkdirSync(data, { recursive: true, mode: 0o700 });
  fs.mkdirSync(sockets, { recursive: true });
  // Its user reaches the directory through ours.
  fs.chmodSync(dir, 0o711);
  if (user) for (const d of [data, sockets]) fs.chownSync(d, user.uid, user.gid);
  const as = user ? { uid: user.uid, gid: user.gid } : {};
  const env = { ...process.env, LC_ALL: 'C.UTF-8', LANG: 'C.UTF-8' };
  runChecked(initdb, ['-D', data, '-U', 'temporal', '--auth=trust', '--encoding=UTF8', '--no-sync'], 'initdb', { ...as, env });
  const port = await freePort();
  const log = path.join(sockets, 'postgresql.log');
  runChecked(
    pgCtl,
    ['-D', data, '-l', log, '-w', '-t', '60', '-o', `-p ${port} -k ${sockets} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200`, 'start'],
    'pg_ctl start',
    { ...as, env },
  );
  return {
    port,
    stop: () => {
      spawnSync(pgCtl, ['-D', data, '-m', 'fast', '-w', 'stop'], { uid: as.uid, gid: as.gid, timeout: 60_000 });
    },
  };
}

function setupSchema(tools: TemporalServerTools, pgPort: number): void {
  for (const [db, versioned] of [
    ['temporal', 'temporal'],
    ['temporal_visibility', 'visibility'],
  ] as const) {
    const common = ['--plugin', 'postgres12', '--ep', '127.0.0.1', '-p', String(pgPort), '-u', 'temporal', '--pw', 'temporal', '--db', db];
    runChecked(tools.sqlTool, [...common, 'create-database'], `creating the database ${db}`);
    runChecked(tools.sqlTool, [...common, 'setup-schema', '-v', '0.0'], `setting up the schema of ${db}`);
    runChecked(tools.sqlTool, [...common, 'update-schema', '-d', path.join(tools.postgresSchema, versioned, 'versioned')], `updating the schema of ${db}`);
  }
}

interface ServicePorts {
  grpc: number;
  membership: number;
  http?: number;
}

/** A free port that ringpop accepts: membership ports must be ≤ 32767. */
async function lowFreePort(): Promise<number> {
  for (let i = 0; i < 200; i++) {
    const candidate = 20000 + Math.floor(Math.random() * 12000);
    const ok = await new Promise<boolean>((resolve) => {
      const srv = net.createServer();
      srv.once('error', () => resolve(false));
      srv.listen(candidate, '127.0.0.1', () => srv.close(() => resolve(true)));
    });
    if (ok) return candidate;
  }
  throw new SlipwayError('no free port below 32768 for the Temporal services\' membership');
}

function yamlValue(v: unknown): string {
  return JSON.stringify(v);
}

/** The server's configuration (1.25 format): PostgreSQL for both stores, one cluster, four services. */
export function serverConfig(pgPort: number, ports: Record<string, ServicePorts>, dynamicConfigFile: string): string {
  const store = (db: string, conns: number): string[] => [
    `      sql:`,
    `        pluginName: postgres12`,
    `        databaseName: ${db}`,
    `        connectAddr: "127.0.0.1:${pgPort}"`,
    `        connectProtocol: tcp`,
    `        user: temporal`,
    `        password: temporal`,
    `        maxConns: ${conns}`,
    `        maxIdleConns: ${conns}`,
    `        maxConnLifetime: 1h`,
  ];
  const frontend = ports.frontend!;
  return [
    '# Generated by Slipway (src/temporal/cluster.ts) for the production-like suite.',
    'log:',
    '  stdout: true',
    '  level: warn',
    'persistence:',
    '  defaultStore: postgres-default',
    '  visibilityStore: postgres-visibility',
    '  numHistoryShards: 4',
    '  datastores:',
    '    postgres-default:',
    ...store('temporal', 20),
    '    postgres-visibility:',
    ...store('temporal_visibility', 10),
    'global:',
    '  membership:',
    '    maxJoinDuration: 30s',
    '    broadcastAddress: "127.0.0.1"',
    'services:',
    ...TEMPORAL_SERVICES.flatMap((name) => {
      const p = ports[name]!;
      return [
        `  ${name}:`,
        '    rpc:',
        `      grpcPort: ${p.grpc}`,
        `      membershipPort: ${p.membership}`,
        '      bindOnLocalHost: true',
        ...(p.http ? [`      httpPort: ${p.http}`] : []),
      ];
    }),
    'clusterMetadata:',
    '  enableGlobalNamespace: false',
    '  failoverVersionIncrement: 10',
    '  masterClusterName: active',
    '  currentClusterName: active',
    '  clusterInformation:',
    '    active:',
    '      enabled: true',
    '      initialFailoverVersion: 1',
    '      rpcName: frontend',
    `      rpcAddress: "127.0.0.1:${frontend.grpc}"`,
    'dcRedirectionPolicy:',
    '  policy: noop',
    'dynamicConfigClient:',
    `  filepath: ${yamlValue(dynamicConfigFile)}`,
    '  pollInterval: 10s',
    '',
  ].join('\n');
}

function dynamicConfigYaml(values: Record<string, unknown>): string {
  return `${Object.entries(values)
    .map(([k, v]) => `${k}:\n  - value: ${JSON.stringify(v)}\n    constraints: {}`)
    .join('\n')}\n`;
}

/**
 * Tries `attempt` on a fresh connection to the frontend every 500 ms until it succeeds, a
 * service process has exited (`failedServices` says which), or the deadline passes.
 */
async function untilFrontend(
  address: string,
  deadline: number,
  failedServices: () => string | undefined,
  attempt: (conn: Connection) => Promise<void>,
  timedOut: string,
): Promise<void> {
  let lastError: unknown;
  while (Date.now() < deadline) {
    const failed = failedServices();
    if (failed) throw new SlipwayError(failed);
    try {
      const conn = await Connection.connect({ address, connectTimeout: 2000 });
      try {
        await attempt(conn);
        return;
      } finally {
        await conn.close();
      }
    } catch (err) {
      lastError = err;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  throw new SlipwayError(`${timedOut}: ${String(lastError)}`);
}

function registerDefaultNamespace(address: string, deadline: number, failedServices: () => string | undefined): Promise<void> {
  return untilFrontend(
    address,
    deadline,
    failedServices,
    async (conn) => {
      try {
        await conn.workflowService.describeNamespace({ namespace: 'default' });
        return;
      } catch {
        await conn.workflowService.registerNamespace({ namespace: 'default', workflowExecutionRetentionPeriod: msToTs('3 days') });
      }
      // Namespaces reach the other services' caches within seconds: wait until it answers.
      await conn.workflowService.describeNamespace({ namespace: 'default' });
    },
    `the Temporal cluster's frontend at ${address} did not register the default namespace within 2 minutes`,
  );
}

/** Waits until the namespace takes workflow calls (the history service has its shards). */
function waitUntilServing(address: string, deadline: number, failedServices: () => string | undefined): Promise<void> {
  return untilFrontend(
    address,
    deadline,
    failedServices,
    async (conn) => {
      await conn.workflowService.listOpenWorkflowExecutions({ namespace: 'default', maximumPageSize: 1 });
    },
    `the Temporal cluster at ${address} did not serve the default namespace`,
  );
}

function logTail(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8').trim().split('\n').slice(-5).map((l) => `  ${l.slice(0, 500)}`).join('\n');
  } catch {
    return '  (no log)';
  }
}

export async function startCluster(options: ClusterOptions): Promise<RunningCluster> {
  const t0 = Date.now();
  const progress = options.progress ?? ((): void => {});
  fs.mkdirSync(options.dir, { recursive: true });
  const tools = await locateTemporalServer({ progress, ...options.locate });
  const buildMs = Date.now() - t0;
  const pg = await startPostgres(options.dir, progress);
  const services: Record<string, ChildProcess> = {};
  const stop = async (): Promise<void> => {
    const children = Object.values(services).filter((c) => c.exitCode === null && c.signalCode === null);
    await Promise.all(
      children.map(
        (c) =>
          new Promise<void>((resolve) => {
            const timer = setTimeout(() => c.kill('SIGKILL'), 15_000);
            c.once('exit', () => {
              clearTimeout(timer);
              resolve();
            });
            c.kill('SIGTERM');
          }),
      ),
    );
    pg.stop();
  };
  try {
    setupSchema(tools, pg.port);
    const ports: Record<string, ServicePorts> = {};
    for (const name of TEMPORAL_SERVICES) {
      ports[name] = { grpc: await freePort(), membership: await lowFreePort(), ...(name === 'frontend' ? { http: await freePort() } : {}) };
    }
    const root = path.join(options.dir, 'temporal');
    fs.mkdirSync(path.join(root, 'config'), { recursive: true });
    const dynamicConfigFile = path.join(root, 'dynamicconfig.yaml');
    fs.writeFileSync(dynamicConfigFile, dynamicConfigYaml(options.dynamicConfig ?? {}));
    fs.writeFileSync(path.join(root, 'config', 'cluster.yaml'), serverConfig(pg.port, ports, dynamicConfigFile));
    const startService = (name: string): void => {
      const log = fs.openSync(path.join(options.dir, `temporal-${name}.log`), 'a');
      services[name] = spawn(tools.server, ['--root', root, '--config', 'config', '--env', 'cluster', '--allow-no-auth', 'start', '--service', name], {
        stdio: ['ignore', log, log],
      });
      fs.closeSync(log);
    };
    const address = `127.0.0.1:${ports.frontend!.grpc}`;
    const deadline = Date.now() + 120_000;
    const failedServices = (): string | undefined => {
      const dead = Object.entries(services).filter(([, c]) => c.exitCode !== null || c.signalCode !== null);
      if (dead.length === 0) return undefined;
      const tails = dead.map(([n]) => `${n}:\n${logTail(path.join(options.dir, `temporal-${n}.log`))}`);
      return `Temporal service(s) exited while starting: ${dead.map(([n]) => n).join(', ')}\n${tails.join('\n')}`;
    };
    // The frontend first: on a fresh database every service would write the cluster's
    // metadata at once, and all but one fail on the duplicate key. The namespace needs only
    // the frontend and the database.
    startService('frontend');
    await registerDefaultNamespace(address, deadline, failedServices);
    for (const name of TEMPORAL_SERVICES) if (name !== 'frontend') startService(name);
    await waitUntilServing(address, deadline, failedServices);
    const failed = failedServices();
    if (failed) throw new SlipwayError(failed);
    return { address, namespace: 'default', postgresPort: pg.port, startMs: Date.now() - t0, buildMs, source: `${tools.source}: ${tools.server}`, services, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
