/**
 * Symbolic links committed in a tenant's tree: where they lead, and the validate step's
 * refusal of each one that leads out of the application where the engine would follow it
 * (web roots, mount paths, theme directories, patches), naming the link and where it points.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { formatIssue } from '../../src/domain/app-config';
import { planFromProjectFiles, type SlugManifest } from '../../src/domain/project-files';
import { linksOutOfTree } from '../../src/activities/lib/tree-check';
import { linkOutOfTree, resolvesInside } from '../../src/tree-links';
import { tempDir } from '../harness/world';
import { writeFile as write, link } from '../harness/trees';

const APP = 'name: mymagento\ntype: php:8.3\n';

function manifestOf(appYaml: string, files: Record<string, string> = {}): SlugManifest {
  const plan = planFromProjectFiles({ '.magento.app.yaml': appYaml, ...files });
  if (!plan.ok) throw new Error(plan.issues.map(formatIssue).join('; '));
  return plan.manifest;
}

describe('symbolic links in the tree', function () {
  it('linkOutOfTree: the first link on the way that leads out, by where it points', function () {
    const root = tempDir('links');
    const tree = path.join(root, 'tree');
    const host = path.join(root, 'host');
    write(path.join(host, 'secret'), 'host\n');
    write(path.join(tree, 'real/file'), 'ok\n');
    link('/etc', path.join(tree, 'abs'));
    link('../host', path.join(tree, 'rel'));
    link('../../nowhere', path.join(tree, 'dangling'));
    link('b', path.join(tree, 'a'));
    link('/etc', path.join(tree, 'b'));
    link('real', path.join(tree, 'inside'));
    link('/', path.join(tree, 'real/root'));
    link('../real/file', path.join(tree, 'real/self'));

    assert.deepEqual(linkOutOfTree(tree, 'abs'), { link: 'abs', target: '/etc' });
    assert.deepEqual(linkOutOfTree(tree, 'abs/passwd'), { link: 'abs', target: '/etc' });
    assert.deepEqual(linkOutOfTree(tree, 'rel/secret'), { link: 'rel', target: '../host' });
    assert.deepEqual(linkOutOfTree(tree, 'dangling'), { link: 'dangling', target: '../../nowhere' }, 'a dangling link counts by where it would lead');
    assert.deepEqual(linkOutOfTree(tree, 'a'), { link: 'a', target: 'b' }, 'a chain of links is followed to its end');
    assert.deepEqual(linkOutOfTree(tree, 'inside/root/etc'), { link: 'inside/root', target: '/' }, 'the walk goes on through a link that stays inside');
    assert.equal(linkOutOfTree(tree, 'inside/file'), undefined);
    assert.equal(linkOutOfTree(tree, 'real/self'), undefined);
    assert.equal(linkOutOfTree(tree, 'missing/abs'), undefined, 'nothing there, nothing to follow');
    assert.throws(() => linkOutOfTree(tree, '../host'), /not a relative path inside the tree/);
    assert.throws(() => linkOutOfTree(tree, '/etc'), /not a relative path inside the tree/);

    assert.equal(resolvesInside(tree, path.join(tree, 'inside/file')), true);
    assert.equal(resolvesInside(tree, path.join(tree, 'rel/secret')), false);
    assert.equal(resolvesInside(tree, path.join(tree, 'missing')), false);
  });

  it('validation refuses links out of the application for web roots, mounts, themes and patches, naming each and where it points', function () {
    const root = tempDir('tree-check');
    const ws = path.join(root, 'workspace');
    const host = path.join(root, 'host');
    write(path.join(host, 'var/victim.txt'), 'host file\n');
    fs.mkdirSync(ws);
    // The web root: pub is a link to a host directory.
    link(host, path.join(ws, 'pub'));
    // A second location's root passes through a link out.
    link('../host', path.join(ws, 'web'));
    // A mount under a link out (the report's `lnk` + `lnk/var`), and a mount that is one.
    link(host, path.join(ws, 'lnk'));
    link('/tmp', path.join(ws, 'tmpdir'));
    // Theme directories: one theme, one vendor level, and a theme's web/ directory.
    link(host, path.join(ws, 'app/design/frontend/Evil/theme'));
    link('/usr', path.join(ws, 'app/design/adminhtml/Evil'));
    write(path.join(ws, 'app/design/frontend/Good/theme/theme.xml'), '<theme/>');
    link('/etc', path.join(ws, 'app/design/frontend/Good/theme/web'));
    // A registration.php under vendor/ naming a directory behind a link out.
    write(
      path.join(ws, 'vendor/acme/theme-x/registration.php'),
      "<?php\nuse Magento\\Framework\\Component\\ComponentRegistrar;\nComponentRegistrar::register(ComponentRegistrar::THEME, 'frontend/Acme/x', __DIR__ . '/src/theme');\n",
    );
    link(host, path.join(ws, 'vendor/acme/theme-x/src'));
    // A patch that is a link to a host file.
    link('/etc/passwd', path.join(ws, 'm2-hotfixes/0001-x.patch'));
    // Links that stay inside are fine: a theme, a patch, a vendor package.
    write(path.join(ws, 'themes/real/theme.xml'), '<theme/>');
    link('../../../../themes/real', path.join(ws, 'app/design/frontend/Inside/theme'));
    write(path.join(ws, 'patches/0002-y.patch'), '');
    link('../patches/0002-y.patch', path.join(ws, 'm2-hotfixes/0002-y.patch'));

    const manifest = manifestOf(
      `${APP}web:\n  locations:\n    "/":\n      root: "pub"\n    "/w":\n      root: "web/x"\nmounts:\n  "lnk/var": "shared:files/var"\n  "tmpdir": "shared:files/tmp"\n  "var": "shared:files/var2"\n`,
    );
    assert.deepEqual(linksOutOfTree(ws, manifest).map(formatIssue), [
      `pub: is a symbolic link to ${host}, outside the application: web.locations."/".root cannot follow it`,
      'web: is a symbolic link to ../host, outside the application: web.locations."/w".root cannot follow it',
      `lnk: is a symbolic link to ${host}, outside the application: mounts.lnk/var cannot follow it`,
      'tmpdir: is a symbolic link to /tmp, outside the application: mounts.tmpdir cannot follow it',
      'm2-hotfixes/0001-x.patch: is a symbolic link to /etc/passwd, outside the application: the patches step cannot follow it',
      'app/design/adminhtml/Evil: is a symbolic link to /usr, outside the application: the static content deploy cannot follow it',
      `app/design/frontend/Evil/theme: is a symbolic link to ${host}, outside the application: the static content deploy cannot follow it`,
      'app/design/frontend/Good/theme/web: is a symbolic link to /etc, outside the application: the static content deploy cannot follow it',
      `vendor/acme/theme-x/src: is a symbolic link to ${host}, outside the application: the static content deploy cannot follow it`,
    ]);
    assert.equal(fs.readFileSync(path.join(host, 'var/victim.txt'), 'utf8'), 'host file\n');
  });

  it('validation accepts a tree whose links stay inside, and refuses pub/static only when static content is written', function () {
    const ws = tempDir('tree-ok');
    write(path.join(ws, 'public/index.html'), 'hi');
    link('public', path.join(ws, 'pub'));
    link('/srv', path.join(ws, 'public/static'));
    const app = `${APP}web:\n  locations:\n    "/":\n      root: "pub"\n`;
    const noStatic = manifestOf(app, { '.magento.env.yaml': 'stage:\n  global:\n    SKIP_SCD: true\n  deploy:\n    SKIP_SCD: true\n' });
    assert.equal(noStatic.staticContent.where, 'none');
    assert.deepEqual(linksOutOfTree(ws, noStatic), []);
    assert.deepEqual(linksOutOfTree(ws, manifestOf(app)).map(formatIssue), [
      'pub/static: is a symbolic link to /srv, outside the application: the static content deploy cannot follow it',
    ]);
  });
});
