/**
 * With SLIPWAY_ACTIVITY_TIMINGS=<file>, the worker appends one JSON line per activity attempt
 * it ran, local or not: workflow id, activity type, whether it was local, attempt, and when it
 * started and ended (epoch ms). The benchmark reads it to tell the time spent inside
 * activities from the orchestration around them; local activities leave no start or end
 * time in the history.
 */
import * as fs from 'node:fs';
import type { ActivityInboundCallsInterceptor, ActivityInterceptorsFactory } from '@temporalio/worker';

export interface ActivityTiming {
  workflowId: string;
  type: string;
  local: boolean;
  attempt: number;
  startedMs: number;
  endedMs: number;
}

export const ACTIVITY_TIMINGS_ENV = 'SLIPWAY_ACTIVITY_TIMINGS';

/** The interceptor, when SLIPWAY_ACTIVITY_TIMINGS names a file; else none. */
export function timingInterceptors(): ActivityInterceptorsFactory[] {
  const file = process.env[ACTIVITY_TIMINGS_ENV];
  if (!file) return [];
  const factory: ActivityInterceptorsFactory = (ctx) => {
    const inbound: ActivityInboundCallsInterceptor = {
      async execute(input, next) {
        const startedMs = performance.timeOrigin + performance.now();
        try {
          return await next(input);
        } finally {
          const { info } = ctx;
          const line: ActivityTiming = {
            workflowId: info.workflowExecution?.workflowId ?? '',
            type: info.activityType,
            local: info.isLocal,
            attempt: info.attempt,
            startedMs,
            endedMs: performance.timeOrigin + performance.now(),
          };
          fs.appendFileSync(file, `${JSON.stringify(line)}\n`);
        }
      },
    };
    return { inbound };
  };
  return [factory];
}
