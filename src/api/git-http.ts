/**
 * The projects' Git remotes over smart HTTP, behind the API: `git clone
 * http://<user>:<token>@<api>/git/<project>.git`. Git's own `git http-backend` (CGI) serves
 * them, run for each request with an explicit environment (never a shell), the request's body
 * streamed to it and its answer streamed back. HTTP Basic authentication with the user's API
 * token as the password (the user name is not checked: the token says who it is); fetching
 * needs any role on the project, pushing a developer's (or an admin). The remote's own hooks
 * then do what they do for every push: refuse what the rules refuse, and tell the engine.
 * Only the smart protocol's three endpoints of a valid project id are served (see
 * src/domain/git-http.ts); these routes are not in the OpenAPI document.
 */
import { spawn } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { SlipwayClient } from '../client';
import { resolveTemporalAddress } from '../client';
import { accessRefusal } from '../domain/access';
import { GIT_HTTP_PREFIX, parseGitHttpPath } from '../domain/git-http';
import type { Identities } from '../identities';

/** The realm git shows when it asks for credentials. */
export const GIT_REALM = 'Slipway';

/** The Temporal connection settings passed to the remote's hooks (their fallback when no API answers). */
const TEMPORAL_ENV = ['TEMPORAL_TLS_CERT', 'TEMPORAL_TLS_KEY', 'TEMPORAL_TLS_CA', 'TEMPORAL_TLS_SERVER_NAME', 'TEMPORAL_API_KEY'];

/** At most this much of http-backend's standard error is kept for the log. */
const STDERR_KEPT = 4096;

/** The user name and password of an `Authorization: Basic …` header. */
export function basicCredentials(header: string | undefined): { user: string; password: string } | undefined {
  const m = /^Basic ([A-Za-z0-9+/=]+)$/i.exec(header ?? '');
  if (!m) return undefined;
  const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon === -1) return undefined;
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

function text(reply: FastifyReply, code: number, message: string): FastifyReply {
  return reply.code(code).type('text/plain; charset=utf-8').send(`${message}\n`);
}

export function registerGitHttp(app: FastifyInstance, deps: { client: SlipwayClient; identities: () => Identities }): void {
  const { client } = deps;
  void app.register((git, _options, registered) => {
    // Git's request bodies (application/x-git-upload-pack-request, …-receive-pack-request) are
    // not parsed: the stream goes to http-backend as it arrives (a push may be a gigabyte).
    git.addContentTypeParser(/^application\/x-git-/, (_req, payload, done) => done(null, payload));

    const handler = async (req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | void> => {
      // The raw path, not fastify's decoded one: `..`, `%2F` and the like never match.
      const target = parseGitHttpPath(req.method, req.raw.url ?? '');
      if (!target) return text(reply, 404, 'not a Git remote of this engine (the remotes are at /git/<project>.git)');

      const credentials = basicCredentials(req.headers.authorization);
      const ids = deps.identities();
      const user = credentials ? ids.tokens.get(crypto.createHash('sha256').update(credentials.password).digest('hex')) : undefined;
      const grants = user ? ids.users.get(user) : undefined;
      if (!user || !grants) {
        void reply.header('www-authenticate', `Basic realm="${GIT_REALM}"`);
        return text(reply, 401, 'a valid API token is required as the password (any user name)');
      }
      const refusal = accessRefusal(user, grants, target.need, target.project);
      if (refusal) return text(reply, 403, `${refusal} (${target.need === 'developer' ? 'pushing' : 'fetching'})`);

      const remote = client.layout.remote(target.project);
      if (!fs.existsSync(path.join(remote, 'slipway-ready'))) return text(reply, 404, `no project ${target.project}`);

      const contentType = req.headers['content-type'] ?? '';
      if (req.method === 'POST' && contentType !== `application/x-${target.service}-request`) {
        return text(reply, 415, `a ${target.service} request must be sent as application/x-${target.service}-request`);
      }
      const encoding = (req.headers['content-encoding'] ?? '').toLowerCase();
      if (!['', 'identity', 'gzip', 'x-gzip'].includes(encoding)) return text(reply, 415, `content-encoding ${encoding} is not accepted (gzip is)`);

      const env: NodeJS.ProcessEnv = {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        GIT_PROJECT_ROOT: path.dirname(remote),
        GIT_HTTP_EXPORT_ALL: '1',
        PATH_INFO: `/${target.project}.git/${target.rest}`,
        REQUEST_METHOD: req.method,
        QUERY_STRING: target.rest === 'info/refs' ? `service=${target.service}` : '',
        CONTENT_TYPE: req.method === 'POST' ? contentType : '',
        // Receive-pack is enabled for an authenticated user only; the hooks may read who pushed.
        REMOTE_USER: user,
        REMOTE_ADDR: req.ip,
        // The remote's hook reaches Temporal directly when no API answers: the real server.
        TEMPORAL_ADDRESS: resolveTemporalAddress(client.layout),
      };
      // No CONTENT_LENGTH: http-backend then reads the body to its end, as for a chunked one. With
      // it, a body cut short makes git 2.39's http-backend loop on end of file for ever.
      // http-backend inflates a gzip body itself.
      if (encoding === 'gzip' || encoding === 'x-gzip') env.HTTP_CONTENT_ENCODING = encoding;
      const protocol = req.headers['git-protocol'];
      if (typeof protocol === 'string' && /^version=[0-9]$/.test(protocol)) env.HTTP_GIT_PROTOCOL = protocol;
      for (const name of TEMPORAL_ENV) if (process.env[name]) env[name] = process.env[name];

      reply.hijack();
      runBackend(req, reply, env);
    };
    git.route({ method: ['GET', 'POST'], url: `${GIT_HTTP_PREFIX}/*`, schema: { hide: true }, exposeHeadRoute: false, handler });
    registered();
  });
}

/** Runs `git http-backend` for one request: body in, CGI headers parsed, answer streamed out. */
function runBackend(req: FastifyRequest, reply: FastifyReply, env: NodeJS.ProcessEnv): void {
  const res = reply.raw;
  const child = spawn('git', ['http-backend'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (c: string) => {
    if (stderr.length < STDERR_KEPT) stderr += c.slice(0, STDERR_KEPT - stderr.length);
  });
  const fail = (why: string): void => {
    console.error(`git http-backend (${env.PATH_INFO}): ${why}`);
    if (!res.headersSent) {
      res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
      res.end('the Git endpoint failed; see the API log\n');
    } else res.destroy();
  };
  child.on('error', (err) => fail(err.message));
  child.stdin.on('error', () => {
    /* http-backend stopped reading (it refused the request): its answer says why */
  });
  if (req.method === 'POST') {
    req.raw.pipe(child.stdin);
  } else child.stdin.end();

  // The CGI's answer: header lines up to an empty line, then the body.
  let head = Buffer.alloc(0);
  let headersDone = false;
  res.on('close', () => {
    if (res.writableFinished) return;
    // The client went away. In the middle of its request: end http-backend's input, or it would
    // wait for the rest forever (a push cut short updates no ref). Else keep reading its answer,
    // so that it (and a push's hooks) finish.
    if (!req.raw.complete) {
      req.raw.unpipe(child.stdin);
      child.stdin.destroy();
    }
    child.stdout.resume();
  });
  child.stdout.on('data', (chunk: Buffer) => {
    if (headersDone) {
      if (!res.destroyed && !res.write(chunk)) {
        child.stdout.pause();
        res.once('drain', () => child.stdout.resume());
      }
      return;
    }
    head = Buffer.concat([head, chunk]);
    const crlf = head.indexOf('\r\n\r\n');
    const lf = head.indexOf('\n\n');
    const end = crlf !== -1 && (lf === -1 || crlf < lf) ? { at: crlf, len: 4 } : lf !== -1 ? { at: lf, len: 2 } : undefined;
    if (!end) {
      if (head.length > 64 * 1024) {
        child.kill('SIGTERM');
        fail('its headers are longer than 64 KiB');
      }
      return;
    }
    headersDone = true;
    let status = 200;
    const headers: Record<string, string> = {};
    for (const line of head.subarray(0, end.at).toString('latin1').split(/\r?\n/)) {
      const colon = line.indexOf(':');
      if (colon <= 0) continue;
      const name = line.slice(0, colon).trim();
      const value = line.slice(colon + 1).trim();
      if (name.toLowerCase() === 'status') status = Number(/^(\d{3})/.exec(value)?.[1] ?? 500);
      else headers[name] = value;
    }
    const body = head.subarray(end.at + end.len);
    head = Buffer.alloc(0);
    if (res.destroyed) {
      child.stdout.resume();
      return;
    }
    res.writeHead(status, headers);
    if (body.length > 0) res.write(body);
  });
  child.on('close', (code, signal) => {
    if (code !== 0) console.error(`git http-backend (${env.PATH_INFO}) exited ${code ?? signal}: ${stderr.trim()}`);
    if (!headersDone) {
      fail(`it printed no headers (exit ${code ?? signal}): ${stderr.trim()}`);
      return;
    }
    if (!res.destroyed) res.end();
  });
}
