/** A project: its plan, its remote and its environment registry. */
import { z } from 'zod';
import { projectIdSchema, type EnvironmentType } from './names';

export const PLANS = { pro: { activeIntegrationLimit: 5 }, enterprise: { activeIntegrationLimit: 8 } } as const;
export type Plan = keyof typeof PLANS;
export const planSchema = z.enum(['pro', 'enterprise'], { error: 'plan must be "pro" or "enterprise"' });

export const createProjectInputSchema = z.object({
  project: projectIdSchema,
  plan: planSchema.default('pro'),
  /** Absolute path of the directory whose files make the initial commit. */
  from: z.string().min(1, 'source directory must not be empty'),
  host: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'host must be a lowercase name').default('local'),
});
export type CreateProjectInput = z.infer<typeof createProjectInputSchema>;

export interface EnvironmentEntry {
  name: string;
  type: EnvironmentType;
  parent?: string;
  status: 'active' | 'inactive';
  host: string;
}

export interface ProjectState {
  project: string;
  plan: Plan;
  from: string;
  host: string;
  remote?: string;
  initialCommit?: string;
  environments: Record<string, EnvironmentEntry>;
}

export interface ProjectInfo {
  project: string;
  plan: Plan;
  remote: string;
  environments: EnvironmentEntry[];
}

/** What the remote's post-receive hook reports for one updated ref. */
export interface BranchPush {
  branch: string;
  before: string;
  after: string;
  pushedAt: number;
}
