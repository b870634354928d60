/**
 * The pages of WARM_UP_PAGES and TTFB_TESTED_PAGES: what each entry is, and the request path it
 * stands for. Pure, so the warm-up can classify the entries the validation accepted.
 */
import { describeValue } from './yaml-file';

/** The catalogue entities of ece-tools' warm-up patterns. */
export const PATTERN_ENTITIES = ['category', 'cms-page', 'product', 'store-page'] as const;
export type PatternEntity = (typeof PATTERN_ENTITIES)[number];

export type PageClass =
  /** "/checkout": a path on the store's host. */
  | { kind: 'path'; path: string }
  /** "index.php/customer/account/create": relative to the base URL; `path` is it under a base URL at the host's root. */
  | { kind: 'relative'; page: string; path: string }
  /** "https://shop.example.com/sale": `path` is its path and query. */
  | { kind: 'url'; url: string; host: string; path: string }
  /**
   * "category:*:*", "product:sku1|sku2:default": pages ece-tools looks up in the catalogue
   * (`entity:pattern:stores`, stores being "*" or codes joined by "|"). Slipway has no catalogue
   * to ask, so these are skipped.
   */
  | { kind: 'pattern'; entity: PatternEntity; pattern: string; stores: '*' | string[] }
  /** Anything else, with the reason. */
  | { kind: 'invalid'; reason: string };

const SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*:/;
const HTTP = /^https?:\/\//i;
const PATTERN = new RegExp(`^(${PATTERN_ENTITIES.join('|')}):([^:]+):(\\*|\\w+(?:\\|\\w+)*)$`);
const PATTERN_PREFIX = new RegExp(`^(${PATTERN_ENTITIES.join('|')}):`);
const PATTERN_SHAPE = `"<${PATTERN_ENTITIES.join('|')}>:<pattern>:<store codes joined by "|", or *>"`;

/** Whitespace of any kind, or a control character. */
function hasUnsafeCharacter(entry: string): boolean {
  if (/\s/.test(entry)) return true;
  return [...entry].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f);
}

/** An http(s) URL with a host, or why not. */
function classifyUrl(entry: string): PageClass {
  let url: URL;
  try {
    url = new URL(entry);
  } catch {
    return { kind: 'invalid', reason: `${JSON.stringify(entry)} is not a valid URL` };
  }
  if (url.hostname === '') return { kind: 'invalid', reason: `${JSON.stringify(entry)} names no host` };
  return { kind: 'url', url: entry, host: url.host, path: `${url.pathname}${url.search}` };
}

/** A warm-up pattern, or why its shape is wrong. */
function classifyPattern(entry: string): PageClass {
  const m = PATTERN.exec(entry);
  if (!m) return { kind: 'invalid', reason: `${JSON.stringify(entry)} is not a warm-up pattern of the shape ${PATTERN_SHAPE}` };
  const [, entity = '', pattern = '', stores = ''] = m;
  return { kind: 'pattern', entity: entity as PatternEntity, pattern, stores: stores === '*' ? '*' : stores.split('|') };
}

/**
 * What one entry of WARM_UP_PAGES (or TTFB_TESTED_PAGES) is: a path starting with "/", a page
 * relative to the base URL ("index.php"), an http(s) URL, an ece-tools pattern
 * ("category:*:*"), or invalid with the reason. Entries are strings without whitespace; a
 * leading "//" (a URL without its scheme) and schemes other than http(s) are refused.
 */
export function classifyPage(entry: unknown): PageClass {
  if (typeof entry !== 'string') return { kind: 'invalid', reason: `must be a string, not ${describeValue(entry)}` };
  if (entry === '') return { kind: 'invalid', reason: 'is empty: use "/" for the home page' };
  if (hasUnsafeCharacter(entry)) return { kind: 'invalid', reason: `${JSON.stringify(entry)} contains whitespace or control characters` };
  if (entry.startsWith('//')) return { kind: 'invalid', reason: `${JSON.stringify(entry)} starts with "//": write the URL with http:// or https://` };
  if (entry.startsWith('/')) return { kind: 'path', path: entry };
  if (HTTP.test(entry)) return classifyUrl(entry);
  if (PATTERN_PREFIX.test(entry)) return classifyPattern(entry);
  if (SCHEME.test(entry)) {
    return { kind: 'invalid', reason: `${JSON.stringify(entry)} is not an http(s) URL: only web pages can be requested` };
  }
  return { kind: 'relative', page: entry, path: `/${entry}` };
}

