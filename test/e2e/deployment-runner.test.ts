/**
 * The deployment workflow's runner with stub activities, in the style of the Temporal samples'
 * workflow tests: the real workflow code on the harness's dev server, fake activities that
 * record their calls and answer as each plan shape needs (cold build, reused slug, stored slug,
 * static content at deploy time, another host), and a failure at each group with the
 * compensation it must run. Seconds, where the end-to-end suite takes minutes.
 */
import { strict as assert } from 'node:assert';
import { randomUUID } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import { WorkflowFailedError } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { localHostActivities } from '../../src/activities';
import { NOT_THIS_HOST, STEP_FAILED, type DeploymentInput, type StepFailureDetails } from '../../src/domain/deployment';
import { hostTaskQueue } from '../../src/domain/names';
import type { SlugManifest } from '../../src/domain/project-files';
import { workflowBundle } from '../../src/worker';
import { deploymentProgressQuery, deploymentWorkflow, type DeploymentProgress } from '../../src/workflows/deployment';
import { getWorld } from '../harness/world';

const manifest = (where: 'build' | 'deploy' | 'none'): SlugManifest =>
  ({ staticContent: { where, reason: where, themes: [], locales: ['en_US'], buildThreads: 1, deployThreads: 1 } }) as unknown as SlugManifest;

const stepFailure = (step: StepFailureDetails['step'], message: string): ApplicationFailure =>
  ApplicationFailure.create({ message, type: STEP_FAILED, nonRetryable: true, details: [{ step, message, logTail: message }] });

const now = (): number => Date.now();
const timings = (...steps: [string, 'succeeded' | 'skipped'][]) => steps.map(([step, status]) => ({ step, status, startedAt: now(), endedAt: now() }));

interface Scenario {
  where?: 'build' | 'deploy' | 'none';
  reused?: boolean;
  /** The group activity that fails, and how. */
  fail?: { activity: string; error: () => Error };
  /** The engine is not the host that serves the environment. */
  otherHost?: boolean;
  /** The host's stubs query the deployment's phase while they run (its activities on the host's queue). */
  watchPhase?: boolean;
  source?: DeploymentInput['source'];
}

/** Runs one deployment against stub activities; returns the calls made, in order, the outcome and the progress. */
async function runWithStubs(s: Scenario) {
  const { address } = await getWorld();
  const id = randomUUID().slice(0, 8);
  const taskQueue = `stub-engine-${id}`;
  const host = `stub-${id}`;
  const workflowId = `stub-deploy-${id}`;
  const calls: string[] = [];
  const phases: string[] = [];
  const { client } = await getWorld();
  const stub = <T>(name: string, answer: () => T) => async (): Promise<T> => {
    calls.push(name);
    if (s.watchPhase && ['stageRelease', 'deployAndSwitch', 'postDeployAndVerify'].includes(name)) {
      const running = await client.temporal.workflow.getHandle(workflowId).query(deploymentProgressQuery);
      phases.push(`${name}:${running.phase}`);
    }
    if (s.fail?.activity === name) throw s.fail.error();
    return answer();
  };
  const where = s.where ?? 'build';
  const engine = {
    loadSlugManifest: stub('loadSlugManifest', () => manifest(where)),
    prepareBuild: stub('prepareBuild', () => ({
      treeId: 't1',
      slug: 's1',
      manifest: manifest(where),
      reused: s.reused === true,
      workspace: s.reused ? undefined : '/w',
      steps: s.reused ? timings(['checkout', 'skipped']) : timings(['checkout', 'succeeded'], ['validate', 'succeeded'], ['patches', 'succeeded']),
    })),
    buildSlug: stub('buildSlug', () => ({ steps: timings(['build-hook', 'succeeded'], ['static-content-build', where === 'build' ? 'succeeded' : 'skipped'], ['store-slug', 'succeeded']) })),
  };
  const hostActivities = {
    stageRelease: stub('stageRelease', () => ({ release: 'd000002' })),
    deployAndSwitch: stub('deployAndSwitch', () => ({
      since: 1000,
      until: 1040,
      steps: timings(['snapshot-data', 'skipped'], ['copy-data', 'skipped'], ['static-content-deploy', where === 'deploy' ? 'succeeded' : 'skipped'], ['deploy-hook', 'succeeded'], ['switch-release', 'succeeded']),
    })),
    postDeployAndVerify: stub('postDeployAndVerify', () => ({ steps: timings(['post-deploy-hook', 'succeeded'], ['warm-up', 'succeeded'], ['health-check', 'succeeded']) })),
    restorePreviousRelease: stub('restorePreviousRelease', () => undefined),
    maintenanceOff: stub('maintenanceOff', () => ({ until: 2000 })),
    unpublishEnvironment: stub('unpublishEnvironment', () => undefined),
  };
  const connection = await NativeConnection.connect({ address });
  const bundle = await workflowBundle();
  const engineWorker = await Worker.create({
    connection,
    taskQueue,
    workflowBundle: bundle,
    activities: { ...engine, ...localHostActivities(s.otherHost ? 'elsewhere' : host, hostActivities as never) },
  });
  const hostWorker = await Worker.create({ connection, taskQueue: hostTaskQueue(host), activities: hostActivities });
  const input: DeploymentInput = {
    project: 'stub',
    environment: 'integration',
    number: 2,
    branch: 'integration',
    commit: 'c'.repeat(40),
    host,
    source: s.source ?? { kind: 'commit' },
    mode: 'update',
    liveRelease: 'd000001',
  };
  let outcome: { ok: true; result: unknown } | { ok: false; failure: StepFailureDetails | undefined; message: string };
  let progress: DeploymentProgress | undefined;
  await Promise.all([engineWorker.run(), hostWorker.run(), (async () => {
    try {
      const handle = await client.temporal.workflow.start(deploymentWorkflow, { taskQueue, workflowId, args: [input] });
      try {
        outcome = { ok: true, result: await handle.result() };
      } catch (err) {
        const cause = err instanceof WorkflowFailedError && err.cause instanceof ApplicationFailure ? err.cause : undefined;
        outcome = { ok: false, failure: cause?.details?.[0] as StepFailureDetails | undefined, message: cause?.message ?? String(err) };
      }
      progress = await handle.query(deploymentProgressQuery);
    } finally {
      engineWorker.shutdown();
      hostWorker.shutdown();
    }
  })()]);
  await connection.close();
  const history = JSON.stringify((await client.temporal.workflow.getHandle(workflowId).fetchHistory()).events ?? []);
  return { calls, phases, outcome: outcome!, progress: progress!, history, steps: progress!.steps.map((x) => `${x.step}:${x.status}`) };
}

describe('the deployment plan runner, with stub activities', function () {
  it('a cold build: every group once, in order, each step reported as the activity timed it', async function () {
    const r = await runWithStubs({});
    assert.deepEqual(r.calls, ['prepareBuild', 'buildSlug', 'stageRelease', 'deployAndSwitch', 'postDeployAndVerify']);
    assert.ok(r.outcome.ok);
    assert.deepEqual(r.outcome.ok && r.outcome.result, { status: 'succeeded', deployment: 2, commit: 'c'.repeat(40), treeId: 't1', slug: 's1', slugReused: false, release: 'd000002', maintenanceMs: 40, crons: [] });
    assert.deepEqual(r.steps, [
      'checkout:succeeded', 'validate:succeeded', 'patches:succeeded', 'build-hook:succeeded', 'static-content-build:succeeded', 'store-slug:succeeded',
      'stage-release:succeeded', 'provision-services:succeeded', 'start-application:succeeded', 'snapshot-data:skipped', 'copy-data:skipped', 'static-content-deploy:skipped', 'deploy-hook:succeeded', 'switch-release:succeeded',
      'post-deploy-hook:succeeded', 'warm-up:succeeded', 'health-check:succeeded',
    ]);
    assert.equal(r.progress.phase, 'succeeded');
  });

  it('a slug built before: no build group, its steps skipped', async function () {
    const r = await runWithStubs({ reused: true });
    assert.deepEqual(r.calls, ['prepareBuild', 'stageRelease', 'deployAndSwitch', 'postDeployAndVerify']);
    assert.deepEqual(r.steps.slice(0, 6), ['checkout:skipped', 'validate:skipped', 'patches:skipped', 'build-hook:skipped', 'static-content-build:skipped', 'store-slug:skipped']);
  });

  it('a stored slug (promotion, redeploy, rollback): its manifest loaded, nothing built', async function () {
    const r = await runWithStubs({ source: { kind: 'slug', slug: 's9', treeId: 't9', reason: 'promotion', from: 1 } });
    assert.deepEqual(r.calls, ['loadSlugManifest', 'stageRelease', 'deployAndSwitch', 'postDeployAndVerify']);
    assert.ok(r.outcome.ok && (r.outcome.result as { slug: string; slugReused: boolean }).slug === 's9');
    assert.deepEqual(r.steps.slice(0, 6), ['checkout:skipped', 'validate:skipped', 'patches:skipped', 'build-hook:skipped', 'static-content-build:skipped', 'store-slug:skipped']);
  });

  it('static content at deploy time: reported inside the maintenance window group', async function () {
    const r = await runWithStubs({ where: 'deploy' });
    assert.deepEqual(r.calls, ['prepareBuild', 'buildSlug', 'stageRelease', 'deployAndSwitch', 'postDeployAndVerify']);
    assert.ok(r.steps.includes('static-content-build:skipped'));
    assert.deepEqual(r.steps.slice(6, 14), [
      'stage-release:succeeded',
      'provision-services:succeeded',
      'start-application:succeeded',
      'snapshot-data:skipped',
      'copy-data:skipped',
      'static-content-deploy:succeeded',
      'deploy-hook:succeeded',
      'switch-release:succeeded',
    ]);
  });

  it("another host: the engine's local attempt is refused, the step runs on the host's queue", async function () {
    const r = await runWithStubs({ otherHost: true });
    assert.ok(r.outcome.ok);
    assert.deepEqual(r.calls, ['prepareBuild', 'buildSlug', 'stageRelease', 'deployAndSwitch', 'postDeployAndVerify']);
    assert.ok(r.history.includes(NOT_THIS_HOST), 'the local attempt refused, recorded in the history');
    assert.match(r.history, /"activityType":\{"name":"stageRelease"\}/, 'then scheduled on the host queue');
  });

  it('services are provisioned in the build phase: the phase becomes deploy with the maintenance window', async function () {
    // On another host every host group is an activity of its own, so the stubs can ask the running workflow.
    const r = await runWithStubs({ otherHost: true, watchPhase: true });
    assert.ok(r.outcome.ok);
    assert.deepEqual(r.phases, ['stageRelease:build', 'deployAndSwitch:deploy', 'postDeployAndVerify:deploy']);
  });

  describe('a failure at each group, and its compensation', function () {
    const cases: { activity: string; step: StepFailureDetails['step']; undone: string[]; compensation?: string }[] = [
      { activity: 'prepareBuild', step: 'validate', undone: [] },
      { activity: 'buildSlug', step: 'build-hook', undone: [] },
      { activity: 'stageRelease', step: 'stage-release', undone: [] },
      { activity: 'deployAndSwitch', step: 'deploy-hook', undone: ['maintenanceOff'], compensation: 'maintenance off' },
      { activity: 'deployAndSwitch', step: 'switch-release', undone: ['restorePreviousRelease', 'maintenanceOff'], compensation: 'restored d000001; maintenance off' },
      { activity: 'postDeployAndVerify', step: 'health-check', undone: ['restorePreviousRelease'], compensation: 'restored d000001' },
    ];
    for (const c of cases) {
      it(`${c.activity} failing at ${c.step}: ${c.undone.length > 0 ? c.undone.join(', ') : 'nothing live to undo'}`, async function () {
        const r = await runWithStubs({ fail: { activity: c.activity, error: () => stepFailure(c.step, `${c.step} broke`) } });
        assert.ok(!r.outcome.ok);
        const order = ['prepareBuild', 'buildSlug', 'stageRelease', 'deployAndSwitch', 'postDeployAndVerify'];
        assert.deepEqual(r.calls, [...order.slice(0, order.indexOf(c.activity) + 1), ...c.undone]);
        assert.equal(r.outcome.failure?.step, c.step);
        assert.equal(r.outcome.failure?.compensation, c.compensation);
        assert.ok(r.steps.includes(`${c.step}:failed`), r.steps.join(' '));
        assert.equal(r.progress.phase, 'failed');
      });
    }

    it('a failure that names no step inside the maintenance window (a timeout, a lost call) restores and switches maintenance off', async function () {
      const r = await runWithStubs({ fail: { activity: 'deployAndSwitch', error: () => ApplicationFailure.create({ message: 'lost', type: 'Lost', nonRetryable: true }) } });
      assert.ok(!r.outcome.ok);
      assert.deepEqual(r.calls.slice(-3), ['deployAndSwitch', 'restorePreviousRelease', 'maintenanceOff']);
      assert.equal(r.outcome.failure?.compensation, 'restored d000001; maintenance off');
    });
  });
});
