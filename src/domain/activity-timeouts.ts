/**
 * How soon a worker that died (`kill -9`, a lost host) is noticed. Every activity heartbeats
 * while it runs (the worker's heartbeat interceptor), so every activity is given this
 * heartbeat timeout: an attempt lost with its worker is retried after at most this long,
 * however long the activity's own start-to-close timeout is.
 */
export const ACTIVITY_HEARTBEAT_TIMEOUT = '10 seconds';
/** How often the worker heartbeats for a running activity. */
export const ACTIVITY_HEARTBEAT_INTERVAL_MS = 1000;
