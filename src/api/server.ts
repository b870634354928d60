/**
 * The engine's HTTP API (fastify, zod-validated, OpenAPI at /openapi.json): the ingest endpoint
 * of the remotes' git hooks, the platform API (./routes.ts), the web interface and the remotes
 * over Git smart HTTP (./git-http.ts).
 */
import * as crypto from 'node:crypto';
import Fastify, { type FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import { jsonSchemaTransform, serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { SlipwayClient } from '../client';
import { projectIdSchema } from '../domain/schemas';
import { SlipwayError } from '../errors';
import { parseRefUpdates, pushMessage } from '../domain/git-refs';
import type { Identities } from '../identities';
import { registerRoutes } from './routes';
import { registerUi } from '../web/ui';
import { registerGitHttp } from './git-http';

export interface ApiOptions {
  client: SlipwayClient;
  hookToken: string;
  /** Identities and roles (read again on every request, so edits apply at once). */
  identities?: () => Identities;
}

const sha = z.string().regex(/^[0-9a-f]{40}$/, 'must be a 40-character commit id');
export const postReceiveBodySchema = z.object({
  project: projectIdSchema,
  updates: z
    .array(z.object({ branch: z.string().min(1).max(255), before: sha, after: sha }))
    .min(1, 'at least one updated branch')
    .max(1000),
});

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && crypto.timingSafeEqual(a, b);
}

export async function buildApi(options: ApiOptions): Promise<FastifyInstance> {
  const app = Fastify({ logger: false });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  await app.register(swagger, {
    openapi: { info: { title: 'Slipway API', version: '0.1.0' } },
    transform: jsonSchemaTransform,
  });
  const api = app.withTypeProvider<ZodTypeProvider>();

  api.get('/openapi.json', { schema: { hide: true } }, () => app.swagger());

  // Invalid input: 400 with one message per field.
  app.setErrorHandler((err: { validation?: unknown; statusCode?: number; message: string }, _req, reply) => {
    if (err.validation !== undefined || (err.statusCode === 400 && /body|params|querystring/.test(err.message))) {
      const issues = Array.isArray(err.validation)
        ? (err.validation as Array<{ instancePath?: string; message?: string; params?: { issue?: { path?: unknown[] } } }>).map((v) => ({
            path: (v.params?.issue?.path ?? []).map(String).join('.') || (v.instancePath ?? '').replace(/^\//, '').replace(/\//g, '.'),
            message: v.message ?? 'invalid',
          }))
        : [];
      return reply.code(400).send({ error: `invalid request: ${err.message}`, issues });
    }
    return reply.code(err.statusCode && err.statusCode >= 400 ? err.statusCode : 500).send({ error: err.message });
  });
  if (options.identities) {
    registerRoutes(app, { client: options.client, identities: options.identities });
    registerUi(app, { client: options.client, identities: options.identities });
    registerGitHttp(app, { client: options.client, identities: options.identities });
  }

  api.post(
    '/v1/hooks/post-receive',
    {
      schema: {
        description: "Called by a project remote's post-receive hook with the branches a push updated.",
        headers: z.object({ authorization: z.string().optional() }),
        body: postReceiveBodySchema,
        response: { 202: z.object({ accepted: z.number() }), 401: z.object({ error: z.string() }), 404: z.object({ error: z.string() }) },
      },
    },
    async (req, reply) => {
      const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
      if (!token || !sameSecret(token, options.hookToken)) {
        return reply.code(401).send({ error: 'a valid hook token is required' });
      }
      try {
        for (const u of req.body.updates) {
          await options.client.branchPushed(req.body.project, { ...u, pushedAt: Date.now() });
        }
      } catch (err) {
        if (err instanceof SlipwayError) return reply.code(404).send({ error: err.message });
        throw err;
      }
      return reply.code(202).send({ accepted: req.body.updates.length });
    },
  );
  api.post(
    '/v1/hooks/post-receive/:project',
    {
      schema: {
        description:
          "The shell hook's form of the same call: the hook's standard input (`<old> <new> <ref>` lines) as text/plain; answers with the lines the pusher sees.",
        params: z.object({ project: projectIdSchema }),
        headers: z.object({ authorization: z.string().optional() }),
        body: z.string().max(1_000_000),
        response: { 202: z.string(), 400: z.string(), 401: z.string(), 404: z.string() },
      },
    },
    async (req, reply) => {
      const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
      if (!token || !sameSecret(token, options.hookToken)) return reply.code(401).send('a valid hook token is required\n');
      const updates = parseRefUpdates(req.body);
      if (updates.length === 0) return reply.code(400).send('no branch updates in the body\n');
      try {
        for (const u of updates) await options.client.branchPushed(req.params.project, { ...u, pushedAt: Date.now() });
      } catch (err) {
        if (err instanceof SlipwayError) return reply.code(404).send(`${err.message}\n`);
        throw err;
      }
      return reply.code(202).send(updates.map((u) => `${pushMessage(req.params.project, u)}\n`).join(''));
    },
  );
  return app;
}

export interface RunningApi {
  port: number;
  url: string;
  close(): Promise<void>;
}

export async function startApi(options: ApiOptions & { port: number; host?: string }): Promise<RunningApi> {
  const app = await buildApi(options);
  await app.listen({ port: options.port, host: options.host ?? '127.0.0.1' });
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : options.port;
  return { port, url: `http://127.0.0.1:${port}`, close: () => app.close() };
}
