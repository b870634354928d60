/**
 * Runs a project hook (`hooks.build`, `hooks.deploy`, `hooks.post_deploy`) the way Magento
 * Cloud does, `bash -e` in the application directory, but in the project's sandbox
 * (src/sandbox/): its own unprivileged user, only its application and mounts, no network, no
 * engine secrets, the engine-built environment only, the plan's limits, a time limit per
 * hook kind and silence detection. A hook that fails, hits a limit or runs out of time fails
 * its step for good (not retried: it would fail again); a sandbox that cannot be set up is
 * the engine's failure, and retried.
 */
import { heartbeatDetails } from './heartbeat';
import { Context } from '@temporalio/activity';
import type { DeploymentStep } from '../../domain/deployment';
import { formatDuration, formatSize, type HookKind } from '../../domain/sandbox-limits';
import type { Layout } from '../../home';
import { sandboxIdentity } from '../../sandbox/identity';
import { sandboxLimitsFor } from '../../sandbox/limits';
import { chownTree } from '../../sandbox/ownership';
import { runInSandbox, SANDBOX_APP_DIR, stopLeftoverSandbox, type SandboxBind } from '../../sandbox/sandbox';
import { stepFailure, type StepLog } from './step-log';

export { SANDBOX_APP_DIR };

export interface HookRun {
  layout: Layout;
  project: string;
  environment: string;
  step: DeploymentStep;
  kind: HookKind;
  script: string;
  /** The application directory: the build workspace (writable) or the release (read-only). */
  app: { dir: string; writable: boolean };
  /** More directories shown in the sandbox: the environment's mounts (writable), the release again. */
  binds?: SandboxBind[];
  env: Record<string, string>;
  log: StepLog;
  /** The environment's network namespace (its path), where its services listen; absent: no network. */
  netns?: string;
  /**
   * The run's name, unique per deployment and step: a retried attempt finds what a dead
   * worker's attempt left under it and stops it first.
   */
  name: string;
}

/** What every sandboxed run of a project's code gets besides its own environment (as on Magento Cloud: HOME is /app). */
export const SANDBOX_BASE_ENV = {
  PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
  LANG: 'C.UTF-8',
  LC_ALL: 'C.UTF-8',
  HOME: SANDBOX_APP_DIR,
  USER: 'web',
  TMPDIR: '/tmp',
};

function activityContext(): Context | undefined {
  try {
    return Context.current();
  } catch {
    return undefined;
  }
}

/** Stops what an earlier attempt of this hook left running (its worker died), if anything. */
export function stopLeftoverHook(run: Pick<HookRun, 'name' | 'log' | 'step'>): void {
  const n = stopLeftoverSandbox(run.name);
  if (n === undefined) return;
  run.log.line(
    run.step,
    n > 0
      ? `stopped the ${run.step} left running by an earlier attempt (${n} processes)`
      : `cleaned up the sandbox of the ${run.step}'s earlier attempt (its processes had ended with their worker)`,
  );
}

/**
 * What a sandboxed run of a project's code needs first: its user, its limits (and the time
 * limit of this kind of run), and the directories it may write handed to that user.
 */
export async function prepareSandbox(run: Pick<HookRun, 'layout' | 'project' | 'app' | 'binds' | 'kind' | 'netns'>) {
  const identity = sandboxIdentity(run.layout, run.project);
  const { plan, limits } = await sandboxLimitsFor(run.layout, run.project);
  // What the code may write belongs to the project's user: the workspace it builds, the mounts.
  if (run.app.writable) await chownTree(run.app.dir, identity);
  // The engine seeds mounts (init/ copied in) as itself: handed over before every run.
  for (const b of run.binds ?? []) if (b.writable) await chownTree(b.dir, identity);
  const writable = (run.binds ?? []).filter((b) => b.writable).length;
  const describe = (timeoutSeconds: number): string =>
    `sandbox: uid ${identity.uid}, ${run.netns ? "the environment's network (its services only)" : 'no network'}, ${run.app.writable ? 'the workspace writable' : 'the release read-only'}${
      writable ? `, ${writable} mounts writable` : ''
    }; limits (plan ${plan}): ${formatSize(limits.memoryBytes)} memory, ${limits.processes} processes, ${formatDuration(timeoutSeconds)}, silence ${formatDuration(limits.silenceSeconds)}`;
  return { identity, plan, limits, describe };
}

export async function runHook(run: HookRun): Promise<void> {
  const ctx = activityContext();
  stopLeftoverHook(run);
  const { identity, limits, describe } = await prepareSandbox(run);
  const timeoutSeconds = limits.timeoutSeconds[run.kind];
  run.log.line(run.step, describe(timeoutSeconds));

  const heartbeat = ctx ? setInterval(() => ctx.heartbeat(heartbeatDetails(ctx)), 1000) : undefined;
  const onCancel = (): void => run.log.line(run.step, 'cancelled: stopping the hook and every process it started');
  ctx?.cancellationSignal.addEventListener('abort', onCancel);
  try {
    const end = await runInSandbox({
      name: run.name,
      dataDir: run.layout.home,
      identity,
      hostname: `${run.project}-${run.environment}`.slice(0, 63),
      app: run.app,
      binds: run.binds ?? [],
      command: ['bash', '-e', '-c', run.script],
      env: { ...SANDBOX_BASE_ENV, ...run.env },
      ...(run.netns ? { netns: run.netns } : {}),
      limits,
      timeoutSeconds,
      onOutput: (l) => run.log.line(run.step, `| ${l}`),
      ...(ctx ? { signal: ctx.cancellationSignal } : {}),
    });
    if (end.kind === 'cancelled') throw ctx?.cancellationSignal.reason ?? new Error(`the ${run.step} was cancelled`);
    if (end.kind === 'exited' && end.code === 0) return;
    const message = end.kind === 'limit' ? `the ${run.kind} hook ${end.message}` : `the ${run.step} hook exited with code ${end.code}`;
    if (end.kind === 'limit') run.log.line(run.step, message);
    throw stepFailure({
      step: run.step,
      exitCode: end.kind === 'limit' ? (end.code ?? 137) : end.code,
      logTail: end.tail.join('\n'),
      message,
      ...(end.kind === 'limit' ? { limit: end.limit } : {}),
    });
  } finally {
    if (heartbeat) clearInterval(heartbeat);
    ctx?.cancellationSignal.removeEventListener('abort', onCancel);
  }
}
