/**
 * 6. Push to live: from `git push` returning to the router serving the new content, for a
 * build with no hook (the page is committed as is). A probe GETs the page every 5 ms from
 * the moment the push returns until the body carries the commit's marker.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { SAMPLE_STORE } from '../../src/home';
import { environmentHostname } from '../../src/domain/names';
import { probeUntil } from '../lib/probe';
import { appYamlWithHooks, cloneBranch, commit, createDeployedProject, deployedQuietly, nextDeployment, push, sampleVariant } from '../lib/projects';
import { figure } from '../lib/results';
import type { Scenario } from './scenario';

const page = (marker: string): string =>
  fs.readFileSync(path.join(SAMPLE_STORE, 'templates', 'index.html'), 'utf8').replaceAll('@HEADLINE@', marker).replaceAll('@TREE@', 'committed');

export const pushToLive: Scenario = {
  name: 'push-to-live',
  title: 'Push to live: git push returned → new content served (no build hook)',
  async run({ stack, runs, warmup, log }) {
    const { client } = stack;
    const project = 'bench-live';
    const env = 'integration';
    const from = sampleVariant({
      '.magento.app.yaml': appYamlWithHooks({ build: null }),
      'pub/index.html': page('first'),
      'pub/about.html': fs.readFileSync(path.join(SAMPLE_STORE, 'templates', 'about.html'), 'utf8'),
    });
    const { remote } = await createDeployedProject(client, project, from);
    const repo = await cloneBranch(remote, env);
    const latencies: number[] = [];
    for (let i = 0; i < warmup + runs; i++) {
      const marker = `live-${i}-${Date.now()}`;
      const c = await commit(repo, { 'pub/index.html': page(marker) });
      const n = await nextDeployment(client, project, env);
      const p = await push(repo);
      const hit = await probeUntil({
        port: stack.routerPort,
        host: environmentHostname(project, env),
        intervalMs: 5,
        marker,
        timeoutMs: 120_000,
        until: (s) => s.status === 200 && s.marked,
      });
      const ms = hit.doneMs - p.returnedMs;
      await deployedQuietly(client, project, env, n, c);
      log(`  push-to-live ${i < warmup ? 'warm-up' : `run ${i - warmup + 1}/${runs}`}: ${ms.toFixed(0)} ms (push itself ${(p.returnedMs - p.startedMs).toFixed(0)} ms)`);
      if (i >= warmup) latencies.push(ms);
    }
    return {
      figures: [
        figure('push-to-live', { id: 'push-to-live', label: 'git push returned → new content served', unit: 'ms', samples: latencies, goal: { max: 1000, on: 'value' } }),
      ],
      notes: ['The sample store without its build hook, the page committed in pub/; hotfix patch, static content (in the build), deploy hook and the other steps as in the sample store.'],
    };
  },
};
