/**
 * What a tenant could commit or leave behind to make the engine write outside the environment
 * while it seeds mounts or publishes static content on request: links in the build output, in
 * a mount, or in a theme, and paths that climb out. Nothing outside may change.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { keepBuildContentAside, seedMounts } from '../../src/magento/mounts';
import { publishOnRequest, ThemeCatalog } from '../../src/magento/static-content';
import { tempDir } from '../harness/world';
import { writeFile as write } from '../harness/trees';

describe('mounts and static content against hostile tenant input', function () {
  it('seeding follows no link: not in the build output, not in the mount', async function () {
    const root = tempDir('hostile-mounts');
    const outside = path.join(root, 'outside');
    write(path.join(outside, 'secret.txt'), 'host secret\n');
    const release = path.join(root, 'release');
    const etcMount = path.join(root, 'mounts', 'etc');
    const staticMount = path.join(root, 'mounts', 'static');
    // The build output: a real config.php, a link to a host file, a link to a host directory.
    write(path.join(release, 'app/etc/config.php'), '<?php return [];\n');
    fs.symlinkSync(path.join(outside, 'secret.txt'), path.join(release, 'app/etc/stolen.php'));
    write(path.join(release, 'pub/static/frontend/A/b/en_US/x.css'), '.x{}\n');
    fs.symlinkSync(outside, path.join(release, 'pub/static/escape'));
    // A mount a hook filled with links where the engine will write: a directory and a file.
    fs.mkdirSync(etcMount, { recursive: true });
    fs.symlinkSync(path.join(outside, 'secret.txt'), path.join(etcMount, 'config.php'));
    fs.mkdirSync(staticMount, { recursive: true });
    fs.symlinkSync(outside, path.join(staticMount, 'frontend'));

    const log: string[] = [];
    await keepBuildContentAside(release, ['app/etc', 'pub/static'], (l) => log.push(l));
    for (const [mountPath, dir] of Object.entries({ 'app/etc': etcMount, 'pub/static': staticMount })) {
      fs.rmSync(path.join(release, mountPath), { recursive: true, force: true });
      fs.symlinkSync(dir, path.join(release, mountPath));
    }
    for (const staticSymlink of [false, true]) {
      await seedMounts({ release, mounts: { 'app/etc': etcMount, 'pub/static': staticMount }, staticSymlink, cleanStatic: false, log: (l) => log.push(l) });
    }
    assert.equal(fs.readFileSync(path.join(outside, 'secret.txt'), 'utf8'), 'host secret\n', 'the host file is untouched');
    assert.deepEqual(fs.readdirSync(outside).sort(), ['secret.txt'], 'nothing was written into the host directory');
    assert.ok(!fs.lstatSync(path.join(etcMount, 'config.php')).isSymbolicLink(), 'the link in the mount was replaced, not written through');
    assert.equal(fs.readFileSync(path.join(etcMount, 'config.php'), 'utf8'), '<?php return [];\n');
    assert.ok(!fs.existsSync(path.join(etcMount, 'stolen.php')), 'a link in the build output is not copied');
    assert.ok(!fs.existsSync(path.join(staticMount, 'escape')), 'nor linked');
    assert.ok(log.some((l) => /skipped .*stolen\.php: not a regular file or directory/.test(l)));
  });

  it('static content on request: no path out of pub/static, no link in a theme followed', async function () {
    const root = tempDir('hostile-ondemand');
    const app = path.join(root, 'app');
    const outside = path.join(root, 'outside');
    write(path.join(outside, 'secret.css'), 'host secret\n');
    write(path.join(app, 'app/design/frontend/A/b/theme.xml'), '<theme/>');
    write(path.join(app, 'app/design/frontend/A/b/web/css/ok.css'), '.ok{}\n');
    fs.symlinkSync(path.join(outside, 'secret.css'), path.join(app, 'app/design/frontend/A/b/web/css/link.css'));
    // A theme directory committed as a link to the host.
    fs.mkdirSync(path.join(app, 'app/design/frontend/Evil'), { recursive: true });
    fs.symlinkSync(outside, path.join(app, 'app/design/frontend/Evil/theme'));
    const out = path.join(root, 'static');
    fs.mkdirSync(out);
    const catalog = new ThemeCatalog(app);
    for (const p of [
      'frontend/A/b/en_US/css/link.css',
      'frontend/A/b/en_US/../../../../outside/secret.css',
      'frontend/A/b/en_US/..%2f..%2fsecret.css',
      'frontend/Evil/theme/en_US/secret.css',
      'frontend/A/b/../x/en_US/css/ok.css',
      'frontend/A/b/en-US/css/ok.css',
    ]) {
      assert.equal(await publishOnRequest(catalog, out, p), undefined, p);
    }
    assert.equal(await publishOnRequest(catalog, out, 'frontend/A/b/en_US/css/ok.css'), path.join(out, 'frontend/A/b/en_US/css/ok.css'));
    assert.deepEqual(fs.readdirSync(outside), ['secret.css']);
  });
});
