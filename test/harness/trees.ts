/** Files and links in a test's directories, and a tree's contents to compare before and after. */
import * as fs from 'node:fs';
import * as path from 'node:path';

/** Writes a file, making its directories. */
export function writeFile(file: string, content = ''): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, content);
}

/** Makes a symbolic link at `at` pointing at `target`, making its directories. */
export function link(target: string, at: string): void {
  fs.mkdirSync(path.dirname(at), { recursive: true });
  fs.symlinkSync(target, at);
}

/** Every file under a directory with its content (links as "-> target", directories as "rel/"), never following a link. */
export function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const visit = (d: string): void => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      const rel = path.relative(dir, p);
      if (e.isSymbolicLink()) out[rel] = `-> ${fs.readlinkSync(p)}`;
      else if (e.isDirectory()) {
        out[`${rel}/`] = '';
        visit(p);
      } else out[rel] = fs.readFileSync(p, 'utf8');
    }
  };
  visit(dir);
  return out;
}
