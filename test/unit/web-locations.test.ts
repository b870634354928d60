/** `web.locations` of .magento.app.yaml: what is accepted, what a request path resolves to. */
import { strict as assert } from 'node:assert';
import { formatIssue, type ConfigIssue } from '../../src/domain/app-config';
import { planFromProjectFiles } from '../../src/domain/project-files';
import { pageTargets } from '../../src/activities/routing';
import { resolveRoutes } from '../../src/domain/project-files/routes';
import { DEFAULT_LOCATIONS, parseWebLocations, resolveRequest } from '../../src/domain/project-files/web-locations';

const FILE = '.magento.app.yaml';
/** The template's three locations, as YAML gives them. */
const TEMPLATE = {
  '/': {
    root: 'pub',
    passthru: '/index.php',
    index: ['index.php'],
    allow: false,
    rules: { '\\.(css|js|html?)$': { allow: true }, '^/sitemap(.*)\\.xml$': { passthru: '/media/sitemap$1.xml' } },
  },
  '/media': { root: 'pub/media', allow: true, passthru: '/get.php' },
  '/static': { root: 'pub/static', allow: true, passthru: '/front-static.php', rules: { '^/static/version\\d+/(?<resource>.*)$': { passthru: '/static/$resource' } } },
};

function parse(raw: Record<string, unknown> | undefined) {
  const issues: ConfigIssue[] = [];
  return { locations: parseWebLocations(raw, FILE, issues), issues };
}

describe('web.locations', function () {
  it('reads the template locations', function () {
    const { locations, issues } = parse(TEMPLATE);
    assert.deepEqual(issues, []);
    assert.deepEqual(
      locations.map((l) => [l.path, l.root, l.passthru, l.allow, l.rules.length]),
      [['/', 'pub', '/index.php', false, 2], ['/media', 'pub/media', '/get.php', true, 0], ['/static', 'pub/static', '/front-static.php', true, 1]],
    );
  });

  it('serves pub/ at "/" when the application declares no locations', function () {
    assert.deepEqual(parse(undefined).locations, DEFAULT_LOCATIONS);
  });

  it('resolves paths: the longest location, its first matching rule, rewrites', function () {
    const { locations } = parse(TEMPLATE);
    const r = (p: string) => {
      const x = resolveRequest(locations, p);
      return x.kind === 'file' ? { file: x.file, allow: x.allow, passthru: x.passthru, path: x.path } : x.reason;
    };
    assert.deepEqual(r('/welcome.html'), { file: 'pub/welcome.html', allow: true, passthru: '/index.php', path: '/welcome.html' });
    assert.deepEqual(r('/notes.md'), { file: 'pub/notes.md', allow: false, passthru: '/index.php', path: '/notes.md' });
    assert.deepEqual(r('/media/a.jpg'), { file: 'pub/media/a.jpg', allow: true, passthru: '/get.php', path: '/media/a.jpg' });
    assert.deepEqual(r('/mediax/a.jpg'), { file: 'pub/mediax/a.jpg', allow: false, passthru: '/index.php', path: '/mediax/a.jpg' });
    assert.deepEqual(r('/static/version17/frontend/A/b/en_US/x.css'), {
      file: 'pub/static/frontend/A/b/en_US/x.css',
      allow: true,
      passthru: '/front-static.php',
      path: '/static/frontend/A/b/en_US/x.css',
    });
    assert.deepEqual(r('/sitemap-1.xml'), { file: 'pub/media/sitemap-1.xml', allow: true, passthru: '/get.php', path: '/media/sitemap-1.xml' });
  });

  it('stops a rewrite loop', function () {
    const { locations } = parse({ '/': { root: 'pub', rules: { '^/a': { passthru: '/b' }, '^/b': { passthru: '/a' } } } });
    assert.deepEqual(resolveRequest(locations, '/a'), { kind: 'none', reason: 'more than 10 rewrites' });
  });

  it('refuses what would escape the application or cannot be used, naming the key', function () {
    const { issues } = parse({
      '/': { root: '../../..' },
      static: { root: 'pub/static' },
      '/x': { root: 'pub', rules: { '(unclosed': { allow: true }, '^/ok': 'yes' }, passthru: 'index.php' },
    });
    assert.deepEqual(
      issues.map((i) => `${i.path}: ${i.reason.split(':')[0]}`),
      [
        'web.locations."/".root: must be a directory inside the application, without ".."',
        'web.locations."static": a location must be a URL path starting with "/", such as "/" or "/static"',
        'web.locations."/x".rules.(unclosed: is not a regular expression this engine can use',
        'web.locations."/x".rules.^/ok: must be a map such as {allow',
        'web.locations."/x".passthru: must be false or a path starting with "/", such as "/index.php", not "index.php"',
      ],
    );
  });

  it('refuses a root that is absolute, climbs out or is hidden, naming the key; "." and "./pub" are the app and pub', function () {
    const { issues } = parse({
      '/': { root: '../../../../../../../..' },
      '/a': { root: '/etc' },
      '/b': { root: 'pub/../../x' },
      '/c': { root: 'pub/.git' },
      '/d': { root: '/' },
      '/e': { root: 'pub', index: ['../secret.html', '.env', 'index.html'] },
    });
    assert.deepEqual(
      issues.map((i) => `${i.path}: ${i.reason}`),
      [
        'web.locations."/".root: must be a directory inside the application, without ".."',
        'web.locations."/a".root: must be a directory relative to the application, such as "pub", not the absolute path "/etc"',
        'web.locations."/b".root: must be a directory inside the application, without ".."',
        'web.locations."/c".root: must not pass through the hidden directory ".git": hidden files are never served',
        'web.locations."/d".root: must be a directory relative to the application, such as "pub", not the absolute path "/"',
        'web.locations."/e".index.0: must be a file name such as "index.html", not "../secret.html"',
        'web.locations."/e".index.1: must be a file name such as "index.html", not ".env"',
      ],
    );
    const ok = parse({ '/': { root: '.' }, '/p': { root: './pub/' }, '/q': { root: 'pub/static' } });
    assert.deepEqual(ok.issues, []);
    assert.deepEqual(ok.locations.map((l) => l.root), ['', 'pub', 'pub/static']);
  });

  it('keeps scripts, expires (in seconds; -1 none), headers, and the same keys in rules', function () {
    const { locations, issues } = parse({
      '/': {
        root: 'pub',
        scripts: true,
        expires: '1h',
        headers: { 'X-Frame-Options': 'SAMEORIGIN', 'X-Num': 3 },
        rules: { '\\.js$': { expires: 600, scripts: false, headers: { 'X-Rule': 'yes' }, allow: true } },
      },
      '/media': { root: 'pub/media', expires: '1y' },
      '/a': { root: 'pub', expires: -1 },
      '/b': { root: 'pub', expires: '500ms' },
    });
    assert.deepEqual(issues, []);
    const [root, media, a, b] = locations;
    assert.deepEqual([root!.scripts, root!.expires, root!.headers], [true, 3600, { 'X-Frame-Options': 'SAMEORIGIN', 'X-Num': '3' }]);
    assert.deepEqual(root!.rules[0], { source: '\\.js$', pattern: '\\.js$', allow: true, scripts: false, expires: 600, headers: { 'X-Rule': 'yes' } });
    assert.deepEqual([media!.scripts, media!.expires, media!.headers], [false, 31536000, {}]);
    assert.equal(a!.expires, -1);
    assert.equal(b!.expires, 1);
  });

  it('refuses expires, scripts and headers it cannot carry safely, naming the key', function () {
    const { issues } = parse({
      '/': {
        root: 'pub',
        expires: '1 fortnight',
        scripts: 'yes',
        headers: { 'X-Ok': 'fine', 'X-Split': 'a\r\nSet-Cookie: x=1', 'Bad Name': 'v', 'X-$uri': 'v', 'X-Obj': { a: 1 } },
        rules: { '^/x': { expires: -5, headers: 'X-A: b' } },
      },
    });
    assert.deepEqual(
      issues.map((i) => `${i.path}: ${i.reason.split(',')[0]}`),
      [
        'web.locations."/".rules.^/x.expires: must be -1 or a duration such as 3600',
        'web.locations."/".rules.^/x.headers: must be a map of header name → value',
        'web.locations."/".scripts: must be true or false',
        'web.locations."/".expires: must be -1 or a duration such as 3600',
        'web.locations."/".headers."X-Split": must be a header value on one line',
        'web.locations."/".headers."Bad Name": must be an HTTP header name (letters',
        'web.locations."/".headers."X-$uri": must be an HTTP header name (letters',
        'web.locations."/".headers."X-Obj": must be a header value on one line',
      ],
    );
  });

  it('a refused root fails the plan with the file and key named', function () {
    const app = 'name: mymagento\ntype: php:8.3\nweb:\n  locations:\n    "/":\n      root: "../../../../../../../.."\n';
    const plan = planFromProjectFiles({ '.magento.app.yaml': app });
    assert.equal(plan.ok, false);
    assert.deepEqual(!plan.ok && plan.issues.map(formatIssue), ['.magento.app.yaml: web.locations."/".root: must be a directory inside the application, without ".."']);
  });
});

describe('warm-up pages against the routes', function () {
  it('resolves relative pages against each upstream base URL; URLs of other hosts and patterns are skipped, saying why', function () {
    const routes = resolveRoutes(
      {
        'http://{default}/': { type: 'upstream', upstream: 'app:http' },
        'http://{default}/de/': { type: 'upstream', upstream: 'app:http' },
        'http://www.{default}/': { type: 'redirect', to: 'http://{default}/' },
      },
      { defaultHost: 'integration.p.localhost' },
    );
    const skipped: string[] = [];
    const targets = pageTargets(
      ['index.php/customer/account/create', '/about.html', 'category:*:*', 'https://example.com/x', 'http://integration.p.localhost/y?z=1'],
      routes,
      (l) => skipped.push(l),
    );
    assert.deepEqual(
      targets.map((t) => t.url),
      [
        'http://integration.p.localhost/index.php/customer/account/create',
        'http://integration.p.localhost/de/index.php/customer/account/create',
        'http://integration.p.localhost/about.html',
        'http://integration.p.localhost/y?z=1',
      ],
    );
    assert.deepEqual(skipped, [
      'category:*:*: needs the catalogue of a running Magento; skipped',
      "https://example.com/x: example.com is no host of this environment's routes; skipped",
    ]);
  });
});
