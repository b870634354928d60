/**
 * The pages of the Project Web Interface and the support console in a real browser (Debian's
 * chromium, driven by puppeteer-core), beside test/e2e/web-ui.test.ts: screenshots at phone
 * and wide widths (written to test/artifacts/, not committed), a failed deployment's page,
 * every integration action clicked and answered with the CLI's words, keyboard use and
 * labels, and the session cookie. One project (the sample store without services) serves
 * every case, in order; its deploy hook fails when the commit has FAIL_DEPLOY and takes 30 s
 * when it has SLOW_DEPLOY.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { simpleGit } from 'simple-git';
import { ensureHostProgram } from '../../src/host-packages';
import { readRuntimeInfo, writeRuntimeInfo, type RuntimeInfo } from '../../src/home';
import { workflowIds } from '../../src/domain/names';
import { base, onElement, rowOf, signIn, textOf } from '../harness/browser';
import { clone, commitAndPush, commitOnly, createProject, getPage, getWorld, push, sampleAppYaml } from '../harness/world';

/** test/artifacts of the checkout (this file runs from dist/test/e2e). */
const ARTIFACTS = path.resolve(__dirname, '..', '..', '..', 'test', 'artifacts');
const SSH_KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIESQJ6drwFnUD4hlHkcA35Os2MLg9mBTKDXMI5c3L8W3 alice@laptop';
/** Where `slipway up` says the Temporal UI is (the harness runs Temporal without it). */
const TEMPORAL_UI = 'http://127.0.0.1:8233';

/** Form fields (not hidden) with neither a <label> nor an aria-label, as their HTML; and how many fields there are. */
const unlabelled = async (page: Page): Promise<{ fields: number; missing: string[] }> =>
  (await page.evaluate(`(() => {
    const fields = [...document.querySelectorAll('input:not([type=hidden]), select, textarea')];
    return { fields: fields.length, missing: fields.filter((el) => !(el.labels && el.labels.length > 0) && !el.getAttribute('aria-label')).map((el) => el.outerHTML) };
  })()`)) as { fields: number; missing: string[] };

/** A client refusal in the words the page uses (without the CLI's "refused: " prefix). */
const refusalOf = async (call: Promise<unknown>): Promise<string> => {
  try {
    await call;
  } catch (err) {
    return (err instanceof Error ? err.message : String(err)).replace(/^refused: /, '');
  }
  return assert.fail('the client did not refuse');
};

describe("the web interface's pages, in Chromium", function () {
  this.timeout(300_000);
  let browser: Browser | undefined;
  let project = '';
  let remote = '';
  let alice: Page;
  let runtimeInfo: RuntimeInfo | undefined;

  before(async function () {
    const { client, layout } = await getWorld();
    const chromium = await ensureHostProgram({ program: 'chromium', debianPackage: 'chromium', purpose: 'for the browser tests of the web interface' });
    browser = await puppeteer.launch({ executablePath: chromium, headless: true, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
    const deploy = 'if [ -f FAIL_DEPLOY ]; then echo "failing on purpose" >&2; exit 3; fi\n    if [ -f SLOW_DEPLOY ]; then sleep 30; fi\n    bash bin/migrate.sh';
    const created = await createProject('webpages', { '.magento.app.yaml': sampleAppYaml().replace('bash bin/migrate.sh', deploy) });
    project = created.project;
    remote = created.remote;
    assert.equal((await client.waitForDeployment(project, 'integration')).status, 'succeeded');
    // The deployment page links the Temporal UI named in the runtime file, as under `slipway up`.
    runtimeInfo = readRuntimeInfo(layout);
    assert.ok(runtimeInfo);
    writeRuntimeInfo(layout, { ...runtimeInfo, uiUrl: TEMPORAL_UI });
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    alice = await signIn(browser, 'slipway-dev-alice');
  });
  after(async function () {
    if (runtimeInfo) writeRuntimeInfo((await getWorld()).layout, runtimeInfo);
    await browser?.close();
  });

  it('signs in with an httpOnly, SameSite=Strict session cookie', async function () {
    const session = (await alice.cookies()).find((c) => c.name === 'slipway_session');
    assert.ok(session, 'the session cookie is set');
    assert.equal(session.httpOnly, true);
    assert.equal(session.sameSite, 'Strict');
    assert.equal(session.path, '/ui');
  });

  it('labels every field, branches from the keyboard alone, and says every status in words', async function () {
    const { client } = await getWorld();
    await alice.goto(`${base()}/ui/projects/${project}`);
    const onProject = await unlabelled(alice);
    assert.ok(onProject.fields >= 2, 'the branch form');
    assert.deepEqual(onProject.missing, [], 'every field of the project page is labelled');

    // Tab to the branch form's first field, type, Enter: nothing but the keyboard.
    let focused = '';
    for (let i = 0; i < 100 && focused !== 'name'; i++) {
      await alice.keyboard.press('Tab');
      focused = String(await alice.evaluate('document.activeElement && document.activeElement.id'));
    }
    assert.equal(focused, 'name', 'the branch form is reached with Tab');
    await alice.keyboard.type('kbd');
    await Promise.all([alice.waitForNavigation(), alice.keyboard.press('Enter')]);
    assert.match(await textOf(alice, '[role=status]'), /^kbd branched from integration: it is active$/);
    assert.equal((await client.project(project)).environments.find((e) => e.name === 'kbd')?.status, 'active');

    // States in words: each environment's state cell, the last deployment's outcome.
    const states = (await alice.evaluate("[...document.querySelectorAll('tr[data-environment]')].map((tr) => tr.cells[2].innerText.trim())")) as string[];
    assert.ok(states.length >= 4, states.join(', '));
    for (const s of states) assert.match(s, /^(active|inactive)$/);
    assert.match(await rowOf(alice, 'integration'), / active [0-9a-f]{12} \S+ #1 succeeded /);

    for (const env of ['integration', 'staging']) {
      await alice.goto(`${base()}/ui/projects/${project}/environments/${env}`);
      const fields = await unlabelled(alice);
      assert.ok(fields.fields >= 3, `${env}: the variable form`);
      assert.deepEqual(fields.missing, [], `every field of ${env}'s page is labelled`);
    }
    assert.match(await textOf(alice, 'main > p'), /^staging, (active|inactive)/);

    // A ticket (an SSH key for staging) in the support console and on its own page.
    const { ticket } = await client.requestSshKey(project, 'staging', SSH_KEY, 'alice');
    const sam = await signIn(browser!, 'slipway-dev-sam');
    await sam.goto(`${base()}/ui/support`);
    assert.match(await textOf(sam, `tr[data-ticket="${project}/${ticket}"]`), new RegExp(`^${ticket} ${project} ssh-key .* alice \\d+ min in [\\d.]+ (min|h) 0 of 1$`));
    assert.deepEqual((await unlabelled(sam)).missing, []);
    await sam.goto(`${base()}/ui/projects/${project}/tickets/${ticket}`);
    assert.equal(await textOf(sam, '#ticket-status'), 'open', 'the status in words');
    const onTicket = await unlabelled(sam);
    assert.ok(onTicket.fields >= 1, 'the comment');
    assert.deepEqual(onTicket.missing, [], 'every field of the ticket page is labelled');
    await sam.close();
  });

  it('takes screenshots of the project page, a live deployment and the support console at 390 and 1440 px, none scrolling sideways nor hiding table content beyond the edge', async function () {
    const { client } = await getWorld();
    // kbd's first deployment (branched in the test before): its page reads "live" once done.
    const deploymentPage = `${base()}/ui/projects/${project}/environments/kbd/deployments/1`;
    for (let i = 0; i < 240 && !(await client.deploymentProgress(project, 'kbd', 1).catch(() => undefined)); i++) await new Promise((r) => setTimeout(r, 250));
    const sam = await signIn(browser!, 'slipway-dev-sam');
    assert.ok((await client.listTickets(project, { open: true })).length >= 1, 'an open ticket in the console');
    for (const width of [390, 1440]) {
      await alice.setViewport({ width, height: 900 });
      await sam.setViewport({ width, height: 900 });
      const shots: Array<[Page, string, string]> = [
        [alice, `${base()}/ui/projects/${project}`, 'project'],
        [alice, deploymentPage, 'deployment'],
        [sam, `${base()}/ui/support`, 'support'],
      ];
      for (const [page, url, name] of shots) {
        await page.goto(url);
        if (name === 'deployment') await page.waitForFunction("document.getElementById('status').textContent === 'live'", { timeout: 120_000 });
        assert.equal(await page.evaluate('document.documentElement.scrollWidth <= window.innerWidth'), true, `${name} at ${width} px: no sideways scrolling`);
        // Nothing a reader needs is hidden in a table scrolled sideways: every cell, link and
        // button of the page's tables lies within the screen (on a phone, rows become cards).
        const clipped = (await page.evaluate(
          "[...document.querySelectorAll('table td, table th, table a, table button')].filter((el) => el.getBoundingClientRect().right > window.innerWidth + 1).map((el) => el.tagName + ' ' + el.innerText.trim().slice(0, 30))",
        )) as string[];
        assert.deepEqual(clipped, [], `${name} at ${width} px: table content beyond the screen's edge`);
        const file = path.join(ARTIFACTS, `${name}-${width}.png`);
        fs.rmSync(file, { force: true });
        await page.screenshot({ path: file, fullPage: true });
        const png = fs.readFileSync(file);
        assert.ok(png.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])), `${file} is a PNG`);
        assert.equal(png.readUInt32BE(16), width, `${file} is ${width} px wide`);
        assert.ok(png.length > 5_000, `${file} has something on it (${png.length} bytes)`);
      }
    }
    await alice.setViewport({ width: 1440, height: 900 });
    await sam.close();
  });

  it("shows a failed deployment: the failure, what was undone, each step's duration, and its workflow in the Temporal UI", async function () {
    const { client } = await getWorld();
    await client.branch(project, { name: 'broken' });
    const first = await client.waitForDeployment(project, 'broken');
    assert.equal(first.status, 'succeeded');
    const repo = await clone(remote, 'broken');
    const commit = await commitAndPush(repo, 'broken', { FAIL_DEPLOY: '1\n' }, 'a deploy hook that fails');
    const failed = await client.waitForDeployment(project, 'broken', { commit, after: first.deployment });
    assert.equal(failed.status, 'failed');

    await alice.goto(`${base()}/ui/projects/${project}/environments/broken/deployments/${failed.deployment}`);
    assert.equal(await textOf(alice, '#status'), 'failed');
    assert.equal(await textOf(alice, 'p[role=alert]'), 'Failed: step "deploy-hook" failed (exit code 3): the deploy-hook hook exited with code 3 [maintenance off]');
    assert.match(await textOf(alice, 'main'), /What was undone: maintenance off/);
    const steps = (await alice.evaluate("[...document.querySelectorAll('#steps tbody tr')].map((tr) => [...tr.cells].map((c) => c.innerText.trim()))")) as string[][];
    assert.ok(steps.length >= 3, JSON.stringify(steps));
    for (const [step, status, duration] of steps) {
      assert.match(status!, /^(succeeded|failed|skipped)$/, `${step}: its status in words`);
      assert.match(duration!, /^\d+\.\d s$/, `${step}: its duration`);
    }
    assert.deepEqual(steps.find(([step]) => step === 'deploy-hook')?.[1], 'failed');
    const temporal = (await onElement(alice, 'a[href^="http://127.0.0.1:8233/"]', "el.getAttribute('href')")) as string;
    assert.equal(temporal, `${TEMPORAL_UI}/namespaces/default/workflows/${encodeURIComponent(workflowIds.deployment(project, 'broken', failed.deployment))}`);
    assert.match(await textOf(alice, 'a[href^="http://127.0.0.1:8233/"]'), /Temporal UI/);
    // What is served is the release before it.
    assert.equal((await client.environmentStatus(project, 'broken')).current?.deployment, first.deployment);
  });

  it("runs every integration action from the project page, each answered with the CLI's refusals", async function () {
    const { client } = await getWorld();
    /** Clicks an action's button on the project page; the page's notice and alert after it. */
    const act = async (action: string, env: string): Promise<{ notice: string; alert: string }> => {
      await alice.goto(`${base()}/ui/projects/${project}`);
      const button = `button[aria-label="${action} ${env}"]`;
      assert.notEqual(await onElement(alice, button, 'true'), null, `${action} is offered on ${env}`);
      await Promise.all([alice.waitForNavigation({ timeout: 120_000 }), alice.click(button)]);
      return { notice: await textOf(alice, '[role=status]'), alert: await textOf(alice, '[role=alert]') };
    };
    const succeeded = async (env: string, after: number): Promise<{ deployment: number; commit: string }> => {
      const d = await client.waitForDeployment(project, env, { after });
      assert.equal(d.status, 'succeeded', `${env} #${d.deployment}: ${d.error ?? ''}`);
      return d;
    };
    const lastOf = async (env: string): Promise<number> => (await client.environmentStatus(project, env)).deployments.at(-1)?.deployment ?? 0;
    const first = (await client.environmentStatus(project, 'integration')).current!;

    // Five active (integration, kbd, broken, a1, a2): the plan's limit; idle (with a child) inactive.
    await Promise.all(['a1', 'a2'].map((name) => client.branch(project, { name })));
    await client.branch(project, { name: 'idle', inactive: true });
    await client.branch(project, { name: 'grand', parent: 'idle', inactive: true });
    await Promise.all(['a1', 'a2', 'kbd'].map((env) => succeeded(env, 0)));

    // Activation at the limit: refused, and the page says why.
    const full = await act('activate', 'idle');
    assert.match(full.alert, /^Refused: plan pro allows 5 active integration environments \(integration included\) and \S+ has 5; deactivate one first/);
    assert.equal(full.alert, `Refused: ${await refusalOf(client.activate(project, 'idle'))}`, "the CLI's words");
    assert.equal((await client.project(project)).environments.find((e) => e.name === 'idle')?.status, 'inactive');

    // Rollback with nothing to roll back to, and cancel with nothing running: refused.
    const noRollback = await act('rollback', 'integration');
    assert.equal(noRollback.alert, `Refused: ${await refusalOf(client.rollback(project, 'integration'))}`);
    assert.match(noRollback.alert, /integration has no previous release to roll back to/);
    const noCancel = await act('cancel', 'kbd');
    assert.equal(noCancel.alert, `Refused: nothing to cancel: no deployment of ${project}/kbd is running`);

    // Merge: a1's commit goes to integration, which deploys it.
    const a1 = await clone(remote, 'a1');
    const a1Before = await lastOf('a1');
    const change = await commitAndPush(a1, 'a1', { 'content/headline.txt': 'Merged from a1\n' }, 'a headline from a1');
    await succeeded('a1', a1Before);
    const merged = await act('merge', 'a1');
    assert.match(merged.notice, /^integration is now at ([0-9a-f]{12}); deploying$/, merged.alert);
    const mergedDeployment = await succeeded('integration', first.deployment);
    assert.ok(merged.notice.includes(mergedDeployment.commit.slice(0, 12)), 'the commit the page names is deployed');
    assert.ok((await simpleGit(a1.dir).raw(['ls-remote', remote, 'integration'])).startsWith(mergedDeployment.commit), 'and is the branch');
    await a1.git.fetch('origin', 'integration');
    await a1.git.raw(['merge-base', '--is-ancestor', change, mergedDeployment.commit]);
    assert.match((await getPage(project, 'integration')).body, /Merged from a1/);
    assert.match((await act('merge', 'a1')).notice, /^integration is up to date already$/);

    // Sync: kbd takes integration's new code.
    const kbdBefore = await lastOf('kbd');
    const synced = await act('sync', 'kbd');
    assert.match(synced.notice, /^kbd is now at [0-9a-f]{12}; deploying$/, synced.alert);
    const kbdSynced = await succeeded('kbd', kbdBefore);
    assert.ok(synced.notice.includes(kbdSynced.commit.slice(0, 12)));
    assert.match((await getPage(project, 'kbd')).body, /Merged from a1/);

    // Rollback: integration serves its first release again.
    const rolledBack = await act('rollback', 'integration');
    const rollbackN = Number(/^deployment #(\d+) of integration rolls back$/.exec(rolledBack.notice)?.[1]);
    assert.ok(rollbackN > 0, `${rolledBack.notice} ${rolledBack.alert}`);
    const rollback = await succeeded('integration', rollbackN - 1);
    assert.equal(rollback.deployment, rollbackN);
    const now = (await client.environmentStatus(project, 'integration')).current;
    assert.deepEqual([now?.deployment, now?.commit, now?.slug], [rollbackN, first.commit, first.slug], "the first release's commit and slug, served again");
    assert.doesNotMatch((await getPage(project, 'integration')).body, /Merged from a1/);

    // Deactivate, then activate: a slot is freed and taken again.
    const off = await act('deactivate', 'kbd');
    assert.equal(off.notice, 'kbd is inactive: no longer served; its code is kept', off.alert);
    assert.equal((await client.project(project)).environments.find((e) => e.name === 'kbd')?.status, 'inactive');
    assert.match(await rowOf(alice, 'kbd'), / integration-child inactive /);
    const kbdOff = await lastOf('kbd');
    const on = await act('activate', 'kbd');
    assert.equal(on.notice, 'kbd is active', on.alert);
    assert.equal((await client.project(project)).environments.find((e) => e.name === 'kbd')?.status, 'active');
    assert.match(await rowOf(alice, 'kbd'), / integration-child active /);
    if ((await lastOf('kbd')) > kbdOff || (await client.environmentStatus(project, 'kbd')).running) await succeeded('kbd', kbdOff);

    // Cancel: a deploy hook of 30 s, stopped from the page; what it changed is undone.
    const broken = await clone(remote, 'broken');
    const brokenBefore = await lastOf('broken');
    const served = (await client.environmentStatus(project, 'broken')).current?.deployment;
    await commitOnly(broken, { FAIL_DEPLOY: null, SLOW_DEPLOY: '1\n' }, 'a deploy hook of 30 s');
    await push(broken, 'broken');
    const deadline = Date.now() + 120_000;
    let running: number | undefined;
    for (; Date.now() < deadline; await new Promise((r) => setTimeout(r, 250))) {
      const status = await client.environmentStatus(project, 'broken');
      running = status.running?.deployment;
      if (!running || running <= brokenBefore) continue;
      const log = (() => {
        try {
          return client.deploymentLog(project, 'broken', running);
        } catch {
          return '';
        }
      })();
      if (/\[deploy-hook\]/.test(log)) break;
    }
    assert.ok(running && running > brokenBefore, 'the slow deployment runs');
    const cancelled = await act('cancel', 'broken');
    assert.equal(cancelled.notice, `deployment #${running} of broken cancelled`, cancelled.alert);
    const record = (await client.environmentStatus(project, 'broken')).deployments.find((d) => d.deployment === running);
    assert.equal(record?.status, 'cancelled');
    assert.equal((await client.environmentStatus(project, 'broken')).current?.deployment, served, 'the release before it is served');
    await alice.goto(`${base()}/ui/projects/${project}/environments/broken/deployments/${running}`);
    assert.equal(await textOf(alice, '#status'), 'cancelled');

    // Delete: refused while a child remains, then done (with its branch).
    const withChild = await act('delete', 'idle');
    assert.equal(withChild.alert, 'Refused: idle has child environments (grand); delete them first');
    assert.equal(withChild.alert, `Refused: ${await refusalOf(client.deleteEnvironment(project, 'idle'))}`);
    assert.equal((await act('delete', 'grand')).notice, 'grand deleted, with its branch');
    assert.equal((await act('delete', 'broken')).notice, 'broken deleted, with its branch');
    const names = (await client.project(project)).environments.map((e) => e.name);
    assert.ok(!names.includes('grand') && !names.includes('broken'), names.join(', '));
    assert.ok(names.includes('idle'));
    assert.equal(await rowOf(alice, 'broken'), '', 'gone from the page');
  });
});
