/**
 * The remote's post-receive hook: it posts to the engine's API when one answers, and signals
 * Temporal directly when none does; the API refuses unauthenticated or malformed posts.
 */
import { strict as assert } from 'node:assert';
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PACKAGE_ROOT, writeRuntimeInfo, Layout } from '../../src/home';
import { clone, createProject, getWorld, tempDir } from '../harness/world';

// Never a *Sync child process for git here: the API and the worker run in this process.
const run = promisify(execFile);
const HOOK = path.join(PACKAGE_ROOT, 'dist', 'src', 'git-hooks', 'post-receive.js');

async function postReceive(token: string | undefined, body: unknown): Promise<{ status: number; body: string }> {
  const res = await fetch(`${process.env.SLIPWAY_TEST_API_URL}/v1/hooks/post-receive`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: await res.text() };
}

describe('post-receive hook', function () {
  it('without an engine API, still reaches the project through Temporal', async function () {
    const { client, address } = await getWorld();
    const project = await createProject('hookfb');
    const first = await client.waitForDeployment(project.project, 'integration');
    const repo = await clone(project.remote, 'integration');
    // Commit without pushing through the real hook; then run the hook by hand with a data
    // directory whose runtime.json names Temporal but no API.
    fs.writeFileSync(path.join(repo.dir, 'content', 'headline.txt'), 'Delivered through Temporal\n');
    await repo.git.add(['--all']).commit('fallback');
    const commit = (await repo.git.revparse(['HEAD'])).trim();
    // Put the commit in the remote without a post-receive hook run for integration.
    await run('git', ['push', project.remote, `HEAD:refs/heads/hook-bypass`], { cwd: repo.dir });
    execFileSync('git', ['update-ref', 'refs/heads/integration', commit], { cwd: project.remote });
    const home = tempDir('hook-home');
    writeRuntimeInfo(new Layout(home), { temporalAddress: address, namespace: 'default', pid: process.pid });
    const hook = execFile(process.execPath, [HOOK], { cwd: project.remote, env: { PATH: process.env.PATH, SLIPWAY_HOME: home } });
    hook.stdin?.end(`${first.commit} ${commit} refs/heads/integration\n`);
    await new Promise((resolve) => hook.once('exit', resolve));
    const d = await client.waitForDeployment(project.project, 'integration', { commit, after: first.deployment });
    assert.equal(d.status, 'succeeded', d.error);
  });

  it('the API refuses a post without the hook token (401) or with a malformed body (400)', async function () {
    const { layout } = await getWorld();
    const token = fs.readFileSync(layout.hookTokenFile, 'utf8').trim();
    const valid = { project: 'nope-project', updates: [{ branch: 'integration', before: '0'.repeat(40), after: 'a'.repeat(40) }] };
    assert.equal((await postReceive(undefined, valid)).status, 401);
    assert.equal((await postReceive('wrong', valid)).status, 401);
    const bad = await postReceive(token, { project: 'X', updates: [{ branch: 'integration', before: 'zz', after: 'a'.repeat(40) }] });
    assert.equal(bad.status, 400);
    assert.match(bad.body, /project/);
    assert.match(bad.body, /40-character commit id/);
    const unknown = await postReceive(token, valid);
    assert.equal(unknown.status, 404);
    assert.match(unknown.body, /no project nope-project/);
  });

  it('a push through the real hook tells the pusher what happens next', async function () {
    const { client } = await getWorld();
    const project = await createProject('hookmsg');
    await client.waitForDeployment(project.project, 'integration');
    const repo = await clone(project.remote, 'integration');
    fs.writeFileSync(path.join(repo.dir, 'x.txt'), 'x\n');
    await repo.git.add(['--all']).commit('x');
    const started = Date.now();
    const push = await run('git', ['push', 'origin', 'integration'], { cwd: repo.dir, encoding: 'utf8' });
    // A hook holding a keep-alive socket made every push wait out a 15 s timeout.
    assert.ok(Date.now() - started < 10_000, 'the hook does not hold the push');
    assert.match(push.stderr, new RegExp(`remote: Slipway: integration updated to [0-9a-f]{12}; .*slipway env status ${project.project} integration`));
  });
});
