/**
 * 4. Maintenance window: a probe GETs the environment's page through the router every 5 ms
 * during an update deployment whose deploy hook does nothing (`true`). The window is the span
 * from the first request answered 503 to the first request answered 2xx after the last 503
 * (it over-counts by at most one probe interval and one request). Any other answer, or a 503
 * outside that span, is a failed request.
 */
import { environmentHostname } from '../../src/domain/names';
import { startProbe, type ProbeSample } from '../lib/probe';
import { appYamlWithHooks, cloneBranch, commit, createDeployedProject, deployedQuietly, nextDeployment, push, sampleVariant } from '../lib/projects';
import { figure } from '../lib/results';
import type { Scenario } from './scenario';

const INTERVAL_MS = 5;

export function maintenanceWindow(samples: ProbeSample[]): { windowMs: number; seen: boolean; failedOutside: number; requests: number } {
  const first = samples.findIndex((s) => s.status === 503);
  let last = -1;
  for (let i = samples.length - 1; i >= 0; i--) if (samples[i]!.status === 503) { last = i; break; }
  const ok = (s: ProbeSample): boolean => s.status >= 200 && s.status < 300;
  let failedOutside = 0;
  samples.forEach((s, i) => {
    if (ok(s)) return;
    if (first >= 0 && i >= first && i <= last && s.status === 503) return;
    failedOutside++;
  });
  if (first < 0) return { windowMs: 0, seen: false, failedOutside, requests: samples.length };
  const after = samples.slice(last + 1).find(ok);
  const end = after ? after.sentMs : samples[last]!.doneMs;
  return { windowMs: end - samples[first]!.sentMs, seen: true, failedOutside, requests: samples.length };
}

export const maintenance: Scenario = {
  name: 'maintenance',
  title: 'Maintenance window of an update deployment (deploy hook does nothing)',
  async run({ stack, runs, warmup, log }) {
    const { client } = stack;
    const project = 'bench-maint';
    const env = 'integration';
    const from = sampleVariant({ '.magento.app.yaml': appYamlWithHooks({ deploy: 'true\n' }) });
    const { remote } = await createDeployedProject(client, project, from);
    const repo = await cloneBranch(remote, env);
    const windows: number[] = [];
    const engineWindows: number[] = [];
    const failures: number[] = [];
    let requests = 0;
    for (let i = 0; i < warmup + runs; i++) {
      const c = await commit(repo, { 'content/headline.txt': `Maintenance run ${i} ${Date.now()}\n` });
      const n = await nextDeployment(client, project, env);
      const probe = startProbe({ port: stack.routerPort, host: environmentHostname(project, env), intervalMs: INTERVAL_MS });
      await new Promise((r) => setTimeout(r, 100)); // the probe sees the live site first
      await push(repo);
      const d = await deployedQuietly(client, project, env, n, c);
      await new Promise((r) => setTimeout(r, 100));
      const w = maintenanceWindow(await probe.stop());
      log(`  maintenance ${i < warmup ? 'warm-up' : `run ${i - warmup + 1}/${runs}`}: 503 for ${w.windowMs.toFixed(0)} ms (engine: ${d.maintenanceMs ?? '?'} ms), ${w.failedOutside} failed of ${w.requests} requests`);
      if (!w.seen) log('    (the probe saw no 503: the window fell between two requests)');
      if (i < warmup) continue;
      windows.push(w.windowMs);
      engineWindows.push(d.maintenanceMs ?? Number.NaN);
      failures.push(w.failedOutside);
      requests += w.requests;
    }
    return {
      figures: [
        figure('maintenance', {
          id: 'window',
          label: 'router answered 503 (probe every 5 ms)',
          unit: 'ms',
          samples: windows,
          goal: { max: 100, on: 'value' },
        }),
        figure('maintenance', { id: 'window-engine', label: 'maintenance flag on → off (as the deployment reports it)', unit: 'ms', samples: engineWindows }),
        figure('maintenance', {
          id: 'failed-outside',
          label: `failed requests outside the window (all runs, ${requests} requests)`,
          unit: 'requests',
          stat: 'total',
          value: failures.reduce((a, b) => a + b, 0),
          samples: failures,
          goal: { max: 0, on: 'value' },
        }),
      ],
      notes: [
        'The deploy hook is `true`; the sample store otherwise (static content in the build, so the window holds: the deploy-hook step, the switch and the workflow tasks between maintenance-on and maintenance-off).',
      ],
    };
  },
};
