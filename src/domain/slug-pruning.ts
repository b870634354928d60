/**
 * Which stored slugs may go: the rule that keeps the slug store bounded. A slug is kept while a
 * release references it (a rollback or a promotion deploys it again with no build) or while it
 * is among the newest N slugs an environment used (built, reused or deployed); every other slug
 * is pruned. Pure: the slug store's records are read and removed by src/activities/slug-store.ts.
 */

/** Slugs kept per environment, beside those a release references, unless SLIPWAY_SLUGS_KEPT says otherwise. */
export const DEFAULT_SLUGS_KEPT = 5;

/** One environment's use of a slug: the newest deployment of that environment that used it. */
export interface SlugUse {
  project: string;
  environment: string;
  slug: string;
  deployment: number;
}

export interface SlugPruneInput {
  /** The slugs in the store. */
  stored: readonly string[];
  /** Slugs a release references (on any host). */
  referenced: Iterable<string>;
  uses: readonly SlugUse[];
  /** N: the newest slugs kept per environment. */
  keepPerEnvironment: number;
}

export interface SlugPruneDecision {
  /** The slugs to remove, in name order. */
  prune: string[];
  /** Why each other stored slug stays. */
  kept: Map<string, string>;
}

/** The newest `n` slugs each environment used (by deployment number), with the environment that keeps each. */
export function newestPerEnvironment(uses: readonly SlugUse[], n: number): Map<string, string> {
  const byEnv = new Map<string, SlugUse[]>();
  for (const u of uses) {
    const key = `${u.project}/${u.environment}`;
    byEnv.set(key, [...(byEnv.get(key) ?? []), u]);
  }
  const kept = new Map<string, string>();
  for (const [env, list] of byEnv) {
    const seen = new Set<string>();
    for (const u of [...list].sort((a, b) => b.deployment - a.deployment || a.slug.localeCompare(b.slug))) {
      if (seen.size >= n) break;
      if (seen.has(u.slug)) continue;
      seen.add(u.slug);
      if (!kept.has(u.slug)) kept.set(u.slug, `among the newest ${n} of ${env}`);
    }
  }
  return kept;
}

export function slugsToPrune(input: SlugPruneInput): SlugPruneDecision {
  const n = Math.max(1, Math.floor(input.keepPerEnvironment));
  const kept = new Map<string, string>();
  for (const s of input.referenced) kept.set(s, 'a release references it');
  for (const [s, why] of newestPerEnvironment(input.uses, n)) if (!kept.has(s)) kept.set(s, why);
  const prune = [...new Set(input.stored)].filter((s) => !kept.has(s)).sort();
  const stored = new Set(input.stored);
  return { prune, kept: new Map([...kept].filter(([s]) => stored.has(s))) };
}

/** N from its setting (SLIPWAY_SLUGS_KEPT): a whole number of at least 1, else the default and why. */
export function slugsKeptFrom(text: string | undefined): { n: number; warning?: string } {
  if (text === undefined || text.trim() === '') return { n: DEFAULT_SLUGS_KEPT };
  const n = Number(text.trim());
  if (Number.isInteger(n) && n >= 1) return { n };
  return { n: DEFAULT_SLUGS_KEPT, warning: `SLIPWAY_SLUGS_KEPT=${JSON.stringify(text)} is not a whole number of at least 1: ${DEFAULT_SLUGS_KEPT} kept per environment` };
}
