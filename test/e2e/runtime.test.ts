/**
 * Environments that really run (issue 16): the sample store as it is, with MariaDB and Redis
 * per environment in its own network namespace, nginx and PHP-FPM in the sandbox, reached
 * through the router. PHP executed behind passthru and never served as source; the app reads
 * and writes its own database; install then update from the database's state; the deploy hook
 * reaches both services; a crashed process is restarted and recorded in the environment's
 * history; deactivation stops everything and activation brings it back with the data; the
 * processes and data outlive `kill -9` of the worker that started them.
 */
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { Layout, PACKAGE_ROOT } from '../../src/home';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { workflowIds } from '../../src/domain/names';
import { fetchHistoryJson, replayHistoryJson } from '../../src/replay';
import { readWanted, runtimeStatus, stopAllRuntimes } from '../../src/runtime/environment-runtime';
import { appCgroupName } from '../../src/runtime/application';
import { environmentNetns, serviceCgroupName, servicePaths } from '../../src/runtime/services/environment';
import { freePort } from '../../src/temporal/dev-server';
import { sandboxServicePids } from '../../src/sandbox/sandbox';
import { sandboxIdentity } from '../../src/sandbox/identity';
import { SandboxCgroup } from '../../src/sandbox/cgroup';
import { fetchFromRouter } from '../../src/router/fetch';
import { supervisePass } from '../../src/activities/supervision';
import { spawnSlipway, type Spawned } from '../harness/processes';
import { commitAndPush, deployedProject, getPage, getWorld, sampleVariant, tempDir, uniqueName } from '../harness/world';

interface Answer {
  status: number;
  body: string;
  headers: http.IncomingHttpHeaders;
}

function request(opts: { port?: number; socketPath?: string; host: string; path: string; method?: string; form?: Record<string, string> }): Promise<Answer> {
  const body = opts.form ? new URLSearchParams(opts.form).toString() : undefined;
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        ...(opts.socketPath ? { socketPath: opts.socketPath } : { host: '127.0.0.1', port: opts.port }),
        path: opts.path,
        method: opts.method ?? 'GET',
        headers: { host: opts.host, ...(body ? { 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(body) } : {}) },
        agent: false,
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text, headers: res.headers }));
      },
    );
    req.on('error', reject);
    req.setTimeout(15_000, () => req.destroy(new Error('timed out')));
    req.end(body);
  });
}

const skus = (html: string): string[] => [...html.matchAll(/data-sku="([^"]+)"/g)].map((m) => m[1]!).sort();

async function waitUntil(predicate: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/**
 * Runs `fn` while this host's supervisor passes over its environments as often as it can (the
 * worker's own passes every few seconds, the window of a race being narrow).
 */
async function whileSupervising<T>(layout: Layout, fn: () => Promise<T>): Promise<T> {
  let supervising = true;
  const supervisor = (async (): Promise<number> => {
    let passes = 0;
    while (supervising) {
      await supervisePass({ layout }, 'local', new Map());
      passes++;
      await new Promise((r) => setTimeout(r, 5));
    }
    return passes;
  })();
  try {
    return await fn();
  } finally {
    supervising = false;
    assert.ok((await supervisor) > 0);
  }
}

/** Every pid of the environment's runtime (services and application), from their cgroups. */
function runtimePids(layout: Layout, project: string, environment: string): number[] {
  const prefix = `.${project}.${environment}.`;
  const pids = new Set<number>();
  for (const name of SandboxCgroup.list('')) {
    if (name.includes(prefix) && /\.(svc|app)-[a-z0-9_-]+$/.test(name)) for (const pid of sandboxServicePids(name)) pids.add(pid);
  }
  void layout;
  return [...pids].sort((a, b) => a - b);
}

describe('environments that run: nginx, PHP-FPM, MariaDB and Redis per environment', function () {
  this.timeout(300_000);

  it('executes PHP behind passthru, reads and writes its own database, installs then updates, and restarts what crashes', async function () {
    const redisCheck =
      'php -r \'$r = json_decode(base64_decode(getenv("MAGENTO_CLOUD_RELATIONSHIPS")), true)["redis"][0]; $x = new Redis(); $x->connect($r["host"], $r["port"]); $x->auth($r["password"]); echo "redis at ", $r["host"], ":", $r["port"], " says ", $x->ping("hello"), "\\n";\'';
    const p = await deployedProject('run', {}, { services: true });
    const { client, layout, project } = p;
    const ref = { layout, project, environment: 'integration' };
    const log1 = client.deploymentLog(project, 'integration', p.first.deployment);
    assert.match(log1, /\[provision-services\] mysql \(mysql:10\.6\) started in \d+ ms, listening on 127\.0\.0\.1:3306/);
    assert.match(log1, /\[provision-services\] redis \(redis:7\.2\) started in \d+ ms, listening on 127\.0\.0\.1:6379/);
    assert.match(log1, /\[deploy-hook\] deploy mode install: the database of service mysql has no application tables/);
    assert.match(log1, /\[deploy-hook\] \| deploy mode: install; schema at version 0/);
    assert.match(log1, /\[deploy-hook\] \| applied db\/migrations\/002-add-prices\.sql/);
    assert.match(log1, /\[start-application\] nginx and PHP-FPM started for d000001 in \d+ ms; it serves from the switch/);
    assert.match(log1, /\[switch-release\] the application of d000001 serves/);
    // No password of a service in the log; the PHP that runs is named.
    const password = fs.readFileSync(path.join(layout.home, 'secrets', 'services', project, 'integration', 'mysql.password'), 'utf8').trim();
    assert.doesNotMatch(log1, new RegExp(password));
    assert.match(log1, /\[start-application\] (PHP 8\.3\.\d+|type php:8\.3 is declared, and this host runs PHP [\d.]+ \(its Debian package\): the application runs on PHP [\d.]+)/);

    // PHP runs behind passthru, with the products from MariaDB, cached through Redis.
    const products = await getPage(project, 'integration', '/products');
    assert.equal(products.status, 200, products.body);
    assert.equal(skus(products.body).length, 3, products.body);
    assert.equal(products.headers['x-store-cache'], 'miss');
    assert.equal((await getPage(project, 'integration', '/products')).headers['x-store-cache'], 'hit');
    // A PHP file is executed or refused, never served as its source.
    for (const url of ['/index.php', '/index.php/products', '/../src/Store.php', '/bin/sitemap.php']) {
      const r = await getPage(project, 'integration', url);
      assert.doesNotMatch(r.body, /<\?php/, `${url} gave PHP source`);
    }
    assert.match((await getPage(project, 'integration', '/admin')).body, /integration/);

    // The app writes its database: a product added in the admin is listed.
    const { routerPort } = await getWorld();
    const added = await request({ port: routerPort, host: `integration.${project}.localhost`, path: '/admin/products', method: 'POST', form: { sku: 'MJ01', name: 'Beaumont Summit Kit', price: '42.00' } });
    assert.equal(added.status, 303, added.body);
    assert.deepEqual(skus((await getPage(project, 'integration', '/products')).body).includes('MJ01'), true);

    // The next deployment updates (the database has tables), and its deploy hook reaches Redis
    // too; a new web location takes effect with its switch.
    assert.notEqual((await getPage(project, 'integration', '/files/robots.txt')).status, 200);
    const yaml = fs
      .readFileSync(path.join(p.repo.dir, '.magento.app.yaml'), 'utf8')
      .replace('  deploy: |\n', `  deploy: |\n    ${redisCheck}\n`)
      .replace('web:\n  locations:\n', 'web:\n  locations:\n    "/files":\n      root: "files"\n      allow: true\n      passthru: false\n');
    assert.match(yaml, /"\/files":/);
    const c2 = await commitAndPush(p.repo, 'integration', {
      '.magento.app.yaml': yaml,
      'files/robots.txt': 'User-agent: *\n',
      'db/migrations/003-add-stock.sql': 'ALTER TABLE products ADD COLUMN stock INT NOT NULL DEFAULT 0;\n',
    });
    const d2 = await client.waitForDeployment(project, 'integration', { commit: c2, after: p.first.deployment });
    assert.equal(d2.status, 'succeeded', d2.error);
    const log2 = client.deploymentLog(project, 'integration', d2.deployment);
    assert.match(log2, /\[provision-services\] mysql \(mysql:10\.6\) running, adopted/);
    assert.match(log2, /\[deploy-hook\] \| redis at 127\.0\.0\.1:6379 says hello/);
    assert.match(log2, /\[deploy-hook\] \| deploy mode: update; schema at version 2/);
    assert.match(log2, /\[deploy-hook\] \| applied db\/migrations\/003-add-stock\.sql/);
    assert.ok(skus((await getPage(project, 'integration', '/products')).body).includes('MJ01'), 'the data is kept across deployments');
    assert.equal((await getPage(project, 'integration', '/files/robots.txt')).body, 'User-agent: *\n');

    // The store's cron runs in the sandbox with the environment's services: its sitemap lists the product added above.
    await client.temporal.schedule.getHandle(`cron/${project}/integration/sitemap`).trigger();
    const sitemap = path.join(layout.mount(project, 'integration', 'media'), 'sitemap.xml');
    await waitUntil(() => fs.existsSync(sitemap) && fs.readFileSync(sitemap, 'utf8').includes('products#MJ01'), 60_000, 'the sitemap cron wrote the products');
    assert.equal((await getPage(project, 'integration', '/media/sitemap.xml')).status, 200);

    // A second environment has its own database: a branch starts with a copy of its parent's
    // (data follows the hierarchy, issue 17), and what integration writes afterwards stays its own.
    const branched = await client.branch(project, { name: 'feature', parent: 'integration' });
    assert.equal(branched.status, 'active');
    const f1 = await client.waitForDeployment(project, 'feature');
    assert.equal(f1.status, 'succeeded', f1.error);
    const featureProducts = skus((await getPage(project, 'feature', '/products')).body);
    assert.equal(featureProducts.length, 4);
    assert.ok(featureProducts.includes('MJ01'), "branched with its parent's rows");
    assert.equal((await request({ port: routerPort, host: `integration.${project}.localhost`, path: '/admin/products', method: 'POST', form: { sku: 'MJ02', name: 'Later Jacket', price: '3.00' } })).status, 303);
    assert.ok(skus((await getPage(project, 'integration', '/products')).body).includes('MJ02'));
    assert.ok(!skus((await getPage(project, 'feature', '/products')).body).includes('MJ02'), "integration's later writes are not the branch's");

    // A crashed web server is restarted by the host's supervisor, and the environment's history says so.
    const nginx = SandboxCgroup.named(appCgroupName(ref, 'nginx', runtimeStatus(ref).application.release!))!;
    const before = nginx.pids();
    assert.ok(before.length > 0);
    nginx.killAll();
    await waitUntil(() => runtimeStatus(ref).application.processes.every((x) => x.running), 20_000, 'the supervisor restarted nginx');
    await waitUntil(async () => ((await client.environmentStatus(project, 'integration')).restarts ?? []).length > 0, 20_000, 'the restart is recorded');
    const status = await client.environmentStatus(project, 'integration');
    assert.match(status.restarts![0]!.process, /application \(nginx/);
    assert.equal((await getPage(project, 'integration', '/products')).status, 200);
    assert.deepEqual(
      status.runtime?.services.map((s) => `${s.name} ${s.state}`),
      ['mysql running', 'redis running'],
    );
    // The restart is in the environment's Temporal history; that run and the supervisor's replay
    // against the current code, and are kept among the stored histories (once, under the
    // versioning policy of docs/architecture.md).
    const envId = workflowIds.environment(project, 'integration');
    let withRestart: string | undefined;
    for await (const e of client.temporal.workflow.list({ query: `WorkflowId = "${envId}"` })) {
      const json = historyToJSON(await client.temporal.workflow.getHandle(envId, e.runId).fetchHistory());
      if (json.includes('runtimeRestarted')) withRestart = json;
    }
    assert.ok(withRestart, 'a run of the environment has the runtimeRestarted signal');
    const supervisorId = workflowIds.hostSupervisor('local');
    const kept: Record<string, [string, string]> = {
      'environment-runtime-restart.json': [envId, withRestart],
      'host-supervisor.json': [supervisorId, await fetchHistoryJson(client.temporal, supervisorId)],
    };
    for (const [file, [wid, json]] of Object.entries(kept)) {
      const outcome = await replayHistoryJson(json, wid, wid);
      assert.ok(outcome.ok, `${wid}: ${outcome.error}`);
      const stored = path.join(PACKAGE_ROOT, 'test', 'histories', file);
      if (process.env.SLIPWAY_RECORD_HISTORIES === '1' && !fs.existsSync(stored)) fs.writeFileSync(stored, `${JSON.stringify(JSON.parse(json), null, 1)}\n`);
    }
    // No service's password in any workflow history of the project (inputs, results, search
    // attributes, signals), nor in any log of its environments.
    const passwords = ['mysql', 'redis'].map((s) => fs.readFileSync(path.join(layout.home, 'secrets', 'services', project, 'integration', `${s}.password`), 'utf8').trim());
    let histories = 0;
    for await (const e of client.temporal.workflow.list({ query: `SlipwayProject = "${project}"` })) {
      const json = historyToJSON(await client.temporal.workflow.getHandle(e.workflowId, e.runId).fetchHistory());
      for (const secret of passwords) assert.ok(!json.includes(secret), `a password in the history of ${e.workflowId}`);
      histories++;
    }
    assert.ok(histories >= 3, `${histories} histories scanned`);
    for (const f of fs.readdirSync(layout.deployLogs(project, 'integration'), { recursive: true, withFileTypes: true }).filter((d) => d.isFile())) {
      const text = fs.readFileSync(path.join(f.parentPath, f.name), 'utf8');
      for (const secret of passwords) assert.ok(!text.includes(secret), `a password in ${f.name}`);
    }

    // Deactivated: every process stops, the data stays; activated: back, with the data.
    const featureRef = { layout, project, environment: 'feature' };
    const host = `feature.${project}.localhost`;
    assert.equal((await request({ port: routerPort, host, path: '/admin/products', method: 'POST', form: { sku: 'FE01', name: 'Feature Tee', price: '1.50' } })).status, 303);
    assert.ok(runtimePids(layout, project, 'feature').length >= 4);
    await client.deactivate(project, 'feature');
    assert.deepEqual(runtimePids(layout, project, 'feature'), [], 'no process of the inactive environment runs');
    assert.equal(readWanted(featureRef)?.state, 'stopped');
    assert.ok(fs.existsSync(path.join(layout.environment(project, 'feature'), 'services', 'mysql', 'data')), 'its data is kept');
    const lastFeature = (await client.environmentStatus(project, 'feature')).deployments.at(-1)!.deployment;
    // The host's supervisor passing as often as it can while the activation deploys does not stop
    // what the deployment starts (it did, between provision-services and the maintenance window,
    // when the wanted state still said "stopped").
    const back = await whileSupervising(layout, async () => {
      await client.activate(project, 'feature');
      return client.waitForDeployment(project, 'feature', { after: lastFeature });
    });
    assert.equal(back.status, 'succeeded', `${back.error}\n${client.deploymentLog(project, 'feature', back.deployment)}`);
    const runtimeLog = path.join(layout.deployLogs(project, 'feature'), 'runtime.log');
    assert.doesNotMatch(fs.existsSync(runtimeLog) ? fs.readFileSync(runtimeLog, 'utf8') : '', /while the environment is inactive/);
    assert.ok(skus((await getPage(project, 'feature', '/products')).body).includes('FE01'), 'the data is back with the environment');
    assert.match(client.deploymentLog(project, 'feature', back.deployment), /deploy mode: update/);

    // Deleted: its processes, its network namespace, its data and its services' passwords go.
    const featurePids = runtimePids(layout, project, 'feature');
    assert.ok(featurePids.length >= 4, `nginx, PHP-FPM, MariaDB and Redis of feature: ${featurePids.join(' ')}`);
    const featureNetns = environmentNetns(featureRef);
    const netnsList = (): string => execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' });
    assert.match(netnsList(), new RegExp(`^${featureNetns}\\b`, 'm'));
    const featureData = layout.environment(project, 'feature');
    const featureSecrets = path.join(layout.home, 'secrets', 'services', project, 'feature');
    const passwordFiles = ['mysql', 'redis'].flatMap((s) => [servicePaths(featureRef, s).enginePasswordFile, servicePaths(featureRef, s).sandboxPasswordFile]);
    for (const f of [path.join(featureData, 'services', 'mysql', 'data'), ...passwordFiles]) assert.ok(fs.existsSync(f), `${f} before the deletion`);
    await client.deleteEnvironment(project, 'feature');
    // None runs once the deletion returns (a zombie may wait a moment for its parent to reap it).
    const left = (): string[] =>
      featurePids.flatMap((pid) => {
        try {
          return [fs.readFileSync(`/proc/${pid}/stat`, 'utf8').trim()];
        } catch {
          return [];
        }
      });
    assert.deepEqual(left().filter((stat) => !/^\d+ \(.*\) Z /.test(stat)), [], 'no process of the deleted environment runs');
    assert.deepEqual(runtimePids(layout, project, 'feature'), []);
    await waitUntil(() => left().length === 0, 10_000, `the deleted environment's processes are gone: ${left().join('; ')}`);
    assert.doesNotMatch(netnsList(), new RegExp(`^${featureNetns}\\b`, 'm'), 'its network namespace is removed');
    assert.ok(!fs.existsSync(featureData), `its data directory ${featureData} is removed`);
    for (const f of passwordFiles) assert.ok(!fs.existsSync(f), `${f} is removed`);
    assert.ok(!fs.existsSync(featureSecrets));
    // Its parent is untouched.
    assert.ok(skus((await getPage(project, 'integration', '/products')).body).includes('MJ02'));
    assert.deepEqual(
      runtimeStatus(ref).services.map((s) => `${s.name} ${s.state}`),
      ['mysql running', 'redis running'],
    );
  });

  it('starts a service added to services.yaml in the deployment, and stops one removed, its data kept', async function () {
    // The deploy hook reaches the session store through its relationship, counts a visit in it, and says the count.
    const sessionCheck =
      'php -r \'$r = json_decode(base64_decode(getenv("MAGENTO_CLOUD_RELATIONSHIPS")), true)["session"][0]; $x = new Redis(); $x->connect($r["host"], $r["port"]); $x->auth($r["password"]); echo "session at ", $r["host"], ":", $r["port"], " counts ", $x->incr("deployments"), "\\n";\'';
    const p = await deployedProject('svc', {}, { services: true });
    const { client, layout, project } = p;
    const ref = { layout, project, environment: 'integration' };
    const services = fs.readFileSync(path.join(p.repo.dir, '.magento', 'services.yaml'), 'utf8');
    const app = fs.readFileSync(path.join(p.repo.dir, '.magento.app.yaml'), 'utf8');
    const withSession = {
      '.magento/services.yaml': `${services}\nredis-session:\n  type: redis:7.2\n`,
      '.magento.app.yaml': app.replace('  redis: "redis:redis"\n', '  redis: "redis:redis"\n  session: "redis-session:redis"\n').replace('  deploy: |\n', `  deploy: |\n    ${sessionCheck}\n`),
    };
    assert.match(withSession['.magento.app.yaml'], /session: "redis-session:redis"/);
    const stateOf = async (): Promise<string[]> => ((await client.environmentStatus(project, 'integration')).runtime?.services ?? []).map((s) => `${s.name} ${s.state}`);
    assert.deepEqual(await stateOf(), ['mysql running', 'redis running']);

    // Added: started by the deployment, beside the two it adopts, on the next free port.
    const c2 = await commitAndPush(p.repo, 'integration', withSession, 'a session store');
    const d2 = await client.waitForDeployment(project, 'integration', { commit: c2, after: p.first.deployment });
    assert.equal(d2.status, 'succeeded', d2.error);
    const log2 = client.deploymentLog(project, 'integration', d2.deployment);
    assert.match(log2, /\[provision-services\] mysql \(mysql:10\.6\) running, adopted/);
    assert.match(log2, /\[provision-services\] redis \(redis:7\.2\) running, adopted/);
    assert.match(log2, /\[provision-services\] redis-session \(redis:7\.2\) started in \d+ ms, listening on 127\.0\.0\.1:6380/);
    assert.match(log2, /\[deploy-hook\] \| session at 127\.0\.0\.1:6380 counts 1$/m);
    assert.deepEqual(await stateOf(), ['mysql running', 'redis running', 'redis-session running']);
    const sessionPids = sandboxServicePids(serviceCgroupName(ref, 'redis-session'));
    assert.ok(sessionPids.length > 0);

    // Removed: stopped by the next deployment, its data kept (Redis saved it as it stopped). The
    // supervisor does not start it again before the switch (the deployment's services are what it keeps).
    const c3 = await commitAndPush(p.repo, 'integration', { '.magento/services.yaml': services, '.magento.app.yaml': app }, 'no session store');
    const d3 = await whileSupervising(layout, () => client.waitForDeployment(project, 'integration', { commit: c3, after: d2.deployment }));
    assert.equal(d3.status, 'succeeded', d3.error);
    assert.match(client.deploymentLog(project, 'integration', d3.deployment), /\[provision-services\] no longer declared, stopped \(data kept\): redis-session$/m);
    assert.deepEqual(await stateOf(), ['mysql running', 'redis running']);
    assert.deepEqual(sandboxServicePids(serviceCgroupName(ref, 'redis-session')), []);
    const runtimeLog = path.join(layout.deployLogs(project, 'integration'), 'runtime.log');
    assert.doesNotMatch(fs.existsSync(runtimeLog) ? fs.readFileSync(runtimeLog, 'utf8') : '', /redis-session/, 'the supervisor left it stopped');
    assert.deepEqual(sessionPids.filter((pid) => { try { return !/^\d+ \(.*\) Z /.test(fs.readFileSync(`/proc/${pid}/stat`, 'utf8')); } catch { return false; } }), [], 'its processes ended');
    assert.ok(fs.existsSync(path.join(servicePaths(ref, 'redis-session').data, 'dump.rdb')), 'its data is kept');
    assert.equal((await getPage(project, 'integration', '/products')).status, 200);

    // Declared again: started with the data it had.
    const c4 = await commitAndPush(p.repo, 'integration', withSession, 'the session store again');
    const d4 = await client.waitForDeployment(project, 'integration', { commit: c4, after: d3.deployment });
    assert.equal(d4.status, 'succeeded', d4.error);
    assert.match(client.deploymentLog(project, 'integration', d4.deployment), /\[deploy-hook\] \| session at 127\.0\.0\.1:6380 counts 2$/m);
    assert.deepEqual(await stateOf(), ['mysql running', 'redis running', 'redis-session running']);
  });

  it("keeps serving and keeps its data when the worker that started it is killed with -9; the next worker adopts it", async function () {
    const { client, layout: engineLayout, address } = await getWorld();
    const host = `rt${uniqueName('h').slice(2, 8)}`;
    const home = tempDir('runtime-host');
    const port = await freePort();
    const start = async (): Promise<Spawned> => {
      const w = spawnSlipway(['--home', home, 'worker', '--host', host, '--no-engine', '--slugs', engineLayout.slugs(), '--router-port', String(port)], {
        ...process.env,
        TEMPORAL_ADDRESS: address,
      });
      await w.waitFor(new RegExp(`Worker for host ${host} is running`));
      return w;
    };
    let worker = await start();
    try {
      const project = (await client.createProject({ project: uniqueName('kill'), from: sampleVariant({}, undefined, { services: true }), host })).project;
      const d = await client.waitForDeployment(project, 'integration');
      assert.equal(d.status, 'succeeded', d.error);
      const layout = new Layout(home);
      const hostName = `integration.${project}.localhost`;
      const added = await request({ port, host: hostName, path: '/admin/products', method: 'POST', form: { sku: 'KILL9', name: 'Survivor Tee', price: '9.00' } });
      assert.equal(added.status, 303, added.body);
      const pids = runtimePids(layout, project, 'integration');
      assert.ok(pids.length >= 4, `nginx, PHP-FPM, MariaDB and Redis run: ${pids.join(' ')}`);

      worker.child.kill('SIGKILL');
      await worker.exited;
      // Served still: nginx answers on its socket, PHP reads MariaDB, nothing was restarted.
      const direct = await request({ socketPath: layout.webSocket(project, 'integration'), host: hostName, path: '/products' });
      assert.equal(direct.status, 200, direct.body);
      assert.ok(skus(direct.body).includes('KILL9'));
      assert.deepEqual(runtimePids(layout, project, 'integration'), pids);

      // The next worker of the host adopts them (the same processes) and its router serves them.
      worker = await start();
      const page = await fetchFromRouter(port, hostName, '/products');
      assert.equal(page.status, 200);
      assert.ok(skus(page.body).includes('KILL9'));
      assert.deepEqual(runtimePids(layout, project, 'integration'), pids, 'adopted, not restarted');
      
    } finally {
      worker.child.kill('SIGTERM');
      await worker.exited;
      // Its processes outlive workers by design: this host's data directory is thrown away.
      await stopAllRuntimes(new Layout(home));
    }
  });

  it('runs a Node.js application with web.commands.start behind nginx, on $PORT in its network namespace', async function () {
    const app = `
name: mymagento
type: nodejs:20
web:
  commands:
    start: "node server.js"
  locations:
    "/":
      root: "public"
      passthru: true
hooks:
  build: |
    mkdir -p public && echo '<title>static page</title>' > public/page.html
`;
    const server = `require('node:http').createServer((req, res) => {
  res.setHeader('content-type', 'text/plain');
  res.end(\`node \${process.env.MAGENTO_CLOUD_ENVIRONMENT} \${req.url} uid=\${process.getuid()} port=\${process.env.PORT}\\n\`);
}).listen(Number(process.env.PORT), '127.0.0.1');
`;
    const p = await deployedProject('node', { '.magento.app.yaml': app, 'server.js': server });
    const log = p.client.deploymentLog(p.project, 'integration', p.first.deployment);
    assert.match(log, /\[start-application\] nginx and the application's own server \(web\.commands\.start, \$PORT\) started for d000001 in \d+ ms; it serves from the switch/);
    const hello = await getPage(p.project, 'integration', '/api/hello?x=1');
    assert.equal(hello.status, 200, hello.body);
    assert.match(hello.body, /^node integration \/api\/hello\?x=1 uid=2\d{5} port=8001$/m);
    assert.equal((await getPage(p.project, 'integration', '/page.html')).title, 'static page');
    // Its server is one of the environment's processes: stopped with it, restarted if it dies.
    const ref = { layout: p.layout, project: p.project, environment: 'integration' };
    const start = SandboxCgroup.named(appCgroupName(ref, 'start', 'd000001'))!;
    assert.ok(start.pids().length > 0);
    start.killAll();
    await waitUntil(async () => (await getPage(p.project, 'integration', '/again')).status === 200, 20_000, 'the supervisor restarted the application');
  });

  it('runs a Python application with web.commands.start on $SOCKET (socket_family unix), with no TCP port anywhere', async function () {
    const app = `
name: mymagento
type: python:3.11
web:
  commands:
    start: "python3 server.py"
  upstream:
    socket_family: unix
  locations:
    "/":
      root: "public"
      passthru: true
hooks:
  build: |
    mkdir -p public && echo '<title>static python page</title>' > public/page.html
`;
    // The standard library only: an HTTP server on the Unix socket Slipway names in $SOCKET.
    const server = `import base64, json, os, socketserver, sys
from http.server import BaseHTTPRequestHandler

routes = json.loads(base64.b64decode(os.environ["MAGENTO_CLOUD_ROUTES"]))

class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        body = "python %s %s %s uid=%d socket=%s routes=%s\\n" % (
            sys.version_info[0], os.environ["MAGENTO_CLOUD_ENVIRONMENT"], self.path, os.getuid(), os.environ["SOCKET"], ",".join(sorted(routes)))
        data = body.encode()
        self.send_response(200)
        self.send_header("content-type", "text/plain")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass

class Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True

Server(os.environ["SOCKET"], Handler).serve_forever()
`;
    const p = await deployedProject('py', { '.magento.app.yaml': app, 'server.py': server });
    const ref = { layout: p.layout, project: p.project, environment: 'integration' };
    const log = p.client.deploymentLog(p.project, 'integration', p.first.deployment);
    assert.match(log, /\[start-application\] nginx and the application's own server \(web\.commands\.start, \$SOCKET\) started for d000001 in \d+ ms; it serves from the switch/);
    const hello = await getPage(p.project, 'integration', '/api/hello?x=1');
    assert.equal(hello.status, 200, hello.body);
    const uid = sandboxIdentity(p.layout, p.project).uid;
    const line = /^python 3 integration \/api\/hello\?x=1 uid=(\d+) socket=(\S+) routes=(\S+)$/m.exec(hello.body);
    assert.ok(line, hello.body);
    assert.equal(Number(line[1]), uid, "the application runs as the project's sandbox user");
    assert.equal(line[2], '/run/app/app.sock');
    assert.ok(line[3]!.split(',').some((r) => new URL(r).hostname === `integration.${p.project}.localhost`), `MAGENTO_CLOUD_ROUTES has the environment's route: ${line[3]}`);
    assert.equal((await getPage(p.project, 'integration', '/page.html')).title, 'static python page');

    // It listens on its Unix socket and on no TCP port: neither the host's nor its namespace's.
    const start = SandboxCgroup.named(appCgroupName(ref, 'start', 'd000001'))!;
    const pids = start.pids();
    assert.ok(pids.length > 0);
    const inodes = new Set<string>();
    for (const pid of pids) {
      for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
        const m = /^socket:\[(\d+)\]$/.exec(fs.readlinkSync(`/proc/${pid}/fd/${fd}`, { encoding: 'utf8' }));
        if (m) inodes.add(m[1]!);
      }
    }
    const tcpListeners = (table: string): string[] =>
      fs.readFileSync(table, 'utf8').split('\n').slice(1).map((l) => l.trim().split(/\s+/)).filter((f) => f[3] === '0A').map((f) => f[9]!);
    for (const table of ['/proc/net/tcp', '/proc/net/tcp6', `/proc/${pids[0]}/net/tcp`, `/proc/${pids[0]}/net/tcp6`]) {
      assert.deepEqual(tcpListeners(table).filter((i) => inodes.has(i)), [], `a TCP listener of the application in ${table}`);
    }
    assert.notEqual(fs.readlinkSync(`/proc/${pids[0]}/ns/net`), fs.readlinkSync('/proc/self/ns/net'), 'in its own network namespace');
    const unixListeners = fs
      .readFileSync(`/proc/${pids[0]}/net/unix`, 'utf8')
      .split('\n')
      .slice(1)
      .map((l) => l.trim().split(/\s+/))
      .filter((f) => f[3] === '00010000' && inodes.has(f[6]!))
      .map((f) => f[7]);
    assert.deepEqual(unixListeners, ['/run/app/app.sock']);
    // Stopped with the environment's other processes, restarted if it dies.
    start.killAll();
    await waitUntil(async () => (await getPage(p.project, 'integration', '/again')).status === 200, 20_000, 'the supervisor restarted the application');
  });

  it("keeps a hostile PHP application inside its sandbox: no engine secret, no host file, no other environment, no engine port", async function () {
    const w = await getWorld();
    const probe = `<?php
header('Content-Type: text/plain');
$try = function (string $what, callable $f) { try { $r = @$f(); echo $what, ': ', ($r === false || $r === null || $r === '') ? 'blocked' : 'READ ' . substr(str_replace("\\n", ' ', (string) $r), 0, 60), "\\n"; } catch (Throwable $e) { echo $what, ": blocked\\n"; } };
$try('identities', fn () => file_get_contents(${JSON.stringify(path.join(w.layout.home, 'identities.yaml'))}));
$try('hook token', fn () => file_get_contents(${JSON.stringify(w.layout.hookTokenFile)}));
$try('temporal db', fn () => file_get_contents(${JSON.stringify(path.join(w.layout.home, 'temporal.db'))}));
$try('service passwords', fn () => implode(',', scandir(${JSON.stringify(path.join(w.layout.home, 'secrets'))}) ?: []));
$try('shadow', fn () => file_get_contents('/etc/shadow'));
$try('other environments', fn () => implode(',', scandir(${JSON.stringify(path.join(w.layout.home, 'envs'))}) ?: []));
$try('root home', fn () => implode(',', scandir('/root') ?: []));
$try('engine port', fn () => fsockopen('127.0.0.1', ${Number(new URL(process.env.SLIPWAY_TEST_API_URL!).port)}, $no, $err, 1));
$try('temporal port', fn () => fsockopen('127.0.0.1', ${Number(w.address.split(':')[1])}, $no, $err, 1));
$try('write the release', fn () => file_put_contents('/app/pub/owned.txt', 'x'));
$try('php-fpm config', fn () => file_get_contents('/srv/app-conf/nginx.conf'));
echo 'uid=', getmyuid(), "\\n";
`;
    const app = minimalAppWithPhp();
    const p = await deployedProject('phpbox', { '.magento.app.yaml': app, 'pub/index.php': probe });
    const page = await getPage(p.project, 'integration', '/probe');
    assert.equal(page.status, 200, page.body);
    const lines = page.body.trim().split('\n');
    const uid = Number(/^uid=(\d+)$/m.exec(page.body)?.[1]);
    assert.ok(uid >= 200000, page.body);
    const leaked = lines.filter((l) => / READ /.test(` ${l.split(': ')[1] ?? ''}`) || /: READ/.test(l));
    assert.deepEqual(leaked, [], page.body);
    assert.equal(lines.filter((l) => /: blocked$/.test(l)).length, 11, page.body);
  });
});

/** The sample store's app file with its front controller run by PHP for every path (no services). */
function minimalAppWithPhp(): string {
  return `
name: mymagento
type: php:8.2
web:
  locations:
    "/":
      root: "pub"
      passthru: "/index.php"
hooks:
  build: |
    true
`;
}
