/**
 * The first slice of the lifecycle, end to end: real Temporal server, real Git remote with its
 * post-receive hook, real git pushes, real hook processes, real HTTP requests to the router.
 */
import { strict as assert } from 'node:assert';
import { DEPLOYMENT_STEPS } from '../../src/domain/deployment';
import { workflowIds } from '../../src/domain/names';
import { environmentPushSignal } from '../../src/workflows/environment';
import { minimalApp } from '../fixtures/app-yaml';
import { clone, commitAndPush, createProject, getPage, getWorld } from '../harness/world';

describe('a push to integration builds and deploys it', function () {
  it('two pushes in a row end with the second commit served', async function () {
    const { client } = await getWorld();
    const project = await createProject('push');
    const first = await client.waitForDeployment(project.project, 'integration');
    assert.equal(first.status, 'succeeded', first.error);

    const initial = await getPage(project.project, 'integration');
    assert.equal(initial.status, 200);
    assert.equal(initial.title, 'Luma Sample Store');
    assert.match(initial.body, /Welcome to the Luma sample store/);

    const repo = await clone(project.remote, 'integration');
    const c1 = await commitAndPush(repo, 'integration', { 'content/headline.txt': 'First push\n' }, 'first');
    const d1 = await client.waitForDeployment(project.project, 'integration', { commit: c1, after: first.deployment });
    assert.equal(d1.status, 'succeeded', d1.error);
    assert.match((await getPage(project.project, 'integration')).body, /First push/);

    const c2 = await commitAndPush(repo, 'integration', { 'content/headline.txt': 'Second push\n' }, 'second');
    const d2 = await client.waitForDeployment(project.project, 'integration', { commit: c2, after: d1.deployment });
    assert.equal(d2.status, 'succeeded', d2.error);

    const page = await getPage(project.project, 'integration');
    assert.equal(page.status, 200);
    assert.match(page.body, /Second push/);
    assert.doesNotMatch(page.body, /First push/);
    assert.equal(page.headers['x-slipway-commit'], c2);

    const status = await client.environmentStatus(project.project, 'integration');
    assert.equal(status.current?.commit, c2);
    assert.equal(status.previous?.commit, c1);

    // Each push went to the environment's workflow straight from the hook's call; the project
    // recorded it and forwarded nothing (one workflow task less before the deployment).
    const envEvents = (await client.temporal.workflow.getHandle(workflowIds.environment(project.project, 'integration')).fetchHistory()).events ?? [];
    const pushSignals = envEvents.filter((e) => e.workflowExecutionSignaledEventAttributes?.signalName === 'push');
    assert.equal(pushSignals.length, 2, 'two push signals on the environment');
    for (const e of pushSignals) assert.equal(e.workflowExecutionSignaledEventAttributes?.externalWorkflowExecution, null, 'sent by the client, not by the project');
    const projectEvents = (await client.temporal.workflow.getHandle(workflowIds.project(project.project)).fetchHistory()).events ?? [];
    assert.equal(projectEvents.filter((e) => e.workflowExecutionSignaledEventAttributes?.signalName === 'branchPushed').length, 2);
    assert.equal(projectEvents.filter((e) => e.signalExternalWorkflowExecutionInitiatedEventAttributes?.signalName === 'push').length, 0);

    // Every step of the deployment is in its log, with its duration.
    const log = client.deploymentLog(project.project, 'integration', d2.deployment);
    // This deployment builds its static content (config.php declares scopes), declares no
    // services (this variant of the sample store) and needs no compensation.
    for (const step of DEPLOYMENT_STEPS.filter((x) => x !== 'static-content-deploy' && x !== 'restore-previous')) {
      const skipped: Partial<Record<string, string>> = {
        'provision-services': 'skipped: no services declared in \\.magento/services\\.yaml',
        'snapshot-data': 'skipped: snapshots are taken before deployments of staging and production',
        'copy-data': 'skipped: no data to bring in',
      };
      const outcome = skipped[step] ?? '(succeeded in \\d+ ms|slug \\w+ exists)';
      assert.match(log, new RegExp(`\\[${step}\\] ${outcome}`), `step ${step} in:\n${log}`);
    }
    assert.match(log, /\[build-hook\] \| built pub\/index.html for tree [0-9a-f]{40}/);
  });

  it("a push that follows the known head deploys its own commit; any other has the head read from Git", async function () {
    const { client } = await getWorld();
    const project = await createProject('pushhead');
    const p = project.project;
    const first = await client.waitForDeployment(p, 'integration');
    assert.equal(first.status, 'succeeded', first.error);
    const envId = workflowIds.environment(p, 'integration');
    /** The environment's reads of the branch head so far (local activity markers). */
    const headReads = async (): Promise<number> => {
      const events = (await client.temporal.workflow.getHandle(envId).fetchHistory()).events ?? [];
      return events.filter((e) => {
        const data = e.markerRecordedEventAttributes?.details?.data?.payloads?.[0]?.data;
        return data && Buffer.from(data).toString('utf8').includes('"activity_type":"resolveBranchHead"');
      }).length;
    };
    const reads = await headReads();
    assert.ok(reads >= 1, 'the first deployment read the head from Git');

    // A push through the hook follows the head the environment knows: its commit is deployed
    // with no read of the branch head.
    const repo = await clone(project.remote, 'integration');
    const c1 = await commitAndPush(repo, 'integration', { 'content/headline.txt': 'Follows\n' });
    const d1 = await client.waitForDeployment(p, 'integration', { commit: c1, after: first.deployment });
    assert.equal(d1.status, 'succeeded', d1.error);
    assert.equal(await headReads(), reads, 'no read of the branch head');
    assert.equal((await client.environmentStatus(p, 'integration')).head, c1);

    // A signal whose `before` is not the known head (out of order, or forged) names nothing:
    // the head is read from Git, which is c1, deployed already, so nothing is deployed.
    const forged = 'f'.repeat(40);
    await client.temporal.workflow.getHandle(envId).signal(environmentPushSignal, { commit: forged, before: 'e'.repeat(40), pushedAt: Date.now() });
    for (let i = 0; i < 100 && (await headReads()) === reads; i++) await new Promise((r) => setTimeout(r, 50));
    assert.equal(await headReads(), reads + 1, 'the head was read from Git');
    const status = await client.environmentStatus(p, 'integration');
    assert.equal(status.nextDeployment, d1.deployment + 1, 'no deployment of the forged commit');
    assert.equal(status.current?.commit, c1);
  });

  it('a build hook that exits 1 leaves the first commit served and names step, exit code and output', async function () {
    const { client } = await getWorld();
    const project = await createProject('buildfail', {
      '.magento.app.yaml': minimalApp({
        build: [
          'mkdir -p pub',
          'if [ -f BREAK ]; then',
          '  echo "compiling assets"',
          '  echo "fatal: cannot resolve module luma/theme" >&2',
          '  exit 1',
          'fi',
          'echo "<title>Healthy $(cat content/headline.txt)</title>" > pub/index.html',
        ].join('\n'),
      }),
    });
    const first = await client.waitForDeployment(project.project, 'integration');
    assert.equal(first.status, 'succeeded', first.error);
    const before = await getPage(project.project, 'integration');
    assert.match(before.body, /Healthy Welcome/);

    const repo = await clone(project.remote, 'integration');
    const broken = await commitAndPush(repo, 'integration', { BREAK: 'yes\n', 'content/headline.txt': 'Broken\n' });
    const failed = await client.waitForDeployment(project.project, 'integration', { commit: broken, after: first.deployment });
    assert.equal(failed.status, 'failed');
    assert.equal(failed.failedStep, 'build-hook');
    assert.match(failed.error ?? '', /step "build-hook" failed \(exit code 1\)/);
    // The steps run together are reported one by one, up to the one that failed.
    const progress = await client.deploymentProgress(project.project, 'integration', failed.deployment);
    assert.equal(progress.steps.map((x) => `${x.step}:${x.status}`).join(' '), 'checkout:succeeded validate:succeeded patches:succeeded build-hook:failed');

    // The deployment workflow's own failure carries the details an operator needs.
    const handle = client.temporal.workflow.getHandle(`deploy/${project.project}/integration/${failed.deployment}`);
    const err = await handle.result().then(
      () => assert.fail('the deployment should have failed'),
      (e: unknown) => e as { cause?: { details?: unknown[] } },
    );
    const details = err.cause?.details?.[0] as { step: string; exitCode: number; logTail: string };
    assert.equal(details.step, 'build-hook');
    assert.equal(details.exitCode, 1);
    assert.match(details.logTail, /compiling assets/);
    assert.match(details.logTail, /fatal: cannot resolve module luma\/theme/);

    const after = await getPage(project.project, 'integration');
    assert.equal(after.status, 200);
    assert.equal(after.body, before.body);
    const status = await client.environmentStatus(project.project, 'integration');
    assert.equal(status.current?.commit, first.commit);
  });
});
