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

  describe('installing with apt-get (a fake apt-get first on PATH)', function () {
    let dir: string;
    let savedPath: string | undefined;
    const calls = (): string[] => (fs.existsSync(path.join(dir, 'calls')) ? fs.readFileSync(path.join(dir, 'calls'), 'utf8').trim().split('\n') : []);
    /** apt-get that logs its arguments, takes a moment, and "installs" by creating the program beside itself. */
    const fakeAptGet = (program: string, exitCode = 0): void => {
      fs.writeFileSync(
        path.join(dir, 'apt-get'),
        `#!/bin/sh\necho "$*" >> ${JSON.stringify(path.join(dir, 'calls'))}\nsleep 0.3\n` +
          (exitCode === 0 ? `printf '#!/bin/sh\\necho fake\\n' > ${JSON.stringify(path.join(dir, program))}\nchmod 755 ${JSON.stringify(path.join(dir, program))}\n` : `echo 'E: Unable to locate package' >&2\n`) +
          `exit ${exitCode}\n`,
        { mode: 0o755 },
      );
    };
    beforeEach(function () {
      if (process.getuid?.() !== 0) throw new Error('these tests run as root, as the suite does (the install path is root\'s)');
      dir = tempDir('fake-apt');
      savedPath = process.env.PATH;
      process.env.PATH = `${dir}:${savedPath ?? ''}`;
    });
    afterEach(function () {
      process.env.PATH = savedPath;
    });

    it('prints what it installs and where it is, and concurrent callers share one install', async function () {
      const program = `slipway-fake-${path.basename(dir)}`;
      fakeAptGet(program);
      const debian = path.join(dir, 'os-release');
      fs.writeFileSync(debian, 'ID=debian\n');
      const heard: string[][] = [[], [], []];
      const stderr: string[] = [];
      const realError = console.error;
      console.error = (...args: unknown[]) => void stderr.push(args.join(' '));
      let paths: string[];
      try {
        const p = { program, debianPackage: 'fake-package', extraPackages: ['fake-extra'], purpose: 'for this test' };
        paths = await Promise.all(heard.map((h) => ensureHostProgram(p, (m) => h.push(m), { osRelease: debian })));
      } finally {
        console.error = realError;
      }
      const installed = path.join(dir, program);
      assert.deepEqual(paths, [installed, installed, installed]);
      assert.deepEqual(calls(), ['-o DPkg::Lock::Timeout=300 install -y --no-install-recommends fake-package fake-extra'], 'one apt-get for the three callers');
      const lines = [
        `installing the Debian package fake-package fake-extra (${program}, needed for this test) with apt-get…`,
        `installed fake-package fake-extra: ${installed}`,
      ];
      // The caller that started the install hears both lines; the operator reads them on stderr.
      assert.deepEqual(heard[0], lines);
      assert.deepEqual(stderr, lines.map((l) => `slipway: ${l}`));
      // Installed now: found on PATH with no apt-get.
      assert.equal(await ensureHostProgram({ program, debianPackage: 'fake-package', purpose: 'for this test' }, () => assert.fail('nothing to install'), { osRelease: debian }), installed);
      assert.equal(calls().length, 1);
    });

    it('updates the package lists and tries again when apt-get install fails, then names the command in one error', async function () {
      const program = `slipway-fake-${path.basename(dir)}`;
      fakeAptGet(program, 100);
      const debian = path.join(dir, 'os-release');
      fs.writeFileSync(debian, 'ID=ubuntu\nID_LIKE=debian\n');
      const realError = console.error;
      console.error = () => {};
      const attempt = ensureHostProgram({ program, debianPackage: 'fake-package', purpose: 'for this test' }, () => {}, { osRelease: debian }).finally(() => {
        console.error = realError;
      });
      await assert.rejects(
        attempt,
        (e: Error) => {
          assert.equal(
            e.message,
            `${program} is needed for this test and is not on PATH; apt-get install fake-package failed: E: Unable to locate package. Install the Debian package: apt-get install fake-package`,
          );
          return true;
        },
      );
      assert.deepEqual(calls(), [
        '-o DPkg::Lock::Timeout=300 install -y --no-install-recommends fake-package',
        '-o DPkg::Lock::Timeout=300 update',
        '-o DPkg::Lock::Timeout=300 install -y --no-install-recommends fake-package',
      ]);
    });

    it('stops with one error naming the exact install command on a system other than Debian or Ubuntu, apt-get not run', async function () {
      const program = `slipway-fake-${path.basename(dir)}`;
      fakeAptGet(program);
      const fedora = path.join(dir, 'os-release');
      fs.writeFileSync(fedora, 'ID=fedora\nID_LIKE="rhel centos"\n');
      const heard: string[] = [];
      await assert.rejects(
        ensureHostProgram({ program, debianPackage: 'fake-package', extraPackages: ['fake-extra'], purpose: 'for this test' }, (m) => heard.push(m), { osRelease: fedora }),
        (e: Error) => {
          assert.equal(e.name, 'HostPackageMissingError');
          assert.equal(
            e.message,
            `${program} is needed for this test and is not on PATH; Slipway installs it itself only on Debian or Ubuntu. Install the Debian package: apt-get install fake-package fake-extra`,
          );
          return true;
        },
      );
      assert.deepEqual(calls(), [], 'apt-get is not run');
      assert.deepEqual(heard, []);
      assert.ok(!fs.existsSync(path.join(dir, program)));
    });
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
