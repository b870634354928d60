/**
 * The remotes over Git smart HTTP behind the API: hostile paths first (never outside the
 * remotes, never another project, unknown projects 404), then clone and push with a token
 * (the push deploys through the remote's hooks), and every refusal: no token, a wrong token, a
 * support engineer pushing, a developer of another project; a refused push changes nothing.
 */
import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { promisify } from 'node:util';
import { runSlipway } from '../harness/processes';
import { createProject, enginePid, getWorld, tempDir } from '../harness/world';

// Never a *Sync child process for git here: the API and the worker run in this process.
const run = promisify(execFile);

const TOKENS = { alice: 'slipway-dev-alice', bob: 'slipway-dev-bob', sam: 'slipway-dev-sam' } as const;

/** git with no prompt, no stored credentials and no system or user configuration in the way. */
function git(args: string[], cwd?: string): Promise<{ stdout: string; stderr: string }> {
  return run('git', ['-c', 'credential.helper=', '-c', 'user.name=HTTP Tester', '-c', 'user.email=http@example.invalid', ...args], {
    cwd,
    env: { PATH: process.env.PATH, HOME: tempHome, GIT_TERMINAL_PROMPT: '0', GIT_CONFIG_NOSYSTEM: '1' },
    encoding: 'utf8',
  });
}

/** git expected to fail: its standard error. */
async function gitFails(args: string[], cwd?: string): Promise<string> {
  try {
    await git(args, cwd);
  } catch (err) {
    return String((err as { stderr?: string }).stderr ?? err);
  }
  throw new Error(`git ${args.join(' ')} succeeded`);
}

let tempHome = '';

async function waitFor(done: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A raw request with the path exactly as given (no normalisation of `..` or `%2F`). */
function rawRequest(
  url: string,
  rawPath: string,
  options: { method?: string; token?: string; headers?: Record<string, string>; body?: Buffer } = {},
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
  const base = new URL(url);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: base.hostname,
        port: base.port,
        method: options.method ?? 'GET',
        path: rawPath,
        headers: {
          ...(options.token ? { authorization: `Basic ${Buffer.from(`someone:${options.token}`).toString('base64')}` } : {}),
          ...options.headers,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

describe('Git smart HTTP behind the API', function () {
  const apiUrl = (): string => process.env.SLIPWAY_TEST_API_URL!;
  const remoteUrl = (project: string, token?: string, user = 'dev'): string => {
    const u = new URL(`${apiUrl()}/git/${project}.git`);
    if (token) {
      u.username = user;
      u.password = token;
    }
    return u.toString();
  };
  let project = '';
  let firstDeployment = 0;

  before(async function () {
    tempHome = tempDir('git-http-home');
    const { client } = await getWorld();
    project = (await createProject('githttp')).project;
    const first = await client.waitForDeployment(project, 'integration');
    assert.equal(first.status, 'succeeded', first.error);
    firstDeployment = first.deployment;
  });

  it('refuses hostile paths, other files and unknown projects with 404, even with a valid token', async function () {
    const { layout } = await getWorld();
    const other = (await createProject('githttp-other')).project;
    const svc = '?service=git-upload-pack';
    const hostile = [
      `/git/../git/${project}.git/info/refs${svc}`,
      `/git/${project}.git/../../hook-token`,
      `/git/${project}.git/../${other}.git/info/refs${svc}`,
      `/git/%2e%2e%2fgit%2f${project}.git/info/refs${svc}`,
      `/git/${project}.git%2Finfo%2Frefs${svc}`,
      `/git/${project}%2egit/info/refs${svc}`,
      `/git/..%2F..%2Fhook-token`,
      `/git//etc/passwd.git/info/refs${svc}`,
      `/git/${project}.git/HEAD`,
      `/git/${project}.git/config`,
      `/git/${project}.git/objects/info/packs`,
      `/git/${project}.git/hooks/post-receive`,
      `/git/${project}.git/info/refs`,
      `/git/${project}.git/info/refs?service=git-upload-archive`,
      `/git/${project.toUpperCase()}.git/info/refs${svc}`,
      `/git/nope-unknown-project.git/info/refs${svc}`,
    ];
    for (const p of hostile) {
      const res = await rawRequest(apiUrl(), p, { token: TOKENS.alice });
      assert.equal(res.status, 404, `${p}: ${res.status} ${res.body.toString()}`);
      assert.doesNotMatch(res.body.toString('latin1'), /[0-9a-f]{40} refs\/heads|\[core\]|Bearer|#!\/bin\/sh/, p);
    }
    // A GET of the push endpoint, a POST of the advertisement: not the protocol, 404.
    assert.equal((await rawRequest(apiUrl(), `/git/${project}.git/git-receive-pack`, { token: TOKENS.alice })).status, 404);
    assert.equal((await rawRequest(apiUrl(), `/git/${project}.git/info/refs${svc}`, { method: 'POST', token: TOKENS.alice })).status, 404);
    // The remote itself is where it was, unchanged.
    assert.ok(fs.existsSync(path.join(layout.remote(project), 'slipway-ready')));
  });

  it('answers 401 with a Basic challenge without a token or with a wrong one, 403 to another project\'s developer', async function () {
    const refs = `/git/${project}.git/info/refs?service=git-upload-pack`;
    for (const token of [undefined, 'not-a-token']) {
      const res = await rawRequest(apiUrl(), refs, { token });
      assert.equal(res.status, 401);
      assert.equal(res.headers['www-authenticate'], 'Basic realm="Slipway"');
    }
    const bearer = await rawRequest(apiUrl(), refs, { headers: { authorization: `Bearer ${TOKENS.alice}` } });
    assert.equal(bearer.status, 401, 'only Basic credentials');
    const bob = await rawRequest(apiUrl(), refs, { token: TOKENS.bob });
    assert.equal(bob.status, 403);
    assert.match(bob.body.toString(), new RegExp(`bob needs the role .* on project ${project}`));
    // A support engineer may fetch, not push.
    assert.equal((await rawRequest(apiUrl(), refs, { token: TOKENS.sam })).status, 200);
    const samPush = await rawRequest(apiUrl(), `/git/${project}.git/info/refs?service=git-receive-pack`, { token: TOKENS.sam });
    assert.equal(samPush.status, 403);
    assert.match(samPush.body.toString(), /sam needs the role developer or admin/);
  });

  it('clones and pushes with a token; the push deploys; refused pushes change nothing', async function () {
    const { client, layout } = await getWorld();
    const dir = tempDir('git-http-clone');
    await git(['clone', '-q', '-b', 'integration', remoteUrl(project, TOKENS.alice, 'alice'), dir]);
    assert.ok(fs.existsSync(path.join(dir, '.magento.app.yaml')), 'cloned over HTTP');
    fs.writeFileSync(path.join(dir, 'content', 'headline.txt'), 'Pushed over HTTP\n');
    // Larger than git's http.postBuffer (1 MiB): the pack goes as a chunked, streamed body.
    fs.writeFileSync(path.join(dir, 'content', 'noise.bin'), crypto.randomBytes(3 * 1024 * 1024));
    await git(['add', '--all'], dir);
    await git(['commit', '-q', '-m', 'over HTTP'], dir);
    const commit = (await git(['rev-parse', 'HEAD'], dir)).stdout.trim();
    const pushed = await git(['push', 'origin', 'integration'], dir);
    assert.match(pushed.stderr, /remote: Slipway: integration updated to [0-9a-f]{12}/);
    const d = await client.waitForDeployment(project, 'integration', { commit, after: firstDeployment });
    assert.equal(d.status, 'succeeded', d.error);

    // The remote's hooks apply over HTTP too: staging takes code by promotion only.
    const staging = await gitFails(['push', 'origin', 'HEAD:staging'], dir);
    assert.match(staging, /staging is read-only/);

    const head = async (): Promise<string> => (await run('git', ['rev-parse', 'refs/heads/integration'], { cwd: layout.remote(project) })).stdout.trim();
    assert.equal(await head(), commit);
    fs.writeFileSync(path.join(dir, 'content', 'headline.txt'), 'Refused\n');
    await git(['commit', '-q', '-am', 'refused'], dir);
    const refusals: Array<[string, string | undefined, RegExp]> = [
      ['no token', undefined, /could not read Username|Authentication failed|401/],
      ['a wrong token', 'not-a-token', /Authentication failed|401/],
      ['a support engineer (read only)', TOKENS.sam, /403/],
      ['a developer of another project', TOKENS.bob, /403/],
    ];
    for (const [who, token, why] of refusals) {
      const stderr = await gitFails(['push', remoteUrl(project, token), 'integration'], dir);
      assert.match(stderr, why, who);
      assert.equal(await head(), commit, `${who}: nothing changed`);
    }
    // Fetching: no token and a wrong one are refused, another project's developer too; support may.
    assert.match(await gitFails(['ls-remote', remoteUrl(project)]), /could not read Username|401/);
    assert.match(await gitFails(['ls-remote', remoteUrl(project, 'not-a-token')]), /Authentication failed|401/);
    assert.match(await gitFails(['ls-remote', remoteUrl(project, TOKENS.bob)]), /403/);
    assert.match((await git(['ls-remote', remoteUrl(project, TOKENS.sam), 'integration'])).stdout, new RegExp(`^${commit}\trefs/heads/integration`));
    // No deployment came of the refused pushes.
    const status = await client.environmentStatus(project, 'integration');
    assert.equal(status.nextDeployment, d.deployment + 1);
    assert.equal(status.running, undefined);
  });

  it('takes a gzip-compressed request body, as git sends a large negotiation', async function () {
    const { layout } = await getWorld();
    const head = (await run('git', ['rev-parse', 'refs/heads/integration'], { cwd: layout.remote(project) })).stdout.trim();
    const pkt = (line: string): string => `${(line.length + 4).toString(16).padStart(4, '0')}${line}`;
    const request = Buffer.from(`${pkt(`want ${head}\n`)}0000${pkt('done\n')}`);
    const res = await rawRequest(apiUrl(), `/git/${project}.git/git-upload-pack`, {
      method: 'POST',
      token: TOKENS.alice,
      headers: { 'content-type': 'application/x-git-upload-pack-request', 'content-encoding': 'gzip' },
      body: zlib.gzipSync(request),
    });
    assert.equal(res.status, 200, res.body.toString());
    assert.equal(res.headers['content-type'], 'application/x-git-upload-pack-result');
    assert.ok(res.body.includes(Buffer.from('PACK')), 'a pack came back');
    const wrongType = await rawRequest(apiUrl(), `/git/${project}.git/git-upload-pack`, {
      method: 'POST',
      token: TOKENS.alice,
      headers: { 'content-type': 'application/json' },
      body: Buffer.from('{}'),
    });
    assert.equal(wrongType.status, 415);
  });

  it('a client gone in the middle of a push leaves no http-backend behind and changes nothing', async function () {
    const { layout } = await getWorld();
    const head = async (): Promise<string> => (await run('git', ['rev-parse', 'refs/heads/integration'], { cwd: layout.remote(project) })).stdout.trim();
    const before = await head();
    const engine = enginePid(); // the API's process
    const backends = (): number[] =>
      fs.readdirSync('/proc').filter((e) => /^\d+$/.test(e)).map(Number).filter((pid) => {
        try {
          const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
          const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
          return ppid === engine && fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('http-backend');
        } catch {
          return false;
        }
      });
    const base = new URL(apiUrl());
    const req = http.request({
      host: base.hostname,
      port: base.port,
      method: 'POST',
      path: `/git/${project}.git/git-receive-pack`,
      headers: {
        authorization: `Basic ${Buffer.from(`alice:${TOKENS.alice}`).toString('base64')}`,
        'content-type': 'application/x-git-receive-pack-request',
        'content-length': '100000',
      },
    });
    req.on('error', () => undefined);
    // The first command of a push, and then nothing: receive-pack waits for the rest.
    const line = `${before} ${'1'.repeat(40)} refs/heads/integration\0report-status\n`;
    req.write(`${(line.length + 4).toString(16).padStart(4, '0')}${line}`);
    await waitFor(() => backends().length > 0, 10_000, 'http-backend to start');
    req.destroy();
    await waitFor(() => backends().length === 0, 10_000, 'http-backend to end once its client went away');
    assert.equal(await head(), before);
  });

  it("the project's record gives its HTTP remote (API and CLI)", async function () {
    const res = await fetch(`${apiUrl()}/v1/projects/${project}`, { headers: { authorization: `Bearer ${TOKENS.alice}` } });
    assert.equal(res.status, 200);
    const info = (await res.json()) as { remote: string; httpRemote?: string };
    assert.equal(info.httpRemote, `${apiUrl()}/git/${project}.git`);
    const shown = await runSlipway(['project', 'show', project], { ...process.env, SLIPWAY_API_URL: apiUrl(), SLIPWAY_TOKEN: TOKENS.alice });
    assert.equal(shown.code, 0, shown.stderr);
    assert.match(shown.stdout, new RegExp(`http remote: ${apiUrl()}/git/${project}\\.git`));
  });
});
