/**
 * A project laid out like the public magento/magento-cloud template deploys unchanged: the four
 * mounts seeded from the build as ece-tools does (static content linked, or copied), a child
 * theme whose parent lives in vendor/ and is registered by registration.php, two locales,
 * hotfix patches to a page and to the vendor theme's CSS, both static URL forms, relative
 * WARM_UP_PAGES, and documented ece-tools variables accepted. Then the same with
 * STATIC_CONTENT_SYMLINK off, with static content deployed in the deploy phase, and generated
 * on request (SCD_ON_DEMAND).
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fetchFromRouter } from '../../src/router/fetch';
import { CLOUD_TEMPLATE, clone, commitAndPush, createProject, getPage, getWorld } from '../harness/world';

const ENV_YAML = fs.readFileSync(path.join(CLOUD_TEMPLATE, '.magento.env.yaml'), 'utf8');
/** The template's .magento.env.yaml with lines added under a stage. */
const envWith = (stage: 'global' | 'build' | 'deploy', lines: string): string => ENV_YAML.replace(`  ${stage}:\n`, `  ${stage}:\n${lines}`);

const CHILD_CSS = 'frontend/Acme/child/en_US/css/styles-m.css';

async function deployedTemplate(prefix: string, changes: Record<string, string | null> = {}) {
  const w = await getWorld();
  const project = await createProject(prefix, changes, { base: CLOUD_TEMPLATE });
  const first = await w.client.waitForDeployment(project.project, 'integration');
  assert.equal(first.status, 'succeeded', first.error);
  const page = (urlPath: string) => getPage(project.project, 'integration', urlPath);
  const log = (n = first.deployment) => w.client.deploymentLog(project.project, 'integration', n);
  const mount = (name: string) => path.join(w.layout.environment(project.project, 'integration'), 'mounts', name);
  return { ...project, first, page, log, mount, client: w.client, layout: w.layout, routerPort: w.routerPort };
}

/** What every variant must serve: the page, the patched CSS (both URL forms), the parent's files per locale. */
async function assertServed(t: Awaited<ReturnType<typeof deployedTemplate>>): Promise<string> {
  const welcome = await t.page('/welcome.html');
  assert.equal(welcome.status, 200, `/welcome.html: ${welcome.body}`);
  assert.match(welcome.body, /Hotfix: free shipping/, 'm2-hotfixes/001 patched the page');

  const version = (await t.page('/static/deployed_version.txt')).body.trim();
  assert.match(version, /^\d+$/, 'deployed_version.txt holds Magento\'s numeric version');
  for (const url of [`/static/${CHILD_CSS}`, `/static/version${version}/${CHILD_CSS}`]) {
    const css = await t.page(url);
    assert.equal(css.status, 200, `${url}: ${css.body}`);
    assert.match(css.body, /\.hotfix-MDVA-1234/, `${url}: the vendor theme's CSS as patched by m2-hotfixes/002`);
  }
  // The parent (vendor/magento/theme-frontend-blank) under the child theme, for each locale.
  assert.match((await t.page('/static/frontend/Acme/child/en_US/js/theme.js')).body, /"blank theme"/);
  assert.match((await t.page('/static/frontend/Acme/child/fr_FR/js/theme.js')).body, /"thème blank"/);
  assert.match((await t.page('/static/frontend/Acme/child/fr_FR/css/styles-m.css')).body, /\.hotfix-MDVA-1234/);
  assert.match((await t.page('/static/frontend/Acme/child/fr_FR/css/lang.css')).body, /content: "fr"/);
  assert.equal((await t.page('/static/frontend/Acme/child/en_US/css/lang.css')).status, 404, 'a locale file only in fr_FR');
  assert.equal((await t.page('/static/frontend/Magento/blank/fr_FR/js/theme.js')).status, 200, 'the parent is deployed too');
  assert.equal((await t.page('/static/frontend/Acme/legacy/en_US/css/legacy.css')).status, 404, 'SCD_EXCLUDE_THEMES');

  // The deploy hook saw config.php from the code and the built static content through the mounts.
  const check = await t.page('/media/deploy-check.txt');
  assert.equal(check.status, 200, `/media/deploy-check.txt: ${check.body}`);
  assert.match(check.body, /config\.php: present\nconfig\.php: from the code\nstatic: present\n/);
  assert.match(check.body, new RegExp(`deployed_version: ${version}\n`));
  // PHP is executed by the environment's PHP-FPM (the front controller, behind passthru too), never served as text.
  const script = await t.page('/index.php');
  assert.equal(script.status, 200, script.body);
  assert.match(script.body, /^front controller ran for \/index\.php$/m);
  assert.doesNotMatch(script.body, /do-not-serve/);
  const routed = await t.page('/customer/account/create?x=1');
  assert.match(routed.body, /^front controller ran for \/customer\/account\/create\?x=1$/m);
  return version;
}

describe('a project in the magento-cloud template layout', function () {
  it('deploys unchanged: mounts seeded from the build, static content linked, both URL forms, vendor parent theme', async function () {
    const t = await deployedTemplate('tmpl');
    const version = await assertServed(t);
    // STATIC_CONTENT_SYMLINK (the default): pub/static's entries link into the release's init/.
    assert.ok(fs.lstatSync(path.join(t.mount('static'), 'frontend')).isSymbolicLink());
    assert.ok(fs.existsSync(path.join(t.mount('etc'), 'config.php')), 'app/etc seeded from the code');
    assert.ok(fs.existsSync(path.join(t.mount('etc'), 'env.php')), 'and kept what the deploy hook wrote');

    const log = t.log();
    assert.match(log, /\[stage-release\] mount app\/etc: the build's content kept in init\/app\/etc, seeded into the mount at deploy/);
    assert.match(
      log,
      /\[stage-release\] mount var: the build's content kept in init\/var \(var\/view_preprocessed seeded into the mount at deploy, the rest hidden by it, as on Magento Cloud\)/,
    );
    assert.match(log, /\[deploy-hook\] pub\/static: \d+ entries linked to init\/pub\/static of this release \(STATIC_CONTENT_SYMLINK\)/);
    assert.match(log, /\[deploy-hook\] app\/etc: 1 files from the build copied into the mount/);
    // Relative WARM_UP_PAGES against the route's base URL; TTFB measured.
    const base = `http://integration.${t.project}.localhost/`;
    assert.match(log, new RegExp(`\\[warm-up\\] ${base.replace(/\./g, '\\.')}welcome\\.html: 200 in \\d+ ms`));
    assert.match(log, new RegExp(`\\[warm-up\\] ${base.replace(/\./g, '\\.')}index\\.php/customer/account/create: 200 in \\d+ ms`));
    assert.match(log, new RegExp(`\\[warm-up\\] ttfb ${base.replace(/\./g, '\\.')}welcome\\.html: \\d+ ms \\(status 200\\)`));
    // The template declares php:8.3 and runtime.extensions xsl and sodium: the deployment says
    // which PHP runs (the host's Debian package), and names what that PHP lacks.
    assert.match(log, /\[start-application\] (PHP 8\.3\.\d+|type php:8\.3 is declared, and this host runs PHP \d+\.\d+\.\d+ \(its Debian package\): the application runs on PHP \d+\.\d+\.\d+)/);
    assert.match(log, /\[start-application\] warning: runtime\.extensions declares xsl, which PHP [\d.]+ on this host lacks/);
    // Documented ece-tools variables are accepted; those Slipway does not use are said so.
    assert.doesNotMatch(log, /unknown variable/);
    assert.match(log, /\[validate\] info: .*MYSQL_USE_SLAVE_CONNECTION.*not used by Slipway/);

    // The www route redirects with the router's port kept.
    const www = await fetchFromRouter(t.routerPort, `www.integration.${t.project}.localhost`, '/welcome.html');
    assert.equal(www.status, 301);
    assert.equal(www.headers.location, `http://integration.${t.project}.localhost:${t.routerPort}/welcome.html`);

    // A deploy hook that fails after the mounts were seeded: they are seeded again from the
    // release still served, so its static content is the one served.
    const repo = await clone(t.remote, 'integration');
    const appYaml = fs.readFileSync(path.join(repo.dir, '.magento.app.yaml'), 'utf8');
    const failing = await commitAndPush(repo, 'integration', {
      'app/design/frontend/Acme/child/web/css/styles-m.css': '.broken-release { }\n',
      '.magento.app.yaml': appYaml.replace('    deploy: |\n        set -e\n', '    deploy: |\n        set -e\n        exit 7\n'),
    });
    const failed = await t.client.waitForDeployment(t.project, 'integration', { commit: failing, after: t.first.deployment });
    assert.equal(failed.status, 'failed');
    assert.match(t.log(failed.deployment), /\[deploy-hook\] restoring the mounts of d\d{6}: pub\/static: \d+ entries linked/);
    const css = await t.page(`/static/version${version}/${CHILD_CSS}`);
    assert.equal(css.status, 200);
    assert.doesNotMatch(css.body, /broken-release/);
    assert.match(css.body, /\.hotfix-MDVA-1234/);

    // The next good deployment serves its own static content, in install-or-update mode "update".
    const fixed = await commitAndPush(repo, 'integration', { '.magento.app.yaml': appYaml });
    const next = await t.client.waitForDeployment(t.project, 'integration', { commit: fixed, after: failed.deployment });
    assert.equal(next.status, 'succeeded', next.error);
    assert.match((await t.page(`/static/${CHILD_CSS}`)).body, /broken-release/, 'the child theme now overrides the parent file');
    assert.match((await t.page('/media/deploy-check.txt')).body, /mode: update/);
  });

  it('copies static content into the pub/static mount with STATIC_CONTENT_SYMLINK off', async function () {
    const t = await deployedTemplate('tmplcopy', { '.magento.env.yaml': envWith('deploy', '    STATIC_CONTENT_SYMLINK: false\n') });
    await assertServed(t);
    const frontend = fs.lstatSync(path.join(t.mount('static'), 'frontend'));
    assert.ok(frontend.isDirectory() && !frontend.isSymbolicLink(), 'a real directory in the mount');
    assert.match(t.log(), /\[deploy-hook\] pub\/static: \d+ files copied from init\/pub\/static \(STATIC_CONTENT_SYMLINK off\)/);
  });

  it('deploys static content in the deploy phase into the mount when the build skips it', async function () {
    const t = await deployedTemplate('tmpldeploy', { '.magento.env.yaml': envWith('build', '    SKIP_SCD: true\n') });
    await assertServed(t);
    const log = t.log();
    assert.doesNotMatch(log, /\[static-content-build\] started/);
    assert.match(log, /\[static-content-deploy\] \d+ files for \d+ theme\/locale pairs, version \d+/);
    // The mounts are seeded as the deploy hook's step begins, from what the deploy just made.
    assert.match(log, /\[deploy-hook\] pub\/static: \d+ entries linked to init\/pub\/static of this release/);
  });

  it('generates a static file on its first request with SCD_ON_DEMAND', async function () {
    const t = await deployedTemplate('tmplod', { '.magento.env.yaml': envWith('global', '    SCD_ON_DEMAND: true\n').replace('    SCD_ON_DEMAND: false\n', '') });
    assert.match(t.log(), /\[deploy-hook\] pub\/static: generated on request \(SCD_ON_DEMAND\), version \d+/);
    const file = path.join(t.mount('static'), ...CHILD_CSS.split('/'));
    assert.ok(!fs.existsSync(file), 'nothing is deployed before it is asked for');
    const version = (await t.page('/static/deployed_version.txt')).body.trim();
    assert.match(version, /^\d+$/);
    const first = await t.page(`/static/version${version}/${CHILD_CSS}`);
    assert.equal(first.status, 200, first.body);
    assert.match(first.body, /\.hotfix-MDVA-1234/);
    assert.ok(fs.existsSync(file), 'published into the pub/static mount');
    assert.match((await t.page('/static/frontend/Acme/child/fr_FR/js/theme.js')).body, /"thème blank"/);
    assert.equal((await t.page('/static/frontend/Acme/child/en_US/css/nosuch.css')).status, 404);
    assert.equal((await t.page('/static/frontend/Acme/nosuch/en_US/css/child.css')).status, 404);
  });
});
