/** The ref updates a post-receive hook reads on its standard input: `<old> <new> <ref>` lines. */
export interface RefUpdate {
  branch: string;
  before: string;
  after: string;
}

export const ZERO_COMMIT = '0'.repeat(40);
const SHA = /^[0-9a-f]{40}$/;

/** A full commit id: 40 lowercase hex digits. */
export const isCommitId = (s: unknown): s is string => typeof s === 'string' && SHA.test(s);

/** Branch updates only (tags and other refs are not environments); malformed lines are skipped. */
export function parseRefUpdates(text: string): RefUpdate[] {
  const updates: RefUpdate[] = [];
  for (const line of text.split('\n')) {
    const [before, after, ref, extra] = line.trim().split(/\s+/);
    if (extra !== undefined || !before || !after || !ref || !isCommitId(before) || !isCommitId(after)) continue;
    if (!ref.startsWith('refs/heads/') || ref.length === 'refs/heads/'.length) continue;
    updates.push({ before, after, branch: ref.slice('refs/heads/'.length) });
  }
  return updates;
}

/** What the pusher reads (as `remote: …`) for one update. */
export function pushMessage(project: string, u: RefUpdate): string {
  const what = u.after === ZERO_COMMIT ? 'deleted' : `updated to ${u.after.slice(0, 12)}`;
  return `Slipway: ${u.branch} ${what}; an active environment deploys it now (slipway env status ${project} ${u.branch})`;
}
