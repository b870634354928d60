/**
 * The sandbox on its own, against the real kernel: what tenant code sees (its user, its tree,
 * no network, no engine secret, no worker environment), what it cannot leave behind, and each
 * limit with the message that names it. Hooks in real deployments: test/e2e/hostile-tenant.test.ts.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { PLAN_SANDBOX_LIMITS, type SandboxLimits } from '../../src/domain/sandbox-limits';
import { Layout } from '../../src/home';
import { SandboxCgroup } from '../../src/sandbox/cgroup';
import { sandboxIdentity } from '../../src/sandbox/identity';
import { runInSandbox, stopLeftoverSandbox, type SandboxEnd } from '../../src/sandbox/sandbox';
import { tempDir } from '../harness/world';

const MIB = 1024 * 1024;

describe('the sandbox of tenant code', function () {
  this.timeout(60_000);
  let layout: Layout;
  let app: string;
  let secret: string;
  let runs = 0;

  before(function () {
    layout = new Layout(tempDir('sandbox-home'));
    fs.mkdirSync(layout.home, { recursive: true });
    secret = layout.hookTokenFile;
    fs.writeFileSync(secret, 'engine-secret\n', { mode: 0o600 });
    app = path.join(layout.home, 'builds', 'shop', 'integration', 'd000001');
    fs.mkdirSync(app, { recursive: true });
    fs.writeFileSync(path.join(app, 'index.html'), 'shop\n');
  });

  const run = async (
    script: string,
    opts: { limits?: Partial<SandboxLimits>; timeoutSeconds?: number; writable?: boolean; project?: string; env?: Record<string, string>; name?: string } = {},
  ): Promise<{ end: SandboxEnd; output: string[] }> => {
    const output: string[] = [];
    const project = opts.project ?? 'shop';
    const end = await runInSandbox({
      name: opts.name ?? `unit-${process.pid}-${++runs}`,
      dataDir: layout.home,
      identity: sandboxIdentity(layout, project),
      hostname: project,
      app: { dir: app, writable: opts.writable ?? false },
      binds: [],
      command: ['bash', '-e', '-c', script],
      env: { PATH: '/usr/bin:/bin', MAGENTO_CLOUD_PROJECT: project, ...opts.env },
      limits: { ...PLAN_SANDBOX_LIMITS.pro, ...opts.limits },
      timeoutSeconds: opts.timeoutSeconds ?? 30,
      onOutput: (l) => output.push(l),
    });
    return { end, output };
  };

  it("runs as the project's own unprivileged user, in a user namespace, and the files it writes are that user's", async function () {
    const shop = sandboxIdentity(layout, 'shop');
    const other = sandboxIdentity(layout, 'other');
    assert.ok(shop.uid >= 1000 && other.uid >= 1000, 'never root, never a system user');
    assert.notEqual(shop.uid, other.uid, 'a uid per project');
    execFileSync('chown', ['-R', `${shop.uid}:${shop.gid}`, app]);
    const { end, output } = await run('id -u; id -un; cat /proc/self/uid_map; grep CapEff /proc/self/status; echo made > made.txt', { writable: true });
    assert.deepEqual(end, { kind: 'exited', code: 0, tail: output });
    assert.equal(output[0], String(shop.uid));
    assert.equal(output[1], 'web');
    assert.match(output[2]!, new RegExp(`^\\s*${shop.uid}\\s+\\d+\\s+1$`), 'one uid is mapped, its own: there is no root inside');
    assert.match(output[3]!, /^CapEff:\s+0+$/, 'no capability');
    assert.equal(fs.statSync(path.join(app, 'made.txt')).uid, shop.uid);
  });

  it('sees system directories and its own tree only: no data directory, no secret, no /etc/shadow, nothing writable outside', async function () {
    const { output } = await run(
      [
        `for f in ${secret} ${layout.home} /etc/shadow /root /work /proc/1/root/etc/shadow; do if ls "$f" >/dev/null 2>&1; then echo "SEES $f"; fi; done`,
        'for d in /usr /etc /app /; do if touch "$d/x" 2>/dev/null; then echo "WRITES $d"; fi; done',
        'cat /app/index.html',
      ].join('\n'),
    );
    assert.deepEqual(output, ['shop']);
  });

  it('has its own network namespace: no engine port is reachable, only its own loopback', async function () {
    const server = net.createServer((s) => s.end('engine\n'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as net.AddressInfo).port;
    try {
      const { output } = await run(
        `if (exec 3<>/dev/tcp/127.0.0.1/${port}) 2>/dev/null; then echo REACHED; else echo refused; fi; tail -n +3 /proc/net/dev | cut -d: -f1`,
      );
      assert.equal(output[0], 'refused');
      assert.deepEqual(output.slice(1).map((l) => l.trim()), ['lo']);
    } finally {
      server.close();
    }
  });

  it("gets exactly the environment it is given, never the worker's", async function () {
    process.env.SLIPWAY_WORKER_ONLY = 'worker-secret';
    try {
      const { output } = await run('env | sort; tr "\\0" "\\n" < /proc/1/environ | sort', { env: { MAGENTO_CLOUD_VARIABLES: 'e30=' } });
      assert.ok(!output.some((l) => l.includes('worker-secret') || l.startsWith('SLIPWAY_') || l.startsWith('TEMPORAL')), output.join('\n'));
      assert.ok(output.includes('MAGENTO_CLOUD_VARIABLES=e30='));
    } finally {
      delete process.env.SLIPWAY_WORKER_ONLY;
    }
  });

  it('leaves nothing running: a daemon started with setsid and nohup dies with the command', async function () {
    const marker = `31${process.pid % 1000}7.25`;
    const { end } = await run(`setsid sleep ${marker} & nohup sleep ${marker} >/dev/null 2>&1 & disown; echo started`);
    assert.equal(end.kind, 'exited');
    const left = (() => {
      try {
        return execFileSync('pgrep', ['-f', `sleep ${marker}`], { encoding: 'utf8' }).trim();
      } catch {
        return '';
      }
    })();
    assert.equal(left, '', 'no process of the sandbox is left');
  });

  it('stops a command over its memory limit, naming the limit', async function () {
    const { end } = await run('python3 -c "x = bytearray(256 * 1024 * 1024); print(len(x))"', { limits: { memoryBytes: 64 * MIB } });
    assert.equal(end.kind, 'limit');
    assert.equal(end.kind === 'limit' && end.message, 'exceeded its memory limit of 64 MiB');
  });

  it('stops a fork bomb at its process limit, naming the limit', async function () {
    const { end } = await run('for i in $(seq 1 64); do sleep 2 & done; wait', { limits: { processes: 16 } });
    assert.equal(end.kind === 'limit' && end.message, 'reached its limit of 16 processes');
  });

  it('stops a command at its CPU-time and file-size limits (rlimits), naming them', async function () {
    const cpu = await run('python3 -c "while True: pass"', { limits: { cpuSeconds: 1 } });
    assert.equal(cpu.end.kind === 'limit' && cpu.end.message, 'exceeded its CPU-time limit of 1 s per process');
    const big = await run('head -c 3000000 /dev/zero > big.bin', { writable: true, limits: { fileSizeBytes: MIB } });
    assert.equal(big.end.kind === 'limit' && big.end.message, 'exceeded its file-size limit of 1 MiB');
  });

  it('stops a command past its time limit, and a silent idle one sooner, naming each', async function () {
    const started = Date.now();
    const ticking = await run('while :; do echo tick; sleep 0.5; done', { timeoutSeconds: 2, limits: { silenceSeconds: 30 } });
    assert.equal(ticking.end.kind === 'limit' && ticking.end.message, 'ran past its time limit of 2 s and was stopped');
    const silent = await run('echo waiting; sleep 3600', { timeoutSeconds: 30, limits: { silenceSeconds: 2 } });
    assert.equal(silent.end.kind === 'limit' && silent.end.message, 'printed nothing and used no CPU for 2 s and was stopped');
    assert.ok(Date.now() - started < 15_000, 'both stopped in bounded time');
  });

  it('a busy command is not silent: CPU use counts as activity', async function () {
    const { end } = await run('end=$((SECONDS + 3)); while [ $SECONDS -lt $end ]; do :; done', { limits: { silenceSeconds: 1.5 } });
    assert.deepEqual(end, { kind: 'exited', code: 0, tail: [] });
  });

  it("stops what a dead worker's run left behind, found by its name", async function () {
    assert.equal(stopLeftoverSandbox(`unit-${process.pid}-none`), undefined, 'nothing to stop');
    const name = `unit-${process.pid}-left`;
    const left = run('sleep 30 & sleep 30', { name });
    for (let i = 0; i < 100 && (SandboxCgroup.named(name)?.pids().length ?? 0) < 3; i++) await new Promise((r) => setTimeout(r, 50));
    const stopped = stopLeftoverSandbox(name);
    assert.ok(stopped !== undefined && stopped >= 3, `bubblewrap, its init and the sleeps were stopped (${stopped})`);
    const { end } = await left;
    assert.notDeepEqual(end, { kind: 'exited', code: 0, tail: [] });
  });
});
