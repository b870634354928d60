/**
 * Hosts' liveness (src/domain/hosts.ts), for the CLI, the API and the web UI alike: the
 * heartbeats of each host's supervisor (DescribeWorkflowExecution: its pending activity's
 * last heartbeat) and the pollers of its task queue (DescribeTaskQueue).
 */
import { WorkflowNotFoundError } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { optionalTsToMs } from '@temporalio/common/lib/time';
import { judgeLiveness, type HostLiveness, type HostObservation } from '../domain/hosts';
import { hostTaskQueue, workflowIds } from '../domain/names';
import { InvalidInputError } from '../errors';
import type { ClientContext } from './context';

export const HOST_NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;

export async function hostLiveness(ctx: ClientContext, host: string): Promise<HostLiveness> {
  if (!HOST_NAME.test(host)) throw new InvalidInputError(`host ${JSON.stringify(host)}: a host is a lowercase name (letters, digits, "-")`);
  const [supervisor, pollers] = await Promise.all([supervisorObservation(ctx, host), queuePollers(ctx, host)]);
  return judgeLiveness(host, { ...supervisor, pollers }, Date.now());
}

/** Every host that has run a worker (its supervisor workflow exists), with its liveness. */
export async function listHosts(ctx: ClientContext): Promise<HostLiveness[]> {
  const hosts = new Set<string>();
  for await (const w of ctx.temporal.workflow.list({ query: `WorkflowType = 'hostSupervisorWorkflow'` })) {
    const m = /^host\/([^/]+)\/supervisor$/.exec(w.workflowId);
    if (m) hosts.add(m[1]!);
  }
  return Promise.all([...hosts].sort().map((h) => hostLiveness(ctx, h)));
}

async function supervisorObservation(ctx: ClientContext, host: string): Promise<Pick<HostObservation, 'supervisor' | 'activity'>> {
  try {
    const d = await ctx.temporal.workflow.getHandle(workflowIds.hostSupervisor(host)).describe();
    if (d.status.name !== 'RUNNING') return { supervisor: 'closed' };
    const pending = d.raw.pendingActivities?.[0];
    if (!pending) return { supervisor: 'running' };
    const started = pending.state === temporal.api.enums.v1.PendingActivityState.PENDING_ACTIVITY_STATE_STARTED;
    const lastHeartbeatMs = optionalTsToMs(pending.lastHeartbeatTime);
    const lastStartedMs = optionalTsToMs(pending.lastStartedTime);
    return {
      supervisor: 'running',
      activity: { started, ...(lastHeartbeatMs !== undefined ? { lastHeartbeatMs } : {}), ...(lastStartedMs !== undefined ? { lastStartedMs } : {}) },
    };
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return { supervisor: 'absent' };
    throw err;
  }
}

async function queuePollers(ctx: ClientContext, host: string): Promise<HostObservation['pollers']> {
  const r = await ctx.temporal.workflowService.describeTaskQueue({
    namespace: ctx.temporal.options.namespace,
    taskQueue: { name: hostTaskQueue(host), kind: temporal.api.enums.v1.TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
    taskQueueType: temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY,
  });
  return (r.pollers ?? []).map((p) => {
    const lastAccessMs = optionalTsToMs(p.lastAccessTime);
    return { identity: p.identity ?? '', ...(lastAccessMs !== undefined ? { lastAccessMs } : {}) };
  });
}
