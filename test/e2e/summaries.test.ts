/**
 * The Temporal UI as the SRE's console: every workflow of a project that went through a
 * promotion and an expired ticket carries a static summary, and every activity (local ones
 * included: their history event is a marker) and timer in their histories says what it is for.
 */
import { strict as assert } from 'node:assert';
import type { temporal } from '@temporalio/proto';
import type { TicketRecord } from '../../src/domain/tickets';
import { createProject, getWorld } from '../harness/world';

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

function summaryOf(event: HistoryEvent): string | undefined {
  const data = event.userMetadata?.summary?.data;
  if (!data || data.length === 0) return undefined;
  return JSON.parse(Buffer.from(data).toString('utf8')) as string;
}

describe('summaries in the Temporal UI', function () {
  it('every workflow has a static summary; every activity and timer has a summary', async function () {
    const { client } = await getWorld();
    const p = await createProject('summaries');
    await client.waitForDeployment(p.project, 'integration');
    const promotion = await client.promote(p.project, 'staging', 'alice');
    await client.decide(p.project, promotion.ticket, { user: 'sam', decision: 'approve', comment: 'ok' });
    assert.equal((await client.waitForPromotion(promotion.workflowId)).status, 'deployed');
    const expiring = await client.openTicket({ project: p.project, kind: 'promotion', target: 'staging', requester: 'alice', title: 'e', expiresInMs: 1200, remindBeforeMs: 800 });
    assert.equal(((await client.temporal.workflow.getHandle(`ticket/${p.project}/${expiring.id}`).result()) as TicketRecord).status, 'expired');

    // Visibility is eventually consistent: wait until the expected kinds are all indexed.
    const expected = [`project/${p.project}`, `env/${p.project}/integration`, `env/${p.project}/staging`, `deploy/${p.project}/staging/1`, `ticket/${p.project}/${expiring.id}`, promotion.workflowId];
    let runs: { workflowId: string; runId: string }[] = [];
    for (const deadline = Date.now() + 20_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 250))) {
      runs = [];
      for await (const wf of client.temporal.workflow.list({ query: `SlipwayProject = "${p.project}"` })) runs.push(wf);
      if (expected.every((id) => runs.some((r) => r.workflowId === id))) break;
    }
    for (const id of expected) assert.ok(runs.some((r) => r.workflowId === id), `${id} is listed (found ${runs.map((r) => r.workflowId).join(', ')})`);

    const missing: string[] = [];
    let activities = 0;
    let localActivities = 0;
    let timers = 0;
    for (const run of runs) {
      const handle = client.temporal.workflow.getHandle(run.workflowId, run.runId);
      const description = await handle.describe();
      const staticSummary = await description.staticSummary();
      if (!staticSummary) missing.push(`${run.workflowId}: no static summary`);
      const history = await handle.fetchHistory();
      for (const event of history.events ?? []) {
        const activity = event.activityTaskScheduledEventAttributes;
        const local = event.markerRecordedEventAttributes?.markerName === 'core_local_activity' ? event.markerRecordedEventAttributes : undefined;
        const timer = event.timerStartedEventAttributes;
        if (!activity && !local && !timer) continue;
        if (activity) activities++;
        if (local) localActivities++;
        if (timer) timers++;
        if (!summaryOf(event)) {
          const what = activity ? `activity ${activity.activityType?.name ?? '?'}` : local ? 'local activity' : 'timer';
          missing.push(`${run.workflowId} event ${String(event.eventId)}: ${what} without a summary`);
        }
      }
    }
    assert.deepEqual(missing, []);
    assert.ok(activities + localActivities >= 10, `${activities} activities and ${localActivities} local activities checked`);
    assert.ok(localActivities >= 5, `${localActivities} local activities checked`);
    assert.ok(timers >= 2, `${timers} timers checked (reminder and expiry)`);
  });
});
