/** The visibility queries of docs/operations.md, run as written against the real server. */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PACKAGE_ROOT } from '../../src/home';
import { commitOnly, deployedProject, push } from '../harness/world';

function documentedQueries(): Map<string, string> {
  const doc = fs.readFileSync(path.join(PACKAGE_ROOT, 'docs', 'operations.md'), 'utf8');
  const block = /```visibility\n([\s\S]*?)```/.exec(doc)?.[1] ?? '';
  const queries = new Map<string, string>();
  let name = '';
  for (const line of block.split('\n')) {
    if (line.startsWith('-- ')) name = line.slice(3).trim();
    else if (line.trim()) queries.set(name, line.trim());
  }
  return queries;
}

describe('the visibility queries of docs/operations.md', function () {
  it('find the expected workflows', async function () {
    const p = await deployedProject('ops');
    const { client } = p;
    const bad = await commitOnly(p.repo, { '.magento/routes.yaml': '"http://{nope}/":\n  type: upstream\n  upstream: "mymagento:http"\n' });
    await push(p.repo, 'integration');
    const failed = await client.waitForDeployment(p.project, 'integration', { commit: bad });
    const ticket = await client.openTicket({ project: p.project, kind: 'promotion', target: 'staging', requester: 'alice', title: 'ops', expiresInMs: 3_600_000, remindBeforeMs: 0 });

    // A failed production deployment: a store without /admin fails production's smoke check.
    const noAdmin = await deployedProject('opsprod', {
      '.magento.app.yaml': 'name: mymagento\ntype: php:8.3\nhooks:\n  build: |\n    mkdir -p pub && echo "<title>x</title>" > pub/index.html\n',
    });
    for (const target of ['staging', 'production'] as const) {
      const promo = await client.promote(noAdmin.project, target, 'alice');
      await client.decide(noAdmin.project, promo.ticket, { user: 'sam', decision: 'approve' });
      await client.waitForPromotion(promo.workflowId);
    }
    const failedProduction = `deploy/${noAdmin.project}/production/1`;

    const deploy = (n: number) => `deploy/${p.project}/integration/${n}`;
    const expected: Record<string, { has: string[]; hasNot?: string[] }> = {
      'everything of a project': { has: [`project/${p.project}`, `env/${p.project}/integration`, deploy(1), deploy(2), `ticket/${p.project}/${ticket.id}`] },
      'the deployments of one environment': { has: [deploy(1), deploy(2)], hasNot: [`env/${p.project}/integration`] },
      'failed deployments': { has: [deploy(failed.deployment)], hasNot: [deploy(1)] },
      'where a commit was deployed': { has: [deploy(1)], hasNot: [deploy(2)] },
      'deployments running now': { has: [], hasNot: [deploy(1), deploy(2)] },
      'tickets waiting for a decision': { has: [`ticket/${p.project}/${ticket.id}`] },
      'the environments of a project': { has: [`env/${p.project}/integration`], hasNot: [deploy(1)] },
      'every open ticket, of every project': { has: [`ticket/${p.project}/${ticket.id}`] },
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
      let found: string[] = [];
      // Visibility is eventually consistent.
      for (let i = 0; i < 40; i++) {
        found = [];
        for await (const wf of client.temporal.workflow.list({ query })) found.push(wf.workflowId);
        if (want.has.every((id) => found.includes(id)) && !(want.hasNot ?? []).some((id) => found.includes(id))) break;
        await new Promise((r) => setTimeout(r, 250));
      }
      for (const id of want.has) assert.ok(found.includes(id), `${name}: ${id} not in ${found.join(', ')}`);
      for (const id of want.hasNot ?? []) assert.ok(!found.includes(id), `${name}: ${id} should not be there`);
    }
  });
});
