/**
 * Copies a directory tree (a slug into a release): `cp -a --reflink=auto`, which is several
 * times faster than Node's fs.promises.cp (42 files: 3.5 ms against 20 ms; 870 files: 86 ms
 * against 383 ms, on the bench machine) and shares blocks on a copy-on-write file system. Both
 * paths are the engine's own, passed as arguments (no shell). Where that `cp` is not available
 * (no GNU coreutils), Node's copy is used.
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';

/** cp's words for the errors a release directory meets, and their errno names (as Node's fs gives them). */
const ERRNO_OF: [RegExp, string][] = [
  [/No space left on device/i, 'ENOSPC'],
  [/Disk quota exceeded/i, 'EDQUOT'],
  [/Operation not permitted/i, 'EPERM'],
  [/Permission denied/i, 'EACCES'],
  [/Read-only file system/i, 'EROFS'],
];

function runCp(from: string, to: string): Promise<'copied' | 'unavailable'> {
  return new Promise((resolve, reject) => {
    execFile('cp', ['-a', '--reflink=auto', '--', from, to], (err, _stdout, stderr) => {
      if (!err) return resolve('copied');
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || /unrecognized option|illegal option|invalid option/i.test(stderr)) return resolve('unavailable');
      const why = stderr.trim() || err.message;
      const errno = ERRNO_OF.find(([pattern]) => pattern.test(why))?.[1];
      reject(Object.assign(new Error(errno ? `${errno}: ${why}` : why), { code: errno }));
    });
  });
}

/** Copies `from` to `to` (which must not exist), symbolic links as they are. */
export async function copyTree(from: string, to: string): Promise<void> {
  if ((await runCp(from, to)) === 'copied') return;
  await fs.promises.cp(from, to, { recursive: true, verbatimSymlinks: true, mode: fs.constants.COPYFILE_FICLONE });
}
