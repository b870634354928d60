/**
 * The validate step's look at the checked-out tree: a symbolic link committed where the engine
 * would have to follow it (a web root, a mount path, a theme directory, the patches, the
 * directories of the project files), that leads outside the application, is refused with its
 * path and where it points. Links that stay inside the tree are fine; links anywhere else are
 * never followed, so they are left alone.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ConfigIssue } from '../../domain/app-config';
import type { SlugManifest } from '../../domain/project-files';
import { locationKey } from '../../domain/project-files/web-locations';
import { readComponentRegistrations } from '../../domain/php-registration';
import { linkOutOfTree } from '../../tree-links';

export const PATCH_DIR = 'm2-hotfixes';

/** The refusal of a link: "pub: is a symbolic link to /etc, outside the application: … cannot follow it". */
export function linkIssue(link: { link: string; target: string }, who: string): ConfigIssue {
  return { file: link.link, path: '', reason: `is a symbolic link to ${link.target}, outside the application: ${who}` };
}

/** The entries of a directory of the tree (reached through links inside it), none when it is no directory. */
function entries(dir: string): fs.Dirent[] {
  try {
    return fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
}

const isDirectory = (p: string): boolean => fs.statSync(p, { throwIfNoEntry: false })?.isDirectory() ?? false;

/** Every refusal of a link out of the tree at `workspace`, for the application `manifest` describes. */
export function linksOutOfTree(workspace: string, manifest: SlugManifest): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const reported = new Set<string>();
  /** Refuses the first link out on the way to `rel`; whether the way is clear. */
  const check = (rel: string, who: string): boolean => {
    const out = linkOutOfTree(workspace, rel);
    if (!out) return true;
    if (!reported.has(out.link)) issues.push(linkIssue(out, `${who} cannot follow it`));
    reported.add(out.link);
    return false;
  };

  for (const l of manifest.locations ?? []) if (l.root !== '') check(l.root, `${locationKey(l.path)}.root`);
  for (const mountPath of Object.keys(manifest.mounts)) check(mountPath, `mounts.${mountPath}`);
  const scd = manifest.staticContent;
  if (scd.where !== 'none' || scd.onDemand) check('pub/static', 'the static content deploy');

  // The patches: the directory and each patch file (git reads a patch through a link).
  if (check(PATCH_DIR, 'the patches step') && isDirectory(path.join(workspace, PATCH_DIR))) {
    for (const e of entries(path.join(workspace, PATCH_DIR))) if (e.name.endsWith('.patch')) check(`${PATCH_DIR}/${e.name}`, 'the patches step');
  }

  // Themes as the static content deploy finds them: app/design/<area>/<Vendor>/<name>, with its
  // web/ and theme.xml, and the directories registration.php files under vendor/ name.
  const themes = 'the static content deploy';
  const descend = (rel: string, depth: number, atTheme: (rel: string) => void): void => {
    if (!check(rel, themes) || !isDirectory(path.join(workspace, rel))) return;
    if (depth === 0) return atTheme(rel);
    for (const e of entries(path.join(workspace, rel))) descend(`${rel}/${e.name}`, depth - 1, atTheme);
  };
  descend('app/design', 3, (theme) => {
    check(`${theme}/web`, themes);
    check(`${theme}/theme.xml`, themes);
  });
  descend('vendor', 2, (pkg) => {
    const registration = `${pkg}/registration.php`;
    if (!check(registration, themes)) return;
    const file = path.join(workspace, registration);
    if (!fs.lstatSync(file, { throwIfNoEntry: false })?.isFile()) return;
    const read = readComponentRegistrations(fs.readFileSync(file, 'utf8'));
    if (!read.ok) return; // the static content deploy skips it, and says why
    for (const reg of read.value) if (reg.type === 'theme' && reg.subdir) check(`${pkg}/${reg.subdir}`, themes);
  });
  return issues;
}
