/**
 * Every deployment variable ece-tools documents for `.magento.env.yaml`, with its type and the
 * stages it may be set in: the table behind "accepted", "misplaced" and "unknown".
 *
 * Source: magento/ece-tools `config/schema.yaml`, two revisions (eb9a239 and 079d450; the union of
 * both, so a project written for either is understood). Two more come from the last PHP schema
 * (`src/Config/Schema.php`, before the YAML file): SCD_EXCLUDE_THEMES (deprecated there in favour
 * of SCD_MATRIX) and STATIC_CONTENT_SYMLINK, since dropped but still found in real projects.
 *
 * Skipped: ENV_RELATIONSHIPS, ENV_ROUTES, ENV_VARIABLES, ENV_APPLICATION and ENV_ENVIRONMENT. The
 * schema puts them in its `system` section (names of environment variables), in no stage.
 * CRYPT_KEY and the ADMIN_* variables are not here either: ece-tools reads them from the
 * environment (the project's variables), never from this file.
 */

export const ENV_STAGES = ['global', 'build', 'deploy', 'post-deploy'] as const;
export type EnvStage = (typeof ENV_STAGES)[number];

/** The value types the schema uses; "array" is a YAML list or map. */
export type EceType = 'boolean' | 'integer' | 'string' | 'array';

export interface EceVariable {
  type: EceType;
  stages: readonly EnvStage[];
}

const G = 'global';
const B = 'build';
const D = 'deploy';
const P = 'post-deploy';

function variable(type: EceType, ...stages: EnvStage[]): EceVariable {
  return { type, stages };
}

export const ECE_VARIABLES = {
  // Commands and logging
  VERBOSE_COMMANDS: variable('string', G, B, D, P),
  MIN_LOGGING_LEVEL: variable('string', G),
  // Static content
  SCD_ON_DEMAND: variable('boolean', G),
  SKIP_SCD: variable('boolean', G, B, D),
  SCD_STRATEGY: variable('string', G, B, D),
  SCD_THREADS: variable('integer', G, B, D),
  SCD_MATRIX: variable('array', G, B, D),
  SCD_EXCLUDE_THEMES: variable('string', G, B, D), // last PHP schema only
  SCD_COMPRESSION_LEVEL: variable('integer', G, B, D),
  SCD_COMPRESSION_TIMEOUT: variable('integer', G, B, D),
  SCD_MAX_EXECUTION_TIME: variable('integer', G, B, D),
  SCD_NO_PARENT: variable('boolean', G, B, D),
  SCD_USE_BALER: variable('boolean', G, B),
  SKIP_HTML_MINIFICATION: variable('boolean', G),
  CLEAN_STATIC_FILES: variable('boolean', G, D),
  STATIC_CONTENT_SYMLINK: variable('boolean', G, D), // last PHP schema only
  // Build
  SKIP_COMPOSER_DUMP_AUTOLOAD: variable('boolean', B),
  ERROR_REPORT_DIR_NESTING_LEVEL: variable('integer', B),
  QUALITY_PATCHES: variable('array', B),
  // Services and Magento's env.php
  LOCK_PROVIDER: variable('string', G, D),
  MYSQL_USE_SLAVE_CONNECTION: variable('boolean', G, D),
  REDIS_USE_SLAVE_CONNECTION: variable('boolean', G, D),
  VALKEY_USE_SLAVE_CONNECTION: variable('boolean', G, D),
  REDIS_BACKEND: variable('string', D),
  VALKEY_BACKEND: variable('string', D),
  USE_LUA: variable('boolean', D),
  USE_LUA_ON_GC: variable('boolean', D),
  LUA_KEY: variable('boolean', D), // revision eb9a239 only
  SPLIT_DB: variable('array', G, D),
  DATABASE_CONFIGURATION: variable('array', D),
  RESOURCE_CONFIGURATION: variable('array', D),
  CACHE_CONFIGURATION: variable('array', D),
  SESSION_CONFIGURATION: variable('array', D),
  SEARCH_CONFIGURATION: variable('array', D),
  ELASTICSUITE_CONFIGURATION: variable('array', D),
  QUEUE_CONFIGURATION: variable('array', D),
  CRON_CONSUMERS_RUNNER: variable('array', D),
  CONSUMERS_WAIT_FOR_MAX_MESSAGES: variable('boolean', D),
  REMOTE_STORAGE: variable('array', D),
  // Store behaviour
  UPDATE_URLS: variable('boolean', G, D),
  FORCE_UPDATE_URLS: variable('boolean', G, D),
  ENABLE_GOOGLE_ANALYTICS: variable('boolean', G, D),
  GENERATED_CODE_SYMLINK: variable('boolean', D),
  X_FRAME_CONFIGURATION: variable('string', G),
  ENABLE_EVENTING: variable('boolean', G),
  ENABLE_WEBHOOKS: variable('boolean', G),
  // Post-deploy
  WARM_UP_PAGES: variable('array', P),
  WARM_UP_CONCURRENCY: variable('integer', P),
  TTFB_TESTED_PAGES: variable('array', P),
  // Installing Magento from git (ece-tools' own development)
  DEPLOYED_MAGENTO_VERSION_FROM_GIT: variable('string', G),
  DEPLOY_FROM_GIT_OPTIONS: variable('array', G),
};

export type EceVariableName = keyof typeof ECE_VARIABLES;

/** Whether ece-tools documents this name (exactly, as it is case-sensitive). */
export function isEceVariable(name: string): name is EceVariableName {
  return Object.prototype.hasOwnProperty.call(ECE_VARIABLES, name);
}

/** The documented names that may be set in a stage, in table order. */
export function variablesOfStage(stage: EnvStage): EceVariableName[] {
  return (Object.keys(ECE_VARIABLES) as EceVariableName[]).filter((name) => ECE_VARIABLES[name].stages.includes(stage));
}

/** How many single-character edits (insert, delete, replace) turn `a` into `b`. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const replace = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current[j] = Math.min(replace, (previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1);
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

/** The most edits a name may be from a documented one to be taken for a misspelling of it. */
function closeEnough(name: string): number {
  return Math.min(3, Math.max(1, Math.floor(name.length / 3)));
}

/**
 * The documented name a misspelt one most likely meant: the nearest by edit distance, ignoring
 * case, if it is close enough (at most 3 edits and at most a third of the name's length). Ties go
 * to the alphabetically first name. Undefined when nothing is close.
 */
export function suggestVariable(name: string): string | undefined {
  const wanted = name.toUpperCase();
  const limit = closeEnough(name);
  let best: { name: string; distance: number } | undefined;
  for (const candidate of Object.keys(ECE_VARIABLES).sort()) {
    // The length difference alone is a lower bound: long strangers are dismissed cheaply.
    if (Math.abs(candidate.length - wanted.length) > limit) continue;
    const distance = editDistance(wanted, candidate);
    if (distance <= limit && (best === undefined || distance < best.distance)) best = { name: candidate, distance };
  }
  return best?.name;
}
