/**
 * The front router against hosts' routers played by plain HTTP servers: health checks decide
 * which hosts get traffic, a GET whose host fails before answering goes to another host, a POST
 * is not repeated, a host in maintenance is used last, a bad registry entry is skipped.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import type { AddressInfo } from 'node:net';
import { advertiseHost, readRegistry, startFrontRouter, type RunningFrontRouter } from '../../src/router/front';
import { HEALTH_HOST, HEALTH_PATH } from '../../src/router/router';

interface FakeHost {
  name: string;
  server: http.Server;
  port: number;
  /** What the health check reports. */
  serving: Array<{ project: string; environment: string; release: string; maintenance: boolean }>;
  /** Requests for sites: answered, or their connection destroyed before any byte. */
  mode: 'answer' | 'die-before-answering';
  healthy: boolean;
  /** The next this many health checks are answered late (400 ms: a busy host). */
  slowChecksLeft: number;
  requests: number;
  /** Health checks answered. */
  checks: number;
}

async function fakeHost(name: string): Promise<FakeHost> {
  const h = { name, serving: [], mode: 'answer', healthy: true, slowChecksLeft: 0, requests: 0, checks: 0 } as unknown as FakeHost;
  h.server = http.createServer((req, res) => {
    if (req.headers.host === HEALTH_HOST && req.url === HEALTH_PATH) {
      if (!h.healthy) return void res.destroy();
      h.checks++;
      const report = JSON.stringify({ environments: h.serving });
      const answer = (): void => {
        if (res.destroyed) return;
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(report);
      };
      if (h.slowChecksLeft > 0) {
        h.slowChecksLeft--;
        return void setTimeout(answer, 400);
      }
      return answer();
    }
    h.requests++;
    if (h.mode === 'die-before-answering') return void req.socket.destroy();
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'x-slipway-release': 'd000001' });
      res.end(`${name}\n`);
    });
  });
  await new Promise<void>((r) => h.server.listen(0, '127.0.0.1', () => r()));
  h.port = (h.server.address() as AddressInfo).port;
  return h;
}

function request(port: number, host: string, method = 'GET'): Promise<{ status: number; body: string; servedBy?: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path: '/', headers: { host }, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, servedBy: res.headers['x-slipway-host'] as string | undefined }));
    });
    req.on('error', reject);
    req.end(method === 'POST' ? 'a=1' : undefined);
  });
}

describe('the front router', function () {
  let registry: string;
  let hosts: FakeHost[];
  let front: RunningFrontRouter;
  const site = 'production.shop.localhost';
  const prod = { project: 'shop', environment: 'production', release: 'd000001', maintenance: false };

  beforeEach(async function () {
    registry = fs.mkdtempSync(path.join(os.tmpdir(), 'slipway-registry-'));
    hosts = [await fakeHost('web2'), await fakeHost('web3'), await fakeHost('web1')];
    hosts[0]!.serving = [{ ...prod }];
    hosts[1]!.serving = [{ ...prod }];
    hosts[2]!.serving = [{ ...prod, environment: 'integration' }];
    for (const h of hosts) advertiseHost(registry, { host: h.name, router: `http://127.0.0.1:${h.port}` });
    front = await startFrontRouter({ registry, port: 0, checkEveryMs: 100 });
  });

  afterEach(async function () {
    await front.close();
    for (const h of hosts) await new Promise<void>((r) => h.server.close(() => r()));
    fs.rmSync(registry, { recursive: true, force: true });
  });

  it('sends each environment only to the healthy hosts that serve it', async function () {
    const seen = new Set<string>();
    for (let i = 0; i < 6; i++) seen.add((await request(front.port, site)).servedBy ?? '?');
    assert.deepEqual([...seen].sort(), ['web2', 'web3']);
    assert.equal((await request(front.port, 'integration.shop.localhost')).servedBy, 'web1');
    const none = await request(front.port, 'staging.shop.localhost');
    assert.equal(none.status, 502);
    assert.match(none.body, /No healthy host serves staging\.shop/);
    // A host that stops answering its checks gets nothing once a round has seen it.
    hosts[1]!.healthy = false;
    await front.checked();
    assert.equal(front.hosts().find((h) => h.host === 'web3')?.healthy, false);
    for (let i = 0; i < 4; i++) assert.equal((await request(front.port, site)).servedBy, 'web2');
  });

  it('sends a GET whose host fails before answering to another host, and does not repeat a POST', async function () {
    hosts[0]!.mode = 'die-before-answering';
    for (let i = 0; i < 4; i++) {
      const r = await request(front.port, site);
      assert.equal(r.status, 200);
      assert.equal(r.servedBy, 'web3');
    }
    // web2 is taken out at its first failure, until its health check says otherwise (it does: it is "healthy").
    await front.checked();
    hosts[1]!.mode = 'die-before-answering';
    hosts[0]!.mode = 'die-before-answering';
    const post = await request(front.port, site, 'POST');
    assert.equal(post.status, 502);
    assert.match(post.body, /failed before answering .*not repeated/);
  });

  it('uses a host in maintenance only when no other serves the environment', async function () {
    hosts[0]!.serving = [{ ...prod, maintenance: true }];
    await front.checked();
    for (let i = 0; i < 4; i++) assert.equal((await request(front.port, site)).servedBy, 'web3');
    hosts[1]!.healthy = false;
    await front.checked();
    assert.equal((await request(front.port, site)).servedBy, 'web2');
  });

  it('serves an environment deployed since the last round at once: the request waits for a fresh round, not the next scheduled one', async function () {
    await front.close();
    front = await startFrontRouter({ registry, port: 0, checkEveryMs: 60_000 });
    hosts[0]!.serving.push({ ...prod, environment: 'staging' });
    const started = Date.now();
    const r = await request(front.port, 'staging.shop.localhost');
    assert.equal(r.status, 200, r.body);
    assert.equal(r.servedBy, 'web2');
    assert.ok(Date.now() - started < 5_000, 'it did not wait for the scheduled round');
    // Still 502 when no host serves it after that round, naming the environment.
    const none = await request(front.port, 'review.shop.localhost');
    assert.equal(none.status, 502);
    assert.match(none.body, /No healthy host serves review\.shop now/);
  });

  it('checks the hosts at most ten times a second for requests no host serves: a flood of made-up names is not multiplied', async function () {
    await front.close();
    front = await startFrontRouter({ registry, port: 0, checkEveryMs: 60_000 });
    const before = hosts[0]!.checks;
    const started = Date.now();
    // 40 at once share one fresh round (or two: the one in progress does not count).
    const burst = await Promise.all(Array.from({ length: 40 }, (_, i) => request(front.port, `made-up-${i}.shop.localhost`)));
    assert.ok(burst.every((r) => r.status === 502));
    assert.ok(hosts[0]!.checks - before <= 2, `${hosts[0]!.checks - before} rounds for a burst of 40`);
    // One after another: each waits for a round begun after it, 100 ms after the last one.
    for (let i = 0; i < 10; i++) assert.equal((await request(front.port, `made-up.shop.localhost`)).status, 502);
    const rounds = hosts[0]!.checks - before;
    assert.ok(rounds <= 12, `${rounds} rounds`);
    assert.ok(Date.now() - started >= (rounds - 1) * 100, `${rounds} rounds in ${Date.now() - started} ms`);
  });

  it('keeps a host whose health check is slow once, and takes it out after two slow checks in a row', async function () {
    await front.close();
    const lines: string[] = [];
    front = await startFrontRouter({ registry, port: 0, checkEveryMs: 50, checkTimeoutMs: 200, log: (l) => lines.push(l) });
    const web3 = (): { healthy: boolean; slowChecks: number } => front.hosts().find((h) => h.host === 'web3')!;
    const rounds = async (n: number): Promise<void> => {
      for (let i = 0; i < n; i++) await front.checked();
    };
    const outs = (): string[] => lines.filter((l) => /host web3 .* is out/.test(l));
    // One slow check between good ones: a warning, never out.
    hosts[1]!.slowChecksLeft = 1;
    await rounds(4);
    assert.equal(hosts[1]!.slowChecksLeft, 0);
    assert.match(lines.join('\n'), /host web3 .* is slow: its health check had no answer in 200 ms \(1 of 2 in a row take it out\)/);
    assert.deepEqual(outs(), []);
    assert.equal(web3().healthy, true);
    for (let i = 0; i < 4; i++) assert.equal((await request(front.port, site)).status, 200);
    // Two in a row: out, saying why; back in at its next good answer.
    hosts[1]!.slowChecksLeft = 2;
    await rounds(5);
    assert.equal(outs().length, 1);
    assert.match(outs()[0]!, /is out: health check failed: no answer in 200 ms \(2 checks in a row\)/);
    assert.equal(web3().healthy, true);
    assert.equal(web3().slowChecks, 0);
  });

  it('skips a registry entry that does not parse, saying why', function () {
    fs.writeFileSync(path.join(registry, 'hosts', 'bad.json'), JSON.stringify({ host: 'Bad Host', router: 'ftp://x' }));
    const warnings: string[] = [];
    assert.deepEqual(readRegistry(registry, (l) => warnings.push(l)).map((a) => a.host), ['web1', 'web2', 'web3']);
    assert.match(warnings.join('\n'), /bad\.json: host: host must be a lowercase name; router: router must be http:\/\/<address>:<port>/);
    assert.throws(() => advertiseHost(registry, { host: 'web4', router: 'http://10.0.0.4:8080/path' }), /router must be http:\/\/<address>:<port>, with no path/);
  });
});
