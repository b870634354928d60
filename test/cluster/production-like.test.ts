/**
 * The production-like setup, for real: Temporal's four services on PostgreSQL; Slipway's
 * engine worker, API and router as separate processes; two web hosts with their own data
 * directories (test/cluster/harness.ts). The administrator creates projects on the web hosts
 * (and one on the engine host) through the API; a developer pushes and asks for promotions, a
 * support engineer approves them through the API; each host's router serves its own
 * environments only; every workflow the run made replays against the current code.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import { Client, Connection } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { ApiClient } from '../../src/client-lib/api-client';
import type { ProjectInfo } from '../../src/domain/project';
import { ENGINE_HOST, WEB_HOSTS } from '../../src/domain/topology';
import { workflowIds } from '../../src/domain/names';
import { Layout } from '../../src/home';
import { replayHistoryJson } from '../../src/replay';
import { fetchFromRouter, pageTitle } from '../../src/router/fetch';
import { workflowBundle } from '../../src/worker';
import { clone, commitAndPush, sampleVariant, uniqueName } from '../harness/world';
import { clusterWorld, remoteUrl } from './harness';

const TOKEN = { alice: 'slipway-dev-alice', sam: 'slipway-dev-sam', ada: 'slipway-dev-ada' };

async function createProject(apiUrl: string, project: string, host: string, extra: Record<string, unknown> = {}): Promise<ProjectInfo> {
  const res = await fetch(`${apiUrl}/v1/projects`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN.ada}`, 'content-type': 'application/json' },
    body: JSON.stringify({ project, host, from: sampleVariant(), ...extra }),
  });
  const text = await res.text();
  assert.equal(res.status, 201, text);
  return JSON.parse(text) as ProjectInfo;
}

async function page(port: number, project: string, environment: string, urlPath = '/') {
  const res = await fetchFromRouter(port, `${environment}.${project}.localhost`, urlPath);
  return { ...res, title: pageTitle(res.body) };
}

describe('the production-like setup (Temporal cluster on PostgreSQL, separate processes, two web hosts)', function () {
  const started: string[] = [];

  it('creates projects on the web hosts, deploys pushes, promotes through tickets decided through the API', async function () {
    const world = clusterWorld();
    const alice = new ApiClient(world.apiUrl, TOKEN.alice);
    const sam = new ApiClient(world.apiUrl, TOKEN.sam);
    const projects = { web1: uniqueName('prod1'), web2: uniqueName('prod2') };
    const infos: Record<string, ProjectInfo> = {};
    for (const [host, project] of Object.entries(projects)) infos[host] = await createProject(world.apiUrl, project, host);
    started.push(...Object.values(projects));

    for (const [host, project] of Object.entries(projects)) {
      const first = await alice.waitForDeployment(project, 'integration');
      assert.equal(first.status, 'succeeded', `${project} on ${host}: ${first.error}`);
      // Each host serves its own environments; the release lives in its own data directory only.
      const served = await page(world.webRouterPorts[host]!, project, 'integration');
      assert.equal(served.status, 200, `${host} serves ${project}`);
      assert.match(served.body, /Welcome to the Luma sample store/);
      const other = host === 'web1' ? 'web2' : 'web1';
      assert.ok(fs.existsSync(new Layout(world.webHomes[host]!).releases(project, 'integration')), `${host} has the release`);
      assert.ok(!fs.existsSync(new Layout(world.webHomes[other]!).releases(project, 'integration')), `${other} has not`);
      assert.ok(!fs.existsSync(new Layout(world.engineHome).releases(project, 'integration')), 'the engine host has not');
    }
    // The engine host's router (`slipway router`) serves none of the web hosts' environments,
    // and serves the engine host's own.
    assert.equal((await page(world.routerPort, projects.web1, 'integration')).status, 404);
    const onEngine = uniqueName('prod0');
    await createProject(world.apiUrl, onEngine, ENGINE_HOST);
    started.push(onEngine);
    const engineFirst = await alice.waitForDeployment(onEngine, 'integration');
    assert.equal(engineFirst.status, 'succeeded', engineFirst.error);
    assert.match((await page(world.routerPort, onEngine, 'integration')).body, /Welcome to the Luma sample store/);

    // A push by the developer over Git smart HTTP through the API (her token as the password):
    // the remote's hook tells the API, the engine builds, web1 deploys.
    const project = projects.web1;
    const repo = await clone(remoteUrl(infos.web1!, world, 'alice', TOKEN.alice), 'integration');
    const commit = await commitAndPush(repo, 'integration', { 'content/headline.txt': 'Pushed to the cluster\n' }, 'headline');
    const pushed = await alice.waitForDeployment(project, 'integration', { commit });
    assert.equal(pushed.status, 'succeeded', pushed.error);
    assert.match((await page(world.webRouterPorts.web1!, project, 'integration')).body, /Pushed to the cluster/);
    // Both halves of the deployment's log through the API: the engine's build, web1's deploy
    // (labelled with the host; its health check went through web1's router).
    const log = await alice.deploymentLog(project, 'integration', pushed.deployment);
    assert.match(log, /\[build-hook\]/);
    assert.match(log, /web1 \[health-check\] .*: 200/);
    assert.ok(log.indexOf('[build-hook]') < log.indexOf('web1 [stage-release]'), 'the build half comes first');

    // Promotions: requested by the developer, approved by a support engineer, both through the API.
    for (const target of ['staging', 'production'] as const) {
      const promotion = await alice.promote(project, target);
      const decided = await sam.decide(project, promotion.ticket, { decision: 'approve', comment: 'cluster suite' });
      assert.equal(decided.status, 'approved');
      const result = await alice.waitForPromotion(promotion);
      assert.equal(result.status, 'deployed', result.error);
      const served = await page(world.webRouterPorts.web1!, project, target);
      assert.equal(served.status, 200, `${target} served by web1`);
      assert.match(served.body, /Pushed to the cluster/, `${target} runs what integration ran`);
    }
    const production = (await alice.environmentStatus(project, 'production')).current;
    assert.equal(production?.commit, commit);
  });

  it('runs production on both web hosts behind the front router: staged and switched on each, served by either', async function () {
    const world = clusterWorld();
    const alice = new ApiClient(world.apiUrl, TOKEN.alice);
    const sam = new ApiClient(world.apiUrl, TOKEN.sam);
    const project = uniqueName('prod3');
    // Integration on the engine's host (shared), staging and production on the web hosts (dedicated).
    await createProject(world.apiUrl, project, ENGINE_HOST, { hosts: { integration: [ENGINE_HOST], staging: ['web1'], production: ['web1', 'web2'] } });
    started.push(project);
    const first = await alice.waitForDeployment(project, 'integration');
    assert.equal(first.status, 'succeeded', first.error);
    for (const target of ['staging', 'production'] as const) {
      const promotion = await alice.promote(project, target);
      assert.equal((await sam.decide(project, promotion.ticket, { decision: 'approve', comment: 'cluster suite, two hosts' })).status, 'approved');
      const result = await alice.waitForPromotion(promotion);
      assert.equal(result.status, 'deployed', result.error);
    }
    for (const host of WEB_HOSTS) {
      assert.ok(fs.existsSync(new Layout(world.webHomes[host]!).releases(project, 'production')), `${host} has production's release`);
      assert.equal((await page(world.webRouterPorts[host]!, project, 'production')).status, 200, `${host} serves production`);
    }
    assert.ok(!fs.existsSync(new Layout(world.webHomes.web2!).releases(project, 'staging')), "staging is web1's only");
    // The front router: every request answered, by a host that serves production.
    for (let i = 0; i < 6; i++) {
      const served = await page(world.frontPort, project, 'production');
      assert.equal(served.status, 200, `request ${i} through the front router`);
      assert.match(served.body, /Welcome to the Luma sample store/);
    }
    // One deployment on two hosts, one log: the engine's build half and each host's steps.
    const production = await alice.environmentStatus(project, 'production');
    const log = await alice.deploymentLog(project, 'production', production.current!.deployment);
    for (const host of WEB_HOSTS) assert.match(log, new RegExp(`${host} \\[switch-release\\]`), `${host}'s switch in the log`);
  });

  it('replays the history of every workflow the run made', async function () {
    const world = clusterWorld();
    const connection = await Connection.connect({ address: world.address });
    try {
      const client = new Client({ connection, namespace: 'default' });
      const bundle = await workflowBundle();
      const failures: string[] = [];
      const ids = new Set<string>();
      let replayed = 0;
      for await (const wf of client.workflow.list()) {
        const history = await client.workflow.getHandle(wf.workflowId, wf.runId).fetchHistory();
        const outcome = await replayHistoryJson(historyToJSON(history), `${wf.workflowId} (${wf.runId})`, wf.workflowId, bundle);
        replayed++;
        ids.add(wf.workflowId);
        if (!outcome.ok) failures.push(`${outcome.source}: ${outcome.error}`);
      }
      assert.deepEqual(failures, []);
      // The projects' workflows were among them: the pushed deployment and the promotion to production.
      const project = started.find((p) => p.startsWith('prod1-'));
      assert.ok(project, 'the first test created the projects');
      for (const id of [workflowIds.deployment(project, 'integration', 2), workflowIds.deployment(project, 'production', 1)]) {
        assert.ok(ids.has(id), `${id} among the ${replayed} replayed`);
      }
      console.log(`      replayed ${replayed} workflow histories`);
    } finally {
      await connection.close();
    }
  });
});
