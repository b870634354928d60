/**
 * `slipway up`: starts its own Temporal dev server, worker and router; Ctrl-C stops all of it,
 * with no process left behind; the SQLite state survives a restart.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { Connection } from '@temporalio/client';
import { freePort } from '../../src/temporal/dev-server';
import { Layout, readRuntimeInfo } from '../../src/home';
import { runtimeStatus, stopAllRuntimes } from '../../src/runtime/environment-runtime';
import { fetchFromRouter } from '../../src/router/fetch';
import { processGroupMembers, runSlipway, spawnSlipway, waitUntil } from '../harness/processes';
import { tempDir } from '../harness/world';

/** A page of the web interface answers: 200, or 303 to its sign-in page for a visitor. */
async function assertUiAnswers(url: string): Promise<void> {
  const res = await fetch(url, { redirect: 'manual' });
  if (res.status === 303) assert.match(res.headers.get('location') ?? '', /^(http:\/\/127\.0\.0\.1:\d+)?\/ui\/sign-in/, url);
  else assert.equal(res.status, 200, `${url}: HTTP ${res.status}`);
}

async function upArgs(): Promise<string[]> {
  return ['up', '--port', String(await freePort()), '--ui-port', String(await freePort()), '--api-port', String(await freePort()), '--ssh-port', String(await freePort()), '--router-port', String(await freePort())];
}

describe('slipway up', function () {
  const home = tempDir('up');
  const env: NodeJS.ProcessEnv = { ...process.env, SLIPWAY_HOME: home };
  delete env.TEMPORAL_ADDRESS;
  after(async () => {
    await stopAllRuntimes(new Layout(home));
    fs.rmSync(home, { recursive: true, force: true });
  });

  it('Ctrl-C (SIGINT to its process group) stops server, worker and router with no process left', async function () {
    const args = await upArgs();
    const up = spawnSlipway(args, env);
    await up.waitFor(/Slipway is up/);
    const pgid = up.child.pid!;
    const members = processGroupMembers(pgid);
    assert.ok(members.length >= 2, `expected slipway and the Temporal dev server in group ${pgid}, got ${members.join(',')}`);
    assert.ok(fs.existsSync(new Layout(home).runtimeFile), 'runtime.json written for git hooks and the CLI');

    // The project made now must still be there after a restart (SQLite file in SLIPWAY_HOME).
    const created = await runSlipway(['project', 'create', 'persisted'], env);
    assert.equal(created.code, 0, created.stderr);
    assert.equal(created.stdout.trim(), path.join(home, 'git', 'persisted.git'));

    process.kill(-pgid, 'SIGINT');
    const exit = await up.exited;
    assert.equal(exit.code, 0, up.output());
    await waitUntil(() => processGroupMembers(pgid).length === 0, 15_000, `group ${pgid} is empty`);
    assert.ok(!fs.existsSync(new Layout(home).runtimeFile), 'runtime.json removed on stop');
    assert.ok(fs.existsSync(path.join(home, 'temporal.db')), 'Temporal state kept in the data directory');
    // The environment's processes are not the stack's: they keep running, outside its group.
    const running = runtimeStatus({ layout: new Layout(home), project: 'persisted', environment: 'integration' });
    assert.ok(running.application.processes.every((p) => p.running), JSON.stringify(running));
  });

  it('keeps its state across a restart, and SIGINT to slipway alone also leaves nothing behind', async function () {
    const args = await upArgs();
    const routerPort = Number(args[args.length - 1]);
    const up = spawnSlipway(args, env);
    await up.waitFor(/Slipway is up/);
    const pgid = up.child.pid!;

    const status = await runSlipway(['env', 'status', 'persisted', 'integration', '--json'], env);
    assert.equal(status.code, 0, status.stderr);
    const parsed = JSON.parse(status.stdout) as { current?: { deployment: number } };
    assert.equal(parsed.current?.deployment, 1);
    const page = await fetchFromRouter(routerPort, 'integration.persisted.localhost');
    assert.equal(page.status, 200);
    assert.match(page.body, /Luma Sample Store/);

    process.kill(pgid, 'SIGINT');
    const exit = await up.exited;
    assert.equal(exit.code, 0, up.output());
    await waitUntil(() => processGroupMembers(pgid).length === 0, 15_000, `group ${pgid} is empty`);

    // `slipway down` stops the environments' processes, data kept.
    const ref = { layout: new Layout(home), project: 'persisted', environment: 'integration' };
    const down = await runSlipway(['down'], env);
    assert.equal(down.code, 0, down.stderr);
    assert.match(down.stdout, /^[1-9]\d* process group\(s\) stopped; the environments' data is kept\.$/m);
    const after = runtimeStatus(ref);
    assert.ok(after.application.processes.every((p) => !p.running) && after.services.every((s) => s.state !== 'running'), JSON.stringify(after));
    assert.ok(fs.existsSync(path.join(ref.layout.environment('persisted', 'integration'), 'services', 'mysql', 'data')));
  });

  it('with every port 0 picks free ports, prints them, and each printed one answers', async function () {
    const freeHome = tempDir('up-free');
    const up = spawnSlipway(['up', '--port', '0', '--ui-port', '0', '--router-port', '0', '--api-port', '0', '--ssh-port', '0'], { ...env, SLIPWAY_HOME: freeHome });
    try {
      await up.waitFor(/Slipway is up/);
      const out = up.output();
      const printed = (re: RegExp): number => {
        const n = Number(re.exec(out)?.[1]);
        assert.ok(Number.isInteger(n) && n > 0, `${re} in:\n${out}`);
        return n;
      };
      const temporalPort = printed(/Temporal: dev server at 127\.0\.0\.1:(\d+)/);
      const uiPort = printed(/Web UI http:\/\/127\.0\.0\.1:(\d+)/);
      const routerPort = printed(/Router: http:\/\/<environment>\.<project>\.localhost:(\d+)\//);
      const apiPort = printed(/API: http:\/\/127\.0\.0\.1:(\d+)/);
      assert.equal(new Set([temporalPort, uiPort, routerPort, apiPort]).size, 4, out);
      const conn = await Connection.connect({ address: `127.0.0.1:${temporalPort}` });
      try {
        await conn.workflowService.describeNamespace({ namespace: 'default' });
      } finally {
        await conn.close();
      }
      assert.equal((await fetch(`http://127.0.0.1:${uiPort}/`)).status, 200, 'the Temporal UI');
      assert.equal((await fetch(`http://127.0.0.1:${apiPort}/openapi.json`)).status, 200, 'the API');
      // The web interface's URL, served by the API: it answers (a visitor is sent to sign in).
      const webUi = /^Web interface: (http:\/\/127\.0\.0\.1:(\d+)\/ui) \(sign in with an API token, e\.g\. slipway-dev-alice\)$/m.exec(out);
      assert.ok(webUi, out);
      assert.equal(Number(webUi[2]), apiPort);
      await assertUiAnswers(webUi[1]!);
      assert.ok((await fetchFromRouter(routerPort, 'integration.nothing.localhost')).status > 0, 'the router answers');
      assert.equal(readRuntimeInfo(new Layout(freeHome))?.routerPort, routerPort);
    } finally {
      // Not when it ended already: the failure to report is its own (its output), not ESRCH.
      if (up.child.exitCode === null && up.child.signalCode === null) process.kill(up.child.pid!, 'SIGINT');
      assert.equal((await up.exited).code, 0, up.output());
      fs.rmSync(freeHome, { recursive: true, force: true });
    }
  });

  it('a port in use: one line naming it and its option, no stack, exit 1', async function () {
    const busy = net.createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    const taken = (busy.address() as net.AddressInfo).port;
    try {
      for (const option of ['--router-port', '--port', '--api-port']) {
        const args = (await upArgs()).flatMap((a, i, all) => (all[i - 1] === option ? [String(taken)] : [a]));
        const r = await runSlipway(args, env);
        assert.equal(r.code, 1, r.stdout + r.stderr);
        const lines = r.stderr.trim().split('\n');
        assert.equal(lines.length, 1, r.stderr);
        assert.match(lines[0]!, new RegExp(`^slipway: port ${taken} \\(${option}\\) is in use`));
        assert.doesNotMatch(r.stdout + r.stderr, /\n\s+at /, 'no stack trace');
      }
    } finally {
      busy.close();
    }
  });

  it('exits 2 with a clear message on bad usage', async function () {
    const r = await runSlipway(['up', '--port', 'seventy'], env);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--port.*must be a port number/);
  });
});

describe('slipway up with TEMPORAL_ADDRESS', function () {
  it('connects to that server and starts none', async function () {
    const home = tempDir('up-ext');
    const address = process.env.SLIPWAY_TEST_TEMPORAL_ADDRESS!;
    const routerPort = await freePort();
    const up = spawnSlipway(['up', '--router-port', String(routerPort), '--api-port', String(await freePort()), '--ssh-port', String(await freePort())], { ...process.env, SLIPWAY_HOME: home, TEMPORAL_ADDRESS: address });
    try {
      await up.waitFor(/Slipway is up/);
      assert.match(up.output(), /using the server at 127\.0\.0\.1:\d+ \(TEMPORAL_ADDRESS\); no server started/);
      // No Temporal UI of its own, and the web interface all the same.
      const webUi = /^Web interface: (http:\/\/127\.0\.0\.1:\d+\/ui) \(sign in with an API token, e\.g\. slipway-dev-alice\)$/m.exec(up.output());
      assert.ok(webUi, up.output());
      await assertUiAnswers(webUi[1]!);
      // Besides slipway itself, only the edge (nginx on the router's port) runs in its process group.
      const others = processGroupMembers(up.child.pid!).filter((pid) => pid !== up.child.pid);
      const names = others.map((pid) => fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim());
      assert.deepEqual([...new Set(names)], others.length > 0 ? ['nginx'] : [], 'no Temporal child process');
      assert.equal(readRuntimeInfo(new Layout(home))?.temporalAddress, address);
    } finally {
      // Not when it ended already: the failure to report is its own (its output), not ESRCH.
      if (up.child.exitCode === null && up.child.signalCode === null) process.kill(up.child.pid!, 'SIGINT');
      assert.equal((await up.exited).code, 0, up.output());
      await stopAllRuntimes(new Layout(home));
      fs.rmSync(home, { recursive: true, force: true });
    }
  });
});

describe('slipway demo', function () {
  it('creates the sample store, pushes, promotes through staging and production, and prints each step', async function () {
    const env: NodeJS.ProcessEnv = { ...process.env };
    delete env.TEMPORAL_ADDRESS;
    const run = spawnSlipway(['demo'], env);
    // The web interface answers while the demo runs, at the URL the stack prints as it starts.
    await run.waitFor(/^Web interface: http:\/\/127\.0\.0\.1:\d+\/ui \(sign in/m, 120_000);
    const started = /^Web interface: (http:\/\/127\.0\.0\.1:\d+)\/ui \(sign in/m.exec(run.output())!;
    const apiUrl = started[1]!;
    await assertUiAnswers(`${apiUrl}/ui`);
    await assertUiAnswers(`${apiUrl}/ui/projects/sample`);
    await assertUiAnswers(`${apiUrl}/ui/support`);
    const exit = await run.exited;
    const demo = { code: exit.code, stdout: run.output(), stderr: '' };
    assert.equal(demo.code, 0, demo.stdout + demo.stderr);
    assert.match(demo.stdout, /Page title: {2}Luma Sample Store \(HTTP 200\)/);
    assert.match(demo.stdout, /Promote to staging: alice opened SUP-1\./);
    assert.match(demo.stdout, /sam approves SUP-1: approved/);
    assert.match(demo.stdout, /sue approves SUP-2: approved/);
    const slugs = [...demo.stdout.matchAll(/runs slug (\w+) \(no build\), HTTP 200/g)].map((m) => m[1]);
    assert.equal(slugs.length, 2);
    assert.equal(slugs[0], slugs[1], 'staging and production run the same slug');
    assert.match(demo.stdout, /master \(Global Master\) updated to [0-9a-f]{12}/);
    assert.match(demo.stdout, /Temporal UI: http:\/\/127\.0\.0\.1:\d+\/namespaces\/default\/workflows\?query=/);
    // The products each environment's PHP read from its own MariaDB: integration, staging, production.
    const listed = (re: RegExp): string[] => {
      const m = re.exec(demo.stdout);
      assert.ok(m, `${re} in:\n${demo.stdout}`);
      const products = m[1]!.split(', ');
      for (const p of products) assert.match(p, /^\S.* \(\d+\.\d{2}\)$/, `a product "Name (price)" in ${m[0]}`);
      return products;
    };
    const integration = listed(/^Products: {4}(.+) \(PHP, from the environment's MariaDB; HTTP 200, cache (?:hit|miss)\)$/m);
    const staging = listed(/^ {2}staging products: (.+) \(its own MariaDB; HTTP 200\)$/m);
    const production = listed(/^ {2}production products: (.+) \(its own MariaDB; HTTP 200\)$/m);
    assert.ok(integration.length > 0);
    assert.deepEqual(staging, integration, 'staging lists the sample store\'s products');
    assert.deepEqual(production, integration, 'production lists the sample store\'s products');
    // The project page and the support console, on the API that ran the demo.
    assert.match(demo.stdout, new RegExp(`^Web interface: ${apiUrl.replace(/\./g, '\\.')}/ui/projects/sample \\(sign in with slipway-dev-alice\\)$`, 'm'));
    assert.match(demo.stdout, new RegExp(`^Support console: ${apiUrl.replace(/\./g, '\\.')}/ui/support \\(sign in with slipway-dev-sam\\)$`, 'm'));
  });
});
