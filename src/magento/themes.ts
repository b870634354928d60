/**
 * Magento's themes as its static content deploy finds and reads them: where each theme of an
 * application is (app/design, or a registration.php under vendor/), its parent, and the files of
 * its web/ directory, split into shared and per-locale. Links are never followed.
 */
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { readComponentRegistrations } from '../domain/php-registration';
import { linkOutOfTree, resolvesInside } from '../tree-links';

export interface ThemeRef {
  area: string;
  vendor: string;
  name: string;
  /** 'Vendor/name' of the parent theme in the same area */
  parent?: string;
}

/** A deploy that cannot be done; the message names the theme, locale or file at fault. */
export class StaticContentError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StaticContentError';
  }
}

export const LOCALE = /^[a-z]{2,3}(_[A-Za-z]{2,4})?_[A-Z]{2}$/; // en_US, fil_PH, zh_Hans_CN
export const SEGMENT = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/; // an area, vendor or theme name: one path segment, no dot-dirs

/** A source file: its absolute path and size. */
export interface Source {
  abs: string;
  size: number;
}

/** One theme, read from disk: its parent and its `web/` files split into shared and per-locale. */
export interface Theme {
  id: string; // 'frontend/Luma/storefront'
  parent?: string; // id of the parent theme
  base: Map<string, Source>; // web/** minus web/i18n/**, keyed by relative path ('css/styles.css')
  i18n: Map<string, Map<string, Source>>; // locale → web/i18n/<locale>/**, keyed by relative path
}

/**
 * The themes of one application directory, each read once: where they are (see findThemes),
 * their parent and their files. A deploy uses one; the router keeps one per release for static
 * content made on request.
 */
export class ThemeCatalog {
  private readonly loaded = new Map<string, Promise<Theme>>();
  private located?: Promise<Map<string, string>>;

  constructor(
    readonly appDir: string,
    private readonly log: (line: string) => void = () => undefined,
    private readonly givenParents = new Map<string, string | undefined>(),
  ) {}

  /** Theme id → its directory: app/design first, then the registrations under vendor/. */
  locations(): Promise<Map<string, string>> {
    this.located ??= findThemes(this.appDir, this.log);
    return this.located;
  }

  private async load(id: string, neededBy?: string): Promise<Theme> {
    let theme = this.loaded.get(id);
    if (!theme) {
      const dir = (await this.locations()).get(id);
      theme = loadTheme(dir, id, this.givenParents.get(id), neededBy, this.appDir, this.log);
      this.loaded.set(id, theme);
    }
    return theme;
  }

  /** The theme and its ancestors: [root ancestor, …, the theme]. */
  async chain(id: string): Promise<Theme[]> {
    const chain: Theme[] = [];
    for (let theme = await this.load(id); ; ) {
      if (chain.some((t) => t.id === theme.id)) {
        const cycle = [...chain.reverse().map((t) => t.id), theme.id].join(' → ');
        throw new StaticContentError(`theme ${id}: parent cycle ${cycle}`);
      }
      chain.unshift(theme);
      if (!theme.parent) break;
      theme = await this.load(theme.parent, theme.id);
    }
    return chain;
  }
}

export const themeId = (ref: ThemeRef): string => `${ref.area}/${ref.vendor}/${ref.name}`;
/** 'frontend' + 'Vendor/name' → 'frontend/Vendor/name', refusing anything that is not two path segments. */
export function parentId(area: string, parent: string, of: string): string {
  const parts = parent.split('/');
  if (parts.length !== 2 || !parts.every((s) => SEGMENT.test(s))) {
    throw new StaticContentError(`theme ${of}: invalid parent ${JSON.stringify(parent)}: expected Vendor/name`);
  }
  return `${area}/${parent}`;
}

/** The entries of a directory that are real directories (no links) named like a path segment. */
async function subdirs(dir: string): Promise<string[]> {
  const entries = await fsp.readdir(dir, { withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isDirectory() && SEGMENT.test(e.name)).map((e) => e.name).sort();
}

/**
 * Where each theme of an application is, by id ('frontend/Magento/blank'): every
 * app/design/<area>/<Vendor>/<name>/ directory, then every theme a composer package registers
 * in vendor/<vendor>/<package>/registration.php (read without running PHP; a file that cannot
 * be read so is skipped with a log line). The first place found for an id wins. Links are
 * never followed.
 */
export async function findThemes(appDir: string, log: (line: string) => void = () => undefined): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  /** Whether the way to `rel` stays inside the application (a link out is logged and not followed). */
  const inside = (rel: string): boolean => {
    const out = linkOutOfTree(appDir, rel);
    if (out) log(`${out.link}: skipped, a symbolic link to ${out.target}, outside the application`);
    return !out;
  };
  const design = path.join(appDir, 'app', 'design');
  for (const area of inside('app/design') ? await subdirs(design) : []) {
    for (const vendor of await subdirs(path.join(design, area))) {
      for (const name of await subdirs(path.join(design, area, vendor))) found.set(`${area}/${vendor}/${name}`, path.join(design, area, vendor, name));
    }
  }
  const vendorDir = path.join(appDir, 'vendor');
  for (const vendor of inside('vendor') ? await subdirs(vendorDir) : []) {
    for (const pkg of await subdirs(path.join(vendorDir, vendor))) {
      const dir = path.join(vendorDir, vendor, pkg);
      const file = path.join(dir, 'registration.php');
      const st = await fsp.lstat(file).catch(() => undefined);
      if (!st?.isFile()) continue;
      const read = readComponentRegistrations(await fsp.readFile(file, 'utf8'));
      const rel = path.relative(appDir, file);
      if (!read.ok) {
        log(`${rel}: skipped, cannot be read without running PHP: ${read.reason}`);
        continue;
      }
      for (const reg of read.value) {
        if (reg.type !== 'theme') continue;
        const parts = reg.name.split('/');
        if (parts.length !== 3 || !parts.every((p) => SEGMENT.test(p))) {
          log(`${rel}: skipped theme ${JSON.stringify(reg.name)}: expected <area>/<Vendor>/<name>`);
          continue;
        }
        if (found.has(reg.name)) continue;
        if (reg.subdir && !inside(path.relative(appDir, path.join(dir, reg.subdir)).split(path.sep).join('/'))) continue;
        found.set(reg.name, reg.subdir ? path.join(dir, reg.subdir) : dir);
      }
    }
  }
  return found;
}

/** Reads a theme: its parent (given, else from theme.xml) and the files of its web/ directory. */
async function loadTheme(
  found: string | undefined,
  id: string,
  givenParent: string | undefined,
  neededBy: string | undefined,
  appDir: string,
  log: (line: string) => void,
): Promise<Theme> {
  const dir = found ?? path.join(appDir, 'app', 'design', ...id.split('/'));
  if (!found || !(await fsp.lstat(dir).catch(() => undefined))?.isDirectory()) {
    const nowhere = `no directory ${dir}, and no registration.php under vendor/ registers it`;
    throw new StaticContentError(
      neededBy ? `theme ${neededBy}: its parent theme ${id} is registered nowhere (${nowhere})` : `theme ${id} not found: ${nowhere}`,
    );
  }
  const area = id.split('/')[0] ?? '';
  let parent = givenParent;
  if (parent === undefined) {
    const xmlFile = path.join(dir, 'theme.xml');
    // Read only if it lies inside the application, every link resolved.
    const xml = resolvesInside(appDir, xmlFile) ? await fsp.readFile(xmlFile, 'utf8').catch(() => '') : '';
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
