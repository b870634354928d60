/**
 * What a test needs to act like a developer: a client of the engine started by the harness,
 * projects made from (variants of) the sample store, clones, commits and pushes made with the
 * real git command line, and pages fetched through the real router.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as crypto from 'node:crypto';
import { simpleGit, type SimpleGit } from 'simple-git';
import * as YAML from 'yaml';
import { SlipwayClient } from '../../src/client';
import { fetchFromRouter, pageTitle } from '../../src/router/fetch';
import { Layout, SAMPLE_STORE } from '../../src/home';
import type { ProjectInfo } from '../../src/domain/project';

export interface World {
  client: SlipwayClient;
  layout: Layout;
  address: string;
  routerPort: number;
}

let world: Promise<World> | undefined;

export function getWorld(): Promise<World> {
  world ??= (async () => {
    const home = process.env.SLIPWAY_TEST_HOME;
    const address = process.env.SLIPWAY_TEST_TEMPORAL_ADDRESS;
    const routerPort = Number(process.env.SLIPWAY_TEST_ROUTER_PORT);
    if (!home || !address || !routerPort) throw new Error('the test harness (test/harness/global) did not run');
    const layout = new Layout(home);
    const client = await SlipwayClient.connect({ layout, address });
    return { client, layout, address, routerPort };
  })();
  return world;
}

/** The process that runs the harness's worker, API and router (not the test's own in mocha's parallel mode). */
export function enginePid(): number {
  const pid = Number(process.env.SLIPWAY_TEST_ENGINE_PID);
  if (!Number.isInteger(pid) || pid <= 0) throw new Error('the test harness (test/harness/global) did not run');
  return pid;
}

export const uniqueName = (prefix: string): string => `${prefix}-${crypto.randomBytes(4).toString('hex')}`;

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `slipway-${prefix}-`));
}

/** A project in the layout of the public magento/magento-cloud template (test/fixtures/cloud-template). */
export const CLOUD_TEMPLATE = path.resolve(__dirname, '..', '..', '..', 'test', 'fixtures', 'cloud-template');

/**
 * The sample store as the orchestration tests deploy it: without its services (MariaDB,
 * Redis), their relationships and its cron. Every live environment would otherwise run its own
 * database and cache for the whole run; the runtime's tests use the store as it is
 * (`{ services: true }`).
 */
function withoutServices(dir: string): void {
  const appFile = path.join(dir, '.magento.app.yaml');
  fs.writeFileSync(appFile, sampleAppYaml());
  fs.writeFileSync(path.join(dir, '.magento', 'services.yaml'), '# No services in this variant of the sample store.\n');
}

/** The sample store's `.magento.app.yaml` as the orchestration tests deploy it: no relationships, no crons (see above). */
export function sampleAppYaml(): string {
  const doc = YAML.parseDocument(fs.readFileSync(path.join(SAMPLE_STORE, '.magento.app.yaml'), 'utf8'));
  doc.delete('relationships');
  doc.delete('crons');
  return doc.toString();
}

/**
 * A copy of the sample store (or of `base`) with some files replaced (path → content; null
 * removes). The sample store comes without services unless `services` is true (see above).
 */
export function sampleVariant(changes: Record<string, string | null> = {}, base = SAMPLE_STORE, options: { services?: boolean } = {}): string {
  const dir = tempDir('src');
  fs.cpSync(base, dir, { recursive: true });
  if (base === SAMPLE_STORE && !options.services) withoutServices(dir);
  for (const [file, content] of Object.entries(changes)) {
    const full = path.join(dir, file);
    if (content === null) fs.rmSync(full, { force: true });
    else {
      fs.mkdirSync(path.dirname(full), { recursive: true });
      fs.writeFileSync(full, content);
    }
  }
  return dir;
}

export async function createProject(
  prefix: string,
  changes: Record<string, string | null> = {},
  options: { productionApprovals?: 1 | 2; base?: string; services?: boolean } = {},
): Promise<ProjectInfo> {
  const w = await getWorld();
  const { base, services, ...rest } = options;
  return w.client.createProject({ project: uniqueName(prefix), from: sampleVariant(changes, base, { services: services ?? false }), ...rest });
}

/** An ordinary clone of one branch of the remote, as a developer makes it. */
export async function clone(remote: string, branch: string): Promise<{ dir: string; git: SimpleGit }> {
  const dir = tempDir('clone');
  await simpleGit().clone(remote, dir, ['--branch', branch, '--quiet']);
  const git = simpleGit(dir);
  await git.addConfig('user.name', 'Test Developer').addConfig('user.email', 'dev@example.invalid');
  return { dir, git };
}

/** Writes files, commits, and pushes with the git command line; returns the commit id. */
export async function commitAndPush(
  repo: { dir: string; git: SimpleGit },
  branch: string,
  files: Record<string, string>,
  message = 'change',
): Promise<string> {
  for (const [file, content] of Object.entries(files)) {
    const full = path.join(repo.dir, file);
    fs.mkdirSync(path.dirname(full), { recursive: true });
    fs.writeFileSync(full, content);
  }
  await repo.git.add(['--all']);
  await repo.git.commit(message);
  const commit = (await repo.git.revparse(['HEAD'])).trim();
  await repo.git.push('origin', branch);
  return commit;
}

export async function getPage(project: string, environment: string, urlPath = '/') {
  const w = await getWorld();
  const res = await fetchFromRouter(w.routerPort, `${environment}.${project}.localhost`, urlPath);
  return { ...res, title: pageTitle(res.body) };
}

/** Commits file changes (path → content; null deletes) without pushing; returns the commit id. */
export async function commitOnly(
  repo: { dir: string; git: SimpleGit },
  files: Record<string, string | null>,
  message = 'change',
): Promise<string> {
  for (const [file, content] of Object.entries(files)) {
    const full = path.join(repo.dir, file);
    if (content === null) fs.rmSync(full, { force: true, recursive: true });
    else {
      fs.mkdirSync(path.dirname(full), { recursive: true });
      fs.writeFileSync(full, content);
    }
  }
  await repo.git.add(['--all']);
  await repo.git.commit(message, undefined, { '--allow-empty': null });
  return (await repo.git.revparse(['HEAD'])).trim();
}

/** Pushes with the git command line; `ref` defaults to HEAD. */
export async function push(repo: { dir: string; git: SimpleGit }, branch: string, ref = 'HEAD'): Promise<void> {
  await repo.git.push('origin', `${ref}:refs/heads/${branch}`);
}

/** A project from the sample store, its first deployment done, and a clone of integration. */
export async function deployedProject(
  prefix: string,
  changes: Record<string, string | null> = {},
  options: { productionApprovals?: 1 | 2; services?: boolean } = {},
) {
  const w = await getWorld();
  const project = await createProject(prefix, changes, options);
  const first = await w.client.waitForDeployment(project.project, 'integration');
  if (first.status !== 'succeeded') throw new Error(`initial deployment failed: ${first.error}`);
  const repo = await clone(project.remote, 'integration');
  return { ...project, first, repo, client: w.client, layout: w.layout };
}
