/**
 * 1. Cost of durability: one deployment of the sample store through Slipway (git push → the
 * deployment workflow closed) against bench/baseline/deploy.sh doing the same work (git push
 * to a plain bare repository → the script done). Also the orchestration time: Slipway's end to
 * end minus the time inside activities (its deployment's and the environment's branch-head
 * lookup) minus what the plain push took in the same run (the git transfer itself).
 */
import * as path from 'node:path';
import { releaseName } from '../../src/domain/deployment';
import { git } from '../lib/exec';
import { anatomy, breakdown, describeTimeline, deploymentTimeline, environmentActivityMsBefore, eventsSince, historyLength } from '../lib/history';
import { cloneBranch, commit, createDeployedProject, deployedQuietly, nextDeployment, nowMs, push, sampleVariant, tempDir } from '../lib/projects';
import { figure } from '../lib/results';
import { shellDeployer } from '../lib/shell-baseline';
import { workflowIds } from '../../src/domain/names';
import type { Scenario } from './scenario';

export const durability: Scenario = {
  name: 'durability',
  title: 'Cost of durability: one deployment of the sample store, Slipway vs a shell script',
  async run({ stack, runs, warmup, log }) {
    const { client } = stack;
    const project = 'bench-durable';
    const env = 'integration';
    const { remote } = await createDeployedProject(client, project, sampleVariant());
    const repo = await cloneBranch(remote, env);
    // The baseline's remote: a plain bare repository with the same history, no hooks.
    const plain = path.join(tempDir('plain'), 'plain.git');
    await git(repo.dir, 'init', '--quiet', '--bare', plain);
    await git(repo.dir, 'remote', 'add', 'plain', plain);
    await git(repo.dir, 'push', '--quiet', 'plain', `HEAD:refs/heads/${env}`);
    const shell = shellDeployer({ remote: plain, appDir: repo.dir, project, environment: env });

    const e2e: number[] = [];
    const baseline: number[] = [];
    const orchestration: number[] = [];
    const activity: number[] = [];
    const events: number[] = [];
    const eventsAll: number[] = [];
    const toStart: number[] = [];
    const queue: number[] = [];
    const between: number[] = [];
    const firstStep: number[] = [];
    const localGap: number[] = [];
    const roundTrip: number[] = [];
    const tail: number[] = [];
    const inWorkflow: number[] = [];
    let shape = '';
    for (let i = 0; i < warmup + runs; i++) {
      const measured = i >= warmup;
      const slipwayRun = async (): Promise<{ e2e: number; activityMs: number; events: number; eventsAll: number }> => {
        const c = await commit(repo, { 'content/headline.txt': `Slipway run ${i} ${Date.now()}\n` });
        const n = await nextDeployment(client, project, env);
        const before = await Promise.all([workflowIds.project(project), workflowIds.environment(project, env)].map((id) => historyLength(client.temporal, id).then((h) => ({ id, h }))));
        const p = await push(repo);
        await deployedQuietly(client, project, env, n, c);
        const t = await deploymentTimeline(client.temporal, project, env, n);
        const envActivity = await environmentActivityMsBefore(client.temporal, project, env, n);
        let entity = 0;
        for (const b of before) entity += await eventsSince(client.temporal, b.id, b.h);
        const bd = breakdown(t, p.startedMs);
        log(`    push ${(p.returnedMs - p.startedMs).toFixed(0)} ms; push → deployment started ${bd.toStartMs.toFixed(0)} ms (branch-head lookup ${envActivity.toFixed(0)}); in the deployment: activities waiting in queue ${bd.queueMs.toFixed(0)} ms, workflow tasks between activities ${bd.betweenMs.toFixed(0)} ms`);
        if (process.env.SLIPWAY_BENCH_VERBOSE) log(describeTimeline(t));
        const an = anatomy(t);
        shape = `${an.localGaps} local steps after the first, ${an.roundTrips} activities`;
        log(`    in the deployment: first step after ${an.firstStepMs.toFixed(0)} ms; ${an.localGaps} gaps before local steps ${an.localGapMs.toFixed(0)} ms; ${an.roundTrips} round trips before activities ${an.roundTripMs.toFixed(0)} ms; last step → closed ${an.tailMs.toFixed(0)} ms`);
        if (measured) {
          firstStep.push(an.firstStepMs);
          localGap.push(an.localGaps ? an.localGapMs / an.localGaps : 0);
          roundTrip.push(an.roundTrips ? an.roundTripMs / an.roundTrips : 0);
          tail.push(an.tailMs);
          inWorkflow.push(t.closedMs - t.startedMs - t.activityMs);
          toStart.push(bd.toStartMs);
          queue.push(bd.queueMs);
          between.push(bd.betweenMs);
        }
        return { e2e: t.closedMs - p.startedMs, activityMs: t.activityMs + envActivity, events: t.events, eventsAll: t.events + entity };
      };
      const shellRun = async (): Promise<{ total: number; pushMs: number }> => {
        const c = await commit(repo, { 'content/headline.txt': `Shell run ${i} ${Date.now()}\n` });
        const p = await push(repo, 'plain');
        await shell.deploy(c, releaseName(i + 1));
        return { total: nowMs() - p.startedMs, pushMs: p.returnedMs - p.startedMs };
      };
      // Alternate the order, so that a drift of the machine's load favours neither.
      let s: Awaited<ReturnType<typeof slipwayRun>>;
      let b: Awaited<ReturnType<typeof shellRun>>;
      if (i % 2 === 0) {
        s = await slipwayRun();
        b = await shellRun();
      } else {
        b = await shellRun();
        s = await slipwayRun();
      }
      const orch = s.e2e - s.activityMs - b.pushMs;
      log(`  durability ${measured ? `run ${i - warmup + 1}/${runs}` : 'warm-up'}: slipway ${s.e2e.toFixed(0)} ms (activities ${s.activityMs.toFixed(0)}, orchestration ${orch.toFixed(0)}, ${s.events} events), shell ${b.total.toFixed(0)} ms (push ${b.pushMs.toFixed(0)})`);
      if (!measured) continue;
      e2e.push(s.e2e);
      baseline.push(b.total);
      orchestration.push(orch);
      activity.push(s.activityMs);
      events.push(s.events);
      eventsAll.push(s.eventsAll);
    }
    const sc = 'durability';
    return {
      figures: [
        figure(sc, {
          id: 'deploy-e2e',
          label: 'deployment of the sample store, git push → done',
          unit: 'ms',
          samples: e2e,
          baseline: { label: 'shell script (bench/baseline/deploy.sh)', samples: baseline },
          goal: { max: 1.3, on: 'ratio' },
        }),
        figure(sc, {
          id: 'orchestration',
          label: 'orchestration per deployment (end to end − activities − git transfer)',
          unit: 'ms',
          samples: orchestration,
          goal: { max: 150, on: 'value' },
        }),
        figure(sc, { id: 'activities', label: 'time inside activities per deployment', unit: 'ms', samples: activity }),
        figure(sc, { id: 'to-start', label: 'git push started → deployment workflow started', unit: 'ms', samples: toStart }),
        figure(sc, { id: 'queue', label: 'activity tasks waiting in their queues, per deployment', unit: 'ms', samples: queue }),
        figure(sc, { id: 'between', label: 'workflow tasks between activities, per deployment', unit: 'ms', samples: between }),
        figure(sc, { id: 'first-step', label: 'deployment workflow started → its first step running', unit: 'ms', samples: firstStep }),
        figure(sc, { id: 'local-gap', label: 'gap before each local step (mean per deployment)', unit: 'ms', samples: localGap }),
        figure(sc, { id: 'round-trip', label: 'round trip before each activity (mean per deployment)', unit: 'ms', samples: roundTrip }),
        figure(sc, { id: 'tail', label: 'last step done → deployment workflow closed', unit: 'ms', samples: tail }),
        figure(sc, { id: 'in-workflow', label: 'deployment workflow started → closed, minus its activities (see floor)', unit: 'ms', samples: inWorkflow }),
        figure(sc, { id: 'events-deployment', label: 'history events of the deployment workflow', unit: 'events', samples: events }),
        figure(sc, {
          id: 'events-all',
          label: 'history events per deployment, incl. project and environment workflows',
          unit: 'events',
          samples: eventsAll,
        }),
      ],
      notes: [
        `Where the deployment's own orchestration goes (first step, gaps, round trips, tail): from its history and the worker's activity timings; a cold deployment of the sample store has ${shape}.`,
        'Both sides push a commit that changes content/headline.txt (a new tree: a cold build) and are timed from the start of `git push`; Slipway to the deployment workflow closing (server event time), the script to its exit. The bench awaits the deployment through the server (its workflow result, a long poll), not by querying the engine.',
        'The script does the same work: clone, hotfix patches, build hook, static content (cp -r), store the build, copy into a release with mounts, maintenance flag, deploy hook, symlink switch (ln -sfn + mv -T), post-deploy hook. Slipway additionally validates the five project files, writes a step log, warms up 2 pages and health-checks the routes through the router.',
      ],
    };
  },
};
