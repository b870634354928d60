/**
 * Every history kept under test/histories replays against the current workflow code; so do
 * the live histories of a fresh run of representative workflows (a project, its integration
 * environment, a successful and a failed deployment, a ticket). With SLIPWAY_RECORD_HISTORIES=1
 * the scenarios that have no saved history yet are saved there; an existing one is never
 * overwritten: a change that breaks an old history follows the versioning policy of
 * docs/architecture.md (a patch, or the path and its histories retired), never a new recording.
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
    const file = path.join(HISTORIES, 'deployment-plan.json');
    const json = fs.readFileSync(file, 'utf8');
    const outcome = await replayHistoryJson(json, file, 'deployment-plan', altered);
    assert.equal(outcome.ok, false, 'the altered code must not replay the recorded history');
    assert.match(outcome.error ?? '', /[Nn]ondeterminism|DeterminismViolation/);
    // The current code does replay it.
    assert.ok((await replayHistoryJson(json, file, 'deployment-plan')).ok);
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

  it('slipway replay of an unknown id: one clear line, no gRPC stack, exit 1', async function () {
    const { layout } = await getWorld();
    const r = await runSlipway(['replay', 'deploy/nosuchproject/integration/1'], { ...process.env, SLIPWAY_HOME: layout.home });
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, /^slipway: no workflow "deploy\/nosuchproject\/integration\/1" on the Temporal server/);
    assert.doesNotMatch(r.stderr, /\n\s+at |ServiceError|grpc/i);
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
      'environment-local-branch-head.json': workflowIds.environment(p, 'integration'),
      // Pushes went straight to the environment (the project records them, forwards nothing).
      'environment-push-delivered.json': workflowIds.environment(p, 'integration'),
      'project-push-delivered.json': workflowIds.project(p),
      // Recorded after the branch-head-from-a-following-push patch: a push that follows the
      // known head deploys its own commit, with no read of the branch head.
      'environment-head-from-push.json': workflowIds.environment(p, 'integration'),
      // The deployment as a declared plan walked by one runner (no patch markers): a cold
      // build, a tree built before, a failed build hook, a promoted slug. The histories of the
      // patched paths before it were retired with those paths (docs/architecture.md, versioning).
      'deployment-plan.json': workflowIds.deployment(p, 'integration', d2.deployment),
      'deployment-plan-reused.json': workflowIds.deployment(p, 'integration', reused.deployment),
      'deployment-plan-failed.json': workflowIds.deployment(p, 'integration', d3.deployment),
      'deployment-plan-promoted.json': workflowIds.deployment(p, 'staging', 1),
      // Since the patch services-in-build-phase: the staging group (stage, provision services,
      // start the application) reports as the build phase; the phase becomes deploy with the window.
      'deployment-services-in-build.json': workflowIds.deployment(p, 'integration', d2.deployment),
      'deployment-services-in-build-promoted.json': workflowIds.deployment(p, 'staging', 1),
      // Since the patches internal-signal-names (the promotion sends internal:ticketOutcome) and
      // ticket-refusal-trace (bob's refused decision sets the ticket's memo).
      'promotion-internal-signals.json': promo.workflowId,
      'ticket-refusal-trace.json': `ticket/${p}/${ticket.id}`,
    };
    const afterPush = new Set(['environment-local-branch-head.json', 'environment-push-delivered.json', 'environment-head-from-push.json']);
    for (const [file, id] of Object.entries(scenarios)) {
      const json = afterPush.has(file) ? environmentAfterPush : await fetchHistoryJson(client.temporal, id);
      const outcome = await replayHistoryJson(json, id, id);
      assert.ok(outcome.ok, `${id}: ${outcome.error}`);
      // Only new scenarios are recorded (see the versioning policy in docs/architecture.md).
      if (process.env.SLIPWAY_RECORD_HISTORIES === '1' && !fs.existsSync(path.join(HISTORIES, file))) {
        fs.mkdirSync(HISTORIES, { recursive: true });
        fs.writeFileSync(path.join(HISTORIES, file), `${JSON.stringify(JSON.parse(json), null, 1)}\n`);
      }
    }
  });
});
