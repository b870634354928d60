/**
 * Entity workflows continue-as-new when Temporal suggests it (the harness's server suggests it
 * after a few dozen events) and keep their state across it.
 */
import { strict as assert } from 'node:assert';
import { workflowIds } from '../../src/domain/names';
import { commitOnly, deployedProject, push } from '../harness/world';

/**
 * Pushes enough for both entity workflows to pass the harness's suggestion threshold: since
 * pushes go straight to the environment, the project records each in one workflow task
 * (about four events) and forwards nothing.
 */
const PUSHES = 12;

describe('continue-as-new', function () {
  it('the project and environment workflows continue-as-new and keep registry, releases and numbering', async function () {
    const p = await deployedProject('can');
    const { client } = p;
    const envHandle = client.temporal.workflow.getHandle(workflowIds.environment(p.project, 'integration'));
    const projectHandle = client.temporal.workflow.getHandle(workflowIds.project(p.project));
    const firstEnvRun = (await envHandle.describe()).runId;
    const firstProjectRun = (await projectHandle.describe()).runId;

    await client.branch(p.project, { name: 'kept', inactive: true });
    let last = p.first;
    for (let i = 1; i <= PUSHES; i++) {
      const c = await commitOnly(p.repo, { 'content/headline.txt': `Run ${i}\n` });
      await push(p.repo, 'integration');
      last = await client.waitForDeployment(p.project, 'integration', { commit: c, after: last.deployment });
      assert.equal(last.status, 'succeeded', last.error);
    }
    // Idle now: each entity workflow has had its chance to continue-as-new.
    await new Promise((r) => setTimeout(r, 500));
    const envRun = (await envHandle.describe()).runId;
    const projectRun = (await projectHandle.describe()).runId;
    assert.notEqual(envRun, firstEnvRun, 'the environment workflow continued as new');
    assert.notEqual(projectRun, firstProjectRun, 'the project workflow continued as new');

    const status = await client.environmentStatus(p.project, 'integration');
    assert.equal(status.current?.commit, last.commit);
    assert.equal(status.current?.deployment, PUSHES + 1);
    assert.equal(status.deployments.length, PUSHES + 1);
    const info = await client.project(p.project);
    assert.equal(info.environments.find((e) => e.name === 'kept')?.status, 'inactive');
    // Work goes on in the new runs: numbering continues, refusals still hold.
    await assert.rejects(client.branch(p.project, { name: 'kept' }), /exists already/);
    const { deployment } = await client.redeploy(p.project, 'integration');
    assert.equal(deployment, PUSHES + 2);
  });
});
