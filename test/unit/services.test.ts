/**
 * An environment's services run for real (no Temporal): each environment its own network
 * namespace, MariaDB and Redis as the project's sandbox user; reached from the host over Unix
 * sockets with the generated credentials, from inside the namespace over 127.0.0.1 with the
 * relationships; stopped and started with their data; outliving the process that started them
 * (a worker's `kill -9`) and found and stopped by a new one; deleted whole.
 */
import { strict as assert } from 'node:assert';
import { execFile, execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { PLAN_SANDBOX_LIMITS } from '../../src/domain/sandbox-limits';
import { parseServices, type Services } from '../../src/domain/project-files/services';
import { Layout } from '../../src/home';
import { deleteNetns, netnsExists, netnsPath } from '../../src/runtime/netns';
import {
  deleteEnvironmentRuntime,
  environmentNetns,
  hasApplicationTables,
  mariadbQuery,
  redisQuery,
  relationshipsFor,
  REDACTED,
  servicePaths,
  servicesStatus,
  startServices,
  stopEnvironmentServices,
  stopService,
  type EnvironmentRef,
  type ServiceStatus,
} from '../../src/runtime/services';
import { unavailableRelationshipWarnings } from '../../src/runtime/environment-runtime';
import { serviceCgroupName } from '../../src/runtime/services/environment';
import { sandboxIdentity } from '../../src/sandbox/identity';
import { runInSandbox } from '../../src/sandbox/sandbox';
import { tempDir } from '../harness/world';

const DIST = path.resolve(__dirname, '..', '..');

function parsed(text: string): Services {
  const r = parseServices(text);
  if (!r.ok) throw new Error(JSON.stringify(r.issues));
  return r.value;
}

/** Runs a snippet in a new Node process (another worker: nothing of this one's memory). */
function otherWorker(home: string, env: string, action: 'start' | 'stop' | 'status', services: Services, hold = false): ReturnType<typeof spawn> {
  const script = `
    const { Layout } = require(${JSON.stringify(path.join(DIST, 'src', 'home.js'))});
    const s = require(${JSON.stringify(path.join(DIST, 'src', 'runtime', 'services', 'index.js'))});
    const ref = { layout: new Layout(${JSON.stringify(home)}), project: 'shop', environment: ${JSON.stringify(env)} };
    const services = ${JSON.stringify(services)};
    const act = { start: () => s.startServices(ref, services, () => {}), stop: () => s.stopEnvironmentServices(ref), status: async () => s.servicesStatus(ref, services) };
    act[${JSON.stringify(action)}]().then((r) => { console.log(JSON.stringify(r)); if (!${hold}) process.exit(0); }, (e) => { console.error(e.message); process.exit(1); });
    ${hold ? 'setInterval(() => {}, 1000);' : ''}
  `;
  return spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
}

function firstLine(child: ReturnType<typeof spawn>): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      if (out.includes('\n')) resolve(out.split('\n')[0]!);
    });
    child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
    child.once('exit', (code) => reject(new Error(`the other worker exited (${code}) before answering: ${err}`)));
  });
}

function tcpAnswers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const c = net.connect(port, '127.0.0.1');
    c.once('connect', () => {
      c.destroy();
      resolve(true);
    });
    c.once('error', () => resolve(false));
  });
}

/** Processes whose cgroup (any hierarchy) names this environment's services. */
function processesOf(ref: EnvironmentRef): number[] {
  const prefix = `.${ref.project}.${ref.environment}.svc-`;
  const pids: number[] = [];
  for (const pid of fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      if (fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8').includes(prefix) && fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').length > 0) pids.push(Number(pid));
    } catch {
      /* gone */
    }
  }
  return pids;
}

describe("an environment's services: network namespace, MariaDB and Redis", function () {
  this.timeout(120_000);
  let layout: Layout;
  let a: EnvironmentRef;
  let b: EnvironmentRef;
  const services = parsed('mysql: {type: "mysql:10.11", disk: 512}\nredis: {type: "redis:7.0"}\nsearch: {type: "opensearch:2", disk: 1024}\n');
  const declaredServices = services;

  before(function () {
    layout = new Layout(tempDir('services-home'));
    fs.mkdirSync(layout.home, { recursive: true, mode: 0o711 });
    a = { layout, project: 'shop', environment: 'integration' };
    b = { layout, project: 'shop', environment: 'staging' };
  });

  after(async function () {
    for (const ref of [a, b]) {
      await stopEnvironmentServices(ref);
      await deleteNetns(environmentNetns(ref));
    }
    fs.rmSync(layout.home, { recursive: true, force: true });
  });

  it('starts each environment in its own network namespace; B is started by a worker that is then killed with -9', async function () {
    const worker = otherWorker(layout.home, 'staging', 'start', services, true);
    const [statusA, statusB] = await Promise.all([startServices(a, services, () => {}), firstLine(worker)]);
    worker.kill('SIGKILL');
    assert.deepEqual(
      statusA.map((s) => [s.name, s.state]),
      [
        ['mysql', 'running'],
        ['redis', 'running'],
        ['search', 'unavailable'],
      ],
    );
    const search = statusA[2]!;
    assert.ok(search.state === 'unavailable' && /OpenSearch is not a Debian package/.test(search.reason), JSON.stringify(search));
    assert.deepEqual(
      (JSON.parse(statusB) as { state: string }[]).map((s) => s.state),
      ['running', 'running', 'unavailable'],
    );
    assert.notEqual(environmentNetns(a), environmentNetns(b));
    assert.ok(netnsExists(environmentNetns(a)) && netnsExists(environmentNetns(b)));
    assert.match(environmentNetns(a), /^slw-[0-9a-f]{12}$/);
    // B's services outlived the worker that started them.
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual(
      servicesStatus(b, declaredServices).map((s) => s.state),
      ['running', 'running', 'unavailable'],
    );
    // Each in its own cgroup, with a memory limit.
    for (const name of ['mysql', 'redis']) {
      const group = serviceCgroupName(b, name);
      const v1 = `/sys/fs/cgroup/memory/slipway/${group}/memory.limit_in_bytes`;
      const limit = Number(fs.readFileSync(fs.existsSync(v1) ? v1 : `/sys/fs/cgroup/slipway/${group}/memory.max`, 'utf8').trim());
      assert.ok(limit > 0 && limit <= 512 * 1024 * 1024, `${name}: ${limit}`);
    }
    // As the project's user, never root.
    const uid = sandboxIdentity(layout, 'shop').uid;
    for (const pid of processesOf(b)) {
      const cmd = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (/mariadbd|redis-server/.test(cmd.split('\0')[0]!)) assert.equal(fs.statSync(`/proc/${pid}`).uid, uid, cmd);
    }
  });

  it('is reached from the host over Unix sockets with the generated credentials; each environment has its own data', async function () {
    assert.equal(await hasApplicationTables(a, 'mysql'), false, 'a fresh database has no application tables: install');
    await mariadbQuery(a, servicePaths(a, 'mysql'), "CREATE TABLE product (sku VARCHAR(20) PRIMARY KEY); INSERT INTO product VALUES ('A-1')");
    assert.equal((await mariadbQuery(a, servicePaths(a, 'mysql'), 'SELECT sku FROM product')).trim(), 'A-1');
    assert.equal(await hasApplicationTables(a, 'mysql'), true, 'now update');
    assert.equal(await hasApplicationTables(b, 'mysql'), false, "B's database is separate");
    await redisQuery(a, 'redis', servicePaths(a, 'redis'), ['SET', 'greeting', 'from-a']);
    assert.equal((await redisQuery(a, 'redis', servicePaths(a, 'redis'), ['GET', 'greeting'])).trim(), 'from-a');
    assert.equal((await redisQuery(b, 'redis', servicePaths(b, 'redis'), ['GET', 'greeting'])).trim(), '', "B's Redis is separate");
    // Without the password, Redis refuses.
    const noAuth = execFileSync('redis-cli', ['-s', servicePaths(a, 'redis').socket, 'GET', 'greeting'], { env: { PATH: process.env.PATH } }).toString();
    assert.match(noAuth, /NOAUTH/);
  });

  it("serves nothing on the host's loopback: 3306 and 6379 there are not theirs", async function () {
    for (const port of [3306, 6379]) {
      if (!(await tcpAnswers(port))) continue;
      // Something else of the host listens there: it must not be one of ours (our credentials fail).
      const rel = relationshipsFor(a, { database: 'mysql:mysql', redis: 'redis:redis' }, services);
      assert.ok(rel.ok);
      const pw = rel.relationships.database![0]!.password;
      const ok = await new Promise<boolean>((resolve) =>
        execFile('mariadb', ['--no-defaults', '-h', '127.0.0.1', '-P', String(port), '-u', 'user', 'main', '-e', 'SELECT 1'], { env: { MYSQL_PWD: pw, PATH: process.env.PATH } }, (err) =>
          resolve(!err),
        ),
      );
      assert.equal(ok, false, `port ${port} of the host's loopback answers with an environment's credentials`);
    }
  });

  it("gives hooks in the environment's namespace working relationships (127.0.0.1, the port, the credentials)", async function () {
    const rel = relationshipsFor(a, { database: 'mysql:mysql', redis: 'redis:redis', opensearch: 'search:opensearch' }, services);
    assert.ok(rel.ok);
    const db = rel.relationships.database![0]!;
    const redis = rel.relationships.redis![0]!;
    const output: string[] = [];
    const end = await runInSandbox({
      name: `unit-services-${process.pid}`,
      dataDir: layout.home,
      identity: sandboxIdentity(layout, 'shop'),
      hostname: 'shop',
      binds: [],
      netns: netnsPath(environmentNetns(a)),
      command: [
        'bash',
        '-e',
        '-c',
        'id -u; mariadb --no-defaults -h "$DB_HOST" -P "$DB_PORT" -u "$DB_USER" -D "$DB_NAME" -N -e "SELECT sku FROM product"; ' +
          'REDISCLI_AUTH="$REDIS_PASSWORD" redis-cli --no-auth-warning -h "$REDIS_HOST" -p "$REDIS_PORT" GET greeting; ' +
          'ls /run/slipway 2>&1 | head -1',
      ],
      env: {
        PATH: '/usr/bin:/bin',
        DB_HOST: db.host,
        DB_PORT: String(db.port),
        DB_USER: db.username!,
        MYSQL_PWD: db.password,
        DB_NAME: db.path!,
        REDIS_HOST: redis.host,
        REDIS_PORT: String(redis.port),
        REDIS_PASSWORD: redis.password,
      },
      limits: PLAN_SANDBOX_LIMITS.pro,
      timeoutSeconds: 30,
      onOutput: (l) => output.push(l),
    });
    assert.deepEqual(end, { kind: 'exited', code: 0, tail: output });
    assert.equal(output[0], String(sandboxIdentity(layout, 'shop').uid));
    assert.equal(output[1], 'A-1');
    assert.equal(output[2], 'from-a');
    assert.match(output[3]!, /No such file/, 'a hook does not get the run directory unless it is bound');
  });

  it('warns once per relationship whose service is unavailable, naming the relationship, its service and endpoint, and why', function () {
    const statuses: ServiceStatus[] = [
      { name: 'mysql', type: 'mysql:10.11', state: 'running', port: 3306, socket: '/s', pids: 1 },
      { name: 'search', type: 'opensearch:2', state: 'unavailable', reason: 'OpenSearch is not a Debian package' },
    ];
    assert.deepEqual(unavailableRelationshipWarnings({ database: 'mysql:mysql', opensearch: 'search:opensearch', search2: 'search:other' }, statuses), [
      'warning: relationship opensearch (search:opensearch) is unavailable: OpenSearch is not a Debian package',
      'warning: relationship search2 (search:other) is unavailable: OpenSearch is not a Debian package',
    ]);
    assert.deepEqual(unavailableRelationshipWarnings({ database: 'mysql:mysql' }, statuses), []);
  });

  it('builds MAGENTO_CLOUD_RELATIONSHIPS with the real address and credentials, a redacted form, and says what is unavailable', function () {
    const rel = relationshipsFor(a, { database: 'mysql:mysql', redis: 'redis:redis', opensearch: 'search:opensearch' }, services);
    assert.ok(rel.ok);
    const password = fs.readFileSync(servicePaths(a, 'mysql').enginePasswordFile, 'utf8').trim();
    assert.match(password, /^[A-Za-z0-9_-]{32}$/);
    const { password: dbPassword, ...db } = rel.relationships.database![0]!;
    assert.equal(dbPassword, password);
    assert.deepEqual(db, {
      service: 'mysql',
      rel: 'mysql',
      scheme: 'mysql',
      host: '127.0.0.1',
      hostname: '127.0.0.1',
      ip: '127.0.0.1',
      port: 3306,
      path: 'main',
      username: 'user',
      type: 'mysql:10.11',
      cluster: 'shop-integration',
      query: { is_master: true },
    });
    assert.equal(rel.relationships.redis![0]!.port, 6379);
    assert.equal(rel.relationships.opensearch, undefined, 'no endpoint that leads nowhere');
    assert.deepEqual(
      rel.unavailable.map((u) => [u.relationship, u.service, u.type]),
      [['opensearch', 'search', 'opensearch:2']],
    );
    assert.match(rel.unavailable[0]!.reason, /not a Debian package/);
    const shown = JSON.stringify(rel.redacted);
    for (const name of ['mysql', 'redis']) {
      const secret = fs.readFileSync(servicePaths(a, name).enginePasswordFile, 'utf8').trim();
      assert.ok(!shown.includes(secret), `the redacted form shows the ${name} password`);
    }
    assert.equal(rel.redacted.database![0]!.password, REDACTED);
    assert.equal(rel.redacted.database![0]!.port, 3306);
    // Environments have different passwords.
    assert.notEqual(fs.readFileSync(servicePaths(b, 'mysql').enginePasswordFile, 'utf8'), fs.readFileSync(servicePaths(a, 'mysql').enginePasswordFile, 'utf8'));
  });

  it('keeps the passwords in 0600 files: the engine’s (root’s, in a 0700 directory no sandbox binds) and the sandbox user’s copy', function () {
    const uid = sandboxIdentity(layout, 'shop').uid;
    for (const name of ['mysql', 'redis']) {
      const p = servicePaths(a, name);
      const engine = fs.statSync(p.enginePasswordFile);
      assert.equal(engine.mode & 0o777, 0o600);
      assert.equal(engine.uid, 0);
      assert.equal(fs.statSync(path.dirname(p.enginePasswordFile)).mode & 0o777, 0o700);
      assert.ok(!p.enginePasswordFile.startsWith(layout.environment('shop', 'integration')), 'outside the environment tree the sandboxes bind from');
      const copy = fs.statSync(p.sandboxPasswordFile);
      assert.equal(copy.mode & 0o777, 0o600);
      assert.equal(copy.uid, uid);
      assert.equal(fs.readFileSync(p.sandboxPasswordFile, 'utf8'), fs.readFileSync(p.enginePasswordFile, 'utf8'));
    }
    assert.equal(fs.statSync(servicePaths(a, 'mysql').engineClientOptions).mode & 0o777, 0o600);
    const redisConf = fs.statSync(path.join(servicePaths(a, 'redis').conf, 'redis.conf'));
    assert.deepEqual([redisConf.mode & 0o777, redisConf.uid], [0o600, uid], "Redis's configuration holds its password");
    assert.ok(!fs.existsSync(path.join(servicePaths(a, 'mysql').conf, 'init.sql')), 'the initialisation SQL (with the password) is gone');
  });

  it('stops (processes gone, data kept) and starts again with the data', async function () {
    assert.ok(processesOf(a).length > 0);
    assert.deepEqual((await stopEnvironmentServices(a)).sort(), ['mysql', 'redis']);
    assert.deepEqual(processesOf(a), []);
    assert.deepEqual(
      servicesStatus(a, services).map((s) => s.state),
      ['stopped', 'stopped', 'unavailable'],
    );
    assert.ok(fs.existsSync(servicePaths(a, 'mysql').data));
    await startServices(a, services, () => {});
    assert.equal((await mariadbQuery(a, servicePaths(a, 'mysql'), 'SELECT sku FROM product')).trim(), 'A-1');
    assert.equal((await redisQuery(a, 'redis', servicePaths(a, 'redis'), ['GET', 'greeting'])).trim(), 'from-a', 'Redis saved its data at shutdown');
  });

  it('is found by its cgroup and stopped by a new worker process', async function () {
    assert.ok(processesOf(b).length > 0);
    const status = JSON.parse(await firstLine(otherWorker(layout.home, 'staging', 'status', services))) as { state: string }[];
    assert.deepEqual(
      status.map((s) => s.state),
      ['running', 'running', 'unavailable'],
    );
    const stopped = JSON.parse(await firstLine(otherWorker(layout.home, 'staging', 'stop', services))) as string[];
    assert.deepEqual(stopped.sort(), ['mysql', 'redis']);
    assert.deepEqual(processesOf(b), []);
  });

  it('restarts a running service whose configuration services.yaml changed (its port), with its data; adopts the others', async function () {
    const mysqlPids = servicesStatus(a, services).find((x) => x.name === 'mysql');
    assert.equal(mysqlPids?.state, 'running');
    // A second Redis named "cache" sorts first: it takes 6379, and "redis" moves to 6380.
    const more = parsed('mysql: {type: "mysql:10.11", disk: 512}\nredis: {type: "redis:7.0"}\ncache: {type: "redis:7.0"}\nsearch: {type: "opensearch:2", disk: 1024}\n');
    const said: string[] = [];
    const statuses = await startServices(a, more, (m) => said.push(m));
    const byName = Object.fromEntries(statuses.map((x) => [x.name, x]));
    assert.equal(byName.cache?.state === 'running' && byName.cache.port, 6379);
    assert.equal(byName.redis?.state === 'running' && byName.redis.port, 6380);
    assert.ok(said.some((m) => /^redis: its configuration changed \(services\.yaml\): restarting it$/.test(m)), said.join('\n'));
    assert.ok(!said.some((m) => /^mysql:/.test(m)), 'MariaDB is adopted as it runs');
    assert.equal((await redisQuery(a, 'redis', servicePaths(a, 'redis'), ['GET', 'greeting'])).trim(), 'from-a', 'its data is kept');
    await stopService(a, 'cache');
  });

  it('deletes an environment: processes, network namespace, data, sockets and passwords', async function () {
    const p = servicePaths(a, 'mysql');
    await deleteEnvironmentRuntime(a);
    assert.deepEqual(processesOf(a), []);
    assert.equal(netnsExists(environmentNetns(a)), false);
    for (const f of [p.data, p.socket, p.enginePasswordFile, p.sandboxPasswordFile]) assert.equal(fs.existsSync(f), false, f);
    assert.ok(fs.existsSync(servicePaths(b, 'mysql').data), "the other environment's data is kept");
  });
});
