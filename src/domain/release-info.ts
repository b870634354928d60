/**
 * What each release directory has beside it (`releases/<release>.json`): written when the
 * release is staged, read by the router to serve it. Node side only (zod), not in the workflow
 * bundle.
 */
import * as path from 'node:path';
import { z } from 'zod';

/** Written beside each release directory: what the router needs to serve it. */
export const releaseInfoSchema = z.object({
  release: z.string(),
  deployment: z.number(),
  commit: z.string(),
  slug: z.string(),
  webRoot: z.string(),
  stagedAt: z.string(),
  routes: z
    .array(
      z.object({
        host: z.string(),
        path: z.string(),
        type: z.enum(['upstream', 'redirect']),
        url: z.string(),
        to: z.string().optional(),
      }),
    )
    .default([]),
  /** `web.locations` (releases staged before they were recorded have `webRoot` only). */
  locations: z
    .array(
      z.object({
        path: z.string(),
        root: z.string(),
        passthru: z.union([z.string(), z.literal(false)]),
        index: z.array(z.string()),
        allow: z.boolean(),
        rules: z.array(
          z.object({
            source: z.string(),
            pattern: z.string(),
            allow: z.boolean().optional(),
            passthru: z.union([z.string(), z.literal(false)]).optional(),
            scripts: z.boolean().optional(),
            expires: z.number().optional(),
            headers: z.record(z.string(), z.string()).optional(),
          }),
        ),
        scripts: z.boolean().optional(),
        expires: z.number().optional(),
        headers: z.record(z.string(), z.string()).optional(),
      }),
    )
    .optional(),
  /** Mount path in the application → its source under the environment's mounts/. */
  mounts: z.record(z.string(), z.string()).optional(),
  /** How the release's static content reaches a `pub/static` mount, and whether it is made on request. */
  staticContent: z
    .object({
      symlink: z.boolean(),
      clean: z.boolean(),
      onDemand: z.boolean(),
      /** The deployed version of static content made on request (pub/static/deployed_version.txt). */
      version: z.string().optional(),
      /** Static content is deployed into this release by the deploy (not the build). */
      inDeploy: z.boolean().optional(),
    })
    .optional(),
});
export type ReleaseInfo = z.infer<typeof releaseInfoSchema>;

export const releaseInfoFile = (releasesDir: string, release: string): string =>
  path.join(releasesDir, `${release}.json`);
