/**
 * Production and staging on dedicated hosts (issue 19, point 4; seed 004): three web hosts,
 * each a real `slipway worker --host webN --no-engine` with its own data directory and router,
 * advertised in a shared registry, and a front router (`slipway router --front`) in front of
 * them. Integration on the shared host web1, staging on web2, production on web2 and web3.
 */
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import { fetchFromRouter } from '../../src/router/fetch';
import { freePort } from '../../src/temporal/dev-server';
import * as path from 'node:path';
import { Layout, PACKAGE_ROOT } from '../../src/home';
import { workflowIds } from '../../src/domain/names';
import { fetchHistoryJson, replayHistoryJson } from '../../src/replay';
import { stopAllRuntimes } from '../../src/runtime/environment-runtime';
import type { DeploymentRecord } from '../../src/domain/environment';
import { spawnSlipway, type Spawned } from '../harness/processes';
import { clone, commitAndPush, getWorld, sampleVariant, tempDir, uniqueName } from '../harness/world';

const HOSTS = ['web1', 'web2', 'web3'] as const;
type Host = (typeof HOSTS)[number];
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * A live history replays against the current code; with SLIPWAY_RECORD_HISTORIES=1 it is kept
 * (once, never overwritten) under test/histories, which the replay test replays every time.
 */
async function replaysAndIsKept(workflowId: string, name: string): Promise<void> {
  const { client } = await getWorld();
  const json = await fetchHistoryJson(client.temporal, workflowId);
  const outcome = await replayHistoryJson(json, workflowId, workflowId);
  assert.ok(outcome.ok, `${workflowId}: ${outcome.error}`);
  const file = path.join(PACKAGE_ROOT, 'test', 'histories', name);
  if (process.env.SLIPWAY_RECORD_HISTORIES === '1' && !fs.existsSync(file)) fs.writeFileSync(file, `${JSON.stringify(JSON.parse(json), null, 1)}\n`);
}

/** One GET with a Host header; never rejects: a failure is a status of 0 with the error. */
function get(port: number, host: string, timeoutMs = 10_000): Promise<{ status: number; release?: string; servedBy?: string; error?: string; body?: string }> {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/', headers: { host: `${host}:${port}` }, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          release: res.headers['x-slipway-release'] as string | undefined,
          servedBy: res.headers['x-slipway-host'] as string | undefined,
          body: body.slice(0, 500),
        }),
      );
      res.on('error', (err) => resolve({ status: 0, error: err.message }));
    });
    req.on('error', (err) => resolve({ status: 0, error: err.message }));
    req.setTimeout(timeoutMs, () => req.destroy(new Error('timed out')));
  });
}

describe('production and staging on dedicated hosts', function () {
  const workers = new Map<Host, Spawned>();
  const homes = {} as Record<Host, string>;
  const ports = {} as Record<Host, number>;
  let registry = '';
  let front: Spawned | undefined;
  let frontPort = 0;
  let project = '';
  let remote = '';
  const immutable: string[] = [];

  before(async function () {
    const { layout, address } = await getWorld();
    registry = tempDir('registry');
    for (const host of HOSTS) {
      homes[host] = tempDir(host);
      ports[host] = await freePort();
      const w = spawnSlipway(
        ['--home', homes[host], 'worker', '--host', host, '--no-engine', '--slugs', layout.slugs(), '--router-port', String(ports[host]), '--registry', registry],
        { ...process.env, TEMPORAL_ADDRESS: address },
      );
      workers.set(host, w);
    }
    for (const [host, w] of workers) await w.waitFor(new RegExp(`Worker for host ${host} is running .*advertised in`));
    frontPort = await freePort();
    front = spawnSlipway(['router', '--front', '--registry', registry, '--port', String(frontPort)], process.env);
    await front.waitFor(/Front router on :\d+ for 3 host\(s\)/);
  });

  after(async function () {
    for (const dir of immutable) execFileSync('chattr', ['-i', dir]);
    const all = [...workers.values(), ...(front ? [front] : [])];
    for (const p of all) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGTERM');
    await Promise.all(all.map((p) => p.exited));
    // The environments' processes outlive workers by design: stopped with the hosts' data directories.
    for (const host of HOSTS) await stopAllRuntimes(new Layout(homes[host]));
  });

  const promote = async (target: 'staging' | 'production'): Promise<{ status: string; error?: string }> => {
    const { client } = await getWorld();
    const p = await client.promote(project, target, 'alice');
    await client.decide(project, p.ticket, { user: 'sam', decision: 'approve' });
    return client.waitForPromotion(p.workflowId);
  };
  const releasesOn = (host: Host, environment: string): string[] => {
    const dir = new Layout(homes[host]).releases(project, environment);
    return fs.existsSync(dir) ? fs.readdirSync(dir).filter((d) => /^d\d+$/.test(d)).sort() : [];
  };
  /** The release a host's router serves, or what it answered instead of 200. */
  const servedOn = async (host: Host, environment: string): Promise<string | undefined> => {
    const r = await fetchFromRouter(ports[host], `${environment}.${project}.localhost`);
    return r.status === 200 ? (r.headers['x-slipway-release'] as string | undefined) : `${r.status}: ${r.body.slice(0, 300)}`;
  };
  const lastRecord = async (environment: string): Promise<DeploymentRecord> => {
    const { client } = await getWorld();
    return (await client.environmentStatus(project, environment)).deployments.at(-1)!;
  };

  it('integration lands on the shared host, staging and production on their dedicated ones, production on both of its hosts', async function () {
    const { client, layout } = await getWorld();
    const info = await client.createProject({
      project: uniqueName('hosts'),
      from: sampleVariant(),
      hosts: { integration: ['web1'], staging: ['web2'], production: ['web2', 'web3'] },
    });
    project = info.project;
    remote = info.remote;
    assert.deepEqual(info.hosts, { integration: ['web1'], staging: ['web2'], production: ['web2', 'web3'] });
    assert.deepEqual(info.environments.find((e) => e.name === 'production')?.hosts, ['web2', 'web3']);
    const first = await client.waitForDeployment(project, 'integration');
    assert.equal(first.status, 'succeeded', first.error);
    assert.deepEqual(releasesOn('web1', 'integration'), ['d000001']);
    for (const host of ['web2', 'web3'] as const) assert.deepEqual(releasesOn(host, 'integration'), [], `${host} has no integration release`);
    assert.ok(!fs.existsSync(layout.releases(project, 'integration')), 'the engine host has none');

    // A branch of integration runs on integration's (shared) host.
    const branch = await client.branch(project, { name: 'feature-x' });
    assert.equal(branch.host, 'web1');
    assert.deepEqual(branch.hosts, ['web1']);
    const f = await client.waitForDeployment(project, 'feature-x');
    assert.equal(f.status, 'succeeded', f.error);
    assert.equal(releasesOn('web1', 'feature-x').length, 1);

    const staged = await promote('staging');
    assert.equal(staged.status, 'deployed', staged.error);
    assert.equal(releasesOn('web2', 'staging').length, 1);
    for (const host of ['web1', 'web3'] as const) assert.deepEqual(releasesOn(host, 'staging'), [], `${host} has no staging release`);

    const produced = await promote('production');
    assert.equal(produced.status, 'deployed', produced.error);
    const live = (await client.environmentStatus(project, 'production')).current!;
    assert.deepEqual((await client.environmentStatus(project, 'production')).hosts, ['web2', 'web3']);
    for (const host of ['web2', 'web3'] as const) {
      assert.deepEqual(releasesOn(host, 'production'), [live.release], `${host} has production's release`);
      assert.equal(await servedOn(host, 'production'), live.release, `${host} serves it`);
    }
    assert.deepEqual(releasesOn('web1', 'production'), []);

    // Which host did what: each staged and switched; the deploy and post-deploy hooks ran once, on web2.
    const progress = await client.deploymentProgress(project, 'production', live.deployment);
    const did = (step: string, status = 'succeeded'): string[] =>
      progress.steps.filter((s) => s.step === step && s.status === status).map((s) => s.host ?? '?').sort();
    assert.deepEqual(did('stage-release'), ['web2', 'web3']);
    assert.deepEqual(did('switch-release'), ['web2', 'web3']);
    assert.deepEqual(did('health-check'), ['web2', 'web3']);
    assert.deepEqual(did('deploy-hook'), ['web2']);
    assert.deepEqual(did('deploy-hook', 'skipped'), ['web3']);
    assert.deepEqual(did('post-deploy-hook'), ['web2']);
    // Each host's half of the deployment is in its own data directory.
    const web2Log = fs.readFileSync(new Layout(homes.web2).deployLog({ project, environment: 'production', number: live.deployment }), 'utf8');
    assert.match(web2Log, /\[deploy-hook\] started/);
    const web3Log = fs.readFileSync(new Layout(homes.web3).deployLog({ project, environment: 'production', number: live.deployment }), 'utf8');
    assert.match(web3Log, /\[deploy-hook\] skipped: runs once for the environment, on host web2/);

    await replaysAndIsKept(workflowIds.deployment(project, 'production', live.deployment), 'deployment-on-two-hosts.json');
    await replaysAndIsKept(workflowIds.project(project), 'project-with-hosts.json');

    // Through the front router: served by the hosts that serve it, and only those.
    const seen = new Set<string>();
    for (let i = 0; i < 8; i++) {
      const r = await get(frontPort, `production.${project}.localhost`);
      assert.equal(r.status, 200, `request ${i} through the front router: ${r.error ?? r.body}`);
      assert.equal(r.release, live.release);
      seen.add(r.servedBy ?? '?');
    }
    assert.deepEqual([...seen].sort(), ['web2', 'web3']);
    const integration = await get(frontPort, `integration.${project}.localhost`);
    assert.equal(integration.status, 200, integration.error ?? integration.body);
    assert.equal(integration.servedBy, 'web1');
  });

  it('switches production on both hosts or on neither: a host that cannot switch has the other switched back, one that cannot stage has none switch', async function () {
    const { client } = await getWorld();
    assert.ok(project, 'the first test made the project');
    const before = (await client.environmentStatus(project, 'production')).current!;
    const repo = await clone(remote, 'integration');
    const commit = await commitAndPush(repo, 'integration', { 'pub/all-or-none.txt': 'new release\n' }, 'a release production will not get');
    const d = await client.waitForDeployment(project, 'integration', { commit });
    assert.equal(d.status, 'succeeded', d.error);
    assert.equal((await promote('staging')).status, 'deployed');

    // web3 cannot switch: its production directory takes no new entry (no maintenance flag, no link).
    const dir = new Layout(homes.web3).environment(project, 'production');
    execFileSync('chattr', ['+i', dir]);
    immutable.push(dir);
    const failed = await promote('production');
    execFileSync('chattr', ['-i', dir]);
    immutable.pop();
    assert.notEqual(failed.status, 'deployed');
    const record = await lastRecord('production');
    assert.equal(record.status, 'failed');
    assert.match(record.error ?? '', /step "switch-release" failed on host web3/);
    assert.match(record.error ?? '', /web2: .*restored/);
    // web2 had switched (its stage and switch succeeded), and was switched back; neither serves the new release.
    const progress = await client.deploymentProgress(project, 'production', record.deployment);
    assert.ok(progress.steps.some((s) => s.step === 'switch-release' && s.host === 'web2' && s.status === 'succeeded'), 'web2 switched first');
    assert.ok(progress.steps.some((s) => s.step === 'restore-previous' && s.host === 'web2' && s.status === 'succeeded'), 'web2 was switched back');
    for (const host of ['web2', 'web3'] as const) assert.equal(await servedOn(host, 'production'), before.release, `${host} serves the previous release`);
    assert.equal((await client.environmentStatus(project, 'production')).current?.release, before.release);
    await replaysAndIsKept(workflowIds.deployment(project, 'production', record.deployment), 'deployment-on-two-hosts-switched-back.json');
    await replaysAndIsKept(workflowIds.environment(project, 'production'), 'environment-on-two-hosts.json');

    // web3 cannot stage (its releases directory takes no new release): no host switches.
    const releases = new Layout(homes.web3).releases(project, 'production');
    execFileSync('chattr', ['+i', releases]);
    immutable.push(releases);
    const unstaged = await promote('production');
    execFileSync('chattr', ['-i', releases]);
    immutable.pop();
    assert.notEqual(unstaged.status, 'deployed');
    const stageRecord = await lastRecord('production');
    assert.match(stageRecord.error ?? '', /step "stage-release" failed on host web3/);
    const staged = await client.deploymentProgress(project, 'production', stageRecord.deployment);
    assert.ok(!staged.steps.some((s) => s.step === 'switch-release' && s.status === 'succeeded'), 'no host switched');
    for (const host of ['web2', 'web3'] as const) assert.equal(await servedOn(host, 'production'), before.release, `${host} serves the previous release`);

    // Once both can, both switch: the new release on each.
    const done = await promote('production');
    assert.equal(done.status, 'deployed', done.error);
    const now = (await client.environmentStatus(project, 'production')).current!;
    assert.notEqual(now.release, before.release);
    for (const host of ['web2', 'web3'] as const) assert.equal(await servedOn(host, 'production'), now.release, `${host} serves the new release`);
  });

  it('loses no request beyond those in flight when a production host is killed under load', async function () {
    assert.ok(project, 'the first test made the project');
    const host = `production.${project}.localhost`;
    const results: Array<{ at: number; status: number; servedBy?: string; error?: string }> = [];
    let inFlight = 0;
    let stop = false;
    const loop = async (): Promise<void> => {
      while (!stop) {
        inFlight++;
        const r = await get(frontPort, host);
        inFlight--;
        results.push({ at: Date.now(), ...r });
      }
    };
    const loops = Array.from({ length: 6 }, () => loop());
    await sleep(3000);
    const killedAt = Date.now();
    const inFlightAtKill = inFlight;
    // The host is lost: its worker and router (its process group: the edge's nginx too), then
    // its environments' processes (web server, PHP), as a power cut would take them.
    const web3 = workers.get('web3')!;
    process.kill(-web3.child.pid!, 'SIGKILL');
    await stopAllRuntimes(new Layout(homes.web3));
    await sleep(5000);
    stop = true;
    await Promise.all(loops);
    const beforeKill = results.filter((r) => r.at < killedAt);
    const afterKill = results.filter((r) => r.at >= killedAt);
    const failures = results.filter((r) => r.status !== 200);
    const lateFromWeb3 = afterKill.filter((r) => r.at > killedAt + 2000 && r.servedBy === 'web3');
    console.log(
      `    load through the front router: ${results.length} requests (${beforeKill.length} before the kill, ${afterKill.length} after), ` +
        `${inFlightAtKill} in flight at the kill, ${failures.length} failed${failures.length ? ` (${failures.map((f) => f.error ?? f.status).join(', ')})` : ''}; ` +
        `before: web2 ${beforeKill.filter((r) => r.servedBy === 'web2').length}, web3 ${beforeKill.filter((r) => r.servedBy === 'web3').length}`,
    );
    assert.ok(beforeKill.some((r) => r.servedBy === 'web3') && beforeKill.some((r) => r.servedBy === 'web2'), 'both hosts served before the kill');
    assert.ok(failures.length <= inFlightAtKill, `${failures.length} requests failed, more than the ${inFlightAtKill} in flight at the kill`);
    assert.ok(afterKill.filter((r) => r.status === 200).length > 20, 'the other host went on serving');
    assert.deepEqual(lateFromWeb3, [], 'nothing is sent to the dead host');
  });
});
