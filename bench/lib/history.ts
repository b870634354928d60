/**
 * Timings read from Temporal's own histories: when a deployment workflow started and closed,
 * how long its activities ran (ActivityTaskStarted → Completed/Failed), and how many events
 * it wrote. The server stamps events with the machine's clock, the one this process reads.
 */
import * as fs from 'node:fs';
import type { Client } from '@temporalio/client';
import type { ActivityTiming } from '../../src/activities/lib/timings';
import { temporal } from '@temporalio/proto';
import { workflowIds } from '../../src/domain/names';

const EventType = temporal.api.enums.v1.EventType;
type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

export function eventMs(e: HistoryEvent): number {
  const t = e.eventTime;
  if (!t) return Number.NaN;
  return Number(t.seconds ?? 0) * 1000 + (t.nanos ?? 0) / 1e6;
}

export interface ActivitySpan {
  type: string;
  scheduledMs: number;
  startedMs: number;
  endedMs: number;
  /** A local activity: run in the workflow's own task; its times come from the worker's timings file. */
  local?: boolean;
}

let timingsFile: string | undefined;

/** The worker's SLIPWAY_ACTIVITY_TIMINGS file: every activity attempt it ran, local or not. */
export function setActivityTimingsFile(file: string): void {
  timingsFile = file;
}

function timingsOf(workflowId: string): ActivityTiming[] {
  if (!timingsFile || !fs.existsSync(timingsFile)) return [];
  return fs
    .readFileSync(timingsFile, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as ActivityTiming)
    .filter((t) => t.workflowId === workflowId);
}

/** The local activities' spans, from the timings file (they are only markers in the history). */
function localSpans(timings: ActivityTiming[]): ActivitySpan[] {
  return timings
    .filter((t) => t.local)
    .map((t) => ({ type: t.type, scheduledMs: t.startedMs, startedMs: t.startedMs, endedMs: t.endedMs, local: true }));
}

/**
 * Time inside activities: from the worker's own timings when it writes them (execution only,
 * every attempt, local or not), else from the history (started → completed, which also counts
 * the completion's trip to the server).
 */
function insideMs(timings: ActivityTiming[], spans: ActivitySpan[], since = 0, until = Infinity): number {
  const within = timings.filter((t) => t.startedMs >= since && t.startedMs <= until);
  if (timingsFile) return within.reduce((s, t) => s + (t.endedMs - t.startedMs), 0);
  return spans.filter((a) => a.startedMs >= since && a.startedMs <= until).reduce((s, a) => s + (a.endedMs - a.startedMs), 0);
}

export interface DeploymentTimeline {
  workflowId: string;
  events: number;
  startedMs: number;
  closedMs: number;
  activities: ActivitySpan[];
  /** The workflow's own tasks: started (handed to the worker) → completed (its commands recorded). */
  workflowTasks: { startedMs: number; completedMs: number }[];
  /** Time inside activities (local ones included), ms: see insideMs. */
  activityMs: number;
}

function eventsById(events: HistoryEvent[]): Map<number, HistoryEvent> {
  return new Map(events.map((e) => [Number(e.eventId), e]));
}

function activitySpans(events: HistoryEvent[]): ActivitySpan[] {
  const byId = eventsById(events);
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

function workflowTaskSpans(events: HistoryEvent[]): { startedMs: number; completedMs: number }[] {
  const byId = eventsById(events);
  return events
    .filter((e) => e.workflowTaskCompletedEventAttributes)
    .map((e) => ({ startedMs: eventMs(byId.get(Number(e.workflowTaskCompletedEventAttributes!.startedEventId))!), completedMs: eventMs(e) }));
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
  const timings = timingsOf(workflowId);
  const activities = [...activitySpans(events), ...localSpans(timings)].sort((a, b) => a.scheduledMs - b.scheduledMs);
  return {
    workflowId,
    events: events.length,
    startedMs: eventMs(first),
    closedMs: eventMs(last),
    activities,
    workflowTasks: workflowTaskSpans(events),
    activityMs: insideMs(timings, activities),
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
  const envId = workflowIds.environment(project, environment);
  const timings = timingsOf(envId);
  const spans = [...activitySpans(events.slice(0, at)), ...localSpans(timings)];
  const previousChild = events
    .slice(0, at)
    .reverse()
    .find((e) => e.startChildWorkflowExecutionInitiatedEventAttributes);
  const since = previousChild ? eventMs(previousChild) : 0;
  const initiated = events[at];
  return insideMs(timings, spans, since, initiated ? eventMs(initiated) : Infinity);
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
  const queueMs = t.activities.filter((a) => !a.local).reduce((s, a) => s + (a.startedMs - a.scheduledMs), 0);
  const inActivities = t.activities.reduce((s, a) => s + (a.endedMs - a.scheduledMs), 0);
  return { toStartMs: t.startedMs - pushStartedMs, queueMs, betweenMs: t.closedMs - t.startedMs - inActivities };
}

/**
 * Where a deployment's own orchestration goes, from its timeline: the start until its first
 * step, the gaps before local steps (a local activity handed back and forth inside the
 * workflow task), the round trips before activities (the workflow task that schedules the
 * next one, then its queue), and the last step until the workflow closed.
 */
export interface Anatomy {
  firstStepMs: number;
  localGaps: number;
  localGapMs: number;
  roundTrips: number;
  roundTripMs: number;
  tailMs: number;
}

export function anatomy(t: DeploymentTimeline): Anatomy {
  const spans = [...t.activities].sort((a, b) => a.startedMs - b.startedMs);
  const a: Anatomy = { firstStepMs: 0, localGaps: 0, localGapMs: 0, roundTrips: 0, roundTripMs: 0, tailMs: 0 };
  if (spans.length === 0) return a;
  a.firstStepMs = spans[0]!.startedMs - t.startedMs;
  for (let i = 1; i < spans.length; i++) {
    const gap = spans[i]!.startedMs - spans[i - 1]!.endedMs;
    if (spans[i]!.local) {
      a.localGaps++;
      a.localGapMs += gap;
    } else {
      a.roundTrips++;
      a.roundTripMs += gap;
    }
  }
  a.tailMs = t.closedMs - Math.max(...spans.map((s) => s.endedMs));
  return a;
}

export function describeTimeline(t: DeploymentTimeline): string {
  const tasks = t.workflowTasks.map((w) => ({
    at: w.startedMs,
    line: `  workflow task +${(w.startedMs - t.startedMs).toFixed(0)} took ${(w.completedMs - w.startedMs).toFixed(0)}`,
  }));
  const steps = t.activities.map((a) => ({
    at: a.startedMs,
    line: describeSpan(t, a),
  }));
  return [...tasks, ...steps]
    .sort((a, b) => a.at - b.at)
    .map((x) => x.line)
    .join('\n');
}

function describeSpan(t: DeploymentTimeline, a: ActivitySpan): string {
  return [a]
    .map((a) =>
      a.local
        ? `${a.type} +${(a.startedMs - t.startedMs).toFixed(0)} local run ${(a.endedMs - a.startedMs).toFixed(0)}`
        : `${a.type} +${(a.scheduledMs - t.startedMs).toFixed(0)} queue ${(a.startedMs - a.scheduledMs).toFixed(0)} run ${(a.endedMs - a.startedMs).toFixed(0)}`,
    )
    .join('\n');
}
