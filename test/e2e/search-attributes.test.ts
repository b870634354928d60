/** What an SRE filters on in the Temporal UI: registered on the server and set on workflows. */
import { strict as assert } from 'node:assert';
import { SEARCH_ATTRIBUTES } from '../../src/domain/search-attributes';
import { ensureSearchAttributes } from '../../src/temporal/search-attributes';
import { createProject, getWorld } from '../harness/world';

describe('search attributes', function () {
  it('are all registered on the dev server the harness started', async function () {
    const { client, address } = await getWorld();
    const list = await client.temporal.connection.operatorService.listSearchAttributes({ namespace: 'default' });
    for (const name of Object.keys(SEARCH_ATTRIBUTES)) assert.ok(name in (list.customAttributes ?? {}), name);
    assert.deepEqual(await ensureSearchAttributes(address), [], 'nothing left to add');
  });

  it('find a project, its environment and its deployment by project', async function () {
    const { client } = await getWorld();
    const project = await createProject('visible');
    const d = await client.waitForDeployment(project.project, 'integration');
    const found = new Map<string, Record<string, unknown>>();
    const deadline = Date.now() + 20_000;
    // Visibility is eventually consistent: wait for all three to be indexed.
    while (found.size < 3 && Date.now() < deadline) {
      found.clear();
      for await (const wf of client.temporal.workflow.list({ query: `SlipwayProject = "${project.project}"` })) {
        found.set(wf.workflowId, Object.fromEntries(wf.typedSearchAttributes.getAll().map((p) => [p.key.name, p.value])));
      }
      if (found.size < 3) await new Promise((r) => setTimeout(r, 250));
    }
    const deployment = found.get(`deploy/${project.project}/integration/${d.deployment}`);
    assert.ok(found.has(`project/${project.project}`), [...found.keys()].join(', '));
    assert.equal(found.get(`env/${project.project}/integration`)?.SlipwayKind, 'environment');
    assert.equal(deployment?.SlipwayCommit, d.commit);
    assert.equal(deployment?.SlipwayPhase, 'succeeded');
    assert.equal(deployment?.SlipwayEnvironment, 'integration');
  });
});
