/**
 * `kill -9` of the worker at random moments, across 20 deployments and promotions, the worker
 * started again each time: every operation completes exactly once, no release is switched
 * twice, no maintenance flag is left on, and a probe of the router never sees an error
 * outside a maintenance window. SLIPWAY_CHAOS_SEED repeats a run.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { strict as assert } from 'node:assert';
import { fetchFromRouter } from '../../src/router/fetch';
import { clone, commitAndPush, sampleVariant, uniqueName } from '../harness/world';
import { seededRandom, startChaosStack, type ChaosStack } from './harness';

const OPERATIONS = 20;

describe('chaos: kill -9 of the worker', function () {
  let stack: ChaosStack;
  before(async function () {
    stack = await startChaosStack('kill');
  });
  after(async function () {
    await stack?.stop();
  });

  it(`${OPERATIONS} deployments and promotions complete exactly once under repeated SIGKILLs of the worker`, async function () {
    this.timeout(15 * 60_000);
    const seed = Number(process.env.SLIPWAY_CHAOS_SEED ?? Date.now() % 1_000_000);
    console.log(`      seed ${seed} (SLIPWAY_CHAOS_SEED=${seed} repeats this run)`);
    const random = seededRandom(seed);
    const { client, layout } = stack;
    // A deploy hook that takes a moment widens the windows a kill can land in.
    const app = fs
      .readFileSync(path.join(sampleVariant(), '.magento.app.yaml'), 'utf8')
      .replace(/^ {2}deploy: \|\n/m, '  deploy: |\n    sleep 0.3\n');
    const project = (await client.createProject({ project: uniqueName('chaos'), from: sampleVariant({ '.magento.app.yaml': app }) })).project;
    const first = await client.waitForDeployment(project, 'integration');
    assert.equal(first.status, 'succeeded', first.error);
    const repo = await clone(layout.remote(project), 'integration');

    // The probe: every answer is the site (200) or the maintenance page (503); nothing else.
    const probed: Record<string, number> = {};
    const bad: string[] = [];
    const probing = ['integration'];
    let probe = true;
    const prober = (async () => {
      while (probe) {
        for (const env of probing) {
          try {
            const r = await fetchFromRouter(stack.routerPort, `${env}.${project}.localhost`);
            const ok = r.status === 200 || (r.status === 503 && /Down for maintenance/.test(r.body));
            probed[`${env} ${r.status}`] = (probed[`${env} ${r.status}`] ?? 0) + 1;
            if (!ok) bad.push(`${env}: ${r.status} ${r.body.slice(0, 120)}`);
          } catch (err) {
            bad.push(`${env}: ${String(err)}`);
          }
        }
        await new Promise((r) => setTimeout(r, 10));
      }
    })();

    // The killer: one SIGKILL per operation at a random moment in its first seconds, then a new worker.
    let kills = 0;
    const killDuring = async (): Promise<void> => {
      await new Promise((r) => setTimeout(r, random() * 2500));
      await stack.worker.kill9();
      kills++;
      await new Promise((r) => setTimeout(r, random() * 500));
      await stack.worker.start();
    };

    const pushed: string[] = [];
    let lastHeadline = '';
    const promotions: string[] = [];
    try {
      for (let i = 0; i < OPERATIONS; i++) {
        const killed = killDuring();
        if (i % 4 === 3) {
          const { ticket, workflowId } = await client.promote(project, 'staging', 'alice');
          await client.decide(project, ticket, { user: 'sam', decision: 'approve' });
          const r = await client.waitForPromotion(workflowId);
          assert.equal(r.status, 'deployed', `promotion ${ticket}: ${r.error ?? ''}`);
          promotions.push(ticket);
          if (!probing.includes('staging')) probing.push('staging');
        } else {
          const commit = await commitAndPush(repo, 'integration', { 'content/headline.txt': `Chaos ${i}\n` }, `chaos ${i}`);
          const d = await client.waitForDeployment(project, 'integration', { commit, timeoutMs: 240_000 });
          assert.equal(d.status, 'succeeded', `push ${i}: ${d.error ?? ''}`);
          pushed.push(commit);
          lastHeadline = `Chaos ${i}`;
        }
        await killed;
      }
    } finally {
      probe = false;
      await prober;
    }
    console.log(`      ${kills} kills, worker started ${stack.worker.starts} times; probe: ${JSON.stringify(probed)}`);
    assert.equal(kills, OPERATIONS);

    // Exactly once: one deployment per pushed commit, one staging deployment per promotion.
    const integration = await client.environmentStatus(project, 'integration');
    for (const commit of pushed) {
      const records = integration.deployments.filter((d) => d.commit === commit);
      assert.deepEqual(records.map((d) => d.status), ['succeeded'], `deployments of ${commit.slice(0, 12)}`);
    }
    const staging = await client.environmentStatus(project, 'staging');
    assert.equal(staging.deployments.length, promotions.length, JSON.stringify(staging.deployments));
    assert.ok(staging.deployments.every((d) => d.status === 'succeeded'));
    const tickets = await client.listTickets(project);
    assert.deepEqual(tickets.map((t) => t.id), promotions, 'one ticket per promotion');

    for (const env of ['integration', 'staging']) {
      // No release switched twice.
      const switches = fs
        .readFileSync(path.join(layout.environment(project, env), 'switches.log'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { deployment: number; to: string });
      const perDeployment = new Map<number, number>();
      for (const s of switches) perDeployment.set(s.deployment, (perDeployment.get(s.deployment) ?? 0) + 1);
      assert.deepEqual([...perDeployment].filter(([, n]) => n > 1), [], `${env}: a release switched twice`);
      const status = env === 'integration' ? integration : staging;
      assert.equal(switches[switches.length - 1]!.to, status.current!.release, `${env}: the last switch is to the current release`);
      // No maintenance flag left on.
      assert.ok(!fs.existsSync(layout.maintenanceFlag(project, env)), `${env}: maintenance left on`);
      assert.equal(status.running, undefined, `${env}: nothing still running`);
    }
    assert.deepEqual(bad, [], 'the probe saw only the site or the maintenance page');
    const served = await fetchFromRouter(stack.routerPort, `integration.${project}.localhost`);
    assert.ok(served.body.includes(lastHeadline), `integration serves the last push (${lastHeadline})`);
  });
});
