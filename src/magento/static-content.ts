/**
 * A native Magento static content deploy (`bin/magento setup:static-content:deploy`, no PHP):
 * publishes each theme's `web/` assets, for each locale, into `pub/static/<area>/<Vendor>/<name>/<locale>/`.
 * Themes are found as Magento finds them (./themes): `app/design/<area>/<Vendor>/<name>/`, and wherever a
 * `registration.php` of a composer package under `vendor/` registers one
 * (`ComponentRegistrar::THEME, 'frontend/Magento/blank'`), read without running PHP.
 *
 * For one (theme, locale) the published files are, from lowest to highest precedence:
 *   the parent theme's resolved files (recursively), then the theme's `web/**` (without the
 *   `web/i18n/` subtree), then the theme's `web/i18n/<locale>/**`.
 * Everything is written to `pub/static.tmp-<version>` and swapped in only once complete, so a
 * failed deploy never leaves a half-written `pub/static` behind.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { realDirectory } from './mounts';
import { isInside, linkOutOfTree } from '../tree-links';
import { LOCALE, parentId, SEGMENT, StaticContentError, themeId, ThemeCatalog, type Source, type Theme, type ThemeRef } from './themes';

export { findThemes, StaticContentError, ThemeCatalog, type ThemeRef } from './themes';

export interface StaticContentInput {
  /** application root (a build workspace or a release directory) */
  appDir: string;
  /** where the static content goes; default `<appDir>/pub/static` */
  outDir?: string;
  /** when empty: every theme found (app/design and registered under vendor/) */
  themes: ThemeRef[];
  /** e.g. ['en_US', 'fr_FR'] */
  locales: string[];
  /** SCD_EXCLUDE_THEMES: "Vendor/name" of themes not to deploy */
  exclude?: string[];
  /** SCD_MATRIX: "Vendor/name" → the locales to deploy for that theme (empty: none) */
  matrix?: Record<string, string[]>;
  /** at most this many (theme, locale) jobs at once (Magento's SCD_THREADS), ≥ 1 */
  threads: number;
  /** the deployed version, e.g. a timestamp '1732371234' or a deployment id */
  version: string;
  /** one line per job: "frontend/Luma/storefront fr_FR: 12 files in 34 ms" */
  log?: (line: string) => void;
}

export interface StaticContentResult {
  version: string;
  jobs: number;
  files: number;
  bytes: number;
  durationMs: number;
  maxConcurrency: number;
}

const VERSION = /^[A-Za-z0-9._-]{1,64}$/;
const MAX_THREADS = 64;
/** Files copied at once inside one job. */
const COPY_CONCURRENCY = 8;

/** Magento's deployed version: digits (its URLs are /static/version<N>/…), the time in seconds. */
export const staticVersion = (): string => String(Math.floor(Date.now() / 1000));

/** The themes, locales, exclusions and matrix of a static content plan, for one phase. */
export function themeSelection(
  scd: {
    themes: ThemeRef[];
    locales: string[];
    excludeThemes?: Record<'build' | 'deploy', string[]>;
    matrix?: Record<'build' | 'deploy', Record<string, string[]>>;
  },
  phase: 'build' | 'deploy',
): Pick<StaticContentInput, 'themes' | 'locales' | 'exclude' | 'matrix'> {
  return { themes: scd.themes, locales: scd.locales, exclude: scd.excludeThemes?.[phase] ?? [], matrix: scd.matrix?.[phase] ?? {} };
}

export async function deployStaticContent(input: StaticContentInput): Promise<StaticContentResult> {
  const started = performance.now();
  const log = input.log ?? (() => undefined);
  const { version } = input;
  const locales = validate(input);

  // Resolve every theme and its ancestors before touching pub/: input errors leave no trace.
  const explicit = new Map<string, ThemeRef>();
  for (const ref of input.themes) {
    checkRef(ref);
    if (!explicit.has(themeId(ref))) explicit.set(themeId(ref), ref);
  }
  const catalog = new ThemeCatalog(input.appDir, log, new Map([...explicit].map(([id, ref]) => [id, ref.parent])));
  let ids = [...explicit.keys()];
  if (ids.length === 0) {
    ids = [...(await catalog.locations()).keys()];
    if (ids.length === 0) {
      throw new StaticContentError(`no themes found under ${path.join(input.appDir, 'app', 'design')}/<area>/<Vendor>/<name>/ or registered under vendor/`);
    }
  }
  const excluded = new Set(input.exclude ?? []);
  const chains = new Map<string, Theme[]>(); // theme id → [root ancestor, …, the theme]
  for (const id of ids) {
    if (excluded.has(vendorAndName(id))) {
      log(`${id}: excluded (SCD_EXCLUDE_THEMES)`);
      continue;
    }
    chains.set(id, await catalog.chain(id));
  }

  // Publish every (theme, locale) into the temporary directory, then swap it in.
  const target = input.outDir ?? path.join(input.appDir, 'pub', 'static');
  // Never written through a link out of the application (e.g. a committed `pub -> /srv`).
  if (isInside(input.appDir, target)) {
    const out = linkOutOfTree(input.appDir, path.relative(input.appDir, target).split(path.sep).join('/'));
    if (out) throw new StaticContentError(`${out.link} is a symbolic link to ${out.target}, outside the application: static content is not written through it`);
  }
  const tmp = `${target}.tmp-${version}`;
  const old = `${target}.old-${version}`;
  await fsp.rm(tmp, { recursive: true, force: true }); // a leftover of an interrupted deploy
  await fsp.mkdir(tmp, { recursive: true });
  const jobs = [...chains].flatMap(([id, chain]) => {
    const only = input.matrix?.[vendorAndName(id)];
    if (only !== undefined) log(`${id}: ${only.length > 0 ? only.join(', ') : 'no locale'} (SCD_MATRIX)`);
    return (only ?? locales).map((locale) => ({ id, chain, locale }));
  });
  let files = 0;
  let bytes = 0;
  try {
    const maxConcurrency = await runPool(jobs, input.threads, async ({ id, chain, locale }) => {
      const jobStarted = performance.now();
      const published = await publish(chain, locale, path.join(tmp, ...id.split('/'), locale), `${id} ${locale}`);
      files += published.files;
      bytes += published.bytes;
      log(`${id} ${locale}: ${published.files} files in ${Math.round(performance.now() - jobStarted)} ms`);
    });
    await fsp.writeFile(path.join(tmp, 'deployed_version.txt'), version);
    await swap(tmp, target, old);
    return { version, jobs: jobs.length, files, bytes, durationMs: Math.round(performance.now() - started), maxConcurrency };
  } catch (err) {
    await fsp.rm(tmp, { recursive: true, force: true });
    throw err;
  }
}

/** Checks the input; returns the locales without duplicates. */
function validate(input: StaticContentInput): string[] {
  const { threads, version, locales } = input;
  if (!Number.isInteger(threads) || threads < 1 || threads > MAX_THREADS) {
    throw new StaticContentError(`threads must be an integer from 1 to ${MAX_THREADS}, got ${String(threads)}`);
  }
  if (!VERSION.test(version)) {
    throw new StaticContentError(`invalid version ${JSON.stringify(version)}: expected 1 to 64 of A-Z a-z 0-9 . _ -`);
  }
  if (locales.length === 0) throw new StaticContentError('no locales to deploy');
  for (const locale of [...locales, ...Object.values(input.matrix ?? {}).flat()]) {
    if (!LOCALE.test(locale)) throw new StaticContentError(`invalid locale ${JSON.stringify(locale)}: expected e.g. en_US`);
  }
  if (!fs.statSync(input.appDir, { throwIfNoEntry: false })?.isDirectory()) {
    throw new StaticContentError(`application directory ${input.appDir} does not exist`);
  }
  return [...new Set(locales)];
}

/** 'frontend/Magento/blank' → 'Magento/blank', as SCD_EXCLUDE_THEMES and SCD_MATRIX name themes. */
const vendorAndName = (id: string): string => id.split('/').slice(1).join('/');

function checkRef(ref: ThemeRef): void {
  if (![ref.area, ref.vendor, ref.name].every((s) => SEGMENT.test(s))) {
    throw new StaticContentError(`invalid theme ${JSON.stringify(themeId(ref))}: expected <area>/<Vendor>/<name>`);
  }
  if (ref.parent !== undefined) parentId(ref.area, ref.parent, themeId(ref));
}

/** Copies the resolved files of one (theme, locale) into `outDir`. */
async function publish(
  chain: readonly Theme[],
  locale: string,
  outDir: string,
  job: string,
): Promise<{ files: number; bytes: number }> {
  // Overlay: each ancestor's web/ then web/i18n/<locale>/, root first, the theme itself last.
  const files = new Map<string, Source>();
  for (const theme of chain) {
    for (const layer of [theme.base, theme.i18n.get(locale)]) layer?.forEach((source, rel) => files.set(rel, source));
  }
  // A path cannot be both a file and a directory (e.g. a child's css file over a parent's css/ dir).
  for (const rel of files.keys()) {
    for (let i = rel.indexOf('/'); i > 0; i = rel.indexOf('/', i + 1)) {
      const prefix = rel.slice(0, i);
      const clash = files.get(prefix);
      if (clash) {
        throw new StaticContentError(`${job}: ${prefix} is both a file and a directory (${clash.abs} and ${files.get(rel)?.abs})`);
      }
    }
  }
  let bytes = 0;
  const dirs = new Set([...files.keys()].map((rel) => path.dirname(path.join(outDir, rel))));
  dirs.add(outDir);
  for (const dir of dirs) await fsp.mkdir(dir, { recursive: true });
  await runPool([...files], COPY_CONCURRENCY, async ([rel, source]) => {
    try {
      await fsp.copyFile(source.abs, path.join(outDir, rel), fs.constants.COPYFILE_FICLONE);
    } catch (err) {
      throw new StaticContentError(`${job}: cannot publish ${source.abs} as ${rel}: ${(err as Error).message}`, { cause: err });
    }
    bytes += source.size;
  });
  return { files: files.size, bytes };
}

/**
 * Static content made on request (SCD_ON_DEMAND), as Magento's pub/static.php does it: one file
 * of pub/static, `<area>/<Vendor>/<name>/<locale>/<path>`, resolved through the theme and its
 * ancestors as a full deploy would, and published into `outDir`. Returns the file written, or
 * undefined when the path names no theme, locale or file of one. Links are never followed,
 * neither in the themes nor in `outDir`.
 */
export async function publishOnRequest(catalog: ThemeCatalog, outDir: string, staticPath: string): Promise<string | undefined> {
  const [area, vendor, name, locale, ...rest] = staticPath.split('/');
  if (!area || !vendor || !name || !locale || rest.length === 0) return undefined;
  if (![area, vendor, name, ...rest].every((p) => SEGMENT.test(p)) || !LOCALE.test(locale)) return undefined;
  const id = `${area}/${vendor}/${name}`;
  if (!(await catalog.locations()).has(id)) return undefined;
  const chain = await catalog.chain(id);
  const rel = rest.join('/');
  let source: Source | undefined;
  for (let i = chain.length - 1; i >= 0 && !source; i--) source = chain[i]!.i18n.get(locale)?.get(rel) ?? chain[i]!.base.get(rel);
  if (!source) return undefined;
  const dest = path.join(outDir, ...staticPath.split('/'));
  await realDirectory(outDir, path.dirname(dest));
  // A name of its own (requests for one file may come at once), created exclusively: a link
  // at that name would make the copy fail, never be written through.
  const tmp = `${dest}.tmp-${process.pid}-${crypto.randomBytes(6).toString('hex')}`;
  await fsp.copyFile(source.abs, tmp, fs.constants.COPYFILE_FICLONE | fs.constants.COPYFILE_EXCL);
  await fsp.rename(tmp, dest);
  return dest;
}

/** Replaces `target` by `tmp`, keeping the previous `target` aside until the new one is in place. */
async function swap(tmp: string, target: string, old: string): Promise<void> {
  await fsp.rm(old, { recursive: true, force: true });
  const hadTarget = (await fsp.lstat(target).catch(() => undefined)) !== undefined;
  if (hadTarget) await fsp.rename(target, old);
  try {
    await fsp.rename(tmp, target);
  } catch (err) {
    if (hadTarget) await fsp.rename(old, target); // put the previous deploy back
    throw new StaticContentError(`cannot move ${tmp} to ${target}: ${(err as Error).message}`, { cause: err });
  }
  if (hadTarget) await fsp.rm(old, { recursive: true, force: true });
}

/**
 * Runs `fn` over `items` with at most `limit` calls in flight; returns the most reached at once.
 * After a failure no new item starts; the calls in flight are awaited, then the first error is thrown.
 */
async function runPool<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<number> {
  let next = 0;
  let active = 0;
  let max = 0;
  let failure: { error: unknown } | undefined;
  const worker = async (): Promise<void> => {
    while (!failure && next < items.length) {
      const item = items[next++] as T;
      max = Math.max(max, ++active);
      try {
        await fn(item);
      } catch (error) {
        failure ??= { error };
      } finally {
        active--;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failure) throw failure.error;
  return max;
}
