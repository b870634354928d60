/**
 * The sandbox's limits in real deployments, set for one project in the operator's
 * `SLIPWAY_HOME/sandbox.yaml`: a build hook that eats memory, a deploy hook that hangs in
 * silence and one that never ends each fail once (never retried), in bounded time, with a
 * message naming the limit and its value; the previous release stays served and maintenance
 * goes off.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { minimalApp } from '../fixtures/app-yaml';
import { commitOnly, deployedProject, getPage, push } from '../harness/world';

const APP = minimalApp(
  {
    build: [
      'mkdir -p pub',
      'echo "<html><title>limits</title><body>$(cat content/headline.txt)</body></html>" > pub/index.html',
      'if [ -f EAT ]; then echo eating; python3 -c "x = bytearray(512 * 1024 * 1024)"; fi',
    ].join('\n'),
    deploy: [
      'if [ -f HANG ]; then echo hanging; sleep 3600; fi',
      'if [ -f TICK ]; then while :; do echo tick; sleep 0.5; done; fi',
      'echo deployed',
    ].join('\n'),
  },
  'mounts:\n  "var": "shared:files/var"\n',
);

describe('sandbox limits in deployments', function () {
  this.timeout(180_000);

  it('memory, silence and time limits fail the hook once, naming the limit; the live release stays and maintenance goes off', async function () {
    const p = await deployedProject('limits', { '.magento.app.yaml': APP, 'content/headline.txt': 'First\n' });
    // The operator's limits for this project (read at every hook: no restart).
    const config = path.join(p.layout.home, 'sandbox.yaml');
    fs.writeFileSync(`${config}.tmp`, `projects:\n  ${p.project}:\n    memory: 64MiB\n    silence: 2s\n    timeouts: { deploy: 5s }\n`);
    fs.renameSync(`${config}.tmp`, config);
    const good = await getPage(p.project, 'integration');
    assert.equal(good.status, 200);
    let after = p.first.deployment;

    const failWith = async (files: Record<string, string | null>): Promise<{ error: string; log: string; ms: number }> => {
      const started = Date.now();
      const commit = await commitOnly(p.repo, { 'content/headline.txt': `${Object.keys(files).join(' ')}\n`, ...files });
      await push(p.repo, 'integration');
      const d = await p.client.waitForDeployment(p.project, 'integration', { commit, after });
      after = d.deployment;
      assert.equal(d.status, 'failed');
      const now = await getPage(p.project, 'integration');
      assert.equal(now.status, 200, 'the site is served, not in maintenance');
      assert.equal(now.body, good.body, 'by the release served before');
      assert.ok(!fs.existsSync(p.layout.maintenanceFlag(p.project, 'integration')), 'maintenance is off');
      return { error: d.error ?? '', log: p.client.deploymentLog(p.project, 'integration', d.deployment), ms: Date.now() - started };
    };

    const eat = await failWith({ EAT: '1\n' });
    assert.match(eat.error, /step "build-hook" failed \(exit code \d+\): the build hook exceeded its memory limit of 64 MiB/);

    const hang = await failWith({ EAT: null, HANG: '1\n' });
    assert.match(hang.error, /step "deploy-hook" failed \(exit code 137\): the deploy hook printed nothing and used no CPU for 2 s and was stopped \[.*maintenance off\]/);
    assert.equal(hang.log.match(/\| hanging/g)?.length, 1, 'a hook that timed out is not retried');
    assert.ok(hang.ms < 60_000, `failed in bounded time (${hang.ms} ms)`);

    const tick = await failWith({ HANG: null, TICK: '1\n' });
    assert.match(tick.error, /step "deploy-hook" failed \(exit code 137\): the deploy hook ran past its time limit of 5 s and was stopped/);
    assert.equal(tick.log.match(/\[deploy-hook\] started/g)?.length, 1, 'one attempt');
    assert.ok(tick.ms < 60_000, `failed in bounded time (${tick.ms} ms)`);

    // A project's limits are the operator's: the sandbox says which ones applied.
    assert.match(tick.log, /sandbox: uid \d+, no network, the release read-only, 1 mounts writable; limits \(plan pro\): 64 MiB memory, 512 processes, 5 s, silence 2 s/);
  });
});
