/**
 * Release activities: run on the task queue of the host that serves the environment.
 * A release is a directory staged from a slug; the environment's `current` symlink points at
 * the one being served and is switched atomically with rename(2).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';
import type { DeploymentKey } from '../domain/deployment';
import { releaseName } from '../domain/deployment';
import type { Layout } from '../home';
import { StepLog } from './lib/step-log';

/** Written beside each release directory: what the router needs to serve it. */
export const releaseInfoSchema = z.object({
  release: z.string(),
  deployment: z.number(),
  commit: z.string(),
  slug: z.string(),
  webRoot: z.string(),
  stagedAt: z.string(),
});
export type ReleaseInfo = z.infer<typeof releaseInfoSchema>;

export const releaseInfoFile = (releasesDir: string, release: string): string =>
  path.join(releasesDir, `${release}.json`);

export interface StageInput extends DeploymentKey {
  commit: string;
  slug: string;
  webRoot: string;
}

export function createReleaseActivities(layout: Layout) {
  return {
    /** Copies the slug into a new release directory. Idempotent per deployment. */
    async stageRelease(input: StageInput): Promise<{ release: string }> {
      const log = new StepLog(layout, input);
      const release = releaseName(input.number);
      return log.step('stage-release', `release ${release} from slug ${input.slug}`, () => {
        const releases = layout.releases(input.project, input.environment);
        const dir = layout.release(input.project, input.environment, release);
        const infoFile = releaseInfoFile(releases, release);
        if (!fs.existsSync(infoFile)) {
          fs.mkdirSync(releases, { recursive: true });
          const tmp = `${dir}.tmp`;
          fs.rmSync(tmp, { recursive: true, force: true });
          fs.rmSync(dir, { recursive: true, force: true });
          fs.cpSync(layout.slug(input.slug), tmp, {
            recursive: true,
            verbatimSymlinks: true,
            mode: fs.constants.COPYFILE_FICLONE,
          });
          fs.renameSync(tmp, dir);
          const info: ReleaseInfo = {
            release,
            deployment: input.number,
            commit: input.commit,
            slug: input.slug,
            webRoot: input.webRoot,
            stagedAt: new Date().toISOString(),
          };
          fs.writeFileSync(`${infoFile}.tmp`, JSON.stringify(info, null, 2));
          fs.renameSync(`${infoFile}.tmp`, infoFile);
        }
        return Promise.resolve({ release });
      });
    },

    /**
     * Points the environment's `current` at a release: a new symlink is made aside and renamed
     * over the old one, so a reader sees the old release or the new one, never nothing.
     */
    async switchRelease(input: DeploymentKey & { release: string }): Promise<{ previous?: string }> {
      const log = new StepLog(layout, input);
      return log.step('switch-release', `current -> ${input.release}`, () => {
        const current = layout.current(input.project, input.environment);
        let previous: string | undefined;
        try {
          previous = path.basename(fs.readlinkSync(current));
        } catch {
          previous = undefined;
        }
        const tmp = `${current}.tmp-${input.number}`;
        fs.rmSync(tmp, { force: true });
        fs.symlinkSync(path.join('releases', input.release), tmp);
        fs.renameSync(tmp, current);
        log.line('switch-release', previous ? `was ${previous}` : 'first release of this environment');
        return Promise.resolve(previous === input.release ? {} : { previous });
      });
    },
  };
}
