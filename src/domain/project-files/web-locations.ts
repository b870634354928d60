/**
 * `web.locations` of `.magento.app.yaml`, as Magento Cloud (Platform.sh) reads them: which
 * directory serves which URL prefix, which files may be served as they are, where missing or
 * disallowed files go (`passthru`), and the per-location `rules` (regular expressions on the
 * request path that override `allow`/`passthru`, or rewrite the request with `$name`/`$1`).
 * Pure: the router asks `resolveRequest` what a path means, then looks at the disk.
 */
import type { ConfigIssue } from '../app-config';

/** One rule of a location: the first whose pattern matches the request path applies. */
export interface LocationRule {
  /** The pattern as written in the file (PCRE). */
  source: string;
  /** The same pattern for JavaScript's RegExp (PCRE's `(?P<name>` written `(?<name>`). */
  pattern: string;
  allow?: boolean;
  /** A path: the request is rewritten to it (`$name` and `$1` substituted); false: no passthru. */
  passthru?: string | false;
  /** Whether `.php` files matched by the rule are executed (else never served, only passed through). */
  scripts?: boolean;
  /** Seconds browsers may cache static files matched by the rule; -1: no caching headers. */
  expires?: number;
  /** Headers added to static files matched by the rule (over the location's). */
  headers?: Record<string, string>;
}

export interface WebLocation {
  /** The URL prefix, e.g. "/" or "/static". */
  path: string;
  /** Directory relative to the application root ("" or "." is the root itself). */
  root: string;
  /** Where a missing or disallowed file goes: a path such as "/index.php", or false. */
  passthru: string | false;
  index: string[];
  /** Whether files may be served as they are (rules may say otherwise per path). */
  allow: boolean;
  rules: LocationRule[];
  /**
   * Whether `.php` files under the location are executed by PHP (false when absent: they are
   * then passed through, never served as files). Absent in releases staged before it was kept.
   */
  scripts?: boolean;
  /** Seconds browsers may cache static files (Expires, Cache-Control); -1 or absent: no such headers. */
  expires?: number;
  /** Headers added to static files served from the location. */
  headers?: Record<string, string>;
}

/** One segment of a root: a name of the application's tree, never hidden (".x") nor "..". */
const ROOT_SEGMENT = /^[A-Za-z0-9_@+-][A-Za-z0-9._@+-]*$/;
/** An index file name: no directory, not hidden. */
const INDEX_NAME = /^[^/\s.][^/\s]*$/;
/** A URL path: starts with "/", no "..", "//", whitespace or query. */
const URL_PATH = /^\/(?!.*(^|\/)\.\.?(\/|$))[^\s?#]*$/;
const MAX_REWRITES = 10;
/** An HTTP header name (a token; no `$`, which the web server would read as a variable). */
const HEADER_NAME = /^[A-Za-z0-9!#%&'*+.^_`|~-]+$/;
/** A header value: printable characters, spaces and tabs; never CR, LF or another control character. */
const HEADER_VALUE = /^[\t\x20-\x7e\xa0-\uffff]*$/;
/** Platform.sh's units of `expires`, in seconds. */
const EXPIRES_UNITS: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86400, w: 604800, M: 2592000, y: 31536000 };

/** The locations an application has when it declares none: `pub/` at "/", as before. */
export const DEFAULT_LOCATIONS: WebLocation[] = [{ path: '/', root: 'pub', passthru: false, index: ['index.html'], allow: true, rules: [] }];

/** The locations of a release staged before locations were recorded: its web root at "/". */
export function locationsForWebRoot(webRoot: string): WebLocation[] {
  return [{ ...DEFAULT_LOCATIONS[0]!, root: webRoot }];
}

/** PCRE → JavaScript: named groups `(?P<n>…)`; anything JS cannot compile is reported. */
function toJsPattern(source: string): { pattern: string } | { error: string } {
  const pattern = source.replace(/\(\?P</g, '(?<');
  try {
    new RegExp(pattern);
    return { pattern };
  } catch (e) {
    return { error: `is not a regular expression this engine can use: ${(e as Error).message}` };
  }
}

const isMap = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The key of a location in messages: `web.locations."/static"`. */
export const locationKey = (prefix: string): string => `web.locations.${JSON.stringify(prefix)}`;

/**
 * A location's root, relative to the application ("" for the application itself), or why it
 * is refused: the router serves nothing outside the application, and no hidden directory.
 */
export function parseRoot(raw: string): { root: string } | { error: string } {
  if (raw.startsWith('/')) {
    return { error: `must be a directory relative to the application, such as "pub", not the absolute path ${JSON.stringify(raw)}` };
  }
  const segments = raw.split('/').filter((s) => s !== '' && s !== '.');
  if (segments.includes('..')) return { error: 'must be a directory inside the application, without ".."' };
  const bad = segments.find((s) => !ROOT_SEGMENT.test(s));
  if (bad !== undefined) {
    return {
      error: bad.startsWith('.')
        ? `must not pass through the hidden directory ${JSON.stringify(bad)}: hidden files are never served`
        : `must be a directory path of letters, digits and . _ @ + -, not ${JSON.stringify(raw)}`,
    };
  }
  return { root: segments.join('/') };
}

function passthruOf(value: unknown, at: string, issues: ConfigIssue[], file: string): string | false | undefined {
  if (value === undefined) return undefined;
  if (value === false) return false;
  if (value === true) return '/index.php'; // Platform.sh: true means the application's front controller
  if (typeof value === 'string' && URL_PATH.test(value)) return value;
  issues.push({ file, path: `${at}.passthru`, reason: `must be false or a path starting with "/", such as "/index.php", not ${JSON.stringify(value)}` });
  return undefined;
}

/**
 * `expires`: seconds (a number or "30", "1h", "1y", "500ms"), -1 for none. Undefined when
 * absent; pushes an issue and returns undefined when it is no duration.
 */
function expiresOf(value: unknown, at: string, issues: ConfigIssue[], file: string): number | undefined {
  if (value === undefined) return undefined;
  const m = typeof value === 'number' ? [String(value), String(value), ''] : typeof value === 'string' ? /^\s*(-?\d+)\s*(ms|s|m|h|d|w|M|y)?\s*$/.exec(value) : null;
  const n = m ? Number(m[1]) : NaN;
  if (!m || !Number.isInteger(n) || n < -1) {
    issues.push({ file, path: `${at}.expires`, reason: `must be -1 or a duration such as 3600, "1h", "7d" or "1y" (units ms, s, m, h, d, w, M, y), not ${JSON.stringify(value)}` });
    return undefined;
  }
  if (n === -1) return -1;
  return Math.round(n * EXPIRES_UNITS[m[2] || 's']!);
}

function booleanOf(value: unknown, at: string, key: string, issues: ConfigIssue[], file: string): boolean | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'boolean') return value;
  issues.push({ file, path: `${at}.${key}`, reason: 'must be true or false' });
  return undefined;
}

/** `headers`: a map of header name → value, each checked so that no response can be split or rewritten. */
function headersOf(value: unknown, at: string, issues: ConfigIssue[], file: string): Record<string, string> | undefined {
  if (value === undefined) return undefined;
  if (!isMap(value)) {
    issues.push({ file, path: `${at}.headers`, reason: 'must be a map of header name → value, such as {X-Frame-Options: SAMEORIGIN}' });
    return undefined;
  }
  const out: Record<string, string> = {};
  for (const [name, raw] of Object.entries(value)) {
    const key = `${at}.headers.${JSON.stringify(name)}`;
    if (!HEADER_NAME.test(name) || name.length > 256) {
      issues.push({ file, path: key, reason: `must be an HTTP header name (letters, digits and - _ . !), not ${JSON.stringify(name)}` });
      continue;
    }
    const text = typeof raw === 'number' || typeof raw === 'boolean' ? String(raw) : raw;
    if (typeof text !== 'string' || !HEADER_VALUE.test(text) || text.length > 4096) {
      issues.push({ file, path: key, reason: 'must be a header value on one line, without control characters' });
      continue;
    }
    out[name] = text;
  }
  return out;
}

/** The validated locations of `web.locations`; problems are pushed onto `issues`. */
export function parseWebLocations(raw: Record<string, unknown> | undefined, file: string, issues: ConfigIssue[]): WebLocation[] {
  if (!raw || Object.keys(raw).length === 0) return DEFAULT_LOCATIONS;
  const out: WebLocation[] = [];
  for (const [prefix, spec] of Object.entries(raw)) {
    const at = locationKey(prefix);
    if (!URL_PATH.test(prefix)) {
      issues.push({ file, path: at, reason: 'a location must be a URL path starting with "/", such as "/" or "/static"' });
      continue;
    }
    if (!isMap(spec)) continue; // the schema reports it
    const parsedRoot = parseRoot(typeof spec.root === 'string' ? spec.root : '');
    if ('error' in parsedRoot) {
      issues.push({ file, path: `${at}.root`, reason: parsedRoot.error });
      continue;
    }
    const { root } = parsedRoot;
    const rules: LocationRule[] = [];
    if (spec.rules !== undefined && !isMap(spec.rules)) {
      issues.push({ file, path: `${at}.rules`, reason: 'must be a map of regular expression → {allow, passthru, …}' });
    }
    for (const [source, rule] of Object.entries(isMap(spec.rules) ? spec.rules : {})) {
      const ruleAt = `${at}.rules.${source}`;
      const compiled = toJsPattern(source);
      if ('error' in compiled) {
        issues.push({ file, path: ruleAt, reason: compiled.error });
        continue;
      }
      if (!isMap(rule)) {
        issues.push({ file, path: ruleAt, reason: 'must be a map such as {allow: true} or {passthru: "/index.php"}' });
        continue;
      }
      const allow = booleanOf(rule.allow, ruleAt, 'allow', issues, file);
      const scripts = booleanOf(rule.scripts, ruleAt, 'scripts', issues, file);
      const passthru = passthruOf(rule.passthru, ruleAt, issues, file);
      const expires = expiresOf(rule.expires, ruleAt, issues, file);
      const headers = headersOf(rule.headers, ruleAt, issues, file);
      rules.push({
        source,
        pattern: compiled.pattern,
        ...(allow !== undefined ? { allow } : {}),
        ...(passthru !== undefined ? { passthru } : {}),
        ...(scripts !== undefined ? { scripts } : {}),
        ...(expires !== undefined ? { expires } : {}),
        ...(headers !== undefined ? { headers } : {}),
      });
    }
    const allow = booleanOf(spec.allow, at, 'allow', issues, file);
    const scripts = booleanOf(spec.scripts, at, 'scripts', issues, file);
    const expires = expiresOf(spec.expires, at, issues, file);
    const headers = headersOf(spec.headers, at, issues, file);
    // Without an index list a directory serves its index.html, as the web server does by default.
    const index = Array.isArray(spec.index) ? spec.index.filter((i): i is string => typeof i === 'string') : ['index.html'];
    index.forEach((name, i) => {
      if (!INDEX_NAME.test(name)) issues.push({ file, path: `${at}.index.${i}`, reason: `must be a file name such as "index.html", not ${JSON.stringify(name)}` });
    });
    out.push({
      path: prefix,
      root,
      passthru: passthruOf(spec.passthru, at, issues, file) ?? false,
      index,
      allow: allow ?? true,
      rules,
      scripts: scripts ?? false,
      expires: expires ?? -1,
      headers: headers ?? {},
    });
  }
  return out;
}

/** The directory that serves "/" (what older releases record as their web root). */
export function webRootOfLocations(locations: readonly WebLocation[]): string {
  return locations.find((l) => l.path === '/')?.root || '.';
}

/** What a request path means: a file to serve, a passthru, or nothing. */
export type ResolvedRequest =
  | {
      kind: 'file';
      location: WebLocation;
      /** The request path after rewrites. */
      path: string;
      /** The file (or directory, for an index) relative to the application root. */
      file: string;
      /** May the file be served as it is? (else: passthru) */
      allow: boolean;
      passthru: string | false;
    }
  | { kind: 'none'; reason: string };

function inLocation(urlPath: string, prefix: string): boolean {
  if (prefix === '/') return true;
  const p = prefix.replace(/\/+$/, '');
  return urlPath === p || urlPath.startsWith(`${p}/`);
}

/** `$name`, `${name}` and `$1` of a rule's passthru, from its match. */
function substitute(template: string, m: RegExpExecArray): string {
  return template.replace(/\$(?:\{(\w+)\}|(\w+))/g, (_all, braced: string | undefined, bare: string | undefined) => {
    const name = braced ?? bare ?? '';
    const value = /^\d+$/.test(name) ? m[Number(name)] : m.groups?.[name];
    return value ?? '';
  });
}

/**
 * Resolves a request path against the locations: the longest matching prefix, its first
 * matching rule (whose passthru rewrites the request, resolved again), the file within the
 * location's root.
 */
export function resolveRequest(locations: readonly WebLocation[], requestPath: string): ResolvedRequest {
  let urlPath = requestPath;
  for (let rewrites = 0; rewrites <= MAX_REWRITES; rewrites++) {
    const location = locations
      .filter((l) => inLocation(urlPath, l.path))
      .sort((a, b) => b.path.length - a.path.length)[0];
    if (!location) return { kind: 'none', reason: 'no location serves this path' };
    let allow = location.allow;
    let passthru = location.passthru;
    let rewrite: string | undefined;
    for (const rule of location.rules) {
      const m = new RegExp(rule.pattern).exec(urlPath);
      if (!m) continue;
      if (rule.allow !== undefined) allow = rule.allow;
      if (typeof rule.passthru === 'string') rewrite = substitute(rule.passthru, m);
      else if (rule.passthru === false) passthru = false;
      break;
    }
    if (rewrite !== undefined && rewrite !== urlPath) {
      if (!URL_PATH.test(rewrite)) return { kind: 'none', reason: `a rule rewrote the path to ${JSON.stringify(rewrite)}, which is no path` };
      urlPath = rewrite;
      continue;
    }
    const rest = location.path === '/' ? urlPath : urlPath.slice(location.path.replace(/\/+$/, '').length);
    const file = [location.root, rest.replace(/^\/+/, '')].filter((s) => s !== '').join('/');
    return { kind: 'file', location, path: urlPath, file, allow, passthru };
  }
  return { kind: 'none', reason: `more than ${MAX_REWRITES} rewrites` };
}
