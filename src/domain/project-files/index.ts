/**
 * The five project files of a commit, validated together into a slug manifest: everything a
 * deployment of that slug needs to know, independent of the environment it lands in (so the
 * same slug can be promoted). Pure: the activity reads the files, this decides.
 */
import { appConfigSchema, webRootOf, type ConfigIssue } from '../app-config';
import { CONFIG_PHP, parseMagentoConfig, type MagentoConfig, type ThemeRef } from '../magento-config';
import { ENV_FILE, envVariable, excludedThemes, parseEnvConfig, type EnvConfig, type ScdMatrix } from './env-config';
import { DEFAULT_ROUTES_YAML, parseRoutes, ROUTES_FILE, type Routes } from './routes';
import { computeRelationships, parseServices, SERVICES_FILE, type Services } from './services';
import { parseCrons, type CronJob } from './crons';
import { parseWebLocations, type WebLocation } from './web-locations';
import { parseYamlMap, zodIssuesAt } from './yaml-file';

export const APP_FILE = '.magento.app.yaml';
export const PROJECT_FILES = [APP_FILE, SERVICES_FILE, ROUTES_FILE, ENV_FILE, CONFIG_PHP] as const;

/** File path → content; a file that is absent has no entry. */
export type ProjectFileTexts = Partial<Record<(typeof PROJECT_FILES)[number], string>>;

export interface StaticContentPlan {
  /** Where static content is deployed: in the build (part of the slug), in the deploy, or not at all. */
  where: 'build' | 'deploy' | 'none';
  reason: string;
  /** Empty: every theme found under app/design. */
  themes: ThemeRef[];
  locales: string[];
  buildThreads: number;
  deployThreads: number;
  /** STATIC_CONTENT_SYMLINK: a `pub/static` mount links the release's static content (else copies it). */
  symlink?: boolean;
  /** CLEAN_STATIC_FILES: a `pub/static` mount is emptied before it is seeded. */
  clean?: boolean;
  /** SCD_EXCLUDE_THEMES: "Vendor/name" of themes not deployed (per phase). */
  excludeThemes?: { build: string[]; deploy: string[] };
  /** SCD_MATRIX: "Vendor/name" → the only locales deployed for that theme (per phase). */
  matrix?: { build: Record<string, string[]>; deploy: Record<string, string[]> };
  /** SCD_ON_DEMAND: with `where: 'none'`, static content is generated on its first request. */
  onDemand?: boolean;
  /** SCD_STRATEGY (accepted; every strategy publishes the same files here). */
  strategy?: { build: string; deploy: string };
}

export interface SlugManifest {
  appName: string;
  /** `type:` as written, such as "php:8.3" (absent in manifests of slugs built before it was kept). */
  appType?: string;
  /** `runtime.extensions`: the PHP extensions the application declares (names only). */
  extensions?: string[];
  /** `web.commands.start`: the command of a non-PHP application's own server. */
  webStart?: string;
  /** `web.upstream.socket_family`: where that server listens, $PORT (tcp) or $SOCKET (unix). */
  upstream?: 'tcp' | 'unix';
  /** The directory that serves "/" (what releases staged before `locations` recorded). */
  webRoot: string;
  /** `web.locations`, validated (absent in manifests of slugs built before they were read). */
  locations?: WebLocation[];
  hooks: { build: string; deploy: string; postDeploy: string };
  /** `variables.env` of .magento.app.yaml: plain environment variables of every hook. */
  variables: Record<string, string>;
  appRelationships: Record<string, string>;
  services: Services;
  routes: Routes;
  /** Mount path in the application → path in the environment's persistent storage. */
  mounts: Record<string, string>;
  staticContent: StaticContentPlan;
  /** WARM_UP_PAGES as written: paths, pages relative to each route's base URL, URLs, pattern forms (skipped). */
  warmUpPages: string[];
  /** WARM_UP_CONCURRENCY: pages warmed at once (absent in older manifests: 1). */
  warmUpConcurrency?: number;
  /** TTFB_TESTED_PAGES: pages whose time to first byte is measured after the warm-up. */
  ttfbPages?: string[];
  /** `crons:`, each a Schedule per environment (absent in manifests of slugs built before they were read). */
  crons?: Record<string, CronJob>;
}

/** The manifest, or the issues that stop it; warnings and notes (worth knowing, nothing to fix) either way. */
export type PlanResult =
  | { ok: true; manifest: SlugManifest; warnings: ConfigIssue[]; notes: ConfigIssue[] }
  | { ok: false; issues: ConfigIssue[]; warnings: ConfigIssue[]; notes: ConfigIssue[] };

const SAFE_RELATIVE = /^(?!\/)(?!.*(^|\/)\.\.?(\/|$))[A-Za-z0-9._@+-]+(\/[A-Za-z0-9._@+-]+)*$/;

/** `runtime.extensions` in either form: `- redis` or `- name: blackfire` (configuration ignored). */
function declaredExtensions(runtime: unknown): string[] {
  const list = (runtime as { extensions?: unknown } | undefined)?.extensions;
  if (!Array.isArray(list)) return [];
  return list
    .map((e: unknown) => (typeof e === 'string' ? e : typeof e === 'object' && e !== null ? (e as { name?: unknown }).name : undefined))
    .filter((n): n is string => typeof n === 'string' && /^[A-Za-z0-9_-]{1,64}$/.test(n))
    .map((n) => n.toLowerCase());
}

/** `mounts:` in either Magento Cloud form: `"var": "shared:files/var"` or `{source: local, source_path: var}`. */
function parseMounts(raw: Record<string, unknown> | undefined, issues: ConfigIssue[]): Record<string, string> {
  const mounts: Record<string, string> = {};
  for (const [rawPath, spec] of Object.entries(raw ?? {})) {
    const mountPath = rawPath.replace(/^\/+|\/+$/g, '');
    const at = `mounts.${rawPath}`;
    if (!SAFE_RELATIVE.test(mountPath)) {
      issues.push({ file: APP_FILE, path: at, reason: 'a mount path must be a relative path inside the application, without ".."' });
      continue;
    }
    let source: string | undefined;
    if (typeof spec === 'string') {
      const m = /^shared:files\/(.+)$/.exec(spec);
      if (!m) {
        issues.push({ file: APP_FILE, path: at, reason: `must be "shared:files/<path>", not "${spec}"` });
        continue;
      }
      source = m[1];
    } else if (typeof spec === 'object' && spec !== null && 'source_path' in spec) {
      const s = spec as { source?: unknown; source_path?: unknown };
      if (s.source !== undefined && s.source !== 'local') {
        issues.push({ file: APP_FILE, path: `${at}.source`, reason: `only "local" mounts are supported, not ${JSON.stringify(s.source)}` });
        continue;
      }
      source = typeof s.source_path === 'string' ? s.source_path : undefined;
    }
    if (source === undefined || !SAFE_RELATIVE.test(source.replace(/\/+$/, ''))) {
      issues.push({ file: APP_FILE, path: at, reason: 'the mount source must be a relative path without ".."' });
      continue;
    }
    mounts[mountPath] = source.replace(/\/+$/, '');
  }
  return mounts;
}

/** SCD_MATRIX as "Vendor/name" → its locales (none: the theme is left out). */
const matrixLocales = (matrix: ScdMatrix): Record<string, string[]> =>
  Object.fromEntries(Object.entries(matrix).map(([theme, entry]) => [theme, entry.language]));

export function decideStaticContent(env: EnvConfig, magento: MagentoConfig | undefined): StaticContentPlan {
  const base = {
    themes: magento?.themes ?? [],
    locales: magento?.locales ?? ['en_US'],
    buildThreads: envVariable(env, 'build', 'SCD_THREADS'),
    deployThreads: envVariable(env, 'deploy', 'SCD_THREADS'),
    symlink: envVariable(env, 'deploy', 'STATIC_CONTENT_SYMLINK'),
    clean: envVariable(env, 'deploy', 'CLEAN_STATIC_FILES'),
    excludeThemes: { build: excludedThemes(envVariable(env, 'build', 'SCD_EXCLUDE_THEMES')), deploy: excludedThemes(envVariable(env, 'deploy', 'SCD_EXCLUDE_THEMES')) },
    matrix: { build: matrixLocales(envVariable(env, 'build', 'SCD_MATRIX')), deploy: matrixLocales(envVariable(env, 'deploy', 'SCD_MATRIX')) },
    strategy: { build: envVariable(env, 'build', 'SCD_STRATEGY'), deploy: envVariable(env, 'deploy', 'SCD_STRATEGY') },
  };
  if (envVariable(env, 'build', 'SCD_ON_DEMAND')) {
    return { ...base, where: 'none', onDemand: true, reason: `${ENV_FILE} sets SCD_ON_DEMAND: static content is generated on request` };
  }
  const scopes = magento?.hasScopes
    ? `${CONFIG_PHP} declares ${[...magento.websites.map((w) => `website ${w}`), ...magento.stores.map((s) => `store ${s}`)].join(', ')}`
    : undefined;
  if (scopes && !envVariable(env, 'build', 'SKIP_SCD')) {
    return { ...base, where: 'build', reason: `${scopes}: static content is deployed in the build` };
  }
  const why = scopes ? `${ENV_FILE} sets SKIP_SCD for the build` : `${CONFIG_PHP} declares no website or store`;
  if (envVariable(env, 'deploy', 'SKIP_SCD')) {
    return { ...base, where: 'none', reason: `${why}, and SKIP_SCD is set for the deploy: no static content deploy` };
  }
  return { ...base, where: 'deploy', reason: `${why}: static content is deployed during the deploy` };
}

export function planFromProjectFiles(files: ProjectFileTexts): PlanResult {
  const issues: ConfigIssue[] = [];
  const warnings: ConfigIssue[] = [];
  const notes: ConfigIssue[] = [];

  const appText = files[APP_FILE];
  if (appText === undefined) {
    return { ok: false, issues: [{ file: APP_FILE, path: '', reason: 'file is missing: every application needs one' }], warnings, notes };
  }
  const appMap = parseYamlMap(APP_FILE, appText, 'a map of application settings');
  const app = appMap.ok ? appConfigSchema.safeParse(appMap.value) : undefined;
  if (!appMap.ok) issues.push(...appMap.issues);
  else if (app && !app.success) issues.push(...zodIssuesAt(APP_FILE, '', app.error));
  const appConfig = app?.success ? app.data : undefined;

  const services = parseServices(files[SERVICES_FILE] ?? '');
  const routes = parseRoutes(files[ROUTES_FILE] ?? DEFAULT_ROUTES_YAML.replace('mymagento', appConfig?.name ?? 'mymagento'), {
    appName: appConfig?.name,
  });
  const env = parseEnvConfig(files[ENV_FILE] ?? '');
  for (const r of [services, routes, env]) {
    warnings.push(...r.warnings);
    notes.push(...r.notes);
    if (!r.ok) issues.push(...r.issues);
  }
  let magento: MagentoConfig | undefined;
  const configText = files[CONFIG_PHP];
  if (configText !== undefined) {
    const parsed = parseMagentoConfig(configText);
    if (parsed.ok) magento = parsed.value;
    else issues.push(...parsed.issues);
  }
  const mounts = parseMounts(appConfig?.mounts, issues);
  const locations = parseWebLocations(appConfig?.web?.locations, APP_FILE, issues);
  const crons = parseCrons(appConfig?.crons, APP_FILE, issues);
  const start = parseWebStart(appConfig?.web, issues);

  if (appConfig && services.ok) {
    // Relationships naming services that do not exist are caught now, in the build.
    const rel = computeRelationships(appConfig.relationships ?? {}, services.value, { project: 'p', environment: 'e' });
    if (!rel.ok) issues.push(...rel.issues);
  }
  if (issues.length > 0 || !appConfig || !services.ok || !routes.ok || !env.ok) {
    return { ok: false, issues, warnings, notes };
  }
  const variables: Record<string, string> = {};
  for (const [k, v] of Object.entries(appConfig.variables?.env ?? {})) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) {
      return { ok: false, issues: [{ file: APP_FILE, path: `variables.env.${k}`, reason: 'not a valid environment variable name' }], warnings, notes };
    }
    variables[k] = typeof v === 'string' ? v : JSON.stringify(v);
  }
  return {
    ok: true,
    warnings,
    notes,
    manifest: {
      appName: appConfig.name,
      appType: appConfig.type.trim(),
      extensions: declaredExtensions(appConfig.runtime),
      webRoot: webRootOf(appConfig),
      locations,
      hooks: {
        build: appConfig.hooks?.build ?? '',
        deploy: appConfig.hooks?.deploy ?? '',
        postDeploy: appConfig.hooks?.post_deploy ?? '',
      },
      variables,
      appRelationships: appConfig.relationships ?? {},
      services: services.value,
      routes: routes.value,
      mounts,
      staticContent: decideStaticContent(env.value, magento),
      // As written: the warm-up resolves relative pages against each route's base URL and says
      // why it skips a pattern form.
      warmUpPages: envVariable(env.value, 'post-deploy', 'WARM_UP_PAGES'),
      warmUpConcurrency: envVariable(env.value, 'post-deploy', 'WARM_UP_CONCURRENCY'),
      ttfbPages: envVariable(env.value, 'post-deploy', 'TTFB_TESTED_PAGES'),
      crons,
      ...(start ? { webStart: start.command, upstream: start.family } : {}),
    },
  };
}

/**
 * `web.commands.start` and `web.upstream.socket_family` (Platform.sh): the command that runs a
 * non-PHP application's own server, which listens on $PORT (tcp, the default) or on $SOCKET
 * (unix); nginx passes the locations' passthru requests to it.
 */
function parseWebStart(web: unknown, issues: ConfigIssue[]): { command: string; family: 'tcp' | 'unix' } | undefined {
  if (typeof web !== 'object' || web === null) return undefined;
  const w = web as { commands?: unknown; upstream?: unknown };
  const command = (w.commands as { start?: unknown } | undefined)?.start;
  if (w.commands === undefined || command === undefined) return undefined;
  if (typeof command !== 'string' || command.trim() === '') {
    issues.push({ file: APP_FILE, path: 'web.commands.start', reason: 'must be the command that starts the application (a non-empty string)' });
    return undefined;
  }
  const family = (w.upstream as { socket_family?: unknown } | undefined)?.socket_family ?? 'tcp';
  if (family !== 'tcp' && family !== 'unix') {
    issues.push({ file: APP_FILE, path: 'web.upstream.socket_family', reason: 'must be "tcp" or "unix"' });
    return undefined;
  }
  return { command, family };
}
