/**
 * A `rabbitmq` service for real (no Temporal): Debian's rabbitmq-server (installed on first use
 * as root on Debian), one node per environment in its network namespace as the project's
 * sandbox user, reached by a hook over 127.0.0.1:5672 with the relationship's generated
 * credentials (an AMQP 0-9-1 login with SASL PLAIN); a wrong password is refused; nothing on
 * the host's loopback; stopped and started with its data.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { PLAN_SANDBOX_LIMITS } from '../../src/domain/sandbox-limits';
import { parseServices, type Services } from '../../src/domain/project-files/services';
import { Layout } from '../../src/home';
import { netnsPath } from '../../src/runtime/netns';
import { deleteEnvironmentRuntime, environmentNetns, relationshipsFor, servicesStatus, startServices, stopEnvironmentServices, type EnvironmentRef } from '../../src/runtime/services';
import { sandboxIdentity } from '../../src/sandbox/identity';
import { runInSandbox } from '../../src/sandbox/sandbox';
import { tempDir } from '../harness/world';

const LOGIN = path.resolve(__dirname, '..', '..', '..', 'test', 'fixtures', 'amqp-login.py');

function parsed(text: string): Services {
  const r = parseServices(text);
  if (!r.ok) throw new Error(JSON.stringify(r.issues));
  return r.value;
}

describe("an environment's RabbitMQ", function () {
  this.timeout(300_000); // a fresh machine installs rabbitmq-server (and Erlang) first
  let layout: Layout;
  let ref: EnvironmentRef;
  let scripts: string;
  const services = parsed('queue: {type: "rabbitmq:3.13", disk: 512}\n');

  before(function () {
    if (process.getuid?.() !== 0) this.skip();
    layout = new Layout(tempDir('rabbitmq-home'));
    fs.mkdirSync(layout.home, { recursive: true, mode: 0o711 });
    fs.chmodSync(layout.home, 0o711);
    ref = { layout, project: 'shop', environment: 'integration' };
    scripts = path.join(layout.home, 'scripts');
    fs.mkdirSync(scripts, { mode: 0o755 });
    fs.copyFileSync(LOGIN, path.join(scripts, 'amqp-login.py'));
  });

  after(async function () {
    if (ref) await deleteEnvironmentRuntime(ref);
    if (layout) fs.rmSync(layout.home, { recursive: true, force: true });
  });

  async function login(password: string): Promise<string[]> {
    const rel = relationshipsFor(ref, { rabbitmq: 'queue:rabbitmq' }, services);
    assert.ok(rel.ok);
    const q = rel.relationships.rabbitmq![0]!;
    assert.equal(q.host, '127.0.0.1');
    assert.equal(q.port, 5672);
    assert.equal(q.scheme, 'amqp');
    const output: string[] = [];
    await runInSandbox({
      name: `unit-rabbitmq-${process.pid}`,
      dataDir: layout.home,
      identity: sandboxIdentity(layout, 'shop'),
      hostname: 'shop',
      binds: [{ dir: scripts, at: '/srv/scripts', writable: false }],
      netns: netnsPath(environmentNetns(ref)),
      command: ['python3', '/srv/scripts/amqp-login.py', q.host, String(q.port), q.username!],
      env: { PATH: '/usr/bin:/bin', AMQP_PASSWORD: password === 'relationship' ? q.password : password },
      limits: PLAN_SANDBOX_LIMITS.pro,
      timeoutSeconds: 30,
      onOutput: (l) => output.push(l),
    });
    return output;
  }

  it('runs a node per environment that a hook logs in to with the relationship; a wrong password is refused', async function () {
    const [status] = await startServices(ref, services, (m) => console.log(`      ${m}`));
    assert.equal(status?.state, 'running', JSON.stringify(status));
    assert.deepEqual(await login('relationship'), ['tune']);
    assert.match((await login('not-the-password')).join(' '), /refused/);
    // Nothing of it on the host's loopback.
    const onHost = await new Promise<boolean>((resolve) => {
      const c = net.connect(5672, '127.0.0.1');
      c.once('connect', () => (c.destroy(), resolve(true)));
      c.once('error', () => resolve(false));
    });
    assert.equal(onHost, false);
  });

  it('stops (data kept) and starts again with the same user', async function () {
    assert.deepEqual(await stopEnvironmentServices(ref), ['queue']);
    assert.equal(servicesStatus(ref, services)[0]?.state, 'stopped');
    await startServices(ref, services);
    assert.deepEqual(await login('relationship'), ['tune']);
  });
});
