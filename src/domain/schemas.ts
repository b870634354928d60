/**
 * Zod schemas of the engine's inputs, for the Node side's boundaries (API, CLI, client).
 * Kept apart from the names and records that workflow code imports: zod stays out of the
 * workflow bundle, which every new workflow evaluates afresh in its sandbox (a test checks).
 */
import { z } from 'zod';

/** A project id as the product brief defines it: `[a-z][a-z0-9-]{2,39}`. */
export const projectIdSchema = z
  .string({ error: 'project id must be a string' })
  .regex(
    /^[a-z][a-z0-9-]{2,39}$/,
    'project id must be 3 to 40 characters: a lowercase letter, then lowercase letters, digits or "-"',
  );

export const planSchema = z.enum(['pro', 'enterprise'], { error: 'plan must be "pro" or "enterprise"' });

export const createProjectInputSchema = z.object({
  project: projectIdSchema,
  plan: planSchema.default('pro'),
  /** Absolute path of the directory whose files make the initial commit. */
  from: z.string().min(1, 'source directory must not be empty'),
  host: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'host must be a lowercase name').default('local'),
  /** Distinct support approvals a promotion to production needs: the optional two-person rule. */
  productionApprovals: z.union([z.literal(1), z.literal(2)], { error: 'production approvals must be 1 or 2' }).default(1),
});
export type CreateProjectInput = z.infer<typeof createProjectInputSchema>;
