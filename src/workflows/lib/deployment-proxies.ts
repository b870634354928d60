/**
 * The activity proxies of a deployment and their policies: the engine's short steps as local
 * activities, its long ones (hooks, static content) as activities that heartbeat and, when
 * cancelled, are waited for until the hook's process group has stopped; the same on the queue
 * of the host that serves the environment.
 */
import { ActivityCancellationType, proxyActivities, proxyLocalActivities, type RetryPolicy } from '@temporalio/workflow';
import type { EngineActivities, HostActivities } from '../../activities';
import { ACTIVITY_HEARTBEAT_TIMEOUT } from '../../domain/activity-timeouts';
import { STEP_FAILED } from '../../domain/deployment';
import { hostTaskQueue } from '../../domain/names';
import type { RunnerProxies } from './plan-runner';

/** A step that fails because of the project (SlipwayStepFailed) is not retried; anything else is, 5 times. */
export const DEPLOYMENT_RETRY: RetryPolicy = { initialInterval: '1s', maximumAttempts: 5, nonRetryableErrorTypes: [STEP_FAILED] };
const heartbeatTimeout = ACTIVITY_HEARTBEAT_TIMEOUT;
const cancellationType = ActivityCancellationType.WAIT_CANCELLATION_COMPLETED;
const retry = DEPLOYMENT_RETRY;

export function deploymentProxies(host: string): RunnerProxies {
  const taskQueue = hostTaskQueue(host);
  return {
    engineLocal: proxyLocalActivities<EngineActivities>({ startToCloseTimeout: '5 minutes', retry }),
    engineLong: proxyActivities<EngineActivities>({ startToCloseTimeout: '60 minutes', heartbeatTimeout, cancellationType, retry }),
    hostLocal: proxyLocalActivities<HostActivities>({ startToCloseTimeout: '5 minutes', retry }),
    host: proxyActivities<HostActivities>({ taskQueue, startToCloseTimeout: '5 minutes', heartbeatTimeout, retry }),
    hostLong: proxyActivities<HostActivities>({ taskQueue, startToCloseTimeout: '60 minutes', heartbeatTimeout, cancellationType, retry }),
  } as unknown as RunnerProxies;
}
