/**
 * The sample store's application, for real (no Temporal, no web server): its build hook in the
 * sandbox; its deploy hook migrating a real MariaDB of the environment (install, update, a new
 * migration, a failing one) in the environment's network namespace; pub/index.php answering
 * requests from the command line there (products from MariaDB, cached in Redis, the admin and
 * its form, health, 404), then through PHP's built-in server (a real POST and its 303); the
 * sitemap cron; Redis and MariaDB going away; and the variant without services.
 */
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse as parseYaml, parseDocument } from 'yaml';
import { SANDBOX_BASE_ENV } from '../../src/activities/lib/hook-process';
import { formatIssue } from '../../src/domain/app-config';
import { hookEnvironment } from '../../src/domain/hook-env';
import { planFromProjectFiles, PROJECT_FILES, type ProjectFileTexts } from '../../src/domain/project-files';
import { parseServices, type Services } from '../../src/domain/project-files/services';
import { PLAN_SANDBOX_LIMITS } from '../../src/domain/sandbox-limits';
import { Layout, SAMPLE_STORE } from '../../src/home';
import {
  deleteEnvironmentRuntime,
  environmentNetnsPath,
  mariadbQuery,
  relationshipsFor,
  servicePaths,
  startService,
  stopService,
  startServices,
  type EnvironmentRef,
} from '../../src/runtime/services';
import { sandboxIdentity } from '../../src/sandbox/identity';
import { chownTree } from '../../src/sandbox/ownership';
import { runInSandbox } from '../../src/sandbox/sandbox';
import { tempDir } from '../harness/world';

const TREE_ID = 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678';
const ROUTES = {
  'http://integration.store.localhost/': { type: 'upstream', upstream: 'mymagento:http', original_url: 'http://{default}/', primary: true },
  'http://www.integration.store.localhost/': { type: 'redirect', to: 'http://integration.store.localhost/', original_url: 'http://www.{default}/', primary: false },
};

interface AppYaml {
  relationships?: Record<string, string>;
  hooks: { build: string; deploy: string };
  crons?: Record<string, { spec: string; cmd: string }>;
  variables?: { env?: Record<string, string> };
}

interface Ran {
  code: number;
  lines: string[];
}

interface Answer {
  status: number;
  headers: Record<string, string>;
  body: string;
  /** What PHP wrote on stderr (its error log, from the command line). */
  log: string;
}

/** The texts of the project files of a store directory. */
function projectTexts(dir: string): ProjectFileTexts {
  const texts: ProjectFileTexts = {};
  for (const f of PROJECT_FILES) texts[f] = fs.readFileSync(path.join(dir, f), 'utf8');
  return texts;
}

/** "HTTP/1.1 200 OK", headers, an empty line, the body: as pub/index.php prints a response from the command line. */
function parseAnswer(text: string, log: string): Answer {
  const split = text.indexOf('\n\n');
  assert.ok(split > 0, `a response in:\n${text}\n${log}`);
  const [statusLine, ...headerLines] = text.slice(0, split).split('\n');
  const m = /^HTTP\/1\.1 (\d{3}) /.exec(statusLine!);
  assert.ok(m, `a status line: ${statusLine}`);
  const headers: Record<string, string> = {};
  for (const l of headerLines) {
    const i = l.indexOf(': ');
    headers[l.slice(0, i).toLowerCase()] = l.slice(i + 2);
  }
  return { status: Number(m[1]), headers, body: text.slice(split + 2), log };
}

/** The sku, name and price of each element of class "product". */
function productsOf(body: string): Array<[string, string, string]> {
  return [...body.matchAll(/<li class="product"[^>]* data-sku="([^"]*)"><span class="sku">[^<]*<\/span> <span class="name">([^<]*)<\/span> <span class="price">([^<]*)<\/span><\/li>/g)].map(
    (m) => [m[1]!, m[2]!, m[3]!],
  );
}

describe('the sample store application: PHP, MariaDB and Redis, for real', function () {
  this.timeout(120_000);
  let layout: Layout;
  let ref: EnvironmentRef;
  let home: string;
  /** The store after its build hook: the release, at /app. */
  let app: string;
  let mounts: string;
  let appYaml: AppYaml;
  let services: Services;
  let netns: string;
  let dbPassword: string;
  let runs = 0;

  function baseEnv(mode: 'install' | 'update', relationships: Record<string, unknown>, vars = appYaml.variables?.env): Record<string, string> {
    return {
      ...SANDBOX_BASE_ENV,
      ...hookEnvironment({
        project: ref.project,
        environment: ref.environment,
        branch: ref.environment,
        treeId: TREE_ID,
        appDir: '/app',
        relationships,
        routes: ROUTES,
        env: vars,
        extra: { MAGENTO_CLOUD_DEPLOY_MODE: mode, SLIPWAY_DEPLOY_MODE: mode },
      }),
    };
  }

  let env: Record<string, string>;

  /** A command in the project's sandbox: the release at /app (read-only unless said), its mounts, the environment's namespace unless `netns: null`. */
  async function sandboxed(command: string, options: { env?: Record<string, string>; dir?: string; writable?: boolean; netns?: string | null } = {}): Promise<Ran> {
    const lines: string[] = [];
    const end = await runInSandbox({
      name: `unit-store-${process.pid}-${runs++}`,
      dataDir: layout.home,
      identity: sandboxIdentity(layout, ref.project),
      hostname: `${ref.project}-${ref.environment}`,
      app: { dir: options.dir ?? app, writable: options.writable ?? false },
      binds: [
        { dir: path.join(mounts, 'var'), at: '/mounts/var', writable: true },
        { dir: path.join(mounts, 'media'), at: '/mounts/media', writable: true },
      ],
      ...(options.netns === null ? {} : { netns: options.netns ?? netns }),
      command: ['bash', '-e', '-c', command],
      env: options.env ?? env,
      limits: PLAN_SANDBOX_LIMITS.pro,
      timeoutSeconds: 60,
      onOutput: (l) => lines.push(l),
    });
    assert.equal(end.kind, 'exited', JSON.stringify(end));
    return { code: end.kind === 'exited' ? end.code : -1, lines };
  }

  /** A request to pub/index.php from the command line, in the sandbox. */
  async function request(method: string, uri: string, options: { post?: Record<string, string>; env?: Record<string, string>; dir?: string; netns?: string | null } = {}): Promise<Answer> {
    const requestEnv = {
      ...(options.env ?? env),
      REQUEST_METHOD: method,
      REQUEST_URI: uri,
      ...(options.post ? { SLIPWAY_TEST_POST: new URLSearchParams(options.post).toString() } : {}),
    };
    const ran = await sandboxed('php pub/index.php 2>/tmp/php.log; code=$?; echo; echo @@log; cat /tmp/php.log; exit $code', {
      env: requestEnv,
      ...(options.dir ? { dir: options.dir } : {}),
      ...(options.netns !== undefined ? { netns: options.netns } : {}),
    });
    assert.equal(ran.code, 0, ran.lines.join('\n'));
    const at = ran.lines.lastIndexOf('@@log');
    return parseAnswer(ran.lines.slice(0, at).join('\n'), ran.lines.slice(at + 1).join('\n'));
  }

  function deployHook(): Promise<Ran> {
    return sandboxed(appYaml.hooks.deploy);
  }

  before(async function () {
    home = tempDir('store-home');
    fs.mkdirSync(home, { recursive: true, mode: 0o711 });
    layout = new Layout(home);
    ref = { layout, project: 'store', environment: 'integration' };
    appYaml = parseYaml(fs.readFileSync(path.join(SAMPLE_STORE, '.magento.app.yaml'), 'utf8')) as AppYaml;
    const parsed = parseServices(fs.readFileSync(path.join(SAMPLE_STORE, '.magento/services.yaml'), 'utf8'));
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues));
    services = parsed.value;

    // The release: a copy of the store, built by its build hook in the sandbox (no network),
    // then its mounts linked in as a deployment does (relative links that resolve on the host
    // and in the sandbox, where the mounts are /mounts/<source>).
    app = path.join(home, 'release');
    fs.cpSync(SAMPLE_STORE, app, { recursive: true });
    mounts = path.join(home, 'mounts');
    for (const m of ['var', 'media']) fs.mkdirSync(path.join(mounts, m), { recursive: true });
    const identity = sandboxIdentity(layout, ref.project);
    await chownTree(app, identity);
    await chownTree(mounts, identity);

    const statuses = await startServices(ref, services, () => {});
    assert.deepEqual(
      statuses.map((s) => [s.name, s.state]),
      [
        ['mysql', 'running'],
        ['redis', 'running'],
      ],
    );
    netns = await environmentNetnsPath(ref);
    const rel = relationshipsFor(ref, appYaml.relationships ?? {}, services);
    assert.ok(rel.ok);
    dbPassword = rel.relationships.database![0]!.password;
    env = baseEnv('install', rel.relationships);
  });

  after(async function () {
    if (ref) await deleteEnvironmentRuntime(ref);
    if (home) fs.rmSync(home, { recursive: true, force: true });
  });

  it('passes php -l, every PHP file of the store', function () {
    const files = fs
      .readdirSync(SAMPLE_STORE, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile() && e.name.endsWith('.php'))
      .map((e) => path.join(e.parentPath, e.name));
    assert.ok(files.length >= 8, files.join(' '));
    for (const f of files) assert.match(execFileSync('php', ['-l', f], { encoding: 'utf8' }), /No syntax errors detected/, f);
  });

  it('is a valid project: its crons are parsed, and so is the variant without services', function () {
    const plan = planFromProjectFiles(projectTexts(SAMPLE_STORE));
    assert.ok(plan.ok, plan.ok ? '' : plan.issues.map(formatIssue).join('\n'));
    assert.deepEqual(plan.manifest.crons, { sitemap: { spec: '*/5 * * * *', cmd: 'php bin/sitemap.php' } });
    const variant = projectTexts(SAMPLE_STORE);
    const doc = parseDocument(variant['.magento.app.yaml']!);
    doc.delete('relationships');
    doc.delete('crons');
    variant['.magento.app.yaml'] = doc.toString();
    variant['.magento/services.yaml'] = '';
    const bare = planFromProjectFiles(variant);
    assert.ok(bare.ok, bare.ok ? '' : bare.issues.map(formatIssue).join('\n'));
  });

  it('builds its pages: the home page links to the products and the admin, and no static admin page', async function () {
    const built = await sandboxed(appYaml.hooks.build, { writable: true, netns: null });
    assert.equal(built.code, 0, built.lines.join('\n'));
    assert.deepEqual(built.lines, [`built pub/index.html for tree ${TREE_ID}`]);
    const index = fs.readFileSync(path.join(app, 'pub', 'index.html'), 'utf8');
    assert.match(index, /<p class="headline">Welcome to the Luma sample store<\/p>/);
    assert.match(index, /<footer>Built from tree a1b2c3d4e5f60718293a4b5c6d7e8f9012345678<\/footer>/);
    assert.match(index, /<a href="\/products">/);
    assert.match(index, /<a href="\/admin">/);
    assert.ok(fs.existsSync(path.join(app, 'pub', 'about.html')));
    assert.ok(!fs.existsSync(path.join(app, 'pub', 'admin')), 'the admin is PHP now');
    assert.ok(!fs.existsSync(path.join(SAMPLE_STORE, 'templates', 'admin.html')));
    // The deployment's links to the mounts.
    fs.symlinkSync('../../mounts/media', path.join(app, 'pub', 'media'));
    fs.symlinkSync('../mounts/var', path.join(app, 'var'));
  });

  it('installs the schema on the first deploy: 001 and 002, the version in the database; the password nowhere', async function () {
    // Before: a database without tables, a generic 503 (the reason logged).
    const early = await request('GET', '/products');
    assert.equal(early.status, 503);
    assert.match(early.log, /PDOException: SQLSTATE\[42S02\]/);
    const first = await deployHook();
    assert.equal(first.code, 0, first.lines.join('\n'));
    assert.deepEqual(first.lines, [
      'deploy mode: install; schema at version 0',
      'applied db/migrations/001-create-products.sql',
      'applied db/migrations/002-add-prices.sql',
      'schema at version 2',
    ]);
    const rows = await mariadbQuery(ref, servicePaths(ref, 'mysql'), 'SELECT version, migration FROM schema_version ORDER BY version');
    assert.deepEqual(rows.trim().split('\n'), ['1\t001-create-products.sql', '2\t002-add-prices.sql']);
    assert.deepEqual(fs.readdirSync(path.join(mounts, 'var')), [], 'nothing of the schema on the mount');
    assert.ok(!first.lines.join('\n').includes(dbPassword), 'the password is in no output');
  });

  it('updates: nothing to apply, then a new migration 003, then a failing one stops the hook with the mysql error', async function () {
    env = { ...env, MAGENTO_CLOUD_DEPLOY_MODE: 'update', SLIPWAY_DEPLOY_MODE: 'update' };
    const second = await deployHook();
    assert.deepEqual([second.code, second.lines], [0, ['deploy mode: update; schema at version 2', 'schema at version 2']]);

    // The older callers' variable only.
    const older = { ...env };
    delete older.MAGENTO_CLOUD_DEPLOY_MODE;
    const viaOlder = await sandboxed(appYaml.hooks.deploy, { env: older });
    assert.equal(viaOlder.lines[0], 'deploy mode: update; schema at version 2');

    fs.writeFileSync(path.join(app, 'db/migrations/003-add-stock.sql'), 'ALTER TABLE products ADD COLUMN qty INT;\n');
    const third = await deployHook();
    assert.deepEqual([third.code, third.lines], [0, ['deploy mode: update; schema at version 2', 'applied db/migrations/003-add-stock.sql', 'schema at version 3']]);

    // A failing migration (its last statement without ";"): exit 1, the client's error, not recorded.
    fs.writeFileSync(path.join(app, 'db/migrations/004-broken.sql'), 'UPDATE products SET qty = 1;\nALTER TABLE nowhere ADD COLUMN x INT');
    const broken = await deployHook();
    assert.equal(broken.code, 1, broken.lines.join('\n'));
    assert.equal(broken.lines[0], 'deploy mode: update; schema at version 3');
    assert.ok(
      broken.lines.some((l) => /^ERROR 1146 \(42S02\) at line 2: Table 'main\.nowhere' doesn't exist$/.test(l)),
      broken.lines.join('\n'),
    );
    assert.ok(broken.lines.includes('db/migrations/004-broken.sql failed: schema left at version 3'), broken.lines.join('\n'));
    assert.ok(!broken.lines.some((l) => l.startsWith('applied')));
    fs.rmSync(path.join(app, 'db/migrations/004-broken.sql'));
    assert.equal((await mariadbQuery(ref, servicePaths(ref, 'mysql'), 'SELECT MAX(version) FROM schema_version')).trim(), '3');

    // A file not named <number>-<name>.sql stops it before anything runs.
    fs.writeFileSync(path.join(app, 'db/migrations/add-thing.sql'), 'SELECT 1;\n');
    const misnamed = await deployHook();
    fs.rmSync(path.join(app, 'db/migrations/add-thing.sql'));
    assert.equal(misnamed.code, 1);
    assert.match(misnamed.lines.join('\n'), /db\/migrations\/add-thing\.sql: a migration's name is its number/);

    for (const r of [second, viaOlder, third, broken, misnamed]) assert.ok(!r.lines.join('\n').includes(dbPassword), 'the password is in no output');
  });

  it('hands the credentials to the client in a 0600 file in /tmp, printing only its path', async function () {
    const ran = await sandboxed('f=$(php bin/db-options.php); echo "$f"; stat -c "%a %U" "$f"; grep -c "^password=" "$f"; sed -n 1p "$f"');
    assert.equal(ran.code, 0, ran.lines.join('\n'));
    assert.match(ran.lines[0]!, /^\/tmp\/store-db-\w+$/);
    assert.match(ran.lines[1]!, /^600 /);
    assert.deepEqual(ran.lines.slice(2), ['1', '[client]']);
  });

  it('lists the products from MariaDB, cached in Redis for 30 s: miss, then hit', async function () {
    await mariadbQuery(ref, servicePaths(ref, 'mysql'), 'SELECT 1');
    const first = await request('GET', '/products');
    assert.equal(first.status, 200, first.body + first.log);
    assert.equal(first.headers['content-type'], 'text/html; charset=utf-8');
    assert.equal(first.headers['x-store-cache'], 'miss');
    assert.deepEqual(productsOf(first.body), [
      ['MT07', 'Argus All-Weather Tank', '22.00'],
      ['WS12', 'Radiant Tee', '22.00'],
      ['WT09', 'Breathe-Easy Tank', '34.00'],
    ]);
    assert.equal(first.log, '');
    const second = await request('GET', '/products/?page=1');
    assert.equal(second.headers['x-store-cache'], 'hit');
    assert.equal(second.body, first.body);
    const ttl = Number(execFileSync('redis-cli', ['-s', servicePaths(ref, 'redis').socket, '--no-auth-warning', '-a', fs.readFileSync(servicePaths(ref, 'redis').enginePasswordFile, 'utf8').trim(), 'TTL', 'products:v1'], { encoding: 'utf8' }).trim());
    assert.ok(ttl > 0 && ttl <= 30, `TTL ${ttl}`);
  });

  it('shows the Store Admin: environment, schema version, product count, the form', async function () {
    const admin = await request('GET', '/admin');
    assert.equal(admin.status, 200, admin.body + admin.log);
    assert.match(admin.body, /<h1>Store Admin<\/h1>/);
    assert.match(admin.body, /Luma Admin/);
    assert.match(admin.body, /<dd class="environment">integration<\/dd>/);
    assert.match(admin.body, /<dd class="schema-version">3<\/dd>/);
    assert.match(admin.body, /<dd class="product-count">3<\/dd>/);
    assert.match(admin.body, /<form method="post" action="\/admin\/products">/);
    for (const field of ['sku', 'name', 'price']) assert.match(admin.body, new RegExp(`<input name="${field}"`));
  });

  it('adds a product from the form: validated, the cache cleared, 303 to /products', async function () {
    const bad: Array<[Record<string, string>, RegExp]> = [
      [{ sku: 'no spaces', name: 'X', price: '1' }, /sku: must be 1 to 64 letters, digits or &quot;-&quot;/],
      [{ sku: 'A'.repeat(65), name: 'X', price: '1' }, /sku: /],
      [{ sku: 'OK-1', name: '', price: '1' }, /name: must be 1 to 255 characters/],
      [{ sku: 'OK-1', name: 'x'.repeat(256), price: '1' }, /name: /],
      [{ sku: 'OK-1', name: 'Tee', price: '-1' }, /price: must be a decimal number of at least 0/],
      [{ sku: 'OK-1', name: 'Tee', price: '1.23456' }, /price: /],
      [{ sku: 'OK-1', name: 'Tee' }, /price: /],
    ];
    for (const [post, message] of bad) {
      const r = await request('POST', '/admin/products', { post });
      assert.equal(r.status, 400, JSON.stringify(post));
      assert.match(r.body, message);
    }
    const added = await request('POST', '/admin/products', { post: { sku: 'MJ01', name: 'Beaumont <Summit> Kit & "Co"', price: '42.5' } });
    assert.equal(added.status, 303, added.body + added.log);
    assert.equal(added.headers.location, '/products');
    const list = await request('GET', '/products');
    assert.equal(list.headers['x-store-cache'], 'miss', 'the cache was cleared');
    assert.deepEqual(productsOf(list.body)[0], ['MJ01', 'Beaumont &lt;Summit&gt; Kit &amp; &quot;Co&quot;', '42.50']);
    assert.ok(!list.body.includes('<Summit>'), 'escaped');
    const again = await request('POST', '/admin/products', { post: { sku: 'MJ01', name: 'Again', price: '1' } });
    assert.equal(again.status, 409);
    assert.match(again.body, /sku: a product with sku MJ01 exists already/);
    assert.match((await request('GET', '/admin')).body, /<dd class="product-count">4<\/dd>/);
    // Wrong methods, unknown paths (escaped).
    const get = await request('GET', '/admin/products');
    assert.deepEqual([get.status, get.headers.allow], [405, 'POST']);
    const missing = await request('GET', '/nope/<script>alert(1)</script>');
    assert.equal(missing.status, 404);
    assert.match(missing.body, /There is no page at \/nope\/&lt;script&gt;alert\(1\)&lt;\/script&gt;\./);
    assert.ok(!missing.body.includes('<script>'));
  });

  it('answers /health as text: db and cache', async function () {
    const health = await request('GET', '/health');
    assert.deepEqual([health.status, health.headers['content-type'], health.body], [200, 'text/plain; charset=utf-8', 'ok\ndb: ok\ncache: ok\n']);
  });

  it("serves through PHP's built-in server too: static files as they are, a real POST with its 303", async function () {
    // A client in PHP (no curl needed): the status line, the headers, an empty line, the body.
    const client = [
      '[, $method, $uri, $body] = $argv + [3 => ""];',
      '$ctx = stream_context_create(["http" => ["method" => $method, "header" => "Content-Type: application/x-www-form-urlencoded", "content" => $body, "follow_location" => 0, "ignore_errors" => true]]);',
      '$answer = file_get_contents("http://127.0.0.1:8080$uri", false, $ctx);',
      'echo implode("\\n", $http_response_header), "\\n\\n", $answer, "\\n@@end\\n";',
    ].join('\n');
    const script = [
      'php -S 127.0.0.1:8080 -t pub pub/index.php >/tmp/server.log 2>&1 &',
      'for i in $(seq 100); do php -r \'exit(@fsockopen("127.0.0.1", 8080) ? 0 : 1);\' && break; sleep 0.1; done',
      'php -r "$CLIENT" GET /',
      'php -r "$CLIENT" POST /admin/products "sku=MH01&name=Chaz+Kangeroo+Hoodie&price=52"',
      'php -r "$CLIENT" GET /products',
    ].join('\n');
    const ran = await sandboxed(script, { env: { ...env, CLIENT: client } });
    assert.equal(ran.code, 0, ran.lines.join('\n'));
    const answers = ran.lines.join('\n').split('\n@@end\n');
    assert.match(answers[0]!, /^HTTP\/1\.1 200 OK/);
    assert.match(answers[0]!, /<p class="headline">Welcome to the Luma sample store<\/p>/);
    assert.match(answers[1]!, /^HTTP\/1\.1 303 See Other/);
    assert.match(answers[1]!, /^Location: \/products$/m);
    assert.match(answers[2]!, /^HTTP\/1\.1 200 OK/);
    assert.match(answers[2]!, /^X-Store-Cache: miss$/m);
    assert.match(answers[2]!, /data-sku="MH01"><span class="sku">MH01<\/span> <span class="name">Chaz Kangeroo Hoodie<\/span> <span class="price">52.00<\/span>/);
  });

  it('writes the sitemap (cron) to pub/media, under the primary route', async function () {
    const ran = await sandboxed(appYaml.crons!.sitemap!.cmd);
    assert.equal(ran.code, 0, ran.lines.join('\n'));
    assert.deepEqual(ran.lines, ['sitemap: wrote 6 URLs to pub/media/sitemap.xml (http://integration.store.localhost/)']);
    const xml = fs.readFileSync(path.join(mounts, 'media', 'sitemap.xml'), 'utf8');
    const locs = [...xml.matchAll(/<loc>([^<]*)<\/loc>/g)].map((m) => m[1]);
    assert.deepEqual(locs, [
      'http://integration.store.localhost/products',
      'http://integration.store.localhost/products#MH01',
      'http://integration.store.localhost/products#MJ01',
      'http://integration.store.localhost/products#MT07',
      'http://integration.store.localhost/products#WS12',
      'http://integration.store.localhost/products#WT09',
    ]);
    // No routes: http://localhost/.
    const bare = await sandboxed(appYaml.crons!.sitemap!.cmd, { env: { ...env, MAGENTO_CLOUD_ROUTES: '' } });
    assert.match(bare.lines[0]!, /\(http:\/\/localhost\/\)$/);
  });

  it('renders from the database without Redis (X-Store-Cache: off), and a generic 503 without MariaDB', async function () {
    assert.ok(await stopService(ref, 'redis'));
    const list = await request('GET', '/products');
    assert.equal(list.status, 200);
    assert.equal(list.headers['x-store-cache'], 'off');
    assert.equal(productsOf(list.body).length, 5, list.body);
    assert.match(list.log, /store: cache unavailable: RedisException: Connection refused/);
    assert.match((await request('GET', '/health')).body, /^ok\ndb: ok\ncache: down\n$/);

    assert.ok(await stopService(ref, 'mysql'));
    const down = await request('GET', '/products');
    assert.equal(down.status, 503);
    assert.match(down.body, /The store&apos;s database is not available/);
    assert.doesNotMatch(down.body, /PDO|SQLSTATE|Exception|\.php/);
    assert.match(down.log, /store: database error on GET \/products: PDOException: SQLSTATE\[HY000\] \[2002\] Connection refused/);
    assert.ok(!down.log.includes(dbPassword));
    assert.equal((await request('GET', '/admin')).status, 503);
    assert.match((await request('GET', '/health')).body, /^ok\ndb: down\ncache: down\n$/);
    const hook = await deployHook();
    assert.notEqual(hook.code, 0, 'no migration without the database');
    await startService(ref, services, 'mysql', () => {});
    await startService(ref, services, 'redis', () => {});
    // Back: Redis kept its data over the restart (the cached list, if its 30 s are not over).
    const back = await request('GET', '/products');
    assert.equal(back.status, 200);
    assert.match(back.headers['x-store-cache'] ?? '', /^(hit|miss)$/);
    assert.match((await request('GET', '/health')).body, /^ok\ndb: ok\ncache: ok\n$/);
  });

  it('works without services: no migrations, a clear 503 for the products, the home page as built', async function () {
    // The variant a harness makes: no relationships, no crons, no services.
    const noServices = baseEnv('install', {});
    const hook = await sandboxed(appYaml.hooks.deploy, { env: noServices, netns: null });
    assert.deepEqual([hook.code, hook.lines], [0, ['no database relationship: no migrations to apply']]);
    const products = await request('GET', '/products', { env: noServices, netns: null });
    assert.equal(products.status, 503);
    assert.match(products.body, /This environment has no database relationship/);
    assert.equal(products.log, '');
    const admin = await request('GET', '/admin', { env: noServices, netns: null });
    assert.equal(admin.status, 200);
    assert.match(admin.body, /This environment has no database relationship/);
    assert.doesNotMatch(admin.body, /<form/);
    assert.equal((await request('POST', '/admin/products', { env: noServices, netns: null, post: { sku: 'A', name: 'B', price: '1' } })).status, 503);
    assert.equal((await request('GET', '/health', { env: noServices, netns: null })).body, 'ok\ndb: none\ncache: none\n');
    const sitemap = await sandboxed('php bin/sitemap.php', { env: noServices, netns: null });
    assert.deepEqual([sitemap.code, sitemap.lines], [0, ['no database relationship: no sitemap written']]);
    assert.match(fs.readFileSync(path.join(app, 'pub', 'index.html'), 'utf8'), /Welcome to the Luma sample store/);
  });
});
