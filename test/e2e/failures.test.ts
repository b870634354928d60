/**
 * Failure and compensation: a patch that does not apply, a failing deploy hook and a failing
 * health check each end with the previous release served, maintenance off, and a message
 * naming the step. A probe during a deployment never sees anything but the old content, the
 * maintenance page or the new content. A burst of ten pushes coalesces.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as http from 'node:http';
import { minimalApp } from '../fixtures/app-yaml';
import { commitOnly, deployedProject, getPage, getWorld, push } from '../harness/world';

const APP = (deploy: string): string =>
  minimalApp(
    {
      build:
        'mkdir -p pub\n' +
        'echo "<html><head><title>$(cat content/headline.txt)</title></head><body>$(cat content/headline.txt)</body></html>" > pub/index.html\n' +
        'if [ -f NO_INDEX ]; then rm pub/index.html; fi',
      deploy,
    },
    'mounts:\n  "var": "shared:files/var"\n',
  );

const BROKEN_PATCH = `--- a/templates/index.html
+++ b/templates/index.html
@@ -1,3 +1,3 @@
 <!doctype html>
-<html lang="de">
+<html lang="fr">
 <head>
`;

describe('failures are compensated', function () {
  it('a bad patch, a failing deploy hook and a failing health check each leave the previous release served, maintenance off', async function () {
    const p = await deployedProject('fail', {
      '.magento.app.yaml': APP('if [ -f BREAK_DEPLOY ]; then\n  echo "migration 004 failed: duplicate column qty" >&2\n  exit 7\nfi\necho deployed'),
    });
    const flag = p.layout.maintenanceFlag(p.project, 'integration');
    const good = await getPage(p.project, 'integration');
    assert.equal(good.status, 200);
    const expectUnchanged = async (): Promise<void> => {
      const now = await getPage(p.project, 'integration');
      assert.equal(now.status, 200);
      assert.equal(now.body, good.body);
      assert.equal(now.headers['x-slipway-release'], good.headers['x-slipway-release']);
      assert.ok(!fs.existsSync(flag), 'maintenance is off');
    };
    let after = p.first.deployment;
    const failWith = async (files: Record<string, string | null>): Promise<{ error: string; failedStep?: string; deployment: number }> => {
      const commit = await commitOnly(p.repo, files);
      await push(p.repo, 'integration');
      const d = await p.client.waitForDeployment(p.project, 'integration', { commit, after });
      after = d.deployment;
      assert.equal(d.status, 'failed');
      return { error: d.error ?? '', failedStep: d.failedStep, deployment: d.deployment };
    };

    const patch = await failWith({ 'content/headline.txt': 'Patched\n', 'm2-hotfixes/002-broken.patch': BROKEN_PATCH });
    assert.equal(patch.failedStep, 'patches');
    assert.match(patch.error, /step "patches" failed: patch m2-hotfixes\/002-broken\.patch does not apply/);
    await expectUnchanged();
    // The progress names each step of the combined ones as it ran, up to the one that failed.
    const stepsOf = async (n: number): Promise<string> =>
      (await p.client.deploymentProgress(p.project, 'integration', n)).steps.map((x) => `${x.step}:${x.status}`).join(' ');
    assert.equal(await stepsOf(patch.deployment), 'checkout:succeeded validate:succeeded patches:failed');

    const hook = await failWith({ 'm2-hotfixes/002-broken.patch': null, BREAK_DEPLOY: '1\n', 'content/headline.txt': 'Hooked\n' });
    assert.equal(hook.failedStep, 'deploy-hook');
    assert.match(hook.error, /step "deploy-hook" failed \(exit code 7\): the deploy-hook hook exited with code 7 \[maintenance off\]/);
    const details: unknown = await p.client.temporal.workflow
      .getHandle(`deploy/${p.project}/integration/${hook.deployment}`)
      .result()
      .then(
        () => undefined,
        (e: { cause?: { details?: unknown[] } }) => e.cause?.details?.[0],
      );
    assert.match((details as { logTail: string }).logTail, /migration 004 failed: duplicate column qty/);
    await expectUnchanged();

    const health = await failWith({ BREAK_DEPLOY: null, NO_INDEX: '1\n', 'content/headline.txt': 'Unhealthy\n' });
    assert.equal(health.failedStep, 'health-check');
    assert.match(health.error, /step "health-check" failed: health check failed: http:\/\/integration\..*\/ answered 404 \[restored d000001\]/);
    await expectUnchanged();
    assert.match(await stepsOf(health.deployment), / post-deploy-hook:succeeded warm-up:succeeded health-check:failed restore-previous:succeeded$/);

    const status = await p.client.environmentStatus(p.project, 'integration');
    assert.equal(status.current?.deployment, p.first.deployment);
    const log = p.client.deploymentLog(p.project, 'integration', health.deployment);
    assert.match(log, /\[restore-previous\] succeeded in \d+ ms/);
  });

  it('a probe every 20 ms during a deployment sees only old content, the maintenance page or new content', async function () {
    const p = await deployedProject('probe', { '.magento.app.yaml': APP('sleep 0.3') });
    const { routerPort } = await getWorld();
    const host = `integration.${p.project}.localhost`;
    const seen: string[] = [];
    const problems: string[] = [];
    let probing = true;
    const probeOnce = (): Promise<void> =>
      new Promise((resolve) => {
        const req = http.get({ host: '127.0.0.1', port: routerPort, path: '/', headers: { host }, agent: false }, (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (body += c));
          res.on('end', () => {
            if (res.statusCode === 200 && body.includes('Welcome to the Luma sample store') && body.includes('</html>')) seen.push('old');
            else if (res.statusCode === 200 && body.includes('Probed release') && body.includes('</html>')) seen.push('new');
            else if (res.statusCode === 503 && /maintenance/i.test(body) && res.headers['retry-after']) seen.push('maintenance');
            else problems.push(`${res.statusCode}: ${body.slice(0, 120)}`);
            resolve();
          });
        });
        req.on('error', (err) => {
          problems.push(`error: ${err.message}`);
          resolve();
        });
      });
    const probe = (async () => {
      while (probing) {
        await Promise.all([probeOnce(), new Promise((r) => setTimeout(r, 20))]);
      }
    })();
    const commit = await commitOnly(p.repo, { 'content/headline.txt': 'Probed release\n' });
    await push(p.repo, 'integration');
    const d = await p.client.waitForDeployment(p.project, 'integration', { commit, after: p.first.deployment });
    await new Promise((r) => setTimeout(r, 200));
    probing = false;
    await probe;
    assert.equal(d.status, 'succeeded', d.error);
    assert.deepEqual(problems, []);
    // The order of what was seen: old, then maintenance, then new; never back.
    const phases = seen.filter((s, i) => i === 0 || seen[i - 1] !== s);
    assert.deepEqual(phases, ['old', 'maintenance', 'new'], `${seen.length} probes`);
    assert.ok(seen.length > 20, `${seen.length} probes`);
  });

  it('a burst of ten pushes (about a second) leads to at most two deployments and ends with the last commit served', async function () {
    // The deploy hook takes 4 s, so the burst lands during one deployment whatever the load on
    // this machine: what is asserted is the coalescing, not the machine's speed (the burst's
    // duration is logged; timings belong to the benchmark).
    const p = await deployedProject('burst', { '.magento.app.yaml': APP('sleep 4') });
    const commits: string[] = [];
    for (let i = 1; i <= 10; i++) commits.push(await commitOnly(p.repo, { 'content/headline.txt': `Burst ${i}\n` }, `burst ${i}`));
    const started = Date.now();
    for (const c of commits) await push(p.repo, 'integration', c);
    const elapsed = Date.now() - started;
    console.log(`      ten pushes took ${elapsed} ms`);
    const last = commits[commits.length - 1]!;
    const d = await p.client.waitForDeployment(p.project, 'integration', { commit: last, after: p.first.deployment });
    assert.equal(d.status, 'succeeded', d.error);
    await new Promise((r) => setTimeout(r, 500)); // nothing else may follow
    const status = await p.client.environmentStatus(p.project, 'integration');
    const after = status.deployments.filter((x) => x.deployment > p.first.deployment);
    assert.ok(after.length >= 1 && after.length <= 2, `${after.length} deployments: ${after.map((x) => x.commit.slice(0, 7)).join(', ')}`);
    assert.equal(status.running, undefined);
    assert.equal(status.current?.commit, last);
    assert.match((await getPage(p.project, 'integration')).body, /<title>Burst 10/);
  });
});
