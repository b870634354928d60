/**
 * Drives bench/baseline/deploy.sh: the same deployment as Slipway's, as a plain shell script.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PACKAGE_ROOT } from '../../src/home';
import { hookEnvironment } from '../../src/domain/hook-env';
import { computeRelationships } from '../../src/domain/project-files/services';
import { run } from './exec';
import { scdJobFile, scdJobs, staticContentPlan } from './scd-jobs';
import { tempDir } from './projects';

export const BASELINE_DIR = path.join(PACKAGE_ROOT, 'bench', 'baseline');

export interface ShellDeployer {
  /** Deploys a commit of `remote` as release `release`; resolves with the script's duration in ms. */
  deploy(commit: string, release: string): Promise<number>;
  base: string;
}

/** Prepares hooks, their environment and the static content jobs from a checkout of the project. */
export function shellDeployer(options: { remote: string; appDir: string; project: string; environment: string }): ShellDeployer {
  const manifest = staticContentPlan(options.appDir);
  const base = tempDir('shell');
  const hooks = path.join(base, 'hooks');
  fs.mkdirSync(hooks, { recursive: true });
  for (const [file, script] of [
    ['build.sh', manifest.hooks.build],
    ['deploy.sh', manifest.hooks.deploy],
    ['post_deploy.sh', manifest.hooks.postDeploy],
  ] as const) {
    if (script.trim()) fs.writeFileSync(path.join(hooks, file), script);
  }
  const rel = computeRelationships(manifest.appRelationships, manifest.services, { project: options.project, environment: options.environment });
  const env = hookEnvironment({
    project: options.project,
    environment: options.environment,
    branch: options.environment,
    treeId: '',
    appDir: '',
    relationships: rel.ok ? rel.value : {},
    env: manifest.variables,
    extra: { SLIPWAY_DEPLOY_MODE: 'update' },
  });
  delete env.MAGENTO_CLOUD_TREE_ID;
  delete env.MAGENTO_CLOUD_APP_DIR;
  fs.writeFileSync(path.join(hooks, 'env'), Object.entries(env).map(([k, v]) => `${k}=${v}\0`).join(''));
  const scd = path.join(base, 'scd-jobs.tsv');
  const sc = manifest.staticContent;
  scdJobFile(sc.where === 'none' ? [] : scdJobs(options.appDir, sc.themes, sc.locales), scd);
  const mounts = Object.entries(manifest.mounts).map(([at, source]) => `${at}=${source}`);
  return {
    base,
    async deploy(commit, release) {
      const r = await run('bash', [path.join(BASELINE_DIR, 'deploy.sh'), options.remote, commit, base, release, hooks, scd, ...mounts]);
      return r.ms;
    },
  };
}
