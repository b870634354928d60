/**
 * Looks for a secret where it must never be: in any file of a data directory (read as bytes, in
 * chunks, so a database's files are read too) and in workflow histories. A secret is found in
 * clear, as its base64 encoding, or inside any base64-looking run once decoded (at each of the
 * four alignments): MAGENTO_CLOUD_VARIABLES, for one, is base64 JSON that holds sensitive values.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Client } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';

const B64_RUN = /[A-Za-z0-9+/]{16,}={0,2}/g;
const CHUNK = 16 * 1024 * 1024;
/** How much of a chunk's end is read again with the next one (a base64 run cut by the chunk's end). */
const CARRY_MAX = 1024 * 1024;

/** The needles: each secret and its base64 encoding. */
export function needlesOf(secrets: string[]): string[] {
  return secrets.flatMap((s) => [s, Buffer.from(s).toString('base64')]);
}

/** Which needle `text` (bytes as latin1) holds, in clear or in a base64 run once decoded; undefined when none. */
export function leakIn(text: string, needles: string[]): string | undefined {
  for (const n of needles) if (text.includes(n)) return `${n} in clear`;
  for (const m of text.matchAll(B64_RUN)) {
    for (let shift = 0; shift < 4; shift++) {
      const decoded = Buffer.from(m[0].slice(shift), 'base64').toString('latin1');
      for (const n of needles) if (decoded.includes(n)) return `${n} in the base64 run ${m[0].slice(0, 24)}…`;
    }
  }
  return undefined;
}

/** Which needle the file holds, if any. */
export function leakInFile(file: string, needles: string[]): string | undefined {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined; // removed while scanning
    throw err;
  }
  try {
    const buf = Buffer.alloc(CHUNK);
    let carry = '';
    for (;;) {
      const n = fs.readSync(fd, buf, 0, CHUNK, null);
      if (n === 0) return carry ? leakIn(carry, needles) : undefined;
      const text = carry + buf.subarray(0, n).toString('latin1');
      const found = leakIn(text, needles);
      if (found) return found;
      // The tail is read again: a needle or a base64 run the chunk's end cut through.
      let cut = text.length;
      while (cut > 0 && text.length - cut < CARRY_MAX && /[A-Za-z0-9+/=]/.test(text[cut - 1]!)) cut--;
      carry = text.slice(Math.max(0, Math.min(cut, text.length - 512)));
    }
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Every regular file under `dir` (symbolic links not followed), except under `skip` (absolute
 * paths): the files scanned, and the leaks found as "file: what".
 */
export function scanTree(dir: string, needles: string[], skip: string[] = []): { scanned: string[]; leaks: string[] } {
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
 * Every workflow history of a project (its search attribute, or its name in the workflow's id),
 * and the hosts' supervisors' (they restart its processes): the ids scanned, and the leaks found.
 */
export async function scanHistories(temporal: Client, project: string, needles: string[]): Promise<{ scanned: string[]; leaks: string[] }> {
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
