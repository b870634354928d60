/**
 * A native Magento static content deploy (`bin/magento setup:static-content:deploy`, no PHP):
 * publishes each theme's `web/` assets, for each locale, into `pub/static/<area>/<Vendor>/<name>/<locale>/`.
 *
 * For one (theme, locale) the published files are, from lowest to highest precedence:
 *   the parent theme's resolved files (recursively), then the theme's `web/**` (without the
 *   `web/i18n/` subtree), then the theme's `web/i18n/<locale>/**`.
 * Everything is written to `pub/static.tmp-<version>` and swapped in only once complete, so a
 * failed deploy never leaves a half-written `pub/static` behind.
 */
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';

export interface ThemeRef {
  area: string;
  vendor: string;
  name: string;
  /** 'Vendor/name' of the parent theme in the same area */
  parent?: string;
}

export interface StaticContentInput {
  /** application root (a build workspace or a release directory) */
  appDir: string;
  /** when empty: every theme found under app/design/<area>/<Vendor>/<name>/ */
  themes: ThemeRef[];
  /** e.g. ['en_US', 'fr_FR'] */
  locales: string[];
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

/** A deploy that cannot be done; the message names the theme, locale or file at fault. */
export class StaticContentError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StaticContentError';
  }
}

const LOCALE = /^[a-z]{2,3}(_[A-Za-z]{2,4})?_[A-Z]{2}$/; // en_US, fil_PH, zh_Hans_CN
const VERSION = /^[A-Za-z0-9._-]{1,64}$/;
const SEGMENT = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/; // an area, vendor or theme name: one path segment, no dot-dirs
const MAX_THREADS = 64;
/** Files copied at once inside one job. */
const COPY_CONCURRENCY = 8;

/** A source file: its absolute path and size. */
interface Source {
  abs: string;
  size: number;
}

/** One theme, read from disk: its parent and its `web/` files split into shared and per-locale. */
interface Theme {
  id: string; // 'frontend/Luma/storefront'
  parent?: string; // id of the parent theme
  base: Map<string, Source>; // web/** minus web/i18n/**, keyed by relative path ('css/styles.css')
  i18n: Map<string, Map<string, Source>>; // locale → web/i18n/<locale>/**, keyed by relative path
}

export async function deployStaticContent(input: StaticContentInput): Promise<StaticContentResult> {
  const started = performance.now();
  const log = input.log ?? (() => undefined);
  const { version } = input;
  const locales = validate(input);
  const design = path.join(input.appDir, 'app', 'design');

  // Resolve every theme and its ancestors before touching pub/: input errors leave no trace.
  const refs = input.themes.length > 0 ? input.themes : await discoverThemes(design);
  const explicit = new Map<string, ThemeRef>();
  for (const ref of refs) {
    checkRef(ref);
    if (!explicit.has(themeId(ref))) explicit.set(themeId(ref), ref);
  }
  const loaded = new Map<string, Promise<Theme>>();
  const load = (id: string, neededBy?: string): Promise<Theme> => {
    let theme = loaded.get(id);
    if (!theme) {
      theme = loadTheme(design, id, explicit.get(id)?.parent, neededBy, log);
      loaded.set(id, theme);
    }
    return theme;
  };
  const chains = new Map<string, Theme[]>(); // theme id → [root ancestor, …, the theme]
  for (const id of explicit.keys()) {
    const chain: Theme[] = [];
    for (let theme = await load(id); ; ) {
      if (chain.some((t) => t.id === theme.id)) {
        const cycle = [...chain.reverse().map((t) => t.id), theme.id].join(' → ');
        throw new StaticContentError(`theme ${id}: parent cycle ${cycle}`);
      }
      chain.unshift(theme);
      if (!theme.parent) break;
      theme = await load(theme.parent, theme.id);
    }
    chains.set(id, chain);
  }

  // Publish every (theme, locale) into the temporary directory, then swap it in.
  const pub = path.join(input.appDir, 'pub');
  const target = path.join(pub, 'static');
  const tmp = path.join(pub, `static.tmp-${version}`);
  const old = path.join(pub, `static.old-${version}`);
  await fsp.rm(tmp, { recursive: true, force: true }); // a leftover of an interrupted deploy
  await fsp.mkdir(tmp, { recursive: true });
  const jobs = [...chains].flatMap(([id, chain]) => locales.map((locale) => ({ id, chain, locale })));
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
  for (const locale of locales) {
    if (!LOCALE.test(locale)) throw new StaticContentError(`invalid locale ${JSON.stringify(locale)}: expected e.g. en_US`);
  }
  if (!fs.statSync(input.appDir, { throwIfNoEntry: false })?.isDirectory()) {
    throw new StaticContentError(`application directory ${input.appDir} does not exist`);
  }
  return [...new Set(locales)];
}

const themeId = (ref: ThemeRef): string => `${ref.area}/${ref.vendor}/${ref.name}`;

function checkRef(ref: ThemeRef): void {
  if (![ref.area, ref.vendor, ref.name].every((s) => SEGMENT.test(s))) {
    throw new StaticContentError(`invalid theme ${JSON.stringify(themeId(ref))}: expected <area>/<Vendor>/<name>`);
  }
  if (ref.parent !== undefined) parentId(ref.area, ref.parent, themeId(ref));
}

/** 'frontend' + 'Vendor/name' → 'frontend/Vendor/name', refusing anything that is not two path segments. */
function parentId(area: string, parent: string, of: string): string {
  const parts = parent.split('/');
  if (parts.length !== 2 || !parts.every((s) => SEGMENT.test(s))) {
    throw new StaticContentError(`theme ${of}: invalid parent ${JSON.stringify(parent)}: expected Vendor/name`);
  }
  return `${area}/${parent}`;
}

/** Every app/design/<area>/<Vendor>/<name>/ directory. */
async function discoverThemes(design: string): Promise<ThemeRef[]> {
  const subdirs = async (dir: string): Promise<string[]> => {
    const entries = await fsp.readdir(dir, { withFileTypes: true }).catch(() => []);
    return entries.filter((e) => e.isDirectory() && SEGMENT.test(e.name)).map((e) => e.name).sort();
  };
  const refs: ThemeRef[] = [];
  for (const area of await subdirs(design)) {
    for (const vendor of await subdirs(path.join(design, area))) {
      for (const name of await subdirs(path.join(design, area, vendor))) refs.push({ area, vendor, name });
    }
  }
  if (refs.length === 0) throw new StaticContentError(`no themes found under ${design}/<area>/<Vendor>/<name>/`);
  return refs;
}

/** Reads a theme: its parent (given, else from theme.xml) and the files of its web/ directory. */
async function loadTheme(
  design: string,
  id: string,
  givenParent: string | undefined,
  neededBy: string | undefined,
  log: (line: string) => void,
): Promise<Theme> {
  const dir = path.join(design, ...id.split('/'));
  if (!(await fsp.stat(dir).catch(() => undefined))?.isDirectory()) {
    throw new StaticContentError(
      neededBy ? `theme ${neededBy}: parent theme ${id} not found (no directory ${dir})` : `theme ${id} not found: no directory ${dir}`,
    );
  }
  const area = id.split('/')[0] ?? '';
  let parent = givenParent;
  if (parent === undefined) {
    const xml = await fsp.readFile(path.join(dir, 'theme.xml'), 'utf8').catch(() => '');
    parent = /<parent>\s*([^<]*?)\s*<\/parent>/.exec(xml.replace(/<!--[\s\S]*?-->/g, ''))?.[1] || undefined;
  }
  const theme: Theme = { id, parent: parent && parentId(area, parent, id), base: new Map(), i18n: new Map() };
  for (const [rel, source] of await walk(path.join(dir, 'web'), id, log)) {
    const m = /^i18n\/([^/]+)\/(.+)$/.exec(rel);
    if (m?.[1] && m[2]) {
      const files = theme.i18n.get(m[1]) ?? new Map<string, Source>();
      theme.i18n.set(m[1], files.set(m[2], source));
    } else if (rel !== 'i18n' && !rel.startsWith('i18n/')) {
      theme.base.set(rel, source);
    }
  }
  return theme;
}

/** The regular files under `root` by '/'-separated relative path; symlinks are skipped, never followed. */
async function walk(root: string, id: string, log: (line: string) => void): Promise<Map<string, Source>> {
  const found = new Map<string, Source>();
  const rootStat = await fsp.lstat(root).catch(() => undefined);
  if (!rootStat?.isDirectory()) {
    if (rootStat) log(`${id}: skipping web/, ${rootStat.isSymbolicLink() ? 'a symlink' : 'not a directory'}`);
    return found;
  }
  const visit = async (dir: string, prefix: string): Promise<void> => {
    const entries = await fsp.readdir(dir, { withFileTypes: true });
    for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
      const abs = path.join(dir, entry.name);
      const rel = prefix + entry.name;
      if (entry.isDirectory()) await visit(abs, `${rel}/`);
      else if (entry.isFile()) found.set(rel, { abs, size: (await fsp.lstat(abs)).size });
      else log(`${id}: skipping web/${rel}, ${entry.isSymbolicLink() ? 'a symlink' : 'not a regular file'}`);
    }
  };
  await visit(root, '');
  return found;
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
