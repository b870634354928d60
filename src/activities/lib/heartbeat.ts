/**
 * Every activity heartbeats while it runs, so that a worker that dies (`kill -9`, a lost
 * host) is noticed within the heartbeat timeout rather than the activity's start-to-close
 * timeout. The worker installs this interceptor; activities need not heartbeat themselves.
 *
 * Each heartbeat says what the activity is doing: the named step it runs now (`deploy-hook`,
 * `static-content-build`, …) and since when, so a pending activity in the Temporal UI (or
 * `temporal workflow describe`) shows its sub-step in its heartbeat details. A step reports
 * itself through `reportStep` (every step of a deployment does, through its log).
 */
import { Context } from '@temporalio/activity';
import type { ActivityInboundCallsInterceptor, ActivityInterceptorsFactory } from '@temporalio/worker';
import { ACTIVITY_HEARTBEAT_INTERVAL_MS } from '../../domain/activity-timeouts';

/** The heartbeat details of a running activity. */
export interface HeartbeatDetails {
  /** The activity (a group of the deployment's plan, a cron, …). */
  activity: string;
  /** The named step it runs now; absent before its first step. */
  step?: string;
  /** When that step (or the activity) started, ISO 8601. */
  since: string;
}

const doing = new WeakMap<Context, HeartbeatDetails>();

/** What the activity of `ctx` is doing now, for its heartbeats. */
export function heartbeatDetails(ctx: Context): HeartbeatDetails {
  let details = doing.get(ctx);
  if (!details) {
    details = { activity: ctx.info.activityType, since: new Date().toISOString() };
    doing.set(ctx, details);
  }
  return details;
}

/** The current activity now runs `step`: its next heartbeat (sent at once) names it. Outside an activity: nothing. */
export function reportStep(step: string): void {
  let ctx: Context;
  try {
    ctx = Context.current();
  } catch {
    return; // not in an activity
  }
  const details = { activity: ctx.info.activityType, step, since: new Date().toISOString() };
  doing.set(ctx, details);
  if (!ctx.info.isLocal) ctx.heartbeat(details);
}

export const heartbeatInterceptor: ActivityInterceptorsFactory = (ctx) => {
  const inbound: ActivityInboundCallsInterceptor = {
    async execute(input, next) {
      // A local activity has no heartbeat: its workflow task stands for it.
      if (ctx.info.isLocal) return next(input);
      ctx.heartbeat(heartbeatDetails(ctx));
      const timer = setInterval(() => ctx.heartbeat(heartbeatDetails(ctx)), ACTIVITY_HEARTBEAT_INTERVAL_MS);
      try {
        return await next(input);
      } finally {
        clearInterval(timer);
      }
    },
  };
  return { inbound };
};
