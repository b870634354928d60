/** The deployment's declared plan: which groups, in which order, on which queue, undone how. */
import { strict as assert } from 'node:assert';
import { BUILD_STEP_NAMES, planBuild, planDeploy, undosToRun } from '../../src/domain/deployment-plan';

const scd = (where: 'build' | 'deploy' | 'none') => ({ staticContent: { where, reason: '', themes: [], locales: ['en_US'], buildThreads: 1, deployThreads: 1 } });
const shape = (groups: ReturnType<typeof planDeploy>) => groups.map((g) => `${g.activity}@${g.queue}${g.local ? ':local' : ''}${g.long ? ':long' : ''}[${g.steps.join(',')}]`);

describe('the deployment plan', function () {
  it('builds a commit: checkout, validation and patches locally, then the build proper only when the slug is not built', function () {
    const groups = planBuild({ commit: 'c'.repeat(40), source: { kind: 'commit' } });
    assert.deepEqual(shape(groups), ['prepareBuild@engine:local[checkout,validate,patches]', 'buildSlug@engine:long[build-hook,static-content-build,store-slug]']);
    assert.equal(groups[1]!.onlyIfNotBuilt, true);
    assert.ok(groups.every((g) => g.phase === 'build' && g.undo === undefined), 'the build changes nothing live');
  });

  it('builds nothing for a stored slug: every build step is skipped', function () {
    const [load, ...rest] = planBuild({ commit: 'c', source: { kind: 'slug', slug: 's', treeId: 't', reason: 'rollback', from: 1 } });
    assert.equal(rest.length, 0);
    assert.equal(load!.activity, 'loadSlugManifest');
    assert.deepEqual(load!.skips, ['checkout', 'validate', 'patches', 'build-hook', 'static-content-build', 'store-slug']);
  });

  it('deploys: stage locally on the host, then the maintenance window and the checks on its queue', function () {
    assert.deepEqual(shape(planDeploy({ number: 3, mode: 'update' }, scd('build'))), [
      'stageRelease@host:local[stage-release,provision-services,start-application]',
      'deployAndSwitch@host:long[deploy-hook,switch-release]',
      'postDeployAndVerify@host:long[post-deploy-hook,warm-up,health-check]',
    ]);
    const [, window] = planDeploy({ number: 3, mode: 'update' }, scd('build'));
    assert.deepEqual(window!.skips, ['snapshot-data', 'copy-data', 'static-content-deploy']);
  });

  it('provisions services at the end of the build phase, on the host, before maintenance; the deploy phase starts with the window', function () {
    const groups = planDeploy({ number: 3, mode: 'update' }, scd('build'));
    assert.deepEqual(groups.map((g) => `${g.activity}:${g.phase}`), ['stageRelease:build', 'deployAndSwitch:deploy', 'postDeployAndVerify:deploy']);
    assert.equal(groups[0]!.queue, 'host', "on the environment's host, not the engine where the build hook ran");
    assert.equal(groups[0]!.undo, undefined, 'nothing live changes: the site still serves the previous release');
    // The build steps a stored slug skips stay the build proper: provisioning still runs on a promotion or redeploy.
    assert.ok(!BUILD_STEP_NAMES.includes('provision-services') && !BUILD_STEP_NAMES.includes('start-application'));
    const multi = planDeploy({ number: 4, mode: 'update', hosts: ['web2', 'web3'] }, scd('build'));
    assert.deepEqual(multi.map((g) => g.phase), ['build', 'deploy', 'deploy', 'deploy', 'deploy']);
    // Histories recorded before the services-in-build-phase patch: the group reported as the deploy phase.
    assert.deepEqual(planDeploy({ number: 3, mode: 'update' }, scd('build'), { servicesInBuild: false }).map((g) => g.phase), ['deploy', 'deploy', 'deploy']);
    assert.ok(planDeploy({ number: 4, mode: 'update', hosts: ['web2', 'web3'] }, scd('build'), { servicesInBuild: false }).every((g) => g.phase === 'deploy'));
  });

  it('snapshots staging and production first when they declare data, and copies data when the deployment brings some', function () {
    const data = { ...scd('build'), services: { mysql: { kind: 'mysql' } }, mounts: {} } as unknown as Parameters<typeof planDeploy>[1];
    const [, staging] = planDeploy({ number: 3, mode: 'update', environment: 'staging', data: { kind: 'environment', from: 'production' } }, data);
    assert.deepEqual(staging!.steps, ['snapshot-data', 'copy-data', 'deploy-hook', 'switch-release']);
    assert.deepEqual(staging!.skips, ['static-content-deploy']);
    const [, integration] = planDeploy({ number: 3, mode: 'update', environment: 'integration' }, data);
    assert.deepEqual(integration!.steps, ['deploy-hook', 'switch-release']);
    const [, bare] = planDeploy({ number: 3, mode: 'update', environment: 'production' }, { ...scd('build'), services: {}, mounts: {} });
    assert.deepEqual(bare!.skips, ['snapshot-data', 'copy-data', 'static-content-deploy'], 'no database and no mount: nothing to snapshot');
    const stack = staging!.undo!;
    assert.deepEqual(undosToRun(stack, 'snapshot-data').map((u) => u.step), ['maintenance-off']);
    assert.deepEqual(undosToRun(stack, 'copy-data').map((u) => u.step), ['maintenance-off']);
  });

  it('puts static content deployed at deploy time inside the maintenance window group', function () {
    const [, window] = planDeploy({ number: 3, mode: 'install' }, scd('deploy'));
    assert.deepEqual(window!.steps, ['static-content-deploy', 'deploy-hook', 'switch-release']);
    assert.deepEqual(window!.skips, ['snapshot-data', 'copy-data']);
    assert.match(window!.summary, /deploy static content, run hooks\.deploy \(install\), switch current to d000003/);
  });

  it('undoes the window: maintenance off while it runs, the release restored unless the failure came before the switch', function () {
    const [, window] = planDeploy({ number: 3, mode: 'update' }, scd('build'));
    const stack = window!.undo!;
    assert.deepEqual(undosToRun(stack, undefined).map((u) => u.step), ['restore-previous', 'maintenance-off']);
    assert.deepEqual(undosToRun(stack, 'deploy-hook').map((u) => u.step), ['maintenance-off']);
    assert.deepEqual(undosToRun(stack, 'static-content-deploy').map((u) => u.step), ['maintenance-off']);
    assert.deepEqual(undosToRun(stack, 'switch-release').map((u) => u.step), ['restore-previous', 'maintenance-off']);
    // Once the window closed, only the restore stays on the stack (the runner drops the rest).
    const afterWindow = stack.filter((u) => !u.whileRunning);
    assert.deepEqual(undosToRun(afterWindow, 'health-check').map((u) => u.step), ['restore-previous']);
  });

  it('deploys on several hosts: each stages, the first runs the hooks once and switches, then each other switches; each undoes its own switch', function () {
    const groups = planDeploy({ number: 4, mode: 'update', hosts: ['web2', 'web3'] }, scd('build'));
    assert.deepEqual(
      groups.map((g) => `${shape([g])[0]}@${(g.hosts ?? []).join('+')}${g.onceOn ? `(once on ${g.onceOn})` : ''}`),
      [
        'stageRelease@host[stage-release,provision-services,start-application]@web2+web3',
        'deployAndSwitch@host:long[deploy-hook,switch-release]@web2',
        'deployAndSwitch@host:long[switch-release]@web3(once on web2)',
        'postDeployAndVerify@host:long[post-deploy-hook,warm-up,health-check]@web2',
        'postDeployAndVerify@host:long[warm-up,health-check]@web3(once on web2)',
      ],
    );
    assert.deepEqual(groups[2]!.skips, ['snapshot-data', 'copy-data', 'deploy-hook', 'static-content-deploy']);
    assert.deepEqual(groups[2]!.undo?.map((u) => `${u.step}@${u.host}`), ['maintenance-off@web3', 'restore-previous@web3']);
    // One host in the list: the plan of one host, unchanged.
    assert.deepEqual(shape(planDeploy({ number: 4, mode: 'update', hosts: ['web2'] }, scd('build'))), shape(planDeploy({ number: 4, mode: 'update' }, scd('build'))));
  });
});
