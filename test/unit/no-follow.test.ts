/**
 * The engine never follows a tenant's symbolic link when it writes, deletes or copies:
 * staging a release (mounts, init/), seeding mounts, static content, slugs and patches. The
 * trees here are what validation would refuse, as a build hook could still leave them after
 * it: the engine's own operations must hold on their own. A directory standing for the host
 * must be unchanged afterwards.
 */
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { stopAllRuntimes } from '../../src/runtime/environment-runtime';
import { Layout } from '../../src/home';
import { createBuildActivities } from '../../src/activities/build';
import { createReleaseActivities } from '../../src/activities/release';
import { copyTree } from '../../src/activities/lib/copy-tree';
import { planFromProjectFiles, type SlugManifest } from '../../src/domain/project-files';
import { formatIssue } from '../../src/domain/app-config';
import { seedMounts } from '../../src/magento/mounts';
import { deployStaticContent, findThemes } from '../../src/magento/static-content';
import { tempDir } from '../harness/world';
import { writeFile as write, link, snapshot } from '../harness/trees';

/** A host directory with a file in it and a var/ directory (what the report's `lnk` pointed at). */
function hostDir(): string {
  const host = tempDir('host');
  write(path.join(host, 'sentinel.txt'), 'host file\n');
  write(path.join(host, 'var', 'victim.txt'), 'host var file\n');
  return host;
}

const APP = 'name: mymagento\ntype: php:8.3\n';

function manifestOf(appYaml: string): SlugManifest {
  const plan = planFromProjectFiles({ '.magento.app.yaml': appYaml });
  if (!plan.ok) throw new Error(plan.issues.map(formatIssue).join('; '));
  return plan.manifest;
}

describe('the engine follows no tenant link when it writes, deletes or copies', function () {
  it('stage-release: a link above a mount, an init/ link and a mount replaced by a link change nothing outside; committed links stay links', async function () {
    const host = hostDir();
    const before = snapshot(host);
    const layout = new Layout(tempDir('nofollow-stage'));
    const slug = layout.slug('s1');
    write(path.join(slug, 'pub/index.html'), 'hi');
    write(path.join(slug, 'app/etc/config.php'), '<?php return [];\n');
    link(host, path.join(slug, 'lnk')); // the report: `lnk` -> host directory, plus the mount lnk/var
    link(host, path.join(slug, 'init')); // where the build's content of mounted paths is kept
    link('/etc/passwd', path.join(slug, 'pub/x'));
    link('/', path.join(slug, 'pub/r'));
    // A mount that a tenant turned into a link through the outer mount, before this deploy.
    fs.mkdirSync(layout.mount('shop', 'integration', 'outer'), { recursive: true });
    link(host, layout.mount('shop', 'integration', 'outer/inner'));
    const manifest = manifestOf(
      `${APP}mounts:\n  "lnk/var": "shared:files/var"\n  "app/etc": "shared:files/etc"\n  "outer": "shared:files/outer"\n  "inner": "shared:files/outer/inner"\n`,
    );
    const activities = createReleaseActivities({ layout, routerPort: () => undefined });
    // Staging starts the release's application beside the live one: stopped with the test.
    const { release } = await activities.stageRelease({ project: 'shop', environment: 'integration', number: 1, commit: 'c1', slug: 's1', manifest }).finally(() => stopAllRuntimes(layout));

    assert.deepEqual(snapshot(host), before, 'the host directory is unchanged');
    const dir = layout.release('shop', 'integration', release);
    assert.equal(fs.readlinkSync(path.join(dir, 'pub/x')), '/etc/passwd', 'a committed link stays a link');
    assert.equal(fs.readlinkSync(path.join(dir, 'pub/r')), '/');
    assert.ok(fs.lstatSync(path.join(dir, 'lnk')).isDirectory(), 'the link above the mount was replaced, not followed');
    assert.equal(fs.realpathSync(path.join(dir, 'lnk/var')), fs.realpathSync(layout.mount('shop', 'integration', 'var')), 'the mount link leads to the mount');
    assert.equal(fs.readlinkSync(path.join(dir, 'lnk/var')), '../../../mounts/var', 'relative: it resolves in the sandbox too');
    assert.ok(fs.lstatSync(path.join(dir, 'init')).isDirectory(), 'init/ is the engine\'s own directory');
    assert.equal(fs.readFileSync(path.join(dir, 'init/app/etc/config.php'), 'utf8'), '<?php return [];\n');
    assert.ok(fs.lstatSync(layout.mount('shop', 'integration', 'outer/inner')).isDirectory(), 'the mount is a directory again');
  });

  it('seeding a mount: a link a tenant left at the engine\'s temporary name is removed, never written through', async function () {
    const host = hostDir();
    const before = snapshot(host);
    const root = tempDir('nofollow-seed');
    const release = path.join(root, 'release');
    const etc = path.join(root, 'mounts/etc');
    write(path.join(release, 'init/app/etc/config.php'), '<?php return [];\n');
    link(path.join(host, 'sentinel.txt'), path.join(etc, '.slipway-seed-config.php'));
    await seedMounts({ release, mounts: { 'app/etc': etc }, staticSymlink: true, cleanStatic: true, log: () => undefined });
    assert.deepEqual(snapshot(host), before);
    assert.equal(fs.readFileSync(path.join(etc, 'config.php'), 'utf8'), '<?php return [];\n');
  });

  it('static content: never written through a link out of the application, themes behind one not read', async function () {
    const host = hostDir();
    write(path.join(host, 'themes/frontend/Evil/theme/web/css/stolen.css'), 'host secret\n');
    write(path.join(host, 'pkg/web/css/stolen.css'), 'host secret\n');
    const before = snapshot(host);
    const app = tempDir('nofollow-scd');
    write(path.join(app, 'app/design/frontend/A/b/web/css/ok.css'), '.ok{}\n');
    link(host, path.join(app, 'pub'));
    await assert.rejects(
      deployStaticContent({ appDir: app, themes: [], locales: ['en_US'], threads: 1, version: '1' }),
      new RegExp(`pub is a symbolic link to ${host}, outside the application: static content is not written through it`),
    );
    assert.deepEqual(snapshot(host), before);

    // A theme.xml that is a link to a host file is not read (its <parent> would name a theme to load).
    write(path.join(host, 'theme.xml'), '<theme><parent>Host/secret</parent></theme>');
    const linked = tempDir('nofollow-theme-xml');
    write(path.join(linked, 'app/design/frontend/A/b/web/css/ok.css'), '.ok{}\n');
    link(path.join(host, 'theme.xml'), path.join(linked, 'app/design/frontend/A/b/theme.xml'));
    const r = await deployStaticContent({ appDir: linked, themes: [], locales: ['en_US'], threads: 1, version: '1' });
    assert.equal(r.files, 1, 'deployed without the parent the host file names');

    const other = tempDir('nofollow-themes');
    link(path.join(host, 'themes'), path.join(other, 'app/design'));
    write(
      path.join(other, 'vendor/acme/theme-x/registration.php'),
      "<?php\nuse Magento\\Framework\\Component\\ComponentRegistrar;\nComponentRegistrar::register(ComponentRegistrar::THEME, 'frontend/Acme/x', __DIR__ . '/src/pkg');\n",
    );
    link(host, path.join(other, 'vendor/acme/theme-x/src'));
    const log: string[] = [];
    assert.deepEqual([...(await findThemes(other, (l) => log.push(l))).keys()], []);
    assert.deepEqual(log, [
      `app/design: skipped, a symbolic link to ${path.join(host, 'themes')}, outside the application`,
      `vendor/acme/theme-x/src: skipped, a symbolic link to ${host}, outside the application`,
    ]);
  });

  it('slugs and releases are copied with links as links', async function () {
    const host = hostDir();
    const from = tempDir('nofollow-copy');
    write(path.join(from, 'a.txt'), 'a');
    link(host, path.join(from, 'dir'));
    link(path.join(host, 'sentinel.txt'), path.join(from, 'file'));
    const to = path.join(tempDir('nofollow-copy-to'), 'copy');
    await copyTree(from, to);
    assert.equal(fs.readlinkSync(path.join(to, 'dir')), host);
    assert.equal(fs.readlinkSync(path.join(to, 'file')), path.join(host, 'sentinel.txt'));
  });

  describe('through the build activities (a real checkout)', function () {
    const layout = new Layout(tempDir('nofollow-build'));
    const build = createBuildActivities(layout);
    let number = 0;

    /** Commits a tree into the project's remote; returns the commit. */
    function commitTree(files: Record<string, string | { link: string }>): string {
      const src = tempDir('nofollow-src');
      for (const [file, content] of Object.entries(files)) {
        if (typeof content === 'string') write(path.join(src, file), content);
        else link(content.link, path.join(src, file));
      }
      const git = (...args: string[]) => execFileSync('git', args, { cwd: src, encoding: 'utf8' });
      git('init', '-q', '-b', 'integration');
      git('add', '--all');
      git('-c', 'user.name=t', '-c', 'user.email=t@example.invalid', 'commit', '-q', '-m', 'tree');
      fs.rmSync(layout.remote('shop'), { recursive: true, force: true });
      execFileSync('git', ['clone', '-q', '--bare', src, layout.remote('shop')]);
      return git('rev-parse', 'HEAD').trim();
    }

    async function failure(files: Record<string, string | { link: string }>): Promise<{ step: string; message: string }> {
      const commit = commitTree(files);
      const err = await build.prepareBuild({ project: 'shop', environment: 'integration', number: ++number, commit, branch: 'integration' }).then(
        () => assert.fail('the build went on'),
        (e: unknown) => e,
      );
      assert.ok(err instanceof ApplicationFailure, String(err));
      return err.details?.[0] as { step: string; message: string };
    }

    it('git apply refuses a patch that writes beyond a committed link: the patch step fails naming it, the host unchanged', async function () {
      const host = hostDir();
      const before = snapshot(host);
      const patch = [
        'diff --git a/lnk/sentinel.txt b/lnk/sentinel.txt',
        '--- a/lnk/sentinel.txt',
        '+++ b/lnk/sentinel.txt',
        '@@ -1 +1 @@',
        '-host file',
        '+overwritten by a patch',
        '',
      ].join('\n');
      const f = await failure({ '.magento.app.yaml': APP, lnk: { link: host }, 'm2-hotfixes/0001-evil.patch': patch });
      assert.equal(f.step, 'patches');
      assert.match(f.message, /patch m2-hotfixes\/0001-evil\.patch does not apply: .*beyond a symbolic link/);
      assert.deepEqual(snapshot(host), before);
    });

    it('validation refuses the report\'s trees, naming the link and where it points, before anything runs', async function () {
      const host = hostDir();
      const before = snapshot(host);
      const hook = `${APP}hooks:\n  build: "echo pwned > pub/pwned.txt; echo pwned > lnk/var/pwned.txt"\n`;
      const cases: [Record<string, string | { link: string }>, RegExp][] = [
        [{ '.magento.app.yaml': hook, pub: { link: host } }, new RegExp(`^invalid project configuration: pub: is a symbolic link to ${host}, outside the application: web\\.locations\\."/"\\.root cannot follow it$`)],
        [
          { '.magento.app.yaml': `${hook}mounts:\n  "lnk/var": "shared:files/var"\n`, lnk: { link: host } },
          new RegExp(`lnk: is a symbolic link to ${host}, outside the application: mounts\\.lnk/var cannot follow it`),
        ],
        [
          { '.magento.app.yaml': hook, 'app/design/frontend/Evil/theme': { link: host } },
          new RegExp(`app/design/frontend/Evil/theme: is a symbolic link to ${host}, outside the application: the static content deploy cannot follow it`),
        ],
        [
          { '.magento.app.yaml': hook, '.magento': { link: host } },
          new RegExp(`\\.magento: is a symbolic link to ${host}, outside the application: \\.magento/services\\.yaml cannot be read through it`),
        ],
      ];
      for (const [files, message] of cases) {
        const f = await failure(files);
        assert.equal(f.step, 'validate', f.message);
        assert.match(f.message, message);
      }
      assert.deepEqual(snapshot(host), before);
    });
  });
});
