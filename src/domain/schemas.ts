/**
 * Zod schemas of the engine's inputs, for the Node side's boundaries (API, CLI, client).
 * Kept apart from the names and records that workflow code imports: zod stays out of the
 * workflow bundle, which every new workflow evaluates afresh in its sandbox (a test checks).
 */
import { z } from 'zod';
import { MAX_HOST_START_TIMEOUT_SECONDS } from './activity-timeouts';

/** A project id as the product brief defines it: `[a-z][a-z0-9-]{2,39}`. */
export const projectIdSchema = z
  .string({ error: 'project id must be a string' })
  .regex(
    /^[a-z][a-z0-9-]{2,39}$/,
    'project id must be 3 to 40 characters: a lowercase letter, then lowercase letters, digits or "-"',
  );

export const hostStartTimeoutSchema = z
  .number({ error: 'host start timeout must be a number of seconds' })
  .int('host start timeout must be a whole number of seconds')
  .min(1, 'host start timeout must be at least 1 second')
  .max(MAX_HOST_START_TIMEOUT_SECONDS, `host start timeout must be at most ${MAX_HOST_START_TIMEOUT_SECONDS} seconds`);

/** A host's liveness as the API answers it (src/domain/hosts.ts). */
export const hostLivenessSchema = z.object({
  host: z.string(),
  state: z.enum(['live', 'not-answering', 'unknown']),
  lastHeartbeatAt: z.string().optional().describe("the newest heartbeat of the host's supervisor (ISO 8601)"),
  pollers: z.array(z.object({ identity: z.string(), lastAccessAt: z.string().optional() })),
  summary: z.string().describe('"web2: live (heartbeat 2 s ago)", "web2: not answering since …"'),
});

export const planSchema = z.enum(['pro', 'enterprise'], { error: 'plan must be "pro" or "enterprise"' });

/** A host's name, as `slipway worker --host` takes it. */
export const hostNameSchema = z.string({ error: 'a host must be a name' }).regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'a host must be a lowercase name of letters, digits and "-" (at most 63)');

const hostListSchema = (kind: string) =>
  z
    .array(hostNameSchema, { error: `${kind}'s hosts must be a list of host names` })
    .min(1, `${kind} needs at least one host`)
    .max(9, `${kind} may have at most 9 hosts`)
    .refine((hosts) => new Set(hosts).size === hosts.length, `${kind} names a host twice`);

/**
 * The plan's hosts per kind of environment: integration (and its branches) on shared hosts,
 * staging and production on dedicated ones (seed 004), production on several. A kind left out
 * runs on the project's `host`.
 */
export const projectHostsSchema = z.strictObject(
  { integration: hostListSchema('integration').optional(), staging: hostListSchema('staging').optional(), production: hostListSchema('production').optional() },
  {
    error: (issue) =>
      issue.code === 'unrecognized_keys' ? `hosts may name only integration, staging and production, not ${issue.keys.join(', ')}` : 'hosts must be an object of integration, staging and production host lists',
  },
);

export const createProjectInputSchema = z.object({
  project: projectIdSchema,
  plan: planSchema.default('pro'),
  /** Absolute path of the directory whose files make the initial commit. */
  from: z.string().min(1, 'source directory must not be empty'),
  host: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'host must be a lowercase name').default('local'),
  /** Seconds a step bound to the host may wait for the host to take it (absent: the default, 60). */
  hostStartTimeout: hostStartTimeoutSchema.optional(),
  /** Distinct support approvals a promotion to production needs: the optional two-person rule. */
  productionApprovals: z.union([z.literal(1), z.literal(2)], { error: 'production approvals must be 1 or 2' }).default(1),
  hosts: projectHostsSchema.optional(),
});
export type CreateProjectInput = z.infer<typeof createProjectInputSchema>;
