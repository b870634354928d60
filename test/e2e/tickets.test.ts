/**
 * Support tickets: the rules for decisions (role, no self-approval, two distinct approvers),
 * the same for signals and Updates, every attempt recorded; rejection, expiry with a reminder,
 * cancellation; a decision sent with the real `temporal workflow signal` command; a refused
 * decision visible in the history; the signals the Temporal UI offers.
 */
import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { defaultPayloadConverter } from '@temporalio/common';
import { locateTemporal } from '../../src/temporal/locate';
import type { TicketRecord } from '../../src/domain/tickets';
import { runSlipway } from '../harness/processes';
import { createProject, getWorld } from '../harness/world';

const run = promisify(execFile);
const HOUR = 3_600_000;

async function ticketProject(): Promise<string> {
  const { client } = await getWorld();
  const project = (await createProject('tickets', {}, { productionApprovals: 2 })).project;
  await client.waitForDeployment(project, 'integration');
  return project;
}

describe('support tickets', function () {
  it('only a support engineer other than the requester decides; production needs two distinct approvers; every attempt is kept', async function () {
    const { client } = await getWorld();
    const project = await ticketProject();
    const t = await client.openTicket({ project, kind: 'promotion', target: 'production', requester: 'sam', title: 'Promote staging to production', expiresInMs: 72 * HOUR, remindBeforeMs: 4 * HOUR });
    assert.equal(t.id, 'SUP-1');
    assert.equal(t.requiredApprovals, 2);
    await assert.rejects(client.decide(project, t.id, { user: 'alice', decision: 'approve' }), /refused: alice is not in the support role/);
    await assert.rejects(client.decide(project, t.id, { user: 'sam', decision: 'approve' }), /refused: sam requested this and cannot decide it/);
    await assert.rejects(client.decide(project, t.id, { user: 'mallory', decision: 'approve' }), /refused: unknown user "mallory"/);
    let now = await client.decide(project, t.id, { user: 'sue', decision: 'approve', comment: 'staging looks right' });
    assert.equal(now.status, 'open');
    await assert.rejects(client.decide(project, t.id, { user: 'sue', decision: 'approve' }), /refused: sue has approved already; SUP-1 needs 2 distinct approvers/);
    const second = await client.openTicket({ project, kind: 'promotion', target: 'staging', requester: 'alice', title: 'Promote integration to staging', expiresInMs: HOUR, remindBeforeMs: 0 });
    assert.equal(second.id, 'SUP-2');
    assert.equal(second.requiredApprovals, 1);

    // ada (admin, developer) is not support either.
    await assert.rejects(client.decide(project, t.id, { user: 'ada', decision: 'reject' }), /ada is not in the support role/);
    // The second distinct support engineer: sam is the requester, so production needs sue + another.
    now = await client.ticket(project, t.id);
    assert.equal(now.status, 'open');
    assert.deepEqual(
      now.attempts.map((a) => [a.user, a.decision, a.via, a.accepted]),
      [
        ['alice', 'approve', 'update', false],
        ['sam', 'approve', 'update', false],
        ['mallory', 'approve', 'update', false],
        ['sue', 'approve', 'update', true],
        ['sue', 'approve', 'update', false],
        ['ada', 'reject', 'update', false],
      ],
    );
    assert.equal(now.approvals.length, 1);
  });

  it('a decision sent with `temporal workflow signal` is honoured, an invalid one changes nothing', async function () {
    const { client, address } = await getWorld();
    const project = await ticketProject();
    const t = await client.openTicket({ project, kind: 'promotion', target: 'staging', requester: 'alice', title: 'Promote integration to staging', expiresInMs: HOUR, remindBeforeMs: 0 });
    const exe = locateTemporal({ allowSdkDownload: false });
    assert.equal(exe.kind, 'binary');
    const signal = (input: string) =>
      run(exe.kind === 'binary' ? exe.path : 'temporal', ['workflow', 'signal', '--address', address, '--workflow-id', `ticket/${project}/${t.id}`, '--name', 'decide', '--input', input]);

    await signal('{"user":"alice","decision":"approve"}');
    await signal('{"user":"sam","decision":"maybe"}');
    await signal('"approve"');
    let now = await client.ticket(project, t.id);
    assert.equal(now.status, 'open');
    assert.deepEqual(
      now.attempts.map((a) => [a.user, a.via, a.accepted, a.refusal]),
      [
        ['alice', 'signal', false, 'alice is not in the support role: only support engineers decide tickets'],
        ['sam', 'signal', false, 'decision must be "approve" or "reject"'],
        ['undefined', 'signal', false, 'a decision must be an object {user, decision, comment?}'],
      ],
    );

    await signal('{"user":"sam","decision":"approve","comment":"from the Temporal CLI"}');
    const result = (await client.temporal.workflow.getHandle(`ticket/${project}/${t.id}`).result()) as TicketRecord;
    assert.equal(result.status, 'approved');
    assert.equal(result.closedReason, 'approved by sam');
    now = await client.ticket(project, t.id);
    assert.equal(now.attempts.at(-1)?.via, 'signal');
    await assert.rejects(client.decide(project, t.id, { user: 'sue', decision: 'reject' }), /refused: SUP-\d+ is approved: it takes no more decisions/);
  });

  it('a refused decision leaves a trace in the history, with its reason (by signal and by Update)', async function () {
    const { client } = await getWorld();
    const project = await ticketProject();
    const t = await client.openTicket({ project, kind: 'promotion', target: 'staging', requester: 'sam', title: 'trace', expiresInMs: HOUR, remindBeforeMs: 0 });
    const handle = client.temporal.workflow.getHandle(`ticket/${project}/${t.id}`);
    await handle.signal('decide', { user: 'sam', decision: 'approve' });
    await assert.rejects(client.decide(project, t.id, { user: 'alice', decision: 'approve' }), /alice is not in the support role/);

    const traces = async (): Promise<string[]> =>
      ((await handle.fetchHistory()).events ?? []).flatMap((e) => {
        const memo = e.workflowPropertiesModifiedEventAttributes?.upsertedMemo?.fields?.lastRefusal;
        return memo ? [defaultPayloadConverter.fromPayload<string>(memo)] : [];
      });
    let found: string[] = [];
    for (let i = 0; i < 40 && found.length < 2; i++) {
      found = await traces();
      if (found.length < 2) await new Promise((r) => setTimeout(r, 250));
    }
    assert.equal(found.length, 2, found.join('\n'));
    assert.match(found[0]!, /^refused: sam requested this and cannot decide it \(sam approve by signal, \d{4}-/);
    assert.match(found[1]!, /^refused: alice is not in the support role: only support engineers decide tickets \(alice approve by update, /);
    const memo = (await handle.describe()).memo ?? {};
    assert.match(String(memo.lastRefusal), /^refused: alice is not in the support role/);
    assert.equal(memo.refusals, 2);
    // Nothing else changed: the ticket is open, and an accepted decision leaves no refusal.
    assert.equal((await client.decide(project, t.id, { user: 'sue', decision: 'approve' })).status, 'approved');
    assert.equal((await traces()).length, 2);
  });

  it('the signals the Temporal UI offers: the decisions, described; internal plumbing named so; the retired names still honoured', async function () {
    const { client } = await getWorld();
    const project = await ticketProject();
    const t = await client.openTicket({ project, kind: 'promotion', target: 'staging', requester: 'alice', title: 'signals', expiresInMs: HOUR, remindBeforeMs: 0 });
    const handle = client.temporal.workflow.getHandle(`ticket/${project}/${t.id}`);
    type Definition = { name: string; description?: string };
    type Metadata = { definition: { signalDefinitions: Definition[]; updateDefinitions: Definition[]; queryDefinitions: Definition[] } };
    const { definition } = await handle.query<Metadata>('__temporal_workflow_metadata');
    const signals = new Map(definition.signalDefinitions.map((d) => [d.name, d.description ?? '']));
    assert.deepEqual([...signals.keys()].sort(), ['decide', 'internal:cancelTicket', 'internal:ticketOutcome']);
    for (const bare of ['cancel', 'outcome', 'ticketClosed']) assert.ok(!signals.has(bare), `${bare} is offered`);
    assert.match(signals.get('decide')!, /^Operator decision: approve or reject this ticket.*"decision":"approve"\|"reject"/);
    for (const [name, description] of signals) if (name.startsWith('internal:')) assert.match(description, /^Internal \(sent by .*Not an operator/, name);
    const decision = definition.updateDefinitions.find((d) => d.name === 'decision');
    assert.match(decision?.description ?? '', /^Operator decision, answered at once/);

    // The project's ticketClosed is internal too, and named so; every signal of the project and
    // of its environments is plumbing (operators act through Updates), and described as such.
    const project_ = await client.temporal.workflow.getHandle(`project/${project}`).query<Metadata>('__temporal_workflow_metadata');
    const projectSignals = project_.definition.signalDefinitions.map((d) => d.name);
    assert.ok(projectSignals.includes('internal:ticketClosed') && !projectSignals.includes('ticketClosed'), projectSignals.join(', '));
    const environment = await client.temporal.workflow.getHandle(`env/${project}/integration`).query<Metadata>('__temporal_workflow_metadata');
    for (const d of [...project_.definition.signalDefinitions, ...environment.definition.signalDefinitions]) {
      assert.match(d.description ?? '', /^Internal \(sent by .*Not an operator action/, d.name);
    }

    // A sender of before (a running promotion that predates the names) still closes the ticket with the retired name.
    await handle.signal('cancel', { reason: 'sent under the retired name' });
    const closed = (await handle.result()) as TicketRecord;
    assert.equal(closed.status, 'cancelled');
    assert.equal(closed.closedReason, 'sent under the retired name');
  });

  it('rejection, expiry after a reminder, and cancellation close a ticket', async function () {
    const { client } = await getWorld();
    const project = await ticketProject();
    const rejected = await client.openTicket({ project, kind: 'promotion', target: 'staging', requester: 'alice', title: 'r', expiresInMs: HOUR, remindBeforeMs: 0 });
    const r = await client.decide(project, rejected.id, { user: 'sue', decision: 'reject', comment: 'the checkout page is broken on integration' });
    assert.equal(r.status, 'rejected');
    assert.equal(r.closedReason, 'rejected by sue: the checkout page is broken on integration');

    const expiring = await client.openTicket({ project, kind: 'promotion', target: 'staging', requester: 'alice', title: 'e', expiresInMs: 1500, remindBeforeMs: 1000 });
    const e = (await client.temporal.workflow.getHandle(`ticket/${project}/${expiring.id}`).result()) as TicketRecord;
    assert.equal(e.status, 'expired');
    assert.equal(e.reminders.length, 1);
    assert.ok(e.reminders[0]! - e.openedAt >= 400, 'not reminded before the reminder time');
    assert.ok(e.reminders[0]! < e.closedAt!, 'reminded before expiry');
    assert.ok(e.closedAt! - e.openedAt >= 1500);

    const cancelled = await client.openTicket({ project, kind: 'promotion', target: 'staging', requester: 'alice', title: 'c', expiresInMs: HOUR, remindBeforeMs: 0 });
    await client.temporal.workflow.getHandle(`ticket/${project}/${cancelled.id}`).cancel();
    const c = await client.ticket(project, cancelled.id);
    assert.equal(c.status, 'cancelled');
  });

  it('slipway ticket list, show, approve and reject', async function () {
    const { client, layout } = await getWorld();
    const project = await ticketProject();
    const env = { ...process.env, SLIPWAY_HOME: layout.home };
    const a = await client.openTicket({ project, kind: 'promotion', target: 'staging', requester: 'alice', title: 'Promote integration to staging', expiresInMs: HOUR, remindBeforeMs: 0 });
    const b = await client.openTicket({ project, kind: 'promotion', target: 'production', requester: 'alice', title: 'Promote staging to production', expiresInMs: HOUR, remindBeforeMs: 0, requiredApprovals: 1 });

    const refused = await runSlipway(['ticket', 'approve', project, a.id, '--as', 'bob'], env);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /refused: bob is not in the support role/);
    const approved = await runSlipway(['ticket', 'approve', project, a.id, '--as', 'sam', '--comment', 'ok'], env);
    assert.equal(approved.code, 0, approved.stderr);
    assert.match(approved.stderr, /SUP-1 is approved/);
    const rejected = await runSlipway(['ticket', 'reject', project, b.id, '--as', 'sue'], env);
    assert.equal(rejected.code, 0, rejected.stderr);
    const noUser = await runSlipway(['ticket', 'approve', project, a.id], env);
    assert.equal(noUser.code, 2);
    assert.match(noUser.stderr, /--as <user>/);
    const badId = await runSlipway(['ticket', 'show', project, 'TICKET-1'], env);
    assert.equal(badId.code, 2);
    assert.match(badId.stderr, /ticket must look like SUP-<number>/);

    const show = await runSlipway(['ticket', 'show', project, a.id], env);
    assert.match(show.stdout, /SUP-1 approved: Promote integration to staging/);
    assert.match(show.stdout, /bob approve via update: refused \(bob is not in the support role/);
    // Visibility is eventually consistent: the closed tickets show up as such soon.
    let list = '';
    for (let i = 0; i < 40 && !/SUP-2\s+rejected/.test(list); i++) {
      list = (await runSlipway(['ticket', 'list', project], env)).stdout;
      if (!/SUP-2\s+rejected/.test(list)) await new Promise((r) => setTimeout(r, 250));
    }
    assert.match(list, /SUP-1\s+approved/);
    assert.match(list, /SUP-2\s+rejected/);
    const open = await runSlipway(['ticket', 'list', project, '--open', '--json'], env);
    assert.deepEqual(JSON.parse(open.stdout), []);
  });
});
