/**
 * 5. Scale: 1, 10 and 50 environments (across 10 projects: integration plus up to four
 * children each, the `pro` plan's limit) pushed to at the same moment. Per count: throughput
 * (deployments / (last closed − first push)), p50 and p95 latency (push → the deployment
 * workflow closed), the worker process's peak RSS, and history events per deployment.
 */
import { workflowIds } from '../../src/domain/names';
import { deploymentTimeline, describeTimeline, eventsSince, historyLength } from '../lib/history';
import { cloneBranch, commit, createDeployedProject, deployed, nextDeployment, nowMs, push, sampleVariant, type Clone } from '../lib/projects';
import { figure, type Figure } from '../lib/results';
import { watchRss } from '../lib/rss';
import { median, percentile } from '../lib/stats';
import type { Scenario } from './scenario';

const PROJECTS = 10;
const PER_PROJECT = 5;

interface Target {
  project: string;
  env: string;
  repo: Clone;
}

export const scale: Scenario = {
  name: 'scale',
  title: 'Scale: 1, 10 and 50 environments (10 projects) deploying at once',
  async run({ stack, scale: counts, scaleRuns: runs, log }) {
    // The set-up deploys every environment once: that is the warm-up.
    const warmup = 0;
    const { client } = stack;
    const max = Math.max(...counts);
    if (max > PROJECTS * PER_PROJECT) throw new Error(`scale: at most ${PROJECTS * PER_PROJECT} environments (${PROJECTS} projects × ${PER_PROJECT})`);
    const projects = Array.from({ length: Math.min(PROJECTS, max) }, (_, i) => `bench-scale-${i}`);
    const perProject = Math.ceil(max / projects.length);
    // Set-up (not measured): the projects, then their child environments, all deployed once.
    const t0 = Date.now();
    const orchestrationStore = sampleVariant();
    const remotes = await Promise.all(projects.map((p) => createDeployedProject(client, p, orchestrationStore)));
    const envNames = Array.from({ length: perProject }, (_, j) => (j === 0 ? 'integration' : `env-${j}`));
    await Promise.all(
      projects.map(async (p) => {
        for (const name of envNames.slice(1)) await client.branch(p, { name });
        for (const name of envNames.slice(1)) {
          const d = await client.waitForDeployment(p, name, { timeoutMs: 600_000 });
          if (d.status !== 'succeeded') throw new Error(`${p}/${name}: first deployment failed: ${d.error ?? ''}`);
        }
      }),
    );
    // Environment k: the (k / projects)-th environment of project k % projects.
    const targets: Target[] = [];
    for (let k = 0; k < max; k++) {
      const i = k % projects.length;
      const env = envNames[Math.floor(k / projects.length)]!;
      targets.push({ project: projects[i]!, env, repo: await cloneBranch(remotes[i]!.remote, env) });
    }
    log(`  scale: ${projects.length} projects, ${max} environments ready in ${((Date.now() - t0) / 1000).toFixed(0)} s`);

    const figures: Figure[] = [];
    for (const count of [...counts].sort((a, b) => a - b)) {
      const set = targets.slice(0, count);
      const latencies: number[] = [];
      const throughputs: number[] = [];
      const peaks: number[] = [];
      const events: number[] = [];
      const eventsAll: number[] = [];
      for (let r = 0; r < warmup + runs; r++) {
        const commits = await Promise.all(set.map((t) => commit(t.repo, { 'content/headline.txt': `Scale ${count} run ${r} ${Date.now()}\n` })));
        const numbers = await Promise.all(set.map((t) => nextDeployment(client, t.project, t.env)));
        const entityIds = [...new Set(set.flatMap((t) => [workflowIds.project(t.project), workflowIds.environment(t.project, t.env)]))];
        const before = await Promise.all(entityIds.map((id) => historyLength(client.temporal, id)));
        const rss = watchRss(stack.workerPid);
        const started = nowMs();
        const pushes = await Promise.all(set.map((t) => push(t.repo)));
        await Promise.all(set.map((t, k) => deployed(client, t.project, t.env, numbers[k]!, commits[k])));
        const mem = rss.stop();
        const timelines = await Promise.all(set.map((t, k) => deploymentTimeline(client.temporal, t.project, t.env, numbers[k]!)));
        let entity = 0;
        for (let k = 0; k < entityIds.length; k++) entity += await eventsSince(client.temporal, entityIds[k]!, before[k]!);
        const lat = timelines.map((t, k) => t.closedMs - pushes[k]!.startedMs);
        const lastClosed = Math.max(...timelines.map((t) => t.closedMs));
        const throughput = count / ((lastClosed - started) / 1000);
        const deployEvents = timelines.reduce((s, t) => s + t.events, 0) / count;
        log(
          `  scale ${count} ${r < warmup ? 'warm-up' : `run ${r - warmup + 1}/${runs}`}: ${throughput.toFixed(2)} deployments/s, p50 ${median(lat).toFixed(0)} ms, p95 ${percentile(lat, 95).toFixed(0)} ms, worker peak RSS ${mem.peakMb.toFixed(0)} MB (sampled ${mem.sampledPeakMb.toFixed(0)}), ${deployEvents.toFixed(0)} + ${(entity / count).toFixed(0)} events per deployment`,
        );
        if (process.env.SLIPWAY_BENCH_VERBOSE) for (const t of timelines) log(`${t.workflowId} started +${(t.startedMs - started).toFixed(0)} ms\n${describeTimeline(t)}`);
        if (r < warmup) continue;
        latencies.push(...lat);
        throughputs.push(throughput);
        peaks.push(mem.peakMb);
        events.push(deployEvents);
        eventsAll.push(deployEvents + entity / count);
      }
      const id = (x: string): string => `${x}-${count}`;
      const at = `${count} env${count === 1 ? '' : 's'}`;
      figures.push(
        figure('scale', { id: id('throughput'), label: `${at}: throughput`, unit: 'deployments/s', samples: throughputs }),
        figure('scale', { id: id('p50'), label: `${at}: latency p50 (push → deployed)`, unit: 'ms', stat: `p50 of ${latencies.length}`, value: median(latencies), samples: latencies }),
        figure('scale', { id: id('p95'), label: `${at}: latency p95`, unit: 'ms', stat: `p95 of ${latencies.length}`, value: percentile(latencies, 95), samples: latencies }),
        figure('scale', {
          id: id('rss'),
          label: `${at}: worker peak RSS`,
          unit: 'MB',
          samples: peaks,
          ...(count === 50 ? { goal: { max: 400, on: 'value' as const } } : {}),
        }),
        figure('scale', {
          id: id('events'),
          label: `${at}: history events per deployment (deployment + project + environment workflows)`,
          unit: 'events',
          samples: eventsAll,
          goal: { max: 150, on: 'value' },
        }),
        figure('scale', { id: id('events-deployment'), label: `${at}: history events of the deployment workflow`, unit: 'events', samples: events }),
      );
    }
    return {
      figures,
      notes: [
        `Scale runs per count: ${runs}${runs < 5 ? ' (fewer than 5: see --scale-runs)' : ''}. Each run pushes one commit (a new tree: a cold build) to every environment at once with git; latency is per deployment, throughput per run.`,
        'The worker is `slipway worker --router-port` in its own process (engine, host "local" and the router that serves the environments, warm-up and health checks); its peak RSS is the kernel high-water mark VmHWM, reset before each run. It is the only Slipway process doing the work (nothing is split off into other processes), and it runs as users start it: the worker command itself puts V8 in its memory-saving mode (--optimize-for-size), no flag is added by the benchmark.',
      ],
    };
  },
};
