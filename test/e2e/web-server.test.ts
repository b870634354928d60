/**
 * The web server of an environment for real: nginx and PHP-FPM from the host's Debian packages
 * (installed on first use as root on Debian), configured by the generated files, running as an
 * unprivileged uid on Unix sockets, asked over HTTP. No Temporal: the wiring into the
 * environment's runtime is tested with the deployments.
 */
import { strict as assert } from 'node:assert';
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import type { ConfigIssue } from '../../src/domain/app-config';
import { parseWebLocations } from '../../src/domain/project-files/web-locations';
import { nginxConfig } from '../../src/domain/runtime/nginx-config';
import { phpFpmConfig } from '../../src/domain/runtime/php-fpm-config';
import { ensureNginx, ensurePhpFpm, type PhpFpm } from '../../src/runtime/web-programs';
import { findOnPath } from '../../src/temporal/locate';
import { tempDir } from '../harness/world';

/** An unprivileged uid of no one (below the sandbox's range, above the system's). */
const UID = 64_999;

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

function request(socketPath: string, urlPath: string, opts: { method?: string; body?: string } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath, path: urlPath, method: opts.method ?? 'GET', headers: { host: 'shop.localhost' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

async function waitFor(file: string, child: ChildProcess, log: () => string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!fs.existsSync(file)) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`${file} did not appear: ${log()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function write(root: string, files: Record<string, string>): void {
  for (const [rel, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    fs.writeFileSync(path.join(root, rel), content);
  }
}

describe('the web server of an environment (nginx and PHP-FPM, unprivileged, on Unix sockets)', function () {
  this.timeout(30_000);
  let dir: string;
  let run: string;
  let socket: string;
  let php: PhpFpm;
  const children: ChildProcess[] = [];
  const output: string[] = [];

  before(async function () {
    this.timeout(600_000); // a fresh machine installs nginx and PHP-FPM first
    if (process.getuid?.() !== 0) this.skip(); // runs its servers as another uid
    const nginx = await ensureNginx((m) => console.log(`      ${m}`));
    php = await ensurePhpFpm((m) => console.log(`      ${m}`));
    const setpriv = findOnPath('setpriv', `${process.env.PATH}:/usr/bin:/bin`);
    assert.ok(setpriv, 'setpriv (util-linux) is on this host');
    assert.ok(['mysqli', 'pdo_mysql', 'redis'].every((e) => php.extensions.includes(e)), `PHP lacks an extension: ${php.extensions.join(' ')}`);

    dir = tempDir('web-server');
    fs.chmodSync(dir, 0o755);
    const app = path.join(dir, 'app');
    run = path.join(dir, 'run');
    write(app, {
      'pub/index.php':
        '<?php\nheader("Content-Type: text/plain");\necho "front ", $_SERVER["REQUEST_METHOD"], " ", $_SERVER["REQUEST_URI"], " script=", $_SERVER["SCRIPT_NAME"], " file=", $_SERVER["SCRIPT_FILENAME"], "\\n";\n' +
        'echo "vars=", getenv("MAGENTO_CLOUD_VARIABLES"), " odd=", getenv("ODD"), " pem=", json_encode(getenv("PEM")), " home=", json_encode(getenv("HOME")), "\\n";\necho "body=", file_get_contents("php://input"), "\\n";\n',
      'pub/secret.php': '<?php /* SECRET-SOURCE */ echo "secret executed";\n',
      'pub/notes.md': 'not for the public\n',
      'pub/robots.txt': 'User-agent: *\n',
      'pub/.env': 'DB_PASSWORD=hunter2\n',
      'pub/static/version-less.txt': 'plain\n',
      'pub/static/css/styles.css': 'body { color: red; }\n',
      'pub/static/index.html': '<p>static index</p>\n',
      'pub/static/.htaccess': 'Deny from all\n',
      'pub/static/template.phtml': '<?php echo "phtml"; ?>\n',
      'pub/static/tool.php': '<?php echo "static php executed";\n',
      'admin/index.php': '<?php echo "admin index executed";\n',
      'admin/ro/run.php': '<?php echo "ro executed";\n',
      'admin/tool.php': '<?php echo "admin tool ", $_SERVER["SCRIPT_NAME"];\n',
      'private/file.txt': 'private\n',
    });
    const issues: ConfigIssue[] = [];
    const locations = parseWebLocations(
      {
        '/': {
          root: 'pub',
          passthru: '/index.php',
          index: ['index.php'],
          allow: false,
          scripts: false,
          rules: { '\\.(css|js|txt|html)$': { allow: true } },
        },
        '/static': {
          root: 'pub/static',
          allow: true,
          scripts: false,
          expires: '1y',
          index: ['index.html'],
          passthru: '/index.php',
          headers: { 'X-Static': 'yes', 'X-Literal': '$uri "quoted"; add_header X 1;' },
          rules: { '^/static/version\\d+/(?<resource>.*)$': { passthru: '/static/$resource' }, '\\.css$': { headers: { 'X-Css': 'rule' } } },
        },
        '/admin': { root: 'admin', scripts: true, passthru: false, index: ['index.php'], rules: { '^/admin/ro/': { scripts: false } } },
        '/private': { root: 'private', allow: false, passthru: false },
      },
      '.magento.app.yaml',
      issues,
    );
    assert.deepEqual(issues, []);
    fs.mkdirSync(path.join(run, 'tmp'), { recursive: true });
    socket = path.join(run, 'web.sock');
    const fpmSocket = path.join(run, 'php.sock');
    fs.writeFileSync(
      path.join(run, 'nginx.conf'),
      nginxConfig({
        appDir: app,
        locations,
        listenSocket: socket,
        phpFpmSocket: fpmSocket,
        pidFile: path.join(run, 'nginx.pid'),
        tempDir: path.join(run, 'tmp'),
        errorLog: path.join(run, 'nginx-error.log'),
      }),
    );
    const fpm = phpFpmConfig({
      pool: 'shop-main',
      listenSocket: fpmSocket,
      pidFile: path.join(run, 'php-fpm.pid'),
      errorLog: path.join(run, 'php-fpm.log'),
      env: { MAGENTO_CLOUD_VARIABLES: 'eyJhIjoxfQ==', ODD: 'a"b\\c ${HOME} $x;y', PEM: 'line1\nline2' },
    });
    fs.writeFileSync(path.join(run, 'php-fpm.conf'), fpm.config);
    execFileSync('chown', ['-R', `${UID}:${UID}`, run]);

    const as = [`--reuid=${UID}`, `--regid=${UID}`, '--clear-groups'];
    const start = (file: string, args: string[], env: Record<string, string>): ChildProcess => {
      const child = spawn(setpriv, [...as, file, ...args], { env: { PATH: '/usr/sbin:/usr/bin:/bin', HOME: '/nonexistent', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
      const keep = (c: Buffer): number => output.push(c.toString('utf8'));
      child.stdout?.on('data', keep);
      child.stderr?.on('data', keep);
      children.push(child);
      return child;
    };
    execFileSync(setpriv, [...as, nginx, '-t', '-q', '-c', path.join(run, 'nginx.conf'), '-e', path.join(run, 'nginx-error.log')], { stdio: 'pipe' });
    const fpmChild = start(php.path, ['-F', '-y', path.join(run, 'php-fpm.conf')], fpm.processEnv);
    const nginxChild = start(nginx, ['-c', path.join(run, 'nginx.conf'), '-e', path.join(run, 'nginx-error.log')], {});
    await waitFor(fpmSocket, fpmChild, () => output.join(''));
    await waitFor(socket, nginxChild, () => output.join(''));
  });

  after(async function () {
    await Promise.all(
      children.map(
        (c) =>
          new Promise<void>((resolve) => {
            if (c.exitCode !== null || c.signalCode !== null) return resolve();
            const force = setTimeout(() => c.kill('SIGKILL'), 5_000);
            c.once('exit', () => {
              clearTimeout(force);
              resolve();
            });
            c.kill('SIGTERM');
          }),
      ),
    );
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('runs both as the unprivileged uid, PHP-FPM the host version', function () {
    for (const pidFile of ['nginx.pid', 'php-fpm.pid']) {
      const pid = fs.readFileSync(path.join(run, pidFile), 'utf8').trim();
      assert.equal(fs.statSync(`/proc/${pid}`).uid, UID, pidFile);
    }
    assert.match(php.version, /^\d+\.\d+\.\d+$/);
  });

  it('passes what is no file to the front controller, executed by PHP with the environment passed through', async function () {
    const r = await request(socket, '/catalog/product/view/id/3?x=1&y=%22');
    assert.equal(r.status, 200);
    const [first, second] = r.body.split('\n');
    assert.equal(first, `front GET /catalog/product/view/id/3?x=1&y=%22 script=/index.php file=${dir}/app/pub/index.php`);
    assert.equal(second, 'vars=eyJhIjoxfQ== odd=a"b\\c ${HOME} $x;y pem="line1\\nline2" home=false');
    const post = await request(socket, '/checkout/cart/add', { method: 'POST', body: 'qty=2' });
    assert.equal(post.status, 200);
    assert.match(post.body, /^front POST \/checkout\/cart\/add /);
    assert.match(post.body, /\nbody=qty=2\n/);
    // "/" is the index, index.php, which is the front controller too.
    assert.match((await request(socket, '/')).body, /^front GET \/ script=\/index\.php/);
  });

  it('serves /static/version<n>/… through the named capture, with expires and the headers as written', async function () {
    for (const url of ['/static/version1712345/css/styles.css', '/static/css/styles.css']) {
      const r = await request(socket, url);
      assert.equal(r.status, 200, url);
      assert.equal(r.body, 'body { color: red; }\n');
      assert.equal(r.headers['content-type'], 'text/css');
      assert.equal(r.headers['cache-control'], 'max-age=31536000');
      assert.ok(r.headers.expires);
      assert.equal(r.headers['x-static'], 'yes');
      assert.equal(r.headers['x-literal'], '$uri "quoted"; add_header X 1;');
      assert.equal(r.headers.x, undefined);
      assert.equal(r.headers['x-css'], 'rule', 'served through the rule, under the alias of /static');
    }
    const index = await request(socket, '/static/');
    assert.equal(index.body, '<p>static index</p>\n');
    // A rule of "/" allows .txt and .html; the location itself (allow: false) serves no file.
    assert.equal((await request(socket, '/robots.txt')).body, 'User-agent: *\n');
    assert.equal((await request(socket, '/static/version-less.txt')).body, 'plain\n');
    const md = await request(socket, '/notes.md');
    assert.match(md.body, /^front GET \/notes\.md /);
    // A missing static file goes to the passthru.
    assert.match((await request(socket, '/static/missing.js')).body, /^front GET \/static\/missing\.js /);
  });

  it('never serves .php as source: executed where scripts is true, else passed through; .phtml refused', async function () {
    const secret = await request(socket, '/secret.php');
    assert.doesNotMatch(secret.body, /SECRET-SOURCE|<\?php|secret executed/);
    assert.match(secret.body, /^front GET \/secret\.php script=\/index\.php/);
    const staticPhp = await request(socket, '/static/tool.php');
    assert.doesNotMatch(staticPhp.body, /<\?php|static php executed/);
    assert.equal((await request(socket, '/admin/tool.php?a=1')).body, 'admin tool /admin/tool.php');
    assert.equal((await request(socket, '/admin/')).body, 'admin index executed');
    // A rule turns scripts off under /admin/ro/: no passthru there, so 404, and no source.
    const ro = await request(socket, '/admin/ro/run.php');
    assert.equal(ro.status, 404);
    assert.doesNotMatch(ro.body, /<\?php|ro executed/);
    const missing = await request(socket, '/admin/missing.php');
    assert.equal(missing.status, 404);
    const phtml = await request(socket, '/static/template.phtml');
    assert.equal(phtml.status, 404);
    assert.doesNotMatch(phtml.body, /<\?php/);
  });

  it('hidden files are 404 everywhere; allow: false without passthru serves nothing', async function () {
    for (const url of ['/.env', '/static/.htaccess', '/static/version9/.htaccess', '/admin/.env', '/.git/config']) {
      const r = await request(socket, url);
      assert.equal(r.status, 404, url);
      assert.doesNotMatch(r.body, /hunter2|Deny from/);
    }
    const priv = await request(socket, '/private/file.txt');
    assert.equal(priv.status, 404);
    assert.doesNotMatch(priv.body, /private/);
  });
});
