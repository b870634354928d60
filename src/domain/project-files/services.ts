/**
 * `.magento/services.yaml`: the backing services of an environment, and the
 * MAGENTO_CLOUD_RELATIONSHIPS value that tells the application how to reach them.
 */
import { z } from 'zod';
import type { ConfigIssue } from '../app-config';
import { parseYamlMap, zodIssuesAt, type Parsed } from './yaml-file';

export const SERVICES_FILE = '.magento/services.yaml';
const APP_FILE = '.magento.app.yaml';

export interface ServiceKindInfo {
  /** Supported versions, as written after the colon in `type`. */
  versions: readonly string[];
  /** Whether `disk` (MB) must be given, or must not be. */
  disk: 'required' | 'refused';
  /** Scheme, port and default endpoint name of the relationship. */
  scheme: string;
  port: number;
  endpoint: string;
  /** The product behind the kind, when it differs from the name. */
  product?: string;
}

/** The service kinds and versions Slipway can run, in the order they are listed to users. */
export const SUPPORTED_SERVICES = {
  mysql: { versions: ['10.4', '10.5', '10.6', '10.11'], disk: 'required', scheme: 'mysql', port: 3306, endpoint: 'mysql', product: 'MariaDB' },
  mariadb: { versions: ['10.4', '10.5', '10.6', '10.11'], disk: 'required', scheme: 'mysql', port: 3306, endpoint: 'mysql', product: 'MariaDB' },
  redis: { versions: ['6.2', '7.0', '7.2'], disk: 'refused', scheme: 'redis', port: 6379, endpoint: 'redis' },
  valkey: { versions: ['8.0'], disk: 'refused', scheme: 'redis', port: 6379, endpoint: 'valkey' },
  opensearch: { versions: ['2', '2.11', '2.12'], disk: 'required', scheme: 'http', port: 9200, endpoint: 'opensearch' },
  elasticsearch: { versions: ['7.17'], disk: 'required', scheme: 'http', port: 9200, endpoint: 'elasticsearch' },
  rabbitmq: { versions: ['3.12', '3.13'], disk: 'required', scheme: 'amqp', port: 5672, endpoint: 'rabbitmq' },
  varnish: { versions: ['7.4'], disk: 'refused', scheme: 'http', port: 80, endpoint: 'http' },
} as const satisfies Record<string, ServiceKindInfo>;

export type ServiceKind = keyof typeof SUPPORTED_SERVICES;

/** One service. Unknown keys (e.g. `configuration`) are kept and ignored. */
export interface Service {
  /** As written: "<kind>:<version>". */
  type: string;
  kind: ServiceKind;
  version: string;
  /** MB; present exactly for the kinds that require it. */
  disk?: number;
  [key: string]: unknown;
}
export type Services = Record<string, Service>;

const SERVICE_NAME = /^[a-z][a-z0-9_-]*$/;
const KINDS = Object.keys(SUPPORTED_SERVICES) as ServiceKind[];

function isKind(kind: string): kind is ServiceKind {
  return Object.prototype.hasOwnProperty.call(SUPPORTED_SERVICES, kind);
}

/** "<kind>:<version>" → its parts, or the reason it is not supported. */
function splitType(type: string): { kind: ServiceKind; version: string } | string {
  const colon = type.indexOf(':');
  if (colon < 0) return `must be "<kind>:<version>", e.g. "mysql:10.6", not "${type}"`;
  const kind = type.slice(0, colon);
  const version = type.slice(colon + 1);
  if (!isKind(kind)) return `unknown service kind "${kind}"; supported: ${KINDS.join(', ')}`;
  const versions: readonly string[] = SUPPORTED_SERVICES[kind].versions;
  if (!versions.includes(version)) return `unsupported ${kind} version "${version}"; supported: ${versions.join(', ')}`;
  return { kind, version };
}

const serviceSchema = z.looseObject(
  {
    type: z
      .string({ error: (iss) => (iss.input === undefined ? 'is required: "<kind>:<version>", e.g. "mysql:10.6"' : 'must be "<kind>:<version>" (a string)') })
      .transform((type, ctx) => {
        const split = splitType(type);
        if (typeof split !== 'string') return split;
        ctx.addIssue({ code: 'custom', message: split });
        return z.NEVER;
      }),
    disk: z.int({ error: 'must be a size in MB (a positive whole number)' }).positive('must be a size in MB (a positive whole number)').optional(),
  },
  { error: 'must be a map such as {type: "mysql:10.6", disk: 2048}' },
);

export function parseServices(text: string): Parsed<Services> {
  const warnings: ConfigIssue[] = [];
  const top = parseYamlMap(SERVICES_FILE, text, 'a map of service name → {type, disk}');
  if (!top.ok) return { ...top, warnings, notes: [] };

  const issues: ConfigIssue[] = [];
  const services: Services = {};
  for (const [name, raw] of Object.entries(top.value)) {
    if (!SERVICE_NAME.test(name)) {
      issues.push({ file: SERVICES_FILE, path: name, reason: 'invalid service name; use lowercase letters, digits, "-" and "_", starting with a letter' });
    }
    const parsed = serviceSchema.safeParse(raw);
    if (!parsed.success) {
      issues.push(...zodIssuesAt(SERVICES_FILE, name, parsed.error));
      continue;
    }
    const { kind, version } = parsed.data.type;
    const rule = SUPPORTED_SERVICES[kind].disk;
    if (rule === 'required' && parsed.data.disk === undefined) {
      issues.push({ file: SERVICES_FILE, path: `${name}.disk`, reason: `is required for ${kind}: a size in MB, e.g. 2048` });
    } else if (rule === 'refused' && parsed.data.disk !== undefined) {
      issues.push({ file: SERVICES_FILE, path: `${name}.disk`, reason: `is not allowed for ${kind}: it keeps no data on a persistent disk; remove "disk"` });
    }
    services[name] = { ...parsed.data, type: `${kind}:${version}`, kind, version };
  }
  return issues.length > 0 ? { ok: false, issues, warnings, notes: [] } : { ok: true, value: services, warnings, notes: [] };
}

/** One endpoint of a relationship, as in Magento Cloud's MAGENTO_CLOUD_RELATIONSHIPS. */
export interface RelationshipEndpoint {
  service: string;
  rel: string;
  scheme: string;
  host: string;
  hostname: string;
  ip: string;
  port: number;
  path?: string;
  username?: string;
  password: string;
  type: string;
  cluster: string;
  query: Record<string, unknown>;
}

/** A stable link-local address for a service name (FNV-1a hash → 169.254.1-254.1-254). */
function fakeIp(service: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < service.length; i++) h = Math.imul(h ^ service.charCodeAt(i), 0x01000193) >>> 0;
  return `169.254.${1 + (h % 254)}.${1 + ((h >>> 8) % 254)}`;
}

/**
 * Magento Cloud's MAGENTO_CLOUD_RELATIONSHIPS value: relationship name → endpoints.
 * `appRelationships` is .magento.app.yaml's `relationships` ({ database: "mysql:mysql" }, i.e.
 * "<service name>:<endpoint>"; the endpoint may be left out). Passwords are always '':
 * Slipway never puts secrets into this value.
 */
export function computeRelationships(
  appRelationships: Record<string, string>,
  services: Services,
  ctx: { project: string; environment: string },
): { ok: true; value: Record<string, RelationshipEndpoint[]> } | { ok: false; issues: ConfigIssue[] } {
  const issues: ConfigIssue[] = [];
  const value: Record<string, RelationshipEndpoint[]> = {};
  const cluster = `${ctx.project}-${ctx.environment}`;
  for (const [rel, target] of Object.entries(appRelationships)) {
    const path = `relationships.${rel}`;
    const [name = '', endpoint, ...rest] = target.split(':');
    if (name === '' || endpoint === '' || rest.length > 0) {
      issues.push({ file: APP_FILE, path, reason: `must be "<service>:<endpoint>", e.g. "mysql:mysql", not "${target}"` });
      continue;
    }
    const service = Object.prototype.hasOwnProperty.call(services, name) ? services[name] : undefined;
    if (!service) {
      const defined = Object.keys(services);
      issues.push({
        file: APP_FILE,
        path,
        reason: `names service "${name}", which ${SERVICES_FILE} does not define${defined.length > 0 ? `; defined: ${defined.join(', ')}` : ''}`,
      });
      continue;
    }
    const info: ServiceKindInfo = SUPPORTED_SERVICES[service.kind];
    const isMysql = info.scheme === 'mysql';
    value[rel] = [
      {
        service: name,
        rel: endpoint ?? info.endpoint,
        scheme: info.scheme,
        host: `${name}.internal`,
        hostname: `${name}.${cluster}.internal`,
        ip: fakeIp(name),
        port: info.port,
        ...(isMysql ? { path: 'main', username: 'user' } : {}),
        password: '',
        type: service.type,
        cluster,
        query: isMysql ? { is_master: true } : {},
      },
    ];
  }
  return issues.length > 0 ? { ok: false, issues } : { ok: true, value };
}
