/**
 * `.magento.app.yaml`: the application's build and deploy description.
 * Unknown keys are kept and ignored, never rejected (Magento Cloud has many we do not use).
 */
import { z } from 'zod';

const hookScript = z.string({ error: 'must be a shell script (a string)' });

export const webLocationSchema = z.looseObject({
  root: z.string({ error: 'must be a directory path (a string)' }).optional(),
  passthru: z.union([z.string(), z.boolean()]).optional(),
  index: z.array(z.string()).optional(),
  expires: z.union([z.string(), z.number()]).optional(),
});

export const appConfigSchema = z.looseObject({
  name: z.string({ error: 'must be the application name (a string)' }).min(1, 'must not be empty'),
  type: z.string({ error: 'must be a runtime such as "php:8.3" (a string)' }).min(1, 'must not be empty'),
  relationships: z.record(z.string(), z.string({ error: 'must be "<service>:<endpoint>"' })).optional(),
  disk: z
    .number({ error: 'must be a size in MB (a number)' })
    .int('must be a whole number of MB')
    .positive('must be a positive size in MB')
    .optional(),
  web: z
    .looseObject({
      locations: z.record(z.string(), webLocationSchema).optional(),
    })
    .optional(),
  mounts: z.record(z.string(), z.unknown()).optional(),
  hooks: z
    .looseObject({
      build: hookScript.optional(),
      deploy: hookScript.optional(),
      post_deploy: hookScript.optional(),
    })
    .optional(),
  crons: z.record(z.string(), z.unknown()).optional(),
  variables: z.looseObject({ env: z.record(z.string(), z.unknown()).optional() }).optional(),
});
export type AppConfig = z.infer<typeof appConfigSchema>;

/** The directory, relative to the application root, that the router serves for "/". */
export function webRootOf(config: AppConfig): string {
  const root = config.web?.locations?.['/']?.root ?? 'pub';
  return root.replace(/^\/+|\/+$/g, '') || '.';
}

/** One problem in a project file: which file, which key, and why. */
export interface ConfigIssue {
  file: string;
  path: string;
  reason: string;
}

export function formatIssue(i: ConfigIssue): string {
  return `${i.file}: ${i.path ? `${i.path}: ` : ''}${i.reason}`;
}

export function zodIssues(file: string, error: z.ZodError): ConfigIssue[] {
  return error.issues.map((issue) => ({
    file,
    path: issue.path.map(String).join('.'),
    reason: issue.message,
  }));
}
