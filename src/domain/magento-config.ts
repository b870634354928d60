/**
 * What Slipway needs from Magento's `app/etc/config.php` (written by `bin/magento app:config:dump`):
 * the websites and stores, the themes and locales to build static content for, and the modules.
 * Every section is optional; unknown keys are kept and ignored. Pure TS: bundled into workflow code.
 */
import { z } from 'zod';
import { type ConfigIssue, zodIssues } from './app-config';
import { parsePhpReturnArray, PhpParseError, type PhpValue } from './php-array';

export interface ThemeRef {
  area: string;
  vendor: string;
  name: string;
  /** 'Vendor/name' of the parent theme in the same area, if any */
  parent?: string;
}

export interface MagentoConfig {
  websites: string[]; // codes under scopes.websites
  stores: string[]; // codes under scopes.stores
  /** true when scopes declares at least one website or store (any entry in scopes.websites or scopes.stores) */
  hasScopes: boolean;
  themes: ThemeRef[]; // from the `themes` section
  /** locales used: system.default.general.locale.code (default 'en_US' when absent) plus every system.websites.*.general.locale.code and system.stores.*.general.locale.code; sorted, unique */
  locales: string[];
  modules: Record<string, number>; // from `modules`, values 0/1
}

export type ParsedConfig = { ok: true; value: MagentoConfig } | { ok: false; issues: ConfigIssue[] };

export const CONFIG_PHP = 'app/etc/config.php';

const DEFAULT_LOCALE = 'en_US';
const THEME_KEY = /^([^/\s]+)\/([^/\s]+)\/([^/\s]+)$/;
/** A theme as "Vendor/name" (its area left out), as parent_id and ece-tools' theme lists name it. */
export const THEME_PATH = /^[^/\s]+\/[^/\s]+$/;
// Language, optional script (zh_Hans_CN, sr_Latn_RS), country: the shape of Magento's locale codes.
export const LOCALE = /^[a-z]{2,3}(?:_[A-Z][a-z]{3})?_[A-Z]{2}$/;

// PHP has a single array type, and the parser turns an empty one, or one keyed 0..n-1, into a
// JS list. So a map accepts any list (keyed by index), and a settings array accepts an empty list.
const listAsMap = (v: unknown): unknown => (Array.isArray(v) ? Object.fromEntries(v.entries()) : v);
const emptyAsSettings = (v: unknown): unknown => (Array.isArray(v) && v.length === 0 ? {} : v);

const phpMap = <T extends z.ZodType>(value: T, what: string) =>
  z.preprocess(listAsMap, z.record(z.string(), value, { error: `must be an array of ${what}, keyed by name` }));

const settings = <S extends z.ZodRawShape>(shape: S, what: string) =>
  z.preprocess(emptyAsSettings, z.looseObject(shape, { error: `must be an array of ${what}, keyed by name` }));

const localeCode = z
  .string({ error: 'must be a locale code such as "en_US" (a string)' })
  .regex(LOCALE, 'must be a locale code such as "en_US", "fr_FR" or "zh_Hans_CN"');

const localeSettings = settings({ code: localeCode.optional() }, 'locale settings');
const scopeSettings = settings(
  { general: settings({ locale: localeSettings.optional() }, 'general settings').optional() },
  'configuration settings',
);

const theme = settings(
  {
    parent_id: z
      .string({ error: 'must be null or the parent theme as "Vendor/name"' })
      .regex(THEME_PATH, 'must be null or the parent theme as "Vendor/name"')
      .nullable()
      .optional(),
    theme_path: z.string({ error: 'must be the theme as "Vendor/name" (a string)' }).optional(),
    area: z.string({ error: 'must be an area such as "frontend" (a string)' }).optional(),
  },
  'theme settings',
);

const configSchema = z.looseObject({
  modules: phpMap(z.literal([0, 1], { error: 'must be 0 (disabled) or 1 (enabled)' }), 'module flags').optional(),
  scopes: settings(
    {
      websites: phpMap(settings({}, 'website settings'), 'websites').optional(),
      stores: phpMap(settings({}, 'store settings'), 'stores').optional(),
    },
    'scope sections',
  ).optional(),
  themes: phpMap(theme, 'themes').optional(),
  system: settings(
    {
      default: scopeSettings.optional(),
      websites: phpMap(scopeSettings, 'website settings').optional(),
      stores: phpMap(scopeSettings, 'store settings').optional(),
    },
    'configuration scopes',
  ).optional(),
});

/**
 * A theme's key restates its area and path; checked on the raw value, next to the schema, so
 * that a bad key is reported even when another part of the file fails the schema.
 */
function themeIssues(themes: unknown): ConfigIssue[] {
  if (typeof themes !== 'object' || themes === null) return [];
  const issues: ConfigIssue[] = [];
  const issue = (path: string, reason: string): number => issues.push({ file: CONFIG_PHP, path, reason });
  for (const [key, entry] of Object.entries(themes)) {
    const parts = THEME_KEY.exec(key);
    if (!parts) {
      issue(`themes.${key}`, 'the key must be "<area>/<Vendor>/<name>", such as "frontend/Magento/luma"');
      continue;
    }
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) continue;
    const { area, theme_path: path } = entry as { area?: unknown; theme_path?: unknown };
    const [, keyArea, vendor, name] = parts;
    if (typeof area === 'string' && area !== keyArea) {
      issue(`themes.${key}.area`, `is "${area}" but the key says "${keyArea}"`);
    }
    if (typeof path === 'string' && path !== `${vendor}/${name}`) {
      issue(`themes.${key}.theme_path`, `is "${path}" but the key says "${vendor}/${name}"`);
    }
  }
  return issues;
}

export function parseMagentoConfig(source: string): ParsedConfig {
  const failed = (issues: ConfigIssue[]): ParsedConfig => ({ ok: false, issues });
  let raw: PhpValue;
  try {
    raw = parsePhpReturnArray(source);
  } catch (e) {
    if (e instanceof PhpParseError) return failed([{ file: CONFIG_PHP, path: '', reason: e.message }]);
    throw e;
  }
  if (Array.isArray(raw) && raw.length > 0) {
    const reason = 'must return an array keyed by section ("modules", "scopes", "themes", "system"), not a list';
    return failed([{ file: CONFIG_PHP, path: '', reason }]);
  }
  const top = Array.isArray(raw) ? {} : (raw as Record<string, PhpValue>);
  const parsed = configSchema.safeParse(top);
  const issues = [...(parsed.success ? [] : zodIssues(CONFIG_PHP, parsed.error)), ...themeIssues(top.themes)];
  if (!parsed.success || issues.length > 0) return failed(issues);

  const { modules = {}, scopes, themes = {}, system } = parsed.data;
  const websites = Object.keys(scopes?.websites ?? {});
  const stores = Object.keys(scopes?.stores ?? {});
  const locales = new Set([system?.default?.general?.locale?.code ?? DEFAULT_LOCALE]);
  for (const scope of [...Object.values(system?.websites ?? {}), ...Object.values(system?.stores ?? {})]) {
    const code = scope.general?.locale?.code;
    if (code !== undefined) locales.add(code);
  }
  return {
    ok: true,
    value: {
      websites,
      stores,
      hasScopes: websites.length + stores.length > 0,
      themes: Object.entries(themes).map(([key, entry]): ThemeRef => {
        // The key was checked by themeIssues, so it has its three parts.
        const [, area = '', vendor = '', name = ''] = THEME_KEY.exec(key) ?? [];
        return { area, vendor, name, ...(entry.parent_id ? { parent: entry.parent_id } : {}) };
      }),
      locales: [...locales].sort(),
      modules: { ...modules },
    },
  };
}
