/**
 * Mounts that do not hide what the build made, as ece-tools does it. A mount is persistent
 * storage linked over a path of the release (`"app/etc": "shared:files/etc"`); whatever the
 * build left at that path would be hidden by it. So, when a release is staged, the build's
 * content of each mounted path is kept aside under `init/<path>` in the release (ece-tools'
 * `init/` copy), and at deploy, inside the maintenance window, the recoverable directories are
 * seeded from it into the mounts:
 * - `app/etc`, `pub/media`, `var/view_preprocessed`: copied in, file by file, over what is there
 *   (the mount's other files, e.g. `env.php` or uploaded media, stay);
 * - `pub/static`: cleaned first when CLEAN_STATIC_FILES (the default), then each top-level entry
 *   linked into the release's `init/pub/static` when STATIC_CONTENT_SYMLINK (the default),
 *   else copied.
 * Writes never follow a symbolic link found in a mount or in the build's output: a tenant may
 * have put one there to make the engine write elsewhere. Links in the build output are skipped;
 * links in the mount where a directory or file must go are replaced.
 */
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';

/** ece-tools' recoverable directories, and how each is put back. */
export const RECOVERABLE_DIRECTORIES = [
  { dir: 'app/etc', strategy: 'copy' },
  { dir: 'pub/media', strategy: 'copy' },
  { dir: 'var/view_preprocessed', strategy: 'copy' },
  { dir: 'pub/static', strategy: 'static' },
] as const;

/** Where the build's content of mounted paths is kept in a release. */
export const INIT_DIR = 'init';

export interface SeedOptions {
  /** The release directory. */
  release: string;
  /** Mount path in the application → the mount's directory on disk (the engine's own path). */
  mounts: Record<string, string>;
  /** STATIC_CONTENT_SYMLINK: link static content into the release instead of copying it. */
  staticSymlink: boolean;
  /** CLEAN_STATIC_FILES: empty pub/static before it is seeded. */
  cleanStatic: boolean;
  /** With static content generated on request: the version written to pub/static/deployed_version.txt. */
  onDemandVersion?: string;
  log: (line: string) => void;
}

const lstat = (p: string): Promise<fs.Stats | undefined> => fsp.lstat(p).catch(() => undefined);

/** Whether `dir` is a directory with at least one entry (not a link to one). */
async function hasContent(dir: string): Promise<boolean> {
  if (!(await lstat(dir))?.isDirectory()) return false;
  return (await fsp.readdir(dir)).length > 0;
}

/**
 * Makes `dir` (under `base`, which the engine made) a real directory, component by component:
 * a symbolic link or file in the way is removed, never followed.
 */
export async function realDirectory(base: string, dir: string): Promise<void> {
  const rel = path.relative(base, dir);
  if (rel.startsWith('..') || path.isAbsolute(rel)) throw new Error(`${dir} is not inside ${base}`);
  let at = base;
  for (const part of rel === '' ? [] : rel.split(path.sep)) {
    at = path.join(at, part);
    const st = await lstat(at);
    if (st?.isDirectory()) continue;
    if (st) await fsp.rm(at, { recursive: true, force: true });
    await fsp.mkdir(at);
  }
}

/** The first path from `base` down to `dir` that exists and is no real directory (a link, a file), if any. */
async function notADirectoryOnTheWay(base: string, dir: string): Promise<string | undefined> {
  let at = base;
  for (const part of path.relative(base, dir).split(path.sep).filter((p) => p !== '')) {
    at = path.join(at, part);
    const st = await lstat(at);
    if (!st) return undefined;
    if (!st.isDirectory()) return at;
  }
  return undefined;
}

/** Removes every entry of a directory, keeping the directory (a mount's root stays). */
async function emptyDirectory(dir: string): Promise<number> {
  const entries = await fsp.readdir(dir).catch(() => [] as string[]);
  for (const e of entries) await fsp.rm(path.join(dir, e), { recursive: true, force: true });
  return entries.length;
}

/**
 * Copies the regular files and directories of `from` into `to`, over what is there; links in
 * `from` are skipped. Each file is written aside, then renamed in: a link at its place is
 * replaced, not followed. Returns the number of files copied.
 */
async function copyInto(base: string, from: string, to: string, log: (line: string) => void): Promise<number> {
  await realDirectory(base, to);
  let files = 0;
  for (const entry of await fsp.readdir(from, { withFileTypes: true })) {
    const src = path.join(from, entry.name);
    const dst = path.join(to, entry.name);
    if (entry.isDirectory()) files += await copyInto(base, src, dst, log);
    else if (entry.isFile()) {
      const existing = await lstat(dst);
      if (existing?.isDirectory()) await fsp.rm(dst, { recursive: true, force: true });
      const tmp = path.join(to, `.slipway-seed-${entry.name}`);
      // Exclusive: a link a tenant left at the temporary name is removed, never written through.
      await fsp.rm(tmp, { force: true, recursive: true });
      await fsp.copyFile(src, tmp, fs.constants.COPYFILE_FICLONE | fs.constants.COPYFILE_EXCL);
      await fsp.rename(tmp, dst);
      files++;
    } else log(`skipped ${src}: not a regular file or directory`);
  }
  return files;
}

/** Links each top-level entry of `from` into `to` (relative links, as the release may move). */
async function linkInto(base: string, from: string, to: string, log: (line: string) => void): Promise<number> {
  await realDirectory(base, to);
  let linked = 0;
  for (const entry of await fsp.readdir(from, { withFileTypes: true })) {
    if (!entry.isDirectory() && !entry.isFile()) {
      log(`skipped ${path.join(from, entry.name)}: not a regular file or directory`);
      continue;
    }
    const dst = path.join(to, entry.name);
    const tmp = path.join(to, `.slipway-link-${entry.name}`);
    await fsp.rm(tmp, { force: true });
    await fsp.symlink(path.relative(to, path.join(from, entry.name)), tmp);
    if ((await lstat(dst))?.isDirectory()) await fsp.rm(dst, { recursive: true, force: true });
    await fsp.rename(tmp, dst); // over a file or link: atomic
    linked++;
  }
  return linked;
}

/** The mount that holds `dir` (the mount path itself or a parent of it), and where it lands on disk. */
function mountOf(dir: string, mounts: Record<string, string>): { base: string; target: string } | undefined {
  for (const [mountPath, mountDir] of Object.entries(mounts)) {
    if (dir === mountPath) return { base: mountDir, target: mountDir };
    if (dir.startsWith(`${mountPath}/`)) return { base: mountDir, target: path.join(mountDir, dir.slice(mountPath.length + 1)) };
  }
  return undefined;
}

/**
 * In a release being staged (before the mounts are linked): moves what the build left at each
 * mounted path to `init/<path>`. Returns the mount paths that had content.
 */
export async function keepBuildContentAside(release: string, mountPaths: readonly string[], log: (line: string) => void): Promise<string[]> {
  const kept: string[] = [];
  for (const mountPath of mountPaths) {
    const at = path.join(release, mountPath);
    // A link or file on the way (validation refuses links out of the tree; a build hook may
    // still make one): never followed. Staging replaces it by directories; nothing is kept.
    const blocked = await notADirectoryOnTheWay(release, path.dirname(at));
    if (blocked) {
      log(`mount ${mountPath}: ${path.relative(release, blocked)} is not a directory of the release; not followed, the mount replaces it`);
      continue;
    }
    const st = await lstat(at);
    if (!st) continue;
    if (!st.isDirectory()) {
      // A file or a link where a mount goes: the mount replaces it.
      log(`mount ${mountPath}: the build left ${st.isSymbolicLink() ? 'a symbolic link' : 'a file'} there; removed`);
      await fsp.rm(at, { force: true });
      continue;
    }
    if (!(await hasContent(at))) continue;
    const aside = path.join(release, INIT_DIR, mountPath);
    await realDirectory(release, path.dirname(aside)); // a committed init/ link is not followed
    await fsp.rm(aside, { recursive: true, force: true });
    await fsp.rename(at, aside);
    kept.push(mountPath);
    const whole = RECOVERABLE_DIRECTORIES.some((r) => r.dir === mountPath || mountPath.startsWith(`${r.dir}/`));
    const inner = RECOVERABLE_DIRECTORIES.filter((r) => r.dir.startsWith(`${mountPath}/`)).map((r) => r.dir);
    const fate = whole
      ? ', seeded into the mount at deploy'
      : inner.length > 0
        ? ` (${inner.join(', ')} seeded into the mount at deploy, the rest hidden by it, as on Magento Cloud)`
        : ' (hidden by the mount, as on Magento Cloud)';
    log(`mount ${mountPath}: the build's content kept in ${INIT_DIR}/${mountPath}${fate}`);
  }
  return kept;
}

/** Seeds the mounts from a release's `init/` (see the module's comment). Idempotent. */
export async function seedMounts(o: SeedOptions): Promise<void> {
  for (const { dir, strategy } of RECOVERABLE_DIRECTORIES) {
    const mount = mountOf(dir, o.mounts);
    if (!mount) continue; // not mounted: the release has the build's content in place
    const from = path.join(o.release, INIT_DIR, dir);
    const built = await hasContent(from);
    if (strategy === 'static') {
      if (o.cleanStatic && (built || o.onDemandVersion !== undefined)) {
        await realDirectory(mount.base, mount.target);
        const removed = await emptyDirectory(mount.target);
        if (removed > 0) o.log(`pub/static: ${removed} old entries cleaned (CLEAN_STATIC_FILES)`);
      }
      if (built) {
        const n = o.staticSymlink ? await linkInto(mount.base, from, mount.target, o.log) : await copyInto(mount.base, from, mount.target, o.log);
        o.log(
          o.staticSymlink
            ? `pub/static: ${n} entries linked to ${INIT_DIR}/pub/static of this release (STATIC_CONTENT_SYMLINK)`
            : `pub/static: ${n} files copied from ${INIT_DIR}/pub/static (STATIC_CONTENT_SYMLINK off)`,
        );
      } else if (o.onDemandVersion !== undefined) {
        await realDirectory(mount.base, mount.target);
        const file = path.join(mount.target, 'deployed_version.txt');
        await fsp.rm(`${file}.tmp`, { force: true, recursive: true });
        await fsp.writeFile(`${file}.tmp`, o.onDemandVersion, { flag: 'wx' });
        await fsp.rename(`${file}.tmp`, file);
        o.log(`pub/static: generated on request (SCD_ON_DEMAND), version ${o.onDemandVersion}`);
      }
      continue;
    }
    if (!built) continue;
    const n = await copyInto(mount.base, from, mount.target, o.log);
    o.log(`${dir}: ${n} files from the build copied into the mount`);
  }
}
