/**
 * `.magento.env.yaml`: ece-tools' per-stage variables (static content deployment, warm-up, …).
 * Wrong types and unknown stages are issues; unknown or misplaced variables are only warnings,
 * as ece-tools itself ignores them.
 */
import { z } from 'zod';
import type { ConfigIssue } from '../app-config';
import { describeValue, isMap, parseYamlMap, zodIssuesAt, type Parsed } from './yaml-file';

export const ENV_FILE = '.magento.env.yaml';

export const ENV_STAGES = ['global', 'build', 'deploy', 'post-deploy'] as const;
export type EnvStage = (typeof ENV_STAGES)[number];

const bool = z.boolean({ error: 'must be true or false' });
const threads = 'must be a whole number from 1 to 64';
const map = z.record(z.string(), z.unknown(), { error: 'must be a map' });
const strings = z.array(z.string({ error: 'must be a string' }), { error: 'must be a list of strings' });
const page = z
  .string({ error: 'must be a path starting with "/" or a full http(s) URL (a string)' })
  .refine((p) => p.startsWith('/') || /^https?:\/\/[^/\s]+/.test(p), {
    error: (iss) => `must be a path starting with "/" or a full http(s) URL, not ${JSON.stringify(iss.input)}`,
  });

/** The variables Slipway understands: their type and the stages they belong to. */
export const KNOWN_ENV_VARIABLES = {
  SCD_ON_DEMAND: { stages: ['global'], schema: bool },
  SKIP_SCD: { stages: ['global', 'build', 'deploy'], schema: bool },
  SCD_THREADS: { stages: ['build', 'deploy'], schema: z.int({ error: threads }).min(1, threads).max(64, threads) },
  SCD_STRATEGY: {
    stages: ['build', 'deploy'],
    schema: z.enum(['standard', 'quick', 'compact'], { error: 'must be one of standard, quick, compact' }),
  },
  SCD_MATRIX: { stages: ['build', 'deploy'], schema: map },
  SCD_EXCLUDE_THEMES: { stages: ['build'], schema: z.string({ error: 'must be a string' }) },
  WARM_UP_PAGES: { stages: ['post-deploy'], schema: z.array(page, { error: 'must be a list of pages (paths or URLs)' }) },
  TTFB_TESTED_PAGES: { stages: ['post-deploy'], schema: strings },
  CLEAN_STATIC_FILES: { stages: ['global', 'deploy'], schema: bool },
  VERBOSE_COMMANDS: {
    stages: ['build', 'deploy'],
    schema: z.enum(['', '-v', '-vv', '-vvv'], { error: 'must be "", "-v", "-vv" or "-vvv"' }),
  },
  DEPLOY_FROM_GIT_OPTIONS: { stages: ['deploy'], schema: map },
} as const satisfies Record<string, { stages: readonly EnvStage[]; schema: z.ZodType }>;

export type KnownEnvVariable = keyof typeof KNOWN_ENV_VARIABLES;
/** A stage's variables, typed; unknown variables are kept (and ignored). */
export type EnvVariables = { [K in KnownEnvVariable]?: z.infer<(typeof KNOWN_ENV_VARIABLES)[K]['schema']> } & Record<string, unknown>;

export interface EnvConfig {
  stage: Record<EnvStage, EnvVariables>;
  /** ece-tools' logging section: kept, ignored. */
  log?: unknown;
  [key: string]: unknown;
}

function isKnown(name: string): name is KnownEnvVariable {
  return Object.prototype.hasOwnProperty.call(KNOWN_ENV_VARIABLES, name);
}

export function parseEnvConfig(text: string): Parsed<EnvConfig> {
  const issues: ConfigIssue[] = [];
  const warnings: ConfigIssue[] = [];
  const top = parseYamlMap(ENV_FILE, text, 'a map with a "stage" section');
  if (!top.ok) return { ...top, warnings };

  const { stage: rawStages, ...rest } = top.value;
  const stages = rawStages ?? {}; // an empty `stage:` is no stage
  for (const key of Object.keys(rest)) {
    if (key !== 'log') warnings.push({ file: ENV_FILE, path: key, reason: `unknown section "${key}"; it is ignored` });
  }
  const stage: EnvConfig['stage'] = { global: {}, build: {}, deploy: {}, 'post-deploy': {} };
  if (!isMap(stages)) {
    issues.push({ file: ENV_FILE, path: 'stage', reason: `must be a map of stage → variables, not ${describeValue(stages)}` });
  } else {
    for (const [name, vars] of Object.entries(stages)) {
      const at = `stage.${name}`;
      if (!(ENV_STAGES as readonly string[]).includes(name)) {
        issues.push({ file: ENV_FILE, path: at, reason: `unknown stage "${name}"; use ${ENV_STAGES.join(', ')}` });
        continue;
      }
      if (!isMap(vars ?? {})) {
        issues.push({ file: ENV_FILE, path: at, reason: `must be a map of variables, not ${describeValue(vars)}` });
        continue;
      }
      const into = stage[name as EnvStage];
      for (const [variable, value] of Object.entries(vars ?? {})) {
        if (!isKnown(variable)) {
          warnings.push({ file: ENV_FILE, path: `${at}.${variable}`, reason: `unknown variable "${variable}" in stage ${name}; it is ignored` });
          into[variable] = value; // kept, ignored
          continue;
        }
        const known = KNOWN_ENV_VARIABLES[variable];
        if (!(known.stages as readonly string[]).includes(name)) {
          warnings.push({
            file: ENV_FILE,
            path: `${at}.${variable}`,
            reason: `variable "${variable}" does not belong in stage ${name} (only ${known.stages.join(', ')}); it is ignored`,
          });
          continue;
        }
        const parsed = known.schema.safeParse(value);
        if (parsed.success) (into as Record<string, unknown>)[variable] = parsed.data;
        else issues.push(...zodIssuesAt(ENV_FILE, `${at}.${variable}`, parsed.error));
      }
    }
  }
  if (issues.length > 0) return { ok: false, issues, warnings };
  return { ok: true, value: { ...rest, stage }, warnings };
}

/** The value of each variable when neither the stage nor global sets it. */
function defaults(): { [K in KnownEnvVariable]-?: NonNullable<EnvVariables[K]> } {
  return {
    SCD_ON_DEMAND: false,
    SKIP_SCD: false,
    SCD_THREADS: 1,
    SCD_STRATEGY: 'quick',
    SCD_MATRIX: {},
    SCD_EXCLUDE_THEMES: '',
    WARM_UP_PAGES: ['/'],
    TTFB_TESTED_PAGES: [],
    CLEAN_STATIC_FILES: true,
    VERBOSE_COMMANDS: '',
    DEPLOY_FROM_GIT_OPTIONS: {},
  };
}

/** The effective value of a variable for a stage: the stage's own value, else global's, else the default. */
export function envVariable<K extends KnownEnvVariable>(
  config: EnvConfig,
  stage: 'build' | 'deploy' | 'post-deploy',
  name: K,
): NonNullable<EnvVariables[K]> {
  return config.stage[stage][name] ?? config.stage.global[name] ?? defaults()[name];
}
