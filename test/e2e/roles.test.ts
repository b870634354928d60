/**
 * Roles per project, through the real HTTP API and the `slipway` binary talking to it: a
 * developer of one team's project is refused (403, naming user, role and project) on another
 * team's project for reading, branching, deleting, redeploying and promoting, and nothing there
 * changes; `*` grants every project; admin is global; a support engineer decides only the
 * tickets of projects they support; the workflows get the roster as each project sees it. The
 * CLI with SLIPWAY_API_URL and SLIPWAY_TOKEN acts as the token's user and refuses --as.
 *
 * This file runs its own API and client on the harness's engine, with identities of its own.
 */
import { strict as assert } from 'node:assert';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { startApi, type RunningApi } from '../../src/api/server';
import { SlipwayClient } from '../../src/client';
import { hookToken } from '../../src/home';
import { loadIdentitiesFile } from '../../src/identities';
import { runSlipway } from '../harness/processes';
import { getWorld, tempDir, uniqueName } from '../harness/world';

const token = (user: string): string => `roles-test-${user}`;
const sha = (user: string): string => crypto.createHash('sha256').update(token(user)).digest('hex');

describe('roles per project, through the API', function () {
  this.timeout(300_000);
  const ours = uniqueName('team-a');
  const theirs = uniqueName('team-b');
  let api: RunningApi;
  let client: SlipwayClient;
  let env: NodeJS.ProcessEnv;

  async function call(method: string, route: string, user?: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> & { error?: string }; text: string }> {
    const res = await fetch(`${api.url}${route}`, {
      method,
      headers: { ...(user ? { authorization: `Bearer ${token(user)}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
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

  /** What a refused request must not change: the project's environments and integration's deployments. */
  async function state(project: string): Promise<unknown> {
    const info = await client.project(project);
    const integration = await client.environmentStatus(project, 'integration');
    return { environments: info.environments, deployments: integration.deployments.length, current: integration.current?.deployment };
  }

  before(async function () {
    const world = await getWorld();
    const file = path.join(tempDir('roles'), 'identities.yaml');
    fs.writeFileSync(
      file,
      [
        'users:',
        `  bob: { token_sha256: ${sha('bob')}, projects: { ${ours}: [developer] } }`,
        `  carol: { token_sha256: ${sha('carol')}, projects: { ${theirs}: [developer] } }`,
        `  wes: { token_sha256: ${sha('wes')}, projects: { "*": [developer] } }`,
        '  # The older form: the same roles on every project.',
        `  olga: { token_sha256: ${sha('olga')}, roles: [developer] }`,
        `  sid: { token_sha256: ${sha('sid')}, projects: { ${ours}: [support] } }`,
        `  sam: { token_sha256: ${sha('sam')}, projects: { "*": [support] } }`,
        `  ada: { token_sha256: ${sha('ada')}, admin: true }`,
        '',
      ].join('\n'),
    );
    const identities = (): ReturnType<typeof loadIdentitiesFile> => loadIdentitiesFile(file);
    client = await SlipwayClient.connect({ layout: world.layout, address: world.address, identities });
    api = await startApi({ client, hookToken: hookToken(world.layout), port: 0, identities });
    env = { ...process.env, SLIPWAY_HOME: world.layout.home, SLIPWAY_API_URL: api.url };
    delete env.TEMPORAL_ADDRESS;
    for (const project of [ours, theirs]) {
      const created = await call('POST', '/v1/projects', 'ada', { project });
      assert.equal(created.status, 201, created.text);
    }
    await Promise.all([ours, theirs].map((p) => client.waitForDeployment(p, 'integration')));
  });

  after(async function () {
    await api?.close();
    await client?.close();
  });

  it("refuses a developer every route of another team's project, and changes nothing there", async function () {
    const before = await state(theirs);
    const refusals: Array<[string, string, unknown?]> = [
      ['GET', `/v1/projects/${theirs}`],
      ['GET', `/v1/projects/${theirs}/environments`],
      ['GET', `/v1/projects/${theirs}/environments/integration`],
      ['GET', `/v1/projects/${theirs}/environments/integration/deployments/1`],
      ['GET', `/v1/projects/${theirs}/environments/integration/deployments/1/log`],
      ['GET', `/v1/projects/${theirs}/tickets`],
      ['POST', `/v1/projects/${theirs}/environments`, { name: 'bob-was-here' }],
      ['DELETE', `/v1/projects/${theirs}/environments/integration`],
      ['POST', `/v1/projects/${theirs}/environments/integration/redeploy`],
      ['POST', `/v1/projects/${theirs}/environments/integration/rollback`],
      ['POST', `/v1/projects/${theirs}/environments/integration/deactivate`],
      ['POST', `/v1/projects/${theirs}/promotions`, { target: 'staging' }],
    ];
    for (const [method, route, body] of refusals) {
      const r = await call(method, route, 'bob', body);
      assert.equal(r.status, 403, `${method} ${route}: ${r.text}`);
      assert.match(r.json.error ?? '', new RegExp(`^bob needs the role (developer, support or admin|developer or admin) on project ${theirs} for this$`), `${method} ${route}`);
    }
    // A project that does not exist answers the same: nothing is learnt from the refusal.
    const ghost = await call('GET', '/v1/projects/no-such-team', 'bob');
    assert.equal(ghost.status, 403);
    assert.deepEqual(await state(theirs), before, 'nothing changed');
    assert.equal((await call('POST', '/v1/projects', 'bob', { project: uniqueName('bobs') })).status, 403, 'creating projects is for admins');
  });

  it('lets the developer read, branch, redeploy and delete in their own project', async function () {
    assert.equal((await call('GET', `/v1/projects/${ours}`, 'bob')).status, 200);
    const branched = await call('POST', `/v1/projects/${ours}/environments`, 'bob', { name: 'feature', inactive: true });
    assert.equal(branched.status, 201, branched.text);
    const redeploy = await call('POST', `/v1/projects/${ours}/environments/integration/redeploy`, 'bob');
    assert.equal(redeploy.status, 202, redeploy.text);
    await client.waitForDeployment(ours, 'integration', { after: (redeploy.json.deployment as number) - 1 });
    assert.equal((await call('DELETE', `/v1/projects/${ours}/environments/feature`, 'bob')).status, 200);
  });

  it('grants every project with "*" (and with the older roles form), and admin on every project', async function () {
    for (const user of ['wes', 'olga', 'ada']) {
      for (const project of [ours, theirs]) {
        const r = await call('GET', `/v1/projects/${project}/environments/integration`, user);
        assert.equal(r.status, 200, `${user} on ${project}: ${r.text}`);
      }
    }
    const byAdmin = await call('POST', `/v1/projects/${theirs}/environments`, 'ada', { name: 'by-admin', inactive: true });
    assert.equal(byAdmin.status, 201, byAdmin.text);
    assert.equal((await call('DELETE', `/v1/projects/${theirs}/environments/by-admin`, 'carol')).status, 200);
    // Support engineers read, but do not act as developers.
    assert.equal((await call('GET', `/v1/projects/${ours}`, 'sid')).status, 200);
    assert.equal((await call('GET', `/v1/projects/${theirs}`, 'sid')).status, 403);
    const sidBranch = await call('POST', `/v1/projects/${ours}/environments`, 'sid', { name: 'sids' });
    assert.equal(sidBranch.status, 403);
    assert.match(sidBranch.json.error ?? '', new RegExp(`sid needs the role developer or admin on project ${ours}`));
  });

  it('lists only the projects the caller may see, with their roles there', async function () {
    const list = async (user: string): Promise<Array<{ project: string; roles: string[] }>> => {
      const r = await call('GET', '/v1/projects', user);
      assert.equal(r.status, 200, r.text);
      return (JSON.parse(r.text) as Array<{ project: string; roles: string[] }>).filter((p) => p.project === ours || p.project === theirs);
    };
    assert.deepEqual(await list('bob'), [{ project: ours, roles: ['developer'] }]);
    assert.deepEqual(await list('carol'), [{ project: theirs, roles: ['developer'] }]);
    assert.deepEqual(await list('sid'), [{ project: ours, roles: ['support'] }]);
    assert.deepEqual((await list('ada')).map((p) => p.project).sort(), [ours, theirs].sort());
    assert.deepEqual((await list('ada'))[0]!.roles, ['admin']);
    assert.equal((await call('GET', '/v1/projects')).status, 401);
  });

  it("refuses a support engineer another project's ticket; the workflows hold the project's roster", async function () {
    // On the engine host (no API in front), the project's roster refuses bob's promotion: he
    // holds no role on this project.
    await assert.rejects(client.promote(theirs, 'staging', 'bob'), /bob may not ask for promotions \(developer or admin role needed\)/);
    const promo = await call('POST', `/v1/projects/${theirs}/promotions`, 'carol', { target: 'staging' });
    assert.equal(promo.status, 202, promo.text);
    const ticket = promo.json.ticket as string;
    const refused = await call('POST', `/v1/projects/${theirs}/tickets/${ticket}/decision`, 'sid', { decision: 'approve' });
    assert.equal(refused.status, 403);
    assert.equal(refused.json.error, `sid needs the role support on project ${theirs} for this`);
    assert.deepEqual((await client.ticket(theirs, ticket)).attempts, [], 'the refused request never reached the ticket');
    // On the engine host (no API in front), the ticket's own roster refuses sid too: it holds
    // the roles of this project only.
    await assert.rejects(client.decide(theirs, ticket, { user: 'sid', decision: 'approve' }), /sid is not in the support role/);
    const approved = await call('POST', `/v1/projects/${theirs}/tickets/${ticket}/decision`, 'sam', { decision: 'approve' });
    assert.equal(approved.status, 200, approved.text);
    assert.equal(approved.json.status, 'approved');
    const done = await client.waitForPromotion(promo.json.workflowId as string);
    assert.equal(done.status, 'deployed');
    const shown = await call('GET', `/v1/projects/${theirs}/promotions/${ticket}`, 'carol');
    assert.equal(shown.status, 200, shown.text);
    assert.equal(shown.json.status, 'deployed');
  });

  it('the CLI through the API acts as the token\'s user, and refuses --as', async function () {
    const as = (user: string): NodeJS.ProcessEnv => ({ ...env, SLIPWAY_TOKEN: token(user) });
    const listed = await runSlipway(['project', 'list', '--json'], as('bob'));
    assert.equal(listed.code, 0, listed.stderr);
    assert.deepEqual((JSON.parse(listed.stdout) as Array<{ project: string }>).map((p) => p.project).filter((p) => p === ours || p === theirs), [ours]);

    const other = await runSlipway(['env', 'list', theirs], as('bob'));
    assert.equal(other.code, 1);
    assert.match(other.stderr, new RegExp(`slipway: bob needs the role developer, support or admin on project ${theirs} for this`));
    const redeployOther = await runSlipway(['env', 'redeploy', theirs, 'integration'], as('bob'));
    assert.equal(redeployOther.code, 1);
    assert.match(redeployOther.stderr, new RegExp(`bob needs the role developer or admin on project ${theirs}`));

    const branched = await runSlipway(['env', 'branch', ours, 'cli-feature', '--inactive'], as('bob'));
    assert.equal(branched.code, 0, branched.stderr);
    assert.match(branched.stderr, /cli-feature created from integration \(inactive\)/);
    const shown = await runSlipway(['env', 'list', ours, '--json'], as('bob'));
    assert.ok((JSON.parse(shown.stdout) as { environments: Array<{ name: string }> }).environments.some((e) => e.name === 'cli-feature'));
    const deleted = await runSlipway(['env', 'delete', ours, 'cli-feature'], as('bob'));
    assert.equal(deleted.code, 0, deleted.stderr);
    const log = await runSlipway(['env', 'log', ours, 'integration', '1'], as('bob'));
    assert.equal(log.code, 0, log.stderr);
    assert.match(log.stdout, /\[health-check\] succeeded/);

    // The promotion is bob's: the requester is the token's user, whoever the shell says.
    const promoted = await runSlipway(['promote', ours, 'staging'], as('bob'));
    assert.equal(promoted.code, 0, promoted.stderr);
    const ticket = promoted.stdout.trim();
    assert.equal((await client.ticket(ours, ticket)).requester, 'bob');
    const asOther = await runSlipway(['ticket', 'approve', ours, ticket, '--as', 'sam'], as('bob'));
    assert.equal(asOther.code, 2);
    assert.match(asOther.stderr, /--as is accepted only on the engine host/);
    const notSupport = await runSlipway(['ticket', 'approve', theirs, ticket], as('sid'));
    assert.equal(notSupport.code, 1);
    assert.match(notSupport.stderr, new RegExp(`sid needs the role support on project ${theirs}`));
    const approved = await runSlipway(['ticket', 'approve', ours, ticket, '--comment', 'via the API'], as('sid'));
    assert.equal(approved.code, 0, approved.stderr);
    assert.match(approved.stderr, new RegExp(`${ticket} is approved`));
    const record = await client.ticket(ours, ticket);
    assert.deepEqual(record.approvals.map((a) => a.user), ['sid']);
    const tickets = await runSlipway(['ticket', 'list', ours, '--json'], as('sid'));
    assert.equal(tickets.code, 0, tickets.stderr);

    const badToken = await runSlipway(['project', 'list'], { ...env, SLIPWAY_TOKEN: 'not-a-token' });
    assert.equal(badToken.code, 1);
    assert.match(badToken.stderr, /a valid bearer token is required/);
    const noRoute = await runSlipway(['project', 'create', uniqueName('nope')], as('ada'));
    assert.equal(noRoute.code, 2);
    assert.match(noRoute.stderr, /`slipway project create` runs only on the engine host/);
  });
});
