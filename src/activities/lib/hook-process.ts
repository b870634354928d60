/**
 * Runs a project hook (`hooks.build`, `hooks.deploy`, …) the way Magento Cloud does: `bash -e`
 * in the application directory, with an environment built by the engine, never the worker's
 * own. The hook gets its own process group, so cancellation stops everything it started.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawn } from 'node:child_process';
import { Context } from '@temporalio/activity';
import type { DeploymentStep } from '../../domain/deployment';
import { stepFailure, type StepLog } from './step-log';

export interface HookRun {
  step: DeploymentStep;
  script: string;
  cwd: string;
  env: Record<string, string>;
  log: StepLog;
  /** Lines of output kept for the failure report. */
  tailLines?: number;
  /**
   * Where the hook's process group id is kept while it runs. A worker killed with `kill -9`
   * cannot stop its hooks; the next attempt finds the group here and stops it first.
   */
  groupFile: string;
}

/** Stops the process group an earlier attempt left running (its worker died), if any. */
export function stopLeftoverGroup(run: Pick<HookRun, 'groupFile' | 'log' | 'step'>): void {
  let pgid: number;
  try {
    pgid = Number(fs.readFileSync(run.groupFile, 'utf8').trim());
  } catch {
    return; // no earlier attempt, or it ended cleanly
  }
  if (!Number.isInteger(pgid) || pgid <= 1) return;
  try {
    process.kill(-pgid, 'SIGKILL');
    run.log.line(run.step, `stopped the ${run.step} left running by an earlier attempt (process group ${pgid})`);
  } catch {
    /* it had ended */
  }
  fs.rmSync(run.groupFile, { force: true });
}

const BASE_ENV = {
  PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
  LANG: 'C.UTF-8',
  LC_ALL: 'C.UTF-8',
};

function activityContext(): Context | undefined {
  try {
    return Context.current();
  } catch {
    return undefined;
  }
}

export async function runHook(run: HookRun): Promise<void> {
  const tailMax = run.tailLines ?? 40;
  const tail: string[] = [];
  const ctx = activityContext();
  stopLeftoverGroup(run);
  const child = spawn('bash', ['-e', '-c', run.script], {
    cwd: run.cwd,
    env: { ...BASE_ENV, HOME: run.cwd, ...run.env },
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const pgid = child.pid;
  if (pgid !== undefined) {
    fs.mkdirSync(path.dirname(run.groupFile), { recursive: true });
    fs.writeFileSync(run.groupFile, `${pgid}\n`);
  }

  const collect = (stream: NodeJS.ReadableStream): void => {
    let partial = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      const text = partial + chunk;
      const lines = text.split('\n');
      partial = lines.pop() ?? '';
      for (const l of lines) {
        run.log.line(run.step, `| ${l}`);
        tail.push(l);
        if (tail.length > tailMax) tail.shift();
      }
    });
    stream.on('end', () => {
      if (partial) {
        run.log.line(run.step, `| ${partial}`);
        tail.push(partial);
        if (tail.length > tailMax) tail.shift();
      }
    });
  };
  collect(child.stdout);
  collect(child.stderr);

  let killTimer: NodeJS.Timeout | undefined;
  const stopGroup = (): void => {
    if (pgid === undefined) return;
    try {
      process.kill(-pgid, 'SIGTERM');
    } catch {
      return; // already gone
    }
    killTimer = setTimeout(() => {
      try {
        process.kill(-pgid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }, 3000);
    killTimer.unref();
  };

  const heartbeat = ctx ? setInterval(() => ctx.heartbeat(), 1000) : undefined;
  const onCancel = (): void => {
    run.log.line(run.step, 'cancelled: stopping the hook and every process it started');
    stopGroup();
  };
  ctx?.cancellationSignal.addEventListener('abort', onCancel);

  try {
    const { code, signal } = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>(
      (resolve, reject) => {
        child.once('error', reject);
        child.once('close', (c, s) => resolve({ code: c, signal: s }));
      },
    );
    if (code === 0) return;
    if (ctx?.cancellationSignal.aborted) throw ctx.cancellationSignal.reason;
    const exitCode = code ?? 128;
    throw stepFailure({
      step: run.step,
      exitCode,
      logTail: tail.join('\n'),
      message: signal ? `the ${run.step} hook was killed by ${signal}` : `the ${run.step} hook exited with code ${exitCode}`,
    });
  } finally {
    if (heartbeat) clearInterval(heartbeat);
    ctx?.cancellationSignal.removeEventListener('abort', onCancel);
    // Nothing a hook started outlives it.
    if (pgid !== undefined) {
      try {
        process.kill(-pgid, 'SIGKILL');
      } catch {
        /* group already empty */
      }
    }
    if (killTimer) clearTimeout(killTimer);
    fs.rmSync(run.groupFile, { force: true });
  }
}
