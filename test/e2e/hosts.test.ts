/**
 * One worker per host: deploy activities run on the task queue of the host that serves the
 * environment. Two `slipway worker --host` processes, each with its own data directory and
 * router, each receive the releases of their own environments. The engine runs its own host's
 * short steps as local activities; for another host's environment it is refused (not this
 * host) and the step runs on that host's queue.
 */
import { strict as assert } from 'node:assert';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fetchFromRouter } from '../../src/router/fetch';
import { workflowIds } from '../../src/domain/names';
import { fetchHistoryJson, replayHistoryJson } from '../../src/replay';
import { freePort } from '../../src/temporal/dev-server';
import { Layout, PACKAGE_ROOT } from '../../src/home';
import { stopAllRuntimes } from '../../src/runtime/environment-runtime';
import { spawnSlipway, type Spawned } from '../harness/processes';
import { getWorld, sampleVariant, tempDir, uniqueName } from '../harness/world';

describe('one worker per host', function () {
  const workers: Spawned[] = [];
  const homesUsed: string[] = [];
  after(async () => {
    for (const w of workers) w.child.kill('SIGTERM');
    await Promise.all(workers.map((w) => w.exited));
    // The environments' processes outlive workers by design: stopped with the hosts' data directories.
    for (const home of homesUsed) await stopAllRuntimes(new Layout(home));
  });

  it("lands each environment's releases on its own host", async function () {
    const { client, layout, address } = await getWorld();
    const hosts = ['web1', 'web2'] as const;
    const homes: Record<string, string> = {};
    const ports: Record<string, number> = {};
    for (const host of hosts) {
      homes[host] = tempDir(host);
      homesUsed.push(homes[host]);
      ports[host] = await freePort();
      const w = spawnSlipway(
        ['--home', homes[host], 'worker', '--host', host, '--no-engine', '--slugs', layout.slugs(), '--router-port', String(ports[host])],
        { ...process.env, TEMPORAL_ADDRESS: address },
      );
      workers.push(w);
      await w.waitFor(new RegExp(`Worker for host ${host} is running`));
    }
    const projects: Record<string, string> = {};
    for (const host of hosts) {
      projects[host] = (await client.createProject({ project: uniqueName(host), from: sampleVariant(), host })).project;
    }
    for (const host of hosts) {
      const d = await client.waitForDeployment(projects[host]!, 'integration');
      assert.equal(d.status, 'succeeded', d.error);
    }
    for (const host of hosts) {
      const other = host === 'web1' ? 'web2' : 'web1';
      const own = new Layout(homes[host]!);
      assert.ok(fs.existsSync(own.releases(projects[host]!, 'integration')), `${host} has its release`);
      assert.ok(!fs.existsSync(new Layout(homes[other]!).releases(projects[host]!, 'integration')), `${other} has not`);
      assert.ok(!fs.existsSync(layout.releases(projects[host]!, 'integration')), 'the engine host has not');
      const page = await fetchFromRouter(ports[host]!, `integration.${projects[host]}.localhost`);
      assert.equal(page.status, 200);
      assert.match(page.body, /Luma Sample Store/);
      // The health check ran through the host's own router.
      assert.match(fs.readFileSync(own.deployLog({ project: projects[host]!, environment: 'integration', number: 1 }), 'utf8'), /\[health-check\] .*: 200/);
    }
    // The deployment's history: the engine's local attempt refused, then the host's queue. It
    // replays; with SLIPWAY_RECORD_HISTORIES=1 it is kept (once) under test/histories.
    const id = workflowIds.deployment(projects.web1!, 'integration', 1);
    const json = await fetchHistoryJson(client.temporal, id);
    assert.match(json, /SlipwayNotThisHost/);
    const outcome = await replayHistoryJson(json, id, id);
    assert.ok(outcome.ok, `${id}: ${outcome.error}`);
    // Recorded for the deployment as a declared plan (the patched paths' histories retired).
    for (const name of ['deployment-plan-on-another-host.json']) {
      const file = path.join(PACKAGE_ROOT, 'test', 'histories', name);
      if (process.env.SLIPWAY_RECORD_HISTORIES === '1' && !fs.existsSync(file)) fs.writeFileSync(file, `${JSON.stringify(JSON.parse(json), null, 1)}\n`);
    }
  });
  it("reads the engine's variable store (--variables-from): a web host's application gets its project's variables, sensitive ones opened with the engine's key", async function () {
    const { client, layout, address } = await getWorld();
    const host = 'web7';
    const home = tempDir(host);
    homesUsed.push(home);
    const routerPort = await freePort();
    const w = spawnSlipway(
      ['--home', home, 'worker', '--host', host, '--no-engine', '--slugs', layout.slugs(), '--logs', layout.logs(), '--variables-from', layout.home, '--router-port', String(routerPort)],
      { ...process.env, TEMPORAL_ADDRESS: address },
    );
    workers.push(w);
    await w.waitFor(new RegExp(`Worker for host ${host} is running`));
    // A PHP page that shows what it was given (hashes of secret values, never the values).
    const index = [
      '<?php',
      "header('Content-Type: text/plain');",
      "$vars = json_decode(base64_decode(getenv('MAGENTO_CLOUD_VARIABLES')), true);",
      "echo 'color=', getenv('APP_COLOR'), \"\\n\";",
      "echo 'secret=', hash('sha256', (string) ($vars['vendor:token'] ?? '')), \"\\n\";",
      '',
    ].join('\n');
    const app = 'name: mymagento\ntype: php:8.2\nweb:\n  locations:\n    "/":\n      root: "pub"\n      passthru: "/index.php"\n';
    const project = (await client.createProject({ project: uniqueName('vars-host'), from: sampleVariant({ '.magento.app.yaml': app, 'pub/index.php': index }), host })).project;
    assert.equal((await client.waitForDeployment(project, 'integration')).status, 'succeeded');
    const token = `tok-${crypto.randomBytes(12).toString('hex')}`;
    const color = await client.setEnvironmentVariable(project, 'integration', { name: 'env:APP_COLOR', value: 'teal', build: false, by: 'alice' });
    const vendor = await client.setProjectVariable(project, { name: 'vendor:token', value: token, sensitive: true, build: false, by: 'ada' });
    assert.ok(color.applied && color.deployment !== undefined, JSON.stringify(color));
    for (const n of [color.deployment, ...vendor.deployments]) {
      const d = await client.waitForDeployment(project, 'integration', { after: n - 1 });
      assert.equal(d.status, 'succeeded', d.error);
    }
    const page = await fetchFromRouter(routerPort, `integration.${project}.localhost`);
    assert.equal(page.status, 200, page.body);
    assert.match(page.body, /color=teal/);
    assert.match(page.body, new RegExp(`secret=${crypto.createHash('sha256').update(token).digest('hex')}`));
    // The web host keeps no copy of the store or its key.
    assert.ok(!fs.existsSync(path.join(home, 'variables')) && !fs.existsSync(path.join(home, 'secrets', 'variables.key')));
  });
});
