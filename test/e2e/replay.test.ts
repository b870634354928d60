/**
 * Every history kept under test/histories replays against the current workflow code; so do
 * the live histories of a fresh run of representative workflows (a project, its integration
 * environment, a successful and a failed deployment, a ticket). With SLIPWAY_RECORD_HISTORIES=1
 * the scenarios that have no saved history yet are saved there; an existing one is never
 * overwritten: a change that breaks an old history needs `patched()`, not a new recording.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PACKAGE_ROOT } from '../../src/home';
import { workflowIds } from '../../src/domain/names';
import { fetchHistoryJson, replayFile, replayHistoryJson } from '../../src/replay';
import { clone, commitAndPush, commitOnly, createProject, getWorld, push } from '../harness/world';
import { runSlipway } from '../harness/processes';

const HISTORIES = path.join(PACKAGE_ROOT, 'test', 'histories');

describe('replay', function () {
  it('catches a non-deterministic change: a stored deployment history against altered workflow code', async function () {
    const { bundleWorkflowCode } = await import('@temporalio/worker');
    const altered = await bundleWorkflowCode({
      workflowsPath: require.resolve('../fixtures/nondeterministic'),
      logger: { trace: () => {}, debug: () => {}, info: () => {}, warn: () => {}, error: () => {}, log: () => {} },
    });
    const file = path.join(HISTORIES, 'deployment-succeeded.json');
    const json = fs.readFileSync(file, 'utf8');
    const outcome = await replayHistoryJson(json, file, 'deployment-succeeded', altered);
    assert.equal(outcome.ok, false, 'the altered code must not replay the recorded history');
    assert.match(outcome.error ?? '', /[Nn]ondeterminism|DeterminismViolation/);
    // The current code does replay it.
    assert.ok((await replayHistoryJson(json, file, 'deployment-succeeded')).ok);
  });

  it('slipway replay --workflow-id and --file', async function () {
    const { layout } = await getWorld();
    const env = { ...process.env, SLIPWAY_HOME: layout.home };
    const files = fs.readdirSync(HISTORIES).filter((f) => f.endsWith('.json')).map((f) => path.join(HISTORIES, f));
    const saved = await runSlipway(['replay', '--file', ...files], env);
    assert.equal(saved.code, 0, saved.stdout + saved.stderr);
    assert.equal(saved.stdout.split('\n').filter((l) => l.startsWith('ok ')).length, files.length);
    const project = (await createProject('replaycli')).project;
    const { client } = await getWorld();
    await client.waitForDeployment(project, 'integration');
    const live = await runSlipway(['replay', '--workflow-id', `project/${project}`, `deploy/${project}/integration/1`, '--json'], env);
    assert.equal(live.code, 0, live.stdout + live.stderr);
    assert.deepEqual((JSON.parse(live.stdout) as Array<{ ok: boolean }>).map((o) => o.ok), [true, true]);
  });

  it('replays every saved history in test/histories', async function () {
    const files = fs.existsSync(HISTORIES) ? fs.readdirSync(HISTORIES).filter((f) => f.endsWith('.json')) : [];
    assert.ok(files.length >= 4, `expected saved histories in ${HISTORIES}`);
    for (const f of files) {
      const outcome = await replayFile(path.join(HISTORIES, f));
      assert.ok(outcome.ok, `${f}: ${outcome.error}`);
    }
  });

  it('replays the live histories of a project, its environment and its deployments', async function () {
    const { client } = await getWorld();
    const project = await createProject('replay', {
      '.magento.app.yaml': `
name: mymagento
type: php:8.3
hooks:
  build: |
    mkdir -p pub
    if [ -f BREAK ]; then echo broken >&2; exit 3; fi
    echo "<title>ok</title>" > pub/index.html
`,
    });
    const p = project.project;
    const first = await client.waitForDeployment(p, 'integration');
    const repo = await clone(project.remote, 'integration');
    const ok = await commitAndPush(repo, 'integration', { 'a.txt': 'a\n' });
    const d2 = await client.waitForDeployment(p, 'integration', { commit: ok, after: first.deployment });
    // The environment's history right after a push's deployment (before any continue-as-new).
    const environmentAfterPush = await fetchHistoryJson(client.temporal, workflowIds.environment(p, 'integration'));
    // A promotion to staging, with its ticket, while integration's last deployment is good.
    const promo = await client.promote(p, 'staging', 'alice');
    await client.decide(p, promo.ticket, { user: 'sam', decision: 'approve' });
    assert.equal((await client.waitForPromotion(promo.workflowId)).status, 'deployed');
    // The same tree again (an empty commit): its slug is found before any checkout.
    const same = await commitOnly(repo, {}, 'same tree');
    await push(repo, 'integration');
    const reused = await client.waitForDeployment(p, 'integration', { commit: same, after: d2.deployment });
    assert.equal(reused.slugReused, true);
    const bad = await commitAndPush(repo, 'integration', { BREAK: '1\n' });
    const d3 = await client.waitForDeployment(p, 'integration', { commit: bad, after: reused.deployment });
    assert.equal(d2.status, 'succeeded');
    assert.equal(d3.status, 'failed');

    const ticket = await client.openTicket({ project: p, kind: 'promotion', target: 'staging', requester: 'alice', title: 'replay', expiresInMs: 3_600_000, remindBeforeMs: 60_000 });
    await assert.rejects(client.decide(p, ticket.id, { user: 'bob', decision: 'approve' }));
    await client.decide(p, ticket.id, { user: 'sam', decision: 'approve' });

    const scenarios: Record<string, string> = {
      'promotion-staging.json': promo.workflowId,
      'ticket-approved.json': `ticket/${p}/${ticket.id}`,
      'project.json': workflowIds.project(p),
      'environment-integration.json': workflowIds.environment(p, 'integration'),
      'deployment-initial.json': workflowIds.deployment(p, 'integration', first.deployment),
      'deployment-succeeded.json': workflowIds.deployment(p, 'integration', d2.deployment),
      // Recorded after the maintenance-in-release-steps patch: the patched path, replayed too.
      'deployment-short-maintenance-window.json': workflowIds.deployment(p, 'integration', d2.deployment),
      // Recorded after the slug-by-tree-before-checkout patch: a tree built before, no checkout.
      'deployment-slug-by-tree.json': workflowIds.deployment(p, 'integration', reused.deployment),
      'deployment-build-hook-failed.json': workflowIds.deployment(p, 'integration', d3.deployment),
      // Recorded after the short-steps-as-local-activities and branch-head-as-local-activity
      // patches: the engine's short steps as local activities (markers in the history).
      'deployment-local-steps.json': workflowIds.deployment(p, 'integration', d2.deployment),
      'deployment-local-steps-failed.json': workflowIds.deployment(p, 'integration', d3.deployment),
      'environment-local-branch-head.json': workflowIds.environment(p, 'integration'),
      // Recorded after the lookups-with-their-steps patch (the tree's slug looked up by the
      // checkout step, the slug key by the validate step, pruning with staging), and after
      // pushes went straight to the environment (the project records them, forwards nothing).
      'deployment-lookups-with-steps.json': workflowIds.deployment(p, 'integration', d2.deployment),
      'deployment-lookups-with-steps-reused.json': workflowIds.deployment(p, 'integration', reused.deployment),
      'deployment-lookups-with-steps-failed.json': workflowIds.deployment(p, 'integration', d3.deployment),
      'environment-push-delivered.json': workflowIds.environment(p, 'integration'),
      'project-push-delivered.json': workflowIds.project(p),
      // Recorded after the branch-head-from-a-following-push patch: a push that follows the
      // known head deploys its own commit, with no read of the branch head.
      'environment-head-from-push.json': workflowIds.environment(p, 'integration'),
      // Recorded after the short-steps-together patch: checkout, validation and patches in
      // one local activity, warm-up and health check in another.
      'deployment-steps-together.json': workflowIds.deployment(p, 'integration', d2.deployment),
      'deployment-steps-together-reused.json': workflowIds.deployment(p, 'integration', reused.deployment),
      'deployment-steps-together-failed.json': workflowIds.deployment(p, 'integration', d3.deployment),
    };
    const afterPush = new Set(['environment-local-branch-head.json', 'environment-push-delivered.json', 'environment-head-from-push.json']);
    for (const [file, id] of Object.entries(scenarios)) {
      const json = afterPush.has(file) ? environmentAfterPush : await fetchHistoryJson(client.temporal, id);
      const outcome = await replayHistoryJson(json, id, id);
      assert.ok(outcome.ok, `${id}: ${outcome.error}`);
      // Only new scenarios are recorded: an old history that no longer replays needs patched().
      if (process.env.SLIPWAY_RECORD_HISTORIES === '1' && !fs.existsSync(path.join(HISTORIES, file))) {
        fs.mkdirSync(HISTORIES, { recursive: true });
        fs.writeFileSync(path.join(HISTORIES, file), `${JSON.stringify(JSON.parse(json), null, 1)}\n`);
      }
    }
  });
});
