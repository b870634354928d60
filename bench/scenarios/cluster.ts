/**
 * On the cluster against the dev server: the same deployments, in the same run, on the
 * production-like Temporal (its own server 1.25.2, four services as processes on PostgreSQL:
 * src/temporal/cluster.ts) and on the dev server the other scenarios use (a single process on
 * SQLite). For each deployment, measured as the other scenarios do:
 *   - push → live (push-to-live's probe: from `git push` returning to the router serving the
 *     commit's marker);
 *   - orchestration (durability's: git push started → deployment closed, minus the time inside
 *     activities, its own and the environment's branch-head lookup, minus the push itself).
 * Runs alternate between the two stacks, so that a drift of the machine's load favours neither.
 * Figures: medians on the cluster, with the dev server's as baseline (ratio cluster / dev server).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { SAMPLE_STORE } from '../../src/home';
import { environmentHostname } from '../../src/domain/names';
import { startCluster } from '../../src/temporal/cluster';
import { TEMPORAL_SERVER_VERSION } from '../../src/temporal/server-build';
import { ensureSearchAttributes } from '../../src/temporal/search-attributes';
import { deploymentTimeline, environmentActivityMsBefore } from '../lib/history';
import { probeUntil } from '../lib/probe';
import { appYamlWithHooks, cloneBranch, commit, createDeployedProject, deployedQuietly, nextDeployment, push, sampleVariant, type Clone } from '../lib/projects';
import { figure } from '../lib/results';
import { startBenchStack, type BenchStack } from '../lib/stack';
import type { Scenario } from './scenario';

const page = (marker: string): string =>
  fs.readFileSync(path.join(SAMPLE_STORE, 'templates', 'index.html'), 'utf8').replaceAll('@HEADLINE@', marker).replaceAll('@TREE@', 'committed');

interface Target {
  name: 'cluster' | 'dev server';
  stack: BenchStack;
  project: string;
  repo: Clone;
  live: number[];
  orchestration: number[];
}

const ENV = 'integration';

async function prepare(name: Target['name'], stack: BenchStack, project: string): Promise<Target> {
  // push-to-live's project: no build hook, the page committed in pub/.
  const from = sampleVariant({
    '.magento.app.yaml': appYamlWithHooks({ build: null }),
    'pub/index.html': page('first'),
    'pub/about.html': fs.readFileSync(path.join(SAMPLE_STORE, 'templates', 'about.html'), 'utf8'),
  });
  const { remote } = await createDeployedProject(stack.client, project, from);
  return { name, stack, project, repo: await cloneBranch(remote, ENV), live: [], orchestration: [] };
}

async function deployOnce(t: Target, i: number): Promise<{ liveMs: number; orchestrationMs: number }> {
  const { client } = t.stack;
  const marker = `cluster-${i}-${Date.now()}`;
  const c = await commit(t.repo, { 'pub/index.html': page(marker) });
  const n = await nextDeployment(client, t.project, ENV);
  const p = await push(t.repo);
  const hit = await probeUntil({
    port: t.stack.routerPort,
    host: environmentHostname(t.project, ENV),
    intervalMs: 5,
    marker,
    timeoutMs: 120_000,
    until: (s) => s.status === 200 && s.marked,
  });
  await deployedQuietly(client, t.project, ENV, n, c);
  const timeline = await deploymentTimeline(client.temporal, t.project, ENV, n);
  const branchHead = await environmentActivityMsBefore(client.temporal, t.project, ENV, n);
  const e2e = timeline.closedMs - p.startedMs;
  return { liveMs: hit.doneMs - p.returnedMs, orchestrationMs: e2e - timeline.activityMs - branchHead - (p.returnedMs - p.startedMs) };
}

export const cluster: Scenario = {
  name: 'cluster',
  title: 'On the Temporal cluster (four services on PostgreSQL) against the dev server: push → live and orchestration per deployment',
  async run({ stack, runs, warmup, log }) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'slipway-bench-cluster-'));
    // PostgreSQL's own user reaches its directory through this one.
    fs.chmodSync(dir, 0o711);
    // As the production-like suite: search attributes registered just before use are read at
    // once, not after the services' one-minute cache refresh (one small PostgreSQL read per lookup).
    const running = await startCluster({ dir, progress: log, dynamicConfig: { 'system.forceSearchAttributesCacheRefreshOnRead': true } });
    let clusterStack: BenchStack | undefined;
    try {
      // What `slipway setup` (and every `slipway worker` or `api` at its start) does; the bench's
      // worker runs in this process, not through the CLI.
      await ensureSearchAttributes(running.address);
      log(`  cluster: Temporal ${running.address} (${running.source}), started in ${running.startMs} ms (of which locating/building the server ${running.buildMs} ms)`);
      // Both workers append their activity timings to the same file (bench/lib/history reads one).
      clusterStack = await startBenchStack(log, {
        temporal: { address: running.address, source: running.source, stop: () => Promise.resolve() },
        timingsFile: stack.timingsFile,
      });
      const targets = [await prepare('cluster', clusterStack, 'bench-on-cluster'), await prepare('dev server', stack, 'bench-on-dev-server')];
      for (let i = 0; i < warmup + runs; i++) {
        const measured = i >= warmup;
        for (const t of i % 2 === 0 ? targets : [...targets].reverse()) {
          const r = await deployOnce(t, i);
          log(`  cluster ${measured ? `run ${i - warmup + 1}/${runs}` : 'warm-up'} on the ${t.name}: push → live ${r.liveMs.toFixed(0)} ms, orchestration ${r.orchestrationMs.toFixed(0)} ms`);
          if (measured) {
            t.live.push(r.liveMs);
            t.orchestration.push(r.orchestrationMs);
          }
        }
      }
      const [onCluster, onDev] = targets as [Target, Target];
      const sc = 'cluster';
      return {
        figures: [
          figure(sc, {
            id: 'cluster-push-to-live',
            label: 'git push returned → new content served, on the cluster',
            unit: 'ms',
            samples: onCluster.live,
            baseline: { label: 'the same on the dev server', samples: onDev.live },
          }),
          figure(sc, {
            id: 'cluster-orchestration',
            label: 'orchestration per deployment (end to end − activities − the push), on the cluster',
            unit: 'ms',
            samples: onCluster.orchestration,
            baseline: { label: 'the same on the dev server', samples: onDev.orchestration },
          }),
        ],
        notes: [
          `The cluster: Temporal server ${TEMPORAL_SERVER_VERSION}, frontend, history, matching and worker as separate processes on PostgreSQL (4 history shards, default dynamic configuration but for reading search attributes from the database at every lookup, as registered just before); the dev server: \`temporal server start-dev\` on SQLite, one shard, with Slipway's queue-read settings. Each with its own \`slipway worker\` and API; deployments alternate between them. No goal: the ratio is cluster / dev server.`,
        ],
      };
    } finally {
      await clusterStack?.stop();
      await running.stop();
      if (!process.env.SLIPWAY_BENCH_KEEP) fs.rmSync(dir, { recursive: true, force: true });
    }
  },
};
