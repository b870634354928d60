/**
 * An environment's services (`.magento/services.yaml`), run for real: one instance of each
 * declared service the host can provide, in the environment's network namespace, as the
 * project's sandbox user, each in its own cgroup, listening on 127.0.0.1 at its usual port
 * inside that namespace and on a Unix socket in the environment's run directory (which the
 * engine reaches from the host). See docs/architecture.md, "One environment's runtime".
 *
 * State lives in the kernel and on disk, never in memory: a service is running when its
 * cgroup has processes. So any worker, a restarted one included, can tell and stop it.
 *
 * Started by deployments at staging (src/activities/runtime-steps.ts) and by the host's
 * supervisor. No workflow input, result or log may ever carry what `relationshipsFor` returns
 * with passwords (use its `redacted` form for anything shown).
 */
import * as fs from 'node:fs';
import { HostPackageMissingError } from '../../host-packages';
import { computeRelationships, type RelationshipEndpoint, type Services, type ServiceKind } from '../../domain/project-files/services';
import type { ConfigIssue } from '../../domain/app-config';
import { SlipwayError } from '../../errors';
import { sandboxIdentity } from '../../sandbox/identity';
import { sandboxServiceNames, sandboxServicePids, startSandboxService, stopSandboxService } from '../../sandbox/sandbox';
import { portAnswers, socketAccepts, waitUntilServing } from '../readiness';
import { deleteNetns, ensureNetns } from '../netns';
import {
  engineSecretsDir,
  environmentNetns,
  handPasswordToSandbox,
  prepareDirectories,
  runDir,
  SANDBOX_RUN_DIR,
  SANDBOX_SERVICE_CONF,
  SANDBOX_SERVICE_DATA,
  sandboxSecretsDir,
  serviceCgroupName,
  serviceCgroupPrefix,
  servicePassword,
  servicePaths,
  servicesDir,
  type EnvironmentRef,
  type ServicePaths,
} from './environment';
import { MARIADB_DATABASE, MARIADB_USER, mariadbCommand, mariadbConfig, mariadbQuery, prepareMariadb } from './mariadb';
import { prepareRedis, redisCommand, redisConfig, redisQuery } from './redis';
import { prepareRabbitmq, rabbitmqCommand, rabbitmqConfig, RABBITMQ_USER } from './rabbitmq';

export type { EnvironmentRef } from './environment';
export { servicePaths, environmentNetns, runDir, SANDBOX_RUN_DIR } from './environment';
export { mariadbQuery, redisQuery };

const MIB = 1024 * 1024;

type Provider = 'mariadb' | 'redis' | 'rabbitmq';

/** What runs each kind, and its cgroup's limits (threads count as processes). */
const PROVIDERS: Partial<Record<ServiceKind, { provider: Provider; port: number; memoryBytes: number; processes: number }>> = {
  mysql: { provider: 'mariadb', port: 3306, memoryBytes: 512 * MIB, processes: 256 },
  mariadb: { provider: 'mariadb', port: 3306, memoryBytes: 512 * MIB, processes: 256 },
  redis: { provider: 'redis', port: 6379, memoryBytes: 192 * MIB, processes: 64 },
  valkey: { provider: 'redis', port: 6379, memoryBytes: 192 * MIB, processes: 64 },
  // The Erlang VM runs many threads (schedulers, dirty schedulers, async pool).
  rabbitmq: { provider: 'rabbitmq', port: 5672, memoryBytes: 512 * MIB, processes: 512 },
};

/** Why the host cannot provide a kind (a deployment warns with it and goes on). */
const NOT_PROVIDED: Partial<Record<ServiceKind, string>> = {
  opensearch: 'OpenSearch is not a Debian package, and Slipway runs services from Debian packages only',
  elasticsearch: 'Elasticsearch is not a Debian package, and Slipway runs services from Debian packages only',
  varnish: 'Slipway does not run Varnish yet',
};

/** What a service's state is made from: its kind (and its type as written, for messages). */
export type DeclaredService = Pick<Services[string], 'type' | 'kind'>;
export type DeclaredServices = Record<string, DeclaredService>;

export function unavailableReason(kind: ServiceKind): string | undefined {
  return PROVIDERS[kind] ? undefined : (NOT_PROVIDED[kind] ?? `Slipway cannot run ${kind} services`);
}

export type ServiceStatus =
  | { name: string; type: string; state: 'running'; port: number; socket: string; pids: number }
  | { name: string; type: string; state: 'stopped'; port: number; socket: string }
  | { name: string; type: string; state: 'unavailable'; reason: string };

/**
 * Each service's port inside the namespace: the kind's usual one (3306, 6379); when several
 * services of one port are declared (`redis` and `redis-session`), the next ones, in the
 * order of their names.
 */
export function servicePorts(services: DeclaredServices): Record<string, number> {
  const ports: Record<string, number> = {};
  const taken = new Set<number>();
  for (const name of Object.keys(services).sort()) {
    const kind = services[name]!.kind;
    if (!PROVIDERS[kind]) continue;
    let port = PROVIDERS[kind].port;
    while (taken.has(port)) port++;
    taken.add(port);
    ports[name] = port;
  }
  return ports;
}

function declared(services: DeclaredServices, name: string): DeclaredService {
  const s = Object.prototype.hasOwnProperty.call(services, name) ? services[name] : undefined;
  if (!s) throw new SlipwayError(`no service "${name}" is declared`);
  return s;
}

export function serviceStatus(ref: EnvironmentRef, services: DeclaredServices, name: string): ServiceStatus {
  const s = declared(services, name);
  const why = unavailableReason(s.kind);
  if (why) return { name, type: s.type, state: 'unavailable', reason: why };
  const port = servicePorts(services)[name]!;
  const socket = servicePaths(ref, name).socket;
  const pids = sandboxServicePids(serviceCgroupName(ref, name)).length;
  return pids > 0 ? { name, type: s.type, state: 'running', port, socket, pids } : { name, type: s.type, state: 'stopped', port, socket };
}

export function servicesStatus(ref: EnvironmentRef, services: DeclaredServices): ServiceStatus[] {
  return Object.keys(services)
    .sort()
    .map((name) => serviceStatus(ref, services, name));
}

/**
 * Whether a running service's configuration file says something else than services.yaml would
 * now (its port, when another service of the same port came or went): it is started again.
 */
function configurationChanged(ref: EnvironmentRef, services: DeclaredServices, name: string): boolean {
  const provided = PROVIDERS[declared(services, name).kind];
  if (!provided) return false;
  const expected = configOf(provided.provider, ref, name, servicePaths(ref, name), servicePorts(services)[name]!);
  const current = fs.existsSync(expected.file) ? fs.readFileSync(expected.file, 'utf8') : undefined;
  return current !== undefined && current !== expected.text;
}

/** Stops the running services whose configuration changed, before any is started (a port may pass from one to another). */
export async function stopChangedServices(ref: EnvironmentRef, services: DeclaredServices, progress: (m: string) => void): Promise<string[]> {
  const changed = Object.keys(services)
    .sort()
    .filter((name) => sandboxServicePids(serviceCgroupName(ref, name)).length > 0 && configurationChanged(ref, services, name));
  for (const name of changed) {
    progress(`${name}: its configuration changed (services.yaml): restarting it`);
    await stopSandboxService(serviceCgroupName(ref, name));
  }
  return changed;
}

/** The configuration file a service is started with, and what it would hold now. */
function configOf(provider: Provider, ref: EnvironmentRef, name: string, paths: ServicePaths, port: number): { file: string; text: string } {
  if (provider === 'mariadb') return { file: `${paths.conf}/my.cnf`, text: mariadbConfig(paths, port) };
  if (provider === 'redis') return { file: `${paths.conf}/redis.conf`, text: redisConfig(paths, port, servicePassword(ref, name)) };
  return { file: `${paths.conf}/rabbitmq.conf`, text: rabbitmqConfig(port, servicePassword(ref, name)) };
}

/**
 * Starts the service (initialising its data the first time) and returns once it accepts
 * connections; a running one is left as it is (adopted). A kind the host cannot provide, or
 * whose Debian package cannot be installed here, is `unavailable` with the reason, not an error.
 */
export async function startService(
  ref: EnvironmentRef,
  services: DeclaredServices,
  name: string,
  progress: (m: string) => void = () => undefined,
): Promise<ServiceStatus> {
  const s = declared(services, name);
  const provided = PROVIDERS[s.kind];
  if (!provided) return serviceStatus(ref, services, name);
  const cgroup = serviceCgroupName(ref, name);
  if (sandboxServicePids(cgroup).length > 0) {
    if (!configurationChanged(ref, services, name)) return serviceStatus(ref, services, name);
    progress(`${name}: its configuration changed (services.yaml): restarting it`);
    await stopSandboxService(cgroup);
  }

  const identity = sandboxIdentity(ref.layout, ref.project);
  const paths = prepareDirectories(ref, name, identity);
  handPasswordToSandbox(ref, name, identity);
  const port = servicePorts(services)[name]!;
  const netns = await ensureNetns(environmentNetns(ref));
  let command: string[];
  let env: Record<string, string> = {};
  try {
    if (provided.provider === 'mariadb') {
      await prepareMariadb({ ref, name, paths, identity, port }, progress);
      command = await mariadbCommand(progress);
    } else if (provided.provider === 'redis') {
      prepareRedis({ ref, name, paths, identity, port });
      command = await redisCommand(progress);
    } else {
      prepareRabbitmq({ ref, name, paths, identity, port });
      ({ command, env } = await rabbitmqCommand(progress));
    }
  } catch (err) {
    if (err instanceof HostPackageMissingError) return { name, type: s.type, state: 'unavailable', reason: err.message };
    throw err;
  }
  fs.rmSync(paths.socket, { force: true });
  await startSandboxService({
    name: cgroup,
    dataDir: ref.layout.home,
    identity,
    hostname: ref.project,
    netns,
    binds: [
      { dir: paths.data, at: SANDBOX_SERVICE_DATA, writable: true },
      { dir: paths.conf, at: SANDBOX_SERVICE_CONF, writable: false },
      { dir: runDir(ref), at: SANDBOX_RUN_DIR, writable: true },
    ],
    command,
    env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C.UTF-8', HOME: SANDBOX_SERVICE_DATA, ...env },
    limits: { memoryBytes: provided.memoryBytes, processes: provided.processes },
    logFile: paths.log,
  });
  // RabbitMQ has no Unix socket: asked on its port, from inside the namespace.
  const rabbitmq = provided.provider === 'rabbitmq';
  await waitUntilServing({
    serves: rabbitmq ? () => portAnswers(netns, port) : () => socketAccepts(paths.socket),
    cgroup,
    log: paths.log,
    logLines: 5,
    subject: 'the service',
    awaited: rabbitmq ? `listen on 127.0.0.1:${port}` : `accept connections on ${paths.socket}`,
    timeoutMs: 60_000,
    intervalMs: rabbitmq ? 200 : 50,
    stopGraceMs: 5000,
  });
  return serviceStatus(ref, services, name);
}

/** Starts every declared service (at once); each one's status, unavailable ones included. */
export async function startServices(ref: EnvironmentRef, services: DeclaredServices, progress: (m: string) => void = () => undefined): Promise<ServiceStatus[]> {
  await stopChangedServices(ref, services, progress);
  return Promise.all(
    Object.keys(services)
      .sort()
      .map((name) => startService(ref, services, name, progress)),
  );
}

/** Stops one service, its data kept. Whether it was running. */
export function stopService(ref: EnvironmentRef, name: string): Promise<boolean> {
  return stopSandboxService(serviceCgroupName(ref, name));
}

/**
 * Stops every service of the environment that has a cgroup, found by name (whoever started
 * it, declared or not any more); their data kept. The names of those that were running.
 */
export async function stopEnvironmentServices(ref: EnvironmentRef): Promise<string[]> {
  const prefix = serviceCgroupPrefix(ref);
  const stopped = await Promise.all(
    sandboxServiceNames(prefix).map(async (group) => ((await stopSandboxService(group)) ? group.slice(prefix.length) : undefined)),
  );
  return stopped.filter((n): n is string => n !== undefined);
}

/** Stops every service, then removes the network namespace, the services' data, sockets and passwords. */
export async function deleteEnvironmentRuntime(ref: EnvironmentRef): Promise<void> {
  await stopEnvironmentServices(ref);
  await deleteNetns(environmentNetns(ref));
  for (const dir of [servicesDir(ref), runDir(ref), sandboxSecretsDir(ref), engineSecretsDir(ref)]) fs.rmSync(dir, { recursive: true, force: true });
}

/** The environment's network namespace, for hooks that must reach its services (runInSandbox's `netns`). */
export async function environmentNetnsPath(ref: EnvironmentRef): Promise<string> {
  return ensureNetns(environmentNetns(ref));
}

export interface UnavailableRelationship {
  relationship: string;
  service: string;
  type: string;
  reason: string;
}

export type Relationships = Record<string, RelationshipEndpoint[]>;

export const REDACTED = '<redacted>';

/** The same relationships with every password replaced: the only form fit for a log, a workflow's history or a message. */
export function redactRelationships(relationships: Relationships): Relationships {
  return Object.fromEntries(Object.entries(relationships).map(([rel, eps]) => [rel, eps.map((e) => ({ ...e, password: e.password ? REDACTED : '' }))]));
}

/**
 * MAGENTO_CLOUD_RELATIONSHIPS for the environment, in Magento Cloud's format (relationship →
 * endpoints with scheme, host, port, username, password, path…), with the real address inside
 * the environment's network namespace (127.0.0.1 and the service's port) and the generated
 * passwords (generated now if the service never ran). Relationships to services the host
 * cannot provide are left out and listed in `unavailable` with the reason; that is not an
 * error. `redacted` is the same value without passwords.
 */
export function relationshipsFor(
  ref: EnvironmentRef,
  appRelationships: Record<string, string>,
  services: Services,
):
  | { ok: true; relationships: Relationships; redacted: Relationships; unavailable: UnavailableRelationship[] }
  | { ok: false; issues: ConfigIssue[] } {
  const base = computeRelationships(appRelationships, services, ref);
  if (!base.ok) return base;
  const ports = servicePorts(services);
  const relationships: Relationships = {};
  const unavailable: UnavailableRelationship[] = [];
  for (const [rel, endpoints] of Object.entries(base.value)) {
    const out: RelationshipEndpoint[] = [];
    for (const e of endpoints) {
      const s = services[e.service]!;
      const why = unavailableReason(s.kind);
      if (why) {
        unavailable.push({ relationship: rel, service: e.service, type: s.type, reason: why });
        continue;
      }
      const provider = PROVIDERS[s.kind]!.provider;
      const isMysql = provider === 'mariadb';
      out.push({
        ...e,
        host: '127.0.0.1',
        hostname: '127.0.0.1',
        ip: '127.0.0.1',
        port: ports[e.service]!,
        ...(isMysql ? { path: MARIADB_DATABASE, username: MARIADB_USER } : {}),
        ...(provider === 'rabbitmq' ? { username: RABBITMQ_USER } : {}),
        password: servicePassword(ref, e.service),
      });
    }
    if (out.length > 0) relationships[rel] = out;
  }
  return { ok: true, relationships, redacted: redactRelationships(relationships), unavailable };
}

/**
 * Whether the environment's database has application tables (a table in `main`): ece-tools'
 * rule for "install" (none) or "update" (some). Asked as the engine, over the Unix socket;
 * the service must be running.
 */
export async function hasApplicationTables(ref: EnvironmentRef, name: string): Promise<boolean> {
  const out = await mariadbQuery(
    ref,
    servicePaths(ref, name),
    `SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = '${MARIADB_DATABASE}'`,
  );
  const n = Number(out.trim());
  if (!Number.isInteger(n)) throw new SlipwayError(`unexpected answer from the MariaDB of ${ref.project}/${ref.environment}: ${out.trim()}`);
  return n > 0;
}

