/**
 * Hands a directory to a project's sandbox user, never following a link: symbolic links are
 * changed themselves (lchown), and no link is descended into. A small tree (the usual build
 * workspace of a hook that starts from a few files, a mount) is walked here; a large one is
 * handed to `chown -R -h -P` (arguments, no shell), which is faster per file than a walk
 * through Node.
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { SandboxIdentity } from './identity';

/** Past this many entries the walk stops and `chown -R` does the whole tree. */
const WALK_LIMIT = 2000;

function chownR(dir: string, id: Pick<SandboxIdentity, 'uid' | 'gid'>): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    execFile('chown', ['-R', '-h', '-P', `${id.uid}:${id.gid}`, '--', dir], (err, _stdout, stderr) => {
      if (err) reject(new Error(`cannot hand ${dir} to the sandbox user ${id.uid}: ${stderr.trim() || err.message}`));
      else resolve();
    });
  });
}

/** lchown of the tree, sync; false when it has more than `budget` entries (left partly done). */
function walk(dir: string, id: Pick<SandboxIdentity, 'uid' | 'gid'>, budget: { left: number }): boolean {
  const st = fs.lstatSync(dir);
  if (st.uid !== id.uid || st.gid !== id.gid) fs.lchownSync(dir, id.uid, id.gid);
  if (!st.isDirectory()) return true;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    if (--budget.left < 0) return false;
    const full = path.join(dir, e.name);
    if (e.isDirectory()) {
      if (!walk(full, id, budget)) return false;
    } else fs.lchownSync(full, id.uid, id.gid);
  }
  return true;
}

export async function chownTree(dir: string, id: Pick<SandboxIdentity, 'uid' | 'gid'>): Promise<void> {
  const st = fs.lstatSync(dir, { throwIfNoEntry: false });
  if (!st || !st.isDirectory()) return;
  try {
    if (walk(dir, id, { left: WALK_LIMIT })) return;
  } catch (err) {
    throw new Error(`cannot hand ${dir} to the sandbox user ${id.uid}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  await chownR(dir, id);
}
