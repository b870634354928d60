/**
 * The router serves only what lies inside the current release or one of the environment's
 * mounts, every link resolved: real HTTP requests to a router started on a release full of
 * hostile links, hidden files and scripts. What it refuses answers 404, as a missing file does.
 */
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { Layout } from '../../src/home';
import { startRouter, type RunningRouter } from '../../src/router/router';
import { parseWebLocations } from '../../src/domain/project-files/web-locations';
import { tempDir } from '../harness/world';
import { writeFile as write, link } from '../harness/trees';

/** A request with headers of its own (Range, If-None-Match), through the router. */
function request(port: number, host: string, urlPath: string, headers: Record<string, string> = {}, method = 'GET') {
  return new Promise<{ status: number; body: string; headers: http.IncomingHttpHeaders }>((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: urlPath, method, headers: { host: `${host}:${port}`, ...headers } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
    });
    req.on('error', reject);
    req.setTimeout(5_000, () => req.destroy(new Error(`${urlPath} timed out`)));
    req.end();
  });
}

const SECRET = /root:|host secret|other environment|do-not-serve|APP_KEY/;

describe('router: only what is inside the release or its mounts', function () {
  const home = tempDir('router-contain');
  const layout = new Layout(home);
  const host = tempDir('router-host');
  let router: RunningRouter;
  const release = layout.release('shop', 'integration', 'd000003');
  const media = layout.mount('shop', 'integration', 'media');
  const get = (urlPath: string, headers: Record<string, string> = {}, method = 'GET') =>
    request(router.port, 'integration.shop.localhost', urlPath, headers, method);

  before(async function () {
    write(path.join(host, 'secret.txt'), 'host secret\n');
    // Another environment's release, beside this one.
    const sibling = layout.release('shop', 'staging', 'd000001');
    write(path.join(sibling, 'pub/index.html'), '<title>other environment</title>');
    // The release: its pages, and what a tenant committed or a hook left.
    write(path.join(release, 'pub/index.html'), '<title>Home</title>');
    write(path.join(release, 'pub/.env'), 'APP_KEY=1\n');
    write(path.join(release, 'pub/.git/config'), '[core]\n');
    write(path.join(release, 'pub/.well-known/x.txt'), 'hidden dir\n');
    write(path.join(release, 'pub/x.php'), '<?php $secret = "do-not-serve";');
    write(path.join(release, 'notes/readme.txt'), 'in the release, outside the web root\n');
    write(path.join(release, 'docs/index.html'), '<title>Docs</title>');
    link('/etc/passwd', path.join(release, 'pub/x'));
    link('/', path.join(release, 'pub/r'));
    link(path.join(host, 'secret.txt'), path.join(release, 'pub/host.txt'));
    link(sibling, path.join(release, 'pub/sibling'));
    link(path.join(sibling, 'pub/index.html'), path.join(release, 'pub/sibling.html'));
    link('x.php', path.join(release, 'pub/script.txt'));
    link('.env', path.join(release, 'pub/env.txt'));
    link('index.html', path.join(release, 'pub/alias.html'));
    link('../notes/readme.txt', path.join(release, 'pub/readme.txt'));
    link('../docs', path.join(release, 'pub/docs'));
    // The mount pub/media, linked as staging links it, with what a tenant put in it.
    write(path.join(media, 'photo.txt'), 'a photo\n');
    write(path.join(media, '.htaccess'), 'deny\n');
    link('/etc/passwd', path.join(media, 'evil.txt'));
    execFileSync('mkfifo', [path.join(media, 'pipe.txt')]);
    link(media, path.join(release, 'pub/media'));
    link('media/photo.txt', path.join(release, 'pub/photo.txt'));
    // A mount whose own directory a tenant replaced by a link (through an outer mount).
    fs.mkdirSync(layout.mount('shop', 'integration', 'outer'), { recursive: true });
    link('/', layout.mount('shop', 'integration', 'outer/inner'));
    link(layout.mount('shop', 'integration', 'outer/inner'), path.join(release, 'pub/inner'));

    const locations = parseWebLocations(
      { '/': { root: 'pub', passthru: '/index.php', index: ['index.html'], allow: true } },
      '.magento.app.yaml',
      [],
    );
    fs.writeFileSync(
      `${release}.json`,
      JSON.stringify({
        release: 'd000003', deployment: 3, commit: 'c3', slug: 's3', webRoot: 'pub', stagedAt: '', locations,
        mounts: { 'pub/media': 'media', 'pub/inner': 'outer/inner' },
      }),
    );
    fs.symlinkSync('releases/d000003', layout.current('shop', 'integration'));
    router = await startRouter({ layout, port: 0 });
  });
  after(() => router.close());

  it('serves the release, links that stay inside it, and links into its mounts', async function () {
    for (const [url, body] of [
      ['/', '<title>Home</title>'],
      ['/alias.html', '<title>Home</title>'],
      ['/readme.txt', 'in the release, outside the web root\n'],
      ['/docs/', '<title>Docs</title>'],
      ['/media/photo.txt', 'a photo\n'],
      ['/photo.txt', 'a photo\n'],
    ]) {
      const res = await get(url!);
      assert.equal(res.status, 200, `${url} answered ${res.status}`);
      assert.equal(res.body, body, url);
    }
    assert.equal((await get('/docs')).status, 301);
  });

  it('answers 404 for links out of the release: host files, the root, another environment', async function () {
    for (const url of [
      '/x',
      '/r',
      '/r/',
      '/r/etc/passwd',
      '/host.txt',
      '/sibling/pub/index.html',
      '/sibling.html',
      '/media/evil.txt',
      '/inner/etc/passwd',
    ]) {
      const res = await get(url);
      assert.equal(res.status, 404, `${url} answered ${res.status}`);
      assert.doesNotMatch(res.body, SECRET, url);
    }
  });

  it('never serves a hidden file or a PHP script, not even through a link', async function () {
    for (const url of ['/.env', '/.git/config', '/.well-known/x.txt', '/env.txt', '/media/.htaccess', '/x.php', '/X.PHP', '/script.txt']) {
      const res = await get(url);
      assert.equal(res.status, 404, `${url} answered ${res.status}`);
      assert.doesNotMatch(res.body, SECRET, url);
    }
    // A script goes to the passthru, which no PHP runtime answers yet: said in the header.
    assert.equal((await get('/x.php')).headers['x-slipway-passthru'], '/index.php');
  });

  it('a FIFO in a mount is no file: 404 at once, nothing blocks', async function () {
    const res = await get('/media/pipe.txt');
    assert.equal(res.status, 404);
  });

  it('keeps what send gave: content type, ETag and 304, ranges, HEAD', async function () {
    const page = await get('/alias.html');
    assert.equal(page.headers['content-type'], 'text/html; charset=utf-8');
    const etag = page.headers.etag;
    assert.ok(etag, 'an ETag');
    assert.equal((await get('/alias.html', { 'if-none-match': etag })).status, 304);
    const part = await get('/media/photo.txt', { range: 'bytes=2-6' });
    assert.equal(part.status, 206);
    assert.equal(part.body, 'photo');
    const beyond = await get('/media/photo.txt', { range: 'bytes=100-200' });
    assert.equal(beyond.status, 416, 'a range past the end is refused as send refuses it');
    assert.equal(beyond.headers['content-range'], 'bytes */8');
    const head = await get('/photo.txt', {}, 'HEAD');
    assert.equal(head.status, 200);
    assert.equal(head.headers['content-length'], '8');
    assert.equal(head.body, '');
  });

  it('changed nothing outside', function () {
    assert.equal(fs.readFileSync(path.join(host, 'secret.txt'), 'utf8'), 'host secret\n');
    assert.deepEqual(fs.readdirSync(host), ['secret.txt']);
  });
});
