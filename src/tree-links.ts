/**
 * Symbolic links in a tenant's tree (a build workspace, a release): where one leads, and
 * whether a path can be reached without leaving the tree. Validation refuses a link that leads
 * out wherever the engine would have to follow it; the engine checks again, at the moment it
 * follows a path, that the path stays inside.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

/** `p` is `root` or lies under it (both absolute). */
export function isInside(root: string, p: string): boolean {
  const rel = path.relative(root, p);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel));
}

function realpathOrUndefined(p: string): string | undefined {
  try {
    return fs.realpathSync(p);
  } catch {
    return undefined;
  }
}

function lstatOrUndefined(p: string): fs.Stats | undefined {
  try {
    return fs.lstatSync(p);
  } catch {
    return undefined; // ENOENT, or ENOTDIR under a file
  }
}

/** A symbolic link of a tree that leads outside it. */
export interface LinkOut {
  /** The link, relative to the tree, with "/" ("pub", "app/design/frontend/Evil/theme"). */
  link: string;
  /** Where it points, as written in the link. */
  target: string;
}

/**
 * The first symbolic link on the way from `root` to `rel` (`rel` itself included) that leads
 * outside `root`, or nothing. A link that leads inside is followed and the walk goes on from
 * where it leads; a component that does not exist ends the walk (there is nothing to follow).
 * A dangling link counts by where it would lead. `rel` is relative, with no ".." segment.
 */
export function linkOutOfTree(root: string, rel: string): LinkOut | undefined {
  const parts = rel.split('/').filter((p) => p !== '' && p !== '.');
  if (path.isAbsolute(rel) || parts.includes('..')) throw new Error(`${rel} is not a relative path inside the tree`);
  const realRoot = realpathOrUndefined(root) ?? path.resolve(root);
  let at = root;
  for (let i = 0; i < parts.length; i++) {
    at = path.join(at, parts[i]!);
    const st = lstatOrUndefined(at);
    if (!st) return undefined;
    if (!st.isSymbolicLink()) continue;
    const target = fs.readlinkSync(at);
    const parent = realpathOrUndefined(path.dirname(at)) ?? path.dirname(at);
    const leads = realpathOrUndefined(at) ?? path.resolve(parent, target);
    if (!isInside(realRoot, leads)) return { link: parts.slice(0, i + 1).join('/'), target };
  }
  return undefined;
}

/** Whether `p`, every link on its way resolved, exists and lies inside `root` (also resolved). */
export function resolvesInside(root: string, p: string): boolean {
  const realRoot = realpathOrUndefined(root);
  const real = realpathOrUndefined(p);
  return realRoot !== undefined && real !== undefined && isInside(realRoot, real);
}
