/**
 * What docs/operations.md promises an SRE in the Temporal UI, checked against a real server: its
 * visibility queries, run as written; its table of the search attributes each workflow kind
 * carries, against a workflow of every kind started in one small scenario; and a running
 * activity's heartbeat details naming its step.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { defaultPayloadConverter } from '@temporalio/common';
import { PACKAGE_ROOT } from '../../src/home';
import { minimalApp } from '../fixtures/app-yaml';
import { commitOnly, createProject, deployedProject, getWorld, push } from '../harness/world';

const operationsDoc = (): string => fs.readFileSync(path.join(PACKAGE_ROOT, 'docs', 'operations.md'), 'utf8');

function documentedQueries(): Map<string, string> {
  const block = /```visibility\n([\s\S]*?)```/.exec(operationsDoc())?.[1] ?? '';
  const queries = new Map<string, string>();
  let name = '';
  for (const line of block.split('\n')) {
    if (line.startsWith('-- ')) name = line.slice(3).trim();
    else if (line.trim()) queries.set(name, line.trim());
  }
  return queries;
}

/** The table of docs/operations.md: per kind, each attribute's cell ('—': the kind does not carry it). */
function documentedAttributes(): Map<string, Record<string, string>> {
  const lines = operationsDoc().split('\n');
  const header = lines.findIndex((l) => l.startsWith('| kind (`SlipwayKind`)'));
  assert.ok(header >= 0, 'the table of search attributes per kind in docs/operations.md');
  const cells = (l: string): string[] => l.replace(/\\\|/g, '¦').split('|').slice(1, -1).map((c) => c.trim());
  const names = cells(lines[header]!).map((c) => c.replace(/`/g, ''));
  const kinds = new Map<string, Record<string, string>>();
  for (const line of lines.slice(header + 2)) {
    if (!line.startsWith('|')) break;
    const row = cells(line);
    const kind = /^`([a-z-]+)`/.exec(row[0]!)?.[1];
    assert.ok(kind, line);
    kinds.set(kind, Object.fromEntries(names.slice(2).map((n, i) => [n, row[i + 2]!])));
  }
  return kinds;
}

/** Visibility is eventually consistent: retried until `ok` or 20 s. */
async function listed(query: string, ok: (found: Map<string, Record<string, unknown>>) => boolean): Promise<Map<string, Record<string, unknown>>> {
  const { client } = await getWorld();
  let found = new Map<string, Record<string, unknown>>();
  for (let i = 0; i < 80; i++) {
    found = new Map();
    for await (const wf of client.temporal.workflow.list({ query })) {
      found.set(wf.workflowId, Object.fromEntries(wf.typedSearchAttributes.getAll().map((p) => [p.key.name, p.value])));
    }
    if (ok(found)) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  return found;
}

describe('what docs/operations.md promises in the Temporal UI', function () {
  let p: Awaited<ReturnType<typeof deployedProject>>;
  let noAdmin: Awaited<ReturnType<typeof deployedProject>>;
  let failed: { deployment: number };
  let ticket: { id: string };

  before(async function () {
    p = await deployedProject('ops');
    const { client } = p;
    const bad = await commitOnly(p.repo, { '.magento/routes.yaml': '"http://{nope}/":\n  type: upstream\n  upstream: "mymagento:http"\n' });
    await push(p.repo, 'integration');
    failed = await client.waitForDeployment(p.project, 'integration', { commit: bad });
    ticket = await client.openTicket({ project: p.project, kind: 'promotion', target: 'staging', requester: 'alice', title: 'ops', expiresInMs: 3_600_000, remindBeforeMs: 0 });

    // A failed production deployment: a store without /admin fails production's smoke check.
    // Its cron gives the scenario a cron run.
    noAdmin = await deployedProject('opsprod', {
      '.magento.app.yaml':
        'name: mymagento\ntype: php:8.3\nhooks:\n  build: |\n    mkdir -p pub && echo "<title>x</title>" > pub/index.html\ncrons:\n  hello:\n    spec: "0 0 1 1 *"\n    cmd: "true"\n',
    });
    for (const target of ['staging', 'production'] as const) {
      const promo = await client.promote(noAdmin.project, target, 'alice');
      await client.decide(noAdmin.project, promo.ticket, { user: 'sam', decision: 'approve' });
      await client.waitForPromotion(promo.workflowId);
    }
    const schedule = client.temporal.schedule.getHandle(`cron/${noAdmin.project}/integration/hello`);
    for (let i = 0; i < 120 && !(await schedule.describe().then(() => true, () => false)); i++) await new Promise((r) => setTimeout(r, 250));
    await schedule.trigger();
  });

  it('the visibility queries find the expected workflows', async function () {
    const failedProduction = `deploy/${noAdmin.project}/production/1`;
    const deploy = (n: number) => `deploy/${p.project}/integration/${n}`;
    const expected: Record<string, { has: string[]; hasNot?: string[] }> = {
      'everything of a project': { has: [`project/${p.project}`, `env/${p.project}/integration`, deploy(1), deploy(2), `ticket/${p.project}/${ticket.id}`] },
      'the deployments of one environment': { has: [deploy(1), deploy(2)], hasNot: [`env/${p.project}/integration`, `ticket/${p.project}/${ticket.id}`] },
      'failed deployments': { has: [deploy(failed.deployment)], hasNot: [deploy(1)] },
      'where a commit was deployed': { has: [deploy(1)], hasNot: [deploy(2), `env/${p.project}/integration`] },
      'deployments running now': { has: [], hasNot: [deploy(1), deploy(2)] },
      'tickets waiting for a decision': { has: [`ticket/${p.project}/${ticket.id}`] },
      'the environments of a project': { has: [`env/${p.project}/integration`], hasNot: [deploy(1), `project/${p.project}`] },
      'every open ticket, of every project': { has: [`ticket/${p.project}/${ticket.id}`], hasNot: [`ticket/${noAdmin.project}/SUP-1`] },
      'every failed production deployment since a date (this week: the last Monday)': { has: [failedProduction], hasNot: [deploy(failed.deployment), `deploy/${noAdmin.project}/staging/1`] },
    };
    const queries = documentedQueries();
    assert.deepEqual([...queries.keys()].sort(), Object.keys(expected).sort(), 'every documented query is checked');
    for (const [name, template] of queries) {
      const query = template
        .replaceAll('<project>', p.project)
        .replaceAll('<environment>', 'integration')
        .replaceAll('<commit>', p.first.commit)
        .replaceAll('<since>', new Date(Date.now() - 7 * 86_400_000).toISOString());
      const want = expected[name]!;
      const found = await listed(query, (f) => want.has.every((id) => f.has(id)) && !(want.hasNot ?? []).some((id) => f.has(id)));
      for (const id of want.has) assert.ok(found.has(id), `${name}: ${id} not in ${[...found.keys()].join(', ')}`);
      for (const id of want.hasNot ?? []) assert.ok(!found.has(id), `${name}: ${id} should not be there`);
    }
  });

  it('every workflow kind carries the search attributes its row of the table promises, from its start', async function () {
    const { client } = p;
    const table = documentedAttributes();
    assert.deepEqual([...table.keys()].sort(), ['cron', 'deployment', 'environment', 'host-supervisor', 'project', 'promotion', 'ticket']);
    const projects = `SlipwayProject IN ("${p.project}", "${noAdmin.project}")`;
    for (const [kind, row] of table) {
      const query = `SlipwayKind = "${kind}"${row.SlipwayProject === '—' ? '' : ` AND ${projects}`}`;
      const complete = (attrs: Record<string, unknown>): boolean => Object.entries(row).every(([name, cell]) => (cell === '—') === (attrs[name] === undefined));
      const found = await listed(query, (f) => f.size > 0 && [...f.values()].every(complete));
      assert.ok(found.size > 0, `no workflow of kind ${kind} (${query})`);
      for (const [id, attrs] of found) {
        assert.equal(attrs.SlipwayKind, kind, id);
        for (const [name, cell] of Object.entries(row)) {
          if (cell === '—') {
            assert.equal(attrs[name], undefined, `${id} should not carry ${name}`);
            continue;
          }
          assert.ok(typeof attrs[name] === 'string' && attrs[name] !== '', `${id} carries ${name} (${JSON.stringify(attrs)})`);
          // A cell that lists values (`idle`, `deploying`, …): the value is one of them.
          const values = [...cell.matchAll(/`([a-z-]+)`/g)].map((m) => m[1]);
          if (values.length > 1) assert.ok(values.includes(attrs[name]), `${id}: ${name}=${String(attrs[name])} not among ${values.join(', ')}`);
        }
        if (kind === 'project' || kind === 'ticket' || kind === 'promotion' || kind === 'deployment') assert.equal(attrs.SlipwayProject, id.split('/')[1], id);
        if (kind === 'environment' || kind === 'deployment' || kind === 'cron') assert.equal(attrs.SlipwayEnvironment, id.split('/')[2], id);
        if (kind === 'promotion') assert.equal(attrs.SlipwayEnvironment, id.split('/')[2], id);
        // From its start: the attributes are in the started event, but for a value the row
        // says comes later ("once …").
        const started = (await client.temporal.workflow.getHandle(id).fetchHistory()).events?.[0]?.workflowExecutionStartedEventAttributes;
        const atStart = Object.keys(started?.searchAttributes?.indexedFields ?? {});
        for (const [name, cell] of Object.entries(row)) {
          if (cell !== '—' && !/\bonce\b/.test(cell)) assert.ok(atStart.includes(name), `${id} started without ${name} (${atStart.join(', ')})`);
        }
      }
    }
  });

  it('a running activity heartbeats the name of its step: a deployment during its deploy hook', async function () {
    const { client } = await getWorld();
    const slow = await createProject('opsbeat', {
      '.magento.app.yaml': minimalApp({ build: 'mkdir -p pub && echo "<title>x</title>" > pub/index.html', deploy: 'sleep 20' }),
    });
    const handle = client.temporal.workflow.getHandle(`deploy/${slow.project}/integration/1`);
    let seen: Array<Record<string, unknown>> = [];
    const deadline = Date.now() + 120_000;
    while (Date.now() < deadline) {
      const described = await handle.describe().catch(() => undefined);
      seen = (described?.raw.pendingActivities ?? []).flatMap((a) =>
        (a.heartbeatDetails?.payloads ?? []).map((pl) => ({ type: a.activityType?.name, ...defaultPayloadConverter.fromPayload<Record<string, unknown>>(pl) })),
      );
      if (seen.some((d) => d.step === 'deploy-hook')) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    const beat = seen.find((d) => d.step === 'deploy-hook');
    assert.ok(beat, `no heartbeat naming deploy-hook: ${JSON.stringify(seen)}`);
    assert.equal(beat.type, 'deployAndSwitch');
    assert.equal(beat.activity, 'deployAndSwitch');
    assert.ok(Date.now() - Date.parse(String(beat.since)) < 60_000, `since: ${String(beat.since)}`);
    // Seen: the rest of the hook's sleep is not waited for (env cancel stops it).
    assert.equal((await client.cancelDeployment(slow.project, 'integration')).status, 'cancelled');
  });
});
