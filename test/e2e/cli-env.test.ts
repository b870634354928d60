/** `slipway env log|redeploy|rollback|status` as a user runs them, against the harness's engine. */
import { strict as assert } from 'node:assert';
import { runSlipway } from '../harness/processes';
import { deployedProject } from '../harness/world';

describe('slipway env commands', function () {
  it('log, redeploy, rollback --to and status', async function () {
    const p = await deployedProject('cli');
    const env: NodeJS.ProcessEnv = { ...process.env, SLIPWAY_HOME: p.layout.home };
    delete env.TEMPORAL_ADDRESS;

    const log = await runSlipway(['env', 'log', p.project, 'integration'], env);
    assert.equal(log.code, 0, log.stderr);
    assert.match(log.stdout, /\[health-check\] succeeded in \d+ ms/);

    const redeploy = await runSlipway(['env', 'redeploy', p.project, 'integration'], env);
    assert.equal(redeploy.code, 0, redeploy.stderr);
    assert.match(redeploy.stderr, /deployment #2 of [0-9a-f]{12} is live \(slug \w+, no build\)/);

    const rollback = await runSlipway(['env', 'rollback', p.project, 'integration', '--to', '1'], env);
    assert.equal(rollback.code, 0, rollback.stderr);
    assert.match(rollback.stderr, /deployment #3 .* is live/);

    const refused = await runSlipway(['env', 'rollback', p.project, 'integration', '--to', '3'], env);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /slipway: refused: deployment 3 is the current release already/);

    const usage = await runSlipway(['env', 'rollback', p.project, 'integration', '--to', 'yesterday'], env);
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /--to.*must be a deployment number/);

    const status = await runSlipway(['env', 'status', p.project, 'integration', '--json'], env);
    assert.equal(status.code, 0, status.stderr);
    const s = JSON.parse(status.stdout) as { current: { deployment: number }; deployments: Array<{ reason: string }> };
    assert.equal(s.current.deployment, 3);
    assert.deepEqual(s.deployments.map((d) => d.reason), ['push', 'redeploy', 'rollback']);

    const unknown = await runSlipway(['env', 'status', p.project, 'nowhere'], env);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /no environment nowhere in project/);
  });
});
