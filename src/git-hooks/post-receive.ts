/**
 * The post-receive hook's Node part (the shell hook runs it when curl is missing or the API
 * did not answer). It must be quick — the pusher waits for it — so it loads nothing but Node
 * builtins and posts the updated branches to the engine's API
 * (address in SLIPWAY_HOME/runtime.json, token in SLIPWAY_HOME/hook-token). When no API
 * answers, it signals the project's workflow through Temporal directly (slower, same effect).
 * What it prints reaches the pusher as `remote: …`.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import * as path from 'node:path';
import { parseRefUpdates, pushMessage } from '../domain/git-refs';

function post(url: string, token: string, body: unknown): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const data = JSON.stringify(body);
    // The API's advertised address may be https (`slipway api --advertise https://…`).
    const req = (url.startsWith('https:') ? https : http).request(
      url,
      {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(data),
          authorization: `Bearer ${token}`,
          connection: 'close',
        },
        // No keep-alive socket may hold the pusher's `git push` open.
        agent: false,
        timeout: 15_000,
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      },
    );
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end(data);
  });
}

async function main(): Promise<void> {
  const home = process.env.SLIPWAY_HOME ?? '';
  const project = execFileSync('git', ['config', '--get', 'slipway.project'], { encoding: 'utf8' }).trim();
  const updates = parseRefUpdates(fs.readFileSync(0, 'utf8'));
  if (updates.length === 0) return;

  let delivered = false;
  try {
    const runtime = JSON.parse(fs.readFileSync(path.join(home, 'runtime.json'), 'utf8')) as { apiUrl?: string };
    const token = fs.readFileSync(path.join(home, 'hook-token'), 'utf8').trim();
    if (runtime.apiUrl) {
      const res = await post(`${runtime.apiUrl}/v1/hooks/post-receive`, token, { project, updates });
      if (res.status === 202) delivered = true;
      else console.error(`Slipway: the engine answered ${res.status}: ${res.text}`);
    }
  } catch {
    /* no engine API reachable: deliver through Temporal below */
  }
  if (!delivered) {
    // Loaded only now: the Temporal client takes a few hundred milliseconds to load.
    const { deliverThroughTemporal } = await import('./deliver-temporal');
    await deliverThroughTemporal(home, project, updates);
  }
  for (const u of updates) console.error(pushMessage(project, u));
}

main()
  .catch((err: unknown) => {
    console.error(`Slipway: ${err instanceof Error ? err.message : String(err)}`);
    // The refs are already updated; only the engine was not told. Say how to recover.
    console.error('Slipway: the engine was not told about this push; push again once it is up (slipway up).');
  })
  .finally(() => process.exit(0));
