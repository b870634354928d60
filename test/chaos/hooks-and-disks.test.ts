/**
 * A hook that hangs, and a release directory that cannot be written:
 * - the worker killed under a hanging hook: the hook's sandbox dies with its worker (nothing
 *   is left running), the heartbeat timeout notices, and the next attempt cleans up what the
 *   dead attempt left before it runs the hook again;
 * - `slipway env cancel` stops the running deployment cleanly: every process of its hook is
 *   gone, maintenance is off and the previous release is served;
 * - an unwritable and a full release directory: the deployment fails cleanly, naming why,
 *   and the previous release is served.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { fetchFromRouter } from '../../src/router/fetch';
import { runSlipway, waitUntil } from '../harness/processes';
import { clone, commitAndPush, sampleAppYaml, sampleVariant, uniqueName } from '../harness/world';
import { startChaosStack, type ChaosStack } from './harness';

const SAMPLE_APP = sampleAppYaml();

/**
 * The sample's app file with a deploy hook that records each run in its mount (the only place
 * outside its sandbox it can write), starts a child, and hangs; both sleeps carry a marker.
 */
function hangingDeploy(marker: string): string {
  return SAMPLE_APP.replace(/^ {2}deploy: \|\n/m, () => `  deploy: |\n    mkdir -p var && echo run >> var/hook-runs\n    sleep ${marker} &\n    sleep ${marker}\n`);
}

function runs(file: string): number {
  return fs.existsSync(file) ? fs.readFileSync(file, 'utf8').trim().split('\n').filter(Boolean).length : 0;
}

/** The host's processes running the hook's marked sleeps. */
function hookProcesses(marker: string): number[] {
  try {
    return execFileSync('pgrep', ['-f', `^sleep ${marker}$`], { encoding: 'utf8' }).trim().split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

describe('chaos: hanging hooks and unwritable disks', function () {
  let stack: ChaosStack;
  before(async function () {
    stack = await startChaosStack('hooks');
  });
  after(async function () {
    await stack?.stop();
  });

  async function page(project: string): Promise<{ status: number; body: string; release?: string }> {
    const r = await fetchFromRouter(stack.routerPort, `integration.${project}.localhost`);
    return { status: r.status, body: r.body, release: r.headers['x-slipway-release'] as string | undefined };
  }

  async function deployedProject(prefix: string): Promise<{ project: string; repo: Awaited<ReturnType<typeof clone>> }> {
    const project = (await stack.client.createProject({ project: uniqueName(prefix), from: sampleVariant() })).project;
    assert.equal((await stack.client.waitForDeployment(project, 'integration')).status, 'succeeded');
    return { project, repo: await clone(stack.layout.remote(project), 'integration') };
  }

  it('a hanging hook: its worker killed, its sandbox dies with it and the retry cleans up; env cancel stops it cleanly', async function () {
    this.timeout(4 * 60_000);
    const { client, layout } = stack;
    const { project, repo } = await deployedProject('hang');
    const before = await page(project);
    assert.equal(before.status, 200);
    const marker = `6${process.pid % 1000}1.25`;
    const runsFile = path.join(layout.mount(project, 'integration', 'var'), 'hook-runs');
    const commit = await commitAndPush(repo, 'integration', { '.magento.app.yaml': hangingDeploy(marker) });
    await waitUntil(() => runs(runsFile) === 1, 60_000, 'the deploy hook started');
    await waitUntil(() => hookProcesses(marker).length >= 2, 10_000, 'the hook and its child run');

    // The worker dies under the hook: the hook's sandbox dies with it, nothing is left running.
    await stack.worker.kill9();
    await waitUntil(() => hookProcesses(marker).length === 0, 10_000, "the dead worker's hook processes are gone");
    await stack.worker.start();
    await waitUntil(() => runs(runsFile) === 2, 60_000, 'the deploy hook was retried after the heartbeat timeout');
    await waitUntil(() => hookProcesses(marker).length >= 2, 10_000, 'the retried hook and its child run');
    const running = (await client.environmentStatus(project, 'integration')).running;
    assert.equal(running?.commit, commit);
    assert.equal((await page(project)).status, 503, 'in maintenance while the deploy hook runs');

    const cancel = await runSlipway(['env', 'cancel', project, 'integration'], stack.cliEnv);
    assert.equal(cancel.code, 0, cancel.stderr);
    assert.match(cancel.stderr, new RegExp(`deployment #${running.deployment} cancelled; ${before.release} \\(deployment #1\\) is served`));
    assert.deepEqual(hookProcesses(marker), [], "every process of the cancelled hook is gone");
    const after = await page(project);
    assert.equal(after.status, 200);
    assert.equal(after.release, before.release, 'the previous release is served');
    assert.ok(!fs.existsSync(layout.maintenanceFlag(project, 'integration')), 'maintenance is off');
    const status = await client.environmentStatus(project, 'integration');
    assert.equal(status.deployments.find((d) => d.deployment === running.deployment)?.status, 'cancelled');
    assert.equal(status.running, undefined);
    const log = client.deploymentLog(project, 'integration', running.deployment);
    assert.match(log, /(stopped the deploy-hook left running by|cleaned up the sandbox of the deploy-hook's) earlier attempt/);
    assert.match(log, /cancelled: stopping the hook and every process it started/);

    const nothing = await runSlipway(['env', 'cancel', project, 'integration'], stack.cliEnv);
    assert.equal(nothing.code, 1);
    assert.match(nothing.stderr, /nothing to cancel: no deployment of .* is running/);
  });

  it('an unwritable release directory: the deployment fails cleanly, the previous release is served', async function () {
    const { client, layout } = stack;
    const { project, repo } = await deployedProject('readonly');
    const before = await page(project);
    const releases = layout.releases(project, 'integration');
    // Root ignores permissions: make the directory immutable instead.
    const root = process.getuid?.() === 0;
    if (root) execFileSync('chattr', ['+i', releases]);
    else fs.chmodSync(releases, 0o555);
    try {
      const commit = await commitAndPush(repo, 'integration', { 'content/headline.txt': 'Never served\n' });
      const d = await client.waitForDeployment(project, 'integration', { commit });
      assert.equal(d.status, 'failed');
      assert.equal(d.failedStep, 'stage-release');
      assert.match(d.error ?? '', /cannot stage release d000002: (EPERM|EACCES)/);
    } finally {
      if (root) execFileSync('chattr', ['-i', releases]);
      else fs.chmodSync(releases, 0o755);
    }
    const after = await page(project);
    assert.equal(after.status, 200);
    assert.equal(after.release, before.release);
    assert.ok(!fs.existsSync(layout.maintenanceFlag(project, 'integration')));
    assert.deepEqual(fs.readdirSync(releases).filter((f) => f.startsWith('d000002')), [], 'nothing half-written is left');
  });

  it('a full release directory: the deployment fails cleanly; once space is freed the next one succeeds', async function () {
    const { client, layout } = stack;
    const project = uniqueName('full');
    const envDir = layout.environment(project, 'integration');
    fs.mkdirSync(envDir, { recursive: true });
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', envDir], { stdio: 'ignore' });
    } catch {
      console.log('      skipped: mounting a small tmpfs needs CAP_SYS_ADMIN (root on this machine kind)');
      this.skip();
    }
    try {
      await client.createProject({ project, from: sampleVariant() });
      assert.equal((await client.waitForDeployment(project, 'integration')).status, 'succeeded');
      const repo = await clone(layout.remote(project), 'integration');
      const before = await page(project);
      // Fill the disk.
      const ballast = path.join(envDir, 'ballast');
      const block = Buffer.alloc(64 * 1024, 1);
      const fd = fs.openSync(ballast, 'w');
      try {
        for (;;) fs.writeSync(fd, block);
      } catch (err) {
        assert.equal((err as NodeJS.ErrnoException).code, 'ENOSPC');
      } finally {
        fs.closeSync(fd);
      }
      const commit = await commitAndPush(repo, 'integration', { 'content/headline.txt': 'Disk full\n' });
      const d = await client.waitForDeployment(project, 'integration', { commit });
      assert.equal(d.status, 'failed');
      assert.equal(d.failedStep, 'stage-release');
      assert.match(d.error ?? '', /ENOSPC/);
      const after = await page(project);
      assert.equal(after.status, 200);
      assert.equal(after.release, before.release);
      assert.ok(!fs.existsSync(layout.maintenanceFlag(project, 'integration')));

      fs.rmSync(ballast);
      const again = await commitAndPush(repo, 'integration', { 'content/headline.txt': 'Space again\n' });
      const ok = await client.waitForDeployment(project, 'integration', { commit: again });
      assert.equal(ok.status, 'succeeded', ok.error);
      assert.match((await page(project)).body, /Space again/);
    } finally {
      execFileSync('umount', ['-l', envDir]);
    }
  });
});
