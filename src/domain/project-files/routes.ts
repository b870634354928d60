/**
 * `.magento/routes.yaml`: which URLs reach the application and which redirect. Keys are URL
 * templates such as "https://www.{default}/"; `{default}` is the environment's host name and
 * `{all}` each of its host names.
 */
import { z } from 'zod';
import type { ConfigIssue } from '../app-config';
import { parseYamlMap, zodIssuesAt, type Parsed } from './yaml-file';

export const ROUTES_FILE = '.magento/routes.yaml';

/** What to assume when a project has no routes.yaml. */
export const DEFAULT_ROUTES_YAML = '"http://{default}/":\n  type: upstream\n  upstream: "mymagento:http"\n';

/** One route. Unknown keys (`id`, `cache`, `ssi`, `attributes`, …) are kept and ignored. */
export type Route = ({ type: 'upstream'; upstream: string } | { type: 'redirect'; to: string }) & {
  id?: unknown;
  cache?: unknown;
  ssi?: unknown;
  attributes?: unknown;
  [key: string]: unknown;
};
/** URL template → route, in file order. */
export type Routes = Record<string, Route>;

export interface ResolvedRoute {
  template: string;
  url: string;
  scheme: 'http' | 'https';
  host: string;
  path: string;
  type: 'upstream' | 'redirect';
  upstream?: string;
  to?: string;
  primary: boolean;
}

// http(s)://host[/path]: no port, query or fragment. Placeholders are checked separately.
const URL_TEMPLATE = /^(https?):\/\/([^/?#\s]+)(\/[^?#\s]*)?$/;
const HOST = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/i;
const PLACEHOLDER = /\{[^{}]*\}/g;
const UPSTREAM = /^([^:\s]+):http$/;

/** The reason a URL template is unusable, or undefined when it is fine. */
function templateProblem(template: string): string | undefined {
  const placeholders = template.match(PLACEHOLDER) ?? [];
  const unknown = placeholders.find((p) => p !== '{default}' && p !== '{all}');
  if (unknown) return `unknown route placeholder "${unknown}"; use {default} or {all}`;
  if (placeholders.length > 1) return `at most one placeholder is allowed, found ${placeholders.join(', ')}`;
  const m = URL_TEMPLATE.exec(template);
  const host = m?.[2]?.replace(PLACEHOLDER, 'placeholder');
  if (!m || !host || !HOST.test(host) || /[{}]/.test(m[3] ?? '')) {
    return `must be a URL template "http(s)://<host>[/<path>]" with any placeholder in the host, e.g. "https://{default}/", not "${template}"`;
  }
  return undefined;
}

const routeSchema = z.looseObject(
  {
    type: z.enum(['upstream', 'redirect'], {
      error: (iss) => (iss.input === undefined ? 'is required: "upstream" or "redirect"' : `must be "upstream" or "redirect", not ${JSON.stringify(iss.input)}`),
    }),
    upstream: z.string({ error: 'must be "<application>:http" (a string)' }).optional(),
    to: z.string({ error: 'must be a URL template (a string)' }).optional(),
  },
  { error: 'must be a map such as {type: upstream, upstream: "mymagento:http"}' },
);

/** Parses routes.yaml. With `appName`, every upstream must name that application. */
export function parseRoutes(text: string, opts: { appName?: string } = {}): Parsed<Routes> {
  const warnings: ConfigIssue[] = [];
  const top = parseYamlMap(ROUTES_FILE, text, 'a map of URL template → route');
  if (!top.ok) return { ...top, warnings, notes: [] };

  const issues: ConfigIssue[] = [];
  const issue = (path: string, reason: string) => issues.push({ file: ROUTES_FILE, path, reason });
  const routes: Routes = {};
  for (const [template, raw] of Object.entries(top.value)) {
    // Templates contain dots and slashes, so they are quoted in key paths.
    const at = JSON.stringify(template);
    const problem = templateProblem(template);
    if (problem) issue(at, problem);
    const parsed = routeSchema.safeParse(raw);
    if (!parsed.success) {
      issues.push(...zodIssuesAt(ROUTES_FILE, at, parsed.error));
      continue;
    }
    const { upstream, to } = parsed.data;
    if (parsed.data.type === 'upstream') {
      const m = upstream === undefined ? null : UPSTREAM.exec(upstream);
      if (upstream === undefined) issue(`${at}.upstream`, 'is required for type upstream: "<application>:http", e.g. "mymagento:http"');
      else if (!m) issue(`${at}.upstream`, `must be "<application>:http", e.g. "mymagento:http", not "${upstream}"`);
      else if (opts.appName !== undefined && m[1] !== opts.appName) {
        issue(`${at}.upstream`, `upstream "${upstream}" names no application; the application is "${opts.appName}"`);
      } else if (!problem) routes[template] = { ...parsed.data, type: 'upstream', upstream };
    } else {
      const toProblem = to === undefined ? undefined : templateProblem(to);
      if (to === undefined) issue(`${at}.to`, 'is required for type redirect: a URL template such as "https://{default}/"');
      else if (toProblem) issue(`${at}.to`, toProblem);
      else if (!problem) routes[template] = { ...parsed.data, type: 'redirect', to };
    }
  }
  return issues.length > 0 ? { ok: false, issues, warnings, notes: [] } : { ok: true, value: routes, warnings, notes: [] };
}

function substitute(template: string, defaultHost: string, allHost: string): string {
  return template.replace('{default}', defaultHost).replace('{all}', allHost);
}

/**
 * Replaces {default} with defaultHost (e.g. 'integration.shop.localhost') and {all} with each
 * of allHosts (default [defaultHost]). The first upstream route to {default} is primary.
 * When two templates give the same URL, one without {all} wins, else the first.
 */
export function resolveRoutes(routes: Routes, hosts: { defaultHost: string; allHosts?: string[] }): ResolvedRoute[] {
  const out: (ResolvedRoute & { viaAll: boolean })[] = [];
  let primaryTaken = false;
  for (const [template, route] of Object.entries(routes)) {
    const viaAll = template.includes('{all}');
    const primary = !primaryTaken && route.type === 'upstream' && template.includes('{default}');
    if (primary) primaryTaken = true;
    for (const host of viaAll ? (hosts.allHosts ?? [hosts.defaultHost]) : [hosts.defaultHost]) {
      const url = substitute(template, hosts.defaultHost, host);
      const m = URL_TEMPLATE.exec(url);
      if (!m) continue; // parseRoutes only lets valid templates through
      out.push({
        template,
        url,
        scheme: m[1] === 'https' ? 'https' : 'http',
        host: (m[2] ?? '').toLowerCase(),
        path: m[3] ?? '/',
        type: route.type,
        ...(route.type === 'upstream' ? { upstream: route.upstream } : { to: substitute(route.to, hosts.defaultHost, host) }),
        primary,
        viaAll,
      });
    }
  }
  return out
    .filter((r, i) => !out.some((o, j) => o.url === r.url && j !== i && (o.viaAll === r.viaAll ? j < i : r.viaAll)))
    .map(({ viaAll: _viaAll, ...r }) => r);
}
