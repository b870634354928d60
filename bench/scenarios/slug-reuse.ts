/**
 * 2. Slug reuse: the build phase of a commit whose tree was built before (an empty commit:
 * the slug exists, build steps skipped) against a cold build of a new tree, with a build hook
 * that takes about 3 s. The build phase is the deployment workflow's start to the scheduling
 * of its first deploy step (stage-release), from the workflow's history.
 */
import { deploymentTimeline, type DeploymentTimeline } from '../lib/history';
import { appYamlWithHooks, cloneBranch, commit, createDeployedProject, deployedQuietly, extractHooks, nextDeployment, push, sampleVariant } from '../lib/projects';
import { figure } from '../lib/results';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { SAMPLE_STORE } from '../../src/home';
import type { Scenario } from './scenario';

function buildPhaseMs(t: DeploymentTimeline): number {
  const stage = t.activities.find((a) => a.type === 'stageRelease');
  if (!stage) throw new Error(`${t.workflowId}: no stageRelease activity`);
  return stage.scheduledMs - t.startedMs;
}

export const slugReuse: Scenario = {
  name: 'slug-reuse',
  title: 'Slug reuse: build phase of an unchanged tree vs a cold build (3 s build hook)',
  async run({ stack, runs, warmup, log }) {
    const { client } = stack;
    const project = 'bench-slug';
    const env = 'integration';
    const sampleBuild = extractHooks(fs.readFileSync(path.join(SAMPLE_STORE, '.magento.app.yaml'), 'utf8')).build ?? '';
    const from = sampleVariant({ '.magento.app.yaml': appYamlWithHooks({ build: `sleep 3\n${sampleBuild}` }) });
    const { remote } = await createDeployedProject(client, project, from);
    const repo = await cloneBranch(remote, env);
    const deploy = async (files: Record<string, string>): Promise<{ ms: number; reused: boolean }> => {
      const c = await commit(repo, files);
      const n = await nextDeployment(client, project, env);
      await push(repo);
      const d = await deployedQuietly(client, project, env, n, c);
      return { ms: buildPhaseMs(await deploymentTimeline(client.temporal, project, env, n)), reused: d.slugReused === true };
    };
    const cold: number[] = [];
    const warm: number[] = [];
    for (let i = 0; i < warmup + runs; i++) {
      const c = await deploy({ 'content/headline.txt': `Cold build ${i} ${Date.now()}\n` });
      const w = await deploy({}); // an empty commit: same tree, same slug key
      if (c.reused || !w.reused) throw new Error(`slug reuse: expected a cold build then a reused slug, got ${c.reused}/${w.reused}`);
      log(`  slug-reuse ${i < warmup ? 'warm-up' : `run ${i - warmup + 1}/${runs}`}: cold build phase ${c.ms.toFixed(0)} ms, unchanged tree ${w.ms.toFixed(0)} ms`);
      if (i < warmup) continue;
      cold.push(c.ms);
      warm.push(w.ms);
    }
    return {
      figures: [
        figure('slug-reuse', {
          id: 'build-phase-reused',
          label: 'build phase, unchanged tree (slug reused)',
          unit: 'ms',
          samples: warm,
          baseline: { label: 'cold build, build hook ≈ 3 s', samples: cold },
          goal: { max: 0.05, on: 'ratio' },
        }),
      ],
      notes: [
        'Build phase: the deployment workflow started (history event time) → stage-release started (a local activity: its start as the worker logs it). Unchanged tree: an empty commit pushed after the cold build; its tree\'s slug is found before any checkout (one local activity), and every build step is skipped.',
      ],
    };
  },
};
