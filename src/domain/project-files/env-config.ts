/**
 * `.magento.env.yaml`: ece-tools' per-stage deployment variables. A name is one of three kinds:
 * - a variable Slipway acts on (KNOWN_ENV_VARIABLES): typed and validated, a wrong value is an issue;
 * - another variable ece-tools documents (ece-variables.ts): accepted, kept, and reported as a note;
 * - anything else: a warning, naming the documented variable it most likely misspells.
 * A documented variable set in a stage it does not belong to is a warning, and is dropped.
 * Unknown stages and wrong types are issues.
 */
import { z } from 'zod';
import type { ConfigIssue } from '../app-config';
import { LOCALE, THEME_PATH } from '../magento-config';
import { ECE_VARIABLES, ENV_STAGES, isEceVariable, suggestVariable, type EceVariableName, type EnvStage } from './ece-variables';
import { classifyPage } from './pages';
import { describeValue, isMap, parseYamlMap, zodIssuesAt, type Parsed } from './yaml-file';

export { ENV_STAGES, type EnvStage } from './ece-variables';
export { classifyPage, type PageClass } from './pages';

export const ENV_FILE = '.magento.env.yaml';

/** One variable's value as read: the value (undefined: as if not set) and warnings, or the issues that refuse it. */
type Read<T> = { ok: true; value: T | undefined; warnings: ConfigIssue[] } | { ok: false; issues: ConfigIssue[] };

/** How Slipway reads one of its variables, and the value it has when no stage sets it. */
interface Typed<T> {
  read: (raw: unknown, at: string) => Read<T>;
  fallback: () => T;
}

function typed<T>(read: Typed<T>['read'], fallback: () => T): Typed<T> {
  return { read, fallback };
}

function issue(path: string, reason: string): ConfigIssue {
  return { file: ENV_FILE, path, reason };
}

/** The value in a reason: a string quoted, anything else described. */
function shown(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : describeValue(value);
}

/** A Read from what a reader collected: refused if it found any issue. */
function outcome<T>(issues: ConfigIssue[], value: T | undefined, warnings: ConfigIssue[] = []): Read<T> {
  return issues.length > 0 ? { ok: false, issues } : { ok: true, value, warnings };
}

/** A reader from a zod schema, its issues located under the variable. */
function fromZod<T>(schema: z.ZodType<T>): Typed<T>['read'] {
  return (raw, at) => {
    const parsed = schema.safeParse(raw);
    return parsed.success ? outcome([], parsed.data) : outcome<T>(zodIssuesAt(ENV_FILE, at, parsed.error), undefined);
  };
}

const bool = fromZod(z.boolean({ error: 'must be true or false' }));
const map = fromZod(z.record(z.string(), z.unknown(), { error: 'must be a map' }));
const threads = 'must be a whole number from 1 to 64';

/** SCD_MATRIX: theme "Vendor/name" → the locales to deploy it in. No locales: the theme is left out. */
export type ScdMatrix = Record<string, { language: string[] }>;

/** One theme's entry of SCD_MATRIX. As in ece-tools, an empty entry ([], {}, nothing) leaves the theme out. */
function readThemeLocales(raw: unknown, at: string, issues: ConfigIssue[]): { language: string[] } | undefined {
  if (raw === null || raw === undefined || (Array.isArray(raw) && raw.length === 0)) return { language: [] };
  if (!isMap(raw)) {
    issues.push(issue(at, `must be {language: [locale, …]}, or empty to leave the theme out, not ${describeValue(raw)}`));
    return undefined;
  }
  for (const key of Object.keys(raw)) {
    if (key !== 'language') issues.push(issue(`${at}.${key}`, 'unknown key: a theme takes only "language", its list of locale codes'));
  }
  const language = raw.language ?? [];
  if (!Array.isArray(language)) {
    issues.push(issue(`${at}.language`, `must be a list of locale codes such as [en_US, fr_FR], not ${describeValue(language)}`));
    return undefined;
  }
  language.forEach((code, i) => {
    if (typeof code !== 'string' || !LOCALE.test(code)) {
      issues.push(issue(`${at}.language.${i}`, `must be a locale code such as "en_US", "fr_FR" or "zh_Hans_CN", not ${shown(code)}`));
    }
  });
  return { language: language as string[] };
}

function readScdMatrix(raw: unknown, at: string): Read<ScdMatrix> {
  if (Array.isArray(raw) && raw.length === 0) return outcome([], {}); // PHP's empty array
  if (!isMap(raw)) {
    return outcome([issue(at, `must be a map of theme "Vendor/name" → {language: [locale, …]}, not ${describeValue(raw)}`)], undefined);
  }
  const issues: ConfigIssue[] = [];
  const matrix: ScdMatrix = {};
  for (const [theme, entry] of Object.entries(raw)) {
    if (!THEME_PATH.test(theme)) {
      issues.push(issue(`${at}.${theme}`, `${JSON.stringify(theme)} is not a theme: use "Vendor/name", e.g. "Magento/backend"`));
      continue;
    }
    const locales = readThemeLocales(entry, `${at}.${theme}`, issues);
    if (locales) matrix[theme] = locales;
  }
  return outcome(issues, matrix);
}

/** The themes of SCD_EXCLUDE_THEMES ("Magento/luma, Vendor/theme"), trimmed; empty items are none. */
export function excludedThemes(value: string): string[] {
  return value
    .split(',')
    .map((theme) => theme.trim())
    .filter((theme) => theme !== '');
}

function readExcludedThemes(raw: unknown, at: string): Read<string> {
  if (typeof raw !== 'string') {
    return outcome([issue(at, `must be a comma-separated list of themes such as "Magento/luma, Vendor/theme", not ${describeValue(raw)}`)], undefined);
  }
  const wrong = excludedThemes(raw).filter((theme) => !THEME_PATH.test(theme));
  return outcome(
    wrong.map((theme) => issue(at, `${JSON.stringify(theme)} is not a theme: use "Vendor/name", e.g. "Magento/luma"`)),
    raw,
  );
}

const PAGE_FORMS = 'a path such as "/checkout", a page relative to the base URL such as "index.php", or an http(s) URL';

/**
 * A list of pages: every entry a path, a relative page or an http(s) URL. With `patterns`,
 * ece-tools' catalogue patterns are accepted too, each with a warning that Slipway skips it.
 */
function pagesReader(patterns: boolean): Typed<string[]>['read'] {
  const forms = patterns ? `${PAGE_FORMS}, or an ece-tools pattern such as "category:*:*"` : PAGE_FORMS;
  return (raw, at) => {
    if (!Array.isArray(raw)) return outcome([issue(at, `must be a list of pages (${forms}), not ${describeValue(raw)}`)], undefined);
    const issues: ConfigIssue[] = [];
    const warnings: ConfigIssue[] = [];
    raw.forEach((entry: unknown, i) => {
      const page = classifyPage(entry);
      if (page.kind === 'invalid') issues.push(issue(`${at}.${i}`, `${page.reason}; a page is ${forms}`));
      else if (page.kind === 'pattern' && patterns) {
        warnings.push(issue(`${at}.${i}`, `${shown(entry)} is an ece-tools pattern: it needs the catalogue (a running Magento), so Slipway skips it`));
      } else if (page.kind === 'pattern') issues.push(issue(`${at}.${i}`, `${shown(entry)} is a warm-up pattern, not a page; a page is ${forms}`));
    });
    return outcome(issues, raw as string[], warnings);
  };
}

/** Slipway sends at most this many warm-up requests at a time. */
const MAX_WARM_UP_CONCURRENCY = 64;

/** WARM_UP_CONCURRENCY: 1 or more, capped. 0 is ece-tools' own default ("not set") and reads as unset. */
function readConcurrency(raw: unknown, at: string): Read<number> {
  if (typeof raw !== 'number' || !Number.isInteger(raw) || raw < 0) {
    return outcome([issue(at, `must be a whole number of requests at a time, 1 or more, not ${shown(raw)}`)], undefined);
  }
  if (raw === 0) return outcome([], undefined);
  if (raw <= MAX_WARM_UP_CONCURRENCY) return outcome([], raw);
  const cap = MAX_WARM_UP_CONCURRENCY;
  return outcome([], cap, [issue(at, `${raw} requests at a time is more than Slipway sends; it sends ${cap}`)]);
}

/**
 * The variables Slipway acts on: how each is read and its value when no stage sets it. Their
 * stages are ece-tools' (ECE_VARIABLES); every one of them must be documented there.
 */
export const KNOWN_ENV_VARIABLES = {
  SCD_ON_DEMAND: typed(bool, () => false),
  SKIP_SCD: typed(bool, () => false),
  SCD_THREADS: typed(fromZod(z.int({ error: threads }).min(1, threads).max(64, threads)), () => 1),
  SCD_STRATEGY: typed(
    fromZod(z.enum(['standard', 'quick', 'compact'], { error: 'must be one of standard, quick, compact' })),
    () => 'quick' as const,
  ),
  SCD_MATRIX: typed(readScdMatrix, (): ScdMatrix => ({})),
  SCD_EXCLUDE_THEMES: typed(readExcludedThemes, () => ''),
  CLEAN_STATIC_FILES: typed(bool, () => true),
  STATIC_CONTENT_SYMLINK: typed(bool, () => true),
  VERBOSE_COMMANDS: typed(
    fromZod(z.enum(['', '-v', '-vv', '-vvv'], { error: 'must be "", "-v", "-vv" or "-vvv"' })),
    () => '' as const,
  ),
  DEPLOY_FROM_GIT_OPTIONS: typed(map, (): Record<string, unknown> => ({})),
  WARM_UP_PAGES: typed(pagesReader(true), () => ['/']),
  WARM_UP_CONCURRENCY: typed(readConcurrency, () => 1),
  TTFB_TESTED_PAGES: typed(pagesReader(false), (): string[] => []),
} satisfies { [K in EceVariableName]?: Typed<unknown> };

export type KnownEnvVariable = keyof typeof KNOWN_ENV_VARIABLES;
/** The type of a variable Slipway acts on. */
export type EnvValue<K extends KnownEnvVariable> = ReturnType<(typeof KNOWN_ENV_VARIABLES)[K]['fallback']>;
/** A stage's variables: Slipway's typed; the others ece-tools documents, and unknown ones, kept as written. */
export type EnvVariables = { [K in KnownEnvVariable]?: EnvValue<K> } & Record<string, unknown>;

export interface EnvConfig {
  stage: Record<EnvStage, EnvVariables>;
  /** ece-tools' logging section: kept, ignored. */
  log?: unknown;
  [key: string]: unknown;
}

function isKnown(name: string): name is KnownEnvVariable {
  return Object.prototype.hasOwnProperty.call(KNOWN_ENV_VARIABLES, name);
}

/** What reading the file finds besides values. */
interface Findings {
  issues: ConfigIssue[];
  warnings: ConfigIssue[];
  notes: ConfigIssue[];
}

/**
 * Sets a stage's variable as an own property: a plain assignment of "__proto__" would replace the
 * stage's prototype, and with it what every variable that is not set reads as.
 */
function keep(into: EnvVariables, name: string, value: unknown): void {
  Object.defineProperty(into, name, { value, enumerable: true, writable: true, configurable: true });
}

/** The warning for a name ece-tools does not document, with the name it most likely misspells. */
function unknownVariable(name: string, stage: EnvStage): string {
  const suggestion = suggestVariable(name);
  const unknown = `unknown variable "${name}" in stage ${stage}`;
  return suggestion ? `${unknown}; did you mean "${suggestion}"?` : `${unknown}; it is ignored`;
}

/** Reads one variable set in a stage into that stage's variables, reporting what it finds. */
function readVariable(stage: EnvStage, name: string, raw: unknown, into: EnvVariables, found: Findings): void {
  const at = `stage.${stage}.${name}`;
  if (!isEceVariable(name)) {
    found.warnings.push(issue(at, unknownVariable(name, stage)));
    keep(into, name, raw); // kept, ignored
    return;
  }
  const { stages } = ECE_VARIABLES[name];
  if (!stages.includes(stage)) {
    found.warnings.push(issue(at, `variable "${name}" does not belong in stage ${stage} (only ${stages.join(', ')}); it is ignored`));
    return;
  }
  if (!isKnown(name)) {
    found.notes.push(issue(at, `${name} (stage ${stage}) is not used by Slipway; it is accepted and ignored`));
    keep(into, name, raw);
    return;
  }
  const read = KNOWN_ENV_VARIABLES[name].read(raw, at);
  if (!read.ok) {
    found.issues.push(...read.issues);
    return;
  }
  found.warnings.push(...read.warnings);
  if (read.value !== undefined) keep(into, name, read.value);
}

export function parseEnvConfig(text: string): Parsed<EnvConfig> {
  const found: Findings = { issues: [], warnings: [], notes: [] };
  const { issues, warnings, notes } = found;
  const top = parseYamlMap(ENV_FILE, text, 'a map with a "stage" section');
  if (!top.ok) return { ...top, warnings, notes };

  const { stage: rawStages, ...rest } = top.value;
  const stages = rawStages ?? {}; // an empty `stage:` is no stage
  for (const key of Object.keys(rest)) {
    if (key !== 'log') warnings.push(issue(key, `unknown section "${key}"; it is ignored`));
  }
  const stage: EnvConfig['stage'] = { global: {}, build: {}, deploy: {}, 'post-deploy': {} };
  if (!isMap(stages)) {
    issues.push(issue('stage', `must be a map of stage → variables, not ${describeValue(stages)}`));
  } else {
    for (const [name, vars] of Object.entries(stages)) {
      const at = `stage.${name}`;
      if (!(ENV_STAGES as readonly string[]).includes(name)) {
        issues.push(issue(at, `unknown stage "${name}"; use ${ENV_STAGES.join(', ')}`));
        continue;
      }
      if (!isMap(vars ?? {})) {
        issues.push(issue(at, `must be a map of variables, not ${describeValue(vars)}`));
        continue;
      }
      for (const [variable, value] of Object.entries(vars ?? {})) {
        readVariable(name as EnvStage, variable, value, stage[name as EnvStage], found);
      }
    }
  }
  if (issues.length > 0) return { ok: false, issues, warnings, notes };
  return { ok: true, value: { ...rest, stage }, warnings, notes };
}

/** The effective value of a variable for a stage: the stage's own value, else global's, else the default. */
export function envVariable<K extends KnownEnvVariable>(
  config: EnvConfig,
  stage: 'build' | 'deploy' | 'post-deploy',
  name: K,
): EnvValue<K> {
  const own = (config.stage[stage][name] ?? config.stage.global[name]) as EnvValue<K> | undefined;
  return own ?? (KNOWN_ENV_VARIABLES[name].fallback() as EnvValue<K>);
}
