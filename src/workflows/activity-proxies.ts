/**
 * The activity proxies of the workflows and their retry policies, in one place. Every activity
 * heartbeats while it runs (the worker's interceptor), so each proxy here is given the same
 * heartbeat timeout: an attempt lost with its worker is retried soon. The factories serve any
 * workflow; the named proxies are those of the project, environment and promotion workflows.
 */
import {
  ActivityCancellationType,
  proxyActivities,
  proxyLocalActivities,
  type ActivityInterfaceFor,
  type ActivityOptions,
  type RetryPolicy,
} from '@temporalio/workflow';
import type { EngineActivities, HostActivities } from '../activities';
import { ACTIVITY_HEARTBEAT_TIMEOUT, DEFAULT_HOST_START_TIMEOUT_SECONDS } from '../domain/activity-timeouts';
import { CRON_FAILED } from '../domain/crons';
import { INVALID_INPUT, MERGE_CONFLICT, REFUSED, STEP_FAILED } from '../domain/failure-types';
import { hostTaskQueue } from '../domain/names';

export const RETRY = {
  /** Git operations a user asked for (branch, merge, delete): a refused or conflicting one is final. */
  userGit: { initialInterval: '1s', maximumAttempts: 5, nonRetryableErrorTypes: [INVALID_INPUT, REFUSED, MERGE_CONFLICT] },
  /** An environment's own work: reading its branch, serving or unserving it. */
  environment: { initialInterval: '1s', maximumAttempts: 10 },
  /** A promotion's Git steps: a refused fast-forward is final. */
  promotion: { initialInterval: '1s', maximumAttempts: 5, nonRetryableErrorTypes: [REFUSED] },
  /** A deployment's groups: a step that fails because of the project (its hook, file, patch) is final. */
  deployment: { initialInterval: '1s', maximumAttempts: 5, nonRetryableErrorTypes: [STEP_FAILED] },
  /** A cron run: a failed command is final; a lost worker is tried once more. */
  cron: { initialInterval: '1s', maximumAttempts: 2, nonRetryableErrorTypes: [CRON_FAILED] },
} satisfies Record<string, RetryPolicy>;

/** What a proxy is given besides the heartbeat timeout (and, for a host, its task queue). */
type ProxyOptions = Omit<ActivityOptions, 'heartbeatTimeout' | 'taskQueue'>;

/** The engine's activities on the engine's task queue. */
export const engineProxies = (options: ProxyOptions): ActivityInterfaceFor<EngineActivities> =>
  proxyActivities<EngineActivities>({ ...options, heartbeatTimeout: ACTIVITY_HEARTBEAT_TIMEOUT });

/** A host's activities on that host's task queue (`hostTaskQueue(host)`). */
export const hostProxies = (taskQueue: string, options: ProxyOptions): ActivityInterfaceFor<HostActivities> =>
  proxyActivities<HostActivities>({ ...options, taskQueue, heartbeatTimeout: ACTIVITY_HEARTBEAT_TIMEOUT });

/** The project workflow's Git operations (create the remote, branch, merge, delete). */
export const projectGit = engineProxies({ startToCloseTimeout: '5 minutes', retry: RETRY.userGit });

/** The environment workflow's reads of its branch. */
export const environmentGit = engineProxies({ startToCloseTimeout: '1 minute', retry: RETRY.environment });
/** The same as a local activity: no round trip through the server before a deployment starts. */
export const environmentGitLocal = proxyLocalActivities<EngineActivities>({ startToCloseTimeout: '1 minute', retry: RETRY.environment });
/** The environment workflow's host: it stops serving the environment. */
export const environmentHost = (host: string): ActivityInterfaceFor<HostActivities> =>
  hostProxies(hostTaskQueue(host), { startToCloseTimeout: '5 minutes', retry: RETRY.environment });

/**
 * The environment workflow's host step that may fail without harm (a snapshot on request,
 * between deployments): it waits for the host at most the project's start timeout, and its
 * caller is told that the host did not take it.
 */
export const environmentHostOnRequest = (host: string, startTimeoutSeconds = DEFAULT_HOST_START_TIMEOUT_SECONDS): ActivityInterfaceFor<HostActivities> =>
  hostProxies(hostTaskQueue(host), { startToCloseTimeout: '5 minutes', retry: RETRY.environment, scheduleToStartTimeout: startTimeoutSeconds * 1000 });

/** The environment workflow's Schedules of its crons (sync, pause, delete). */
export const environmentCrons = engineProxies({ startToCloseTimeout: '1 minute', retry: RETRY.environment });
/** A cron run on the environment's host (the sandbox enforces the cron's own time limit, at most 55 minutes). */
export const cronHost = (taskQueue: string): ActivityInterfaceFor<HostActivities> =>
  hostProxies(taskQueue, { startToCloseTimeout: '60 minutes', retry: RETRY.cron });

/**
 * The supervisor of a host's environment runtimes: one activity that runs for an hour,
 * heartbeating; a lost worker is noticed after the heartbeat timeout and the next one retries
 * it, for ever.
 */
export const supervisorHost = (taskQueue: string): ActivityInterfaceFor<HostActivities> =>
  hostProxies(taskQueue, { startToCloseTimeout: '70 minutes', retry: { initialInterval: '1s', maximumInterval: '10s' } });

/** The promotion workflow's Git steps (read the target's head, fast-forward, move back). */
export const promotionGit = engineProxies({ startToCloseTimeout: '2 minutes', retry: RETRY.promotion });

/**
 * A deployment's proxies, for its plan runner: the engine's short groups as local activities,
 * its long ones (hooks, static content) as activities that, when cancelled, are waited for
 * until the hook's process group has stopped; the same on the queue of the host that serves
 * the environment (its short groups locally only when this engine is that host). Every call on
 * the host's queue, its compensation included, has a schedule-to-start timeout of
 * `startTimeoutSeconds`: a host whose worker is gone fails the step (that timeout is not
 * retried) instead of leaving it Scheduled for ever.
 */
export function deploymentProxies(host: string, startTimeoutSeconds = DEFAULT_HOST_START_TIMEOUT_SECONDS) {
  const retry = RETRY.deployment;
  const taskQueue = hostTaskQueue(host);
  const long = { startToCloseTimeout: '60 minutes', cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED, retry } as const;
  const onHost = { scheduleToStartTimeout: startTimeoutSeconds * 1000 };
  return {
    engineLocal: proxyLocalActivities<EngineActivities>({ startToCloseTimeout: '5 minutes', retry }),
    engineLong: engineProxies(long),
    hostLocal: proxyLocalActivities<HostActivities>({ startToCloseTimeout: '5 minutes', retry }),
    host: hostProxies(taskQueue, { startToCloseTimeout: '5 minutes', retry, ...onHost }),
    hostLong: hostProxies(taskQueue, { ...long, ...onHost }),
  };
}
