/**
 * Names of things in the product, and the workflow ids built from them.
 * Pure: shared by workflow code and the Node side.
 */

/** The four branches every project is created with. */
export const MAIN_BRANCHES = ['master', 'integration', 'staging', 'production'] as const;
export type MainBranch = (typeof MAIN_BRANCHES)[number];

export type EnvironmentType = 'global-master' | 'integration' | 'integration-child' | 'staging' | 'production';

export function environmentTypeOf(branch: string): EnvironmentType {
  switch (branch) {
    case 'master':
      return 'global-master';
    case 'integration':
      return 'integration';
    case 'staging':
      return 'staging';
    case 'production':
      return 'production';
    default:
      return 'integration-child';
  }
}

export const workflowIds = {
  project: (project: string): string => `project/${project}`,
  environment: (project: string, environment: string): string => `env/${project}/${environment}`,
  deployment: (project: string, environment: string, n: number): string => `deploy/${project}/${environment}/${n}`,
  ticket: (project: string, n: number): string => `ticket/${project}/SUP-${n}`,
  hostSupervisor: (host: string): string => `host/${host}/supervisor`,
};

/** Task queue of the engine: workflows and build activities. */
export const ENGINE_TASK_QUEUE = 'slipway-engine';
/** Task queue of one host: the deploy activities of the environments that host serves. */
export const hostTaskQueue = (host: string): string => `slipway-host-${host}`;
export const DEFAULT_HOST = 'local';

/** The host name under which the router serves an environment. */
export const environmentHostname = (project: string, environment: string): string =>
  `${environment}.${project}.localhost`;
