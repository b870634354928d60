/**
 * Promotion (seed 000 "Merge to …", seed 004 "assisted deployment"): integration → staging →
 * production → master, each behind a support ticket, the same slug deployed everywhere with no
 * build; refusals, rejection, expiry, cancellation, and production rolled back on a failing
 * smoke check.
 */
import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { SAMPLE_STORE } from '../../src/home';
import { minimalApp } from '../fixtures/app-yaml';
import { runSlipway } from '../harness/processes';
import { commitOnly, createProject, deployedProject, getPage, getWorld, push } from '../harness/world';

const run = promisify(execFile);
const head = async (remote: string, branch: string): Promise<string> =>
  (await run('git', ['rev-parse', `refs/heads/${branch}`], { cwd: remote })).stdout.trim();

describe('promotion', function () {
  it('integration → staging → production → master, one slug, no build', async function () {
    const p = await deployedProject('chain', {}, { productionApprovals: 2 });
    const { client } = p;
    const integration = (await client.environmentStatus(p.project, 'integration')).current!;

    const toStaging = await client.promote(p.project, 'staging', 'alice');
    assert.equal(toStaging.ticket, 'SUP-1');
    await client.decide(p.project, toStaging.ticket, { user: 'sam', decision: 'approve', comment: 'ok' });
    const staged = await client.waitForPromotion(toStaging.workflowId);
    assert.equal(staged.status, 'deployed', staged.error);
    assert.equal(staged.slug, integration.slug);
    assert.equal(await head(p.remote, 'staging'), integration.commit);
    const stagingEnv = (await client.environmentStatus(p.project, 'staging')).current!;
    assert.equal(stagingEnv.slug, integration.slug);
    assert.match((await getPage(p.project, 'staging')).body, /Welcome to the Luma sample store/);
    const stagingLog = client.deploymentLog(p.project, 'staging', stagingEnv.deployment);
    assert.doesNotMatch(stagingLog, /\[(checkout|patches|build-hook|static-content-build)\] started/);

    const toProduction = await client.promote(p.project, 'production', 'alice');
    assert.equal(toProduction.ticket, 'SUP-2');
    let t = await client.decide(p.project, toProduction.ticket, { user: 'sam', decision: 'approve' });
    assert.equal(t.status, 'open', 'production needs two approvers');
    t = await client.decide(p.project, toProduction.ticket, { user: 'sue', decision: 'approve' });
    assert.equal(t.status, 'approved');
    const produced = await client.waitForPromotion(toProduction.workflowId);
    assert.equal(produced.status, 'deployed', produced.error);
    assert.equal(produced.masterUpdated, true);
    const productionEnv = (await client.environmentStatus(p.project, 'production')).current!;
    assert.equal(productionEnv.slug, integration.slug, 'what was tested on staging runs in production');
    assert.doesNotMatch(client.deploymentLog(p.project, 'production', productionEnv.deployment), /\[(checkout|build-hook)\] started/);
    assert.match(client.deploymentLog(p.project, 'production', productionEnv.deployment), /\[health-check\] http:\/\/production\..*\/admin: (200|301)/);
    assert.equal(await head(p.remote, 'production'), integration.commit);
    assert.equal(await head(p.remote, 'master'), integration.commit);
    assert.match((await getPage(p.project, 'production', '/admin/')).body, /Luma Admin/);
    // The ticket records what came of it.
    for (let i = 0; i < 30 && !(await client.ticket(p.project, 'SUP-2')).outcome; i++) await new Promise((r) => setTimeout(r, 100));
    assert.match((await client.ticket(p.project, 'SUP-2')).outcome ?? '', /deployed to production as deployment #\d+ .*; master updated/);
  });

  it('refuses a promotion from nothing deployed, from a failed deployment, to a target with one open, or by the wrong person', async function () {
    const p = await deployedProject('prefuse');
    const { client } = p;
    await assert.rejects(client.promote(p.project, 'production', 'alice'), /refused: staging has never been deployed: nothing to promote/);
    await assert.rejects(client.promote(p.project, 'staging', 'sam'), /refused: sam may not ask for promotions/);
    await assert.rejects(client.promote(p.project, 'staging', 'mallory'), /refused: unknown user "mallory"/);
    await assert.rejects(client.promote(p.project, 'qa', 'alice'), /promote to staging or production/);
    const open = await client.promote(p.project, 'staging', 'alice');
    await assert.rejects(client.promote(p.project, 'staging', 'bob'), new RegExp(`refused: staging has an open promotion already \\(${open.ticket}\\)`));
    // Rejected: staging unchanged, and the target takes a new promotion.
    await client.decide(p.project, open.ticket, { user: 'sue', decision: 'reject', comment: 'not this week' });
    const rejected = await client.waitForPromotion(open.workflowId);
    assert.equal(rejected.status, 'rejected');
    assert.match(rejected.error ?? '', /rejected by sue: not this week/);
    assert.equal((await getPage(p.project, 'staging')).status, 404);

    const broken = await commitOnly(p.repo, { '.magento/routes.yaml': '"http://{defualt}/":\n  type: upstream\n  upstream: "mymagento:http"\n' });
    await push(p.repo, 'integration');
    await client.waitForDeployment(p.project, 'integration', { commit: broken });
    await assert.rejects(client.promote(p.project, 'staging', 'alice'), /refused: the last deployment of integration \(#2\) failed: step "validate" failed/);
  });

  it('flags deployment-settings changes on the ticket with the files and the diff; one approver by default', async function () {
    const p = await deployedProject('psettings');
    const { client } = p;
    assert.equal((await client.project(p.project)).productionApprovals, 1);
    const plain = await client.promote(p.project, 'staging', 'alice');
    assert.equal((await client.ticket(p.project, plain.ticket)).settingsChange, undefined, 'nothing changed yet');
    await client.decide(p.project, plain.ticket, { user: 'sam', decision: 'approve' });
    await client.waitForPromotion(plain.workflowId);

    const env = fs.readFileSync(path.join(SAMPLE_STORE, '.magento.env.yaml'), 'utf8').replace('SCD_THREADS: 2', 'SCD_THREADS: 4');
    const commit = await commitOnly(p.repo, { '.magento.env.yaml': env, 'content/headline.txt': 'More threads\n' });
    await push(p.repo, 'integration');
    await client.waitForDeployment(p.project, 'integration', { commit });
    const flagged = await client.promote(p.project, 'staging', 'alice');
    const t = await client.ticket(p.project, flagged.ticket);
    assert.deepEqual(t.settingsChange?.files, ['.magento.env.yaml']);
    assert.match(t.settingsChange?.diff ?? '', /^- {4}SCD_THREADS: 2$/m);
    assert.match(t.settingsChange?.diff ?? '', /^\+ {4}SCD_THREADS: 4$/m);
    const shown = await runSlipway(['ticket', 'show', p.project, flagged.ticket], { ...process.env, SLIPWAY_HOME: p.layout.home });
    assert.match(shown.stdout, /changes deployment settings: \.magento\.env\.yaml/);
    await client.decide(p.project, flagged.ticket, { user: 'sam', decision: 'approve' });
    assert.equal((await client.waitForPromotion(flagged.workflowId)).status, 'deployed');

    // Production with the plan's default: one approval is enough.
    const prod = await client.promote(p.project, 'production', 'ada');
    const decided = await client.decide(p.project, prod.ticket, { user: 'sue', decision: 'approve' });
    assert.equal(decided.status, 'approved');
    assert.equal((await client.waitForPromotion(prod.workflowId)).status, 'deployed');
  });

  it('expiry and cancellation end a promotion cleanly and close its ticket', async function () {
    const p = await deployedProject('pexpire');
    const { client } = p;
    const expiring = await client.promote(p.project, 'staging', 'alice', { expiresInMs: 1500, remindBeforeMs: 500 });
    const expired = await client.waitForPromotion(expiring.workflowId);
    assert.equal(expired.status, 'expired');
    const t = await client.ticket(p.project, expiring.ticket);
    assert.equal(t.status, 'expired');
    assert.equal(t.reminders.length, 1);

    const cancelling = await client.promote(p.project, 'staging', 'alice');
    await client.temporal.workflow.getHandle(cancelling.workflowId).cancel();
    for (let i = 0; i < 50 && (await client.ticket(p.project, cancelling.ticket)).status === 'open'; i++) await new Promise((r) => setTimeout(r, 100));
    assert.equal((await client.ticket(p.project, cancelling.ticket)).status, 'cancelled');
    // The target is free again.
    let next: { ticket: string } | undefined;
    for (let i = 0; i < 50 && !next; i++) {
      next = await client.promote(p.project, 'staging', 'alice').catch(() => undefined);
      if (!next) await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(next, 'a new promotion to staging is accepted');
  });

  it('rolls production back when its smoke check fails; master is not updated', async function () {
    const { client } = await getWorld();
    // A store whose build makes no /admin page: staging is fine, production's smoke check is not.
    const project = await createProject(
      'psmoke',
      {
      '.magento.app.yaml': minimalApp({ build: "mkdir -p pub && echo '<title>No admin here</title>' > pub/index.html" }),
      },
      { productionApprovals: 2 },
    );
    const first = await client.waitForDeployment(project.project, 'integration');
    const initial = await head(project.remote, 'master');
    const s = await client.promote(project.project, 'staging', 'alice');
    await client.decide(project.project, s.ticket, { user: 'sam', decision: 'approve' });
    assert.equal((await client.waitForPromotion(s.workflowId)).status, 'deployed');
    const pr = await client.promote(project.project, 'production', 'alice');
    await client.decide(project.project, pr.ticket, { user: 'sam', decision: 'approve' });
    await client.decide(project.project, pr.ticket, { user: 'sue', decision: 'approve' });
    const result = await client.waitForPromotion(pr.workflowId);
    assert.equal(result.status, 'failed');
    assert.match(result.error ?? '', /step "health-check" failed: health check failed: .*\/admin answered 404 \[no previous release: unpublished\]/);
    assert.equal((await getPage(project.project, 'production')).status, 404, 'production rolled back (it had no release before)');
    assert.equal(await head(project.remote, 'master'), initial, 'master untouched');
    assert.equal(await head(project.remote, 'production'), initial, 'production back at the commit it had: nothing newer is served');
    for (let i = 0; i < 30 && !(await client.ticket(project.project, pr.ticket)).outcome; i++) await new Promise((r) => setTimeout(r, 100));
    assert.match((await client.ticket(project.project, pr.ticket)).outcome ?? '', /failed and was rolled back: .*\/admin answered 404/);
    void first;
  });

  it('refuses to move staging to force-pushed, unrelated history: the histories diverged, staging is unchanged', async function () {
    const p = await deployedProject('diverged');
    const { client } = p;
    const stagingBefore = await head(p.remote, 'staging');
    // integration is force-pushed to a commit with no history in common with staging.
    await p.repo.git.raw(['checkout', '--orphan', 'rewritten']);
    await p.repo.git.add(['--all']);
    await p.repo.git.commit('history rewritten');
    await p.repo.git.push(['--force', 'origin', 'rewritten:refs/heads/integration']);
    const orphan = (await p.repo.git.revparse(['HEAD'])).trim();
    const d = await client.waitForDeployment(p.project, 'integration', { commit: orphan, after: p.first.deployment });
    assert.equal(d.status, 'succeeded', d.error);
    await assert.rejects(run('git', ['merge-base', '--is-ancestor', stagingBefore, orphan], { cwd: p.remote }), 'the histories are unrelated');

    const promotion = await client.promote(p.project, 'staging', 'alice');
    await client.decide(p.project, promotion.ticket, { user: 'sam', decision: 'approve' });
    const result = await client.waitForPromotion(promotion.workflowId);
    assert.equal(result.status, 'failed');
    assert.match(result.error ?? '', /the histories of staging and [0-9a-f]{12} have diverged: staging is at [0-9a-f]{12}, which is not in the history of/);
    assert.match(result.error ?? '', /To reconcile, merge staging into the branch you promote \(git fetch origin staging && git merge origin\/staging\), push it, and promote again/);
    assert.equal(await head(p.remote, 'staging'), stagingBefore, 'staging did not move');
    const staging = await client.environmentStatus(p.project, 'staging').catch(() => undefined);
    assert.equal(staging?.deployments.length ?? 0, 0, 'nothing was deployed to staging');
  });
});
