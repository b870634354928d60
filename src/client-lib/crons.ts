/**
 * An environment's crons as their Temporal Schedules show them: spec, command, paused or not
 * (and why), the last run and the next. Shared by the client (`slipway env crons`, the API)
 * and the engine's cron activities.
 */
import { ScheduleNotFoundError, type ScheduleClient, type ScheduleDescription } from '@temporalio/client';
import { cronSchedulePrefix, type CronRunInput, type CronStatus } from '../domain/crons';

/**
 * The Schedules of one environment, by cron name. The list comes from visibility, which lags:
 * a Schedule deleted a moment ago can still be listed, and is skipped when it no longer exists.
 */
export async function schedulesOf(schedules: ScheduleClient, project: string, environment: string): Promise<Map<string, ScheduleDescription>> {
  const prefix = cronSchedulePrefix(project, environment);
  const found = new Map<string, ScheduleDescription>();
  for await (const s of schedules.list()) {
    if (!s.scheduleId.startsWith(prefix)) continue;
    try {
      found.set(s.scheduleId.slice(prefix.length), await schedules.getHandle(s.scheduleId).describe());
    } catch (err) {
      if (!(err instanceof ScheduleNotFoundError)) throw err;
    }
  }
  return found;
}

export async function cronStatuses(schedules: ScheduleClient, project: string, environment: string): Promise<CronStatus[]> {
  const out: CronStatus[] = [];
  for (const [name, d] of [...(await schedulesOf(schedules, project, environment))].sort(([a], [b]) => a.localeCompare(b))) {
    const last = d.info.recentActions.at(-1);
    const next = d.info.nextActionTimes[0];
    const run = d.action.type === 'startWorkflow' ? (d.action.args?.[0] as Partial<CronRunInput> | undefined) : undefined;
    out.push({
      name,
      scheduleId: d.scheduleId,
      spec: run?.spec ?? '',
      cmd: run?.cmd ?? '',
      paused: d.state.paused,
      ...(d.state.note ? { note: d.state.note } : {}),
      ...(last ? { lastRun: { at: last.takenAt.toISOString(), workflowId: last.action.workflow.workflowId } } : {}),
      ...(next && !d.state.paused ? { nextRun: next.toISOString() } : {}),
    });
  }
  return out;
}
