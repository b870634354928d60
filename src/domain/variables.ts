/**
 * Project and environment variables, as `magento-cloud variable:*` has them: a name, a value,
 * whether it is sensitive, whether children inherit it, and whether the build or the runtime
 * sees it. Names starting with `env:` become process environment variables (without the
 * prefix); the others go into MAGENTO_CLOUD_VARIABLES (base64 JSON).
 *
 * Layers, lowest first: `.magento.app.yaml` `variables`, the project's variables, each
 * ancestor environment's inheritable variables from the root down, the environment's own.
 * Pure rules: shared by the store (src/variables/store.ts), the client and the activities.
 */

export interface VariableFlags {
  sensitive: boolean;
  /** Children of the environment inherit it (environment level only). */
  inherit: boolean;
  /** Visible to the build hook (then part of the slug key). */
  build: boolean;
  /** Visible to the deploy and post-deploy hooks, crons, the application and SSH sessions. */
  runtime: boolean;
}

/** A variable as stored: a sensitive one's value sealed (encrypted), never in plain text. */
export interface StoredVariable extends VariableFlags {
  name: string;
  value?: string;
  sealed?: string;
  updatedAt: string;
  updatedBy: string;
}

/** A variable as shown: a sensitive value never is. */
export interface VariableView extends VariableFlags {
  name: string;
  /** The value, or "(sensitive)". */
  value: string;
  /** Where it is set: "project" or the environment's name. */
  level: string;
  /** For an environment's list: set here, inherited from an ancestor or the project. */
  inheritedFrom?: string;
  updatedAt: string;
  updatedBy: string;
}

export const SENSITIVE_SHOWN = '(sensitive)';
export const MAX_VARIABLE_VALUE_BYTES = 64 * 1024;

/** Process variables the engine sets or the sandbox needs: never a tenant's. */
const ENGINE_ENV = /^(MAGENTO_CLOUD_.*|PORT|SOCKET|PATH|HOME|USER|LOGNAME|SHELL|PWD|LD_.*)$/;

/** Why a name is refused, or undefined. */
export function variableNameProblem(name: string): string | undefined {
  if (typeof name !== 'string' || name.length === 0) return 'a variable needs a name';
  if (name.length > 128) return `the name is ${name.length} characters long; at most 128`;
  if (name.startsWith('env:')) {
    const env = name.slice(4);
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(env)) return `"${name}": after "env:" comes a process variable's name (letters, digits and _, not starting with a digit)`;
    if (ENGINE_ENV.test(env)) return `"${name}": ${env} is set by Slipway itself and cannot be a variable`;
    return undefined;
  }
  if (!/^[A-Za-z0-9_][A-Za-z0-9_.:/-]*$/.test(name)) return `"${name}": a name is letters, digits and _ . : / - (starting with a letter, digit or _)`;
  return undefined;
}

export function variableValueProblem(value: string): string | undefined {
  if (typeof value !== 'string') return 'the value must be text';
  if (new TextEncoder().encode(value).length > MAX_VARIABLE_VALUE_BYTES) return `the value is larger than ${MAX_VARIABLE_VALUE_BYTES / 1024} KiB`;
  if (value.includes('\0')) return 'the value may not contain a NUL character';
  return undefined;
}

/** The layers of one environment, lowest first (the app file's are added by the caller). */
export interface VariableLayers {
  project: Record<string, StoredVariable>;
  /** Ancestors from the root down, then the environment itself last. */
  environments: Array<{ environment: string; variables: Record<string, StoredVariable> }>;
}

/** Which variable applies for each name, and where it comes from. */
export function effectiveVariables(layers: VariableLayers): Array<{ variable: StoredVariable; level: string }> {
  const out = new Map<string, { variable: StoredVariable; level: string }>();
  for (const v of Object.values(layers.project)) out.set(v.name, { variable: v, level: 'project' });
  const own = layers.environments.length - 1;
  layers.environments.forEach(({ environment, variables }, i) => {
    for (const v of Object.values(variables)) {
      // An ancestor's variable reaches its descendants only if it is inherited.
      if (i < own && !v.inherit) continue;
      out.set(v.name, { variable: v, level: environment });
    }
  });
  return [...out.values()].sort((a, b) => a.variable.name.localeCompare(b.variable.name));
}

export function viewOf(v: StoredVariable, level: string, forEnvironment?: string): VariableView {
  return {
    name: v.name,
    value: v.sensitive ? SENSITIVE_SHOWN : (v.value ?? ''),
    level,
    ...(forEnvironment !== undefined && level !== forEnvironment ? { inheritedFrom: level } : {}),
    sensitive: v.sensitive,
    inherit: v.inherit,
    build: v.build,
    runtime: v.runtime,
    updatedAt: v.updatedAt,
    updatedBy: v.updatedBy,
  };
}

/** What a phase sees, values in plain text (for the sandbox only): process variables and MAGENTO_CLOUD_VARIABLES. */
export interface PhaseVariables {
  env: Record<string, string>;
  variables: Record<string, string>;
}

/** Linux's limit on one process variable: "NAME=value" and its NUL (MAX_ARG_STRLEN, 128 KiB). */
export const PROCESS_VARIABLE_MAX_BYTES = 128 * 1024;

/**
 * Why what a phase sees cannot be handed to a process, or undefined: MAGENTO_CLOUD_VARIABLES
 * (base64 JSON of every variable not named env:) is one process variable, so all of them
 * together must fit Linux's limit on one (each value alone is at most 64 KiB).
 */
export function magentoCloudVariablesProblem(values: Array<{ name: string; value: string }>): string | undefined {
  const { variables } = splitByKind(values);
  const json = new TextEncoder().encode(JSON.stringify(variables)).length;
  const bytes = 'MAGENTO_CLOUD_VARIABLES='.length + 4 * Math.ceil(json / 3) + 1;
  if (bytes <= PROCESS_VARIABLE_MAX_BYTES) return undefined;
  const largest = Object.entries(variables)
    .map(([name, value]) => ({ name, size: new TextEncoder().encode(value).length }))
    .sort((a, b) => b.size - a.size || a.name.localeCompare(b.name))
    .slice(0, 3)
    .map((v) => `${v.name} (${(v.size / 1024).toFixed(1)} KiB)`);
  return (
    `MAGENTO_CLOUD_VARIABLES would be ${(bytes / 1024).toFixed(1)} KiB, more than the ${PROCESS_VARIABLE_MAX_BYTES / 1024} KiB Linux allows one process variable ` +
    `(the largest: ${largest.join(', ')}); make values smaller, or name large ones env:<NAME> (each its own process variable)`
  );
}

export function splitByKind(values: Array<{ name: string; value: string }>): PhaseVariables {
  const env: Record<string, string> = {};
  const variables: Record<string, string> = {};
  for (const { name, value } of values) {
    if (name.startsWith('env:')) env[name.slice(4)] = value;
    else variables[name] = value;
  }
  return { env, variables };
}
