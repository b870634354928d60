/**
 * The environment a hook runs with: built by the engine from the project's own files, in the
 * format Magento Cloud applications read (base64 JSON for structured values).
 */
export interface HookEnvInput {
  project: string;
  environment: string;
  branch: string;
  treeId: string;
  appDir: string;
  relationships?: Record<string, unknown>;
  routes?: Record<string, unknown>;
  variables?: Record<string, unknown>;
  /** `variables.env` of `.magento.app.yaml`: plain environment variables. */
  env?: Record<string, unknown>;
  extra?: Record<string, string>;
}

/** base64 of JSON, without Node's Buffer, so workflow code can build it too. */
export function base64Json(value: unknown): string {
  const bytes = new TextEncoder().encode(JSON.stringify(value));
  let bin = '';
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin);
}

export function hookEnvironment(i: HookEnvInput): Record<string, string> {
  const plain: Record<string, string> = {};
  for (const [k, v] of Object.entries(i.env ?? {})) {
    if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) plain[k] = typeof v === 'string' ? v : JSON.stringify(v);
  }
  return {
    ...plain,
    MAGENTO_CLOUD_PROJECT: i.project,
    MAGENTO_CLOUD_ENVIRONMENT: i.environment,
    MAGENTO_CLOUD_BRANCH: i.branch,
    MAGENTO_CLOUD_TREE_ID: i.treeId,
    MAGENTO_CLOUD_APP_DIR: i.appDir,
    MAGENTO_CLOUD_RELATIONSHIPS: base64Json(i.relationships ?? {}),
    MAGENTO_CLOUD_ROUTES: base64Json(i.routes ?? {}),
    MAGENTO_CLOUD_VARIABLES: base64Json(i.variables ?? {}),
    ...(i.extra ?? {}),
  };
}

/** Bumped whenever the engine changes what a build produces: part of every slug key. */
export const ENGINE_BUILD_VERSION = '2';
