/**
 * A mount's files, copied and switched. The copy is `cp -a` as the engine (links copied as
 * links, never followed: a tenant's link to /etc/shadow or to another environment stays a
 * link), handed to the target project's user when the projects differ. The switch keeps the
 * mount's directory itself (a running application's sandbox binds that directory, not its
 * path): its entries are moved aside and the copy's moved in, each a rename(2), and moved
 * back when something later fails.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { SlipwayError } from '../../errors';
import { chownTree } from '../../sandbox/ownership';
import type { SandboxIdentity } from '../../sandbox/identity';
import type { EnvironmentRef } from '../services/environment';
import { copyTree } from './files';
import { envName } from './database';

const MOUNT_SOURCE = /^[A-Za-z0-9._-][A-Za-z0-9._/-]*$/;

/**
 * The mount's storage, refusing sources that would lead out of the mounts directory, and any
 * link on the way to it (a source `pub/media` under a mount `pub` is the tenant's to replace):
 * every existing directory from the mounts directory down is a real one.
 */
export function mountDir(ref: EnvironmentRef, source: string): string {
  if (!MOUNT_SOURCE.test(source) || source.split('/').some((s) => s === '..' || s === '.' || s === '')) {
    throw new SlipwayError(`invalid mount source "${source}"`);
  }
  const root = ref.layout.mount(ref.project, ref.environment, '');
  let dir = root;
  for (const part of ['', ...source.split('/')]) {
    dir = part ? path.join(dir, part) : dir;
    const st = fs.lstatSync(dir, { throwIfNoEntry: false });
    if (!st) break;
    if (!st.isDirectory()) throw new SlipwayError(`the mount ${source} of ${envName(ref)}: ${dir} is not a directory (a link is never followed)`);
  }
  return ref.layout.mount(ref.project, ref.environment, source);
}

export async function stageMount(source: EnvironmentRef, mount: string, staged: string, owner: SandboxIdentity): Promise<void> {
  const from = mountDir(source, mount);
  await copyTree(from, staged, `copying the mount ${mount} of ${envName(source)}`);
  const st = fs.lstatSync(staged);
  if (st.uid !== owner.uid || st.gid !== owner.gid) await chownTree(staged, owner);
}

/** What `switchMount` did, for `undoMount`. */
export interface MountSwitch {
  dir: string;
  /** The mount did not exist: the staged directory was renamed into place. */
  created: boolean;
  aside: string;
  staged: string;
  moved: string[];
  movedIn: string[];
  mode?: number;
  owner?: { uid: number; gid: number };
}

/** Replaces the mount's content with the staged copy's; the old entries go to `aside`. */
export function switchMount(target: EnvironmentRef, mount: string, staged: string, aside: string): MountSwitch {
  const dir = mountDir(target, mount);
  const st = fs.lstatSync(dir, { throwIfNoEntry: false });
  if (!st) {
    fs.mkdirSync(path.dirname(dir), { recursive: true });
    fs.renameSync(staged, dir);
    return { dir, created: true, aside, staged, moved: [], movedIn: [] };
  }
  if (!st.isDirectory()) throw new SlipwayError(`the mount ${mount} of ${envName(target)} is not a directory: ${dir}`);
  const s: MountSwitch = { dir, created: false, aside, staged, moved: [], movedIn: [], mode: st.mode & 0o7777, owner: { uid: st.uid, gid: st.gid } };
  fs.mkdirSync(aside, { mode: 0o700 });
  try {
    for (const e of fs.readdirSync(dir)) {
      fs.renameSync(path.join(dir, e), path.join(aside, e));
      s.moved.push(e);
    }
    for (const e of fs.readdirSync(staged)) {
      fs.renameSync(path.join(staged, e), path.join(dir, e));
      s.movedIn.push(e);
    }
    const n = fs.lstatSync(staged);
    fs.lchownSync(dir, n.uid, n.gid);
    fs.chmodSync(dir, n.mode & 0o7777);
  } catch (err) {
    undoMount(s);
    throw err;
  }
  return s;
}

/** Puts the mount back as it was before `switchMount`. */
export function undoMount(s: MountSwitch): void {
  if (s.created) {
    fs.renameSync(s.dir, s.staged);
    return;
  }
  for (const e of s.movedIn.splice(0)) fs.renameSync(path.join(s.dir, e), path.join(s.staged, e));
  for (const e of s.moved.splice(0)) fs.renameSync(path.join(s.aside, e), path.join(s.dir, e));
  if (s.owner) fs.lchownSync(s.dir, s.owner.uid, s.owner.gid);
  if (s.mode !== undefined) fs.chmodSync(s.dir, s.mode);
}
