/**
 * Build activities, on the engine's task queue: validation of the project files, hotfix
 * patches, the build hook, static content (when decided for the build) and the slug store.
 * The live site keeps serving the previous release throughout.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { formatIssue, type ConfigIssue } from '../domain/app-config';
import type { DeploymentKey, StepTiming } from '../domain/deployment';
import { ENGINE_BUILD_VERSION, hookEnvironment } from '../domain/hook-env';
import { buildVariablesDigest, phaseVariables } from '../variables/store';
import { PROJECT_FILES, planFromProjectFiles, type ProjectFileTexts, type SlugManifest } from '../domain/project-files';
import type { Layout } from '../home';
import { checkOutCommit, git, treeOfCommit } from './git';
import { Context } from '@temporalio/activity';
import { runHook, SANDBOX_APP_DIR, stopLeftoverHook } from './lib/hook-process';
import { deployStaticContent, findThemes, staticVersion, themeSelection } from '../magento/static-content';
import { StepLog, StepRun, errorMessage, stepFailure } from './lib/step-log';
import { pruneSlugStore, recordSlugUse } from './slug-store';
import { removeLeftoversOf } from './leftovers';
import { slugsKeptFrom } from '../domain/slug-pruning';
import { ApplicationFailure } from '@temporalio/common';
import { NOT_FOUND } from '../domain/failure-types';
import { linkIssue, linksOutOfTree, PATCH_DIR } from './lib/tree-check';
import { linkOutOfTree } from '../tree-links';
import { ensurePhpCli } from '../runtime/web-programs';

export interface BuildContext extends DeploymentKey {
  branch: string;
  treeId: string;
  workspace: string;
}

export { PATCH_DIR };

/** What the first build steps made: a slug to reuse, or a patched workspace to build. */
export interface PreparedBuild {
  treeId: string;
  slug: string;
  manifest: SlugManifest;
  /** The slug exists already (the tree, or the same key, was built before): nothing to build. */
  reused: boolean;
  /** The patched workspace, when there is something to build. */
  workspace?: string;
  steps: StepTiming[];
}

export const slugManifestFile = (layout: Layout, slug: string): string => `${layout.slug(slug)}.json`;

export function readSlugManifest(layout: Layout, slug: string): SlugManifest {
  return JSON.parse(fs.readFileSync(slugManifestFile(layout, slug), 'utf8')) as SlugManifest;
}

/** This activity is a retry: an earlier attempt failed or was lost with its worker. */
function retried(): boolean {
  try {
    return Context.current().info.attempt > 1;
  } catch {
    return false; // called outside an activity
  }
}

/** The workspace made again from the Git tree, as the checkout made it (no patches applied). */
async function restoreWorkspace(layout: Layout, input: BuildContext, log: StepLog, step: 'patches' | 'build-hook'): Promise<void> {
  log.line(step, `retried: the workspace is made again from tree ${input.treeId}`);
  fs.rmSync(input.workspace, { recursive: true, force: true });
  await git().clone(layout.remote(input.project), input.workspace, ['--shared', '--no-checkout']);
  await git(input.workspace).raw(['read-tree', input.treeId]);
  await git(input.workspace).raw(['checkout-index', '--all', '--force']);
}

async function applyPatchesIn(workspace: string, log: StepLog): Promise<string[]> {
  const dir = path.join(workspace, PATCH_DIR);
  const patches = fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith('.patch')).sort() : [];
  if (patches.length === 0) log.line('patches', 'no patches');
  const g = git(workspace);
  for (const p of patches) {
    const rel = `${PATCH_DIR}/${p}`;
    try {
      await g.raw(['apply', '--check', '--verbose', rel]);
    } catch (err) {
      const why = errorMessage(err).trim();
      log.line('patches', why);
      // git's reason (its "error:" line), not the "Checking patch …" that --verbose prints first.
      const reason = why.split('\n').find((l) => l.startsWith('error:')) ?? why.split('\n')[0];
      throw stepFailure({ step: 'patches', logTail: why, message: `patch ${rel} does not apply: ${reason}` });
    }
    await g.raw(['apply', '--verbose', rel]);
    log.line('patches', `applied ${rel}`);
  }
  // The workspace's own Git metadata is not part of the build output.
  fs.rmSync(path.join(workspace, '.git'), { recursive: true, force: true });
  return patches;
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/**
 * A project file's text; nothing when it is absent; an issue when it is no regular file of the
 * repository (a symbolic link may point anywhere on the build host), when a directory on its
 * way is a link out of the repository, or when it is not UTF-8.
 */
function readProjectFile(workspace: string, file: string): string | ConfigIssue | undefined {
  const dir = path.posix.dirname(file);
  const out = dir === '.' ? undefined : linkOutOfTree(workspace, dir);
  if (out) return linkIssue(out, `${file} cannot be read through it`);
  const full = path.join(workspace, file);
  const stat = fs.lstatSync(full, { throwIfNoEntry: false });
  if (!stat) return undefined;
  if (stat.isSymbolicLink()) return { file, path: '', reason: 'must be a file in the repository, not a symbolic link' };
  if (!stat.isFile()) return { file, path: '', reason: 'must be a file, not a directory' };
  const bytes = fs.readFileSync(full);
  try {
    return UTF8.decode(bytes);
  } catch {
    const bad = firstInvalidUtf8(bytes);
    return { file, path: '', reason: `is not UTF-8 text (invalid byte at offset ${bad}); save it as UTF-8` };
  }
}

/** The offset of the first byte that does not start a valid UTF-8 sequence. */
function firstInvalidUtf8(bytes: Buffer): number {
  for (let i = 0; i < bytes.length; ) {
    const c = bytes[i] ?? 0;
    const n = c < 0x80 ? 1 : c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
    if (n === 0 || i + n > bytes.length) return i;
    try {
      UTF8.decode(bytes.subarray(i, i + n)); // overlong forms and surrogates are refused here
    } catch {
      return i;
    }
    i += n;
  }
  return bytes.length;
}

/**
 * The slug of a Git tree, for this engine version: written when a slug is stored or found, so
 * that a push of a tree built before is deployed from its slug with no checkout at all. The
 * slug key is a function of the project, the tree (which holds every project file the manifest
 * is read from) and the engine version, so the tree names the slug.
 */
const slugIndexFile = (layout: Layout, project: string, treeId: string, buildVariables = ''): string =>
  path.join(layout.slugs(), 'by-tree', project, `${treeId}${buildVariables ? `-${buildVariables}` : ''}.json`);

function indexSlug(layout: Layout, project: string, treeId: string, slug: string, buildVariables = ''): void {
  const file = slugIndexFile(layout, project, treeId, buildVariables);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(`${file}.tmp-${process.pid}`, JSON.stringify({ slug, engine: ENGINE_BUILD_VERSION }));
  fs.renameSync(`${file}.tmp-${process.pid}`, file);
}

/** Reads and validates the five project files; every problem names file, key and reason. */
function validateIn(workspace: string, log: StepLog): SlugManifest {
  const texts: ProjectFileTexts = {};
  const unreadable: ConfigIssue[] = [];
  for (const file of PROJECT_FILES) {
    const read = readProjectFile(workspace, file);
    if (typeof read === 'string') texts[file] = read;
    else if (read) unreadable.push(read);
  }
  // A file that cannot be read as text is the only problem reported: the others would only say it is missing.
  let plan: ReturnType<typeof planFromProjectFiles> =
    unreadable.length > 0 ? { ok: false, issues: unreadable, warnings: [], notes: [] } : planFromProjectFiles(texts);
  if (plan.ok) {
    // Links committed where the engine would follow them out of the tree (web roots, mounts, themes, patches).
    const links = linksOutOfTree(workspace, plan.manifest);
    if (links.length > 0) plan = { ok: false, issues: links, warnings: plan.warnings, notes: plan.notes };
  }
  for (const w of plan.warnings) log.line('validate', `warning: ${formatIssue(w)}`);
  for (const n of plan.notes) log.line('validate', `info: ${formatIssue(n)}`);
  if (!plan.ok) {
    const lines = plan.issues.map(formatIssue);
    for (const l of lines) log.line('validate', `error: ${l}`);
    throw stepFailure({ step: 'validate', logTail: lines.join('\n'), message: `invalid project configuration: ${lines.join('; ')}` });
  }
  log.line('validate', `static content: ${plan.manifest.staticContent.reason}`);
  return plan.manifest;
}

/**
 * The slug key: the project, the Git tree (which holds the patches, the hooks and the config),
 * the build inputs from outside it and the engine's build version. Same key, same slug. A
 * build must not depend on the environment: its slug is promoted unchanged. Per project (no
 * build output crosses tenants); not per environment: promotion deploys the same slug to
 * staging and production.
 */
function slugKey(project: string, treeId: string, manifest: SlugManifest, buildVariables: string): string {
  return crypto
    .createHash('sha256')
    // Variables visible at build count by their digest (no value), and only when there are some: keys of builds without any are unchanged.
    .update(JSON.stringify({ project, tree: treeId, manifest, engine: ENGINE_BUILD_VERSION, ...(buildVariables ? { buildVariables } : {}) }))
    .digest('hex')
    .slice(0, 32);
}

const slugStored = (layout: Layout, slug: string): boolean => fs.existsSync(layout.slug(slug)) && fs.existsSync(slugManifestFile(layout, slug));

/** The slug a tree was built into before (by this engine version), if it is still stored. */
function slugOfTree(layout: Layout, project: string, treeId: string, buildVariables = ''): string | undefined {
  try {
    const entry = JSON.parse(fs.readFileSync(slugIndexFile(layout, project, treeId, buildVariables), 'utf8')) as { slug?: unknown; engine?: unknown };
    if (entry.engine === ENGINE_BUILD_VERSION && typeof entry.slug === 'string' && slugStored(layout, entry.slug)) return entry.slug;
  } catch {
    /* not built before */
  }
  return undefined;
}

/** The build hook's environment: the app file's variables, then those of the project and environments visible at build (opened for the sandbox only). */
function buildHookEnvironment(layout: Layout, input: BuildContext & { manifest: SlugManifest }): Record<string, string> {
  const own = phaseVariables(layout, input.project, input.environment, 'build');
  return hookEnvironment({
    project: input.project,
    environment: input.environment,
    branch: input.branch,
    treeId: input.treeId,
    appDir: SANDBOX_APP_DIR,
    variables: own.variables,
    env: { ...input.manifest.variables, ...own.env },
  });
}

/** hooks.build in the workspace; a retry first stops what a dead attempt left and builds again from the clean tree. */
async function buildHookIn(layout: Layout, input: BuildContext & { manifest: SlugManifest }, log: StepLog): Promise<void> {
  if (!input.manifest.hooks.build.trim()) {
    log.line('build-hook', 'no build hook');
    return;
  }
  if (retried()) {
    // The attempt that died may have left its hook running and the tree half-built.
    stopLeftoverHook({ name: layout.hookSandboxName(input, 'build-hook'), log, step: 'build-hook' });
    await restoreWorkspace(layout, input, log, 'build-hook');
    await applyPatchesIn(input.workspace, log);
  }
  // A PHP application's hook finds `php` (installed on first use where Slipway may).
  await ensurePhpCli(input.manifest.appType, (l) => log.line('build-hook', l));
  await runHook({
    layout,
    project: input.project,
    environment: input.environment,
    step: 'build-hook',
    kind: 'build',
    name: layout.hookSandboxName(input, 'build-hook'),
    script: input.manifest.hooks.build,
    app: { dir: input.workspace, writable: true },
    log,
    env: buildHookEnvironment(layout, input),
  });
}

/** Static content deployed in the build: it becomes part of the slug. */
async function staticContentIn(input: BuildContext & { manifest: SlugManifest }, log: StepLog): Promise<void> {
  const scd = input.manifest.staticContent;
  if (scd.themes.length === 0 && (await findThemes(input.workspace)).size === 0) {
    log.line('static-content-build', 'no theme in app/design or registered under vendor/: nothing to deploy');
    return;
  }
  const r = await deployStaticContent({
    appDir: input.workspace,
    ...themeSelection(scd, 'build'),
    threads: scd.buildThreads,
    version: staticVersion(),
    log: (l) => log.line('static-content-build', l),
  }).catch((err: unknown) => {
    throw stepFailure({ step: 'static-content-build', logTail: errorMessage(err), message: errorMessage(err) });
  });
  log.line('static-content-build', `${r.files} files for ${r.jobs} theme/locale pairs, version ${r.version}`);
}

/** Stores the built workspace as an immutable slug: written aside, then renamed in. Safe to retry. */
function storeSlugIn(layout: Layout, input: BuildContext & { slug: string; manifest: SlugManifest }, log: StepLog): void {
  const target = layout.slug(input.slug);
  fs.mkdirSync(layout.slugs(), { recursive: true });
  // Recorded before the slug appears: pruning never takes a slug that is being stored.
  recordSlugUse(layout, input, input.slug);
  const manifestFile = slugManifestFile(layout, input.slug);
  fs.writeFileSync(`${manifestFile}.tmp-${process.pid}`, JSON.stringify(input.manifest, null, 2));
  fs.renameSync(`${manifestFile}.tmp-${process.pid}`, manifestFile);
  if (fs.existsSync(target)) {
    log.line('store-slug', 'already stored');
  } else {
    // Named by the deployment alone, so that a retry finds what a dead attempt moved aside.
    const tmp = `${target}.tmp-${input.number}`;
    if (fs.existsSync(input.workspace)) {
      fs.rmSync(tmp, { recursive: true, force: true });
      fs.renameSync(input.workspace, tmp);
    }
    fs.renameSync(tmp, target);
  }
  fs.rmSync(input.workspace, { recursive: true, force: true });
  indexSlug(layout, input.project, input.treeId, input.slug, buildVariablesDigest(layout, input.project, input.environment));
}

/**
 * After a new slug is stored (the only time the store grows): the slugs that no release
 * references, past the newest N of each environment (SLIPWAY_SLUGS_KEPT, default 5), are
 * removed. A failure here is logged and fails nothing.
 */
async function pruneSlugsAfterStore(layout: Layout, log: StepLog): Promise<void> {
  const { n, warning } = slugsKeptFrom(process.env.SLIPWAY_SLUGS_KEPT);
  if (warning) log.line('store-slug', `warning: ${warning}`);
  try {
    const r = await pruneSlugStore(layout, n);
    if (r.pruned.length > 0) {
      log.line('store-slug', `slugs pruned (no release references them, none among the newest ${n} of an environment): ${r.pruned.join(', ')}`);
    }
    log.line('store-slug', `slug store: ${r.kept} slug(s) kept${r.cleaned > 0 ? `, ${r.cleaned} index entries, records and leftovers removed` : ''}`);
  } catch (err) {
    log.line('store-slug', `warning: slugs not pruned: ${errorMessage(err)}`);
  }
}

export function createBuildActivities(layout: Layout) {
  return {
    /** The manifest of a stored slug: what a redeploy, a rollback or a promotion needs, with no build. */
    loadSlugManifest(input: Partial<DeploymentKey> & { slug: string }): Promise<SlugManifest> {
      // Recorded first: the slug is then among the environment's newest, and pruning leaves it.
      if (input.project && input.environment && input.number !== undefined) {
        recordSlugUse(layout, { project: input.project, environment: input.environment, number: input.number }, input.slug);
      }
      if (!slugStored(layout, input.slug)) {
        throw ApplicationFailure.nonRetryable(
          `slug ${input.slug} is no longer stored: slugs that no release references are pruned past the newest of each environment; push or redeploy a commit instead (it is built again)`,
          NOT_FOUND,
        );
      }
      return Promise.resolve(readSlugManifest(layout, input.slug));
    },

    /**
     * The first build steps in one hand-over: checkout (unless the pushed tree was built
     * before: then its slug, and nothing checked out), validate, the slug lookup (an existing
     * slug: the workspace is discarded) and the patches. A retry checks the tree out afresh,
     * so the patches apply to a clean tree.
     */
    async prepareBuild(input: DeploymentKey & { commit: string; branch: string }): Promise<PreparedBuild> {
      /** A stored slug about to be reused: recorded as used, then checked again (pruning may have just taken it). */
      const reuse = (slug: string | undefined): string | undefined => {
        if (slug === undefined) return undefined;
        recordSlugUse(layout, input, slug);
        return slugStored(layout, slug) ? slug : undefined;
      };
      const run = new StepRun(layout, input);
      try {
        const removed = await removeLeftoversOf(layout, input);
        if (removed.length > 0) run.log.line('checkout', `left by earlier deployments, removed: ${removed.join('; ')}`);
      } catch (err) {
        run.log.line('checkout', `warning: leftovers of earlier deployments not removed: ${errorMessage(err)}`);
      }
      const treeId = await treeOfCommit(layout, input.project, input.commit);
      const buildVariables = buildVariablesDigest(layout, input.project, input.environment);
      if (buildVariables) run.log.line('checkout', `variables visible at build: digest ${buildVariables} (part of the slug key)`);
      const built = reuse(slugOfTree(layout, input.project, treeId, buildVariables));
      if (built !== undefined) {
        run.log.line('store-slug', `tree ${treeId} was built before: slug ${built} reused, no checkout, build steps skipped`);
        run.skip('checkout', `tree ${treeId} was built before`);
        return { treeId, slug: built, manifest: readSlugManifest(layout, built), reused: true, steps: run.timings };
      }
      const { workspace } = await run.step('checkout', `commit ${input.commit.slice(0, 12)} into a clean workspace`, (log) =>
        checkOutCommit(layout, input, log, treeId),
      );
      const manifest = await run.step('validate', PROJECT_FILES.join(', '), (log) => Promise.resolve(validateIn(workspace, log)));
      const slug = slugKey(input.project, treeId, manifest, buildVariables);
      if (reuse(slugStored(layout, slug) ? slug : undefined) !== undefined) {
        indexSlug(layout, input.project, treeId, slug, buildVariables);
        run.log.line('store-slug', `slug ${slug} exists: reusing it, build steps skipped`);
        fs.rmSync(path.resolve(workspace), { recursive: true, force: true });
        return { treeId, slug, manifest, reused: true, steps: run.timings };
      }
      run.log.line('store-slug', `slug ${slug} not built yet`);
      await run.step('patches', `${PATCH_DIR}/*.patch`, (log) => applyPatchesIn(workspace, log));
      return { treeId, slug, manifest, reused: false, workspace, steps: run.timings };
    },

    /**
     * The rest of the build in one activity, as ece-tools runs its build scenario: the build
     * hook, static content (when decided for the build) and the slug store. A retry builds
     * again from the clean tree and finds the slug stored or not.
     */
    async buildSlug(input: BuildContext & { manifest: SlugManifest; slug: string }): Promise<{ steps: StepTiming[] }> {
      const run = new StepRun(layout, input);
      await run.step('build-hook', 'hooks.build', (log) => buildHookIn(layout, input, log));
      const scd = input.manifest.staticContent;
      if (scd.where === 'build') {
        await run.step('static-content-build', `${scd.locales.join(', ')} with ${scd.buildThreads} thread(s)`, (log) => staticContentIn(input, log));
      } else run.skip('static-content-build', scd.reason);
      await run.step('store-slug', `slug ${input.slug}`, async (log) => {
        storeSlugIn(layout, input, log);
        await pruneSlugsAfterStore(layout, log);
      });
      return { steps: run.timings };
    },
  };
}
