/**
 * Hands a directory to a project's sandbox user: `chown -R -h` (symbolic links themselves,
 * never what they point at; no link followed while recursing), with arguments, no shell.
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import type { SandboxIdentity } from './identity';

export async function chownTree(dir: string, id: Pick<SandboxIdentity, 'uid' | 'gid'>): Promise<void> {
  const st = fs.lstatSync(dir, { throwIfNoEntry: false });
  if (!st || !st.isDirectory()) return;
  await new Promise<void>((resolve, reject) => {
    execFile('chown', ['-R', '-h', '-P', `${id.uid}:${id.gid}`, '--', dir], (err, _stdout, stderr) => {
      if (err) reject(new Error(`cannot hand ${dir} to the sandbox user ${id.uid}: ${stderr.trim() || err.message}`));
      else resolve();
    });
  });
}
