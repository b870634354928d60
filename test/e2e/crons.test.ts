/**
 * Crons as Temporal Schedules: a `crons:` entry becomes a Schedule of the environment (overlap
 * skip) that runs its command in the sandbox, in the live release with its mounts, on schedule;
 * each run is a workflow of its own. The Schedule is paused while the environment deploys and
 * while it is inactive, follows the live release, and is deleted with the environment or the
 * entry. `slipway env crons` lists them with their last and next runs.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PACKAGE_ROOT } from '../../src/home';
import { workflowIds } from '../../src/domain/names';
import { ScheduleOverlapPolicy } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { fetchHistoryJson, replayHistoryJson } from '../../src/replay';
import { minimalApp } from '../fixtures/app-yaml';
import { runSlipway } from '../harness/processes';
import { commitOnly, deployedProject, push } from '../harness/world';

const app = (crons: string, deploy = 'echo deployed'): string =>
  minimalApp(
    { build: 'mkdir -p pub && echo "<html><title>crons</title></html>" > pub/index.html', deploy },
    'mounts:\n  "var": "shared:files/var"\n',
  ) + `crons:\n${crons}`;

const SITEMAP = '  sitemap:\n    spec: "* * * * *"\n    cmd: "mkdir -p var && echo \\"$(date -u +%H:%M:%S) $MAGENTO_CLOUD_CRON $(id -u) $(ls /releases)\\" >> var/cron-runs"\n';

async function waitUntil(predicate: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('crons as Temporal Schedules', function () {
  this.timeout(180_000);

  it('runs on schedule in the sandbox, pauses while deploying and when inactive, follows the live release, and goes with the environment', async function () {
    const p = await deployedProject('crons', { '.magento.app.yaml': app(SITEMAP, 'if [ -f SLOW ]; then sleep 4; fi; echo deployed') });
    const { client, layout } = p;
    const id = `cron/${p.project}/integration/sitemap`;
    const schedule = client.temporal.schedule.getHandle(id);
    const runsFile = path.join(layout.mount(p.project, 'integration', 'var'), 'cron-runs');
    const runs = (): string[] => (fs.existsSync(runsFile) ? fs.readFileSync(runsFile, 'utf8').trim().split('\n').filter(Boolean) : []);

    // After the first deployment: a running Schedule of the live release.
    await waitUntil(async () => (await schedule.describe().catch(() => undefined))?.state.paused === false, 30_000, 'the Schedule exists and runs');
    // Overlap policy skip: a run still going when the next is due makes the scheduler skip that one.
    assert.equal((await schedule.describe()).policies.overlap, ScheduleOverlapPolicy.SKIP);
    const first = await client.crons(p.project, 'integration');
    assert.equal(first.length, 1);
    assert.equal(first[0]!.spec, '* * * * *');
    assert.match(first[0]!.cmd, /cron-runs/);
    assert.ok(first[0]!.nextRun, 'a next run');

    // A run now, as the scheduler would start one: the command runs as the project's user, in the live release.
    await schedule.trigger();
    await waitUntil(() => runs().length >= 1, 30_000, 'the triggered run wrote its line');
    const [line] = runs();
    const [, cron, uid, release] = line!.split(' ');
    assert.equal(cron, 'sitemap');
    assert.ok(Number(uid) >= 1000, `run as the project's own user (${uid})`);
    assert.equal(release, (await client.environmentStatus(p.project, 'integration')).current!.release);

    // A deployment: paused while it runs, then synced to the new release and running again.
    const commit = await commitOnly(p.repo, { SLOW: '1\n' });
    await push(p.repo, 'integration');
    await waitUntil(async () => (await schedule.describe()).state.paused, 30_000, 'paused while the environment deploys');
    assert.match((await schedule.describe()).state.note ?? '', /^deploying #2$/);
    const d = await client.waitForDeployment(p.project, 'integration', { commit, after: p.first.deployment });
    assert.equal(d.status, 'succeeded', d.error);
    await waitUntil(async () => !(await schedule.describe()).state.paused, 30_000, 'running again after the deployment');
    const synced = await schedule.describe();
    assert.equal(synced.policies.overlap, ScheduleOverlapPolicy.SKIP, 'still skip once synced to the new release');
    assert.equal(synced.action.type === 'startWorkflow' && (synced.action.args?.[0] as { release: string }).release, d.release, 'the Schedule follows the live release');

    // On schedule: a run the scheduler started itself, within a minute.
    const before = runs().length;
    await waitUntil(() => runs().length > before, 75_000, 'a scheduled run');
    const runId = (await schedule.describe()).info.recentActions.at(-1)?.action.workflow.workflowId;
    const env: NodeJS.ProcessEnv = { ...process.env, SLIPWAY_HOME: layout.home };
    delete env.TEMPORAL_ADDRESS;
    const listed = await runSlipway(['env', 'crons', p.project, 'integration'], env);
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, /^sitemap {2}\* \* \* \* \* {2}running$/m);
    assert.match(listed.stdout, /^ {2}last: \d{4}-\d\d-\d\dT.* \(cron\/.*\/integration\/sitemap-/m);
    assert.match(listed.stdout, /^ {2}next: \d{4}-/m);

    // An entry removed: its Schedule goes; deactivated: paused; deleted: gone.
    const again = await commitOnly(p.repo, { '.magento.app.yaml': app('  other:\n    spec: "0 3 * * *"\n    cmd: "true"\n') });
    await push(p.repo, 'integration');
    assert.equal((await client.waitForDeployment(p.project, 'integration', { commit: again, after: d.deployment })).status, 'succeeded');
    await waitUntil(async () => (await client.crons(p.project, 'integration')).map((c) => c.name).join() === 'other', 30_000, 'sitemap deleted, other created');

    await client.branch(p.project, { name: 'feature', parent: 'integration' });
    const feature = await client.waitForDeployment(p.project, 'feature');
    assert.equal(feature.status, 'succeeded', feature.error);
    await waitUntil(async () => (await client.crons(p.project, 'feature')).length === 1, 30_000, 'the branch has its own Schedule');
    assert.equal((await client.temporal.schedule.getHandle(`cron/${p.project}/feature/other`).describe()).policies.overlap, ScheduleOverlapPolicy.SKIP, "the branch's Schedule skips overlaps too");
    await client.deactivate(p.project, 'feature');
    await waitUntil(async () => (await client.crons(p.project, 'feature'))[0]?.paused === true, 30_000, 'paused when inactive');
    assert.equal((await client.crons(p.project, 'feature'))[0]!.note, 'environment inactive');
    // The environment's history with its Schedule steps, and a run's: they replay, and are kept
    // (once, under the versioning policy of docs/architecture.md) among the stored histories.
    const kept: Record<string, string> = { 'environment-crons.json': workflowIds.environment(p.project, 'integration') };
    if (runId) kept['cron-run.json'] = runId;
    // The environment continues-as-new often under the harness: its runs are searched for the
    // one with the most Schedule steps.
    const runsOf = async (wid: string): Promise<string[]> => {
      const histories: string[] = [];
      for await (const e of client.temporal.workflow.list({ query: `WorkflowId = "${wid}"` })) {
        histories.push(historyToJSON(await client.temporal.workflow.getHandle(wid, e.runId).fetchHistory()));
      }
      const steps = (json: string): number => (json.match(/"(syncCrons|pauseCrons)"/g) ?? []).length;
      return histories.sort((a, b) => steps(b) - steps(a));
    };
    for (const [file, wid] of Object.entries(kept)) {
      const json = file === 'environment-crons.json' ? (await runsOf(wid))[0]! : await fetchHistoryJson(client.temporal, wid);
      if (file === 'environment-crons.json') assert.match(json, /"syncCrons"/, 'a run with Schedule steps');
      const outcome = await replayHistoryJson(json, wid, wid);
      assert.ok(outcome.ok, `${wid}: ${outcome.error}`);
      const stored = path.join(PACKAGE_ROOT, 'test', 'histories', file);
      if (process.env.SLIPWAY_RECORD_HISTORIES === '1' && !fs.existsSync(stored)) fs.writeFileSync(stored, `${JSON.stringify(JSON.parse(json), null, 1)}\n`);
    }

    await client.deleteEnvironment(p.project, 'feature');
    await waitUntil(async () => (await client.crons(p.project, 'integration')).length === 1 && !(await client.temporal.schedule.getHandle(`cron/${p.project}/feature/other`).describe().then(() => true, () => false)), 30_000, "the deleted environment's Schedule is gone");
  });
});
