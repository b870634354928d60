/**
 * The sandbox's cost (issue 15): a hook run the way a deployment runs it (runHook: the
 * project's user and limits looked up, the workspace handed to that user, a cgroup made and
 * removed, sh (rlimits, cgroup) → setpriv → bubblewrap) against the same hook run with plain `bash -e -c`,
 * interleaved run by run. The hook is `true`, so the difference is the start and end overhead.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runHook } from '../../src/activities/lib/hook-process';
import type { StepLog } from '../../src/activities/lib/step-log';
import { Layout } from '../../src/home';
import { figure } from '../lib/results';
import { median } from '../lib/stats';
import type { Scenario } from './scenario';

const now = (): number => Number(process.hrtime.bigint()) / 1e6;

function plainBash(cwd: string, script: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-e', '-c', script], { cwd, env: { PATH: '/usr/bin:/bin' }, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.resume();
    child.stderr.resume();
    child.once('error', reject);
    child.once('close', (code) => (code === 0 ? resolve() : reject(new Error(`bash exited ${code}`))));
  });
}

export const sandbox: Scenario = {
  name: 'sandbox',
  title: 'Sandbox: a hook in its sandbox vs the same hook with plain bash',
  async run({ stack, runs, warmup, log }) {
    const layout = new Layout(stack.layout.home);
    const workspace = path.join(layout.home, 'builds', 'bench-sandbox', 'integration', 'd000001');
    fs.mkdirSync(workspace, { recursive: true });
    for (let i = 0; i < 20; i++) fs.writeFileSync(path.join(workspace, `file-${i}.txt`), `${i}\n`);
    const quiet = { line: () => undefined } as unknown as StepLog;
    const sandboxed = (): Promise<void> =>
      runHook({
        layout,
        project: 'bench-sandbox',
        environment: 'integration',
        step: 'build-hook',
        kind: 'build',
        name: `bench.${process.pid}.build-hook`,
        script: 'true',
        app: { dir: workspace, writable: true },
        env: {},
        log: quiet,
      });
    const n = Math.max(runs * 3, 25);
    const inSandbox: number[] = [];
    const bash: number[] = [];
    for (let i = 0; i < warmup + n; i++) {
      const t0 = now();
      await sandboxed();
      const t1 = now();
      await plainBash(workspace, 'true');
      const t2 = now();
      if (i < warmup) continue;
      inSandbox.push(t1 - t0);
      bash.push(t2 - t1);
    }
    const overhead = median(inSandbox) - median(bash);
    log(`  sandbox: median ${median(inSandbox).toFixed(1)} ms in the sandbox, ${median(bash).toFixed(1)} ms with plain bash: ${overhead.toFixed(1)} ms overhead`);
    return {
      figures: [
        figure('sandbox', {
          id: 'hook-in-sandbox',
          label: 'a hook (`true`) in its sandbox, end to end',
          unit: 'ms',
          samples: inSandbox,
          baseline: { label: 'the same hook with plain bash', samples: bash },
        }),
        figure('sandbox', {
          id: 'start-overhead',
          label: 'sandbox overhead per hook (median in the sandbox − median with plain bash)',
          unit: 'ms',
          stat: 'difference of medians',
          samples: inSandbox.map((x, i) => x - bash[i]!),
          value: overhead,
          goal: { max: 15, on: 'value' },
        }),
      ],
      notes: [
        `${n} runs each, interleaved. In the sandbox: the project's limits read, the workspace (20 files) handed to the project's user with chown, a cgroup made (memory, pids, cpuacct) and removed, then sh (rlimits, joins the cgroup) → setpriv → bwrap (user, pid, network, IPC, UTS namespaces; read-only system binds) → bash. Plain bash: \`bash -e -c true\` spawned by the same Node process.`,
      ],
    };
  },
};
