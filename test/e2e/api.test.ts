/**
 * The HTTP API over real HTTP: every route with valid and invalid input; 401 without a valid
 * token, 403 for the wrong role, 400 with field-level messages, 404 and 409 where they fit.
 */
import { strict as assert } from 'node:assert';
import { hookToken } from '../../src/home';
import { clone, getWorld, uniqueName } from '../harness/world';

const TOKEN = { alice: 'slipway-dev-alice', bob: 'slipway-dev-bob', sam: 'slipway-dev-sam', sue: 'slipway-dev-sue', ada: 'slipway-dev-ada' };

/** Every call made in this file: method, path and status, for the coverage check at the end. */
const calls: Array<{ method: string; path: string; status: number }> = [];

async function call(method: string, path: string, token?: string, body?: unknown, contentType = 'application/json'): Promise<{ status: number; json: Record<string, unknown> & { error?: string; issues?: Array<{ path: string; message: string }> }; text: string }> {
  const res = await fetch(`${process.env.SLIPWAY_TEST_API_URL}${path}`, {
    method,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body !== undefined ? { 'content-type': contentType } : {}) },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  calls.push({ method, path: path.split('?')[0]!, status: res.status });
  let json = {};
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    /* text */
  }
  return { status: res.status, json, text };
}

describe('HTTP API', function () {
  it('authenticates, authorises and validates', async function () {
    assert.equal((await call('GET', '/v1/projects/whatever')).status, 401);
    assert.equal((await call('GET', '/v1/projects/whatever', 'not-a-token')).status, 401);
    const forbidden = await call('POST', '/v1/projects', TOKEN.alice, { project: 'nope-project' });
    assert.equal(forbidden.status, 403);
    assert.match(forbidden.json.error ?? '', /alice needs the role admin/);
    const invalid = await call('POST', '/v1/projects', TOKEN.ada, { project: 'X', plan: 'gold', productionApprovals: 3 });
    assert.equal(invalid.status, 400);
    const paths = (invalid.json.issues ?? []).map((i) => i.path);
    for (const field of ['project', 'plan', 'productionApprovals']) assert.ok(paths.includes(field), `${field} in ${JSON.stringify(invalid.json)}`);
    assert.equal((await call('GET', '/v1/projects/no-such-project', TOKEN.alice)).status, 404);
    assert.equal((await call('GET', '/v1/projects/Bad_Id', TOKEN.alice)).status, 400);
    const spec = await call('GET', '/openapi.json');
    assert.equal(spec.status, 200);
    const specPaths = Object.keys((spec.json as { paths: Record<string, unknown> }).paths);
    for (const p of ['/v1/projects', '/v1/projects/{project}/environments', '/v1/projects/{project}/promotions', '/v1/projects/{project}/tickets/{ticket}/decision']) {
      assert.ok(specPaths.includes(p), `${p} in the OpenAPI document`);
    }
  });

  it('projects, environments, deployments, promotions and tickets', async function () {
    const { client } = await getWorld();
    const project = uniqueName('api');
    const created = await call('POST', '/v1/projects', TOKEN.ada, { project });
    assert.equal(created.status, 201, created.text);
    assert.equal((await call('POST', '/v1/projects', TOKEN.ada, { project })).status, 409, 'exists already');
    await client.waitForDeployment(project, 'integration');
    assert.equal((await call('GET', `/v1/projects/${project}`, TOKEN.sam)).json.plan, 'pro');
    // No hosts named: every kind of environment on the project's one host.
    assert.deepEqual((await call('GET', `/v1/projects/${project}`, TOKEN.sam)).json.hosts, { integration: ['local'], staging: ['local'], production: ['local'] });
    // The environment's status says whether its host answers; admins list the hosts.
    const envStatus = await call('GET', `/v1/projects/${project}/environments/integration`, TOKEN.sam);
    assert.equal(envStatus.status, 200, envStatus.text);
    const liveness = envStatus.json.hostLiveness as { host: string; state: string; summary: string };
    assert.equal(liveness.host, 'local');
    assert.match(liveness.summary, /^local: (live \(heartbeat \d+ s ago\)|not answering)/);
    const hosts = await call('GET', '/v1/hosts', TOKEN.ada);
    assert.equal(hosts.status, 200, hosts.text);
    assert.ok((JSON.parse(hosts.text) as Array<{ host: string }>).some((h) => h.host === 'local'), hosts.text);
    const local = await call('GET', '/v1/hosts/local', TOKEN.ada);
    assert.equal(local.status, 200, local.text);
    assert.equal(local.json.state, 'live', local.text);
    assert.equal((await call('GET', '/v1/hosts', TOKEN.alice)).status, 403, 'hosts are for admins');
    // Roles are per project: bob (a developer of shop only, in the sample) neither sees nor lists it.
    const bobs = await call('GET', `/v1/projects/${project}`, TOKEN.bob);
    assert.equal(bobs.status, 403);
    assert.equal(bobs.json.error, `bob needs the role developer, support or admin on project ${project} for this`);
    const listed = await call('GET', '/v1/projects', TOKEN.alice);
    assert.equal(listed.status, 200, listed.text);
    assert.ok((JSON.parse(listed.text) as Array<{ project: string }>).some((p) => p.project === project));
    const bobList = await call('GET', '/v1/projects', TOKEN.bob);
    assert.ok(!(JSON.parse(bobList.text) as Array<{ project: string }>).some((p) => p.project === project));
    assert.equal((await call('GET', '/v1/projects')).status, 401);

    const branched = await call('POST', `/v1/projects/${project}/environments`, TOKEN.alice, { name: 'feature', inactive: true });
    assert.equal(branched.status, 201, branched.text);
    assert.equal((await call('POST', `/v1/projects/${project}/environments`, TOKEN.alice, { name: 'feature' })).status, 409);
    assert.equal((await call('POST', `/v1/projects/${project}/environments`, TOKEN.alice, { name: 'x', parent: 'master' })).status, 409);
    assert.equal((await call('POST', `/v1/projects/${project}/environments`, TOKEN.alice, { inactive: 'yes' })).status, 400);
    assert.equal((await call('POST', `/v1/projects/${project}/environments`, TOKEN.sam, { name: 'y' })).status, 403);
    const envs = await call('GET', `/v1/projects/${project}/environments`, TOKEN.alice);
    assert.ok((envs.json as unknown as Array<{ name: string }>).some((e) => e.name === 'feature'));

    assert.equal((await call('POST', `/v1/projects/${project}/environments/feature/activate`, TOKEN.alice)).status, 202);
    await client.waitForDeployment(project, 'feature');
    assert.equal((await call('GET', `/v1/projects/${project}/environments/feature`, TOKEN.alice)).status, 200);
    assert.equal((await call('GET', `/v1/projects/${project}/environments/ghost`, TOKEN.alice)).status, 404);
    assert.equal((await call('POST', `/v1/projects/${project}/environments/feature/sync`, TOKEN.alice)).status, 202);
    assert.equal((await call('POST', `/v1/projects/${project}/environments/feature/merge`, TOKEN.alice)).status, 202);
    assert.equal((await call('POST', `/v1/projects/${project}/environments/staging/sync`, TOKEN.alice)).status, 409);
    const redeploy = await call('POST', `/v1/projects/${project}/environments/integration/redeploy`, TOKEN.alice);
    assert.equal(redeploy.status, 202, redeploy.text);
    await client.waitForDeployment(project, 'integration', { after: (redeploy.json.deployment as number) - 1 });
    assert.equal((await call('POST', `/v1/projects/${project}/environments/integration/rollback`, TOKEN.alice, { to: 'one' })).status, 400);
    assert.equal((await call('POST', `/v1/projects/${project}/environments/integration/rollback`, TOKEN.alice, { to: 99 })).status, 409);
    // No body: the previous release.
    const rolled = await call('POST', `/v1/projects/${project}/environments/integration/rollback`, TOKEN.alice);
    assert.equal(rolled.status, 202, rolled.text);
    await client.waitForDeployment(project, 'integration', { after: (rolled.json.deployment as number) - 1 });
    const log = await call('GET', `/v1/projects/${project}/environments/integration/deployments/1/log`, TOKEN.alice);
    assert.equal(log.status, 200);
    assert.match(log.text, /\[health-check\] succeeded/);
    assert.equal((await call('GET', `/v1/projects/${project}/environments/integration/deployments/999/log`, TOKEN.alice)).status, 404);
    const progress = await call('GET', `/v1/projects/${project}/environments/integration/deployments/1`, TOKEN.alice);
    assert.equal(progress.status, 200, progress.text);
    assert.equal(progress.json.phase, 'succeeded');
    assert.equal((await call('GET', `/v1/projects/${project}/environments/integration/deployments/0`, TOKEN.alice)).status, 400);
    assert.equal((await call('GET', `/v1/projects/${project}/environments/integration/deployments/999`, TOKEN.alice)).status, 404);
    const crons = await call('GET', `/v1/projects/${project}/environments/integration/crons`, TOKEN.alice);
    assert.equal(crons.status, 200, crons.text);
    assert.ok(Array.isArray(crons.json), 'a list of crons (the sample store declares none)');
    assert.equal((await call('POST', `/v1/projects/${project}/environments/feature/deactivate`, TOKEN.alice)).status, 202);
    assert.equal((await call('DELETE', `/v1/projects/${project}/environments/feature`, TOKEN.alice)).status, 200);
    assert.equal((await call('DELETE', `/v1/projects/${project}/environments/integration`, TOKEN.alice)).status, 409);

    // Promotion and decision: the requester is the caller; the decider too.
    assert.equal((await call('POST', `/v1/projects/${project}/promotions`, TOKEN.alice, { target: 'qa' })).status, 400);
    assert.equal((await call('POST', `/v1/projects/${project}/promotions`, TOKEN.sam, { target: 'staging' })).status, 403);
    const promo = await call('POST', `/v1/projects/${project}/promotions`, TOKEN.alice, { target: 'staging' });
    assert.equal(promo.status, 202, promo.text);
    const ticket = promo.json.ticket as string;
    assert.equal((await call('POST', `/v1/projects/${project}/promotions`, TOKEN.alice, { target: 'staging' })).status, 409);
    assert.equal((await call('POST', `/v1/projects/${project}/tickets/${ticket}/decision`, TOKEN.alice, { decision: 'approve' })).status, 403);
    assert.equal((await call('POST', `/v1/projects/${project}/tickets/${ticket}/decision`, TOKEN.sam, { decision: 'maybe' })).status, 400);
    assert.equal((await call('POST', `/v1/projects/${project}/tickets/SUP-999/decision`, TOKEN.sam, { decision: 'approve' })).status, 404);
    assert.equal((await call('GET', `/v1/projects/${project}/tickets/TICKET-1`, TOKEN.sam)).status, 400);
    const approved = await call('POST', `/v1/projects/${project}/tickets/${ticket}/decision`, TOKEN.sam, { decision: 'approve', comment: 'via API' });
    assert.equal(approved.status, 200, approved.text);
    assert.equal(approved.json.status, 'approved');
    assert.equal((await call('POST', `/v1/projects/${project}/tickets/${ticket}/decision`, TOKEN.sue, { decision: 'reject' })).status, 409);
    const promotion = await call('GET', `/v1/projects/${project}/promotions/${ticket}`, TOKEN.alice);
    assert.equal(promotion.status, 200, promotion.text);
    assert.equal(promotion.json.target, 'staging');
    assert.equal((await call('GET', `/v1/projects/${project}/promotions/TICKET-1`, TOKEN.alice)).status, 400);
    assert.equal((await call('GET', `/v1/projects/${project}/promotions/SUP-999`, TOKEN.alice)).status, 404);
    const shown = await call('GET', `/v1/projects/${project}/tickets/${ticket}`, TOKEN.alice);
    assert.equal(shown.json.requester, 'alice');
    const list = await call('GET', `/v1/projects/${project}/tickets`, TOKEN.alice);
    assert.equal(list.status, 200);
    assert.equal((await call('GET', `/v1/projects/${project}/tickets?open=maybe`, TOKEN.alice)).status, 400);
  });

  it('refuses invalid input on every route, with a message naming what is wrong', async function () {
    const { client, layout } = await getWorld();
    const project = uniqueName('api-bad');
    assert.equal((await call('POST', '/v1/projects', TOKEN.ada, { project })).status, 201);
    await client.waitForDeployment(project, 'integration');
    const hook = hookToken(layout);
    const sha = 'f'.repeat(40);
    const cases: Array<{ method: string; path: string; token?: string; body?: unknown; type?: string; status: number; error: RegExp; field?: string }> = [
      { method: 'POST', path: '/v1/projects', token: TOKEN.ada, body: { project: 'ok-name', host: 42 }, status: 400, error: /invalid request/, field: 'host' },
      { method: 'POST', path: '/v1/projects', token: TOKEN.ada, body: { project: 'ok-name', hosts: { production: ['Web 2'] } }, status: 400, error: /invalid request/, field: 'hosts.production.0' },
      { method: 'POST', path: '/v1/projects', token: TOKEN.ada, body: { project: 'ok-name', hosts: { integration: ['web1'], production: ['web1', 'web2'] } }, status: 400, error: /production runs on dedicated hosts, but web1 also serves integration/ },
      { method: 'POST', path: '/v1/projects', body: { project: 'no-token' }, status: 401, error: /a valid bearer token is required/ },
      { method: 'POST', path: '/v1/projects', token: TOKEN.ada, body: { project: 'ok-name', hostStartTimeout: 0 }, status: 400, error: /host start timeout must be at least 1 second/, field: 'hostStartTimeout' },
      { method: 'GET', path: '/v1/hosts/Bad_Host', token: TOKEN.ada, status: 400, error: /host must be a lowercase name/, field: 'host' },
      { method: 'GET', path: '/v1/projects/a', token: TOKEN.alice, status: 400, error: /project id must be 3 to 40 characters/, field: 'project' },
      { method: 'GET', path: '/v1/projects/Bad_Id/environments', token: TOKEN.alice, status: 400, error: /project id must be/, field: 'project' },
      { method: 'GET', path: '/v1/projects/no-such-project/environments', token: TOKEN.alice, status: 404, error: /no-such-project/ },
      { method: 'POST', path: `/v1/projects/${project}/environments`, token: TOKEN.alice, body: { name: 'Feature/X' }, status: 400, error: /contains "\/"/, field: 'name' },
      { method: 'POST', path: `/v1/projects/${project}/environments`, token: TOKEN.alice, body: { name: 'ok', parent: '../etc' }, status: 400, error: /contains ".."/, field: 'parent' },
      { method: 'GET', path: `/v1/projects/${project}/environments/UPPER`, token: TOKEN.alice, status: 400, error: /has capital letters/, field: 'environment' },
      { method: 'GET', path: `/v1/projects/${project}/environments/${'x'.repeat(41)}`, token: TOKEN.alice, status: 400, error: /at most 40/, field: 'environment' },
      { method: 'DELETE', path: `/v1/projects/${project}/environments/-rf`, token: TOKEN.alice, status: 400, error: /starts with "-"/, field: 'environment' },
      { method: 'DELETE', path: `/v1/projects/${project}/environments/ghost`, token: TOKEN.alice, status: 404, error: /ghost/ },
      { method: 'DELETE', path: `/v1/projects/${project}/environments/ghost`, token: TOKEN.sam, status: 403, error: /sam needs the role developer or admin/ },
      ...['activate', 'deactivate', 'sync', 'merge', 'redeploy', 'rollback'].flatMap((op) => [
        { method: 'POST', path: `/v1/projects/${project}/environments/has%20space/${op}`, token: TOKEN.alice, status: 400, error: /contains a space/, field: 'environment' },
        { method: 'POST', path: `/v1/projects/no-such-project/environments/integration/${op}`, token: TOKEN.alice, status: 404, error: /no-such-project/ },
      ]),
      { method: 'POST', path: `/v1/projects/${project}/environments/integration/rollback`, token: TOKEN.alice, body: { to: -1 }, status: 400, error: /invalid request/, field: 'to' },
      { method: 'POST', path: `/v1/projects/${project}/environments/integration/cancel`, token: TOKEN.alice, status: 409, error: /nothing to cancel: no deployment of .* is running/ },
      { method: 'POST', path: `/v1/projects/${project}/environments/Nope/cancel`, token: TOKEN.alice, status: 400, error: /capital letters/, field: 'environment' },
      { method: 'POST', path: `/v1/projects/${project}/environments/integration/cancel`, token: TOKEN.sue, status: 403, error: /sue needs the role developer or admin/ },
      { method: 'GET', path: `/v1/projects/${project}/environments/integration/deployments/0/log`, token: TOKEN.alice, status: 400, error: /invalid request/, field: 'deployment' },
      { method: 'GET', path: `/v1/projects/${project}/environments/Nope/crons`, token: TOKEN.alice, status: 400, error: /capital letters/, field: 'environment' },
      { method: 'GET', path: `/v1/projects/${project}/environments/ghost/crons`, token: TOKEN.alice, status: 404, error: /ghost/ },
      { method: 'GET', path: `/v1/projects/${project}/environments/integration/deployments/one/log`, token: TOKEN.alice, status: 400, error: /invalid request/, field: 'deployment' },
      { method: 'POST', path: `/v1/projects/${project}/promotions`, token: TOKEN.alice, body: {}, status: 400, error: /invalid request/, field: 'target' },
      { method: 'POST', path: `/v1/projects/${project}/promotions`, token: TOKEN.alice, body: { target: 'production' }, status: 409, error: /staging has never been deployed/ },
      { method: 'GET', path: '/v1/projects/no-such-project/tickets', token: TOKEN.alice, status: 404, error: /no-such-project/ },
      { method: 'GET', path: `/v1/projects/${project}/tickets/SUP-42`, token: TOKEN.alice, status: 404, error: /SUP-42/ },
      { method: 'POST', path: `/v1/projects/${project}/tickets/SUP-1/decision`, token: TOKEN.sam, body: { decision: 'approve', comment: 'x'.repeat(2001) }, status: 400, error: /invalid request/, field: 'comment' },
      { method: 'POST', path: `/v1/projects/${project}/tickets/SUP-1/decision`, body: { decision: 'approve' }, status: 401, error: /a valid bearer token is required/ },
      { method: 'POST', path: '/v1/hooks/post-receive', body: { project, updates: [{ branch: 'integration', before: sha, after: sha }] }, status: 401, error: /a valid hook token is required/ },
      { method: 'POST', path: '/v1/hooks/post-receive', token: hook, body: { project, updates: [{ branch: 'integration', before: 'abc', after: sha }] }, status: 400, error: /invalid request/, field: 'updates.0.before' },
      { method: 'POST', path: '/v1/hooks/post-receive', token: hook, body: { project: 'no-such-project', updates: [{ branch: 'integration', before: sha, after: sha }] }, status: 404, error: /no project no-such-project/ },
      { method: 'POST', path: `/v1/hooks/post-receive/${project}`, token: hook, body: 'not a ref update\n', type: 'text/plain', status: 400, error: /no branch updates in the body/ },
      { method: 'POST', path: `/v1/hooks/post-receive/${project}`, token: 'wrong', body: `${sha} ${sha} refs/heads/integration\n`, type: 'text/plain', status: 401, error: /a valid hook token is required/ },
    ];
    const before = await client.project(project);
    const results = await Promise.all(cases.map((c) => call(c.method, c.path, c.token, c.body, c.type)));
    cases.forEach((c, i) => {
      const r = results[i]!;
      const what = `${c.method} ${c.path} → ${r.status} ${r.text.slice(0, 300)}`;
      assert.equal(r.status, c.status, what);
      assert.match(r.json.error ?? r.text, c.error, what);
      if (c.field) assert.ok((r.json.issues ?? []).some((issue) => issue.path === c.field), `${c.field} named in ${what}`);
    });
    const after = await client.project(project);
    assert.deepEqual(after.environments, before.environments, 'no refused call changed the environments');

    // Cancel: a redeploy cancelled at once (or, if it won the race, reported as it ended).
    const redeploy = await call('POST', `/v1/projects/${project}/environments/integration/redeploy`, TOKEN.alice);
    assert.equal(redeploy.status, 202, redeploy.text);
    const cancelled = await call('POST', `/v1/projects/${project}/environments/integration/cancel`, TOKEN.alice);
    assert.equal(cancelled.status, 200, cancelled.text);
    assert.equal(cancelled.json.deployment, redeploy.json.deployment);
    assert.ok(['cancelled', 'succeeded'].includes(cancelled.json.status as string), cancelled.text);
    assert.equal((await call('GET', `/v1/projects/${project}/environments/integration`, TOKEN.alice)).json.running, undefined);

    // The hook routes' valid calls: a push of the branch's own head changes nothing but is accepted.
    const repo = await clone(before.remote, 'integration');
    const head = (await repo.git.revparse(['HEAD'])).trim();
    const json = await call('POST', '/v1/hooks/post-receive', hook, { project, updates: [{ branch: 'integration', before: head, after: head }] });
    assert.equal(json.status, 202, json.text);
    const text = await call('POST', `/v1/hooks/post-receive/${project}`, hook, `${head} ${head} refs/heads/integration\n`, 'text/plain');
    assert.equal(text.status, 202, text.text);
  });

  it('variables, data syncs and snapshots', async function () {
    const { client } = await getWorld();
    const project = uniqueName('apidata');
    assert.equal((await call('POST', '/v1/projects', TOKEN.ada, { project })).status, 201);
    await client.waitForDeployment(project, 'integration');
    const env = `/v1/projects/${project}/environments/integration`;
    // Variables: set (redeployed), listed, one read, removed; the project's by an admin.
    const put = await call('PUT', `${env}/variables/env:APP_MODE`, TOKEN.alice, { value: 'developer', build: false });
    assert.equal(put.status, 202, put.text);
    await client.waitForDeployment(project, 'integration', { after: (put.json.deployment as number) - 1 });
    assert.equal((await call('PUT', `${env}/variables/env:APP_MODE`, TOKEN.alice, { value: 3 })).status, 400, 'a value is text');
    assert.equal((await call('GET', `${env}/variables`, TOKEN.sam)).status, 200);
    assert.equal((await call('GET', `/v1/projects/${project}/environments/nowhere/variables`, TOKEN.sam)).status, 404);
    assert.equal((await call('GET', `${env}/variables/env:APP_MODE`, TOKEN.sam)).json.value, 'developer');
    assert.equal((await call('GET', `${env}/variables/env:NOPE`, TOKEN.sam)).status, 404);
    const unset = await call('DELETE', `${env}/variables/env:APP_MODE`, TOKEN.alice);
    assert.equal(unset.status, 202, unset.text);
    await client.waitForDeployment(project, 'integration', { after: (unset.json.deployment as number) - 1 });
    assert.equal((await call('DELETE', `${env}/variables/env:APP_MODE`, TOKEN.alice)).status, 404, 'gone already');
    assert.equal((await call('PUT', `/v1/projects/${project}/variables/shared:x`, TOKEN.ada, { value: 'y', build: false })).status, 202);
    assert.equal((await call('PUT', `/v1/projects/${project}/variables/shared:x`, TOKEN.alice, { value: 'y' })).status, 403);
    assert.equal((await call('GET', `/v1/projects/${project}/variables`, TOKEN.sam)).status, 200);
    const one = await call('GET', `/v1/projects/${project}/variables/shared:x`, TOKEN.sam);
    assert.equal(one.status, 200, one.text);
    assert.equal(one.json.value, 'y');
    assert.equal((await call('GET', `/v1/projects/${project}/variables/shared:nope`, TOKEN.sam)).status, 404);
    assert.equal((await call('GET', '/v1/projects/Bad_Id/variables', TOKEN.sam)).status, 400);
    assert.equal((await call('DELETE', `/v1/projects/${project}/variables/shared:x`, TOKEN.ada)).status, 202);
    assert.equal((await call('DELETE', `/v1/projects/${project}/variables/shared:x`, TOKEN.alice)).status, 403);
    for (let i = 0; i < 100 && (await client.environmentStatus(project, 'integration')).running; i++) await new Promise((r) => setTimeout(r, 100));
    // Snapshots: taken, listed, restored.
    const snap = await call('POST', `${env}/snapshots`, TOKEN.alice);
    assert.equal(snap.status, 201, snap.text);
    assert.equal((await call('POST', `${env}/snapshots`, TOKEN.sam)).status, 403);
    assert.equal((await call('GET', `${env}/snapshots`, TOKEN.sam)).status, 200);
    assert.equal((await call('GET', `/v1/projects/${project}/environments/nowhere/snapshots`, TOKEN.sam)).status, 404);
    const restore = await call('POST', `${env}/snapshots/${snap.json.snapshot as string}/restore`, TOKEN.alice);
    assert.equal(restore.status, 202, restore.text);
    await client.waitForDeployment(project, 'integration', { after: (restore.json.deployment as number) - 1 });
    const none = await call('POST', `${env}/snapshots/s-none/restore`, TOKEN.alice);
    assert.equal(none.status, 404, none.text);
    // Deleted: by a developer, once; a reader may not; an id that is not one is refused.
    assert.equal((await call('DELETE', `${env}/snapshots/${snap.json.snapshot as string}`, TOKEN.sam)).status, 403);
    const deleted = await call('DELETE', `${env}/snapshots/${snap.json.snapshot as string}`, TOKEN.alice);
    assert.equal(deleted.status, 200, deleted.text);
    assert.equal(deleted.json.deleted, snap.json.snapshot);
    assert.ok(!client.snapshots(project, 'integration').some((s) => s.id === snap.json.snapshot));
    assert.equal((await call('DELETE', `${env}/snapshots/${snap.json.snapshot as string}`, TOKEN.alice)).status, 404, 'gone already');
    assert.equal((await call('DELETE', `${env}/snapshots/a%20b`, TOKEN.alice)).status, 400);
    // sync-data: a child's, never integration's (it has no parent).
    assert.equal((await call('POST', `/v1/projects/${project}/environments`, TOKEN.alice, { name: 'feat', parent: 'integration' })).status, 201);
    await client.waitForDeployment(project, 'feat');
    const sync = await call('POST', `/v1/projects/${project}/environments/feat/sync-data`, TOKEN.alice);
    assert.equal(sync.status, 202, sync.text);
    await client.waitForDeployment(project, 'feat', { after: (sync.json.deployment as number) - 1 });
    const noParent = await call('POST', `${env}/sync-data`, TOKEN.alice);
    assert.equal(noParent.status, 400, noParent.text);
    assert.match(noParent.json.error ?? '', /integration has no parent to take data from/);
    const stagingSync = await call('POST', `/v1/projects/${project}/environments/staging/sync-data`, TOKEN.alice);
    assert.equal(stagingSync.status, 400, stagingSync.text);
    assert.match(stagingSync.json.error ?? '', /staging has no parent to take data from; its data is refreshed from production through a ticket: slipway env sync \S+ staging --data --from production --as <user> \(API: POST \/v1\/projects\/\S+\/environments\/staging\/data-refresh/);

    // data-refresh: staging's data from production, through a ticket whose requester is the caller.
    for (const target of ['staging', 'production']) {
      const { ticket, workflowId } = await client.promote(project, target, 'alice');
      await client.decide(project, ticket, { user: 'sam', decision: 'approve' });
      assert.equal((await client.waitForPromotion(workflowId)).status, 'deployed');
    }
    const refreshPath = `/v1/projects/${project}/environments/staging/data-refresh`;
    assert.equal((await call('POST', refreshPath, TOKEN.alice, {})).status, 400, 'from is required');
    assert.equal((await call('POST', refreshPath, TOKEN.sam, { from: 'production' })).status, 403);
    const wrong = await call('POST', `/v1/projects/${project}/environments/production/data-refresh`, TOKEN.alice, { from: 'staging' });
    assert.equal(wrong.status, 400, wrong.text);
    assert.match(wrong.json.error ?? '', /only staging's data is refreshed through a ticket, from production/);
    const refresh = await call('POST', refreshPath, TOKEN.alice, { from: 'production' });
    assert.equal(refresh.status, 202, refresh.text);
    const refreshTicket = await client.ticket(project, refresh.json.ticket as string);
    assert.deepEqual([refreshTicket.kind, refreshTicket.requester], ['data-refresh', 'alice']);
    const twice = await call('POST', refreshPath, TOKEN.alice, { from: 'production' });
    assert.equal(twice.status, 409, twice.text);
    assert.match(twice.json.error ?? '', new RegExp(`waits for ${refresh.json.ticket as string} already`));
    await client.decide(project, refresh.json.ticket as string, { user: 'sam', decision: 'reject' });
  });

  it('every route of the OpenAPI document was called with valid and with invalid input', async function () {
    const spec = (await call('GET', '/openapi.json')).json as unknown as { paths: Record<string, Record<string, unknown>> };
    const missing: string[] = [];
    for (const [template, methods] of Object.entries(spec.paths)) {
      const pattern = new RegExp(`^${template.replace(/\{[^}]+\}/g, '[^/]+')}$`);
      for (const method of Object.keys(methods).map((m) => m.toUpperCase())) {
        const statuses = calls.filter((c) => c.method === method && pattern.test(c.path)).map((c) => c.status);
        if (!statuses.some((s) => s >= 200 && s < 300)) missing.push(`${method} ${template}: no valid call`);
        if (!statuses.some((s) => s >= 400 && s < 500)) missing.push(`${method} ${template}: no invalid call`);
      }
    }
    assert.deepEqual(missing, []);
    const seen = new Set(calls.map((c) => c.status));
    for (const status of [200, 201, 202, 400, 401, 403, 404, 409]) assert.ok(seen.has(status), `status ${status} was shown`);
    assert.ok(!seen.has(500), 'no call failed with 500');
  });
});
