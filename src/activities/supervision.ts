/**
 * The supervisor of a host's environment runtimes (see src/workflows/host-supervisor.ts and
 * docs/architecture.md, "Supervision"): every few seconds it makes each environment's
 * processes match the wanted state its environment workflow's activities wrote
 * (src/runtime/environment-runtime.ts), restarting what is down. Each restart is written to
 * the environment's runtime log and sent to its environment workflow, whose history keeps it.
 * An environment being deployed (maintenance on) is left to its deployment.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Context } from '@temporalio/activity';
import type { RuntimeRestart } from '../domain/environment';
import type { Layout } from '../home';
import { environmentsWithRuntime, reconcileEnvironment } from '../runtime/environment-runtime';
import { withEnvironmentLock } from '../runtime/locks';
import type { EnvironmentRef } from '../runtime/services';

export interface SupervisionDeps {
  layout: Layout;
  /** Sends the restart to the environment's workflow (absent: only logged). */
  recordRestart?: (project: string, environment: string, restart: RuntimeRestart) => Promise<void>;
}

/** Seconds between two passes over the host's environments. */
export const SUPERVISION_INTERVAL_MS = 2000;
/** After a restart that failed, the environment is tried again after this long. */
const BACKOFF_MS = 30_000;

export const runtimeLogFile = (layout: Layout, project: string, environment: string): string =>
  path.join(layout.deployLogs(project, environment), 'runtime.log');

function logLine(layout: Layout, ref: EnvironmentRef, text: string): void {
  const file = runtimeLogFile(layout, ref.project, ref.environment);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.appendFileSync(file, `${new Date().toISOString()} ${text}\n`);
}

const errorMessage = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/**
 * One pass: each environment reconciled (skipped while it deploys, or while it is backing
 * off after a failed restart). The restarts made.
 */
export async function supervisePass(deps: SupervisionDeps, host: string, backoff: Map<string, number>, heartbeat: () => void = () => undefined): Promise<number> {
  const { layout } = deps;
  let restarted = 0;
  for (const ref of environmentsWithRuntime(layout)) {
    heartbeat();
    const key = `${ref.project}/${ref.environment}`;
    if ((backoff.get(key) ?? 0) > Date.now()) continue;
    if (fs.existsSync(layout.maintenanceFlag(ref.project, ref.environment))) continue;
    try {
      const restarts = await withEnvironmentLock(ref, () => reconcileEnvironment(ref));
      for (const r of restarts) {
        restarted++;
        logLine(layout, ref, `restarted ${r.process}: ${r.reason}`);
        const restart: RuntimeRestart = { at: Date.now(), host, process: r.process, reason: r.reason };
        await deps.recordRestart?.(ref.project, ref.environment, restart).catch((err: unknown) => {
          logLine(layout, ref, `the restart could not be recorded in the environment's history: ${errorMessage(err)}`);
        });
      }
      backoff.delete(key);
    } catch (err) {
      backoff.set(key, Date.now() + BACKOFF_MS);
      logLine(layout, ref, `could not restart the environment's processes (tried again in ${BACKOFF_MS / 1000} s): ${errorMessage(err)}`);
    }
  }
  return restarted;
}

export function createSupervisionActivities(deps: SupervisionDeps) {
  return {
    /** Supervises the host's environments for `forSeconds`, heartbeating; ends early when cancelled (its worker stops). */
    async superviseRuntimes(input: { host: string; forSeconds: number }): Promise<{ passes: number; restarts: number }> {
      const ctx = Context.current();
      const until = Date.now() + input.forSeconds * 1000;
      const backoff = new Map<string, number>();
      let passes = 0;
      let restarts = 0;
      while (Date.now() < until && !ctx.cancellationSignal.aborted) {
        restarts += await supervisePass(deps, input.host, backoff, () => ctx.heartbeat());
        passes++;
        ctx.heartbeat({ passes, restarts });
        try {
          await ctx.sleep(SUPERVISION_INTERVAL_MS);
        } catch {
          break; // cancelled
        }
      }
      return { passes, restarts };
    },
  };
}
