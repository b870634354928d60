/**
 * Every activity heartbeats while it runs, so that a worker that dies (`kill -9`, a lost
 * host) is noticed within the heartbeat timeout rather than the activity's start-to-close
 * timeout. The worker installs this interceptor; activities need not heartbeat themselves.
 */
import type { ActivityInboundCallsInterceptor, ActivityInterceptorsFactory } from '@temporalio/worker';
import { ACTIVITY_HEARTBEAT_INTERVAL_MS } from '../../domain/activity-timeouts';

export const heartbeatInterceptor: ActivityInterceptorsFactory = (ctx) => {
  const inbound: ActivityInboundCallsInterceptor = {
    async execute(input, next) {
      // A local activity has no heartbeat: its workflow task stands for it.
      if (ctx.info.isLocal) return next(input);
      ctx.heartbeat();
      const timer = setInterval(() => ctx.heartbeat(), ACTIVITY_HEARTBEAT_INTERVAL_MS);
      try {
        return await next(input);
      } finally {
        clearInterval(timer);
      }
    },
  };
  return { inbound };
};
