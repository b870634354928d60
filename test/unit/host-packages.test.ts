/** Host software from Debian: found on PATH, else installed by root on Debian/Ubuntu, else one error naming the package and the command. */
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ensureHostProgram, isDebianLike } from '../../src/host-packages';
import { tempDir } from '../harness/world';

const MODULE = path.resolve(__dirname, '..', '..', 'src', 'host-packages.js');

describe('host software from Debian packages', function () {
  it('finds a program on PATH without installing anything', async function () {
    const onPath = (process.env.PATH ?? '').split(':').map((d) => path.join(d, 'sh')).find((p) => fs.existsSync(p));
    assert.equal(await ensureHostProgram({ program: 'sh', debianPackage: 'dash', purpose: 'for this test' }), onPath);
  });

  it('tells Debian and Ubuntu from other systems by os-release', function () {
    const dir = tempDir('os-release');
    const file = (name: string, text: string): string => {
      fs.writeFileSync(path.join(dir, name), text);
      return path.join(dir, name);
    };
    assert.equal(isDebianLike(file('debian', 'ID=debian\n')), true);
    assert.equal(isDebianLike(file('ubuntu', 'ID=ubuntu\nID_LIKE=debian\n')), true);
    assert.equal(isDebianLike(file('mint', 'ID=linuxmint\nID_LIKE="ubuntu debian"\n')), true);
    assert.equal(isDebianLike(file('fedora', 'ID=fedora\n')), false);
    assert.equal(isDebianLike(path.join(dir, 'missing')), false);
  });

  it('stops with one error naming the package and the command when it may not install (not root)', function () {
    const script = `require(${JSON.stringify(MODULE)}).ensureHostProgram({ program: 'slipway-no-such-program', debianPackage: 'slipway-no-such-package', purpose: 'for this test' }).then(() => process.exit(0), (e) => { console.error(e.message); process.exit(3); });`;
    const r = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, '-e', script], { encoding: 'utf8', env: { PATH: '/usr/bin:/bin' } });
    assert.equal(r.status, 3, r.stderr);
    assert.equal(
      r.stderr.trim(),
      'slipway-no-such-program is needed for this test and is not on PATH; Slipway installs it itself only when it runs as root. Install the Debian package: apt-get install slipway-no-such-package',
    );
  });
});
