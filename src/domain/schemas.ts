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

export const hostNameSchema = z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'host must be a lowercase name (letters, digits, "-")');

export const planSchema = z.enum(['pro', 'enterprise'], { error: 'plan must be "pro" or "enterprise"' });

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
});
export type CreateProjectInput = z.infer<typeof createProjectInputSchema>;
