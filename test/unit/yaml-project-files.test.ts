/** The YAML project files: services.yaml, routes.yaml and .magento.env.yaml, parsed and validated. */
import { strict as assert } from 'node:assert';
import { formatIssue, type ConfigIssue } from '../../src/domain/app-config';
import { envVariable, parseEnvConfig } from '../../src/domain/project-files/env-config';
import { DEFAULT_ROUTES_YAML, parseRoutes, resolveRoutes } from '../../src/domain/project-files/routes';
import { computeRelationships, parseServices, SUPPORTED_SERVICES } from '../../src/domain/project-files/services';
import { parseYamlText, type Parsed } from '../../src/domain/project-files/yaml-file';
import { planFromProjectFiles } from '../../src/domain/project-files';

function ok<T>(parsed: Parsed<T>): T {
  assert.ok(parsed.ok, `expected success, got ${parsed.ok ? '' : parsed.issues.map(formatIssue).join('; ')}`);
  return parsed.value;
}

const SERVICES = `
mysql:
  type: mysql:10.6
  disk: 2048
redis:
  type: redis:7.2
search:
  type: opensearch:2
  disk: 1024
  configuration:        # unknown to Slipway: kept, ignored
    plugins: [analysis-icu]
`;

const ROUTES = `
"http://{default}/":
  type: upstream
  upstream: "mymagento:http"
  id: main
  cache: {enabled: true, cookies: ["/^ss?ess/"]}
"https://www.{default}/":
  type: redirect
  to: "https://{default}/"
"http://{all}/":
  type: upstream
  upstream: "mymagento:http"
"http://api.{default}/v1/":
  type: upstream
  upstream: mymagento:http
  ssi: {enabled: false}
  attributes: {team: api}
  shiny_new_option: 5
`;

const ENV = `
stage:
  global:
    SCD_ON_DEMAND: true
    SKIP_SCD: false
    DEPLOY_FROM_GIT_OPTIONS: {repositories: {}}
  build:
    SCD_THREADS: 4
    SCD_STRATEGY: compact
    SCD_EXCLUDE_THEMES: Magento/luma
    VERBOSE_COMMANDS: -vv
  deploy:
    SCD_MATRIX:
      Magento/backend: {language: [en_US]}
    CLEAN_STATIC_FILES: false
  post-deploy:
    WARM_UP_PAGES: ["/", "/checkout", "https://shop.example.test/sale"]
    TTFB_TESTED_PAGES: ["/"]
log:
  gelf: {minimum_level: info}
`;

describe('YAML project files', function () {
  describe('shared YAML reading', function () {
    it('treats an empty document as {} and reports syntax errors with a line', function () {
      assert.deepEqual(parseYamlText('f.yaml', ''), { ok: true, value: {} });
      assert.deepEqual(parseYamlText('f.yaml', '# only a comment\n'), { ok: true, value: {} });
      const bad = parseYamlText('f.yaml', 'a: 1\nb: [1, 2\nc: 3\n');
      assert.equal(bad.ok, false);
      assert.match(bad.ok ? '' : (bad.issues[0]?.reason ?? ''), /^invalid YAML at line \d+: \S/);
    });
  });

  describe('.magento/services.yaml', function () {
    it('parses services, keeping unknown keys', function () {
      assert.deepEqual(ok(parseServices(SERVICES)), {
        mysql: { type: 'mysql:10.6', kind: 'mysql', version: '10.6', disk: 2048 },
        redis: { type: 'redis:7.2', kind: 'redis', version: '7.2' },
        search: { type: 'opensearch:2', kind: 'opensearch', version: '2', disk: 1024, configuration: { plugins: ['analysis-icu'] } },
      });
      assert.deepEqual(ok(parseServices('')), {});
    });

    it('accepts every supported kind and version', function () {
      for (const [kind, info] of Object.entries(SUPPORTED_SERVICES)) {
        for (const version of info.versions) {
          const disk = info.disk === 'required' ? '\n  disk: 512' : '';
          assert.equal(ok(parseServices(`svc_1:\n  type: "${kind}:${version}"${disk}\n`)).svc_1?.kind, kind);
        }
      }
    });

    it('computes MAGENTO_CLOUD_RELATIONSHIPS', function () {
      const services = ok(parseServices('mysql: {type: mysql:10.6, disk: 2048}\nredis: {type: "redis:7.2"}\nsearch: {type: "opensearch:2", disk: 1024}\n'));
      const rels = computeRelationships({ database: 'mysql:mysql', cache: 'redis', search: 'search:opensearch' }, services, {
        project: 'shop',
        environment: 'integration',
      });
      assert.ok(rels.ok);
      assert.deepEqual(rels.value.database, [
        {
          service: 'mysql',
          rel: 'mysql',
          scheme: 'mysql',
          host: 'mysql.internal',
          hostname: 'mysql.shop-integration.internal',
          ip: '169.254.136.228',
          port: 3306,
          path: 'main',
          username: 'user',
          password: '',
          type: 'mysql:10.6',
          cluster: 'shop-integration',
          query: { is_master: true },
        },
      ]);
      const cache = rels.value.cache?.[0];
      assert.deepEqual(
        [cache?.service, cache?.rel, cache?.scheme, cache?.host, cache?.port, cache?.password, cache?.username, cache?.path],
        ['redis', 'redis', 'redis', 'redis.internal', 6379, '', undefined, undefined],
      );
      const search = rels.value.search?.[0];
      assert.deepEqual([search?.rel, search?.scheme, search?.port, search?.type], ['opensearch', 'http', 9200, 'opensearch:2']);
      const ips = Object.values(rels.value).map((e) => e[0]?.ip ?? '');
      for (const ip of ips) assert.match(ip, /^169\.254\.\d+\.\d+$/);
      assert.equal(new Set(ips).size, 3, 'distinct services get distinct addresses');
      // Deterministic: the same input gives the same value.
      assert.deepEqual(computeRelationships({ database: 'mysql' }, services, { project: 'shop', environment: 'integration' }), {
        ok: true,
        value: { database: rels.value.database },
      });
    });

    it('reports relationships to undefined services against .magento.app.yaml', function () {
      const services = ok(parseServices('mysql: {type: mysql:10.6, disk: 2048}\n'));
      const rels = computeRelationships({ database: 'mysql:mysql', cache: 'redis:redis', odd: 'mysql:a:b' }, services, {
        project: 'p',
        environment: 'e',
      });
      assert.ok(!rels.ok);
      assert.deepEqual(
        rels.issues.map((i) => [i.file, i.path]),
        [
          ['.magento.app.yaml', 'relationships.cache'],
          ['.magento.app.yaml', 'relationships.odd'],
        ],
      );
      assert.match(rels.issues[0]?.reason ?? '', /names service "redis", which \.magento\/services\.yaml does not define; defined: mysql/);
      assert.match(rels.issues[1]?.reason ?? '', /must be "<service>:<endpoint>"/);
    });
  });

  describe('.magento/routes.yaml', function () {
    it('parses routes, keeping unknown keys', function () {
      assert.deepEqual(ok(parseRoutes(ROUTES, { appName: 'mymagento' })), {
        'http://{default}/': { type: 'upstream', upstream: 'mymagento:http', id: 'main', cache: { enabled: true, cookies: ['/^ss?ess/'] } },
        'https://www.{default}/': { type: 'redirect', to: 'https://{default}/' },
        'http://{all}/': { type: 'upstream', upstream: 'mymagento:http' },
        'http://api.{default}/v1/': {
          type: 'upstream',
          upstream: 'mymagento:http',
          ssi: { enabled: false },
          attributes: { team: 'api' },
          shiny_new_option: 5,
        },
      });
    });

    it('resolves {default} and expands {all}; the first upstream to {default} is primary', function () {
      const routes = ok(parseRoutes(ROUTES));
      const resolved = resolveRoutes(routes, {
        defaultHost: 'integration.shop.localhost',
        allHosts: ['integration.shop.localhost', 'shop.example.test'],
      });
      assert.deepEqual(resolved, [
        {
          template: 'http://{default}/',
          url: 'http://integration.shop.localhost/',
          scheme: 'http',
          host: 'integration.shop.localhost',
          path: '/',
          type: 'upstream',
          upstream: 'mymagento:http',
          primary: true,
        },
        {
          template: 'https://www.{default}/',
          url: 'https://www.integration.shop.localhost/',
          scheme: 'https',
          host: 'www.integration.shop.localhost',
          path: '/',
          type: 'redirect',
          to: 'https://integration.shop.localhost/',
          primary: false,
        },
        // {all} → the default host duplicates the {default} route and is dropped; the other host stays.
        {
          template: 'http://{all}/',
          url: 'http://shop.example.test/',
          scheme: 'http',
          host: 'shop.example.test',
          path: '/',
          type: 'upstream',
          upstream: 'mymagento:http',
          primary: false,
        },
        {
          template: 'http://api.{default}/v1/',
          url: 'http://api.integration.shop.localhost/v1/',
          scheme: 'http',
          host: 'api.integration.shop.localhost',
          path: '/v1/',
          type: 'upstream',
          upstream: 'mymagento:http',
          primary: false,
        },
      ]);
      // Without allHosts, {all} is just the default host.
      assert.deepEqual(
        resolveRoutes(ok(parseRoutes('"https://{all}/shop":\n  type: upstream\n  upstream: "app:http"\n')), { defaultHost: 'e.p.localhost' }).map(
          (r) => [r.url, r.path, r.primary],
        ),
        [['https://e.p.localhost/shop', '/shop', false]],
      );
    });

    it('has a default for projects without routes.yaml', function () {
      const resolved = resolveRoutes(ok(parseRoutes(DEFAULT_ROUTES_YAML, { appName: 'mymagento' })), { defaultHost: 'integration.shop.localhost' });
      assert.deepEqual(
        resolved.map((r) => [r.url, r.upstream, r.primary]),
        [['http://integration.shop.localhost/', 'mymagento:http', true]],
      );
    });
  });

  describe('.magento.env.yaml', function () {
    it('parses stages and variables, keeping the log section', function () {
      const parsed = parseEnvConfig(ENV);
      assert.deepEqual(parsed.warnings, []);
      assert.deepEqual(ok(parsed), {
        stage: {
          global: { SCD_ON_DEMAND: true, SKIP_SCD: false, DEPLOY_FROM_GIT_OPTIONS: { repositories: {} } },
          build: { SCD_THREADS: 4, SCD_STRATEGY: 'compact', SCD_EXCLUDE_THEMES: 'Magento/luma', VERBOSE_COMMANDS: '-vv' },
          deploy: {
            SCD_MATRIX: { 'Magento/backend': { language: ['en_US'] } },
            CLEAN_STATIC_FILES: false,
          },
          'post-deploy': { WARM_UP_PAGES: ['/', '/checkout', 'https://shop.example.test/sale'], TTFB_TESTED_PAGES: ['/'] },
        },
        log: { gelf: { minimum_level: 'info' } },
      });
    });

    it('resolves a variable: the stage, else global, else the default', function () {
      const config = ok(parseEnvConfig(ENV));
      assert.equal(envVariable(config, 'build', 'SCD_THREADS'), 4);
      assert.equal(envVariable(config, 'deploy', 'SCD_THREADS'), 1);
      assert.equal(envVariable(config, 'build', 'SCD_ON_DEMAND'), true);
      assert.equal(envVariable(config, 'deploy', 'CLEAN_STATIC_FILES'), false);
      assert.equal(envVariable(config, 'build', 'CLEAN_STATIC_FILES'), true);
      assert.deepEqual(envVariable(config, 'post-deploy', 'WARM_UP_PAGES'), ['/', '/checkout', 'https://shop.example.test/sale']);

      const empty = ok(parseEnvConfig(''));
      assert.deepEqual(empty.stage, { global: {}, build: {}, deploy: {}, 'post-deploy': {} });
      assert.equal(envVariable(empty, 'build', 'SCD_ON_DEMAND'), false);
      assert.equal(envVariable(empty, 'deploy', 'SKIP_SCD'), false);
      assert.equal(envVariable(empty, 'build', 'SCD_THREADS'), 1);
      assert.deepEqual(envVariable(empty, 'post-deploy', 'WARM_UP_PAGES'), ['/']);
      assert.equal(envVariable(empty, 'deploy', 'CLEAN_STATIC_FILES'), true);
      envVariable(empty, 'post-deploy', 'WARM_UP_PAGES').push('/mutated');
      assert.deepEqual(envVariable(empty, 'post-deploy', 'WARM_UP_PAGES'), ['/'], 'defaults are fresh copies');
      assert.deepEqual(ok(parseEnvConfig('stage:\n  build:\n')).stage.build, {}, 'an empty stage is no variables');
    });

    it('warns about unknown and misplaced variables instead of failing', function () {
      const text = 'stage:\n  build:\n    SCD_THREDS: 4\n  post-deploy:\n    SCD_THREADS: 2\nmystery: 1\n';
      const parsed = parseEnvConfig(text);
      const config = ok(parsed);
      assert.deepEqual(parsed.warnings, [
        { file: '.magento.env.yaml', path: 'mystery', reason: 'unknown section "mystery"; it is ignored' },
        { file: '.magento.env.yaml', path: 'stage.build.SCD_THREDS', reason: 'unknown variable "SCD_THREDS" in stage build; did you mean "SCD_THREADS"?' },
        {
          file: '.magento.env.yaml',
          path: 'stage.post-deploy.SCD_THREADS',
          reason: 'variable "SCD_THREADS" does not belong in stage post-deploy (only global, build, deploy); it is ignored',
        },
      ]);
      assert.equal(config.stage.build.SCD_THREDS, 4, 'unknown variables are kept');
      assert.equal(config.stage['post-deploy'].SCD_THREADS, undefined, 'misplaced variables are dropped');
      assert.equal(envVariable(config, 'build', 'SCD_THREADS'), 1);
      assert.equal(config.mystery, 1);
      // Warnings survive a failure too.
      const failed = parseEnvConfig('stage:\n  build:\n    SCD_THREDS: 4\n    SCD_THREADS: four\n');
      assert.ok(!failed.ok);
      assert.equal(failed.warnings.length, 1);
    });
  });

  describe('malformed files', function () {
    type Kind = 'services' | 'routes' | 'env';
    const FILE: Record<Kind, string> = { services: '.magento/services.yaml', routes: '.magento/routes.yaml', env: '.magento.env.yaml' };
    const parse = (kind: Kind, text: string): Parsed<unknown> =>
      kind === 'services' ? parseServices(text) : kind === 'routes' ? parseRoutes(text, { appName: 'mymagento' }) : parseEnvConfig(text);

    // [what, kind, text, expected path, recognisable part of the reason]
    const cases: [string, Kind, string, string, string | RegExp][] = [
      // services.yaml
      ['bad YAML syntax', 'services', 'mysql:\n  type: [mysql:10.6\n  disk: 2048\n', '', /^invalid YAML at line \d+: /],
      ['a top-level list', 'services', '- mysql\n- redis\n', '', 'must be a map of service name → {type, disk}, not a list'],
      ['a top-level string', 'services', 'mysql\n', '', 'not a string'],
      ['an unknown service kind', 'services', 'mysql:\n  type: postgresq:15\n', 'mysql.type', 'unknown service kind "postgresq"; supported: mysql, mariadb, redis, valkey, opensearch, elasticsearch, rabbitmq, varnish'],
      ['an unsupported version', 'services', 'mysql:\n  type: mysql:8.0\n  disk: 2048\n', 'mysql.type', 'unsupported mysql version "8.0"; supported: 10.4, 10.5, 10.6, 10.11'],
      ['a type without a version', 'services', 'cache:\n  type: redis\n', 'cache.type', 'must be "<kind>:<version>"'],
      ['a type that is not a string', 'services', 'cache:\n  type: 7\n', 'cache.type', 'must be "<kind>:<version>" (a string)'],
      ['a missing type', 'services', 'mysql:\n  disk: 2048\n', 'mysql.type', 'is required'],
      ['a missing disk on mysql', 'services', 'mysql:\n  type: mysql:10.6\n', 'mysql.disk', 'is required for mysql'],
      ['a missing disk on rabbitmq', 'services', 'queue:\n  type: rabbitmq:3.13\n', 'queue.disk', 'is required for rabbitmq'],
      ['a disk on redis', 'services', 'cache:\n  type: redis:7.2\n  disk: 512\n', 'cache.disk', 'is not allowed for redis'],
      ['a disk that is not a number', 'services', 'mysql:\n  type: mysql:10.6\n  disk: 2GB\n', 'mysql.disk', 'positive whole number'],
      ['a zero disk', 'services', 'mysql:\n  type: mysql:10.6\n  disk: 0\n', 'mysql.disk', 'positive whole number'],
      ['a bad service name', 'services', 'My-DB:\n  type: mysql:10.6\n  disk: 2048\n', 'My-DB', 'invalid service name'],
      ['a service that is not a map', 'services', 'mysql: "mysql:10.6"\n', 'mysql', 'must be a map such as'],
      // routes.yaml
      ['bad YAML syntax', 'routes', '"http://{default}/":\n  type: upstream\n  type: redirect\n', '', 'invalid YAML at line 3: Map keys must be unique'],
      ['a top-level list', 'routes', '- "http://{default}/"\n', '', 'must be a map of URL template → route, not a list'],
      ['an unknown route placeholder', 'routes', '"http://{defualt}/":\n  type: upstream\n  upstream: "mymagento:http"\n', '"http://{defualt}/"', 'unknown route placeholder "{defualt}"; use {default} or {all}'],
      ['a {branch} placeholder', 'routes', '"http://{branch}.{default}/":\n  type: upstream\n  upstream: "mymagento:http"\n', '"http://{branch}.{default}/"', 'unknown route placeholder "{branch}"'],
      ['two placeholders', 'routes', '"http://{default}/{all}/":\n  type: upstream\n  upstream: "mymagento:http"\n', '"http://{default}/{all}/"', 'at most one placeholder'],
      ['a key that is not an http(s) URL', 'routes', '"ftp://{default}/":\n  type: upstream\n  upstream: "mymagento:http"\n', '"ftp://{default}/"', 'must be a URL template "http(s)://<host>[/<path>]"'],
      ['a key without a scheme', 'routes', '"{default}/":\n  type: upstream\n  upstream: "mymagento:http"\n', '"{default}/"', 'must be a URL template'],
      ['a placeholder in the path', 'routes', '"http://shop.test/{default}":\n  type: upstream\n  upstream: "mymagento:http"\n', '"http://shop.test/{default}"', 'placeholder in the host'],
      ['a route without type', 'routes', '"http://{default}/":\n  upstream: "mymagento:http"\n', '"http://{default}/".type', 'is required: "upstream" or "redirect"'],
      ['an unknown route type', 'routes', '"http://{default}/":\n  type: proxy\n', '"http://{default}/".type', 'must be "upstream" or "redirect", not "proxy"'],
      ['an upstream without :http', 'routes', '"http://{default}/":\n  type: upstream\n  upstream: mymagento\n', '"http://{default}/".upstream', 'must be "<application>:http"'],
      ['an upstream route without upstream', 'routes', '"http://{default}/":\n  type: upstream\n', '"http://{default}/".upstream', 'is required for type upstream'],
      ['an upstream to another application', 'routes', '"http://{default}/":\n  type: upstream\n  upstream: "foo:http"\n', '"http://{default}/".upstream', 'upstream "foo:http" names no application; the application is "mymagento"'],
      ['a redirect without to', 'routes', '"http://www.{default}/":\n  type: redirect\n', '"http://www.{default}/".to', 'is required for type redirect'],
      ['a redirect to a bad placeholder', 'routes', '"http://www.{default}/":\n  type: redirect\n  to: "http://{defualt}/"\n', '"http://www.{default}/".to', 'unknown route placeholder "{defualt}"'],
      ['a route that is not a map', 'routes', '"http://{default}/": mymagento\n', '"http://{default}/"', 'must be a map such as'],
      // .magento.env.yaml
      ['bad YAML syntax', 'env', 'stage:\n  build:\n    SCD_THREADS: 4\n   deploy: {\n', '', /^invalid YAML at line \d+: /],
      ['a top-level list', 'env', '- stage\n', '', 'must be a map with a "stage" section, not a list'],
      ['a stage section that is a list', 'env', 'stage: [build]\n', 'stage', 'must be a map of stage → variables, not a list'],
      ['an unknown stage', 'env', 'stage:\n  deplyo:\n    SKIP_SCD: true\n', 'stage.deplyo', 'unknown stage "deplyo"; use global, build, deploy, post-deploy'],
      ['a stage that is not a map', 'env', 'stage:\n  build: 5\n', 'stage.build', 'must be a map of variables, not a number'],
      ['SCD_THREADS "four"', 'env', 'stage:\n  build:\n    SCD_THREADS: four\n', 'stage.build.SCD_THREADS', 'must be a whole number from 1 to 64'],
      ['SCD_THREADS 0', 'env', 'stage:\n  deploy:\n    SCD_THREADS: 0\n', 'stage.deploy.SCD_THREADS', 'must be a whole number from 1 to 64'],
      ['SCD_THREADS 65', 'env', 'stage:\n  build:\n    SCD_THREADS: 65\n', 'stage.build.SCD_THREADS', 'must be a whole number from 1 to 64'],
      ['SCD_THREADS 2.5', 'env', 'stage:\n  build:\n    SCD_THREADS: 2.5\n', 'stage.build.SCD_THREADS', 'must be a whole number from 1 to 64'],
      ['SKIP_SCD "yes"', 'env', 'stage:\n  build:\n    SKIP_SCD: yes\n', 'stage.build.SKIP_SCD', 'must be true or false'],
      ['SCD_ON_DEMAND 1', 'env', 'stage:\n  global:\n    SCD_ON_DEMAND: 1\n', 'stage.global.SCD_ON_DEMAND', 'must be true or false'],
      ['an unknown SCD_STRATEGY', 'env', 'stage:\n  build:\n    SCD_STRATEGY: fast\n', 'stage.build.SCD_STRATEGY', 'must be one of standard, quick, compact'],
      ['SCD_MATRIX as a list', 'env', 'stage:\n  deploy:\n    SCD_MATRIX: [a]\n', 'stage.deploy.SCD_MATRIX', 'must be a map'],
      ['VERBOSE_COMMANDS -vvvv', 'env', 'stage:\n  deploy:\n    VERBOSE_COMMANDS: -vvvv\n', 'stage.deploy.VERBOSE_COMMANDS', 'must be "", "-v", "-vv" or "-vvv"'],
      ['WARM_UP_PAGES not a list', 'env', 'stage:\n  post-deploy:\n    WARM_UP_PAGES: /\n', 'stage.post-deploy.WARM_UP_PAGES', 'must be a list of pages'],
      ['a WARM_UP_PAGES entry "ftp://shop.test/home"', 'env', 'stage:\n  post-deploy:\n    WARM_UP_PAGES: ["/", "ftp://shop.test/home"]\n', 'stage.post-deploy.WARM_UP_PAGES.1', '"ftp://shop.test/home" is not an http(s) URL'],
      ['a TTFB_TESTED_PAGES entry that is a number', 'env', 'stage:\n  post-deploy:\n    TTFB_TESTED_PAGES: [1]\n', 'stage.post-deploy.TTFB_TESTED_PAGES.0', 'must be a string'],
    ];

    for (const [what, kind, text, path, reason] of cases) {
      it(`${FILE[kind]}: ${what}`, function () {
        const parsed = parse(kind, text);
        assert.ok(!parsed.ok, `expected issues for ${what}`);
        const found = parsed.issues.find((i: ConfigIssue) => i.path === path);
        assert.ok(found, `no issue at "${path}"; got ${parsed.issues.map(formatIssue).join('; ')}`);
        assert.equal(found.file, FILE[kind]);
        if (typeof reason === 'string') assert.ok(found.reason.includes(reason), `"${found.reason}" does not mention "${reason}"`);
        else assert.match(found.reason, reason);
      });
    }

    it('formats issues as file: path: reason', function () {
      const parsed = parseServices('mysql:\n  type: postgresq:15\n  disk: 2048\n');
      assert.ok(!parsed.ok);
      assert.deepEqual(parsed.issues.map(formatIssue), [
        '.magento/services.yaml: mysql.type: unknown service kind "postgresq"; supported: mysql, mariadb, redis, valkey, opensearch, elasticsearch, rabbitmq, varnish',
      ]);
    });

    it('reports every issue of a file, not just the first', function () {
      const parsed = parseServices('mysql:\n  type: mysql:8.0\n  disk: 2048\ncache:\n  type: redis:7.2\n  disk: 10\n');
      assert.ok(!parsed.ok);
      assert.deepEqual(
        parsed.issues.map((i) => i.path),
        ['mysql.type', 'cache.disk'],
      );
    });
  });
});

describe("a non-PHP application's own server (web.commands.start)", function () {
  const plan = (web: string) =>
    planFromProjectFiles({ '.magento.app.yaml': `name: api\ntype: nodejs:20\nweb:\n${web}\nhooks:\n  build: "true"\n` });

  it('is kept with its socket family (tcp by default)', function () {
    const tcp = plan('  commands:\n    start: "node server.js"\n  locations:\n    "/":\n      root: public\n      passthru: true');
    assert.ok(tcp.ok);
    assert.equal(tcp.manifest.webStart, 'node server.js');
    assert.equal(tcp.manifest.upstream, 'tcp');
    assert.equal(tcp.manifest.appType, 'nodejs:20');
    const unix = plan('  commands:\n    start: "python3 app.py"\n  upstream:\n    socket_family: unix');
    assert.ok(unix.ok);
    assert.equal(unix.manifest.upstream, 'unix');
  });

  it('is refused, naming the key, when the command or the family is not one', function () {
    const empty = plan('  commands:\n    start: ""');
    assert.ok(!empty.ok);
    assert.match(empty.issues.map(formatIssue).join('\n'), /web\.commands\.start: must be the command that starts the application/);
    const family = plan('  commands:\n    start: "node s.js"\n  upstream:\n    socket_family: udp');
    assert.ok(!family.ok);
    assert.match(family.issues.map(formatIssue).join('\n'), /web\.upstream\.socket_family: must be "tcp" or "unix"/);
  });
});
