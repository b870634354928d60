/**
 * The edge (src/router/edge.ts): nginx on the router's port passes an environment's requests
 * straight to its release's nginx when that release needs no router, and hands the rest to the
 * router: a release whose committed links the router must check, an environment in
 * maintenance, a web server that does not answer, a host that is no environment's. Each answer
 * says which release and commit served it, whichever way it went.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { appCgroupName } from '../../src/runtime/application';
import { SandboxCgroup } from '../../src/sandbox/cgroup';
import { fetchFromRouter } from '../../src/router/fetch';
import { commitAndPush, deployedProject, getPage, getWorld } from '../harness/world';

describe('the edge: straight to the release, or through the router', function () {
  this.timeout(300_000);

  it('goes straight to nginx for the sample store, through the router for a release with a link it must check, a maintenance window or a dead web server', async function () {
    const p = await deployedProject('edge');
    const { client, layout, project, repo } = p;
    const edgeLink = layout.edgeLink(project, 'integration');
    const log1 = client.deploymentLog(project, 'integration', p.first.deployment);
    assert.match(log1, /\[stage-release\] requests go from the edge straight to nginx/);
    assert.equal(fs.readlinkSync(edgeLink), 'd000001');
    const direct = await getPage(project, 'integration', '/about.html');
    assert.equal(direct.status, 200);
    assert.equal(direct.headers['x-slipway-release'], 'd000001', 'the release says who served, as the router does');
    assert.equal(direct.headers['x-slipway-commit'], p.first.commit);
    // Not a file: the front controller (PHP) answers, with the release's headers on its 404 too.
    const missing = await getPage(project, 'integration', '/no-such-page');
    assert.equal(missing.headers['x-slipway-release'], 'd000001');

    // A committed link to PHP source under another name: the router checks each path.
    fs.writeFileSync(path.join(repo.dir, 'pub', 'secret.php'), '<?php $token = "do-not-serve";\n');
    fs.symlinkSync('secret.php', path.join(repo.dir, 'pub', 'source.txt'));
    const c2 = await commitAndPush(repo, 'integration', {}, 'a link to PHP source');
    const d2 = await client.waitForDeployment(project, 'integration', { commit: c2 });
    assert.equal(d2.status, 'succeeded', d2.error);
    assert.match(client.deploymentLog(project, 'integration', d2.deployment), /\[stage-release\] requests go through the router, which checks each path: pub\/source\.txt: a link to PHP source under another name/);
    assert.equal(fs.existsSync(edgeLink), false, 'no straight way for that release');
    const source = await getPage(project, 'integration', '/source.txt');
    assert.equal(source.status, 404);
    assert.doesNotMatch(source.body, /do-not-serve/);
    assert.equal((await getPage(project, 'integration', '/about.html')).headers['x-slipway-release'], 'd000002');

    // The link gone: straight again.
    fs.rmSync(path.join(repo.dir, 'pub', 'source.txt'));
    const c3 = await commitAndPush(repo, 'integration', {}, 'no link');
    const d3 = await client.waitForDeployment(project, 'integration', { commit: c3 });
    assert.equal(d3.status, 'succeeded', d3.error);
    assert.equal(fs.readlinkSync(edgeLink), 'd000003');
    assert.equal((await getPage(project, 'integration', '/about.html')).headers['x-slipway-release'], 'd000003');

    // In maintenance: the router's page, at once (no reload of the edge).
    const flag = layout.maintenanceFlag(project, 'integration');
    fs.writeFileSync(flag, '');
    try {
      const down = await getPage(project, 'integration', '/about.html');
      assert.equal(down.status, 503);
      assert.equal(down.headers['retry-after'], '5');
      assert.match(down.body, /Down for maintenance/);
    } finally {
      fs.rmSync(flag, { force: true });
    }
    assert.equal((await getPage(project, 'integration', '/about.html')).status, 200);

    // nginx killed: the router's 502 page until the supervisor has restarted it.
    const nginx = SandboxCgroup.named(appCgroupName({ layout, project, environment: 'integration' }, 'nginx', 'd000003'))!;
    nginx.killAll();
    const gap = await getPage(project, 'integration', '/about.html');
    if (gap.status !== 200) {
      assert.equal(gap.status, 502);
      assert.match(gap.body, /Application not running/);
      assert.equal(gap.headers['retry-after'], '2');
    }
    const deadline = Date.now() + 20_000;
    while ((await getPage(project, 'integration', '/about.html')).status !== 200) {
      assert.ok(Date.now() < deadline, 'the supervisor restarted nginx');
      await new Promise((r) => setTimeout(r, 200));
    }

    // A host that is no environment's: the router's page.
    const w = await getWorld();
    const unknown = await fetchFromRouter(w.routerPort, 'nowhere.example', '/');
    assert.equal(unknown.status, 404);
    assert.match(unknown.body, /Unknown host/);
  });
});
