/**
 * The full build and deploy pipeline of seed 000 against the real server: every step logged,
 * install then update with a migrated schema on a persistent mount, slug reuse, static content
 * in the build or in the deploy, routes, redeploy and rollback with no build.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { commitOnly, deployedProject, getPage, getWorld, push } from '../harness/world';
import { mariadbQuery, servicePaths } from '../../src/runtime/services';

const NO_SCOPES_CONFIG = `<?php
// No website or store under scopes: static content waits for the deploy.
return [
    'modules' => ['Magento_Store' => 1, 'Magento_Theme' => 1],
    'themes' => [
        'frontend/Luma/storefront' => ['parent_id' => null, 'theme_path' => 'Luma/storefront', 'area' => 'frontend', 'code' => 'Luma/storefront'],
    ],
    'system' => ['default' => ['general' => ['locale' => ['code' => 'en_US']]]],
];
`;

describe('the build and deploy pipeline', function () {
  it('logs every step with its duration; installs, then updates the schema of the environment\'s database', async function () {
    const p = await deployedProject('pipe', {}, { services: true });
    const log1 = p.client.deploymentLog(p.project, 'integration', p.first.deployment);
    for (const step of ['checkout', 'validate', 'patches', 'build-hook', 'static-content-build', 'store-slug', 'stage-release', 'provision-services', 'maintenance-on', 'deploy-hook', 'switch-release', 'start-application', 'maintenance-off', 'post-deploy-hook', 'warm-up', 'health-check']) {
      assert.match(log1, new RegExp(`^\\S+ \\[${step}\\] started: .*\\n(.*\\n)*?\\S+ \\[${step}\\] succeeded in \\d+ ms$`, 'm'), `${step} in\n${log1}`);
    }
    assert.match(log1, /\[patches\] applied m2-hotfixes\/001-generator-meta\.patch/);
    assert.match(log1, /\[deploy-hook\] \| deploy mode: install; schema at version 0/);
    assert.match(log1, /\[deploy-hook\] \| applied db\/migrations\/002-add-prices\.sql/);
    assert.match(log1, /\[post-deploy-hook\] \| caches flushed for integration/);
    assert.match(log1, /\[warm-up\] http:\/\/integration\.[a-z0-9-]+\.localhost\/about\.html: 200 in \d+ ms/);
    assert.match(log1, /\[stage-release\] mount var -> shared:files\/var/);

    // The page: hotfix applied, static content of both locales published.
    const page = await getPage(p.project, 'integration');
    assert.match(page.body, /<meta name="generator" content="Slipway sample store \(hotfix 001\)">/);
    const css = await getPage(p.project, 'integration', '/static/frontend/Luma/storefront/en_US/css/styles.css');
    assert.equal(css.status, 200);
    const fr = await getPage(p.project, 'integration', '/static/frontend/Luma/storefront/fr_FR/js/storefront.js');
    const en = await getPage(p.project, 'integration', '/static/frontend/Luma/storefront/en_US/js/storefront.js');
    assert.equal(fr.status, 200);
    assert.notEqual(fr.body, en.body);
    // The redirect route of .magento/routes.yaml.
    const www = await getPage(p.project, `www.integration`, '/about.html');
    assert.equal(www.status, 301);
    // The Location keeps the router's port: the page it names is reachable as it is.
    assert.equal(www.headers.location, `http://integration.${p.project}.localhost:${(await getWorld()).routerPort}/about.html`);

    const commit = await commitOnly(p.repo, { 'db/migrations/003-add-stock.sql': 'ALTER TABLE products ADD COLUMN qty INT;\n' });
    await push(p.repo, 'integration');
    const d2 = await p.client.waitForDeployment(p.project, 'integration', { commit, after: p.first.deployment });
    assert.equal(d2.status, 'succeeded', d2.error);
    const log2 = p.client.deploymentLog(p.project, 'integration', d2.deployment);
    assert.match(log2, /\[deploy-hook\] \| deploy mode: update; schema at version 2/);
    assert.match(log2, /\[deploy-hook\] \| applied db\/migrations\/003-add-stock\.sql/);
    assert.doesNotMatch(log2, /applied db\/migrations\/001/);
    // The schema's version is the database's.
    const ref = { layout: p.layout, project: p.project, environment: 'integration' };
    assert.equal((await mariadbQuery(ref, servicePaths(ref, 'mysql'), 'SELECT MAX(version) FROM schema_version')).trim(), '3');
    assert.match(await mariadbQuery(ref, servicePaths(ref, 'mysql'), 'SHOW COLUMNS FROM products'), /^qty\s/m);
    assert.ok(d2.maintenanceMs !== undefined && d2.maintenanceMs >= 0);
  });

  it('reuses the slug of an unchanged tree and runs no build step', async function () {
    const p = await deployedProject('slug', {}, { services: true });
    const same = await commitOnly(p.repo, {}, 'nothing changed');
    await push(p.repo, 'integration');
    const d = await p.client.waitForDeployment(p.project, 'integration', { commit: same, after: p.first.deployment });
    assert.equal(d.status, 'succeeded', d.error);
    assert.equal(d.slugReused, true);
    assert.equal(d.slug, p.first.slug);
    const log = p.client.deploymentLog(p.project, 'integration', d.deployment);
    assert.match(log, new RegExp(`tree \\w+ was built before: slug ${p.first.slug} reused, no checkout, build steps skipped`));
    for (const step of ['checkout', 'validate', 'patches', 'build-hook', 'static-content-build']) assert.doesNotMatch(log, new RegExp(`\\[${step}\\] started`));
    assert.match(log, /\[deploy-hook\] \| deploy mode: update/);
  });

  it('deploys static content in the build when config.php declares scopes, in the deploy when not', async function () {
    const withScopes = await deployedProject('scdb');
    const logB = withScopes.client.deploymentLog(withScopes.project, 'integration', withScopes.first.deployment);
    assert.match(logB, /\[validate\] static content: app\/etc\/config\.php declares website admin, website base, .*deployed in the build/);
    assert.match(logB, /\[static-content-build\] \d+ files for 4 theme\/locale pairs/);
    assert.doesNotMatch(logB, /\[static-content-deploy\] started/);

    const noScopes = await deployedProject('scdd', { 'app/etc/config.php': NO_SCOPES_CONFIG });
    const logD = noScopes.client.deploymentLog(noScopes.project, 'integration', noScopes.first.deployment);
    assert.match(logD, /\[validate\] static content: app\/etc\/config\.php declares no website or store: static content is deployed during the deploy/);
    assert.match(logD, /\[static-content-deploy\] \d+ files for 1 theme\/locale pairs/);
    assert.doesNotMatch(logD, /\[static-content-build\] started/);
    const css = await getPage(noScopes.project, 'integration', '/static/frontend/Luma/storefront/en_US/css/styles.css');
    assert.equal(css.status, 200);
  });

  it('redeploys the current slug and rolls back to an earlier release, with no build', async function () {
    const p = await deployedProject('rb');
    const c2 = await commitOnly(p.repo, { 'content/headline.txt': 'Version two\n' });
    await push(p.repo, 'integration');
    const d2 = await p.client.waitForDeployment(p.project, 'integration', { commit: c2, after: p.first.deployment });
    assert.match((await getPage(p.project, 'integration')).body, /Version two/);

    const { deployment: r } = await p.client.redeploy(p.project, 'integration');
    const redeployed = await p.client.waitForDeployment(p.project, 'integration', { after: r - 1 });
    assert.equal(redeployed.status, 'succeeded', redeployed.error);
    assert.equal(redeployed.slug, d2.slug);
    assert.equal(redeployed.reason, 'redeploy');
    assert.doesNotMatch(p.client.deploymentLog(p.project, 'integration', r), /\[(checkout|build-hook)\] started/);

    const { deployment: back } = await p.client.rollback(p.project, 'integration', p.first.deployment);
    const rolled = await p.client.waitForDeployment(p.project, 'integration', { after: back - 1 });
    assert.equal(rolled.status, 'succeeded', rolled.error);
    assert.equal(rolled.slug, p.first.slug);
    assert.equal(rolled.commit, p.first.commit);
    assert.match((await getPage(p.project, 'integration')).body, /Welcome to the Luma sample store/);
    assert.doesNotMatch(p.client.deploymentLog(p.project, 'integration', back), /\[(checkout|build-hook)\] started/);

    // Default target: the previous release.
    const { deployment: again } = await p.client.rollback(p.project, 'integration');
    const d = await p.client.waitForDeployment(p.project, 'integration', { after: again - 1 });
    assert.equal(d.slug, d2.slug);

    await assert.rejects(p.client.rollback(p.project, 'integration', 99), /refused: deployment 99 is not among the last/);
    await assert.rejects(p.client.rollback(p.project, 'integration', again), /refused: deployment \d+ is the current release already/);
  });
});

describe('the environment of a hook', function () {
  it('is built by the engine: the real relationships, routes and mode in, nothing of the worker out', async function () {
    process.env.SLIPWAY_WORKER_ONLY_SECRET = 'must-not-leak';
    const p = await deployedProject('hookenv', {
      '.magento/services.yaml': 'mysql:\n  type: mysql:10.6\n  disk: 1024\n',
      '.magento.app.yaml': `
name: mymagento
type: php:8.3
relationships:
  database: "mysql:mysql"
mounts:
  "var": "shared:files/var"
hooks:
  build: |
    mkdir -p pub && echo '<title>env</title>' > pub/index.html
  deploy: |
    env | sort > var/deploy-env.txt
    echo "$MAGENTO_CLOUD_RELATIONSHIPS" | base64 -d > var/relationships.json
    echo "$MAGENTO_CLOUD_ROUTES" | base64 -d > var/routes.json
variables:
  env:
    STORE_NAME: Luma
`,
    });
    delete process.env.SLIPWAY_WORKER_ONLY_SECRET;
    const varDir = path.join(p.layout.environment(p.project, 'integration'), 'mounts', 'var');
    const env = fs.readFileSync(path.join(varDir, 'deploy-env.txt'), 'utf8');
    assert.doesNotMatch(env, /must-not-leak|SLIPWAY_TEST_/);
    for (const line of ['MAGENTO_CLOUD_ENVIRONMENT=integration', 'MAGENTO_CLOUD_BRANCH=integration', 'MAGENTO_CLOUD_DEPLOY_MODE=install', 'SLIPWAY_DEPLOY_MODE=install', 'STORE_NAME=Luma']) {
      assert.ok(env.split('\n').includes(line), `${line} in\n${env}`);
    }
    assert.match(env, /^MAGENTO_CLOUD_TREE_ID=[0-9a-f]{40}$/m);
    const rel = JSON.parse(fs.readFileSync(path.join(varDir, 'relationships.json'), 'utf8')) as Record<
      string,
      Array<{ host: string; port: number; scheme: string; username: string; password: string; path: string }>
    >;
    // The environment's own MariaDB, in its network namespace, with its generated password.
    const db = rel.database?.[0];
    assert.equal(db?.host, '127.0.0.1');
    assert.equal(db?.port, 3306);
    assert.equal(db?.scheme, 'mysql');
    assert.equal(db?.username, 'user');
    assert.equal(db?.path, 'main');
    const ref = { layout: p.layout, project: p.project, environment: 'integration' };
    assert.equal(db?.password, fs.readFileSync(servicePaths(ref, 'mysql').enginePasswordFile, 'utf8').trim());
    // …which no log of the deployment shows.
    assert.doesNotMatch(p.client.deploymentLog(p.project, 'integration', p.first.deployment), new RegExp(db.password));
    const routes = JSON.parse(fs.readFileSync(path.join(varDir, 'routes.json'), 'utf8')) as Record<string, { type: string }>;
    assert.equal(routes[`http://integration.${p.project}.localhost/`]?.type, 'upstream');
  });
});
