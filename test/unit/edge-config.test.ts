/**
 * The edge's nginx configuration (src/domain/runtime/edge-config.ts): accepted by `nginx -t`
 * where nginx is installed, hosts mapped to environments without a way out of envs/, and paths
 * that nginx would read as variables refused. Served for real by every e2e test (the harness's
 * router has the edge in front) and measured by `npm run bench` (runtime).
 */
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { edgeConfig, plainPath, type EdgeConfigInput } from '../../src/domain/runtime/edge-config';
import { locateNginx } from '../../src/runtime/web-programs';
import { tempDir } from '../harness/world';

describe('the edge configuration', function () {
  const dir = tempDir('edge-config');
  after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const input: EdgeConfigInput = { home: '/var/lib/slipway', listenHost: '127.0.0.1', port: 8080, routerSocket: path.join(dir, 'router.sock'), dir, workers: 2, workersAsRoot: false };

  it('is accepted by nginx -t, and maps only <environment>.<project>.localhost to envs/<project>/<environment>', function () {
    const config = edgeConfig(input);
    const nginx = locateNginx();
    if (nginx) {
      fs.mkdirSync(path.join(dir, 'tmp'), { recursive: true });
      fs.writeFileSync(path.join(dir, 'nginx.conf'), config);
      execFileSync(nginx, ['-t', '-q', '-c', path.join(dir, 'nginx.conf'), '-e', path.join(dir, 'error.log')], { stdio: 'pipe' });
    }
    const pattern = /"~(\^.*\$)" "\/var\/lib\/slipway\/envs\/\$slipway_p\/\$slipway_e";/.exec(config)?.[1];
    assert.ok(pattern, config);
    const re = new RegExp(pattern.replace(/\?<slipway_(\w)>/g, '?<$1>').replace(/\\\\/g, '\\'));
    assert.deepEqual({ ...re.exec('integration.shop.localhost')?.groups }, { e: 'integration', p: 'shop' });
    for (const host of ['..shop.localhost', 'x.y.shop.localhost', 'integration.sh.localhost', 'integration.shop.localhost.evil', 'integration.shop.example', '-a.shop.localhost']) {
      assert.equal(re.exec(host), null, host);
    }
    assert.match(config, /if \(-f \$slipway_env\/maintenance\) \{\n\s+return 418;/, 'an environment in maintenance goes to the router');
    assert.match(config, /proxy_pass http:\/\/unix:\$slipway_env\/app\/run\/edge\/web\.sock:;/);
    assert.doesNotMatch(config, /user root/, 'workers stay root only when asked');
    assert.match(edgeConfig({ ...input, workersAsRoot: true }), /^user root;$/m);
  });

  it('refuses paths nginx would read as variables, and bad addresses', function () {
    assert.equal(plainPath('/home/me/.slipway'), true);
    for (const bad of ['/home/$host', '/home/a b', 'relative', '/a/../b', '/a"b']) {
      assert.equal(plainPath(bad), false, bad);
      assert.throws(() => edgeConfig({ ...input, home: bad }), /data directory must be an absolute path/);
    }
    assert.throws(() => edgeConfig({ ...input, listenHost: 'a; b' }), /listen address/);
    assert.throws(() => edgeConfig({ ...input, port: 0 }), /port must be 1 to 65535/);
  });
});
