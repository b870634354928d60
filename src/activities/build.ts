/**
 * Build activities: validation of the project files, the build hook, and the slug store.
 * They run on the engine's task queue; the live site keeps serving the previous release.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { formatIssue, webRootOf } from '../domain/app-config';
import type { DeploymentKey } from '../domain/deployment';
import { ENGINE_BUILD_VERSION, hookEnvironment } from '../domain/hook-env';
import type { Layout } from '../home';
import { runHook } from './lib/hook-process';
import { readAppConfig } from './lib/project-files';
import { StepLog, stepFailure } from './lib/step-log';

/** What the rest of the deployment needs to know from the project files. */
export interface BuildPlan {
  appName: string;
  webRoot: string;
  buildHook: string;
  deployHook: string;
  env: Record<string, unknown>;
}

export interface BuildContext extends DeploymentKey {
  branch: string;
  treeId: string;
  workspace: string;
}

export function createBuildActivities(layout: Layout) {
  return {
    async validateProject(input: BuildContext): Promise<BuildPlan> {
      const log = new StepLog(layout, input);
      return log.step('validate', 'project files', () => {
        const app = readAppConfig(input.workspace);
        if (!app.ok) {
          const lines = app.issues.map(formatIssue);
          for (const l of lines) log.line('validate', l);
          throw stepFailure({
            step: 'validate',
            logTail: lines.join('\n'),
            message: `invalid project configuration: ${lines.join('; ')}`,
          });
        }
        const c = app.value;
        return Promise.resolve({
          appName: c.name,
          webRoot: webRootOf(c),
          buildHook: c.hooks?.build ?? '',
          deployHook: c.hooks?.deploy ?? '',
          env: c.variables?.env ?? {},
        });
      });
    },

    /**
     * The slug key: everything that changes the build output. Same key, same slug: the build is
     * skipped and the stored slug reused.
     */
    lookupSlug(input: BuildContext & { plan: BuildPlan }): Promise<{ slug: string; exists: boolean }> {
      const slug = crypto
        .createHash('sha256')
        .update(
          JSON.stringify({
            tree: input.treeId,
            buildHook: input.plan.buildHook,
            env: input.plan.env,
            engine: ENGINE_BUILD_VERSION,
          }),
        )
        .digest('hex')
        .slice(0, 32);
      const exists = fs.existsSync(layout.slug(slug));
      new StepLog(layout, input).line(
        'store-slug',
        exists ? `slug ${slug} exists: reusing it, build steps skipped` : `slug ${slug} not built yet`,
      );
      return Promise.resolve({ slug, exists });
    },

    async runBuildHook(input: BuildContext & { plan: BuildPlan }): Promise<void> {
      const log = new StepLog(layout, input);
      await log.step('build-hook', 'hooks.build', async () => {
        if (!input.plan.buildHook.trim()) {
          log.line('build-hook', 'no build hook');
          return;
        }
        await runHook({
          step: 'build-hook',
          script: input.plan.buildHook,
          cwd: input.workspace,
          log,
          env: hookEnvironment({
            project: input.project,
            environment: input.environment,
            branch: input.branch,
            treeId: input.treeId,
            appDir: input.workspace,
            env: input.plan.env,
          }),
        });
      });
    },

    /** Stores the built workspace as an immutable slug (written aside, then renamed in). */
    async storeSlug(input: BuildContext & { slug: string }): Promise<void> {
      const log = new StepLog(layout, input);
      await log.step('store-slug', `slug ${input.slug}`, () => {
        const target = layout.slug(input.slug);
        if (fs.existsSync(target)) {
          log.line('store-slug', 'already stored');
        } else {
          fs.mkdirSync(layout.slugs(), { recursive: true });
          const tmp = `${target}.tmp-${input.number}-${process.pid}`;
          fs.rmSync(tmp, { recursive: true, force: true });
          fs.cpSync(input.workspace, tmp, { recursive: true, verbatimSymlinks: true });
          fs.renameSync(tmp, target);
        }
        fs.rmSync(input.workspace, { recursive: true, force: true });
        return Promise.resolve();
      });
    },

    /** Removes a build workspace that will not be stored (slug reused or build failed). */
    async discardWorkspace(input: BuildContext): Promise<void> {
      fs.rmSync(path.resolve(input.workspace), { recursive: true, force: true });
      return Promise.resolve();
    },
  };
}
