/**
 * Environments and the Git workflow (seeds 000 and 004): branch, push, sync, merge,
 * deactivate, activate with what is served after each; every refusal with its message and the
 * registry unchanged; plan limits under concurrency; the remote's hooks.
 */
import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { SlipwayClient } from '../../src/client';
import { runSlipway } from '../harness/processes';
import { clone, commitOnly, createProject, deployedProject, getPage, getWorld, push } from '../harness/world';

const run = promisify(execFile);

async function registry(client: SlipwayClient, project: string): Promise<string> {
  return JSON.stringify((await client.project(project)).environments);
}

async function gitPush(dir: string, args: string[]): Promise<{ ok: boolean; stderr: string }> {
  try {
    const r = await run('git', ['push', ...args], { cwd: dir });
    return { ok: true, stderr: r.stderr };
  } catch (err) {
    return { ok: false, stderr: (err as { stderr: string }).stderr };
  }
}

describe('environments', function () {
  it('serves the right code after branch, push, sync, merge, deactivate and activate; a conflict changes nothing', async function () {
    const p = await deployedProject('flow');
    const { client } = p;
    const host = (env: string): Promise<{ status: number; body: string }> => getPage(p.project, env);
    const aboutOf = (env: string) => getPage(p.project, env, '/about.html');

    // branch: a child of integration, deployed with integration's code.
    await client.branch(p.project, { name: 'sprint-3' });
    let d = await client.waitForDeployment(p.project, 'sprint-3');
    assert.equal(d.status, 'succeeded', d.error);
    assert.match((await host('sprint-3')).body, /Welcome to the Luma sample store/);

    // push to the child: the child changes, integration does not.
    const sprint = await clone(p.remote, 'sprint-3');
    const c1 = await commitOnly(sprint, { 'content/headline.txt': 'Sprint 3 headline\n' });
    await push(sprint, 'sprint-3');
    d = await client.waitForDeployment(p.project, 'sprint-3', { commit: c1 });
    assert.equal(d.status, 'succeeded', d.error);
    assert.match((await host('sprint-3')).body, /Sprint 3 headline/);
    assert.match((await host('integration')).body, /Welcome to the Luma sample store/);

    // sync: integration's new about page arrives in the child, which keeps its own headline.
    await commitOnly(p.repo, { 'templates/about.html': '<html><head><title>About v2</title></head><body>About v2</body></html>\n' });
    await push(p.repo, 'integration');
    const synced = await client.sync(p.project, 'sprint-3');
    assert.equal(synced.changed, true);
    assert.equal(synced.deploys, true);
    d = await client.waitForDeployment(p.project, 'sprint-3', { commit: synced.commit });
    assert.equal(d.status, 'succeeded', d.error);
    assert.match((await aboutOf('sprint-3')).body, /About v2/);
    assert.match((await host('sprint-3')).body, /Sprint 3 headline/);

    // merge: the child's headline arrives in integration.
    const merged = await client.merge(p.project, 'sprint-3');
    assert.equal(merged.target, 'integration');
    d = await client.waitForDeployment(p.project, 'integration', { commit: merged.commit });
    assert.equal(d.status, 'succeeded', d.error);
    assert.match((await host('integration')).body, /Sprint 3 headline/);

    // A conflict: refused with the conflicting path; neither branch moves.
    await sprint.git.pull('origin', 'sprint-3');
    await commitOnly(sprint, { 'content/headline.txt': 'Child wording\n' });
    await push(sprint, 'sprint-3');
    await p.repo.git.pull('origin', 'integration');
    await commitOnly(p.repo, { 'content/headline.txt': 'Parent wording\n' });
    await push(p.repo, 'integration');
    const heads = async () => (await run('git', ['for-each-ref', '--format=%(refname) %(objectname)', 'refs/heads/'], { cwd: p.remote })).stdout;
    const before = await heads();
    await assert.rejects(client.sync(p.project, 'sprint-3'), /refused: merging integration into sprint-3 conflicts in: content\/headline\.txt; nothing was changed/);
    await assert.rejects(client.merge(p.project, 'sprint-3'), /conflicts in: content\/headline\.txt/);
    assert.equal(await heads(), before);

    // deactivate: no longer served, slot freed; activate: served again.
    const slots = (await client.project(p.project)).activeIntegration;
    await client.deactivate(p.project, 'sprint-3');
    assert.equal((await client.project(p.project)).activeIntegration, slots - 1);
    const gone = await host('sprint-3');
    assert.equal(gone.status, 404);
    const last = (await client.environmentStatus(p.project, 'sprint-3')).deployments.at(-1)!.deployment;
    await client.activate(p.project, 'sprint-3');
    d = await client.waitForDeployment(p.project, 'sprint-3', { after: last });
    assert.equal(d.status, 'succeeded', d.error);
    assert.match((await host('sprint-3')).body, /Child wording/);
  });

  it('refuses, with a specific message and the registry unchanged', async function () {
    const { client } = await getWorld();
    const project = (await createProject('refuse')).project;
    await client.waitForDeployment(project, 'integration');
    for (let i = 1; i <= 4; i++) await client.branch(project, { name: `f${i}`, inactive: i > 1 });
    await client.activate(project, 'f2');
    await client.activate(project, 'f3');
    await client.activate(project, 'f4'); // integration + 4 children: the plan is full

    const cases: Array<[string, () => Promise<unknown>, RegExp]> = [
      ['branch from master', () => client.branch(project, { name: 'x1', parent: 'master' }), /nobody may branch from master/],
      ['branch from staging', () => client.branch(project, { name: 'x1', parent: 'staging', inactive: true }), /branch from integration or one of its children, not from staging/],
      ['a sixth active environment', () => client.branch(project, { name: 'x1' }), /plan pro allows 5 active integration environments \(integration included\) and .* has 5/],
      ['activating past the limit', () => client.branch(project, { name: 'x2', inactive: true }).then(() => client.activate(project, 'x2')), /plan pro allows 5/],
      ['an option-like name', () => client.branch(project, { name: '--upload-pack=x', inactive: true }), /starts with "-": it would be read as an option/],
      ['".."', () => client.branch(project, { name: '..', inactive: true }), /contains "\.\."/],
      ['a name with a space', () => client.branch(project, { name: 'my feature', inactive: true }), /contains a space/],
      ['a control character', () => client.branch(project, { name: 'bell\u0007', inactive: true }), /contains a control character/],
      ['256 characters', () => client.branch(project, { name: 'a'.repeat(256), inactive: true }), /is 256 characters long; at most 40/],
      ['capital letters', () => client.branch(project, { name: 'Feature', inactive: true }), /capital letters/],
      ['a slash', () => client.branch(project, { name: 'feature/x', inactive: true }), /contains "\/"/],
      ['an existing name', () => client.branch(project, { name: 'f1', inactive: true }), /environment f1 exists already/],
      ['an unknown parent', () => client.branch(project, { name: 'x3', parent: 'ghost', inactive: true }), /no environment "ghost"/],
      ['an invalid parent name', () => client.branch(project, { name: 'x3', parent: '--exec=x', inactive: true }), /--parent: environment name "--exec=x" starts with "-"/],
      ['deleting integration', () => client.deleteEnvironment(project, 'integration'), /integration cannot be deleted/],
      ['deleting staging', () => client.deleteEnvironment(project, 'staging'), /staging cannot be deleted/],
      ['deleting production', () => client.deleteEnvironment(project, 'production'), /production cannot be deleted/],
      ['deleting master', () => client.deleteEnvironment(project, 'master'), /master cannot be deleted/],
      ['sync on staging', () => client.sync(project, 'staging'), /staging cannot be synced: its code arrives only by promotion/],
      ['merge on production', () => client.merge(project, 'production'), /production cannot be merged: its code arrives only by promotion/],
      ['sync on integration', () => client.sync(project, 'integration'), /integration has no parent/],
      ['deactivating integration', () => client.deactivate(project, 'integration'), /integration is always active/],
      ['activating an active one', () => client.activate(project, 'f1'), /f1 is active already/],
      ['an unknown environment', () => client.activate(project, 'ghost'), /no environment "ghost" in project/],
      ['an unknown project', () => client.activate('no-such-project', 'f1'), /no project no-such-project/],
      ['an invalid project id', () => client.deactivate('X', 'f1'), /project id must be/],
    ];
    for (const [what, call, message] of cases) {
      const before = await registry(client, project).catch(() => '');
      await assert.rejects(call(), message, what);
      const after = await registry(client, project);
      // x2 is created (inactive) by its case before the refused activation.
      if (what !== 'activating past the limit') assert.equal(after, before, `${what} changed the registry`);
    }
  });

  it('20 concurrent branch calls on a plan with 4 free slots: exactly 4 new active environments', async function () {
    const { client } = await getWorld();
    const project = (await createProject('race')).project;
    await client.waitForDeployment(project, 'integration');
    const results = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => client.branch(project, { name: `race-${i}` })));
    const created = results.filter((r) => r.status === 'fulfilled');
    const refused = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    const other = refused.map((r) => String((r.reason as Error).message)).filter((m) => !/refused: plan pro allows 5 active/.test(m));
    assert.deepEqual(other, [], 'every refusal is the plan limit');
    assert.equal(created.length, 4);
    assert.equal(refused.length, 16);
    for (const r of refused) assert.match(String((r.reason as Error).message), /refused: plan pro allows 5 active integration environments/);
    const info = await client.project(project);
    assert.equal(info.activeIntegration, 5);
    assert.equal(info.environments.filter((e) => e.name.startsWith('race-')).length, 4);
  });

  it('slipway env list --json shows the tree with types, parents and states', async function () {
    const { client, layout } = await getWorld();
    const project = (await createProject('tree')).project;
    await client.branch(project, { name: 'sprint', inactive: true });
    await client.branch(project, { name: 'feature1', parent: 'sprint', inactive: true });
    const out = await runSlipway(['env', 'list', project, '--json'], { ...process.env, SLIPWAY_HOME: layout.home });
    assert.equal(out.code, 0, out.stderr);
    interface Node { name: string; type: string; status: string; parent?: string; children: Node[] }
    const json = JSON.parse(out.stdout) as { plan: string; tree: Node[] };
    assert.equal(json.plan, 'pro');
    assert.deepEqual(json.tree.map((n) => [n.name, n.type, n.status]), [
      ['master', 'global-master', 'inactive'],
      ['integration', 'integration', 'active'],
      ['staging', 'staging', 'inactive'],
      ['production', 'production', 'inactive'],
    ]);
    const sprint = json.tree[1]!.children[0]!;
    assert.deepEqual([sprint.name, sprint.type, sprint.parent, sprint.status], ['sprint', 'integration-child', 'integration', 'inactive']);
    assert.deepEqual([sprint.children[0]!.name, sprint.children[0]!.parent], ['feature1', 'sprint']);
    const text = await runSlipway(['env', 'list', project], { ...process.env, SLIPWAY_HOME: layout.home });
    assert.match(text.stdout, /1 of 5 active integration environments/);
  });

  it("the remote's hooks: read-only branches, new branches inactive, inactive pushes undeployed, deleted branches deactivated", async function () {
    const p = await deployedProject('hooks');
    const { client } = p;
    await commitOnly(p.repo, { 'content/headline.txt': 'Straight to production?\n' });
    for (const [branch, message] of [
      ['staging', /remote: Slipway: staging is read-only: code arrives only by promotion from integration \(slipway promote .* staging\)/],
      ['production', /remote: Slipway: production is read-only: code arrives only by promotion from staging/],
      ['master', /remote: Slipway: master \(Global Master\) is read-only/],
    ] as const) {
      const r = await gitPush(p.repo.dir, ['origin', `HEAD:${branch}`]);
      assert.equal(r.ok, false, `push to ${branch} accepted`);
      assert.match(r.stderr, message);
    }
    const bad = await gitPush(p.repo.dir, ['origin', 'HEAD:Feature_X']);
    assert.equal(bad.ok, false);
    assert.match(bad.stderr, /branch 'Feature_X' cannot be an environment/);
    const del = await gitPush(p.repo.dir, ['origin', ':integration']);
    assert.equal(del.ok, false);
    assert.match(del.stderr, /integration cannot be deleted/);

    // A new branch: an inactive child of integration, not deployed.
    const c1 = await commitOnly(p.repo, { 'content/headline.txt': 'Pushed branch\n' });
    assert.ok((await gitPush(p.repo.dir, ['origin', 'HEAD:refs/heads/pushed'])).ok);
    let entry;
    for (let i = 0; i < 50 && !entry; i++) {
      entry = (await client.project(p.project)).environments.find((e) => e.name === 'pushed');
      if (!entry) await new Promise((r) => setTimeout(r, 100));
    }
    assert.deepEqual([entry?.type, entry?.parent, entry?.status], ['integration-child', 'integration', 'inactive']);
    assert.equal((await getPage(p.project, 'pushed')).status, 404);

    // A push to it while inactive updates its code only; activation deploys that code.
    const c2 = await commitOnly(p.repo, { 'content/headline.txt': 'Pushed while inactive\n' });
    assert.ok((await gitPush(p.repo.dir, ['origin', 'HEAD:refs/heads/pushed'])).ok);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal((await getPage(p.project, 'pushed')).status, 404);
    void c1;
    await client.activate(p.project, 'pushed');
    const d = await client.waitForDeployment(p.project, 'pushed', { commit: c2 });
    assert.equal(d.status, 'succeeded', d.error);
    assert.match((await getPage(p.project, 'pushed')).body, /Pushed while inactive/);

    // Deleting the branch by push deactivates the environment.
    assert.ok((await gitPush(p.repo.dir, ['origin', ':pushed'])).ok);
    for (let i = 0; i < 50; i++) {
      entry = (await client.project(p.project)).environments.find((e) => e.name === 'pushed');
      if (entry?.status === 'inactive' && (await getPage(p.project, 'pushed')).status === 404) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(entry?.status, 'inactive');
    assert.equal(entry?.branchDeleted, true);
    assert.equal((await getPage(p.project, 'pushed')).status, 404);
    await assert.rejects(client.activate(p.project, 'pushed'), /the branch of pushed was deleted; push it again first/);
  });
});
