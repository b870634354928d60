/**
 * Looks for a secret where it must never be: in any file of a data directory (read as bytes, in
 * chunks, so a database's files are read too) and in workflow histories. A secret is found in
 * clear, or inside base64 text wherever it starts in the encoded bytes: MAGENTO_CLOUD_VARIABLES,
 * for one, is base64 JSON that holds sensitive values. Base64 encodes 3 bytes as 4 characters, so
 * a secret at any byte offset of an encoded text shows as one of three fixed strings (the secret
 * encoded after 0, 1 or 2 other bytes, without the characters those bytes or the following ones
 * share): looking for those three is the same as decoding every base64 run at every alignment,
 * and is a plain substring search.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Client } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';

const CHUNK = 16 * 1024 * 1024;

export interface Needle {
  /** What is looked for, as latin1 text. */
  text: string;
  /** What finding it means. */
  what: string;
}

/** The secret inside base64 text when it starts `offset` (0, 1 or 2) bytes into a group of three. */
function base64Inside(secret: Buffer, offset: number): string {
  const encoded = Buffer.concat([Buffer.alloc(offset), secret]).toString('base64').replace(/=+$/, '');
  // The leading characters carry bits of the bytes before; the last group, of the bytes after.
  const lead = [0, 2, 3][offset]!;
  const tail = (offset + secret.length) % 3 === 0 ? 0 : ((offset + secret.length) % 3) + 1;
  return encoded.slice(lead, encoded.length - tail);
}

/** The needles: each secret in clear, and inside base64 text at each of the three alignments. */
export function needlesOf(secrets: string[]): Needle[] {
  return secrets.flatMap((s) => {
    if (Buffer.byteLength(s) < 12) throw new Error(`a secret to look for must have 12 bytes at least (base64 inside other text is matched by its middle): ${s.length}`);
    const bytes = Buffer.from(s);
    return [{ text: bytes.toString('latin1'), what: `${s.slice(0, 4)}… in clear` }, ...[0, 1, 2].map((o) => ({ text: base64Inside(bytes, o), what: `${s.slice(0, 4)}… in base64 (byte offset ${o})` }))];
  });
}

/** Which needle `text` (bytes as latin1) holds, in clear or inside base64; undefined when none. */
export function leakIn(text: string, needles: Needle[]): string | undefined {
  for (const n of needles) if (text.includes(n.text)) return n.what;
  return undefined;
}

/** Which needle the file holds, if any. */
export function leakInFile(file: string, needles: Needle[]): string | undefined {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined; // removed while scanning
    throw err;
  }
  // Each chunk is read with the end of the one before it: a needle the chunk's end cut through.
  const overlap = Math.max(...needles.map((n) => n.text.length));
  try {
    const buf = Buffer.alloc(CHUNK);
    let carry = '';
    for (;;) {
      const n = fs.readSync(fd, buf, 0, CHUNK, null);
      if (n === 0) return undefined;
      const text = carry + buf.subarray(0, n).toString('latin1');
      const found = leakIn(text, needles);
      if (found) return found;
      carry = text.slice(-overlap);
    }
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Every regular file under `dir` (symbolic links not followed), except under `skip` (absolute
 * paths): the files scanned, and the leaks found as "file: what".
 */
export function scanTree(dir: string, needles: Needle[], skip: string[] = []): { scanned: string[]; leaks: string[] } {
  const scanned: string[] = [];
  const leaks: string[] = [];
  const walk = (d: string): void => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(d, { withFileTypes: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    for (const e of entries) {
      const p = path.join(d, e.name);
      if (skip.includes(p)) continue;
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) {
        scanned.push(p);
        const found = leakInFile(p, needles);
        if (found) leaks.push(`${p}: ${found}`);
      }
    }
  };
  walk(dir);
  return { scanned, leaks };
}

/**
 * The directories of other projects' environments and snapshots (their databases, releases and
 * mounts), which a scan for one project's secret may skip: what could only hold it if one
 * tenant's data reached another's, which the sandbox's tests cover. Engine-wide files (logs of
 * every project, slugs, builds, remotes, the dev server's log) stay in the scan.
 */
export function otherProjectsData(home: string, project: string): string[] {
  return ['envs', 'snapshots'].flatMap((top) => {
    const dir = path.join(home, top);
    let names: string[];
    try {
      names = fs.readdirSync(dir);
    } catch {
      return [];
    }
    return names.filter((n) => n !== project).map((n) => path.join(dir, n));
  });
}

/**
 * Every workflow history of a project (its search attribute, or its name in the workflow's id),
 * and the hosts' supervisors' (they restart its processes): the ids scanned, and the leaks found.
 */
export async function scanHistories(temporal: Client, project: string, needles: Needle[]): Promise<{ scanned: string[]; leaks: string[] }> {
  const scanned: string[] = [];
  const leaks: string[] = [];
  const seen = new Set<string>();
  const scan = async (workflowId: string, runId: string): Promise<void> => {
    if (seen.has(runId)) return;
    seen.add(runId);
    const json = historyToJSON(await temporal.workflow.getHandle(workflowId, runId).fetchHistory());
    scanned.push(`${workflowId} ${runId}`);
    const found = leakIn(json, needles);
    if (found) leaks.push(`${workflowId} (${runId}): ${found}`);
  };
  for await (const e of temporal.workflow.list({ query: `SlipwayProject = "${project}"` })) await scan(e.workflowId, e.runId);
  for await (const e of temporal.workflow.list()) {
    if (e.workflowId.includes(project) || /^host\/[^/]+\/supervisor$/.test(e.workflowId)) await scan(e.workflowId, e.runId);
  }
  return { scanned, leaks };
}
