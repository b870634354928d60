/**
 * Entity workflows continue-as-new when Temporal suggests it (the harness's server suggests it
 * after a few dozen events) and keep their state across it, including the answers to Updates, so
 * that one sent again after continue-as-new is not run twice.
 */
import { strict as assert } from 'node:assert';
import { workflowIds } from '../../src/domain/names';
import { redeployUpdate } from '../../src/workflows/environment';
import { branchUpdate } from '../../src/workflows/project/environments';
import { allocateTicketUpdate } from '../../src/workflows/project/tickets';
import { commitOnly, createProject, deployedProject, getWorld, push } from '../harness/world';

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
    // An Update with a known Update ID, to be sent again once the runs have changed (below).
    const redeployed = await envHandle.executeUpdate(redeployUpdate, { updateId: 'redeploy-once' });
    assert.equal(redeployed.deployment, 2);
    let last = await client.waitForDeployment(p.project, 'integration', { after: p.first.deployment });
    assert.equal(last.status, 'succeeded', last.error);
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
    assert.equal(status.current?.deployment, PUSHES + 2);
    assert.equal(status.deployments.length, PUSHES + 2);
    const info = await client.project(p.project);
    assert.equal(info.environments.find((e) => e.name === 'kept')?.status, 'inactive');
    // Work goes on in the new runs: numbering continues, refusals still hold.
    await assert.rejects(client.branch(p.project, { name: 'kept' }), /exists already/);
    // The same Update sent again (a client whose long poll ended before the answer does so) lands
    // on the new run, which answers it from the first run's answer: no second redeployment.
    assert.deepEqual(await envHandle.executeUpdate(redeployUpdate, { updateId: 'redeploy-once' }), redeployed);
    const { deployment } = await client.redeploy(p.project, 'integration');
    assert.equal(deployment, PUSHES + 3);
  });

  it('answers an Update sent again after the project continued as new with its first answer: nothing runs twice', async function () {
    // The server recognises a repeated Update ID within one run only. Under load, 1 in ~10 runs
    // of the 20-concurrent-branches test had a branch refused as "exists already" this way.
    const { client } = await getWorld();
    const project = (await createProject('again')).project;
    await client.waitForDeployment(project, 'integration');
    const handle = client.temporal.workflow.getHandle(workflowIds.project(project));
    const first = await handle.executeUpdate(branchUpdate, { args: [{ name: 'twice', inactive: true }], updateId: 'branch-twice-1' });
    const ticket = await handle.executeUpdate(allocateTicketUpdate, { updateId: 'ticket-once' });
    const runBefore = (await handle.describe()).runId;
    // Enough events for the harness's continue-as-new threshold: inactive branches made and deleted.
    for (let i = 0; i < 30 && (await handle.describe()).runId === runBefore; i++) {
      await client.branch(project, { name: `filler-${i}`, inactive: true });
      await client.deleteEnvironment(project, `filler-${i}`);
    }
    assert.notEqual((await handle.describe()).runId, runBefore, 'the project continued as new');
    assert.deepEqual(await handle.executeUpdate(branchUpdate, { args: [{ name: 'twice', inactive: true }], updateId: 'branch-twice-1' }), first);
    // Another request for the same name is a new request: refused as before.
    await assert.rejects(client.branch(project, { name: 'twice', inactive: true }), /environment twice exists already/);
    assert.equal((await client.project(project)).environments.filter((e) => e.name === 'twice').length, 1);
    // A ticket number is taken once: the repeat answers the first number, the next request the next one.
    assert.deepEqual(await handle.executeUpdate(allocateTicketUpdate, { updateId: 'ticket-once' }), ticket);
    assert.equal((await handle.executeUpdate(allocateTicketUpdate)).number, ticket.number + 1);
  });
});
