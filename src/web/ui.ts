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
import { simpleGit } from 'simple-git';
import type { FastifyInstance, FastifyReply, FastifyRequest, preHandlerHookHandler } from 'fastify';
import type { SlipwayClient } from '../client';
import { ACTION_NEEDS, accessRefusal, rolesOn, type Need } from '../domain/access';
import { environmentTree, treeRows } from '../domain/environment-tree';
import type { EnvironmentEntry } from '../domain/project';
import { PROMOTION_SOURCE } from '../domain/promotion';
import { PACKAGE_ROOT, readRuntimeInfo } from '../home';
import { workflowIds } from '../domain/names';
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

/** A unified diff's lines, each with its kind; the +/- prefixes are kept (the kind is not told by colour alone). */
export function diffLines(diff: string | undefined): Array<{ kind: 'add' | 'del' | 'hunk' | 'file' | 'context'; text: string }> {
  if (!diff) return [];
  return diff
    .replace(/\n$/, '')
    .split('\n')
    .map((text) => ({
      text,
      kind: /^(diff |index |\+\+\+ |--- |new file|deleted file)/.test(text) ? 'file' : text.startsWith('@@') ? 'hunk' : text.startsWith('+') ? 'add' : text.startsWith('-') ? 'del' : 'context',
    }));
}

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
    // Event streams end when the server closes (they would otherwise keep it open, and poll a
    // client that is gone).
    const streams = new Set<import('node:http').ServerResponse>();
    let closing = false;
    ui.addHook('preClose', (done) => {
      closing = true;
      for (const res of streams) res.end();
      done();
    });
    /**
     * Serves server-sent events: `tick` sends what changed (`send` writes one event, its data as
     * JSON) and says whether the stream is done; it runs every `everyMs` until then, or until
     * the browser goes or the server closes.
     */
    const serveEvents = async (req: FastifyRequest, reply: FastifyReply, everyMs: number, tick: (send: (event: string, data: unknown) => void) => Promise<boolean>): Promise<void> => {
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
      streams.add(res);
      let gone = false;
      req.raw.on('close', () => (gone = true));
      const send = (event: string, data: unknown): void => void res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
      try {
        while (!gone && !closing) {
          if (await tick(send)) break;
          await new Promise((r) => setTimeout(r, everyMs));
        }
      } finally {
        streams.delete(res);
        res.end();
      }
    };
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
    /** The actions offered on an integration environment, as the CLI's (the client refuses what does not apply). */
    const actionsFor = (e: EnvironmentEntry): string[] => {
      const child = e.type === 'integration-child';
      if (e.status === 'inactive') return child ? ['activate', 'delete'] : ['activate'];
      return [...(child ? ['deactivate', 'sync', 'sync data', 'merge'] : []), 'redeploy', 'rollback', 'cancel', ...(child ? ['delete'] : [])];
    };
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
      // The tree of `env list` (the same function): master first, each child right under its parent.
      const environments = await Promise.all(
        treeRows(environmentTree(info.environments)).map(async ({ node: e, depth }) => {
          // master (Global Master) is a branch, never deployed: no status.
          const status = e.type === 'global-master' ? undefined : await client.environmentStatus(project, e.name).catch(() => undefined);
          // The one running, else the newest finished.
          const last = status?.running ?? status?.deployments.at(-1);
          return {
            name: e.name,
            type: e.type,
            status: e.status,
            depth,
            managed: e.type === 'integration' || e.type === 'integration-child',
            master: e.type === 'global-master',
            lastN: last?.deployment,
            actions: actionsFor(e),
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

    const ACTIONS: Record<string, (p: string, e: string) => Promise<string>> = {
      activate: async (p, e) => `${(await client.activate(p, e)).name} is active`,
      deactivate: async (p, e) => `${(await client.deactivate(p, e)).name} is inactive: no longer served; its code is kept`,
      delete: async (p, e) => `${(await client.deleteEnvironment(p, e)).deleted} deleted, with its branch`,
      sync: async (p, e) => {
        const r = await client.sync(p, e);
        return r.changed ? `${r.target} is now at ${r.commit.slice(0, 12)}${r.deploys ? '; deploying' : ''}` : `${r.target} is up to date already`;
      },
      merge: async (p, e) => {
        const r = await client.merge(p, e);
        return r.changed ? `${r.target} is now at ${r.commit.slice(0, 12)}${r.deploys ? '; deploying' : ''}` : `${r.target} is up to date already`;
      },
      redeploy: async (p, e) => `deployment #${(await client.redeploy(p, e)).deployment} of ${e} started`,
      'sync data': async (p, e) => `deployment #${(await client.syncData(p, e)).deployment} of ${e} brings its parent's database and mounts`,
      rollback: async (p, e) => `deployment #${(await client.rollback(p, e)).deployment} of ${e} rolls back`,
      cancel: async (p, e) => `deployment #${(await client.cancelDeployment(p, e)).deployment} of ${e} cancelled`,
    };
    ui.post<{ Params: { project: string; environment: string; action: string } }>(
      '/ui/projects/:project/environments/:environment/:action',
      { ...hidden, preHandler: withCsrf },
      async (req, reply) => {
        const user = await signedIn(req, reply);
        if (!user) return reply;
        const { project, environment, action } = req.params;
        const run = Object.prototype.hasOwnProperty.call(ACTIONS, action) ? ACTIONS[action] : undefined;
        if (!run) return projectPage(reply, user, project, 404, { error: `no action ${action}` });
        const refusal = accessRefusal(user, options.identities().users.get(user)!, 'developer', project);
        if (refusal) return projectPage(reply, user, project, 403, { error: refusal });
        const type = (await client.project(project).catch(() => undefined))?.environments.find((e) => e.name === environment)?.type;
        if (type !== 'integration' && type !== 'integration-child') {
          return projectPage(reply, user, project, 409, { error: `${environment} is not managed here: staging and production change through promotions and tickets` });
        }
        try {
          return await projectPage(reply, user, project, 200, { notice: await run(project, environment) });
        } catch (err) {
          return projectPage(reply, user, project, 409, { error: errorText(err) });
        }
      },
    );

    // An environment's page: its deployments, its variables (set here on integration; through a
    // ticket on staging and production) and, on staging and production, the requests.
    type EnvParams = { project: string; environment: string };
    const environmentPage = async (reply: FastifyReply, user: string, p: EnvParams, status: number, message: { error?: string; notice?: string } = {}): Promise<FastifyReply> => {
      const grants = options.identities().users.get(user)!;
      if (accessRefusal(user, grants, 'read', p.project)) return page(reply, 404, 'projects', 'Not found', { projects: [] }, user);
      const info = await client.project(p.project).catch(() => undefined);
      const entry = info?.environments.find((e) => e.name === p.environment);
      const envStatus = entry ? await client.environmentStatus(p.project, p.environment, { host: true }).catch(() => undefined) : undefined;
      // An environment never deployed (staging before its first promotion) has no workflow yet: no history.
      if (!entry) return page(reply, 404, 'projects', 'Not found', { projects: [] }, user);
      const roles = rolesOn(grants, p.project);
      const managed = entry.type === 'integration' || entry.type === 'integration-child';
      return page(
        reply,
        status,
        'environment',
        `${p.environment} of ${p.project}`,
        {
          project: p.project,
          environment: p.environment,
          type: entry.type,
          state: entry.status,
          release: envStatus?.current?.release,
          host: envStatus?.hostLiveness?.summary,
          deployments: [...(envStatus?.deployments ?? [])].reverse(),
          variables: await client.environmentVariables(p.project, p.environment).catch(() => []),
          managed,
          canChange: roles.includes('developer') || roles.includes('admin'),
          canRequest: roles.length > 0 && (p.environment === 'staging' || p.environment === 'production'),
          // The API's rule for POST /promotions, read from the same place.
          canPromote: (p.environment === 'staging' || p.environment === 'production') && !accessRefusal(user, grants, ACTION_NEEDS.promote, p.project),
          csrf: reply.generateCsrf(),
          ...message,
        },
        user,
      );
    };
    ui.get<{ Params: EnvParams }>('/ui/projects/:project/environments/:environment', hidden, async (req, reply) => {
      const user = await signedIn(req, reply);
      if (!user) return reply;
      return environmentPage(reply, user, req.params, 200);
    });
    /** A form of the environment page: the client's answer or refusal on the page. */
    type FormBody = Partial<Record<string, string>> | undefined;
    const envForm = (route: string, need: Need, run: (user: string, p: EnvParams, body: FormBody) => Promise<string>): void => {
      ui.post<{ Params: EnvParams; Body: FormBody }>(`/ui/projects/:project/environments/:environment/${route}`, { ...hidden, preHandler: withCsrf }, async (req, reply) => {
        const user = await signedIn(req, reply);
        if (!user) return reply;
        const refusal = accessRefusal(user, options.identities().users.get(user)!, need, req.params.project);
        if (refusal) return environmentPage(reply, user, req.params, 403, { error: refusal });
        try {
          return await environmentPage(reply, user, req.params, 200, { notice: await run(user, req.params, req.body) });
        } catch (err) {
          return environmentPage(reply, user, req.params, 409, { error: errorText(err) });
        }
      });
    };
    envForm('variables', 'developer', async (user, p, b) => {
      const name = String(b?.name ?? '');
      const r = await client.setEnvironmentVariable(p.project, p.environment, {
        name,
        value: String(b?.value ?? ''),
        sensitive: b?.sensitive === '1',
        ...(b?.runtimeOnly === '1' ? { build: false } : {}),
        by: user,
      });
      if (!r.applied) return `${r.ticket} opened: ${name} changes on ${p.environment} once a support engineer approves`;
      return r.deployment !== undefined ? `${name} set; deployment #${r.deployment} started (${r.rebuilt ? 'built again' : 'the same slug'})` : `${name} set`;
    });
    envForm('variables/unset', 'developer', async (user, p, b) => {
      const name = String(b?.name ?? '');
      const r = await client.unsetEnvironmentVariable(p.project, p.environment, name, user);
      if (!r.applied) return `${r.ticket} opened: ${name} is removed from ${p.environment} once a support engineer approves`;
      return r.deployment !== undefined ? `${name} removed; deployment #${r.deployment} started` : `${name} removed`;
    });
    envForm('request-promotion', ACTION_NEEDS.promote, async (user, p) => {
      const r = await client.promote(p.project, p.environment, user);
      return `${r.ticket} opened: a support engineer decides the promotion to ${p.environment}`;
    });
    envForm('request-ssh-key', 'read', async (user, p, b) => {
      const r = await client.requestSshKey(p.project, p.environment, String(b?.key ?? ''), user);
      return `${r.ticket} opened for ${r.fingerprint}: the key opens ${p.environment} once a support engineer approves`;
    });

    type DeploymentParams = { project: string; environment: string; n: string };
    /** The steps as table rows: each with its status in words (not by colour) and its duration. */
    const stepsHtml = (steps: Array<{ step: string; status: string; startedAt: number; endedAt?: number; host?: string }>): string =>
      steps
        .map((x) => `<tr><td>${escapeHtml(x.step)}${x.host ? ` on ${escapeHtml(x.host)}` : ''}</td><td>${escapeHtml(x.status)}</td><td>${x.endedAt ? `${((x.endedAt - x.startedAt) / 1000).toFixed(1)} s` : '…'}</td></tr>`)
        .join('');
    const statusText = (phase: string, record?: { status: string }): string =>
      record?.status === 'succeeded' || phase === 'succeeded' ? 'live' : record && record.status !== 'running' ? record.status : `running (${phase})`;
    const deploymentOf = async (user: string, p: DeploymentParams) => {
      const grants = options.identities().users.get(user)!;
      if (accessRefusal(user, grants, 'read', p.project)) return undefined;
      const n = Number(p.n);
      if (!Number.isInteger(n) || n < 1) return undefined;
      const status = await client.environmentStatus(p.project, p.environment).catch(() => undefined);
      const progress = await client.deploymentProgress(p.project, p.environment, n).catch(() => undefined);
      if (!status || !progress) return undefined;
      const record = status.deployments.find((d) => d.deployment === n);
      let log = '';
      try {
        log = client.deploymentLog(p.project, p.environment, n);
      } catch {
        /* no log yet */
      }
      return { n, status, progress, record, log };
    };
    ui.get<{ Params: DeploymentParams }>('/ui/projects/:project/environments/:environment/deployments/:n', hidden, async (req, reply) => {
      const user = await signedIn(req, reply);
      if (!user) return reply;
      const d = await deploymentOf(user, req.params);
      if (!d) return page(reply, 404, 'projects', 'Not found', { projects: [] }, user);
      const { project, environment } = req.params;
      const info = readRuntimeInfo(client.layout);
      const done = d.progress.phase === 'succeeded' || d.progress.phase === 'failed';
      return page(
        reply,
        200,
        'deployment',
        `Deployment #${d.n} of ${environment}`,
        {
          project,
          environment,
          n: d.n,
          statusText: statusText(d.progress.phase, d.record),
          url: info?.routerPort ? `http://${environment}.${project}.localhost:${info.routerPort}/` : undefined,
          temporalUrl: info?.uiUrl ? `${info.uiUrl}/namespaces/${info.namespace}/workflows/${encodeURIComponent(workflowIds.deployment(project, environment, d.n))}` : undefined,
          error: d.record?.error,
          undone: /\[([^\]]+)\]$/.exec(d.record?.error ?? '')?.[1],
          stepsHtml: stepsHtml(d.progress.steps),
          log: d.log,
          logLength: d.log.length,
          live: !done,
        },
        user,
      );
    });
    /** Server-sent events while the deployment runs: new log text, the steps, the status; then done. */
    ui.get<{ Params: DeploymentParams; Querystring: { from?: string } }>('/ui/projects/:project/environments/:environment/deployments/:n/events', hidden, async (req, reply) => {
      const user = userOf(req);
      if (!user) return reply.code(401).send();
      let d = await deploymentOf(user, req.params);
      if (!d) return reply.code(404).send();
      let sent = Math.max(0, Number(req.query.from) || 0);
      let lastSteps = '';
      let first = true;
      await serveEvents(req, reply, 400, async (send) => {
        if (!first) d = await deploymentOf(user, req.params).catch(() => undefined);
        first = false;
        if (!d) return true;
        if (d.log.length > sent) {
          send('log', d.log.slice(sent));
          sent = d.log.length;
        }
        const html = stepsHtml(d.progress.steps);
        if (html !== lastSteps) {
          send('steps', html);
          lastSteps = html;
        }
        const text = statusText(d.progress.phase, d.record);
        if (d.progress.phase === 'succeeded' || d.progress.phase === 'failed') {
          send('done', text);
          return true;
        }
        send('status', text);
        return false;
      });
    });

    // The support console: open tickets of the projects the engineer supports; a ticket's page.
    const ago = (ms: number): string => (ms < 3_600_000 ? `${Math.max(0, Math.round(ms / 60_000))} min` : `${(ms / 3_600_000).toFixed(1)} h`);
    /** The queue's rows: open tickets of the projects the user supports, oldest first (the same partial for the page and its event stream). */
    const queueRows = async (user: string): Promise<string> => {
      const supported = (await client.listProjects({ visibleTo: user })).filter((p) => p.roles.includes('support'));
      const now = Date.now();
      const tickets = (await Promise.all(supported.map(async (p) => (await client.listTickets(p.project, { open: true }).catch(() => [])).map((t) => ({ ...t, project: p.project })))))
        .flat()
        // The list comes from the search index, which may lag a decision by a moment; the record does not.
        .filter((t) => t.status === 'open')
        .sort((a, b) => a.openedAt - b.openedAt)
        .map((t) => ({ ...t, age: ago(now - t.openedAt), expires: `in ${ago(t.expiresAt - now)}` }));
      return eta.render('support-rows', { tickets });
    };
    ui.get('/ui/support', hidden, async (req, reply) => {
      const user = await signedIn(req, reply);
      if (!user) return reply;
      return page(reply, 200, 'support', 'Support console', { rows: await queueRows(user) }, user);
    });
    /** The queue on every open console: a ticket decided or opened anywhere shows within seconds. */
    ui.get('/ui/support/events', hidden, async (req, reply) => {
      const user = userOf(req);
      if (!user) return reply.code(401).send();
      let last = '';
      await serveEvents(req, reply, 1_500, async (send) => {
        const rows = await queueRows(user).catch(() => last);
        // Ages move by the minute: sent whenever anything on the rows changes.
        if (rows !== last) send('queue', rows);
        last = rows;
        return false;
      });
    });

    /**
     * The checks of the source's latest deployment (the one a promotion would follow): its
     * status, its health-check steps (routes and smoke paths, through the router) with their
     * statuses, and what they answered, from its log. Not the live release's record: a failed
     * deployment after it shows.
     */
    const sourceChecks = async (project: string, source: string) => {
      const status = await client.environmentStatus(project, source).catch(() => undefined);
      const latest = status?.running ?? status?.deployments.at(-1);
      if (!latest) return { source, summary: `${source} has no deployment`, steps: [], lines: [] };
      const progress = await client.deploymentProgress(project, source, latest.deployment).catch(() => undefined);
      const steps = (progress?.steps ?? [])
        .filter((x) => x.step === 'health-check')
        .map((x) => `${x.step}${x.host ? ` on ${x.host}` : ''}: ${x.status}${x.endedAt ? ` in ${x.endedAt - x.startedAt < 1000 ? `${x.endedAt - x.startedAt} ms` : `${((x.endedAt - x.startedAt) / 1000).toFixed(1)} s`}` : ''}`);
      let lines: string[] = [];
      try {
        lines = client
          .deploymentLog(project, source, latest.deployment)
          .split('\n')
          .filter((l) => l.includes('[health-check]'))
          .map((l) => l.slice(l.indexOf('[health-check]')))
          .slice(-20);
      } catch {
        /* its log is no longer kept */
      }
      const summary = `deployment #${latest.deployment} of ${source} (${latest.commit.slice(0, 12)}): ${latest.status}${latest.error ? `: ${latest.error}` : ''}${steps.length === 0 ? '; no health-check step ran' : ''}`;
      return { source, summary, steps, lines };
    };

    type TicketParams = { project: string; ticket: string };
    const ticketView = async (user: string, p: TicketParams) => {
      if (accessRefusal(user, options.identities().users.get(user)!, 'read', p.project)) return undefined;
      const ticket = await client.ticket(p.project, p.ticket).catch(() => undefined);
      if (!ticket) return undefined;
      const gates = ticket.kind === 'promotion' || ticket.kind === 'code-and-data';
      // A query the promotion does not answer now (its worker busy or restarting) is not an end:
      // the page keeps listening until the promotion says it deployed or failed.
      let unanswered = false;
      const promotion = gates
        ? await client.promotionOfTicket(p.project, p.ticket).catch(() => {
            unanswered = true;
            return undefined;
          })
        : undefined;
      const statusText = `${ticket.status}${promotion && ticket.status === 'approved' ? `: promotion ${promotion.status}${promotion.deployment ? ` (deployment #${promotion.deployment})` : ''}` : ''}`;
      const approvalsText = `${ticket.approvals.length} of ${ticket.requiredApprovals}${ticket.approvals.length ? `: ${ticket.approvals.map((a) => a.user).join(', ')}` : ''}`;
      const closed = ticket.status !== 'open' && !unanswered && (!promotion || !['waiting', 'deploying'].includes(promotion.status));
      // Each decision with its comment, in the order they were made.
      const decisions = [...ticket.approvals.map((a) => ({ ...a, verb: 'approved' })), ...(ticket.rejection ? [{ ...ticket.rejection, verb: 'rejected' }] : [])]
        .sort((a, b) => a.at - b.at)
        .map((d) => `${d.verb} by ${d.user}${d.comment ? `: “${d.comment}”` : ' (no comment)'}`);
      return { ticket, promotion, statusText, approvalsText, decisions, closed };
    };
    const ticketPage = async (reply: FastifyReply, user: string, p: TicketParams, status: number, error?: string): Promise<FastifyReply> => {
      const v = await ticketView(user, p);
      if (!v) return page(reply, 404, 'projects', 'Not found', { projects: [] }, user);
      const checks = v.ticket.kind === 'promotion' || v.ticket.kind === 'code-and-data' ? await sourceChecks(p.project, PROMOTION_SOURCE[v.ticket.target]) : undefined;
      // The commits a promotion brings: from the target's live commit to the promoted one.
      let commits: string[] = [];
      const promoted = v.ticket.payload?.commit;
      if (promoted && /^[0-9a-f]{40}$/.test(promoted)) {
        try {
          const info = await client.project(p.project);
          const live = (await client.environmentStatus(p.project, v.ticket.target).catch(() => undefined))?.current?.commit;
          const git = simpleGit(info.remote);
          const log = await git.log(live && live !== promoted && /^[0-9a-f]{40}$/.test(live) ? [`${live}..${promoted}`, '-n', '50'] : [promoted, '-n', '20']);
          commits = log.all.map((c) => `${c.hash.slice(0, 12)} ${c.message} (${c.author_name})`);
        } catch {
          /* the remote is elsewhere: no list */
        }
      }
      return page(
        reply,
        status,
        'ticket',
        `${v.ticket.id} of ${p.project}`,
        {
          project: p.project,
          ticket: v.ticket,
          statusText: v.statusText,
          approvalsText: v.approvalsText,
          decisions: v.decisions,
          live: !v.closed,
          checks,
          error,
          commits,
          diff: diffLines(v.ticket.settingsChange?.diff),
          canDecide: !accessRefusal(user, options.identities().users.get(user)!, ACTION_NEEDS.decide, p.project) && v.ticket.status === 'open',
          csrf: reply.generateCsrf(),
        },
        user,
      );
    };
    ui.get<{ Params: TicketParams }>('/ui/projects/:project/tickets/:ticket', hidden, async (req, reply) => {
      const user = await signedIn(req, reply);
      if (!user) return reply;
      return ticketPage(reply, user, req.params, 200);
    });
    ui.post<{ Params: TicketParams; Body: { decision?: string; comment?: string } }>(
      '/ui/projects/:project/tickets/:ticket/decision',
      { ...hidden, preHandler: withCsrf },
      async (req, reply) => {
        const user = await signedIn(req, reply);
        if (!user) return reply;
        const decision = req.body?.decision;
        if (decision !== 'approve' && decision !== 'reject') return ticketPage(reply, user, req.params, 400, 'choose approve or reject');
        const comment = typeof req.body?.comment === 'string' && req.body.comment.trim() ? req.body.comment.trim().slice(0, 500) : undefined;
        const refusal = accessRefusal(user, options.identities().users.get(user)!, ACTION_NEEDS.decide, req.params.project);
        if (refusal) return ticketPage(reply, user, req.params, 403, refusal);
        try {
          await client.decide(req.params.project, req.params.ticket, { user, decision, ...(comment ? { comment } : {}) });
          return await reply.redirect(`/ui/projects/${encodeURIComponent(req.params.project)}/tickets/${encodeURIComponent(req.params.ticket)}`, 303);
        } catch (err) {
          return ticketPage(reply, user, req.params, 409, errorText(err));
        }
      },
    );
    /** The ticket's status on every open page within a second of a decision (and the promotion's, until it ends). */
    ui.get<{ Params: TicketParams }>('/ui/projects/:project/tickets/:ticket/events', hidden, async (req, reply) => {
      const user = userOf(req);
      if (!user) return reply.code(401).send();
      let v = await ticketView(user, req.params);
      if (!v) return reply.code(404).send();
      let last = '';
      let first = true;
      await serveEvents(req, reply, 500, async (send) => {
        if (!first) v = await ticketView(user, req.params).catch(() => undefined);
        first = false;
        if (!v) return true;
        const data = { status: v.statusText, approvals: v.approvalsText, decisions: v.decisions, closed: v.closed };
        if (JSON.stringify(data) !== last) {
          send('ticket', data);
          last = JSON.stringify(data);
        }
        return v.closed;
      });
    });

    ui.post<{ Params: { project: string }; Body: { name?: string; parent?: string; inactive?: string } }>(
      '/ui/projects/:project/environments',
      { ...hidden, preHandler: withCsrf },
      async (req, reply) => {
        const user = await signedIn(req, reply);
        if (!user) return reply;
        const { project } = req.params;
        const refusal = accessRefusal(user, options.identities().users.get(user)!, 'developer', project);
        if (refusal) return projectPage(reply, user, project, 403, { error: refusal });
        try {
          const entry = await client.branch(project, {
            name: String(req.body?.name ?? ''),
            ...(req.body?.parent ? { parent: String(req.body.parent) } : {}),
            // As the CLI's --inactive: it keeps code, is not deployed and takes no slot.
            ...(req.body?.inactive === '1' ? { inactive: true } : {}),
          });
          return projectPage(reply, user, project, 201, { notice: `${entry.name} branched from ${entry.parent ?? 'integration'}: it is ${entry.status}` });
        } catch (err) {
          return projectPage(reply, user, project, 409, { error: errorText(err) });
        }
      },
    );
  });
}
