/**
 * Each project's own unprivileged user: a uid/gid allocated once per project and data
 * directory (from SLIPWAY_SANDBOX_UID_BASE, default 200000), never root, never another
 * project's; the files its code writes belong to it on the host. Also the few /etc files the
 * sandbox shows (passwd and group naming only that user, hosts).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Layout } from '../home';

export interface SandboxIdentity {
  uid: number;
  gid: number;
  /** The user's name inside the sandbox, as on Magento Cloud. */
  user: 'web';
  /** Directory with the generated passwd, group and hosts. */
  etcDir: string;
}

export const DEFAULT_UID_BASE = 200_000;
const MAX_PROJECTS = 100_000;

function uidBase(): number {
  const raw = process.env.SLIPWAY_SANDBOX_UID_BASE;
  const n = raw === undefined ? DEFAULT_UID_BASE : Number(raw);
  if (!Number.isInteger(n) || n < 1000 || n > 2 ** 31 - MAX_PROJECTS) {
    throw new Error(`SLIPWAY_SANDBOX_UID_BASE must be an integer from 1000 to ${2 ** 31 - MAX_PROJECTS}, not "${raw}"`);
  }
  return n;
}

const idsDir = (layout: Layout): string => path.join(layout.home, 'sandbox', 'ids');

/**
 * The project's number: read, or allocated by claiming the lowest free one with an exclusive
 * create (no lock; two processes racing for one project agree on the first record written).
 */
function projectNumber(layout: Layout, project: string): number {
  const dir = idsDir(layout);
  const record = path.join(dir, `${project}.id`);
  try {
    return Number(fs.readFileSync(record, 'utf8').trim());
  } catch {
    /* not allocated yet */
  }
  const claims = path.join(dir, 'claims');
  fs.mkdirSync(claims, { recursive: true, mode: 0o700 });
  for (let n = 0; n < MAX_PROJECTS; n++) {
    try {
      fs.writeFileSync(path.join(claims, String(n)), project, { flag: 'wx' });
    } catch {
      continue;
    }
    try {
      fs.writeFileSync(record, `${n}\n`, { flag: 'wx' });
      return n;
    } catch {
      // Another process allocated this project meanwhile: give the claim back, use its number.
      fs.rmSync(path.join(claims, String(n)), { force: true });
      return Number(fs.readFileSync(record, 'utf8').trim());
    }
  }
  throw new Error(`no free sandbox user id is left (${MAX_PROJECTS} projects)`);
}

function writeIfChanged(file: string, text: string): void {
  try {
    if (fs.readFileSync(file, 'utf8') === text) return;
  } catch {
    /* new */
  }
  fs.writeFileSync(`${file}.tmp`, text, { mode: 0o644 });
  fs.renameSync(`${file}.tmp`, file);
}

export function sandboxIdentity(layout: Layout, project: string): SandboxIdentity {
  // Searchable by the sandbox's users (bubblewrap reaches etc/ as one of them); ids/ is not.
  fs.mkdirSync(path.join(layout.home, 'sandbox'), { recursive: true, mode: 0o711 });
  const uid = uidBase() + projectNumber(layout, project);
  const gid = uid;
  const etcDir = path.join(layout.home, 'sandbox', 'etc', project);
  fs.mkdirSync(etcDir, { recursive: true, mode: 0o755 });
  writeIfChanged(
    path.join(etcDir, 'passwd'),
    `root:x:0:0:root:/root:/usr/sbin/nologin\nweb:x:${uid}:${gid}:${project}:/app:/bin/bash\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n`,
  );
  writeIfChanged(path.join(etcDir, 'group'), `root:x:0:\nweb:x:${gid}:\nnogroup:x:65534:\n`);
  writeIfChanged(path.join(etcDir, 'hosts'), '127.0.0.1 localhost\n::1 localhost ip6-localhost\n');
  return { uid, gid, user: 'web', etcDir };
}
