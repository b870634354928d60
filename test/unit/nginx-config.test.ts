/**
 * The nginx and PHP-FPM configurations generated from `web.locations`: what each key becomes,
 * and hostile values that must neither inject a directive nor reach nginx's variables. Each
 * generated nginx.conf is also checked by `nginx -t` when nginx is on this host. Served for real:
 * test/e2e/web-server.test.ts.
 */
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { ConfigIssue } from '../../src/domain/app-config';
import { NginxConfigError, nginxConfig, webServerTakesVersionedStatic, type NginxConfigInput } from '../../src/domain/runtime/nginx-config';
import { phpFpmConfig } from '../../src/domain/runtime/php-fpm-config';
import { parseWebLocations, type WebLocation } from '../../src/domain/project-files/web-locations';
import { locateNginx, locatePhpFpm, phpVersionNote } from '../../src/runtime/web-programs';
import { CLOUD_TEMPLATE, tempDir } from '../harness/world';

const nginx = locateNginx();
const dir = tempDir('nginx-config');

function locations(raw: Record<string, unknown>): WebLocation[] {
  const issues: ConfigIssue[] = [];
  const out = parseWebLocations(raw, '.magento.app.yaml', issues);
  assert.deepEqual(issues, []);
  return out;
}

function generate(locs: readonly WebLocation[], extra: Partial<NginxConfigInput> = {}): string {
  return nginxConfig({
    appDir: '/app',
    locations: locs,
    listenSocket: path.join(dir, 'web.sock'),
    phpFpmSocket: path.join(dir, 'php.sock'),
    pidFile: path.join(dir, 'nginx.pid'),
    tempDir: path.join(dir, 'tmp'),
    errorLog: path.join(dir, 'error.log'),
    ...extra,
  });
}

let checked = 0;
/** `nginx -t` on the configuration (when nginx is installed): it must parse, exactly as generated. */
function nginxAccepts(config: string): void {
  if (!nginx) return;
  const file = path.join(dir, `nginx-${++checked}.conf`);
  fs.writeFileSync(file, config);
  fs.mkdirSync(path.join(dir, 'tmp'), { recursive: true });
  try {
    execFileSync(nginx, ['-t', '-q', '-c', file, '-e', path.join(dir, 'error.log')], { stdio: 'pipe' });
  } catch (e) {
    assert.fail(`nginx -t refused ${file}: ${String((e as { stderr?: Buffer }).stderr ?? e)}`);
  }
}

/** The directives of a configuration, one per statement, outside quoted strings (a rough nginx tokenizer). */
function directives(withTypes: string): string[] {
  const config = withTypes.replace(/\n\s*types \{[^}]*\}/, '');
  const out: string[] = [];
  let word = '';
  let words: string[] = [];
  let quote = false;
  for (let i = 0; i < config.length; i++) {
    const c = config[i]!;
    if (quote) {
      if (c === '\\') word += c + config[++i]!;
      else if (c === '"') quote = false;
      else word += c;
      continue;
    }
    if (c === '"') quote = true;
    else if (c === '#') while (i < config.length && config[i] !== '\n') i++;
    else if (/\s/.test(c) || c === ';' || c === '{' || c === '}') {
      if (word) words.push(word);
      word = '';
      if (c !== ' ' && c !== '\n' && c !== '\t') {
        if (words.length) out.push(words[0]!);
        words = [];
      }
    } else word += c;
  }
  return out;
}

const ALLOWED_DIRECTIVES = new Set([
  'daemon', 'worker_processes', 'pid', 'error_log', 'events', 'worker_connections', 'http', 'types', 'default_type', 'access_log',
  'client_body_temp_path', 'proxy_temp_path', 'fastcgi_temp_path', 'uwsgi_temp_path', 'scgi_temp_path', 'sendfile', 'tcp_nopush',
  'server_tokens', 'log_not_found', 'autoindex', 'absolute_redirect', 'client_max_body_size', 'keepalive_timeout', 'fastcgi_read_timeout',
  'fastcgi_buffers', 'fastcgi_buffer_size', 'fastcgi_intercept_errors', 'recursive_error_pages', 'geo', 'default', 'server', 'listen',
  'server_name', 'root', 'alias', 'index', 'location', 'return', 'error_page', 'expires', 'add_header', 'if', 'fastcgi_pass',
  'fastcgi_param', 'set', 'rewrite',
]);

describe('the nginx configuration of a release', function () {
  this.timeout(30_000);

  after(function () {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('passes every passthru to the application\'s own server (web.commands.start) on its port or socket, never to PHP-FPM', function () {
    const locs = locations({ '/': { root: 'public', passthru: true }, '/static': { root: 'public/static', passthru: '/fallback' } });
    const tcp = generate(locs, { appServer: { port: 8888 } });
    assert.match(tcp, /proxy_pass "http:\/\/127\.0\.0\.1:8888";/);
    assert.doesNotMatch(tcp, /fastcgi_pass/);
    nginxAccepts(tcp);
    const unix = generate(locs, { appServer: { socket: '/run/app/app.sock' } });
    assert.match(unix, /proxy_pass "http:\/\/unix:\/run\/app\/app\.sock:";/);
    nginxAccepts(unix);
    assert.throws(() => generate(locs, { appServer: { socket: '/run/app/a b;.sock' } }), /application socket/);
  });

  it("maps the cloud template's locations: prefixes, roots, rules, passthru front controllers, expires", function () {
    const app = parseYaml(fs.readFileSync(path.join(CLOUD_TEMPLATE, '.magento.app.yaml'), 'utf8')) as { web: { locations: Record<string, unknown> } };
    const config = generate(locations(app.web.locations));
    nginxAccepts(config);
    assert.match(config, /location \^~ "\/static\/" \{\n\s+alias "\/app\/pub\/static\/";/);
    assert.match(config, /location = "\/static" \{\n\s+rewrite \^ "\/static\/" last;/);
    assert.match(config, /location \/ \{\n\s+root "\/app\/pub";\n\s+index "index.php";/);
    // The named capture of the rule rewrites; the numbered one of the sitemap rule too.
    assert.match(config, /location ~ "\^\/static\/version\\\\d\+\/\(\?<resource>\.\*\)\$" \{\n\s+set \$slipway_rewrite "\/static\/\$\{resource\}";\n\s+rewrite \^ \$slipway_rewrite last;/);
    assert.match(config, /set \$slipway_rewrite "\/media\/sitemap\$1\.xml";/);
    // Front controllers: each passthru resolved to its script through the locations.
    assert.match(config, /fastcgi_param SCRIPT_FILENAME "\/app\/pub\/index\.php";/);
    assert.match(config, /fastcgi_param SCRIPT_FILENAME "\/app\/pub\/front-static\.php";/);
    assert.match(config, /fastcgi_param SCRIPT_FILENAME "\/app\/pub\/get\.php";/);
    assert.match(config, /expires 31536000s;/);
    // Nothing of the host's /etc/nginx, no user, and nginx stays in the foreground.
    assert.doesNotMatch(config, /include|^\s*user\b/m);
    assert.match(config, /^daemon off;$/m);
    for (const d of directives(config)) assert.ok(ALLOWED_DIRECTIVES.has(d), `unexpected directive ${d}`);
  });

  it('executes .php only where scripts is true, never serves it or a hidden file, and serves nothing without a "/" location', function () {
    const config = generate(locations({ '/': { root: 'pub', scripts: false, passthru: '/index.php' }, '/admin': { root: 'admin', scripts: true, passthru: false } }));
    nginxAccepts(config);
    const rootBlock = config.slice(config.indexOf('location / {'));
    const phpOfRoot = rootBlock.slice(rootBlock.indexOf('location ~* "\\.php$"'));
    assert.match(phpOfRoot.slice(0, 300), /return 404;/);
    assert.doesNotMatch(phpOfRoot.slice(0, 300), /fastcgi_pass/);
    const admin = config.slice(config.indexOf('location ^~ "/admin/"'), config.indexOf('location = "/admin"'));
    assert.match(admin, /fastcgi_param SCRIPT_FILENAME \$request_filename;/);
    assert.match(admin, /error_page 403 404 405 = @slipway_not_found;/);
    assert.match(admin, /location ~ "\/\\\." \{\n\s+default_type text\/plain;\n\s+return 404 "Not Found\\n";/);

    const noRoot = generate(locations({ '/static': { root: 'pub/static' } }));
    nginxAccepts(noRoot);
    assert.match(noRoot, /location \/ \{\n\s+return 404 "Not Found\\n";/);
    // Without PHP-FPM, a PHP front controller answers 502 and no script runs.
    const noPhp = generate(locations({ '/': { root: 'pub', passthru: true, scripts: true } }), { phpFpmSocket: undefined });
    nginxAccepts(noPhp);
    assert.doesNotMatch(noPhp, /fastcgi_pass/);
  });

  it('allow: false serves no file (only the passthru); a rule allows again, with its headers over the location\'s', function () {
    const config = generate(
      locations({
        '/': {
          root: 'pub',
          allow: false,
          passthru: '/index.php',
          headers: { 'X-Frame-Options': 'SAMEORIGIN' },
          rules: { '\\.css$': { allow: true, expires: '1d', headers: { 'X-Rule': 'r' } } },
        },
      }),
    );
    nginxAccepts(config);
    const rule = config.slice(config.indexOf('location ~ "\\\\.css$"'));
    assert.match(rule, /expires 86400s;\n\s+add_header "X-Frame-Options" "SAMEORIGIN";\n\s+add_header "X-Rule" "r";/);
    const tail = config.slice(config.lastIndexOf('location ~* "\\.php$"'));
    assert.match(tail, /\}\n\s+return 404;\n\s+\}/, 'the location itself serves no file');
  });

  it("puts the release's headers on every answer: in each location that adds headers of its own, and the server's", function () {
    const config = generate(
      locations({
        '/': { root: 'pub', passthru: '/index.php', headers: { 'X-Frame-Options': 'SAMEORIGIN', 'x-slipway-release': 'forged' } },
        '/media': { root: 'pub/media', expires: '1h', rules: { '\\.txt$': { headers: { 'X-Rule': 'r' } } } },
      }),
      { engineHeaders: { 'X-Slipway-Release': 'd000007', 'X-Slipway-Commit': 'abc123' } },
    );
    nginxAccepts(config);
    const lines = config.split('\n');
    // Every block with an add_header of its own (nginx then inherits none) has the engine's, with "always".
    const blocks: string[][] = [[]];
    for (const l of lines) {
      if (/\{\s*$/.test(l)) blocks.push([]);
      else if (/^\s*\}\s*$/.test(l)) {
        const b = blocks.pop()!;
        if (b.some((x) => x.startsWith('add_header'))) {
          assert.ok(b.includes('add_header "X-Slipway-Release" "d000007" always;') && b.includes('add_header "X-Slipway-Commit" "abc123" always;'), b.join('\n'));
        }
      } else blocks[blocks.length - 1]!.push(l.trim());
    }
    assert.doesNotMatch(config, /forged/, "the tenant's header of the same name is left out");
    assert.match(config, /add_header "X-Frame-Options" "SAMEORIGIN";/);
  });

  it("takes Magento's versioned static URLs without their version where no rule of \"/\" does, and says where it cannot", function () {
    const plain = locations({ '/': { root: 'pub', passthru: '/index.php' } });
    const config = generate(plain);
    nginxAccepts(config);
    assert.match(config, /location ~ "\^\/static\/version\\d\+\/\(\?<slipway_static>\.\+\)\$" \{\n\s+if \(!-e \$request_filename\) \{\n\s+rewrite \^ \/static\/\$slipway_static last;/);
    assert.equal(webServerTakesVersionedStatic(plain), true);
    const withRule = locations({
      '/': { root: 'pub', passthru: '/index.php' },
      '/static': { root: 'pub/static', rules: { '^/static/version\\d+/(?<resource>.*)$': { passthru: '/static/$resource' } } },
    });
    assert.equal(webServerTakesVersionedStatic(withRule), true, 'a rule of /static rewrites them');
    assert.doesNotMatch(generate(withRule), /slipway_static/, 'no fallback where a location of /static/ takes them');
    const without = locations({ '/': { root: 'pub', passthru: '/index.php' }, '/static': { root: 'pub/static' } });
    assert.equal(webServerTakesVersionedStatic(without), false, 'a location of /static/ without such a rule: the router takes them');
    const hiding = locations({ '/': { root: 'pub', passthru: '/index.php', rules: { '\\.js$': { expires: '1d' } } } });
    assert.equal(webServerTakesVersionedStatic(hiding), false, 'a rule that matches them without rewriting hides the fallback');
  });

  it('quotes hostile values from the tenant: no directive, block or variable gets through', function () {
    const hostile = locations({
      '/x";include/etc/passwd;"': { root: 'pub', index: ['index.php;include', 'a"b$uri{}'] },
      '/a}location/{return': { root: 'pub', passthru: '/index.php";lua_code;"' },
      '/': {
        root: 'pub',
        headers: { 'X-Leak': '$http_cookie ${document_root} "; add_header X 1;', 'X-B': 'a\\"b\\\\' },
        rules: {
          '^/r"; include /etc/shadow; "': { allow: true },
          '\\.(js)$\\\\': { passthru: '/$1"x;y' },
          '^/q(?<rest>.*)$': { passthru: '/p/${rest}"{}' },
        },
      },
    });
    const config = generate(hostile);
    nginxAccepts(config);
    for (const d of directives(config)) assert.ok(ALLOWED_DIRECTIVES.has(d), `the directive ${d} was injected`);
    assert.doesNotMatch(config, /^\s*include/m);
    assert.match(config, /location \^~ "\/x\\";include\/etc\/passwd;\\"\/"/);
    assert.match(config, /location @slipway_passthru_0 \{\n\s+rewrite \^ "\/index\.php\\";lua_code;\\"" last;/);
    assert.match(config, /add_header "X-Leak" "\$\{slipway_dollar\}http_cookie \$\{slipway_dollar\}\{document_root\} \\"; add_header X 1;";/);
    assert.match(config, /index "index.php;include" "a\\"b\$\{slipway_dollar\}uri\{\}";/);
    assert.match(config, /location ~ "\^\/r\\"; include \/etc\/shadow; \\""/);
    assert.match(config, /set \$slipway_rewrite "\/\$1\\"x;y";/);
    assert.match(config, /set \$slipway_rewrite "\/p\/\$\{rest\}\\"\{\}";/);
  });

  it('refuses what cannot be quoted or would read nginx variables, naming each key', function () {
    const direct: WebLocation[] = [
      { path: '/\n}server{', root: 'pub', passthru: false, index: [], allow: true, rules: [] },
      { path: '/r', root: '../../etc', passthru: false, index: [], allow: true, rules: [] },
      { path: '/s', root: 'pub";', passthru: false, index: ['a\nb'], allow: true, rules: [] },
      {
        path: '/',
        root: 'pub',
        passthru: '/index.php\n',
        index: [],
        allow: true,
        headers: { 'X-A;': 'v', 'X-B': 'v\r\nSet-Cookie: a=b' },
        rules: [
          { source: '^/a\n}', pattern: '^/a', allow: true },
          { source: '^/b(?<uri>.*)$', pattern: '^/b(?<uri>.*)$', passthru: '/$uri' },
          { source: '^/c(?<http_x>.*)$', pattern: '^/c', passthru: '/$http_x' },
          { source: '^/d', pattern: '^/d', passthru: '/$http_cookie' },
          { source: '^/e(.*)', pattern: '^/e(.*)', passthru: '/x$' },
          { source: '^/f(?P<name>.*)', pattern: '^/f(?<name>.*)', passthru: '/${other}' },
        ],
      },
    ];
    let error: NginxConfigError | undefined;
    try {
      generate(direct);
    } catch (e) {
      error = e as NginxConfigError;
    }
    assert.ok(error instanceof NginxConfigError);
    assert.deepEqual(
      error.issues.map((i) => `${i.path}: ${i.reason.split(/[,;(]/)[0]!.trim()}`),
      [
        'web.locations."/\\n}server{": a location must be a URL path starting with "/"',
        'web.locations."/r".root: must be a directory inside the application',
        'web.locations."/s".root: must be a directory inside the application',
        'web.locations."/".passthru: must be a path starting with "/"',
        'web.locations."/".headers."X-A;": must be an HTTP header name',
        'web.locations."/".headers."X-B": must be a header value on one line',
        'web.locations."/".rules.^/a\n}: a rule must be a regular expression on one line',
        'web.locations."/".rules.^/b(?<uri>.*)$: names a capture "uri"',
        'web.locations."/".rules.^/c(?<http_x>.*)$: names a capture "http_x"',
        'web.locations."/".rules.^/d.passthru: uses $http_cookie',
        'web.locations."/".rules.^/e(.*).passthru: has a "$" that names no capture of the rule',
        'web.locations."/".rules.^/f(?P<name>.*).passthru: uses $other',
      ],
    );
    assert.match(error.message, /^cannot generate the web server's configuration:\n {2}\.magento\.app\.yaml: web\.locations/);
    assert.throws(() => generate([], { listenSocket: '/tmp/a b.sock' }), /socket must be an absolute path/);
    assert.throws(() => generate([], { appDir: 'app' }), /application directory must be an absolute path/);
  });
});

describe('the PHP-FPM configuration of an environment', function () {
  it('one pool on a Unix socket, unprivileged, a cleared environment whose values are never in the file', function () {
    const env = {
      MAGENTO_CLOUD_RELATIONSHIPS: 'eyJkYXRhYmFzZSI6W119',
      QUOTE: 'a"b\\c ${HOME} ; [x] = y',
      PEM: '-----BEGIN-----\nabc\n-----END-----',
      HASH: '$2y$10$abc',
      EMPTY: '',
    };
    const { config, processEnv } = phpFpmConfig({
      pool: 'shop-main',
      listenSocket: '/run/env/php.sock',
      pidFile: '/run/env/php-fpm.pid',
      errorLog: '/run/env/php-fpm.log',
      env,
    });
    assert.match(config, /^\[global\]\npid = \/run\/env\/php-fpm\.pid\nerror_log = \/run\/env\/php-fpm\.log\ndaemonize = no$/m);
    assert.match(config, /^\[shop-main\]\nlisten = \/run\/env\/php\.sock$/m);
    assert.match(config, /^clear_env = yes$/m);
    assert.match(config, /^pm = ondemand$/m);
    assert.doesNotMatch(config, /^(user|group|listen\.owner)\b/m);
    // Every variable is a reference to PHP-FPM's own environment (sorted by name), its value handed there.
    assert.match(config, /^env\[HASH\] = \$SLIPWAY_FPM_ENV_0$/m);
    assert.match(config, /^env\[MAGENTO_CLOUD_RELATIONSHIPS\] = \$SLIPWAY_FPM_ENV_1$/m);
    assert.match(config, /^env\[PEM\] = \$SLIPWAY_FPM_ENV_2$/m);
    assert.match(config, /^env\[QUOTE\] = \$SLIPWAY_FPM_ENV_3$/m);
    assert.deepEqual(processEnv, {
      SLIPWAY_FPM_ENV_0: '$2y$10$abc',
      SLIPWAY_FPM_ENV_1: 'eyJkYXRhYmFzZSI6W119',
      SLIPWAY_FPM_ENV_2: '-----BEGIN-----\nabc\n-----END-----',
      SLIPWAY_FPM_ENV_3: 'a"b\\c ${HOME} ; [x] = y',
    });
    // An empty value is left out (PHP-FPM refuses one); no value is in the file, whole or in part.
    assert.doesNotMatch(config, /EMPTY/);
    for (const v of Object.values(env).filter(Boolean)) assert.ok(!config.includes(v), `${JSON.stringify(v)} in the file`);
    assert.ok(!config.includes('eyJ') && !config.includes('BEGIN') && !config.includes('$2y'), 'no value in the file');
    assert.equal(config.split('\n').filter((l) => /^env\[/.test(l)).length, 4);
    assert.equal(config.split('\n').filter((l) => l.startsWith('[')).length, 2, 'no section injected');
    assert.throws(() => phpFpmConfig({ pool: 'p', listenSocket: '/s', pidFile: '/p', errorLog: '/e', env: { 'A]\n[www': 'x' } }), /variable name "A\]\\n\[www" must be letters/);
    assert.throws(() => phpFpmConfig({ pool: 'p]\n[x', listenSocket: '/s', pidFile: '/p', errorLog: '/e', env: {} }), /pool name must be/);
    assert.throws(() => phpFpmConfig({ pool: 'p', listenSocket: '/s', pidFile: '/p', errorLog: '/e', env: { A: 'x\0y' } }), /must not hold a NUL/);
  });

  it('php-fpm -t accepts it, where PHP-FPM is installed', function () {
    const fpm = locatePhpFpm();
    if (!fpm) this.skip();
    const d = tempDir('fpm-config');
    try {
      // An empty value (a variable declared as "") is one PHP-FPM would refuse: it is left out.
      const { config, processEnv } = phpFpmConfig({ pool: 'env', listenSocket: `${d}/php.sock`, pidFile: `${d}/fpm.pid`, errorLog: `${d}/fpm.log`, env: { A: 'a"b$c\\d;e', EMPTY: '' } });
      assert.doesNotMatch(config, /EMPTY/);
      fs.writeFileSync(`${d}/php-fpm.conf`, config);
      // As root PHP-FPM wants a user; it runs unprivileged, without one.
      fs.chownSync(d, 65534, 65534);
      const asNobody = process.getuid?.() === 0 ? ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'] : [];
      execFileSync(asNobody[0] ?? fpm, [...asNobody.slice(1), ...(asNobody.length ? [fpm] : []), '-t', '-y', `${d}/php-fpm.conf`], { stdio: 'pipe', env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...processEnv } });
    } finally {
      fs.rmSync(d, { recursive: true, force: true });
    }
  });

  it('says which PHP runs when the declared one differs', function () {
    assert.equal(phpVersionNote('php:8.2', { version: '8.2.29', minor: '8.2' }), undefined);
    assert.equal(phpVersionNote('nodejs:20', { version: '8.2.29', minor: '8.2' }), undefined);
    assert.equal(
      phpVersionNote('php:8.3', { version: '8.2.29', minor: '8.2' }),
      'type php:8.3 is declared, and this host runs PHP 8.2.29 (its Debian package): the application runs on PHP 8.2.29',
    );
  });
});
