/**
 * The Project Web Interface (issue 18, first part) in a real browser: Debian's chromium (found
 * or installed like the other host packages), driven by puppeteer-core, against the API
 * process of the test harness. A developer signs in and branches an environment; the sixth
 * active environment on plan pro is refused and the page says why; staging offers no direct
 * action; a form posted without its CSRF token is refused and changes nothing. A support
 * engineer reads a promotion's settings diff, commits, slug and the source's checks, approves
 * (two approvals for production), rejects with a comment; every open console follows.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { ensureHostProgram } from '../../src/host-packages';
import { base, onElement, rowOf, signIn, textOf } from '../harness/browser';
import { clone, commitAndPush, createProject, getWorld, sampleAppYaml } from '../harness/world';

/** The API's answer to the same request, with a user's token: its status and refusal. */
async function api(method: string, route: string, user: string, body?: unknown): Promise<{ status: number; error?: string }> {
  const res = await fetch(`${base()}${route}`, {
    method,
    headers: { authorization: `Bearer slipway-dev-${user}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const json = (await res.json().catch(() => ({}))) as { error?: string };
  return { status: res.status, ...(json.error ? { error: json.error } : {}) };
}

/** Posts a form the page does not offer, with the page's own CSRF token (as a forged request from a signed-in browser would). */
async function forgePost(page: Page, action: string, fields: Record<string, string> = {}): Promise<void> {
  await Promise.all([
    page.waitForNavigation(),
    page.evaluate(`(() => {
      const form = document.createElement('form');
      form.method = 'post';
      form.action = ${JSON.stringify(action)};
      const fields = { _csrf: document.querySelector('input[name=_csrf]').value, ...${JSON.stringify(fields)} };
      for (const [name, value] of Object.entries(fields)) form.append(Object.assign(document.createElement('input'), { type: 'hidden', name, value }));
      document.body.append(form);
      form.submit();
    })()`),
  ]);
}

describe('the Project Web Interface, in Chromium', function () {
  this.timeout(300_000);
  let browser: Browser | undefined;

  before(async function () {
    const chromium = await ensureHostProgram({ program: 'chromium', debianPackage: 'chromium', purpose: 'for the browser tests of the web interface' });
    browser = await puppeteer.launch({ executablePath: chromium, headless: true, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
  });
  after(async function () {
    // Every page (and its event streams) closed, whether a test passed or not.
    await browser?.close();
  });
  afterEach(async function () {
    for (const context of browser?.browserContexts() ?? []) for (const p of await context.pages()) await p.close().catch(() => undefined);
  });

  it('a developer signs in, sees only their projects, and branches an environment; staging offers no direct action', async function () {
    const { client } = await getWorld();
    // A deploy hook of a few seconds: the deployment page is opened while it runs.
    const { project } = await createProject('webui', { '.magento.app.yaml': sampleAppYaml().replace('bash bin/migrate.sh', 'sleep 4\n    bash bin/migrate.sh') });
    await client.waitForDeployment(project, 'integration');
    const page = await signIn(browser!, 'slipway-dev-alice');
    const bobs = await signIn(browser!, 'slipway-dev-bob');
    assert.ok(!(await bobs.content()).includes(project), 'bob holds no role on it: not listed');
    await bobs.goto(`${base()}/ui/projects/${project}`);
    assert.match(await bobs.content(), /Not found/);

    await page.goto(`${base()}/ui/projects/${project}`);
    assert.match(await rowOf(page, 'integration'), /integration integration active [0-9a-f]{12} d000001 #1 succeeded site · Store Admin deployment #1 redeploy rollback cancel/);
    assert.match(await rowOf(page, 'staging'), /read-only: changes arrive by promotion and tickets/);
    const parents = (await page.evaluate("[...document.querySelectorAll('#parent option')].map((o) => o.value)")) as string[];
    assert.deepEqual(parents, ['integration'], 'only integration environments are managed here');
    assert.match(await page.content(), /1 of 5 active integration environments used, 4 free/);
    const admin = (await onElement(page, 'tr[data-environment="integration"] a[href$="/admin"]', "el.getAttribute('href')")) as string;
    assert.match(admin, new RegExp(`^http://integration\\.${project}\\.localhost:\\d+/admin$`));

    await page.type('#name', 'sprint-ui');
    await Promise.all([page.waitForNavigation(), page.click('form[action$="/environments"] button[type=submit]')]);
    assert.match(await textOf(page, '[role=status]'), /sprint-ui branched from integration: it is active/);
    assert.match(await rowOf(page, 'sprint-ui'), /↳ sprint-ui integration-child active/);
    assert.ok((await client.project(project)).environments.some((e) => e.name === 'sprint-ui'));

    // Its deployment: the steps and the log stream in until it is live; then its site opens.
    for (let i = 0; i < 60 && (await onElement(page, 'tr[data-environment="sprint-ui"] a[href*="/deployments/"]', 'true')) === null; i++) {
      await new Promise((r) => setTimeout(r, 250));
      await page.reload();
    }
    const streams: string[] = [];
    page.on('request', (r) => void (r.url().endsWith('/events') || r.url().includes('/events?') ? streams.push(r.url()) : undefined));
    await Promise.all([page.waitForNavigation(), page.click('tr[data-environment="sprint-ui"] a[href*="/deployments/"]')]);
    assert.match(page.url(), /\/environments\/sprint-ui\/deployments\/1$/);
    assert.match(await textOf(page, '#status'), /^running/, 'opened while it runs');
    await page.waitForFunction("document.getElementById('status').textContent === 'live'", { timeout: 120_000 });
    assert.equal(streams.length, 1, 'one event stream, no reload');
    const log = await textOf(page, '#log');
    assert.match(log, /\[deploy-hook\]/, 'the log streamed in');
    assert.match(log, /\[health-check\]/);
    assert.match(await textOf(page, '#steps'), /switch-release succeeded/);
    await Promise.all([page.waitForNavigation(), page.click('#site')]);
    assert.equal(await page.title(), 'Luma Sample Store');
    assert.match(page.url(), new RegExp(`^http://sprint-ui\\.${project}\\.localhost:\\d+/$`));

    // An action of an integration environment, answered on the page.
    await page.goto(`${base()}/ui/projects/${project}`);
    await Promise.all([page.waitForNavigation(), page.click('button[aria-label="redeploy sprint-ui"]')]);
    assert.match(await textOf(page, '[role=status]'), /deployment #2 of sprint-ui started/);
    assert.equal(await onElement(page, 'button[aria-label="redeploy staging"]', 'true'), null, 'staging has no action button');
    await page.close();
    await bobs.close();
  });

  it('refuses the sixth active environment on plan pro with the reason, branches it inactive from the form, shows the tree as env list does, and refuses a form without its CSRF token', async function () {
    const { client } = await getWorld();
    const { project } = await createProject('webfull');
    await client.waitForDeployment(project, 'integration');
    for (const name of ['a1', 'a2', 'a3', 'a4']) await client.branch(project, { name, parent: 'integration', inactive: false });
    const page = await signIn(browser!, 'slipway-dev-alice');
    await page.goto(`${base()}/ui/projects/${project}`);
    assert.match(await page.content(), /5 of 5 active integration environments used, 0 free/);
    await page.type('#name', 'a5');
    await Promise.all([page.waitForNavigation(), page.click('form[action$="/environments"] button[type=submit]')]);
    const alert = await textOf(page, '[role=alert]');
    assert.match(alert, /Refused: .*plan pro allows 5 active integration environments/);
    assert.ok(!(await client.project(project)).environments.some((e) => e.name === 'a5'), 'nothing branched');

    // What the refusal advises ("create this one with --inactive"), from the form: it takes no slot.
    await page.type('#name', 'a5');
    await page.click('#inactive');
    await Promise.all([page.waitForNavigation(), page.click('form[action$="/environments"] button[type=submit]')]);
    assert.match(await textOf(page, '[role=status]'), /^a5 branched from integration: it is inactive$/, await textOf(page, '[role=alert]'));
    assert.equal((await client.project(project)).environments.find((e) => e.name === 'a5')?.status, 'inactive');
    assert.match(await page.content(), /5 of 5 active integration environments used, 0 free/);

    // The tree of env list: a grandchild made after its parent's siblings shows right under its
    // parent; master is listed, as env list lists it.
    await client.branch(project, { name: 'a1-x', parent: 'a1', inactive: true });
    await page.goto(`${base()}/ui/projects/${project}`);
    const rows = (await page.evaluate("[...document.querySelectorAll('tr[data-environment]')].map((r) => r.dataset.environment)")) as string[];
    assert.deepEqual(rows, ['master', 'integration', 'a1', 'a1-x', 'a2', 'a3', 'a4', 'a5', 'staging', 'production']);
    const depth = (row: string): number => (row.match(/↳/g) ?? []).length;
    assert.equal(depth(await rowOf(page, 'a1-x')), depth(await rowOf(page, 'a1')) + 1, 'a1-x one level under a1');
    assert.match(await rowOf(page, 'a1-x'), /a1-x integration-child inactive/);
    assert.match(await rowOf(page, 'master'), /^master global-master \w+ .*Global Master: a branch, never deployed/);
    assert.equal(await onElement(page, 'tr[data-environment="master"] button', 'true'), null, 'master has no action');

    // The same form without its token: refused, nothing changed.
    await page.goto(`${base()}/ui/projects/${project}`);
    await onElement(page, 'form[action$="/environments"] input[name=_csrf]', 'el.remove()');
    await page.type('#name', 'sneaky');
    const [response] = await Promise.all([page.waitForNavigation(), page.click('form[action$="/environments"] button[type=submit]')]);
    assert.equal(response?.status(), 403);
    assert.match(await textOf(page, '[role=alert]'), /security token is missing or stale/);
    assert.ok(!(await client.project(project)).environments.some((e) => e.name === 'sneaky'), 'nothing branched');
    await page.close();
  });

  it('a support engineer approves a promotion from the console and sees it deploy; every open page shows the decision; a requester cannot decide their own ticket', async function () {
    const { client } = await getWorld();
    const info = await createProject('websupport', {}, { productionApprovals: 2 });
    const { project } = info;
    await client.waitForDeployment(project, 'integration');
    // A change of the deployment settings on integration: the ticket shows it as a diff.
    const repo = await clone(info.remote, 'integration');
    const appYaml = fs.readFileSync(path.join(repo.dir, '.magento.app.yaml'), 'utf8');
    const services = fs.readFileSync(path.join(repo.dir, '.magento', 'services.yaml'), 'utf8');
    assert.match(services, /^# No services in this variant of the sample store\.$/m);
    await commitAndPush(repo, 'integration', {
      '.magento.app.yaml': `${appYaml}# reviewed in the web interface test\n`,
      '.magento/services.yaml': services.replace('# No services in this variant of the sample store.', '# No services here (reviewed).'),
    }, 'deployment settings: reviewed');
    const pushed = await client.waitForDeployment(project, 'integration', { after: 1 });
    assert.equal(pushed.status, 'succeeded', pushed.error);
    const { ticket } = await client.promote(project, 'staging', 'alice');

    const sam = await signIn(browser!, 'slipway-dev-sam');
    await sam.goto(`${base()}/ui/support`);
    const row = await textOf(sam, `tr[data-ticket="${project}/${ticket}"]`);
    assert.match(row, new RegExp(`^${ticket} ${project} promotion Promote integration .* to staging alice \\d+ min in [\\d.]+ (min|h) 0 of 1$`));
    await Promise.all([sam.waitForNavigation(), sam.click(`tr[data-ticket="${project}/${ticket}"] a`)]);
    // The settings diff, as a diff: each added or removed line keeps its +/- and is marked inserted or deleted.
    assert.equal(await textOf(sam, '#settings-heading'), 'Settings changed (.magento.app.yaml, .magento/services.yaml)');
    const marked = (tag: string): Promise<unknown> => sam.evaluate(`[...document.querySelectorAll('#settings-diff ${tag}')].map((l) => l.textContent)`);
    assert.deepEqual(await marked('ins'), ['+# reviewed in the web interface test', '+# No services here (reviewed).']);
    assert.deepEqual(await marked('del'), ['-# No services in this variant of the sample store.']);
    const record = await client.ticket(project, ticket);
    const diff = record.settingsChange!.diff;
    assert.match(diff, /^diff --git a\/\.magento\.app\.yaml b\/\.magento\.app\.yaml\n/);
    assert.equal(((await onElement(sam, '#settings-diff', 'el.textContent')) as string).trimEnd(), diff.trimEnd(), 'the whole diff, line by line');
    assert.match(await textOf(sam, '#commits'), /^[0-9a-f]{12} deployment settings: reviewed \(.+\)/, 'the commits it brings');
    // What is promoted: the commit and the slug integration built.
    const integration = (await client.environmentStatus(project, 'integration')).current!;
    assert.equal(record.payload?.slug, integration.slug);
    assert.equal(await textOf(sam, '#promoted'), `${integration.commit} · slug ${integration.slug}`);
    // The source's latest deployment and its health check, as they ran.
    const checks = await textOf(sam, '#source-checks');
    assert.match(checks, new RegExp(`^deployment #2 of integration \\(${integration.commit.slice(0, 12)}\\): succeeded health-check( on \\S+)?: succeeded in [\\d.]+ m?s \\[health-check\\] .*http://integration\\.${project}\\.localhost\\S*: 2\\d\\d`), checks);
    // A second engineer has the same ticket open.
    const sue = await signIn(browser!, 'slipway-dev-sue');
    await sue.goto(`${base()}/ui/projects/${project}/tickets/${ticket}`);
    assert.equal(await textOf(sue, '#ticket-status'), 'open');

    await sam.type('#comment', 'looks right');
    await Promise.all([sam.waitForNavigation(), sam.click('button[value=approve]')]);
    assert.match(await textOf(sam, '#ticket-status'), /^approved/);
    assert.equal(await textOf(sam, '#decisions'), 'approved by sam: “looks right”');
    await sue.waitForFunction("document.getElementById('ticket-status').textContent.startsWith('approved')", { timeout: 10_000 });
    assert.match(await textOf(sue, '#approvals'), /^1 of 1: sam$/);
    assert.equal(await textOf(sue, '#decisions'), 'approved by sam: “looks right”', 'the comment reached the open page too');
    await sam
      .waitForFunction("/promotion deployed/.test(document.getElementById('ticket-status').textContent)", { timeout: 60_000 })
      .catch(async (err: unknown) => assert.fail(`${String(err)}; the page says: ${await textOf(sam, '#ticket-status')} / ${(await sam.content()).slice(-600)}`));
    assert.ok((await client.environmentStatus(project, 'staging')).current, 'staging runs the release');

    // To production, under the two-person rule. Both consoles are open: the ticket appears on
    // them, and its approvals and its end show there without a reload.
    const samQueue = await signIn(browser!, 'slipway-dev-sam');
    await samQueue.goto(`${base()}/ui/support`);
    await sue.goto(`${base()}/ui/support`);
    const prod = await client.promote(project, 'production', 'alice');
    const queued = (page: Page, text: string): Promise<unknown> =>
      page.waitForFunction(`(document.querySelector(${JSON.stringify(`tr[data-ticket="${project}/${prod.ticket}"]`)})?.innerText ?? '').includes(${JSON.stringify(text)})`, { timeout: 15_000 });
    await Promise.all([queued(samQueue, '0 of 2'), queued(sue, '0 of 2')]);

    await sam.goto(`${base()}/ui/projects/${project}/tickets/${prod.ticket}`);
    // Staging's latest deployment (the promotion's), with its health check.
    const staging = (await client.environmentStatus(project, 'staging')).deployments.at(-1)!;
    assert.match(await textOf(sam, '#source-checks'), new RegExp(`^deployment #${staging.deployment} of staging \\(${staging.commit.slice(0, 12)}\\): succeeded health-check( on \\S+)?: succeeded in`));
    assert.equal(await textOf(sam, '#settings-heading'), 'Settings changed (.magento.app.yaml, .magento/services.yaml)', 'production has not seen them yet');
    await sam.type('#comment', 'first pair of eyes');
    await Promise.all([sam.waitForNavigation(), sam.click('button[value=approve]')]);
    assert.equal(await textOf(sam, '#ticket-status'), 'open');
    assert.equal(await textOf(sam, '#approvals'), '1 of 2: sam');
    await queued(sue, '1 of 2');
    // The same engineer again: the API's refusal, word for word; nothing changes.
    await Promise.all([sam.waitForNavigation(), sam.click('button[value=approve]')]);
    const refusal = await textOf(sam, '[role=alert]');
    assert.match(refusal, new RegExp(`^Refused: sam has approved already; ${prod.ticket} needs 2 distinct approvers$`));
    const byApi = await api('POST', `/v1/projects/${project}/tickets/${prod.ticket}/decision`, 'sam', { decision: 'approve' });
    assert.equal(byApi.status, 409);
    assert.equal(refusal, `Refused: ${byApi.error!.replace(/^refused: /, '')}`);
    assert.equal((await client.ticket(project, prod.ticket)).approvals.length, 1);
    // A second engineer approves: it deploys; it leaves the queue of the open console.
    await sue.goto(`${base()}/ui/projects/${project}/tickets/${prod.ticket}`);
    await sue.type('#comment', 'second pair of eyes');
    await Promise.all([sue.waitForNavigation(), sue.click('button[value=approve]')]);
    assert.match(await textOf(sue, '#approvals'), /^2 of 2: sam, sue$/);
    assert.equal(await textOf(sue, '#decisions'), 'approved by sam: “first pair of eyes” approved by sue: “second pair of eyes”');
    await samQueue.waitForFunction(`document.querySelector(${JSON.stringify(`tr[data-ticket="${project}/${prod.ticket}"]`)}) === null`, { timeout: 15_000 });
    await sue
      .waitForFunction("/promotion deployed/.test(document.getElementById('ticket-status').textContent)", { timeout: 120_000 })
      .catch(async (err: unknown) => assert.fail(`${String(err)}; the page says: ${await textOf(sue, '#ticket-status')}`));
    assert.equal((await client.environmentStatus(project, 'production')).current?.commit, integration.commit, 'production runs it');

    // A rejection with its reason: on the ticket page, and gone from the open console.
    const key = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIESQJ6drwFnUD4hlHkcA35Os2MLg9mBTKDXMI5c3L8W3 sam@laptop';
    const asked = await client.requestSshKey(project, 'production', key, 'alice');
    await samQueue.waitForFunction(`document.querySelector(${JSON.stringify(`tr[data-ticket="${project}/${asked.ticket}"]`)}) !== null`, { timeout: 15_000 });
    await sue.goto(`${base()}/ui/projects/${project}/tickets/${asked.ticket}`);
    await sue.type('#comment', 'this key is not one of alice\'s');
    await Promise.all([sue.waitForNavigation(), sue.click('button[value=reject]')]);
    assert.equal(await textOf(sue, '#ticket-status'), 'rejected');
    assert.equal(await textOf(sue, '#decisions'), 'rejected by sue: “this key is not one of alice\'s”');
    await samQueue.waitForFunction(`document.querySelector(${JSON.stringify(`tr[data-ticket="${project}/${asked.ticket}"]`)}) === null`, { timeout: 15_000 });
    await sam.goto(`${base()}/ui/projects/${project}/tickets/${asked.ticket}`);
    assert.equal(await textOf(sam, '#decisions'), 'rejected by sue: “this key is not one of alice\'s”');
    assert.equal(await onElement(sam, 'button[value=approve]', 'true'), null, 'a decided ticket offers no decision');

    // A ticket sam asked for himself: the page says why he cannot decide it.
    const own = await client.requestSshKey(project, 'production', key, 'sam');
    await sam.goto(`${base()}/ui/projects/${project}/tickets/${own.ticket}`);
    await Promise.all([sam.waitForNavigation(), sam.click('button[value=approve]')]);
    assert.match(await textOf(sam, '[role=alert]'), /Refused: sam requested this and cannot decide it/);
    assert.equal((await client.ticket(project, own.ticket)).status, 'open', 'nothing decided');
    await samQueue.close();
    await sam.close();
    await sue.close();
  });

  it('edits integration variables (a sensitive value never shown again), opens tickets from staging, and reads on a phone', async function () {
    const { client } = await getWorld();
    const { project } = await createProject('webvars');
    await client.waitForDeployment(project, 'integration');
    const page = await signIn(browser!, 'slipway-dev-alice');
    await page.goto(`${base()}/ui/projects/${project}/environments/integration`);
    assert.match(await textOf(page, '[data-host]'), /^Host local: live \(heartbeat \d+ s ago\)$/);
    const setVariable = async (name: string, value: string, flags: string[]): Promise<string> => {
      await page.type('#var-name', name);
      await page.type('#var-value', value);
      for (const f of flags) await page.click(`input[name=${f}]`);
      await Promise.all([page.waitForNavigation(), page.click('form[action$="/variables"] button[type=submit]')]);
      return textOf(page, '[role=status]');
    };
    assert.match(await setVariable('env:APP_MODE', 'developer', ['runtimeOnly']), /^env:APP_MODE set; deployment #2 started \(the same slug\)$/);
    const secret = 'web-secret-4f9a1c';
    assert.match(await setVariable('env:PAYMENT_KEY', secret, ['sensitive', 'runtimeOnly']), /^env:PAYMENT_KEY set; deployment #3 started/);
    assert.equal(await textOf(page, 'tr[data-variable="env:PAYMENT_KEY"]'), 'env:PAYMENT_KEY (sensitive) here runtime remove');
    assert.ok(!(await page.content()).includes(secret), 'write-only: never on a page');
    assert.equal(await textOf(page, 'tr[data-variable="env:APP_MODE"]'), 'env:APP_MODE developer here runtime remove');
    await Promise.all([page.waitForNavigation(), page.click('button[aria-label="remove env:APP_MODE"]')]);
    assert.match(await textOf(page, '[role=status]'), /^env:APP_MODE removed; deployment #4 started$/);
    assert.equal(await textOf(page, 'tr[data-variable="env:APP_MODE"]'), '', 'gone from the list');

    // Staging: requests open tickets; nothing changes before a decision. (A promotion waits until
    // integration is not deploying: the page would say so.)
    await client.waitForDeployment(project, 'integration', { after: 3 });
    await page.goto(`${base()}/ui/projects/${project}/environments/staging`);
    await Promise.all([page.waitForNavigation(), page.click('form[action$="/request-promotion"] button')]);
    assert.match(await textOf(page, '[role=status]'), /^SUP-\d+ opened: a support engineer decides the promotion to staging$/, await textOf(page, '[role=alert]'));
    assert.match(await setVariable('env:APP_MODE', 'production', []), /^SUP-\d+ opened: env:APP_MODE changes on staging once a support engineer approves$/);
    await page.type('#ssh-key', 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIESQJ6drwFnUD4hlHkcA35Os2MLg9mBTKDXMI5c3L8W3 alice@laptop');
    await Promise.all([page.waitForNavigation(), page.click('form[action$="/request-ssh-key"] button')]);
    assert.match(await textOf(page, '[role=status]'), /^SUP-\d+ opened for SHA256:\S+: the key opens staging once a support engineer approves$/);
    assert.equal((await client.listTickets(project, { open: true })).length, 3);

    // A support engineer (no developer role) is offered no promotion, as the API allows none; a
    // forged one gets the API's refusal, word for word, and opens nothing.
    const sue = await signIn(browser!, 'slipway-dev-sue');
    await sue.goto(`${base()}/ui/projects/${project}/environments/production`);
    assert.equal(await onElement(sue, 'form[action$="/request-promotion"]', 'true'), null, 'no promotion button for support');
    assert.notEqual(await onElement(sue, 'form[action$="/request-ssh-key"]', 'true'), null, 'the page is the same otherwise');
    await forgePost(sue, `/ui/projects/${project}/environments/production/request-promotion`);
    const byApi = await api('POST', `/v1/projects/${project}/promotions`, 'sue', { target: 'production' });
    assert.equal(byApi.status, 403);
    assert.equal(await textOf(sue, '[role=alert]'), `Refused: ${byApi.error!}`);
    assert.match(byApi.error!, /^sue needs the role developer or admin on project /);
    assert.equal((await client.listTickets(project, { open: true })).length, 3, 'no ticket opened');
    await sue.close();

    // On a phone: nothing wider than the screen but the tables, which scroll in their own box.
    await page.setViewport({ width: 390, height: 844 });
    await page.goto(`${base()}/ui/projects/${project}`);
    assert.equal(await page.evaluate('document.documentElement.scrollWidth <= window.innerWidth'), true, 'no sideways scrolling of the page');
    await page.close();
  });
});
