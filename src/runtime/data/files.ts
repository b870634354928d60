/**
 * The few file operations data copies are made of, none of which follows a tenant's link:
 * `cp -a` (links copied as links, ownership and modes kept, reflinked where the filesystem
 * can), sizes summed with lstat, renames within one filesystem. Run as the engine (root) on
 * paths the engine controls only.
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { SlipwayError } from '../../errors';

export const now = (): number => Number(process.hrtime.bigint()) / 1e6;

function exec(cmd: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C.UTF-8' }, maxBuffer: 4 * 1024 * 1024 }, (err, _out, stderr) => {
      if (err) reject(new Error(stderr.trim().split('\n').slice(-3).join(' / ') || err.message));
      else resolve();
    });
  });
}

/**
 * Copies the directory `from` to `to` (which must not exist): `cp -a` (-P: no link followed,
 * the command line's included; ownership, modes, times, hard links kept), `--reflink=auto`,
 * `-T` so that `to` is the copy itself. `from` must be a real directory, not a link to one.
 */
export async function copyTree(from: string, to: string, what: string): Promise<void> {
  const st = fs.lstatSync(from, { throwIfNoEntry: false });
  if (!st) throw new SlipwayError(`${what}: ${from} does not exist`);
  if (!st.isDirectory()) throw new SlipwayError(`${what}: ${from} is not a directory (a link or a file there is not copied)`);
  try {
    await exec('cp', ['-a', '-P', '--reflink=auto', '-T', '--', from, to]);
  } catch (err) {
    throw new SlipwayError(`${what}: copying ${from} failed: ${(err as Error).message}`);
  }
}

/** Bytes of the tree (apparent sizes of files, links and directories; no link followed). */
export function treeBytes(dir: string): number {
  let total = 0;
  const st = fs.lstatSync(dir, { throwIfNoEntry: false });
  if (!st) return 0;
  total += st.size;
  if (!st.isDirectory()) return total;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) total += treeBytes(full);
    else total += fs.lstatSync(full).size;
  }
  return total;
}

/** Moves a directory: rename(2), or a copy and a removal across filesystems. */
export async function moveTree(from: string, to: string, what: string): Promise<void> {
  try {
    fs.renameSync(from, to);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EXDEV') throw err;
    await copyTree(from, to, what);
    fs.rmSync(from, { recursive: true, force: true });
  }
}

/** A directory of root's with this mode (made or set). */
export function rootDir(dir: string, mode: number): string {
  fs.mkdirSync(dir, { recursive: true, mode });
  fs.chmodSync(dir, mode);
  return dir;
}

export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
