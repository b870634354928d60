/**
 * The platform API: projects, environments and their operations, deployments and their logs,
 * promotions, tickets and decisions. Bearer tokens map to identities; roles are per project
 * (admin is global), and every route that names a project checks the caller's roles on that
 * project before anything else, so that a project one may not see answers 403 whether it exists
 * or not. The typed client does the work, so the API and the CLI share every rule. Status codes:
 * 401 without a valid token, 403 for the wrong role on the project, 400 for invalid input (field
 * by field), 404 for what does not exist, 409 for a refusal.
 */
import * as crypto from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { SlipwayClient } from '../client';
import { ACTION_NEEDS, accessRefusal, rolesOn, type Need } from '../domain/access';
import { environmentNameProblem } from '../domain/environment-names';
import { hostLivenessSchema, hostNameSchema, hostStartTimeoutSchema, projectHostsSchema, projectIdSchema } from '../domain/schemas';
import type { Role } from '../domain/tickets';
import { InvalidInputError, NotFoundError, SlipwayError } from '../errors';
import { SAMPLE_STORE } from '../home';
import type { Identities } from '../identities';

export interface Caller {
  user: string;
  /** The caller's roles on the project the route names (admin alone where it names none). */
  roles: Role[];
}

declare module 'fastify' {
  interface FastifyRequest {
    caller?: Caller;
  }
}

const errorBody = z.object({ error: z.string(), issues: z.array(z.object({ path: z.string(), message: z.string() })).optional() });
const errors = { 400: errorBody, 401: errorBody, 403: errorBody, 404: errorBody, 409: errorBody };
/** An environment's name, checked by the same rule as everywhere else (a branch and a DNS label). */
const envName = z.string().superRefine((name, ctx) => {
  const problem = environmentNameProblem(name);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});
const params = z.object({ project: projectIdSchema });
const envParams = params.extend({ environment: envName });
const ticketParams = params.extend({ ticket: z.string().regex(/^SUP-\d{1,9}$/, 'must look like SUP-<number>') });
const anyJson = z.any();

function fail(reply: FastifyReply, err: unknown): FastifyReply {
  if (err instanceof InvalidInputError) return reply.code(400).send({ error: err.message });
  if (err instanceof NotFoundError) return reply.code(404).send({ error: err.message });
  if (err instanceof SlipwayError) return reply.code(409).send({ error: err.message });
  throw err;
}

export function registerRoutes(app: FastifyInstance, deps: { client: SlipwayClient; identities: () => Identities }): void {
  const api = app.withTypeProvider<ZodTypeProvider>();
  const { client } = deps;

  /**
   * 401 unless a known bearer token; 403 unless the caller holds a role the need asks for on the
   * project the route names (its `:project`), or is an admin where it names none. Runs after the
   * params are validated, before the handler: a refused request changes nothing.
   */
  const allow =
    (need: Need | 'anyone') =>
    async (req: FastifyRequest, reply: FastifyReply): Promise<void> => {
      const token = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '')?.[1];
      const ids = deps.identities();
      const user = token ? ids.tokens.get(crypto.createHash('sha256').update(token).digest('hex')) : undefined;
      const grants = user ? ids.users.get(user) : undefined;
      if (!user || !grants) {
        await reply.code(401).send({ error: 'a valid bearer token is required (Authorization: Bearer <token>)' });
        return;
      }
      const project = (req.params as { project?: string } | undefined)?.project;
      const refusal = need === 'anyone' ? undefined : accessRefusal(user, grants, need, project);
      if (refusal) {
        await reply.code(403).send({ error: refusal });
        return;
      }
      req.caller = { user, roles: project === undefined ? (grants.admin ? ['admin'] : []) : rolesOn(grants, project) };
    };
  /** Any role on the project: to see it. */
  const reader = allow('read');
  const developer = allow('developer');
  const admin = allow('admin');
  /** Any known user: what they see is filtered by their roles. */
  const anyone = allow('anyone');

  api.get('/v1/projects', {
    preHandler: anyone,
    schema: {
      description: 'The projects the caller holds a role on (every project for an admin), each with the roles held there.',
      response: { 200: z.array(z.object({ project: z.string(), roles: z.array(z.string()) })), ...errors },
    },
  }, async (req, reply) =>
    client.listProjects({ visibleTo: req.caller!.user }).then((r) => reply.send(r), (e: unknown) => fail(reply, e)),
  );

  api.post('/v1/projects', {
    preHandler: admin,
    schema: {
      description: 'Create a project: its Git remote with master, integration, staging and production; integration deploys.',
      body: z.object({
        project: projectIdSchema,
        plan: z.enum(['pro', 'enterprise']).default('pro'),
        from: z.string().min(1).optional(),
        productionApprovals: z.union([z.literal(1), z.literal(2)]).default(1),
        host: z.string().optional(),
        hosts: projectHostsSchema.optional().describe('The plan\'s hosts per kind of environment: integration shared, staging and production dedicated, production on several (a kind left out runs on host).'),
        hostStartTimeout: hostStartTimeoutSchema.optional().describe('seconds a step bound to the host may wait for the host to take it (default 60)'),
      }),
      response: { 201: anyJson, ...errors },
    },
  }, async (req, reply) => {
    try {
      const info = await client.createProject({ ...req.body, from: req.body.from ?? SAMPLE_STORE });
      return reply.code(201).send(info);
    } catch (err) {
      return fail(reply, err);
    }
  });

  api.get('/v1/projects/:project', { preHandler: reader, schema: { params, response: { 200: anyJson, ...errors } } }, async (req, reply) =>
    client.project(req.params.project).then((r) => reply.send(r), (e: unknown) => fail(reply, e)),
  );

  api.get('/v1/projects/:project/environments', { preHandler: reader, schema: { params, response: { 200: anyJson, ...errors } } }, async (req, reply) =>
    client.project(req.params.project).then((r) => reply.send(r.environments), (e: unknown) => fail(reply, e)),
  );

  api.post('/v1/projects/:project/environments', {
    preHandler: developer,
    schema: {
      description: "Branch an environment from its parent's head; active and deployed unless inactive.",
      params,
      body: z.object({ name: envName, parent: envName.optional(), inactive: z.boolean().default(false) }),
      response: { 201: anyJson, ...errors },
    },
  }, async (req, reply) =>
    client.branch(req.params.project, req.body).then((r) => reply.code(201).send(r), (e: unknown) => fail(reply, e)),
  );

  api.get('/v1/projects/:project/environments/:environment', {
    preHandler: reader,
    schema: {
      description: "The environment's state, current release, running and recent deployments, and whether its host answers (hostLiveness).",
      params: envParams,
      response: {
        200: z.looseObject({ project: z.string(), environment: z.string(), host: z.string(), hostLiveness: hostLivenessSchema.optional() }),
        ...errors,
      },
    },
  }, async (req, reply) =>
    client.environmentStatus(req.params.project, req.params.environment, { host: true }).then((r) => reply.send({ ...r }), (e: unknown) => fail(reply, e)),
  );

  api.get('/v1/hosts', {
    preHandler: admin,
    schema: { description: 'Every host that has run a worker, and whether it answers (its supervisor\'s heartbeats, its queue\'s pollers).', response: { 200: z.array(hostLivenessSchema), ...errors } },
  }, async (_req, reply) =>
    client.listHosts().then((r) => reply.send(r), (e: unknown) => fail(reply, e)),
  );

  api.get('/v1/hosts/:host', {
    preHandler: admin,
    schema: { description: "One host's liveness.", params: z.object({ host: hostNameSchema }), response: { 200: hostLivenessSchema, ...errors } },
  }, async (req, reply) =>
    client.hostLiveness(req.params.host).then((r) => reply.send(r), (e: unknown) => fail(reply, e)),
  );

  api.get('/v1/projects/:project/environments/:environment/crons', {
    preHandler: reader,
    schema: { description: "The environment's crons: each Schedule's spec, command, paused or not, last and next run.", params: envParams, response: { 200: anyJson, ...errors } },
  }, async (req, reply) =>
    client.crons(req.params.project, req.params.environment).then((r) => reply.send(r), (e: unknown) => fail(reply, e)),
  );

  api.delete('/v1/projects/:project/environments/:environment', { preHandler: developer, schema: { params: envParams, response: { 200: anyJson, ...errors } } }, async (req, reply) =>
    client.deleteEnvironment(req.params.project, req.params.environment).then((r) => reply.send(r), (e: unknown) => fail(reply, e)),
  );

  const operations = {
    activate: (p: string, e: string) => client.activate(p, e),
    deactivate: (p: string, e: string) => client.deactivate(p, e),
    sync: (p: string, e: string) => client.sync(p, e),
    merge: (p: string, e: string) => client.merge(p, e),
    redeploy: (p: string, e: string) => client.redeploy(p, e),
  };
  for (const [op, run] of Object.entries(operations)) {
    api.post(`/v1/projects/:project/environments/:environment/${op}`, {
      preHandler: developer,
      schema: { description: `${op} an environment`, params: envParams, response: { 202: anyJson, ...errors } },
    }, async (req, reply) => run(req.params.project, req.params.environment).then((r) => reply.code(202).send(r), (e: unknown) => fail(reply, e)));
  }
  api.post('/v1/projects/:project/environments/:environment/rollback', {
    preHandler: developer,
    schema: { params: envParams, body: z.object({ to: z.number().int().positive().optional(), withData: z.boolean().optional() }).nullish(), response: { 202: anyJson, ...errors } },
  }, async (req, reply) =>
    client.rollback(req.params.project, req.params.environment, req.body?.to, req.body?.withData ?? false).then((r) => reply.code(202).send(r), (e: unknown) => fail(reply, e)),
  );
  api.post('/v1/projects/:project/environments/:environment/sync-data', {
    preHandler: developer,
    schema: { description: "Deploy the current release again with the parent's database and mounts (data never flows up).", params: envParams, response: { 202: anyJson, ...errors } },
  }, async (req, reply) => client.syncData(req.params.project, req.params.environment).then((r) => reply.code(202).send(r), (e: unknown) => fail(reply, e)));
  api.post('/v1/projects/:project/environments/:environment/data-refresh', {
    preHandler: developer,
    schema: {
      description: "Open a support ticket to refresh staging's database and mounts from production (the caller is the requester); staging deploys again with them once approved.",
      params: envParams,
      body: z.object({ from: z.string().min(1).max(80) }),
      response: { 202: anyJson, ...errors },
    },
  }, async (req, reply) =>
    client.requestDataRefresh(req.params.project, req.params.environment, req.body.from, req.caller!.user).then((r) => reply.code(202).send(r), (e: unknown) => fail(reply, e)),
  );
  api.get('/v1/projects/:project/environments/:environment/snapshots', { preHandler: reader, schema: { params: envParams, response: { 200: anyJson, ...errors } } }, async (req, reply) => {
    try {
      await client.environmentStatus(req.params.project, req.params.environment);
      return reply.send(client.snapshots(req.params.project, req.params.environment));
    } catch (err) {
      return fail(reply, err);
    }
  });
  api.post('/v1/projects/:project/environments/:environment/snapshots', {
    preHandler: developer,
    schema: { description: 'Snapshot the database and mounts now (between deployments).', params: envParams, response: { 201: anyJson, ...errors } },
  }, async (req, reply) => client.snapshot(req.params.project, req.params.environment).then((r) => reply.code(201).send(r), (e: unknown) => fail(reply, e)));
  api.post('/v1/projects/:project/environments/:environment/snapshots/:snapshot/restore', {
    preHandler: developer,
    schema: { description: "Deploy the current release again with the snapshot's database and mounts.", params: envParams.extend({ snapshot: z.string().regex(/^[A-Za-z0-9_.-]{1,80}$/) }), response: { 202: anyJson, ...errors } },
  }, async (req, reply) =>
    client.restoreSnapshot(req.params.project, req.params.environment, req.params.snapshot).then((r) => reply.code(202).send(r), (e: unknown) => fail(reply, e)),
  );
  api.delete('/v1/projects/:project/environments/:environment/snapshots/:snapshot', {
    preHandler: developer,
    schema: { description: 'Delete a snapshot.', params: envParams.extend({ snapshot: z.string().regex(/^[A-Za-z0-9_.-]{1,80}$/) }), response: { 200: anyJson, ...errors } },
  }, async (req, reply) => {
    try {
      await client.environmentStatus(req.params.project, req.params.environment);
      client.deleteSnapshot(req.params.project, req.params.environment, req.params.snapshot);
      return reply.send({ deleted: req.params.snapshot });
    } catch (err) {
      return fail(reply, err);
    }
  });

  api.post('/v1/projects/:project/environments/:environment/cancel', {
    preHandler: developer,
    schema: {
      description: 'Cancel the running deployment: its hook is stopped, what it changed is undone; answers with its record.',
      params: envParams,
      response: { 200: anyJson, ...errors },
    },
  }, async (req, reply) =>
    client.cancelDeployment(req.params.project, req.params.environment).then((r) => reply.send(r), (e: unknown) => fail(reply, e)),
  );

  // Variables (src/client-lib/variables.ts): a sensitive value is accepted, never answered.
  const variableBody = z.object({
    value: z.string(),
    sensitive: z.boolean().optional(),
    inherit: z.boolean().optional(),
    build: z.boolean().optional(),
    runtime: z.boolean().optional(),
  });
  const varParams = envParams.extend({ name: z.string().min(1).max(132) });
  const projectVarParams = params.extend({ name: z.string().min(1).max(132) });
  api.get('/v1/projects/:project/environments/:environment/variables', {
    preHandler: reader,
    schema: { description: 'The variables that apply to the environment (its own, inherited, the project\'s); sensitive values as "(sensitive)".', params: envParams, response: { 200: anyJson, ...errors } },
  }, async (req, reply) => client.environmentVariables(req.params.project, req.params.environment).then((r) => reply.send(r), (e: unknown) => fail(reply, e)));
  api.get('/v1/projects/:project/environments/:environment/variables/:name', { preHandler: reader, schema: { params: varParams, response: { 200: anyJson, ...errors } } }, async (req, reply) =>
    client.environmentVariable(req.params.project, req.params.environment, req.params.name).then((r) => reply.send(r), (e: unknown) => fail(reply, e)),
  );
  api.put('/v1/projects/:project/environments/:environment/variables/:name', {
    preHandler: developer,
    schema: {
      description: 'Set a variable: on integration environments applied and redeployed (202 with the deployment); on staging and production a ticket of kind variable is opened (202 with the ticket).',
      params: varParams,
      body: variableBody,
      response: { 202: anyJson, ...errors },
    },
  }, async (req, reply) =>
    client
      .setEnvironmentVariable(req.params.project, req.params.environment, { name: req.params.name, ...req.body, by: req.caller!.user })
      .then((r) => reply.code(202).send(r), (e: unknown) => fail(reply, e)),
  );
  api.delete('/v1/projects/:project/environments/:environment/variables/:name', { preHandler: developer, schema: { params: varParams, response: { 202: anyJson, ...errors } } }, async (req, reply) =>
    client.unsetEnvironmentVariable(req.params.project, req.params.environment, req.params.name, req.caller!.user).then((r) => reply.code(202).send(r), (e: unknown) => fail(reply, e)),
  );
  api.get('/v1/projects/:project/variables', { preHandler: reader, schema: { params, response: { 200: anyJson, ...errors } } }, async (req, reply) =>
    client.projectVariables(req.params.project).then((r) => reply.send(r), (e: unknown) => fail(reply, e)),
  );
  api.get('/v1/projects/:project/variables/:name', { preHandler: reader, schema: { description: 'One project variable; a sensitive value as "(sensitive)".', params: projectVarParams, response: { 200: anyJson, ...errors } } }, async (req, reply) =>
    client.projectVariable(req.params.project, req.params.name).then((r) => reply.send(r), (e: unknown) => fail(reply, e)),
  );
  api.put('/v1/projects/:project/variables/:name', {
    preHandler: admin,
    schema: { description: "Set a project variable (admins: it reaches staging and production with their next deployment); the active integration environments are redeployed.", params: projectVarParams, body: variableBody, response: { 202: anyJson, ...errors } },
  }, async (req, reply) =>
    client.setProjectVariable(req.params.project, { name: req.params.name, ...req.body, by: req.caller!.user }).then((r) => reply.code(202).send(r), (e: unknown) => fail(reply, e)),
  );
  api.delete('/v1/projects/:project/variables/:name', { preHandler: admin, schema: { params: projectVarParams, response: { 202: anyJson, ...errors } } }, async (req, reply) =>
    client.unsetProjectVariable(req.params.project, req.params.name).then((r) => reply.code(202).send(r), (e: unknown) => fail(reply, e)),
  );

  api.get('/v1/projects/:project/environments/:environment/deployments/:deployment/log', {
    preHandler: reader,
    schema: { params: envParams.extend({ deployment: z.coerce.number().int().positive() }), response: { 200: z.string(), ...errors } },
  }, async (req, reply) => {
    try {
      await client.environmentStatus(req.params.project, req.params.environment);
      const log = client.deploymentLog(req.params.project, req.params.environment, req.params.deployment);
      return reply.type('text/plain').send(log);
    } catch (err) {
      return fail(reply, err);
    }
  });

  api.get('/v1/projects/:project/environments/:environment/deployments/:deployment', {
    preHandler: reader,
    schema: {
      description: "A deployment's phase and steps, as they run.",
      params: envParams.extend({ deployment: z.coerce.number().int().positive() }),
      response: { 200: anyJson, ...errors },
    },
  }, async (req, reply) =>
    client.deploymentProgress(req.params.project, req.params.environment, req.params.deployment).then((r) => reply.send(r), (e: unknown) => fail(reply, e)),
  );

  api.get('/v1/projects/:project/promotions/:ticket', {
    preHandler: reader,
    schema: { description: 'The promotion a ticket gates: waiting, deploying, deployed, rejected, …', params: ticketParams, response: { 200: anyJson, ...errors } },
  }, async (req, reply) =>
    client.promotionOfTicket(req.params.project, req.params.ticket).then((r) => reply.send(r), (e: unknown) => fail(reply, e)),
  );

  api.post('/v1/projects/:project/promotions', {
    preHandler: allow(ACTION_NEEDS.promote),
    schema: {
      description: "Promote the source's live release to staging or production, behind a support ticket.",
      params,
      body: z.object({ target: z.enum(['staging', 'production']), withData: z.boolean().optional() }),
      response: { 202: anyJson, ...errors },
    },
  }, async (req, reply) =>
    client.promote(req.params.project, req.body.target, req.caller!.user, { withData: req.body.withData ?? false }).then((r) => reply.code(202).send(r), (e: unknown) => fail(reply, e)),
  );

  api.get('/v1/projects/:project/tickets', {
    preHandler: reader,
    schema: { params, querystring: z.object({ open: z.enum(['true', 'false']).optional() }), response: { 200: anyJson, ...errors } },
  }, async (req, reply) =>
    client.listTickets(req.params.project, { open: req.query.open === 'true' }).then((r) => reply.send(r), (e: unknown) => fail(reply, e)),
  );

  api.get('/v1/projects/:project/tickets/:ticket', { preHandler: reader, schema: { params: ticketParams, response: { 200: anyJson, ...errors } } }, async (req, reply) =>
    client.ticket(req.params.project, req.params.ticket).then((r) => reply.send(r), (e: unknown) => fail(reply, e)),
  );

  api.post('/v1/projects/:project/tickets/:ticket/decision', {
    preHandler: allow(ACTION_NEEDS.decide),
    schema: {
      description: "Approve or reject a ticket as the caller (a support engineer, never the requester).",
      params: ticketParams,
      body: z.object({ decision: z.enum(['approve', 'reject']), comment: z.string().max(2000).optional() }),
      response: { 200: anyJson, ...errors },
    },
  }, async (req, reply) =>
    client
      .decide(req.params.project, req.params.ticket, { user: req.caller!.user, ...req.body })
      .then((r) => reply.send(r), (e: unknown) => fail(reply, e)),
  );
}
