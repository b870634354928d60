/**
 * What keeps the data directory from growing without bound: a size limit per push (Git's
 * receive.maxInputSize in the remote, set per project with `slipway project push-limit`),
 * remotes made before it get it when the engine starts, and slugs that no release references,
 * past the newest N of each environment, are pruned with their index entries and records.
 */
import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { upgradeRemotes } from '../../src/activities/git';
import { DEFAULT_MAX_PUSH_SIZE } from '../../src/domain/push-limit';
import { releaseInfoFile, releaseInfoSchema } from '../../src/domain/release-info';
import { PACKAGE_ROOT } from '../../src/home';
import { clone, commitAndPush, createProject, getWorld } from '../harness/world';

// Never a *Sync child process here: the API and the worker run in this process.
const run = promisify(execFile);
const BIN = path.join(PACKAGE_ROOT, 'bin', 'slipway.js');

const gitConfig = (remote: string, key: string): Promise<string> =>
  run('git', ['config', '--get', key], { cwd: remote }).then((r) => r.stdout.trim(), () => '');

describe('the data directory stays bounded', function () {
  this.timeout(300_000);

  it('refuses a push over the project limit with a message naming it, and it changes nothing', async function () {
    const { client, layout } = await getWorld();
    const project = await createProject('pushlimit');
    const first = await client.waitForDeployment(project.project, 'integration');
    assert.equal(first.status, 'succeeded', first.error);
    // A new remote has the default limit.
    assert.equal(await gitConfig(project.remote, 'receive.maxInputSize'), String(DEFAULT_MAX_PUSH_SIZE));
    const shown = await run(process.execPath, [BIN, '--home', layout.home, 'project', 'push-limit', project.project, '--json']);
    assert.deepEqual(JSON.parse(shown.stdout), { project: project.project, bytes: DEFAULT_MAX_PUSH_SIZE });

    // A bad size is refused (exit 2) and changes nothing.
    const bad = await run(process.execPath, [BIN, '--home', layout.home, 'project', 'push-limit', project.project, '12 parsecs']).then(
      () => assert.fail('accepted'),
      (e: unknown) => e as { code: number; stderr: string },
    );
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /"12 parsecs" is not a size/);
    assert.equal(await gitConfig(project.remote, 'receive.maxInputSize'), String(DEFAULT_MAX_PUSH_SIZE));

    const set = await run(process.execPath, [BIN, '--home', layout.home, 'project', 'push-limit', project.project, '64k']);
    assert.match(set.stdout, /pushes up to 64 KiB \(65536 bytes\)/);

    const repo = await clone(project.remote, 'integration');
    const before = (await run('git', ['for-each-ref', '--format=%(refname) %(objectname)'], { cwd: project.remote })).stdout;
    fs.writeFileSync(path.join(repo.dir, 'big.bin'), crypto.randomBytes(200 * 1024));
    await repo.git.add(['--all']).commit('too big');
    const big = (await repo.git.revparse(['HEAD'])).trim();
    const refused = await run('git', ['push', 'origin', 'integration'], { cwd: repo.dir }).then(
      () => assert.fail('the push over the limit was accepted'),
      (e: unknown) => e as { code: number; stderr: string },
    );
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /remote: fatal: pack exceeds maximum allowed size \(64\.00 KiB\)/, refused.stderr);
    assert.equal((await run('git', ['for-each-ref', '--format=%(refname) %(objectname)'], { cwd: project.remote })).stdout, before);
    assert.equal(await run('git', ['cat-file', '-e', big], { cwd: project.remote }).then(() => true, () => false), false, 'no object of the refused push is kept');

    // A push under the limit goes through and deploys.
    await repo.git.raw(['reset', '--hard', 'HEAD~1']);
    const small = await commitAndPush(repo, 'integration', { 'content/headline.txt': 'Small enough\n' }, 'small');
    const d = await client.waitForDeployment(project.project, 'integration', { commit: small, after: first.deployment });
    assert.equal(d.status, 'succeeded', d.error);
  });

  it('gives a remote made before the limit and the branches-only rule both, when the engine starts', async function () {
    const { layout } = await getWorld();
    const project = await createProject('oldremote');
    // As an earlier version left it: no limit, no unpack setting, a hook that let tags through.
    await run('git', ['config', '--unset', 'receive.maxInputSize'], { cwd: project.remote });
    await run('git', ['config', '--unset', 'receive.unpackLimit'], { cwd: project.remote });
    const hook = path.join(project.remote, 'hooks', 'pre-receive');
    fs.writeFileSync(hook, '#!/bin/sh\nexit 0\n');
    const r = await upgradeRemotes(layout);
    assert.deepEqual(r.failed, []);
    assert.ok(r.upgraded.includes(project.project));
    assert.equal(await gitConfig(project.remote, 'receive.maxInputSize'), String(DEFAULT_MAX_PUSH_SIZE));
    assert.equal(await gitConfig(project.remote, 'receive.unpackLimit'), '1');
    // A limit set by hand is kept.
    await run('git', ['config', 'receive.maxInputSize', '5000000'], { cwd: project.remote });
    await upgradeRemotes(layout);
    assert.equal(await gitConfig(project.remote, 'receive.maxInputSize'), '5000000');
    const repo = await clone(project.remote, 'integration');
    const tag = await run('git', ['push', 'origin', 'HEAD:refs/tags/v1'], { cwd: repo.dir }).then(
      () => assert.fail('the tag was accepted'),
      (e: unknown) => e as { stderr: string },
    );
    assert.match(tag.stderr, /Slipway: refs\/tags\/v1 refused: the remote accepts only branches \(refs\/heads\/\*\)/);
    assert.equal((await run('git', ['tag', '--list'], { cwd: project.remote })).stdout, '');
  });

  it('prunes slugs that no release references past the newest N of an environment, with their index entries', async function () {
    const { client, layout } = await getWorld();
    const saved = process.env.SLIPWAY_SLUGS_KEPT;
    process.env.SLIPWAY_SLUGS_KEPT = '7';
    try {
      const project = await createProject('slugprune');
      let last = await client.waitForDeployment(project.project, 'integration');
      assert.equal(last.status, 'succeeded', last.error);
      const repo = await clone(project.remote, 'integration');
      for (let i = 2; i <= 10; i++) {
        const c = await commitAndPush(repo, 'integration', { 'content/headline.txt': `Push ${i}\n` }, `push ${i}`);
        last = await client.waitForDeployment(project.project, 'integration', { commit: c, after: last.deployment });
        assert.equal(last.status, 'succeeded', last.error);
        assert.equal(last.deployment, i);
      }
      const status = await client.environmentStatus(project.project, 'integration');
      const slugOf = new Map(status.deployments.map((d) => [d.deployment, d.slug]));
      const slugs = [...Array(10).keys()].map((i) => slugOf.get(i + 1));
      assert.ok(slugs.every((s): s is string => typeof s === 'string'), JSON.stringify(slugs));
      assert.equal(new Set(slugs).size, 10, 'every push built its own slug');

      // Releases d000005 to d000009 were there when the last slug was stored; now d000006 to d000010.
      const releasesDir = layout.releases(project.project, 'integration');
      const releases = fs.readdirSync(releasesDir).filter((n) => /^d\d{6}$/.test(n)).sort();
      assert.deepEqual(releases, ['d000006', 'd000007', 'd000008', 'd000009', 'd000010']);
      for (const r of releases) {
        const info = releaseInfoSchema.parse(JSON.parse(fs.readFileSync(releaseInfoFile(releasesDir, r), 'utf8')));
        assert.ok(fs.existsSync(layout.slug(info.slug)), `the slug of release ${r} is kept`);
        const ref = path.join(layout.slugs(), 'refs', project.project, 'integration', `${r}.json`);
        assert.equal((JSON.parse(fs.readFileSync(ref, 'utf8')) as { slug: string }).slug, info.slug, `release ${r} is referenced in the store`);
      }
      // No reference for a removed release.
      assert.deepEqual(fs.readdirSync(path.join(layout.slugs(), 'refs', project.project, 'integration')).sort(), releases.map((r) => `${r}.json`));

      const indexDir = path.join(layout.slugs(), 'by-tree', project.project);
      const indexed = new Set(fs.readdirSync(indexDir).map((f) => (JSON.parse(fs.readFileSync(path.join(indexDir, f), 'utf8')) as { slug: string }).slug));
      const uses = path.join(layout.slugs(), 'uses', project.project, 'integration');
      slugs.forEach((slug, i) => {
        const n = i + 1;
        // Deployments 1 to 3: no release, not among the newest 7; 4 and 5: no release, among the newest 7.
        const kept = n >= 4;
        assert.equal(fs.existsSync(layout.slug(slug)), kept, `slug of #${n} ${kept ? 'kept' : 'pruned'}`);
        assert.equal(fs.existsSync(`${layout.slug(slug)}.json`), kept, `manifest of #${n}`);
        assert.equal(indexed.has(slug), kept, `index entry of #${n}`);
        assert.equal(fs.existsSync(path.join(uses, `${slug}.json`)), kept, `use record of #${n}`);
      });
      // The step log says what went.
      const log = client.deploymentLog(project.project, 'integration', 10);
      assert.match(log, new RegExp(`\\[store-slug\\] slugs pruned \\(no release references them, none among the newest 7 of an environment\\): .*${slugs[2]!}`));

      // A rollback to a deployment whose slug was pruned fails, saying why, and nothing live changes.
      const page = status.current?.deployment;
      const rb = await client.rollback(project.project, 'integration', 2);
      const failed = await client.waitForDeployment(project.project, 'integration', { after: 10 });
      assert.equal(failed.deployment, rb.deployment);
      assert.equal(failed.status, 'failed');
      assert.match(failed.error ?? '', new RegExp(`slug ${slugs[1]!} is no longer stored`));
      assert.equal((await client.environmentStatus(project.project, 'integration')).current?.deployment, page);

      // A rollback to a kept slug (no release: #4) deploys it with no build.
      const ok = await client.rollback(project.project, 'integration', 4);
      const back = await client.waitForDeployment(project.project, 'integration', { after: rb.deployment });
      assert.equal(back.deployment, ok.deployment);
      assert.equal(back.status, 'succeeded', back.error);
    } finally {
      if (saved === undefined) delete process.env.SLIPWAY_SLUGS_KEPT;
      else process.env.SLIPWAY_SLUGS_KEPT = saved;
    }
  });

  it("removes a failed build's workspace at the next deployment, and a deleted environment's slug records", async function () {
    const { client, layout } = await getWorld();
    const project = await createProject('leftovers');
    const p = project.project;
    const first = await client.waitForDeployment(p, 'integration');
    assert.equal(first.status, 'succeeded', first.error);
    const repo = await clone(project.remote, 'integration');
    const good = fs.readFileSync(path.join(repo.dir, '.magento.app.yaml'), 'utf8');
    // A child environment deploys integration's slug; deleted, its records in the slug store go.
    await client.branch(p, { name: 'feat' });
    const feat = await client.waitForDeployment(p, 'feat');
    assert.equal(feat.status, 'succeeded', feat.error);
    const records = ['uses', 'refs'].map((kind) => path.join(layout.slugs(), kind, p, 'feat'));
    for (const dir of records) assert.ok(fs.readdirSync(dir).length > 0, `${dir} has records`);
    await client.deleteEnvironment(p, 'feat');
    const deadline = Date.now() + 30_000;
    while (records.some((dir) => fs.existsSync(dir)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    for (const dir of records) assert.ok(!fs.existsSync(dir), `${dir} removed with the environment`);

    const broken = await commitAndPush(repo, 'integration', { '.magento.app.yaml': 'name: [unclosed\n' }, 'broken');
    const failed = await client.waitForDeployment(p, 'integration', { commit: broken, after: first.deployment });
    assert.equal(failed.status, 'failed');
    const workspace = layout.buildWorkspace({ project: p, environment: 'integration', number: failed.deployment });
    assert.ok(fs.existsSync(workspace), 'the failed build left its workspace');

    const fixed = await commitAndPush(repo, 'integration', { '.magento.app.yaml': good }, 'fixed');
    const d = await client.waitForDeployment(p, 'integration', { commit: fixed, after: failed.deployment });
    assert.equal(d.status, 'succeeded', d.error);
    assert.ok(!fs.existsSync(workspace), 'the failed build workspace was removed');
    assert.match(client.deploymentLog(p, 'integration', d.deployment), new RegExp(`left by earlier deployments, removed: build workspace ${path.basename(workspace)}`));
  });
});
