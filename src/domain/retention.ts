/**
 * How much of each environment's history the data directory keeps (besides releases, kept by
 * stageRelease, and slugs, src/domain/slug-pruning.ts). Pure.
 */

/** Deployment logs kept per environment: the newest by deployment number. */
export const DEPLOY_LOGS_KEPT = 100;
