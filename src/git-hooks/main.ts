/**
 * Entry point of the hooks Slipway installs in a project's remote. `post-receive` hands every
 * updated branch to the project's workflow; what it prints reaches the pusher as `remote:`.
 */
import { simpleGit } from 'simple-git';
import { SlipwayClient } from '../client';
import { Layout, resolveHome } from '../home';
import { environmentHostname } from '../domain/names';

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

async function postReceive(): Promise<number> {
  const project = (await simpleGit(process.cwd()).raw(['config', '--get', 'slipway.project'])).trim();
  const updates = (await readStdin())
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .filter((p) => p.length === 3 && p[2]!.startsWith('refs/heads/'))
    .map(([before, after, ref]) => ({ before: before!, after: after!, branch: ref!.slice('refs/heads/'.length) }));
  if (updates.length === 0) return 0;
  const client = await SlipwayClient.connect({ layout: new Layout(resolveHome()) });
  try {
    for (const u of updates) {
      await client.branchPushed(project, { ...u, pushedAt: Date.now() });
      console.error(
        `Slipway: ${u.branch} updated to ${u.after.slice(0, 12)}; if it is an active environment it deploys now ` +
          `(slipway env status ${project} ${u.branch}; http://${environmentHostname(project, u.branch)})`,
      );
    }
  } finally {
    await client.close();
  }
  return 0;
}

const hook = process.argv[2];
const run = hook === 'post-receive' ? postReceive : () => Promise.resolve(0);
run().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`Slipway: ${err instanceof Error ? err.message : String(err)}`);
    // The refs are already updated; the push itself succeeded. Say how to recover.
    console.error('Slipway: the engine was not told about this push; push again once the engine is up (slipway up).');
    process.exit(0);
  },
);
