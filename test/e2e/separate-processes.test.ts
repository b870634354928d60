/**
 * The production-like processes against a Temporal server that nothing prepared: a second,
 * bare dev server (no search attributes), and `slipway setup`, `slipway worker` and `slipway
 * api` as separate processes started at once (they race to register the search attributes).
 * Then `project create` works, and a push to the remote reaches the engine through the API
 * the hook learns of from the data directory; with the API stopped, through Temporal at the
 * real address.
 */
import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { SlipwayClient } from '../../src/client';
import { Layout, readRuntimeInfo } from '../../src/home';
import { stopAllRuntimes } from '../../src/runtime/environment-runtime';
import { freePort, startDevServer, type RunningDevServer } from '../../src/temporal/dev-server';
import { Connection } from '@temporalio/client';
import { runSlipway, spawnSlipway, type Spawned } from '../harness/processes';
import { sampleVariant, tempDir, uniqueName } from '../harness/world';

const run = promisify(execFile);

/** The test's environment without TEMPORAL_ADDRESS: what the CLI and hooks find is the data directory's. */
function envWithout(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env = { ...process.env, ...extra };
  if (!('TEMPORAL_ADDRESS' in extra)) delete env.TEMPORAL_ADDRESS;
  return env;
}

describe('worker, API and setup as separate processes on a bare Temporal server', function () {
  // A second dev server, an engine worker and an API started from scratch, then three deployments.
  this.timeout(300_000);
  let server: RunningDevServer | undefined;
  let home: string;
  const spawned: Spawned[] = [];
  let client: SlipwayClient | undefined;

  before(async function () {
    home = tempDir('separate');
    server = await startDevServer({ ui: false, searchAttributes: false, logFile: path.join(home, 'temporal.log') });
  });

  after(async function () {
    await client?.close();
    for (const p of spawned) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGTERM');
    await Promise.all(spawned.map((p) => p.exited));
    if (home) await stopAllRuntimes(new Layout(home));
    await server?.stop();
  });

  it('setup, worker and api started at once register the search attributes; project create and pushes work', async function () {
    const address = server!.address;
    const layout = new Layout(home);
    // Bare: none of Slipway's search attributes, as on a fresh cluster.
    const conn = await Connection.connect({ address });
    const before = await conn.operatorService.listSearchAttributes({ namespace: 'default' });
    await conn.close();
    assert.ok(!('SlipwayProject' in (before.customAttributes ?? {})), 'the second dev server starts without the attributes');

    const withAddress = envWithout({ TEMPORAL_ADDRESS: address });
    // Before any of Slipway's processes prepared it, project create says what to do.
    const early = await runSlipway(['--home', home, 'project', 'create', uniqueName('early'), '--from', sampleVariant(), '--no-wait'], withAddress);
    assert.equal(early.code, 1, early.stderr);
    // The server names the first unknown attribute of the start request, whichever it is.
    assert.match(early.stderr, /has not been prepared for Slipway .*no mapping defined for search attribute Slipway[A-Za-z]+.*: run `slipway setup` once/);

    const routerPort = await freePort();
    const apiPort = await freePort();
    const worker = spawnSlipway(['--home', home, 'worker', '--host', 'local', '--router-port', String(routerPort)], withAddress);
    const api = spawnSlipway(['--home', home, 'api', '--port', String(apiPort), '--listen', '0.0.0.0'], withAddress);
    spawned.push(worker, api);
    const setup = await runSlipway(['--home', home, 'setup'], withAddress);
    assert.equal(setup.code, 0, setup.stderr);
    assert.match(setup.stdout, new RegExp(`Temporal at ${address}: namespace default exists`));
    assert.match(setup.stdout, /Setup done/);
    await worker.waitFor(/Worker for host local and the engine is running/, 180_000);
    await api.waitFor(/API on http:\/\/127\.0\.0\.1:\d+/, 180_000);
    assert.doesNotMatch(worker.output() + api.output(), /already exists|cannot register/);

    // A second setup finds everything there.
    const again = await runSlipway(['--home', home, 'setup'], withAddress);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /Search attributes: all 6 were registered already/);

    // The API published its address (127.0.0.1 for 0.0.0.0) and the Temporal server's.
    const info = readRuntimeInfo(layout);
    assert.equal(info?.apiUrl, `http://127.0.0.1:${apiPort}`);
    assert.equal(info?.temporalAddress, address);
    assert.equal(fs.readFileSync(layout.apiUrlFile, 'utf8').trim(), `http://127.0.0.1:${apiPort}`);
    assert.equal(fs.readFileSync(layout.temporalAddressFile, 'utf8').trim(), address);

    // project create, from the CLI without TEMPORAL_ADDRESS: the data directory says where Temporal is.
    const project = uniqueName('sep');
    const created = await runSlipway(['--home', home, 'project', 'create', project, '--from', sampleVariant()], envWithout());
    assert.equal(created.code, 0, created.stderr);
    assert.equal(created.stdout.split('\n')[0], layout.remote(project));
    assert.match(created.stderr, new RegExp(`HTTP remote: http://127\\.0\\.0\\.1:${apiPort}/git/${project}\\.git`));
    assert.match(created.stderr, /integration deployed \(#1/);

    client = await SlipwayClient.connect({ layout, address });
    // A push by file path: the hook posts to the API it found in the data directory.
    const clone = tempDir('sep-clone');
    await run('git', ['clone', '-q', '-b', 'integration', layout.remote(project), clone], { env: envWithout() });
    await run('git', ['-c', 'user.name=T', '-c', 'user.email=t@example.invalid', 'commit', '-q', '--allow-empty', '-m', 'through the API'], { cwd: clone });
    const first = (await run('git', ['rev-parse', 'HEAD'], { cwd: clone })).stdout.trim();
    const pushed = await run('git', ['push', 'origin', 'integration'], { cwd: clone, env: envWithout() });
    assert.match(pushed.stderr, /remote: Slipway: integration updated/);
    const d2 = await client.waitForDeployment(project, 'integration', { commit: first, after: 1 });
    assert.equal(d2.status, 'succeeded', d2.error);

    // The API stopped: its address is removed; the hook's fallback reaches the real Temporal server.
    api.child.kill('SIGTERM');
    await api.exited;
    assert.ok(!fs.existsSync(layout.runtimeFile), 'runtime.json removed when the API stops');
    assert.ok(!fs.existsSync(layout.apiUrlFile), 'api-url removed when the API stops');
    await run('git', ['-c', 'user.name=T', '-c', 'user.email=t@example.invalid', 'commit', '-q', '--allow-empty', '-m', 'through Temporal'], { cwd: clone });
    const second = (await run('git', ['rev-parse', 'HEAD'], { cwd: clone })).stdout.trim();
    const fallback = await run('git', ['push', 'origin', 'integration'], { cwd: clone, env: envWithout() });
    assert.match(fallback.stderr, /remote: Slipway: integration updated/);
    assert.doesNotMatch(fallback.stderr, /was not told/);
    const d3 = await client.waitForDeployment(project, 'integration', { commit: second, after: d2.deployment });
    assert.equal(d3.status, 'succeeded', d3.error);
  });

  it('a namespace that does not exist is named, with how to create it', async function () {
    const { ensureSearchAttributes } = await import('../../src/temporal/search-attributes');
    await assert.rejects(ensureSearchAttributes(server!.address, 'no-such-namespace'), /has no namespace "no-such-namespace": create it first/);
  });
});
