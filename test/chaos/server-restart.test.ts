/**
 * A restart of the Temporal dev server (same SQLite file) while a ticket waits for its
 * decision and while a build runs: both finish, the ticket decided after the restart.
 */
import { strict as assert } from 'node:assert';
import { WorkflowNotFoundError } from '@temporalio/client';
import { SlipwayError } from '../../src/errors';
import { clone, commitAndPush, sampleAppYaml, sampleVariant, uniqueName } from '../harness/world';
import { startChaosStack, type ChaosStack } from './harness';

/** The sample store with a build hook that takes `seconds` longer. */
export function slowBuild(seconds: number): string {
  return sampleAppYaml().replace(/^ {2}build: \|\n/m, `  build: |\n    sleep ${seconds}\n`);
}

describe('chaos: restart of the Temporal server', function () {
  let stack: ChaosStack;
  before(async function () {
    stack = await startChaosStack('restart');
  });
  after(async function () {
    await stack?.stop();
  });

  it('a waiting ticket and a running build both finish across a restart', async function () {
    this.timeout(5 * 60_000);
    const { client, layout } = stack;
    const project = (await client.createProject({ project: uniqueName('restart'), from: sampleVariant({ '.magento.app.yaml': slowBuild(4) }) })).project;
    assert.equal((await client.waitForDeployment(project, 'integration')).status, 'succeeded');
    const promotion = await client.promote(project, 'staging', 'alice');
    const repo = await clone(layout.remote(project), 'integration');
    const commit = await commitAndPush(repo, 'integration', { 'content/headline.txt': 'After the restart\n' });
    // Wait until the build hook runs, then take the server down under it.
    for (let seen = false; !seen; await new Promise((r) => setTimeout(r, 100))) {
      const running = (await client.environmentStatus(project, 'integration')).running;
      if (running && running.commit === commit) {
        // The environment records the deployment as running just before its workflow starts.
        const p = await client.deploymentProgress(project, 'integration', running.deployment).catch((err: unknown) => {
          if (err instanceof WorkflowNotFoundError) return undefined;
          throw err;
        });
        seen = p?.steps.some((s) => s.step === 'build-hook' && s.status === 'running') ?? false;
      }
    }
    await stack.restartServer(1500);

    const ticket = await retry(() => client.decide(project, promotion.ticket, { user: 'sam', decision: 'approve' }));
    assert.equal(ticket.status, 'approved');
    const deployed = await client.waitForDeployment(project, 'integration', { commit, timeoutMs: 180_000 });
    assert.equal(deployed.status, 'succeeded', deployed.error);
    const promoted = await client.waitForPromotion(promotion.workflowId);
    assert.equal(promoted.status, 'deployed', promoted.error);
    const log = client.deploymentLog(project, 'integration', deployed.deployment);
    assert.match(log, /\[build-hook\] succeeded/);
  });
});

/** The client's first calls after a restart may meet the server still starting. */
async function retry<T>(call: () => Promise<T>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await call();
    } catch (err) {
      if (err instanceof SlipwayError || Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}
