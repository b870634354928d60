/**
 * The Project Web Interface (issue 18, first part), served by the API process under /ui:
 * server-rendered pages (eta templates in src/web/templates, escaped by default) over the same
 * client the CLI and the API use, so no rule is written twice: a refusal of the client is shown
 * as it is. Sign-in with the same API tokens; the session is a signed, httpOnly, SameSite=Strict
 * cookie; every form carries a CSRF token (@fastify/csrf-protection). Each user sees only the
 * projects their roles allow. Hidden from the OpenAPI document: it is no API.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import cookie from '@fastify/cookie';
import csrf from '@fastify/csrf-protection';
import formbody from '@fastify/formbody';
import { Eta } from 'eta';
import type { FastifyInstance, FastifyReply, FastifyRequest, preHandlerHookHandler } from 'fastify';
import type { SlipwayClient } from '../client';
import { accessRefusal, rolesOn } from '../domain/access';
import type { EnvironmentEntry } from '../domain/project';
import { PACKAGE_ROOT, readRuntimeInfo } from '../home';
import type { Identities } from '../identities';

export interface UiOptions {
  client: SlipwayClient;
  identities: () => Identities;
}

const SESSION = 'slipway_session';
const SESSION_HOURS = 12;
const eta = new Eta({ views: path.join(PACKAGE_ROOT, 'src', 'web', 'templates'), autoEscape: true, cache: true });

/** The data directory's key for the UI's cookies (32 random bytes, the engine's, 0600), made on first use. */
function cookieSecret(home: string): string {
  const file = path.join(home, 'secrets', 'ui-cookie.key');
  try {
    return fs.readFileSync(file, 'utf8').trim();
  } catch {
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    try {
      fs.writeFileSync(file, `${crypto.randomBytes(32).toString('hex')}\n`, { mode: 0o600, flag: 'wx' });
    } catch {
      /* made meanwhile */
    }
    return fs.readFileSync(file, 'utf8').trim();
  }
}

function page(reply: FastifyReply, status: number, template: string, title: string, data: Record<string, unknown>, user?: string): FastifyReply {
  const body = eta.render(template, data);
  const csrf = user ? reply.generateCsrf() : '';
  return reply.code(status).type('text/html; charset=utf-8').header('cache-control', 'no-store').send(eta.render('layout', { title, body, user, csrf }));
}

const escapeHtml = (s: string): string => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

const errorText = (err: unknown): string => (err instanceof Error ? err.message : String(err)).replace(/^refused: /, '');

export function registerUi(app: FastifyInstance, options: UiOptions): void {
  const { client } = options;
  void app.register(async (ui) => {
    await ui.register(formbody);
    await ui.register(cookie, { secret: cookieSecret(client.layout.home) });
    await ui.register(csrf, { cookieOpts: { signed: true, httpOnly: true, sameSite: 'strict', path: '/ui' } });
    // A form without its CSRF token (or a stale one): refused with a page that says so, nothing changed.
    ui.setErrorHandler(async (err: { statusCode?: number; code?: string; message: string }, _req, reply) => {
      const status = err.statusCode && err.statusCode >= 400 ? err.statusCode : 500;
      const why = /csrf/i.test(`${err.code ?? ''} ${err.message}`) ? "the form's security token is missing or stale: reload the page and send it again; nothing was changed" : err.message;
      return reply.code(status).type('text/html; charset=utf-8').send(eta.render('layout', { title: 'Refused', body: `<h1>Refused</h1><p role="alert">${escapeHtml(why)}</p>`, user: undefined, csrf: '' }));
    });

    /** The signed-in user, if the session cookie is valid and not expired. */
    const userOf = (req: FastifyRequest): string | undefined => {
      const raw = req.cookies[SESSION];
      if (!raw) return undefined;
      const unsigned = req.unsignCookie(raw);
      if (!unsigned.valid || !unsigned.value) return undefined;
      const [user, until] = unsigned.value.split('|');
      if (!user || !(Number(until) > Date.now())) return undefined;
      return options.identities().users.has(user) ? user : undefined;
    };
    const signedIn = async (req: FastifyRequest, reply: FastifyReply): Promise<string | undefined> => {
      const user = userOf(req);
      if (!user) await reply.redirect('/ui/sign-in', 303);
      return user;
    };
    const hidden = { schema: { hide: true } };
    const withCsrf: preHandlerHookHandler = (req, reply, done) => ui.csrfProtection(req, reply, done);

    ui.get('/ui', hidden, async (req, reply) => reply.redirect(userOf(req) ? '/ui/projects' : '/ui/sign-in', 303));
    ui.get('/ui/sign-in', hidden, async (_req, reply) => {
      const token = reply.generateCsrf();
      return page(reply, 200, 'sign-in', 'Sign in', { csrf: token });
    });
    ui.post<{ Body: { token?: string } }>('/ui/sign-in', { ...hidden, preHandler: withCsrf }, async (req, reply) => {
      const token = typeof req.body?.token === 'string' ? req.body.token : '';
      const user = options.identities().tokens.get(crypto.createHash('sha256').update(token).digest('hex'));
      if (!user) return page(reply, 401, 'sign-in', 'Sign in', { csrf: reply.generateCsrf(), error: 'that token belongs to nobody Slipway knows' });
      void reply.setCookie(SESSION, `${user}|${Date.now() + SESSION_HOURS * 3_600_000}`, { signed: true, httpOnly: true, sameSite: 'strict', path: '/ui' });
      return reply.redirect('/ui/projects', 303);
    });
    ui.post('/ui/sign-out', { ...hidden, preHandler: withCsrf }, async (_req, reply) => {
      void reply.clearCookie(SESSION, { path: '/ui' });
      return reply.redirect('/ui/sign-in', 303);
    });

    ui.get('/ui/projects', hidden, async (req, reply) => {
      const user = await signedIn(req, reply);
      if (!user) return reply;
      const projects = await client.listProjects({ visibleTo: user });
      return page(reply, 200, 'projects', 'Projects', { projects }, user);
    });

    /** The project page, with an error or a notice on top; 404 for a project the user may not see (as if it did not exist). */
    const projectPage = async (reply: FastifyReply, user: string, project: string, status: number, message: { error?: string; notice?: string } = {}): Promise<FastifyReply> => {
      const grants = options.identities().users.get(user)!;
      if (accessRefusal(user, grants, 'read', project)) return page(reply, 404, 'projects', 'Not found', { projects: [] }, user);
      let info;
      try {
        info = await client.project(project);
      } catch {
        return page(reply, 404, 'projects', 'Not found', { projects: [] }, user);
      }
      const routerPort = readRuntimeInfo(client.layout)?.routerPort;
      const depthOf = (e: EnvironmentEntry): number => {
        let d = 0;
        for (let p = e.parent; p && d < 20; p = info.environments.find((x) => x.name === p)?.parent) d++;
        return d;
      };
      const environments = await Promise.all(
        info.environments
          .filter((e) => e.type !== 'global-master')
          .map(async (e) => {
            const status = await client.environmentStatus(project, e.name).catch(() => undefined);
            const last = status?.deployments.at(-1);
            return {
              name: e.name,
              type: e.type,
              status: e.status,
              depth: depthOf(e),
              managed: e.type === 'integration' || e.type === 'integration-child',
              commit: status?.current?.commit.slice(0, 12),
              release: status?.current?.release,
              last: last ? `#${last.deployment} ${last.status}` : undefined,
              url: status?.current && routerPort ? `http://${e.name}.${project}.localhost:${routerPort}/` : undefined,
            };
          }),
      );
      const roles = rolesOn(grants, project);
      return page(reply, status, 'project', `Project ${project}`, { project: info, environments, canDevelop: roles.includes('developer') || roles.includes('admin'), ...message, csrf: reply.generateCsrf() }, user);
    };

    ui.get<{ Params: { project: string } }>('/ui/projects/:project', hidden, async (req, reply) => {
      const user = await signedIn(req, reply);
      if (!user) return reply;
      return projectPage(reply, user, req.params.project, 200);
    });

    ui.post<{ Params: { project: string }; Body: { name?: string; parent?: string } }>(
      '/ui/projects/:project/environments',
      { ...hidden, preHandler: withCsrf },
      async (req, reply) => {
        const user = await signedIn(req, reply);
        if (!user) return reply;
        const { project } = req.params;
        const refusal = accessRefusal(user, options.identities().users.get(user)!, 'developer', project);
        if (refusal) return projectPage(reply, user, project, 403, { error: refusal });
        try {
          const entry = await client.branch(project, { name: String(req.body?.name ?? ''), ...(req.body?.parent ? { parent: String(req.body.parent) } : {}) });
          return projectPage(reply, user, project, 201, { notice: `${entry.name} branched from ${entry.parent ?? 'integration'}: it is ${entry.status}` });
        } catch (err) {
          return projectPage(reply, user, project, 409, { error: errorText(err) });
        }
      },
    );
  });
}
