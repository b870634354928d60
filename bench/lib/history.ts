/**
 * Timings read from Temporal's own histories: when a deployment workflow started and closed,
 * how long its activities ran (ActivityTaskStarted → Completed/Failed), and how many events
 * it wrote. The server stamps events with the machine's clock, the one this process reads.
 */
import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { workflowIds } from '../../src/domain/names';

const EventType = temporal.api.enums.v1.EventType;
type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

function eventMs(e: HistoryEvent): number {
  const t = e.eventTime;
  if (!t) return Number.NaN;
  return Number(t.seconds ?? 0) * 1000 + (t.nanos ?? 0) / 1e6;
}

export interface ActivitySpan {
  type: string;
  scheduledMs: number;
  startedMs: number;
  endedMs: number;
}

export interface DeploymentTimeline {
  workflowId: string;
  events: number;
  startedMs: number;
  closedMs: number;
  activities: ActivitySpan[];
  /** Sum of activity execution times (Started → Completed), ms. */
  activityMs: number;
}

function activitySpans(events: HistoryEvent[]): ActivitySpan[] {
  const byId = new Map<number, HistoryEvent>();
  for (const e of events) byId.set(Number(e.eventId), e);
  const spans: ActivitySpan[] = [];
  for (const e of events) {
    const done = e.activityTaskCompletedEventAttributes ?? e.activityTaskFailedEventAttributes ?? e.activityTaskTimedOutEventAttributes;
    if (!done) continue;
    const scheduled = byId.get(Number(done.scheduledEventId));
    const started = byId.get(Number(done.startedEventId));
    if (!scheduled || !started) continue;
    spans.push({
      type: scheduled.activityTaskScheduledEventAttributes?.activityType?.name ?? '?',
      scheduledMs: eventMs(scheduled),
      startedMs: eventMs(started),
      endedMs: eventMs(e),
    });
  }
  return spans;
}

export async function deploymentTimeline(client: Client, project: string, environment: string, n: number): Promise<DeploymentTimeline> {
  const workflowId = workflowIds.deployment(project, environment, n);
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  const events = history.events ?? [];
  const first = events[0];
  const last = events[events.length - 1];
  if (!first || !last || last.eventType !== EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED) {
    throw new Error(`${workflowId} did not complete (last event ${String(last?.eventType)})`);
  }
  const activities = activitySpans(events);
  return {
    workflowId,
    events: events.length,
    startedMs: eventMs(first),
    closedMs: eventMs(last),
    activities,
    activityMs: activities.reduce((s, a) => s + (a.endedMs - a.startedMs), 0),
  };
}

/**
 * The activity the environment workflow ran for deployment n before starting it (it resolves
 * the branch head): the last activity completed before that child was initiated.
 */
export async function environmentActivityMsBefore(client: Client, project: string, environment: string, n: number): Promise<number> {
  const history = await client.workflow.getHandle(workflowIds.environment(project, environment)).fetchHistory();
  const events = history.events ?? [];
  const childId = workflowIds.deployment(project, environment, n);
  const at = events.findIndex((e) => e.startChildWorkflowExecutionInitiatedEventAttributes?.workflowId === childId);
  if (at < 0) return 0;
  const spans = activitySpans(events.slice(0, at));
  const previousChild = events
    .slice(0, at)
    .reverse()
    .find((e) => e.startChildWorkflowExecutionInitiatedEventAttributes);
  const since = previousChild ? eventMs(previousChild) : 0;
  return spans.filter((s) => s.startedMs >= since).reduce((sum, s) => sum + (s.endedMs - s.startedMs), 0);
}

/** Events in a workflow's current run, and the run id (continue-as-new starts a new run). */
export async function historyLength(client: Client, workflowId: string, runId?: string): Promise<{ runId: string; length: number }> {
  const d = await client.workflow.getHandle(workflowId, runId).describe();
  return { runId: d.runId, length: d.historyLength };
}

/** Events a workflow wrote since `before` (across a continue-as-new, if one happened). */
export async function eventsSince(client: Client, workflowId: string, before: { runId: string; length: number }): Promise<number> {
  const now = await historyLength(client, workflowId);
  if (now.runId === before.runId) return now.length - before.length;
  const old = await historyLength(client, workflowId, before.runId);
  return old.length - before.length + now.length;
}

/**
 * Where a deployment's time went besides its activities: from the push to the deployment
 * workflow's start (ingest, project and environment workflows), activity tasks waiting in
 * their queue (scheduled → started), and the workflow's own tasks between activities.
 */
export interface Breakdown {
  toStartMs: number;
  queueMs: number;
  betweenMs: number;
}

export function breakdown(t: DeploymentTimeline, pushStartedMs: number): Breakdown {
  const queueMs = t.activities.reduce((s, a) => s + (a.startedMs - a.scheduledMs), 0);
  const inActivities = t.activities.reduce((s, a) => s + (a.endedMs - a.scheduledMs), 0);
  return { toStartMs: t.startedMs - pushStartedMs, queueMs, betweenMs: t.closedMs - t.startedMs - inActivities };
}

export function describeTimeline(t: DeploymentTimeline): string {
  return t.activities
    .map((a) => `${a.type} +${(a.scheduledMs - t.startedMs).toFixed(0)} queue ${(a.startedMs - a.scheduledMs).toFixed(0)} run ${(a.endedMs - a.startedMs).toFixed(0)}`)
    .join('\n');
}
