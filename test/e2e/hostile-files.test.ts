/**
 * Hostile trees pushed to a real project (issue 15, items 3 and 4): committed links to host
 * files, to the host's root, to another project's release and to an older release; hidden
 * files and a PHP script in the web root; web roots that climb out or are absolute; the web
 * root, a theme directory, the directory above a mount, the project files' directory and a
 * patch committed as links out of the application. Each is refused at validation or never
 * served; a directory standing for the host, and another project's release, are unchanged.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { SimpleGit } from 'simple-git';
import { deployedProject, getPage, tempDir } from '../harness/world';
import { snapshot } from '../harness/trees';

function link(target: string, at: string): void {
  fs.rmSync(at, { recursive: true, force: true });
  fs.mkdirSync(path.dirname(at), { recursive: true });
  fs.symlinkSync(target, at);
}

/** A commit whose tree is `base`'s with `change` applied (a commit on top, so the push is a fast-forward). */
async function commitFrom(repo: { dir: string; git: SimpleGit }, base: string, change: (dir: string) => void, message: string): Promise<string> {
  await repo.git.raw(['rm', '-rqf', '--', '.']);
  await repo.git.raw(['checkout', base, '--', '.']);
  change(repo.dir);
  await repo.git.add(['--all']);
  await repo.git.commit(message, undefined, { '--allow-empty': null });
  return (await repo.git.revparse(['HEAD'])).trim();
}

describe('hostile files: links out of the tree and web roots that climb out', function () {
  this.timeout(300_000);

  it('never serves what lies outside the release, refuses at validation what the engine would follow, and changes nothing outside', async function () {
    // A directory standing for the host, and another tenant's live release.
    const host = tempDir('host');
    fs.writeFileSync(path.join(host, 'sentinel.txt'), 'host secret\n');
    fs.mkdirSync(path.join(host, 'var'));
    fs.writeFileSync(path.join(host, 'var', 'victim.txt'), 'host var file\n');
    const hostBefore = snapshot(host);
    const victim = await deployedProject('victim');
    const victimRelease = victim.layout.release(victim.project, 'integration', (await victim.client.environmentStatus(victim.project, 'integration')).current!.release);
    fs.writeFileSync(path.join(victimRelease, 'pub', 'private.html'), '<title>victim private</title>');
    const victimBefore = snapshot(victimRelease);

    const p = await deployedProject('hostile-tree');
    const { client, repo } = p;
    const base = (await repo.git.revparse(['HEAD'])).trim();
    const firstRelease = p.layout.release(p.project, 'integration', (await client.environmentStatus(p.project, 'integration')).current!.release);
    const deploy = async (commit: string) => {
      await repo.git.push('origin', 'HEAD:refs/heads/integration');
      return client.waitForDeployment(p.project, 'integration', { commit });
    };

    // 1. Committed links and files the router must never serve: the tree deploys, they answer 404.
    const served = await commitFrom(
      repo,
      base,
      (dir) => {
        link('/etc/passwd', path.join(dir, 'pub/x'));
        link('/', path.join(dir, 'pub/r'));
        link(path.join(host, 'sentinel.txt'), path.join(dir, 'pub/host.txt'));
        link(victimRelease, path.join(dir, 'pub/victim'));
        link(path.join(victimRelease, 'pub/private.html'), path.join(dir, 'pub/victim.html'));
        link(firstRelease, path.join(dir, 'pub/older'));
        fs.writeFileSync(path.join(dir, 'pub/.env'), 'APP_KEY=do-not-serve\n');
        fs.writeFileSync(path.join(dir, 'pub/.htaccess'), 'do-not-serve\n');
        fs.writeFileSync(path.join(dir, 'pub/x.php'), '<?php $secret = "do-not-serve";\n');
        link('x.php', path.join(dir, 'pub/source.txt'));
        link('about.html', path.join(dir, 'pub/alias.html'));
        // Paths of the application's sandbox, which lead nowhere on the host.
        link('/srv/app-conf', path.join(dir, 'pub/conf'));
        link('/srv/php-conf/php-fpm.conf', path.join(dir, 'pub/fpm.txt'));
        link('/srv/app-logs', path.join(dir, 'pub/logs'));
        link('/run/app', path.join(dir, 'pub/run'));
      },
      'links and hidden files in the web root',
    );
    const ok = await deploy(served);
    assert.equal(ok.status, 'succeeded', ok.error);
    const page = (url: string) => getPage(p.project, 'integration', url);
    assert.equal((await page('/alias.html')).body, (await page('/about.html')).body, 'a link inside the release is served');
    assert.equal((await page('/alias.html')).status, 200);
    for (const url of [
      '/x',
      '/r/etc/passwd',
      '/r/',
      '/host.txt',
      `/victim/pub/private.html`,
      '/victim.html',
      '/older/pub/index.html',
      '/.env',
      '/.htaccess',
      '/x.php',
      '/source.txt',
      '/conf/nginx.conf',
      '/fpm.txt',
      '/logs/nginx-error.log',
      '/run/nginx.pid',
    ]) {
      const res = await page(url);
      assert.equal(res.status, 404, `${url} answered ${res.status}`);
      assert.doesNotMatch(res.body, /root:|web:x:|host secret|victim private|do-not-serve|password|fastcgi|server \{/, url);
    }
    const live = (await client.environmentStatus(p.project, 'integration')).current?.deployment;
    assert.equal(live, ok.deployment);

    // 2. What the engine would have to follow: refused at validation, with the path and where it points.
    const yaml = fs.readFileSync(path.join(repo.dir, '.magento.app.yaml'), 'utf8');
    const root = (r: string) => (dir: string) => fs.writeFileSync(path.join(dir, '.magento.app.yaml'), yaml.replace('root: "pub"', `root: "${r}"`));
    const cases: [string, (dir: string) => void, RegExp][] = [
      ['a web root climbing out', root('../../../../../../../..'), /\.magento\.app\.yaml: web\.locations\."\/"\.root: must be a directory inside the application, without "\.\."/],
      ['an absolute web root', root('/etc'), /\.magento\.app\.yaml: web\.locations\."\/"\.root: must be a directory relative to the application, such as "pub", not the absolute path "\/etc"/],
      ['the web root a link to the host', (dir) => link(host, path.join(dir, 'pub')), new RegExp(`pub: is a symbolic link to ${host}, outside the application: web\\.locations\\."/"\\.root cannot follow it`)],
      ['a theme directory a link to the host', (dir) => link(host, path.join(dir, 'app/design/frontend/Evil/theme')), new RegExp(`app/design/frontend/Evil/theme: is a symbolic link to ${host}, outside the application: the static content deploy cannot follow it`)],
      [
        'a link to the host above a mount',
        (dir) => {
          link(host, path.join(dir, 'lnk'));
          fs.writeFileSync(path.join(dir, '.magento.app.yaml'), yaml.replace('mounts:\n', 'mounts:\n  "lnk/var": "shared:files/lnkvar"\n'));
        },
        new RegExp(`lnk: is a symbolic link to ${host}, outside the application: mounts\\.lnk/var cannot follow it`),
      ],
      ['the project files\' directory a link', (dir) => link(host, path.join(dir, '.magento')), new RegExp(`\\.magento: is a symbolic link to ${host}, outside the application: \\.magento/services\\.yaml cannot be read through it`)],
      ['a patch a link to a host file', (dir) => link(path.join(host, 'sentinel.txt'), path.join(dir, 'm2-hotfixes/000-host.patch')), new RegExp(`m2-hotfixes/000-host\\.patch: is a symbolic link to ${host}/sentinel\\.txt, outside the application: the patches step cannot follow it`)],
    ];
    const failures: string[] = [];
    for (const [name, change, message] of cases) {
      const d = await deploy(await commitFrom(repo, served, change, name));
      if (d.status !== 'failed' || d.failedStep !== 'validate' || !message.test(d.error ?? '')) {
        failures.push(`${name}: ${d.status} at ${d.failedStep ?? '-'}: ${d.error ?? ''}`);
      } else if (/\[(patches|build-hook|stage-release|maintenance-on)\]/.test(client.deploymentLog(p.project, 'integration', d.deployment))) {
        failures.push(`${name}: the log goes past validation`);
      }
    }
    assert.deepEqual(failures, []);

    // Nothing changed: the live release, the host directory, the other project's release.
    assert.equal((await client.environmentStatus(p.project, 'integration')).current?.deployment, live);
    assert.equal((await page('/alias.html')).status, 200);
    assert.deepEqual(snapshot(host), hostBefore);
    assert.deepEqual(snapshot(victimRelease), victimBefore);
    assert.equal((await getPage(victim.project, 'integration', '/private.html')).body, '<title>victim private</title>');
  });
});
