/**
 * Hosts fail loudly, and the environment is never stuck (issue 19, point 3). A web host
 * (`slipway worker --host web2 --no-engine`, its own data directory, the engine's slug and log
 * stores shared with it) serves a project whose host steps may wait 5 s for it. Its worker is
 * killed with SIGKILL: the next deployment fails within the timeout saying that web2 did not
 * take the step, the environment takes the next one, `env status` (CLI and API) says web2 is
 * not answering, and once web2 runs again a redeploy succeeds. The deployment's log, through
 * `env log` and the API, has both halves: the engine's build lines, then web2's.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { workflowIds } from '../../src/domain/names';
import { Layout, PACKAGE_ROOT } from '../../src/home';
import { fetchHistoryJson, replayHistoryJson } from '../../src/replay';
import { stopAllRuntimes } from '../../src/runtime/environment-runtime';
import { freePort } from '../../src/temporal/dev-server';
import { minimalApp } from '../fixtures/app-yaml';
import { runSlipway, spawnSlipway, type Spawned } from '../harness/processes';
import { clone, commitAndPush, getWorld, sampleVariant, tempDir, uniqueName } from '../harness/world';

const ADA = 'slipway-dev-ada';
const START_TIMEOUT = 5;

async function api(path: string): Promise<{ status: number; json: Record<string, unknown>; text: string }> {
  const res = await fetch(`${process.env.SLIPWAY_TEST_API_URL}${path}`, { headers: { authorization: `Bearer ${ADA}` } });
  const text = await res.text();
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    /* text */
  }
  return { status: res.status, json, text };
}

async function eventually<T>(what: string, get: () => Promise<T>, ok: (x: T) => boolean, timeoutMs = 90_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const x = await get();
    if (ok(x)) return x;
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}; last: ${JSON.stringify(x)}`);
    await new Promise((r) => setTimeout(r, 1000));
  }
}

describe('a web host that fails', function () {
  const workers: Spawned[] = [];
  const homesUsed: string[] = [];
  after(async () => {
    for (const w of workers) if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGTERM');
    await Promise.all(workers.map((w) => w.exited));
    for (const home of homesUsed) await stopAllRuntimes(new Layout(home));
  });

  it('fails the next deployment within the timeout, names the dead host and leaves the environment usable; the log has both hosts\' halves', async function () {
    const { client, layout, address } = await getWorld();
    const home = tempDir('web2');
    homesUsed.push(home);
    const env = { ...process.env, TEMPORAL_ADDRESS: address };
    // A fresh router port at each start: the machine is shared, a port left free may be taken meanwhile.
    const startWeb2 = async (): Promise<Spawned> => {
      const port = await freePort();
      const w = spawnSlipway(['--home', home, 'worker', '--host', 'web2', '--no-engine', '--slugs', layout.slugs(), '--logs', layout.logs(), '--router-port', String(port)], env);
      workers.push(w);
      await w.waitFor(/Worker for host web2 is running/);
      return w;
    };
    const web2 = await startWeb2();
    const project = uniqueName('dead-host');
    await client.createProject({ project, from: sampleVariant(), host: 'web2', hostStartTimeout: START_TIMEOUT });
    const first = await client.waitForDeployment(project, 'integration');
    assert.equal(first.status, 'succeeded', first.error);
    const web2Layout = new Layout(home);
    const current = (): string => fs.readlinkSync(web2Layout.current(project, 'integration'));
    const live = current();

    // Both halves of the log, in order, through the client, the CLI and the API: the engine's
    // build lines unlabelled, then web2's labelled.
    const log = client.deploymentLog(project, 'integration', 1);
    for (const step of ['checkout', 'validate', 'build-hook', 'store-slug']) assert.match(log, new RegExp(`^\\S+ \\[${step}\\] started`, 'm'), `${step} by the engine in\n${log}`);
    for (const step of ['stage-release', 'deploy-hook', 'switch-release', 'post-deploy-hook', 'health-check']) {
      assert.match(log, new RegExp(`^\\S+ web2 \\[${step}\\] started`, 'm'), `${step} by web2 in\n${log}`);
    }
    const lines = log.trimEnd().split('\n');
    const lastEngine = lines.map((l) => /^\S+ \[store-slug\]/.test(l)).lastIndexOf(true);
    const firstWeb2 = lines.findIndex((l) => /^\S+ web2 \[/.test(l));
    assert.ok(lastEngine >= 0 && firstWeb2 > lastEngine, `the build half, then web2's half:\n${log}`);
    assert.ok(!fs.existsSync(web2Layout.deployLog({ project, environment: 'integration', number: 1 })), "nothing in web2's own data directory");
    const cliEnv = { ...process.env, SLIPWAY_HOME: layout.home, TEMPORAL_ADDRESS: address };
    const cliLog = await runSlipway(['env', 'log', project, 'integration', '1'], cliEnv);
    assert.equal(cliLog.code, 0, cliLog.stderr);
    assert.match(cliLog.stdout, /^\S+ \[build-hook\] started/m);
    assert.match(cliLog.stdout, /^\S+ web2 \[deploy-hook\] started/m);
    const apiLog = await api(`/v1/projects/${project}/environments/integration/deployments/1/log`);
    assert.equal(apiLog.status, 200, apiLog.text);
    assert.match(apiLog.text, /\[build-hook\] started/);
    assert.match(apiLog.text, /web2 \[deploy-hook\] started/);

    // web2 is live: its supervisor heartbeats.
    const liveStatus = await eventually('web2 is live', () => client.environmentStatus(project, 'integration', { host: true }), (s) => s.hostLiveness?.state === 'live');
    assert.match(liveStatus.hostLiveness!.summary, /^web2: live \(heartbeat \d+ s ago\)$/);

    // SIGKILL: no goodbye to the server. The next deployment's host step is never taken.
    web2.child.kill('SIGKILL');
    await web2.exited;
    const started = Date.now();
    const { deployment } = await client.redeploy(project, 'integration');
    assert.equal(deployment, 2);
    const failed = await client.waitForDeployment(project, 'integration', { after: 1, timeoutMs: 120_000 });
    const took = (Date.now() - started) / 1000;
    assert.equal(failed.status, 'failed');
    assert.match(failed.error ?? '', new RegExp(`host web2 did not take the step in ${START_TIMEOUT} s \\(activity stageRelease\\)`));
    assert.match(failed.error ?? '', /step "stage-release" failed/);
    assert.ok(took < START_TIMEOUT + 30, `failed after ${took} s`);
    assert.equal(current(), live, 'the release served before is still the current one on web2');

    // Not stuck: nothing running, and the status names the dead host (client, CLI, API).
    const dead = await eventually('web2 is not answering', () => client.environmentStatus(project, 'integration', { host: true }), (s) => s.hostLiveness?.state === 'not-answering');
    assert.equal(dead.running, undefined);
    assert.match(dead.hostLiveness!.summary, /^web2: not answering since \d{4}-\d\d-\d\dT/);
    const cliStatus = await runSlipway(['env', 'status', project, 'integration'], cliEnv);
    assert.equal(cliStatus.code, 0, cliStatus.stderr);
    assert.match(cliStatus.stdout, /running: +none/);
    assert.match(cliStatus.stdout, /host: +web2: not answering since/);
    assert.match(cliStatus.stdout, /#2 \S+ failed: .*host web2 did not take the step/);
    const apiStatus = await api(`/v1/projects/${project}/environments/integration`);
    assert.equal(apiStatus.status, 200, apiStatus.text);
    assert.equal((apiStatus.json.hostLiveness as { state: string }).state, 'not-answering');
    assert.equal(apiStatus.json.running, undefined);
    const hosts = await runSlipway(['hosts'], cliEnv);
    assert.equal(hosts.code, 0, hosts.stderr);
    assert.match(hosts.stdout, /^web2: not answering since/m);
    // A snapshot asked for meanwhile is refused the same way, and the environment goes on.
    await assert.rejects(client.snapshot(project, 'integration'), new RegExp(`host web2 did not take the step in ${START_TIMEOUT} s \\(activity snapshotEnvironment\\)`));

    // web2 back: the environment takes the next deployment, and it succeeds.
    await startWeb2();
    const again = await client.redeploy(project, 'integration');
    assert.equal(again.deployment, 3);
    const ok = await client.waitForDeployment(project, 'integration', { after: 2 });
    assert.equal(ok.status, 'succeeded', ok.error);
    await eventually('web2 is live again', () => client.hostLiveness('web2'), (h) => h.state === 'live');
  });

  it('says what could not be undone when the host dies during the deploy hook, and the environment recovers once it is back', async function () {
    const { client, layout, address } = await getWorld();
    const home = tempDir('web3');
    homesUsed.push(home);
    const env = { ...process.env, TEMPORAL_ADDRESS: address };
    // A fresh router port at each start: the machine is shared, a port left free may be taken meanwhile.
    const startWeb3 = async (): Promise<Spawned> => {
      const port = await freePort();
      const w = spawnSlipway(['--home', home, 'worker', '--host', 'web3', '--no-engine', '--slugs', layout.slugs(), '--logs', layout.logs(), '--router-port', String(port)], env);
      workers.push(w);
      await w.waitFor(/Worker for host web3 is running/);
      return w;
    };
    const web3 = await startWeb3();
    // The deploy hook hangs while the commit has a file HANG.
    const app = minimalApp({
      build: 'mkdir -p pub\necho "<html><body>$(cat content/headline.txt)</body></html>" > pub/index.html',
      deploy: 'if [ -f HANG ]; then echo hanging; sleep 60; fi',
    });
    const project = uniqueName('dying-host');
    const created = await client.createProject({ project, from: sampleVariant({ '.magento.app.yaml': app }), host: 'web3', hostStartTimeout: START_TIMEOUT });
    const first = await client.waitForDeployment(project, 'integration');
    assert.equal(first.status, 'succeeded', first.error);
    const web3Layout = new Layout(home);
    const live = fs.readlinkSync(web3Layout.current(project, 'integration'));

    const repo = await clone(created.remote, 'integration');
    await commitAndPush(repo, 'integration', { HANG: 'yes\n' }, 'hang the deploy hook');
    const logFile = layout.deployLog({ project, environment: 'integration', number: 2 });
    await eventually('the deploy hook hangs on web3', () => Promise.resolve(fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8') : ''), (l) => /web3 \[deploy-hook\] \| hanging/.test(l));
    web3.child.kill('SIGKILL');
    await web3.exited;
    // The attempt is lost after the heartbeat timeout (10 s); its retry waits 5 s for a worker of
    // web3; so do both undos. Nothing hangs.
    const failed = await client.waitForDeployment(project, 'integration', { after: 1, timeoutMs: 120_000 });
    assert.equal(failed.status, 'failed');
    assert.match(failed.error ?? '', /step "deploy-hook" failed: host web3 did not take the step in 5 s \(activity deployAndSwitch\)/);
    assert.match(failed.error ?? '', /\[could not restore d000001: host web3 did not take the step in 5 s \(activity restorePreviousRelease\)[^;]*; could not turn maintenance off: host web3 did not take the step in 5 s \(activity maintenanceOff\)/);
    const status = await client.environmentStatus(project, 'integration', { host: true });
    assert.equal(status.running, undefined);
    assert.equal(status.hostLiveness?.state, 'not-answering');
    assert.equal(fs.readlinkSync(web3Layout.current(project, 'integration')), live, 'web3 still has the release served before as its current one');
    // Its history replays; with SLIPWAY_RECORD_HISTORIES=1 it is kept (once) under test/histories.
    const id = workflowIds.deployment(project, 'integration', 2);
    const json = await fetchHistoryJson(client.temporal, id);
    const replayed = await replayHistoryJson(json, id, id);
    assert.ok(replayed.ok, `${id}: ${replayed.error}`);
    const file = path.join(PACKAGE_ROOT, 'test', 'histories', 'deployment-plan-host-gone.json');
    if (process.env.SLIPWAY_RECORD_HISTORIES === '1' && !fs.existsSync(file)) fs.writeFileSync(file, `${JSON.stringify(JSON.parse(json), null, 1)}\n`);

    // web3 back: a redeploy of the live release (no HANG) goes through and ends the maintenance.
    await startWeb3();
    await client.redeploy(project, 'integration');
    const ok = await client.waitForDeployment(project, 'integration', { after: 2 });
    assert.equal(ok.status, 'succeeded', ok.error);
    assert.ok(!fs.existsSync(web3Layout.maintenanceFlag(project, 'integration')), 'maintenance is off');
  });
});
