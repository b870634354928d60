/**
 * The nginx configuration of one environment's release, generated from its `web.locations`
 * the way Magento Cloud (Platform.sh) serves them: one `server` on a Unix socket, nginx running
 * unprivileged (no `user`), every path, pid and temporary directory given by the caller.
 *
 * Mapping (see docs/architecture.md, "The web server of an environment"):
 * - a location "/p" is `location ^~ "/p/"` (its root through `alias`) plus `location = "/p"`;
 *   "/" is `location /` with `root`; the longest prefix wins, as Platform.sh does;
 * - its rules are nested `location ~ "<regex>"` in their order (the first match applies); a rule
 *   overrides allow, scripts, expires, headers and passthru; a rule's passthru rewrites the request
 *   (`$name`/`$1` from the rule's captures) and it is resolved again;
 * - `allow` serves static files (with `index`, `expires`, `headers`); a missing or disallowed file
 *   goes to the location's passthru (`error_page … = @passthru`), else 404;
 * - `.php` is executed by PHP-FPM where `scripts` is true, and otherwise passed through; it is never
 *   served as a file; hidden files (any segment starting with ".") are never served.
 *
 * Every value from the tenant's files is quoted for nginx (`"`, `\` escaped, `$` written through
 * a variable holding "$" where nginx would expand variables) or refused, naming its key.
 */
import { type ConfigIssue, formatIssue } from '../app-config';
import { locationKey, resolveRequest, type WebLocation } from '../project-files/web-locations';

export interface NginxConfigInput {
  /** The application's directory as the web server sees it (in the sandbox: "/app"). */
  appDir: string;
  locations: readonly WebLocation[];
  /** The Unix socket nginx listens on. */
  listenSocket: string;
  /**
   * The application's own server (`web.commands.start`): a Unix socket or a port on 127.0.0.1.
   * Every passthru goes to it (HTTP, the request as it came), instead of a PHP front controller.
   */
  appServer?: { socket: string } | { port: number };
  /** PHP-FPM's Unix socket; without it no `.php` is executed (404, or the passthru's 502). */
  phpFpmSocket?: string;
  pidFile: string;
  /** A writable directory for request bodies and buffered responses. */
  tempDir: string;
  errorLog: string;
  /** Absent: no access log. */
  accessLog?: string;
  /** nginx worker processes (default 1). */
  workers?: number;
  /** Largest request body, in MB (default 64: Magento uploads). */
  clientMaxBodyMb?: number;
  /**
   * Headers of Slipway's on every answer, error pages included (the release and commit served):
   * written wherever a location adds headers, since nginx inherits none into a location with its own.
   */
  engineHeaders?: Record<string, string>;
}

/** A configuration that cannot be generated: each problem names the file and key. */
export class NginxConfigError extends Error {
  constructor(readonly issues: ConfigIssue[]) {
    super(`cannot generate the web server's configuration:\n${issues.map((i) => `  ${formatIssue(i)}`).join('\n')}`);
    this.name = 'NginxConfigError';
  }
}

const FILE = '.magento.app.yaml';
/** The variable holding "$", for values where nginx expands `$name` (no escape exists for it). */
const DOLLAR = 'slipway_dollar';
/** A named capture nginx turns into a variable: not one of nginx's own. */
const CAPTURE_NAME = /\(\?(?:P?<|')([A-Za-z_][A-Za-z0-9_]*)[>']/g;
const NGINX_VARIABLE_PREFIXES = ['http_', 'sent_', 'arg_', 'cookie_', 'upstream_', 'proxy_', 'fastcgi_', 'ssl_', 'request_', 'remote_', 'server_', 'realpath_', 'slipway_', 'geoip_', 'limit_', 'connection', 'content_', 'document_', 'invalid_', 'jsonp_', 'memcached_', 'msec', 'secure_link', 'binary_', 'time_', 'tcpinfo_', 'gzip_', 'spdy', 'http2', 'http3', 'bytes_', 'body_', 'pipe', 'nginx_', 'query_', 'is_args', 'date_'];
const NGINX_VARIABLES = new Set(['args', 'host', 'hostname', 'https', 'scheme', 'status', 'uri', 'pid', 'request', 'dollar', 'cookie', 'sent']);

function isNginxVariable(name: string): boolean {
  const n = name.toLowerCase();
  return NGINX_VARIABLES.has(n) || /^\d/.test(n) || NGINX_VARIABLE_PREFIXES.some((p) => n.startsWith(p));
}

/** Control characters (CR, LF, NUL…) end an nginx token or a header: never written. */
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const CONTROL = /[\x00-\x08\x0a-\x1f\x7f]/;

/** A quoted nginx string for a directive that does not expand variables (location names, regexes). */
function literal(s: string): string {
  return `"${s.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

/** A quoted nginx string for a directive that expands variables: a "$" stays a "$". */
function value(s: string): string {
  return `"${s.replace(/[\\"]/g, (c) => `\\${c}`).replace(/\$/g, `\${${DOLLAR}}`)}"`;
}

/** Paths chosen by Slipway (sockets, logs, app dir): absolute, plain. */
function enginePath(p: string, what: string): string {
  if (!/^\/[A-Za-z0-9._@+/-]*$/.test(p) || p.split('/').includes('..')) {
    throw new Error(`the web server's ${what} must be an absolute path of letters, digits and . _ @ + - /, not ${JSON.stringify(p)}`);
  }
  return p.replace(/\/+$/, '') || '/';
}

/** What applies to a request: the location's settings, overridden by its first matching rule. */
interface Settings {
  allow: boolean;
  scripts: boolean;
  expires: number;
  headers: Record<string, string>;
  /** The named location of the passthru, or undefined: 404. */
  passthru: string | undefined;
}

/** The MIME types nginx sends for static files (self-contained: nothing of /etc/nginx is read). */
const MIME_TYPES: Record<string, string> = {
  'text/html': 'html htm shtml',
  'text/css': 'css',
  'text/xml': 'xml',
  'text/plain': 'txt',
  'text/csv': 'csv',
  'text/x-handlebars-template': 'hbs',
  'application/javascript': 'js mjs',
  'application/json': 'json map',
  'application/manifest+json': 'webmanifest',
  'application/pdf': 'pdf',
  'application/zip': 'zip',
  'application/gzip': 'gz',
  'application/java-archive': 'jar',
  'application/x-shockwave-flash': 'swf',
  'application/wasm': 'wasm',
  'application/rss+xml': 'rss',
  'application/atom+xml': 'atom',
  'image/gif': 'gif',
  'image/jpeg': 'jpeg jpg',
  'image/png': 'png',
  'image/webp': 'webp',
  'image/avif': 'avif',
  'image/svg+xml': 'svg svgz',
  'image/x-icon': 'ico',
  'image/bmp': 'bmp',
  'image/tiff': 'tif tiff',
  'image/vnd.wap.wbmp': 'wbmp',
  'image/x-jng': 'jng',
  'video/x-mng': 'mng',
  'font/woff': 'woff',
  'font/woff2': 'woff2',
  'font/ttf': 'ttf',
  'font/otf': 'otf',
  'application/vnd.ms-fontobject': 'eot',
  'audio/midi': 'mid midi',
  'audio/mpeg': 'mp3 mpga mp2',
  'audio/mp4': 'm4a',
  'audio/ogg': 'ogg',
  'audio/webm': 'weba',
  'audio/x-realaudio': 'ra',
  'video/mp4': 'mp4',
  'video/mpeg': 'mpeg mpg mpe',
  'video/webm': 'webm',
  'video/ogg': 'ogv',
  'video/quicktime': 'mov',
  'video/3gpp': '3gp 3gpp',
  'video/x-flv': 'flv',
  'video/x-ms-asf': 'asx asf',
  'video/x-ms-wmv': 'wmv',
  'video/x-msvideo': 'avi',
  'application/ogg': 'ogx',
};

class Writer {
  private readonly lines: string[] = [];
  private depth = 0;
  line(s: string): void {
    this.lines.push(`${'    '.repeat(this.depth)}${s}`);
  }
  block(head: string, body: () => void): void {
    this.line(`${head} {`);
    this.depth++;
    body();
    this.depth--;
    this.line('}');
  }
  text(): string {
    return `${this.lines.join('\n')}\n`;
  }
}

/**
 * A rule's passthru as an nginx value: literal parts quoted, `$name`/`${name}` the rule's named
 * captures and `$1`…`$9` its numbered ones; any other "$" is refused (it would read nginx's
 * variables, such as a request header).
 */
function rewriteTarget(template: string, captures: ReadonlySet<string>): { target: string } | { error: string } {
  let out = '';
  let last = 0;
  const ref = /\$(?:\{(\w+)\}|(\w+))?/g;
  for (let m = ref.exec(template); m; m = ref.exec(template)) {
    const name = m[1] ?? m[2];
    if (name === undefined) return { error: 'has a "$" that names no capture of the rule; write captures as $name, ${name} or $1' };
    if (/^\d+$/.test(name) ? Number(name) < 1 || Number(name) > 9 : !captures.has(name)) {
      return { error: `uses $${name}, which is not a capture of the rule (named captures: ${[...captures].join(', ') || 'none'}; numbered: $1 to $9)` };
    }
    // nginx reads "$1" as one digit, and named captures braced: "${name}".
    out += value(template.slice(last, m.index)).slice(1, -1) + (/^\d$/.test(name) ? `$${name}` : `\${${name}}`);
    last = m.index + m[0].length;
  }
  out += value(template.slice(last)).slice(1, -1);
  return { target: `"${out}"` };
}

/** Generates the complete nginx.conf; throws NginxConfigError naming each refused key. */
export function nginxConfig(input: NginxConfigInput): string {
  const appDir = enginePath(input.appDir, 'application directory');
  const listen = enginePath(input.listenSocket, 'socket');
  const php = input.phpFpmSocket === undefined ? undefined : enginePath(input.phpFpmSocket, 'PHP-FPM socket');
  const tempDir = enginePath(input.tempDir, 'temporary directory');
  const issues: ConfigIssue[] = [];
  const issue = (at: string, reason: string): void => void issues.push({ file: FILE, path: at, reason });

  // Named locations of the passthrus (front controllers), one per distinct passthru.
  const passthrus = new Map<string, string>();
  const passthruName = (p: string | false, at: string): string | undefined => {
    if (p === false) return undefined;
    if (CONTROL.test(p) || !p.startsWith('/')) {
      issue(`${at}.passthru`, 'must be a path starting with "/", on one line');
      return undefined;
    }
    let name = passthrus.get(p);
    if (!name) {
      name = `@slipway_passthru_${passthrus.size}`;
      passthrus.set(p, name);
    }
    return name;
  };

  const engineHeaders = Object.entries(input.engineHeaders ?? {});
  checkHeaders(input.engineHeaders ?? {}, 'engine headers', (at, reason) => {
    throw new Error(`${at}: ${reason}`);
  });
  /** The engine's headers; a location with its own add_header inherits none (an empty value adds nothing). */
  const ownHeaders = (w: Writer, tenantHeaders = 0): void => {
    if (engineHeaders.length === 0 && tenantHeaders === 0) w.line('add_header X-Slipway-None "";');
    for (const [name, v] of engineHeaders) w.line(`add_header ${literal(name)} ${value(v)} always;`);
  };
  const headerLines = (w: Writer, s: Settings): void => {
    w.line(s.expires > 0 ? `expires ${s.expires}s;` : 'expires off;');
    ownHeaders(w, Object.keys(s.headers).length);
    for (const [name, v] of Object.entries(s.headers)) {
      if (!engineHeaders.some(([n]) => n.toLowerCase() === name.toLowerCase())) w.line(`add_header ${literal(name)} ${value(v)};`);
    }
  };

  const notFound = (s: Settings): string => `error_page 403 404 405 = ${s.passthru ?? '@slipway_not_found'};`;

  /** What a request gets once its location (and rule) is known. */
  const settle = (w: Writer, s: Settings): void => {
    w.line(notFound(s));
    // `.php`: executed where scripts are allowed, else passed through; never sent as a file.
    w.block('location ~* "\\.php$"', () => {
      w.line(notFound(s));
      w.line('expires off;');
      ownHeaders(w);
      if (s.scripts && php) {
        w.block('if (!-f $request_filename)', () => w.line('return 404;'));
        fastcgi(w, php, '$request_filename', '$fastcgi_script_name', '$document_root');
      } else {
        w.line('return 404;');
      }
    });
    if (s.allow) {
      headerLines(w, s);
    } else {
      w.line('return 404;');
    }
  };

  const locations = [...input.locations].sort((a, b) => b.path.length - a.path.length);
  const seen = new Set<string>();
  const server = new Writer();
  const body = (): void => {
    const w = server;
    w.line(`listen ${value(`unix:${listen}`)} default_server;`);
    w.line('server_name _;');
    for (const [name, v] of engineHeaders) w.line(`add_header ${literal(name)} ${value(v)} always;`);
    w.line(`root ${value(appDir)};`);
    w.line('index index.html;');
    w.block('location @slipway_not_found', () => {
      w.line('default_type text/plain;');
      w.line('return 404 "Not Found\\n";');
    });
    const bodies: Array<() => void> = [];
    for (const loc of locations) {
      const at = locationKey(loc.path);
      const prefix = loc.path.replace(/\/+$/, '');
      if (!loc.path.startsWith('/') || CONTROL.test(loc.path) || /\s/.test(loc.path)) {
        issue(at, 'a location must be a URL path starting with "/", on one line');
        continue;
      }
      if (seen.has(prefix)) {
        issue(at, `is the same location as another one (${JSON.stringify(prefix || '/')})`);
        continue;
      }
      seen.add(prefix);
      if (!/^[A-Za-z0-9_@+.-]*(\/[A-Za-z0-9_@+.-]+)*$/.test(loc.root) || loc.root.split('/').some((s) => s === '..' || s.startsWith('.'))) {
        issue(`${at}.root`, 'must be a directory inside the application, without "..", hidden directories or unusual characters');
        continue;
      }
      const dir = loc.root === '' || loc.root === '.' ? appDir : `${appDir === '/' ? '' : appDir}/${loc.root}`;
      for (const [i, name] of loc.index.entries()) {
        if (CONTROL.test(name) || /[\s/]/.test(name) || name.startsWith('.')) issue(`${at}.index.${i}`, `must be a file name such as "index.html", not ${JSON.stringify(name)}`);
      }
      const base: Settings = {
        allow: loc.allow,
        scripts: loc.scripts ?? false,
        expires: loc.expires ?? -1,
        headers: loc.headers ?? {},
        passthru: passthruName(loc.passthru, at),
      };
      checkHeaders(base.headers, at, issue);
      const rules: Array<{ source: string; settings: Settings; rewrite?: string }> = [];
      for (const rule of loc.rules) {
        const ruleAt = `${at}.rules.${rule.source}`;
        if (CONTROL.test(rule.source)) {
          issue(ruleAt, 'a rule must be a regular expression on one line, without control characters');
          continue;
        }
        const captures = new Set<string>();
        for (const m of rule.source.matchAll(CAPTURE_NAME)) captures.add(m[1]!);
        const clash = [...captures].find(isNginxVariable);
        if (clash !== undefined) {
          issue(ruleAt, `names a capture "${clash}", which is a variable of the web server; choose another name`);
          continue;
        }
        const settings: Settings = {
          allow: rule.allow ?? base.allow,
          scripts: rule.scripts ?? base.scripts,
          expires: rule.expires ?? base.expires,
          headers: { ...base.headers, ...(rule.headers ?? {}) },
          passthru: rule.passthru === false ? undefined : base.passthru,
        };
        checkHeaders(rule.headers ?? {}, ruleAt, issue);
        let rewrite: string | undefined;
        if (typeof rule.passthru === 'string') {
          if (CONTROL.test(rule.passthru) || !rule.passthru.startsWith('/')) {
            issue(`${ruleAt}.passthru`, 'must be a path starting with "/", on one line');
            continue;
          }
          const t = rewriteTarget(rule.passthru, captures);
          if ('error' in t) {
            issue(`${ruleAt}.passthru`, t.error);
            continue;
          }
          rewrite = t.target;
        }
        rules.push({ source: rule.source, settings, ...(rewrite !== undefined ? { rewrite } : {}) });
      }
      const index = loc.index.map(value).join(' ');
      const inner = (w2: Writer): void => {
        w2.line(prefix === '' ? `root ${value(dir)};` : `alias ${value(`${dir}/`)};`);
        if (index) w2.line(`index ${index};`);
        // Hidden files and PHP sources other than .php are never served, whatever the rules say.
        w2.block('location ~ "/\\."', () => {
          w2.line('default_type text/plain;');
          w2.line('return 404 "Not Found\\n";');
        });
        w2.block('location ~* "\\.(phtml|phar|php[0-9]+|inc)$"', () => {
          w2.line('default_type text/plain;');
          w2.line('return 404 "Not Found\\n";');
        });
        for (const r of rules) {
          w2.block(`location ~ ${literal(r.source)}`, () => {
            if (r.rewrite !== undefined) {
              w2.line(`set $slipway_rewrite ${r.rewrite};`);
              w2.line('rewrite ^ $slipway_rewrite last;');
            } else {
              settle(w2, r.settings);
            }
          });
        }
        // Magento's versioned static URLs (/static/version<N>/…) where no rule of the location
        // takes them: a file of that very path if there is one, else the path without its version.
        if (loc === locationOfVersionedStatic(input.locations) && prefix === '' && firstRuleForVersionedStatic(loc) === undefined) {
          w2.block('location ~ "^/static/version\\d+/(?<slipway_static>.+)$"', () => {
            w2.block('if (!-e $request_filename)', () => w2.line('rewrite ^ /static/$slipway_static last;'));
            settle(w2, base);
          });
        }
        settle(w2, base);
      };
      bodies.push(() => {
        if (prefix === '') {
          server.block('location /', () => inner(server));
        } else {
          server.block(`location ^~ ${literal(`${prefix}/`)}`, () => inner(server));
          server.block(`location = ${literal(prefix)}`, () => server.line(`rewrite ^ ${value(`${prefix}/`)} last;`));
        }
      });
    }
    if (!seen.has('')) bodies.push(() => server.block('location /', () => server.line('return 404 "Not Found\\n";')));
    bodies.forEach((b) => b());
    // The passthrus, resolved now through the locations: a .php front controller runs in PHP-FPM.
    for (const [p, name] of passthrus) {
      server.block(`location ${name}`, () => {
        if (input.appServer) {
          proxyToApp(server, input.appServer);
          return;
        }
        let r: ReturnType<typeof resolveRequest>;
        try {
          r = resolveRequest(input.locations, p);
        } catch (e) {
          r = { kind: 'none', reason: (e as Error).message };
        }
        if (r.kind === 'file' && /\.php$/i.test(r.file) && !r.file.split('/').some((s) => s.startsWith('.'))) {
          if (!php) {
            server.line('return 502 "No application server\\n";');
            return;
          }
          const file = `${appDir === '/' ? '' : appDir}/${r.file}`;
          const docRoot = r.location.root === '' ? appDir : `${appDir === '/' ? '' : appDir}/${r.location.root}`;
          fastcgi(server, php, value(file), value(r.path), value(docRoot));
        } else if (r.kind === 'file') {
          server.line(`rewrite ^ ${value(r.path)} last;`);
        } else {
          server.line('return 404 "Not Found\\n";');
        }
      });
    }
  };
  body();
  if (issues.length > 0) throw new NginxConfigError(issues);

  const w = new Writer();
  w.line('# Generated by Slipway from web.locations of .magento.app.yaml: do not edit.');
  w.line('daemon off;');
  w.line(`worker_processes ${Math.max(1, Math.floor(input.workers ?? 1))};`);
  w.line(`pid ${value(enginePath(input.pidFile, 'pid file'))};`);
  w.line(`error_log ${value(enginePath(input.errorLog, 'error log'))} warn;`);
  w.block('events', () => w.line('worker_connections 512;'));
  w.block('http', () => {
    w.block('types', () => {
      for (const [type, exts] of Object.entries(MIME_TYPES)) w.line(`${type} ${exts};`);
    });
    w.line('default_type application/octet-stream;');
    w.line(input.accessLog ? `access_log ${value(enginePath(input.accessLog, 'access log'))};` : 'access_log off;');
    for (const t of ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) w.line(`${t}_temp_path ${value(`${tempDir}/${t}`)};`);
    w.line('sendfile on;');
    w.line('tcp_nopush on;');
    w.line('server_tokens off;');
    w.line('log_not_found off;');
    w.line('autoindex off;');
    w.line('absolute_redirect off;');
    w.line(`client_max_body_size ${Math.max(1, Math.floor(input.clientMaxBodyMb ?? 64))}m;`);
    w.line('keepalive_timeout 65s;');
    w.line('fastcgi_read_timeout 300s;');
    w.line('fastcgi_buffers 16 16k;');
    w.line('fastcgi_buffer_size 32k;');
    w.line('fastcgi_intercept_errors off;');
    w.line('recursive_error_pages off;');
    w.block(`geo $${DOLLAR}`, () => w.line('default "$";'));
    w.block('server', () => {
      for (const l of server.text().trimEnd().split('\n')) w.line(l);
    });
  });
  return w.text();
}

/** A path of Magento's versioned static URLs, to see whether a location's rules take them. */
const VERSIONED_STATIC_PROBE = '/static/version1700000000/frontend/Magento/luma/en_US/requirejs/require.js';

/** The location that takes /static/version<N>/… (the longest prefix, as nginx chooses). */
function locationOfVersionedStatic(locations: readonly WebLocation[]): WebLocation | undefined {
  return [...locations]
    .sort((a, b) => b.path.length - a.path.length)
    .find((l) => {
      const prefix = l.path.replace(/\/+$/, '');
      return prefix === '' || VERSIONED_STATIC_PROBE.startsWith(`${prefix}/`);
    });
}

function firstRuleForVersionedStatic(loc: WebLocation): WebLocation['rules'][number] | undefined {
  return loc.rules.find((r) => new RegExp(r.pattern).test(VERSIONED_STATIC_PROBE));
}

/**
 * Whether the generated configuration itself serves Magento's versioned static URLs as the
 * router does (the path without its version where no rule takes them and no such file exists):
 * so it does when "/" is the location of /static/ (a rule of its own, or the fallback above);
 * a location of its own for /static/ without such a rule leaves them to the router.
 */
export function webServerTakesVersionedStatic(locations: readonly WebLocation[]): boolean {
  const loc = locationOfVersionedStatic(locations);
  if (loc === undefined) return true;
  const rule = firstRuleForVersionedStatic(loc);
  // A rule that rewrites them takes them; one that does not hides the fallback from nginx.
  return rule === undefined ? loc.path.replace(/\/+$/, '') === '' : typeof rule.passthru === 'string';
}

function checkHeaders(headers: Record<string, string>, at: string, issue: (at: string, reason: string) => void): void {
  for (const [name, v] of Object.entries(headers)) {
    if (!/^[A-Za-z0-9!#%&'*+.^_`|~-]+$/.test(name)) issue(`${at}.headers.${JSON.stringify(name)}`, 'must be an HTTP header name (letters, digits and - _ . !)');
    else if (CONTROL.test(v)) issue(`${at}.headers.${JSON.stringify(name)}`, 'must be a header value on one line, without control characters');
  }
}

/** An HTTP request to the application's own server, as it came (Platform.sh's upstream). */
function proxyToApp(w: Writer, app: { socket: string } | { port: number }): void {
  const target = 'socket' in app ? `http://unix:${enginePath(app.socket, 'application socket')}:` : `http://127.0.0.1:${Math.floor(app.port)}`;
  w.line(`proxy_pass ${value(target)};`);
  w.line('proxy_http_version 1.1;');
  w.line('proxy_set_header Host $host;');
  w.line('proxy_set_header X-Forwarded-For $http_x_forwarded_for;');
  w.line('proxy_set_header X-Forwarded-Proto $http_x_forwarded_proto;');
  w.line('proxy_set_header Connection "";');
  w.line('proxy_read_timeout 300s;');
}

/** A FastCGI request to PHP-FPM with the parameters PHP expects (nothing read from /etc/nginx). */
function fastcgi(w: Writer, socket: string, scriptFilename: string, scriptName: string, documentRoot: string): void {
  w.line(`fastcgi_pass ${value(`unix:${socket}`)};`);
  const params: Array<[string, string]> = [
    ['SCRIPT_FILENAME', scriptFilename],
    ['SCRIPT_NAME', scriptName],
    ['DOCUMENT_ROOT', documentRoot],
    ['QUERY_STRING', '$query_string'],
    ['REQUEST_METHOD', '$request_method'],
    ['CONTENT_TYPE', '$content_type'],
    ['CONTENT_LENGTH', '$content_length'],
    ['REQUEST_URI', '$request_uri'],
    ['DOCUMENT_URI', '$document_uri'],
    ['SERVER_PROTOCOL', '$server_protocol'],
    ['REQUEST_SCHEME', '$scheme'],
    ['GATEWAY_INTERFACE', 'CGI/1.1'],
    ['SERVER_SOFTWARE', 'nginx'],
    ['REMOTE_ADDR', '$remote_addr'],
    ['REMOTE_PORT', '$remote_port'],
    ['SERVER_ADDR', '$server_addr'],
    ['SERVER_PORT', '$server_port'],
    ['SERVER_NAME', '$host'],
    ['REDIRECT_STATUS', '200'],
    // httpoxy: a request's "Proxy:" header must not become PHP's HTTP_PROXY.
    ['HTTP_PROXY', '""'],
  ];
  for (const [k, v] of params) w.line(`fastcgi_param ${k} ${v};`);
}
