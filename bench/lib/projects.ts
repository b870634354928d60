/**
 * Projects as a developer drives them: made from (variants of) the sample store, cloned, and
 * changed with commits pushed by the git command line to the remote, whose post-receive hook
 * tells the engine.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { SAMPLE_STORE } from '../../src/home';
import type { SlipwayClient } from '../../src/client';
import type { DeploymentRecord } from '../../src/domain/environment';
import { workflowIds } from '../../src/domain/names';
import { WorkflowNotFoundError } from '@temporalio/client';
import { parse as parseYaml, parseDocument } from 'yaml';
import { git } from './exec';

export interface Clone {
  dir: string;
  branch: string;
}

let scratch: string | undefined;

/** A new directory under this run's scratch directory (removed by `removeTempDirs`). */
export function tempDir(prefix: string): string {
  scratch ??= fs.mkdtempSync(path.join(os.tmpdir(), 'slipway-bench-scratch-'));
  return fs.mkdtempSync(path.join(scratch, `${prefix}-`));
}

export function removeTempDirs(): void {
  if (scratch && !process.env.SLIPWAY_BENCH_KEEP) fs.rmSync(scratch, { recursive: true, force: true });
  scratch = undefined;
}

/**
 * The sample store's .magento.app.yaml as the orchestration scenarios deploy it: without its
 * relationships and cron. Those scenarios measure the engine against a shell script doing the
 * same work, which runs no database; the runtime scenario deploys the store as it is.
 */
function sampleAppYaml(): string {
  const doc = parseDocument(fs.readFileSync(path.join(SAMPLE_STORE, '.magento.app.yaml'), 'utf8'));
  doc.delete('relationships');
  doc.delete('crons');
  return doc.toString();
}

/**
 * A copy of the sample store with some files replaced (path → content; null removes); without
 * its services unless `services` (see sampleAppYaml).
 */
export function sampleVariant(changes: Record<string, string | null> = {}, options: { services?: boolean } = {}): string {
  const dir = tempDir('src');
  fs.cpSync(SAMPLE_STORE, dir, { recursive: true });
  if (!options.services) {
    fs.writeFileSync(path.join(dir, '.magento.app.yaml'), sampleAppYaml());
    fs.writeFileSync(path.join(dir, '.magento', 'services.yaml'), '# No services in this variant of the sample store.\n');
  }
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

/** The sample store's .magento.app.yaml with its hooks replaced (undefined keeps one, null drops it). */
export function appYamlWithHooks(hooks: { build?: string | null; deploy?: string | null; postDeploy?: string | null }): string {
  const original = sampleAppYaml();
  const before = original.slice(0, original.indexOf('\nhooks:\n') + 1);
  const after = original.slice(original.indexOf('\nvariables:\n'));
  const current = extractHooks(original);
  const pick = (k: 'build' | 'deploy' | 'postDeploy'): string | undefined => (hooks[k] === null ? undefined : (hooks[k] ?? current[k]));
  const block = (name: string, script: string | undefined): string =>
    script === undefined ? '' : `  ${name}: |\n${script.replace(/\n$/, '').split('\n').map((l) => `    ${l}`).join('\n')}\n`;
  return `${before}hooks:\n${block('build', pick('build'))}${block('deploy', pick('deploy'))}${block('post_deploy', pick('postDeploy'))}${after}`;
}

/** The hook scripts of a .magento.app.yaml (the literal blocks under `hooks:`). */
export function extractHooks(appYaml: string): { build?: string; deploy?: string; postDeploy?: string } {
  const doc = parseYaml(appYaml) as { hooks?: { build?: string; deploy?: string; post_deploy?: string } };
  return { build: doc.hooks?.build, deploy: doc.hooks?.deploy, postDeploy: doc.hooks?.post_deploy };
}

export async function cloneBranch(remote: string, branch: string): Promise<Clone> {
  const dir = tempDir('clone');
  await git(dir, 'clone', '--quiet', '--branch', branch, remote, '.');
  await git(dir, 'config', 'user.name', 'Bench Developer');
  await git(dir, 'config', 'user.email', 'bench@example.invalid');
  return { dir, branch };
}

/** Writes files and commits them (an empty commit when `files` is empty); returns the commit id. */
export async function commit(repo: Clone, files: Record<string, string>, message = 'bench'): Promise<string> {
  for (const [file, content] of Object.entries(files)) {
    const full = path.join(repo.dir, file);
    fs.mkdirSync(path.dirname(full), { recursive: true });
    fs.writeFileSync(full, content);
  }
  await git(repo.dir, 'add', '--all');
  await git(repo.dir, 'commit', '--quiet', '--allow-empty', '-m', message);
  return (await git(repo.dir, 'rev-parse', 'HEAD')).stdout.trim();
}

/** `git push`; returns when it started and returned (performance.timeOrigin-based epoch ms). */
export async function push(repo: Clone, remote = 'origin'): Promise<{ startedMs: number; returnedMs: number }> {
  const startedMs = nowMs();
  await git(repo.dir, 'push', '--quiet', remote, `HEAD:refs/heads/${repo.branch}`);
  return { startedMs, returnedMs: nowMs() };
}

/** Epoch milliseconds with sub-millisecond resolution. */
export const nowMs = (): number => performance.timeOrigin + performance.now();

/** The number the environment's next deployment will get. */
export async function nextDeployment(client: SlipwayClient, project: string, environment: string): Promise<number> {
  const s = await client.environmentStatus(project, environment);
  return s.nextDeployment;
}

/**
 * Waits for deployment n through the server alone: polls until its workflow exists, then
 * awaits its result (a long poll). No query reaches the engine's worker while it deploys, as
 * with a developer who pushed and waits; then requires it to have succeeded, as deployed().
 */
export async function deployedQuietly(client: SlipwayClient, project: string, environment: string, n: number, commitId?: string): Promise<DeploymentRecord> {
  const handle = client.temporal.workflow.getHandle(workflowIds.deployment(project, environment, n));
  const deadline = Date.now() + 600_000;
  for (;;) {
    try {
      await handle.result();
      break;
    } catch (err) {
      if (!(err instanceof WorkflowNotFoundError) || Date.now() > deadline) break; // failed: the record says why
      await new Promise((r) => setTimeout(r, 10));
    }
  }
  return deployed(client, project, environment, n, commitId);
}

/** Waits for deployment n (or later) and requires it to have succeeded. */
export async function deployed(client: SlipwayClient, project: string, environment: string, n: number, commitId?: string): Promise<DeploymentRecord> {
  const d = await client.waitForDeployment(project, environment, { after: n - 1, commit: commitId, timeoutMs: 600_000 });
  if (d.status !== 'succeeded') throw new Error(`${project}/${environment} #${d.deployment} failed: ${d.error ?? ''}`);
  if (d.deployment !== n) throw new Error(`${project}/${environment}: expected deployment #${n}, got #${d.deployment} (pushes coalesced?)`);
  return d;
}

/** Creates a project from a directory and waits for its first deployment of integration. */
export async function createDeployedProject(client: SlipwayClient, project: string, from: string): Promise<{ remote: string }> {
  const info = await client.createProject({ project, from });
  const first = await client.waitForDeployment(project, 'integration', { timeoutMs: 600_000 });
  if (first.status !== 'succeeded') throw new Error(`${project}: the first deployment failed: ${first.error ?? ''}`);
  return { remote: info.remote };
}
