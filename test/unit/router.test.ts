/** The router's host names, maintenance page and atomic view of releases. */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fetchFromRouter } from '../../src/cli/demo';
import { Layout } from '../../src/home';
import { parseHost, startRouter, type RunningRouter } from '../../src/router/router';
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
        assert.ok(res.status === 404 || res.status === 403, `${escape} answered ${res.status}`);
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
});
