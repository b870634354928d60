/**
 * Variables (issue 17, item 4): a sensitive variable reaches the application, the build and
 * the hooks, and appears in no workflow history and no log; `env:` names become process
 * variables, the others MAGENTO_CLOUD_VARIABLES; a runtime-only change redeploys with the same
 * slug, a build-visible one builds again; children inherit unless --no-inherit; staging and
 * production change only through a ticket, which shows the name and whether the value changed.
 */
import { strict as assert } from 'node:assert';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { workflowIds } from '../../src/domain/names';
import { PACKAGE_ROOT } from '../../src/home';
import { fetchHistoryJson, replayHistoryJson } from '../../src/replay';
import { applicationPaths, appCgroupName } from '../../src/runtime/application';
import { runtimeStatus } from '../../src/runtime/environment-runtime';
import { SandboxCgroup } from '../../src/sandbox/cgroup';
import { leakIn, needlesOf, otherProjectsData, scanHistories, scanTree } from '../harness/leaks';
import { runSlipway, waitUntil } from '../harness/processes';
import { deployedProject, getPage, getWorld } from '../harness/world';

/** Replays a live history against the current code, and keeps it under test/histories when asked (SLIPWAY_RECORD_HISTORIES=1, new files only). */
async function keep(client: Awaited<ReturnType<typeof getWorld>>['client'], file: string, workflowId: string): Promise<void> {
  const json = await fetchHistoryJson(client.temporal, workflowId);
  const outcome = await replayHistoryJson(json, workflowId, workflowId);
  assert.ok(outcome.ok, `${workflowId}: ${outcome.error}`);
  const stored = path.join(PACKAGE_ROOT, 'test', 'histories', file);
  if (process.env.SLIPWAY_RECORD_HISTORIES === '1' && !fs.existsSync(stored)) fs.writeFileSync(stored, `${JSON.stringify(JSON.parse(json), null, 1)}\n`);
}

/** Signs in to the web interface with a token (its CSRF-protected form): the session's cookie header. */
async function signIn(token: string): Promise<string> {
  const base = process.env.SLIPWAY_TEST_API_URL!;
  const cookies = (res: Response): string[] => res.headers.getSetCookie().map((c) => c.split(';')[0]!);
  const form = await fetch(`${base}/ui/sign-in`);
  const csrf = /name="_csrf" value="([^"]+)"/.exec(await form.text())?.[1];
  assert.ok(csrf, 'the sign-in form has a CSRF token');
  const jar = cookies(form);
  const res = await fetch(`${base}/ui/sign-in`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: jar.join('; ') },
    body: new URLSearchParams({ token, _csrf: csrf }).toString(),
  });
  assert.equal(res.status, 303, 'signed in');
  return [...jar, ...cookies(res)].join('; ');
}

const sha = (s: string): string => crypto.createHash('sha256').update(s).digest('hex');

/** A PHP app that shows what it was given: hashes of the values, never the values. */
const APP = `
name: mymagento
type: php:8.2
web:
  locations:
    "/":
      root: "pub"
      passthru: "/index.php"
hooks:
  build: |
    printf 'build sees PAYMENT_KEY: %s\\n' "$(printf %s "$PAYMENT_KEY" | sha256sum | cut -c1-64)"
  deploy: |
    printf 'deploy sees PAYMENT_KEY: %s\\n' "$(printf %s "$PAYMENT_KEY" | sha256sum | cut -c1-64)"
    printf 'deploy sees variables: %s\\n' "$(printf %s "$MAGENTO_CLOUD_VARIABLES" | base64 -d | php -r 'echo implode(",", array_keys(json_decode(stream_get_contents(STDIN), true)));')"
`;
const INDEX = `<?php
header('Content-Type: text/plain');
$vars = json_decode(base64_decode(getenv('MAGENTO_CLOUD_VARIABLES')), true);
echo 'key=', hash('sha256', (string) getenv('PAYMENT_KEY')), "\\n";
echo 'color=', getenv('APP_COLOR'), "\\n";
echo 'shared=', $vars['shared:greeting'] ?? '-', "\\n";
echo 'secret=', hash('sha256', (string) ($vars['vendor:token'] ?? '')), "\\n";
`;

describe('variables: project and environment, sensitive ones never seen again', function () {
  this.timeout(300_000);

  it('reach the build, the hooks and the application; a sensitive value is in no history and no log; runtime changes keep the slug, build ones rebuild', async function () {
    const p = await deployedProject('vars', { '.magento.app.yaml': APP, 'pub/index.php': INDEX });
    const { client, layout, project } = p;
    const secret = `s3cr3t-${crypto.randomBytes(12).toString('hex')}`;
    const token = `tok-${crypto.randomBytes(12).toString('hex')}`;

    // A sensitive process variable, visible at build and runtime: one deployment, built again.
    const set = await client.setEnvironmentVariable(project, 'integration', { name: 'env:PAYMENT_KEY', value: secret, sensitive: true, by: 'alice' });
    assert.ok(set.applied && set.deployment !== undefined && set.rebuilt, JSON.stringify(set));
    let d = await client.waitForDeployment(project, 'integration', { after: set.deployment - 1 });
    assert.equal(d.status, 'succeeded', d.error);
    assert.equal(d.slugReused, false, 'the build sees it: built again');
    const log = client.deploymentLog(project, 'integration', d.deployment);
    assert.match(log, new RegExp(`build sees PAYMENT_KEY: ${sha(secret)}`));
    assert.match(log, new RegExp(`deploy sees PAYMENT_KEY: ${sha(secret)}`));
    assert.match((await getPage(project, 'integration', '/')).body, new RegExp(`key=${sha(secret)}`));

    // A runtime-only, non-sensitive one: redeployed with the same slug.
    const slug = d.slug;
    const color = await client.setEnvironmentVariable(project, 'integration', { name: 'env:APP_COLOR', value: 'teal', build: false, by: 'alice' });
    assert.ok(color.applied && color.deployment !== undefined && !color.rebuilt);
    d = await client.waitForDeployment(project, 'integration', { after: color.deployment - 1 });
    assert.equal(d.status, 'succeeded', d.error);
    assert.equal(d.slug, slug, 'the same slug');
    assert.match((await getPage(project, 'integration', '/')).body, /color=teal/);

    // Project variables: the lowest layer, in MAGENTO_CLOUD_VARIABLES; a sensitive one too.
    const shared = await client.setProjectVariable(project, { name: 'shared:greeting', value: 'hello', build: false, by: 'ada' });
    const vendor = await client.setProjectVariable(project, { name: 'vendor:token', value: token, sensitive: true, build: false, by: 'ada' });
    for (const n of [...shared.deployments, ...vendor.deployments]) {
      const r = await client.waitForDeployment(project, 'integration', { after: n - 1 });
      assert.equal(r.status, 'succeeded', r.error);
    }
    const page = (await getPage(project, 'integration', '/')).body;
    assert.match(page, /shared=hello/);
    assert.match(page, new RegExp(`secret=${sha(token)}`));
    assert.match(client.deploymentLog(project, 'integration', vendor.deployments.at(-1)!), /deploy sees variables: shared:greeting,vendor:token/);

    // Shown as (sensitive), never again in plain text: API-side list and the CLI.
    const list = await client.environmentVariables(project, 'integration');
    assert.deepEqual(
      list.map((v) => [v.name, v.value, v.inheritedFrom ?? '']),
      [
        ['env:APP_COLOR', 'teal', ''],
        ['env:PAYMENT_KEY', '(sensitive)', ''],
        ['shared:greeting', 'hello', 'project'],
        ['vendor:token', '(sensitive)', 'project'],
      ],
    );
    const env = { ...process.env, SLIPWAY_HOME: layout.home };
    const cli = await runSlipway(['env', 'var', 'get', project, 'integration', 'env:PAYMENT_KEY'], env);
    assert.equal(cli.code, 0, cli.stderr);
    assert.equal(cli.stdout.trim(), 'env:PAYMENT_KEY=(sensitive)  (sensitive)');

    // PHP-FPM crashes: the host's supervisor starts it again, the values opened from the sealed store again.
    const ref = { layout, project, environment: 'integration' };
    const release = runtimeStatus(ref).application.release!;
    const restartsBefore = ((await client.environmentStatus(project, 'integration')).restarts ?? []).length;
    SandboxCgroup.named(appCgroupName(ref, 'php', release))!.killAll();
    for (let i = 0; ((await client.environmentStatus(project, 'integration')).restarts ?? []).length <= restartsBefore; i++) {
      assert.ok(i < 300, 'the supervisor restarted PHP-FPM (recorded in the history) within 30 s');
      await new Promise((res) => setTimeout(res, 100));
    }
    await waitUntil(() => runtimeStatus(ref).application.processes.every((x) => x.running), 20_000, 'PHP-FPM runs again');
    const again = (await getPage(project, 'integration', '/')).body;
    assert.match(again, new RegExp(`key=${sha(secret)}`), 'the restarted PHP-FPM has the sensitive process variable');
    assert.match(again, new RegExp(`secret=${sha(token)}`), 'and MAGENTO_CLOUD_VARIABLES with the sensitive value');

    // Nowhere in plain text, base64 or inside a base64 run (MAGENTO_CLOUD_VARIABLES): no workflow
    // history of the project (nor the hosts' supervisors'), no file of the whole data directory
    // (logs, releases, the application's configuration, the dev server's temporal.log) but the
    // keys in secrets/ and other projects' environments and snapshots. The sealed store is
    // scanned too: it holds ciphertext only.
    const needles = needlesOf([secret, token]);
    const histories = await scanHistories(client.temporal, project, needles);
    assert.deepEqual(histories.leaks, [], 'a sensitive value in a workflow history');
    assert.ok(histories.scanned.length >= 5, `${histories.scanned.length} histories scanned`);
    const store = path.join(layout.home, 'variables', `${project}.json`);
    const files = scanTree(layout.home, needles, [path.join(layout.home, 'secrets'), ...otherProjectsData(layout.home, project)]);
    assert.deepEqual(files.leaks, [], 'a sensitive value in a file of the data directory');
    const fpmConf = path.join(applicationPaths(ref).phpConf(release), 'php-fpm.conf');
    for (const f of [store, fpmConf, ...(fs.existsSync(path.join(layout.home, 'temporal.log')) ? [path.join(layout.home, 'temporal.log')] : [])]) {
      assert.ok(files.scanned.includes(f), `${f} was scanned`);
    }
    assert.ok(files.scanned.some((f) => f.startsWith(layout.deployLogs(project, 'integration'))), 'the deployment logs were scanned');
    const sealed = JSON.parse(fs.readFileSync(store, 'utf8')) as { project: Record<string, { sealed?: string; value?: string }>; environments: Record<string, Record<string, { sealed?: string; value?: string }>> };
    assert.ok(sealed.environments.integration!['env:PAYMENT_KEY']!.sealed && sealed.environments.integration!['env:PAYMENT_KEY']!.value === undefined, 'sealed in the store');
    assert.ok(sealed.project['vendor:token']!.sealed && sealed.project['vendor:token']!.value === undefined, 'sealed in the store');
    assert.match(fs.readFileSync(fpmConf, 'utf8'), /^env\[PAYMENT_KEY\] = \$SLIPWAY_FPM_ENV_\d+$/m, 'PHP-FPM\'s file refers to its environment');
    assert.equal(fs.statSync(path.join(layout.home, 'secrets', 'variables.key')).mode & 0o777, 0o600);
    assert.equal(fs.statSync(path.join(layout.home, 'variables', `${project}.json`)).mode & 0o777, 0o600);

    // Inherited by a child, unless --no-inherit; the child's own wins.
    await client.setEnvironmentVariable(project, 'integration', { name: 'env:LOCAL_ONLY', value: 'x', inherit: false, build: false, by: 'alice' });
    await client.branch(project, { name: 'feature', parent: 'integration', inactive: true });
    const child = await client.environmentVariables(project, 'feature');
    assert.deepEqual(
      child.map((v) => [v.name, v.inheritedFrom ?? '']),
      [
        ['env:APP_COLOR', 'integration'],
        ['env:PAYMENT_KEY', 'integration'],
        ['shared:greeting', 'project'],
        ['vendor:token', 'project'],
      ],
    );
    await keep(client, 'environment-variables.json', workflowIds.environment(project, 'integration'));
  });

  it('changes staging and production only through a ticket, which never shows a sensitive value', async function () {
    const { client } = await getWorld();
    const p = await deployedProject('varticket');
    const { project } = p;
    const value = `prod-${crypto.randomBytes(8).toString('hex')}`;
    const r = await client.setEnvironmentVariable(project, 'production', { name: 'env:PAYMENT_KEY', value, sensitive: true, by: 'alice' });
    assert.equal(r.applied, false);
    const ticketId = (r as { ticket: string }).ticket;
    const ticket = await client.ticket(project, ticketId);
    assert.equal(ticket.kind, 'variable');
    assert.equal(ticket.title, 'Set variable env:PAYMENT_KEY on production (new value, sensitive)');
    assert.ok(!JSON.stringify(ticket).includes(value), 'the ticket holds no value');
    assert.deepEqual(ticket.payload, { name: 'env:PAYMENT_KEY', action: 'set', sensitive: 'true', valueChanged: 'true' });
    assert.deepEqual(await client.environmentVariables(project, 'production'), [], 'not applied before approval');
    await assert.rejects(
      client.setEnvironmentVariable(project, 'production', { name: 'env:PAYMENT_KEY', value: 'other', by: 'alice' }),
      new RegExp(`refused: a change of env:PAYMENT_KEY on production waits for ${ticketId} already`),
    );
    await assert.rejects(client.decide(project, ticketId, { user: 'alice', decision: 'approve' }), /not in the support role/);
    await client.decide(project, ticketId, { user: 'sam', decision: 'approve' });
    let vars = await client.environmentVariables(project, 'production');
    for (let i = 0; i < 100 && vars.length === 0; i++) {
      await new Promise((res) => setTimeout(res, 100));
      vars = await client.environmentVariables(project, 'production');
    }
    assert.deepEqual(vars.map((v) => [v.name, v.value]), [['env:PAYMENT_KEY', '(sensitive)']]);
    for (let i = 0; i < 50 && !(await client.ticket(project, ticketId)).outcome; i++) await new Promise((res) => setTimeout(res, 100));
    assert.match((await client.ticket(project, ticketId)).outcome ?? '', /variable env:PAYMENT_KEY set on production/);

    // The same value again: the ticket says so, and still holds no value.
    const same = await client.setEnvironmentVariable(project, 'production', { name: 'env:PAYMENT_KEY', value, sensitive: true, by: 'alice' });
    assert.equal(same.applied, false);
    const sameId = (same as { ticket: string }).ticket;
    const sameTicket = await client.ticket(project, sameId);
    assert.equal(sameTicket.title, 'Set variable env:PAYMENT_KEY on production (same value, sensitive)');
    assert.deepEqual(sameTicket.payload, { name: 'env:PAYMENT_KEY', action: 'set', sensitive: 'true', valueChanged: 'false' });
    // A new value, not sensitive this time: "(new value)"; then the same again: "(same value)".
    const plain = await client.setEnvironmentVariable(project, 'staging', { name: 'env:LOG_LEVEL', value: 'info', by: 'alice' });
    const plainId = (plain as { ticket: string }).ticket;
    assert.equal((await client.ticket(project, plainId)).title, 'Set variable env:LOG_LEVEL on staging (new value)');
    await client.decide(project, plainId, { user: 'sam', decision: 'approve' });
    for (let i = 0; i < 100 && (await client.environmentVariables(project, 'staging')).length === 0; i++) await new Promise((res) => setTimeout(res, 100));
    for (let i = 0; i < 100 && !(await client.ticket(project, plainId)).outcome; i++) await new Promise((res) => setTimeout(res, 100));
    const plainSame = await client.setEnvironmentVariable(project, 'staging', { name: 'env:LOG_LEVEL', value: 'info', by: 'alice' });
    const plainSameId = (plainSame as { ticket: string }).ticket;
    assert.equal((await client.ticket(project, plainSameId)).title, 'Set variable env:LOG_LEVEL on staging (same value)');

    // Neither ticket shows the sensitive value, in clear, base64 or inside a base64 run: not its
    // record, not `slipway ticket show` (text and --json), not its page of the web interface.
    const needles = needlesOf([value]);
    const cliEnv = { ...process.env, SLIPWAY_HOME: p.layout.home };
    const cookie = await signIn('slipway-dev-sam');
    for (const id of [ticketId, sameId]) {
      const record = await client.ticket(project, id);
      assert.equal(leakIn(JSON.stringify(record), needles), undefined, `${id}'s record`);
      for (const extra of [[], ['--json']]) {
        const shown = await runSlipway(['ticket', 'show', project, id, ...extra], cliEnv);
        assert.equal(shown.code, 0, shown.stderr);
        assert.match(shown.stdout, /env:PAYMENT_KEY/);
        assert.equal(leakIn(shown.stdout + shown.stderr, needles), undefined, `ticket show ${id} ${extra.join(' ')}`);
      }
      const page = await fetch(`${process.env.SLIPWAY_TEST_API_URL}/ui/projects/${project}/tickets/${id}`, { headers: { cookie } });
      const html = await page.text();
      assert.equal(page.status, 200, html.slice(0, 500));
      assert.ok(html.includes(record.title.replace(/ \(.*$/, '')), `${id}'s page shows the ticket`);
      assert.equal(leakIn(html, needles), undefined, `${id}'s page`);
    }
    await client.decide(project, sameId, { user: 'sue', decision: 'reject', comment: 'nothing changes' });
    await client.decide(project, plainSameId, { user: 'sue', decision: 'reject', comment: 'nothing changes' });

    // Refused at once, changing nothing: bad names, an unknown environment, engine variables.
    await assert.rejects(client.setEnvironmentVariable(project, 'integration', { name: 'env:MAGENTO_CLOUD_RELATIONSHIPS', value: 'x', by: 'alice' }), /set by Slipway itself/);
    await assert.rejects(client.setEnvironmentVariable(project, 'integration', { name: 'env:1BAD', value: 'x', by: 'alice' }), /after "env:" comes a process variable's name/);
    await assert.rejects(client.setEnvironmentVariable(project, 'nowhere', { name: 'x', value: 'x', by: 'alice' }), /no environment nowhere/);
    // Rejected: nothing applied.
    const r2 = await client.setEnvironmentVariable(project, 'staging', { name: 'mode', value: 'debug', by: 'alice' });
    const t2 = (r2 as { ticket: string }).ticket;
    await client.decide(project, t2, { user: 'sue', decision: 'reject', comment: 'no debug on staging' });
    await new Promise((res) => setTimeout(res, 500));
    assert.deepEqual((await client.environmentVariables(project, 'staging')).map((v) => v.name), ['env:LOG_LEVEL']);
    await keep(client, 'project-variable-tickets.json', workflowIds.project(project));
  });

  it('are offered by the HTTP API with the same rules: developers set, admins set the project\'s, a sensitive value is never answered', async function () {
    const p = await deployedProject('varapi');
    const api = async (method: string, url: string, user: string, body?: unknown) => {
      const res = await fetch(`${process.env.SLIPWAY_TEST_API_URL}${url}`, {
        method,
        headers: { authorization: `Bearer slipway-dev-${user}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
      return { status: res.status, text: await res.text() };
    };
    const base = `/v1/projects/${p.project}`;
    const secret = `api-${crypto.randomBytes(8).toString('hex')}`;
    const put = await api('PUT', `${base}/environments/integration/variables/env:API_KEY`, 'alice', { value: secret, sensitive: true, build: false });
    assert.equal(put.status, 202, put.text);
    assert.ok(!put.text.includes(secret));
    const deployment = (JSON.parse(put.text) as { deployment: number }).deployment;
    assert.equal((await p.client.waitForDeployment(p.project, 'integration', { after: deployment - 1 })).status, 'succeeded');
    const list = await api('GET', `${base}/environments/integration/variables`, 'sam');
    assert.equal(list.status, 200);
    assert.deepEqual((JSON.parse(list.text) as Array<{ name: string; value: string }>).map((v) => [v.name, v.value]), [['env:API_KEY', '(sensitive)']]);
    assert.equal((await api('PUT', `${base}/environments/integration/variables/env:X`, 'sam', { value: 'x' })).status, 403, 'support is no developer');
    assert.equal((await api('PUT', `${base}/environments/integration/variables/env:X`, 'bob', { value: 'x' })).status, 403, 'bob is a developer of another project');
    assert.equal((await api('PUT', `${base}/variables/env:X`, 'alice', { value: 'x' })).status, 403, "the project's variables are the admins'");
    const bad = await api('PUT', `${base}/environments/integration/variables/env:MAGENTO_CLOUD_ROUTES`, 'alice', { value: 'x' });
    assert.equal(bad.status, 400, bad.text);
    assert.match(bad.text, /set by Slipway itself/);
    const ticket = await api('PUT', `${base}/environments/production/variables/mode`, 'alice', { value: 'live' });
    assert.equal(ticket.status, 202, ticket.text);
    assert.match(ticket.text, /"ticket":"SUP-\d+"/);
    assert.equal((await api('PUT', `${base}/variables/shared:x`, 'ada', { value: 'y', build: false })).status, 202);
  });
});
