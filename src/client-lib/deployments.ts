/**
 * The client's environment operations: its status, redeploy and rollback, and its deployments
 * (progress, waiting, cancelling, logs).
 */
import { DEPLOY_LOGS_KEPT } from '../domain/retention';
import * as fs from 'node:fs';
import { WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import type { DeploymentRecord, EnvironmentRuntimeStatus, EnvironmentStatus } from '../domain/environment';
import type { Layout } from '../home';
import { runtimeStatus, wantedFile } from '../runtime/environment-runtime';
import { workflowIds } from '../domain/names';
import { NotFoundError, SlipwayError } from '../errors';
import { deploymentProgressQuery, type DeploymentProgress } from '../workflows/deployment';
import { hostLiveness as livenessOf } from './hosts';
import { environmentStatusQuery, redeployUpdate, rollbackUpdate, snapshotUpdate, syncDataUpdate } from '../workflows/environment';
import { checkEnvironmentRef, updateRefusal } from './checks';
import { sleep, type ClientContext } from './context';

export interface WaitOptions {
  /** Wait for a deployment numbered above this one. */
  after?: number;
  /** …of this commit (or any, when absent). */
  commit?: string;
  timeoutMs?: number;
  onProgress?: (p: DeploymentProgress & { deployment: number }) => void;
}

/** What runs of the environment on this host, when this engine's data directory serves it. */
function localRuntimeStatus(layout: Layout, project: string, environment: string): EnvironmentRuntimeStatus | undefined {
  const ref = { layout, project, environment };
  if (!fs.existsSync(wantedFile(ref))) return undefined;
  const r = runtimeStatus(ref);
  return {
    ...(r.wanted ? { wanted: r.wanted } : {}),
    ...(r.release ? { release: r.release } : {}),
    services: r.services.map((s) => ({
      name: s.name,
      type: s.type,
      state: s.state,
      ...(s.state !== 'unavailable' ? { port: s.port } : { reason: s.reason }),
    })),
    application: r.application,
  };
}

/**
 * The environment's state and running deployment; its runtime when this data directory serves
 * it; with `host`, its host's liveness (two more calls to the server: asked for by `env status`
 * and the API, not by the polls of a wait).
 */
export async function environmentStatus(ctx: ClientContext, project: string, environment: string, options: { host?: boolean } = {}): Promise<EnvironmentStatus> {
  checkEnvironmentRef(project, environment);
  try {
    const status = await ctx.temporal.workflow.getHandle(workflowIds.environment(project, environment)).query(environmentStatusQuery);
    const runtime = localRuntimeStatus(ctx.layout, project, environment);
    // The environment's status comes first: liveness that cannot be read is said, not thrown.
    const hostLiveness = options.host
      ? await livenessOf(ctx, status.host).catch((err: unknown) => ({
          host: status.host,
          state: 'unknown' as const,
          pollers: [],
          summary: `${status.host}: unknown (its liveness could not be read: ${err instanceof Error ? err.message : String(err)})`,
        }))
      : undefined;
    return { ...status, ...(runtime ? { runtime } : {}), ...(hostLiveness ? { hostLiveness } : {}) };
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) {
      throw new NotFoundError(`no environment ${environment} in project ${project}`);
    }
    throw err;
  }
}

export async function redeploy(ctx: ClientContext, project: string, environment: string): Promise<{ deployment: number }> {
  const handle = ctx.temporal.workflow.getHandle(workflowIds.environment(project, environment));
  return refusable(() => handle.executeUpdate(redeployUpdate), project, environment);
}

export async function rollback(ctx: ClientContext, project: string, environment: string, to?: number, withData = false): Promise<{ deployment: number }> {
  const handle = ctx.temporal.workflow.getHandle(workflowIds.environment(project, environment));
  return refusable(() => handle.executeUpdate(rollbackUpdate, { args: [{ to, ...(withData ? { withData } : {}) }] }), project, environment);
}

/** The current release deployed again with the parent's database and mounts (`env sync --data`). */
export async function syncData(ctx: ClientContext, project: string, environment: string, parent: string): Promise<{ deployment: number }> {
  const handle = ctx.temporal.workflow.getHandle(workflowIds.environment(project, environment));
  return refusable(() => handle.executeUpdate(syncDataUpdate, { args: [{ from: parent }] }), project, environment);
}

/** The current release deployed again with one of the environment's snapshots (`env snapshot restore`). */
export async function restoreSnapshot(ctx: ClientContext, project: string, environment: string, snapshot: string): Promise<{ deployment: number }> {
  const handle = ctx.temporal.workflow.getHandle(workflowIds.environment(project, environment));
  return refusable(() => handle.executeUpdate(syncDataUpdate, { args: [{ snapshot }] }), project, environment);
}

/** A snapshot taken between deployments (`env snapshot create`). */
export async function snapshot(ctx: ClientContext, project: string, environment: string): Promise<{ snapshot: string; sizeBytes: number }> {
  const handle = ctx.temporal.workflow.getHandle(workflowIds.environment(project, environment));
  return refusable(() => handle.executeUpdate(snapshotUpdate), project, environment);
}

/** Turns an Update's validator refusal into a SlipwayError with its reason. */
async function refusable<T>(call: () => Promise<T>, project: string, environment: string): Promise<T> {
  checkEnvironmentRef(project, environment);
  try {
    return await call();
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) throw new NotFoundError(`no environment ${environment} in project ${project}`);
    if (err instanceof WorkflowUpdateFailedError) throw updateRefusal(err);
    throw err;
  }
}

export async function cancelDeployment(ctx: ClientContext, project: string, environment: string): Promise<DeploymentRecord> {
  const status = await environmentStatus(ctx, project, environment);
  const running = status.running;
  if (!running) throw new SlipwayError(`nothing to cancel: no deployment of ${project}/${environment} is running`);
  try {
    await ctx.temporal.workflow.getHandle(workflowIds.deployment(project, environment, running.deployment)).cancel();
  } catch (err) {
    if (!(err instanceof WorkflowNotFoundError)) throw err; // it ended meanwhile: its record says how
  }
  return waitForDeployment(ctx, project, environment, { after: running.deployment - 1 });
}

export async function deploymentProgress(ctx: ClientContext, project: string, environment: string, n: number): Promise<DeploymentProgress> {
  checkEnvironmentRef(project, environment);
  try {
    return await ctx.temporal.workflow
      .getHandle(workflowIds.deployment(project, environment, n))
      .query(deploymentProgressQuery);
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) throw new NotFoundError(`no deployment ${n} of ${project}/${environment}`);
    throw err;
  }
}

/** Where a wait reads an environment's status and a deployment's progress: Temporal, or the HTTP API. */
export interface DeploymentSource {
  environmentStatus(project: string, environment: string): Promise<EnvironmentStatus>;
  deploymentProgress(project: string, environment: string, n: number): Promise<DeploymentProgress>;
}

export function waitForDeployment(ctx: ClientContext, project: string, environment: string, options: WaitOptions = {}): Promise<DeploymentRecord> {
  const source: DeploymentSource = {
    environmentStatus: (p, e) => environmentStatus(ctx, p, e),
    deploymentProgress: (p, e, n) => deploymentProgress(ctx, p, e, n),
  };
  return waitForDeploymentOf(source, project, environment, options);
}

/** Waits until a deployment (newer than `after`, of `commit` if given) has finished, polling `source`. */
export async function waitForDeploymentOf(
  ctx: DeploymentSource,
  project: string,
  environment: string,
  options: WaitOptions = {},
): Promise<DeploymentRecord> {
  const deadline = Date.now() + (options.timeoutMs ?? 300_000);
  const after = options.after ?? 0;
  for (;;) {
    const status = await statusOrPause(ctx, project, environment, deadline);
    if (!status) continue;
    const done = status.deployments.find(
      (d) => d.deployment > after && (options.commit === undefined || d.commit === options.commit),
    );
    if (done) return done;
    if (status.running && options.onProgress) {
      await reportProgress(ctx, project, environment, status.running.deployment, options.onProgress);
    }
    if (Date.now() > deadline) {
      throw new SlipwayError(
        `timed out waiting for a deployment of ${project}/${environment}${options.commit ? ` at ${options.commit}` : ''}`,
      );
    }
    await sleep(100);
  }
}

/**
 * The environment's status; undefined, after a pause, while it cannot be had: a query needs a
 * worker, and while one restarts this keeps waiting (until the deadline).
 */
async function statusOrPause(ctx: DeploymentSource, project: string, environment: string, deadline: number): Promise<EnvironmentStatus | undefined> {
  try {
    return await ctx.environmentStatus(project, environment);
  } catch (err) {
    if (err instanceof SlipwayError || Date.now() > deadline) throw err;
    await sleep(500);
    return undefined;
  }
}

async function reportProgress(
  ctx: DeploymentSource,
  project: string,
  environment: string,
  n: number,
  onProgress: NonNullable<WaitOptions['onProgress']>,
): Promise<void> {
  try {
    const p = await ctx.deploymentProgress(project, environment, n);
    onProgress({ ...p, deployment: n });
  } catch {
    /* the deployment just finished */
  }
}

export function deploymentLog(ctx: ClientContext, project: string, environment: string, n: number): string {
  checkEnvironmentRef(project, environment);
  const file = ctx.layout.deployLog({ project, environment, number: n });
  if (!fs.existsSync(file)) throw new NotFoundError(`no log for deployment ${n} of ${project}/${environment} (the logs of the newest ${DEPLOY_LOGS_KEPT} deployments of an environment are kept)`);
  return fs.readFileSync(file, 'utf8');
}
