/** The router's host names, maintenance page and atomic view of releases. */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { fetchFromRouter } from '../../src/router/fetch';
import { Layout } from '../../src/home';
import { parseHost, startRouter, type RunningRouter } from '../../src/router/router';
import { parseWebLocations } from '../../src/domain/project-files/web-locations';
import { healthCheckThroughRouter } from '../../src/activities/routing';
import { StepLog } from '../../src/activities/lib/step-log';
import type { SlugManifest } from '../../src/domain/project-files';
import { tempDir } from '../harness/world';

describe('router', function () {
  it('maps <environment>.<project>.localhost[:port] to an environment', function () {
    assert.deepEqual(parseHost('integration.shop.localhost:8080'), { project: 'shop', environment: 'integration' });
    assert.deepEqual(parseHost('sprint-3.my-shop.localhost'), { project: 'my-shop', environment: 'sprint-3' });
    assert.equal(parseHost('shop.localhost'), undefined);
    assert.equal(parseHost('integration.shop.example.com'), undefined);
    assert.equal(parseHost('integration.x.localhost'), undefined);
    assert.equal(parseHost(undefined), undefined);
  });

  describe('serving', function () {
    const layout = new Layout(tempDir('router'));
    let router: RunningRouter;
    before(async () => {
      router = await startRouter({ layout, port: 0 });
      const releases = layout.releases('shop', 'integration');
      fs.mkdirSync(path.join(releases, 'd000001', 'pub'), { recursive: true });
      fs.writeFileSync(path.join(releases, 'd000001', 'pub', 'index.html'), '<title>One</title>');
      fs.writeFileSync(path.join(releases, 'd000001', 'secret.txt'), 'outside the web root');
      fs.writeFileSync(
        path.join(releases, 'd000001.json'),
        JSON.stringify({ release: 'd000001', deployment: 1, commit: 'c1', slug: 's1', webRoot: 'pub', stagedAt: '' }),
      );
      fs.symlinkSync('releases/d000001', layout.current('shop', 'integration'));
    });
    after(() => router.close());

    it('serves the current release from its web root only', async function () {
      const page = await fetchFromRouter(router.port, 'integration.shop.localhost');
      assert.equal(page.status, 200);
      assert.equal(page.body, '<title>One</title>');
      assert.equal(page.headers['x-slipway-release'], 'd000001');
      for (const escape of ['/../secret.txt', '/%2e%2e/secret.txt', '/..%2fsecret.txt']) {
        const res = await fetchFromRouter(router.port, 'integration.shop.localhost', escape);
        // Refused: 404 or 403 by the router, 400 by the edge (nginx refuses a path above "/").
        assert.ok(res.status === 404 || res.status === 403 || res.status === 400, `${escape} answered ${res.status}`);
        assert.doesNotMatch(res.body, /outside the web root/);
      }
    });

    it('answers 404 for an environment with no release and for unknown hosts', async function () {
      const none = await fetchFromRouter(router.port, 'staging.shop.localhost');
      assert.equal(none.status, 404);
      assert.match(none.body, /no deployed release/);
      assert.equal((await fetchFromRouter(router.port, 'example.com')).status, 404);
    });

    it('answers 503 with Retry-After and a maintenance page during maintenance', async function () {
      const flag = layout.maintenanceFlag('shop', 'integration');
      fs.writeFileSync(flag, '');
      try {
        const page = await fetchFromRouter(router.port, 'integration.shop.localhost');
        assert.equal(page.status, 503);
        assert.ok(Number(page.headers['retry-after']) > 0);
        assert.match(page.body, /maintenance/i);
      } finally {
        fs.rmSync(flag);
      }
    });
  });

  describe('web.locations, redirects and scripts', function () {
    const layout = new Layout(tempDir('router-loc'));
    let router: RunningRouter;
    before(async () => {
      router = await startRouter({ layout, port: 0 });
      const rel = path.join(layout.releases('shop', 'integration'), 'd000002');
      for (const [file, content] of Object.entries({
        'pub/page.html': '<title>Page</title>',
        'pub/notes.md': 'not allowed by any rule',
        'pub/index.php': '<?php $password = "s3cret";',
        'pub/static/frontend/A/b/en_US/x.css': '.x{}',
        'pub/admin/index.html': '<title>Admin</title>',
      })) {
        fs.mkdirSync(path.dirname(path.join(rel, file)), { recursive: true });
        fs.writeFileSync(path.join(rel, file), content);
      }
      const locations = parseWebLocations(
        {
          '/': { root: 'pub', passthru: '/index.php', index: ['index.php'], allow: false, rules: { '\\.(css|html?)$': { allow: true } } },
          '/static': { root: 'pub/static', allow: true, passthru: '/front-static.php', rules: { '^/static/version\\d+/(?<resource>.*)$': { passthru: '/static/$resource' } } },
          '/admin': { root: 'pub/admin', allow: true, index: ['index.html'] },
        },
        '.magento.app.yaml',
        [],
      );
      fs.writeFileSync(
        path.join(layout.releases('shop', 'integration'), 'd000002.json'),
        JSON.stringify({
          release: 'd000002', deployment: 2, commit: 'c2', slug: 's2', webRoot: 'pub', stagedAt: '', locations,
          routes: [
            { host: 'integration.shop.localhost', path: '/', type: 'upstream', url: 'http://integration.shop.localhost/' },
            { host: 'www.integration.shop.localhost', path: '/', type: 'redirect', url: 'http://www.integration.shop.localhost/', to: 'https://integration.shop.localhost/' },
            { host: 'integration.shop.localhost', path: '/old-admin', type: 'redirect', url: 'http://integration.shop.localhost/old-admin', to: 'http://integration.shop.localhost/admin/gone.html' },
          ],
        }),
      );
      fs.symlinkSync('releases/d000002', layout.current('shop', 'integration'));
    });
    after(() => router.close());
    const get = (urlPath: string, host = 'integration.shop.localhost') => fetchFromRouter(router.port, host, urlPath);

    it('serves files the rules allow, and nothing else', async function () {
      assert.equal((await get('/page.html')).body, '<title>Page</title>');
      assert.equal((await get('/notes.md')).status, 404, 'allow: false and no rule allows .md');
    });

    it('rewrites versioned static URLs by the location rule', async function () {
      assert.equal((await get('/static/frontend/A/b/en_US/x.css')).body, '.x{}');
      assert.equal((await get('/static/version1732371234/frontend/A/b/en_US/x.css')).body, '.x{}');
      assert.equal((await get('/static/version1/frontend/A/b/en_US/missing.css')).status, 404);
    });

    it('never serves a PHP script as text', async function () {
      for (const url of ['/index.php', '/', '/nosuch']) {
        const res = await get(url);
        assert.equal(res.status, 404, url);
        assert.doesNotMatch(res.body, /s3cret/, url);
      }
    });

    it('redirects a directory to its slash, then serves its index', async function () {
      const res = await get('/admin');
      assert.equal(res.status, 301);
      assert.equal(res.headers.location, '/admin/');
      assert.match((await get('/admin/')).body, /Admin/);
    });

    it('the smoke check follows redirects: a redirect to a missing page fails it', async function () {
      const manifest = { routes: { 'http://{default}/': { type: 'upstream', upstream: 'app:http' } } } as unknown as SlugManifest;
      const ctx = { project: 'shop', environment: 'integration', number: 2, manifest };
      const log = new StepLog(layout, ctx);
      await healthCheckThroughRouter(router.port, { ...ctx, smokePaths: ['/admin'] }, log);
      assert.match(fs.readFileSync(layout.deployLog(ctx), 'utf8'), /\/admin: 200 \(via http:\/\/integration\.shop\.localhost\/admin\/\)/);
      await assert.rejects(healthCheckThroughRouter(router.port, { ...ctx, smokePaths: ['/old-admin'] }, log), /\/old-admin answered 404 \(via http:\/\/integration\.shop\.localhost\/admin\/gone\.html\)/);
    });

    it("keeps the router's port (and plain http) in a redirect route's Location", async function () {
      const res = await get('/page.html?x=1', 'www.integration.shop.localhost');
      assert.equal(res.status, 301);
      assert.equal(res.headers.location, `http://integration.shop.localhost:${router.port}/page.html`);
    });
  });

  describe("proxying to the environment's web server", function () {
    const layout = new Layout(tempDir('router-proxy'));
    let router: RunningRouter;
    let upstream: http.Server;
    before(async () => {
      router = await startRouter({ layout, port: 0 });
      const releases = layout.releases('shop', 'integration');
      fs.mkdirSync(path.join(releases, 'd000001', 'pub'), { recursive: true });
      fs.writeFileSync(
        path.join(releases, 'd000001.json'),
        JSON.stringify({ release: 'd000001', deployment: 1, commit: 'c1', slug: 's1', webRoot: 'pub', stagedAt: '' }),
      );
      fs.symlinkSync('releases/d000001', layout.current('shop', 'integration'));
      // Stands for the release's nginx: answers with what it was asked, body included. The
      // router reaches it as it reaches nginx, through the link to the served release's socket.
      const link = layout.webSocket('shop', 'integration');
      const socket = path.join(path.dirname(link), 'd000001', 'web.sock');
      fs.mkdirSync(path.dirname(socket), { recursive: true });
      fs.symlinkSync(path.join('d000001', 'web.sock'), link);
      upstream = http.createServer((req, res) => {
        let body = '';
        req.setEncoding('utf8');
        req.on('data', (c: string) => (body += c));
        req.on('end', () => {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ method: req.method, url: req.url, body, host: req.headers['x-forwarded-host'], connection: req.headers.connection }));
        });
      });
      await new Promise<void>((resolve) => upstream.listen(socket, resolve));
    });
    after(async () => {
      await router.close();
      await new Promise((resolve) => upstream.close(resolve));
    });

    const ask = (method: string, urlPath: string, body?: string, headers: http.OutgoingHttpHeaders = {}): Promise<{ status: number; seen: Record<string, string> }> =>
      new Promise((resolve, reject) => {
        const req = http.request({ host: '127.0.0.1', port: router.port, method, path: urlPath, headers: { host: 'integration.shop.localhost', ...headers }, agent: false }, (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (text += c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, seen: JSON.parse(text) as Record<string, string> }));
        });
        req.on('error', reject);
        if (body === undefined) req.end();
        else {
          // Written in two pieces: with no Content-Length, Node sends it chunked.
          req.write(body.slice(0, 2));
          req.end(body.slice(2));
        }
      });

    it('passes requests with and without a body on, the body whole', async function () {
      const got = await ask('GET', '/products?page=2');
      assert.equal(got.status, 200);
      assert.deepEqual(got.seen, { method: 'GET', url: '/products?page=2', body: '', host: 'integration.shop.localhost', connection: 'keep-alive' });
      const form = 'sku=MJ01&name=Kit';
      const posted = await ask('POST', '/admin/products', form, { 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(form) });
      assert.deepEqual([posted.seen.method, posted.seen.body], ['POST', form]);
      const chunked = await ask('POST', '/admin/products', form, { 'content-type': 'application/x-www-form-urlencoded' });
      assert.deepEqual([chunked.seen.method, chunked.seen.body], ['POST', form]);
      const empty = await ask('POST', '/admin/products', '', { 'content-length': 0 });
      assert.deepEqual([empty.seen.method, empty.seen.body], ['POST', '']);
    });
  });
});
