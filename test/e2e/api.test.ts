/**
 * The HTTP API over real HTTP: every route with valid and invalid input; 401 without a valid
 * token, 403 for the wrong role, 400 with field-level messages, 404 and 409 where they fit.
 */
import { strict as assert } from 'node:assert';
import { getWorld, uniqueName } from '../harness/world';

const TOKEN = { alice: 'slipway-dev-alice', sam: 'slipway-dev-sam', sue: 'slipway-dev-sue', ada: 'slipway-dev-ada' };

async function call(method: string, path: string, token?: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> & { error?: string; issues?: Array<{ path: string; message: string }> }; text: string }> {
  const res = await fetch(`${process.env.SLIPWAY_TEST_API_URL}${path}`, {
    method,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
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
    const rolled = await call('POST', `/v1/projects/${project}/environments/integration/rollback`, TOKEN.alice, {});
    assert.equal(rolled.status, 202, rolled.text);
    await client.waitForDeployment(project, 'integration', { after: (rolled.json.deployment as number) - 1 });
    const log = await call('GET', `/v1/projects/${project}/environments/integration/deployments/1/log`, TOKEN.alice);
    assert.equal(log.status, 200);
    assert.match(log.text, /\[health-check\] succeeded/);
    assert.equal((await call('GET', `/v1/projects/${project}/environments/integration/deployments/999/log`, TOKEN.alice)).status, 404);
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
    const shown = await call('GET', `/v1/projects/${project}/tickets/${ticket}`, TOKEN.alice);
    assert.equal(shown.json.requester, 'alice');
    const list = await call('GET', `/v1/projects/${project}/tickets`, TOKEN.alice);
    assert.equal(list.status, 200);
    assert.equal((await call('GET', `/v1/projects/${project}/tickets?open=maybe`, TOKEN.alice)).status, 400);
  });
});
