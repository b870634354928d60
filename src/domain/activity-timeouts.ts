/**
 * How soon a worker that died (`kill -9`, a lost host) is noticed. Every activity heartbeats
 * while it runs (the worker's heartbeat interceptor), so every activity is given this
 * heartbeat timeout: an attempt lost with its worker is retried after at most this long,
 * however long the activity's own start-to-close timeout is.
 */
export const ACTIVITY_HEARTBEAT_TIMEOUT = '10 seconds';
/** How often the worker heartbeats for a running activity. */
export const ACTIVITY_HEARTBEAT_INTERVAL_MS = 1000;
/**
 * How long a step bound to a host (a deployment's host steps and their compensation) may wait
 * in the host's task queue before a worker of the host takes it: its schedule-to-start timeout.
 * A dead host (its worker killed, its machine gone) then fails the deployment loudly instead of
 * leaving it Scheduled for ever. The wait of a busy host's queue counts too, hence a minute by
 * default; a project sets its own (`project create --host-start-timeout <seconds>`).
 */
export const DEFAULT_HOST_START_TIMEOUT_SECONDS = 60;
export const MAX_HOST_START_TIMEOUT_SECONDS = 3600;

/** What a deployment says when its host did not take a step within the timeout. */
export const hostDidNotTakeStep = (host: string, seconds: number, activity?: string): string =>
  `host ${host} did not take the step in ${seconds} s${activity ? ` (activity ${activity})` : ''}: is a \`slipway worker --host ${host}\` running and connected?`;
