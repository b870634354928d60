/**
 * A project laid out like the public magento/magento-cloud template deploys unchanged: the four
 * mounts seeded from the build as ece-tools does (static content linked, or copied), a child
 * theme whose parent lives in vendor/ and is registered by registration.php, two locales,
 * hotfix patches to a page and to the vendor theme's CSS, both static URL forms, relative
 * WARM_UP_PAGES, and documented ece-tools variables accepted. Then the same with
 * STATIC_CONTENT_SYMLINK off, with static content deployed in the deploy phase, and generated
 * on request (SCD_ON_DEMAND). Its services: the build hook reaches none, the deploy hook reaches
 * MariaDB; OpenSearch, which the host cannot provide, is a warning per relationship and a state
 * in `env status`.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fetchFromRouter } from '../../src/router/fetch';
import { runSlipway } from '../harness/processes';
import { CLOUD_TEMPLATE, clone, commitAndPush, createProject, getPage, getWorld } from '../harness/world';

const ENV_YAML = fs.readFileSync(path.join(CLOUD_TEMPLATE, '.magento.env.yaml'), 'utf8');
/** The template's .magento.env.yaml with lines added under a stage. */
const envWith = (stage: 'global' | 'build' | 'deploy', lines: string): string => ENV_YAML.replace(`  ${stage}:\n`, `  ${stage}:\n${lines}`);

const CHILD_CSS = 'frontend/Acme/child/en_US/css/styles-m.css';

/**
 * A hook's probe of the database: the environment's loopback port 3306 and, when the hook is
 * given one, the `database` relationship's host and port, each `reached` or `unreachable`.
 */
const PROBE = String.raw`probe() {
  if timeout 5 bash -c 'exec 3<>"/dev/tcp/$0/$1"' "$1" "$2" 2>/dev/null; then echo "$3 $1:$2: reached"; else echo "$3 $1:$2: unreachable"; fi
}
database=$(printf '%s' "$MAGENTO_CLOUD_RELATIONSHIPS" | base64 -d 2>/dev/null | grep -o '"database":\[{[^]]*' || true)
host=$(printf '%s' "$database" | grep -o '"host":"[^"]*"' | cut -d'"' -f4 || true)
port=$(printf '%s' "$database" | grep -o '"port":[0-9]*' | cut -d: -f2 || true)
probe 127.0.0.1 3306 loopback
if [ -n "$host" ]; then probe "$host" "$port" relationship; else echo "relationship database: not given"; fi`;
const indented = (text: string): string => text.replace(/^/gm, '        ');
/** The template's app file with hooks that probe the database: the build's result committed to the build output (pub/), the deploy hook's to the media mount. */
const PROBING_APP = fs
  .readFileSync(path.join(CLOUD_TEMPLATE, '.magento.app.yaml'), 'utf8')
  .replace('    build: |\n        set -e\n        mkdir -p pub\n', () => `    build: |\n        set -e\n        mkdir -p pub\n${indented(`{\n${PROBE}\n} > pub/services-at-build.txt`)}\n`)
  .replace('        mkdir -p pub/media\n', () => `        mkdir -p pub/media\n${indented(`{\n${PROBE}\n} > pub/media/services-at-deploy.txt`)}\n`);

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
    assert.match(PROBING_APP, /services-at-build\.txt[\s\S]*services-at-deploy\.txt/, 'both hooks probe');
    const t = await deployedTemplate('tmpl', { '.magento.app.yaml': PROBING_APP });
    const version = await assertServed(t);
    // Services are provisioned for the deploy: the build hook (on the engine, no network, no
    // relationship) reaches none; the deploy hook reaches MariaDB on the environment's loopback
    // and through the relationship.
    const atBuild = await t.page('/services-at-build.txt');
    assert.equal(atBuild.status, 200, atBuild.body);
    assert.equal(atBuild.body, 'loopback 127.0.0.1:3306: unreachable\nrelationship database: not given\n');
    const atDeploy = await t.page('/media/services-at-deploy.txt');
    assert.equal(atDeploy.status, 200, atDeploy.body);
    assert.equal(atDeploy.body, 'loopback 127.0.0.1:3306: reached\nrelationship 127.0.0.1:3306: reached\n');
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
    // OpenSearch is no Debian package: the deployment goes on, and says which relationship is
    // unavailable and why; env status shows the service so, in the CLI's text and the API's answer.
    assert.match(log, /\[provision-services\] warning: relationship opensearch \(opensearch:opensearch\) is unavailable: .*not a Debian package/);
    assert.doesNotMatch(log, /warning: relationship (database|valkey) /);
    const cliEnv: NodeJS.ProcessEnv = { ...process.env, SLIPWAY_HOME: t.layout.home };
    delete cliEnv.TEMPORAL_ADDRESS;
    const cliStatus = await runSlipway(['env', 'status', t.project, 'integration'], cliEnv);
    assert.equal(cliStatus.code, 0, cliStatus.stderr);
    assert.match(cliStatus.stdout, /^ {4}opensearch +opensearch:2 +unavailable: .*not a Debian package/m, cliStatus.stdout);
    assert.match(cliStatus.stdout, /^ {4}mysql +mysql:10\.6 +running on 127\.0\.0\.1:3306$/m, cliStatus.stdout);
    const services = (await t.client.environmentStatus(t.project, 'integration')).runtime?.services ?? [];
    const opensearch = services.find((sv) => sv.name === 'opensearch');
    assert.equal(opensearch?.state, 'unavailable', JSON.stringify(services));
    assert.match(opensearch.reason ?? '', /not a Debian package/);
    const api = await fetch(`${process.env.SLIPWAY_TEST_API_URL}/v1/projects/${t.project}/environments/integration`, { headers: { authorization: 'Bearer slipway-dev-alice' } });
    assert.equal(api.status, 200);
    const viaApi = ((await api.json()) as { runtime?: { services: Array<{ name: string; state: string; reason?: string }> } }).runtime?.services.find((sv) => sv.name === 'opensearch');
    assert.equal(viaApi?.state, 'unavailable');
    assert.equal(viaApi.reason, opensearch.reason);
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
