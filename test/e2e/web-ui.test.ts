/**
 * The Project Web Interface (issue 18, first part) in a real browser: Debian's chromium (found
 * or installed like the other host packages), driven by puppeteer-core, against the API
 * process of the test harness. A developer signs in and branches an environment; the sixth
 * active environment on plan pro is refused and the page says why; staging offers no direct
 * action; a form posted without its CSRF token is refused and changes nothing.
 */
import { strict as assert } from 'node:assert';
import puppeteer, { type Browser } from 'puppeteer-core';
import { ensureHostProgram } from '../../src/host-packages';
import { base, onElement, rowOf, signIn, textOf } from '../harness/browser';
import { createProject, getWorld, sampleAppYaml } from '../harness/world';

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

  it('refuses the sixth active environment on plan pro with the reason, and a form without its CSRF token', async function () {
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
    const { project } = await createProject('websupport');
    await client.waitForDeployment(project, 'integration');
    const { ticket } = await client.promote(project, 'staging', 'alice');

    const sam = await signIn(browser!, 'slipway-dev-sam');
    await sam.goto(`${base()}/ui/support`);
    const row = await textOf(sam, `tr[data-ticket="${project}/${ticket}"]`);
    assert.match(row, new RegExp(`^${ticket} ${project} promotion Promote integration .* to staging alice \\d+ min in [\\d.]+ (min|h) 0 of 1$`));
    await Promise.all([sam.waitForNavigation(), sam.click(`tr[data-ticket="${project}/${ticket}"] a`)]);
    assert.match(await textOf(sam, 'h2'), /^Settings changed/);
    assert.match(await textOf(sam, '#commits'), /^[0-9a-f]{12} .+ \(.+\)/, 'the commits it brings');
    // A second engineer has the same ticket open.
    const sue = await signIn(browser!, 'slipway-dev-sue');
    await sue.goto(`${base()}/ui/projects/${project}/tickets/${ticket}`);
    assert.equal(await textOf(sue, '#ticket-status'), 'open');

    await sam.type('#comment', 'looks right');
    await Promise.all([sam.waitForNavigation(), sam.click('button[value=approve]')]);
    assert.match(await textOf(sam, '#ticket-status'), /^approved/);
    await sue.waitForFunction("document.getElementById('ticket-status').textContent.startsWith('approved')", { timeout: 10_000 });
    assert.match(await textOf(sue, '#approvals'), /^1 of 1: sam$/);
    await sam
      .waitForFunction("/promotion deployed/.test(document.getElementById('ticket-status').textContent)", { timeout: 60_000 })
      .catch(async (err: unknown) => assert.fail(`${String(err)}; the page says: ${await textOf(sam, '#ticket-status')} / ${(await sam.content()).slice(-600)}`));
    assert.ok((await client.environmentStatus(project, 'staging')).current, 'staging runs the release');

    // A ticket sam asked for himself: the page says why he cannot decide it.
    const key = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIESQJ6drwFnUD4hlHkcA35Os2MLg9mBTKDXMI5c3L8W3 sam@laptop';
    const own = await client.requestSshKey(project, 'production', key, 'sam');
    await sam.goto(`${base()}/ui/projects/${project}/tickets/${own.ticket}`);
    await Promise.all([sam.waitForNavigation(), sam.click('button[value=approve]')]);
    assert.match(await textOf(sam, '[role=alert]'), /Refused: sam requested this and cannot decide it/);
    assert.equal((await client.ticket(project, own.ticket)).status, 'open', 'nothing decided');
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

    // On a phone: nothing wider than the screen but the tables, which scroll in their own box.
    await page.setViewport({ width: 390, height: 844 });
    await page.goto(`${base()}/ui/projects/${project}`);
    assert.equal(await page.evaluate('document.documentElement.scrollWidth <= window.innerWidth'), true, 'no sideways scrolling of the page');
    await page.close();
  });
});
