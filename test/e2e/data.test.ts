/**
 * Data follows the hierarchy (issue 17, items 1–3), against real MariaDB and real mounts: a
 * new branch starts with its parent's rows and media, then diverges; `sync --data` brings the
 * parent's back; staging is snapshotted before every deployment, so a migration that fails
 * half-way is undone whole (schema and rows); `promote --data` needs its ticket approved, then
 * snapshots production and copies staging's database and mounts into it; snapshots are
 * listed, taken and restored on request (and with the CLI), the newest N automatic ones kept;
 * a merge moves code only.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { mariadbQuery, servicePaths } from '../../src/runtime/services';
import { snapshotsKept } from '../../src/activities/data-steps';
import { runSlipway } from '../harness/processes';
import { clone, commitAndPush, deployedProject, getPage, getWorld } from '../harness/world';

function post(port: number, host: string, urlPath: string, form: Record<string, string>): Promise<number> {
  const body = new URLSearchParams(form).toString();
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port, path: urlPath, method: 'POST', headers: { host, 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(body) }, agent: false },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const skus = (html: string): string[] => [...html.matchAll(/data-sku="([^"]+)"/g)].map((m) => m[1]!).sort();

describe('data follows the hierarchy: branches, sync --data, snapshots, promote --data', function () {
  this.timeout(600_000);

  it('copies the parent on branching and sync, undoes a failed migration whole on staging, and promotes code and data after approval', async function () {
    const w = await getWorld();
    const p = await deployedProject('data', {}, { services: true });
    const { client, layout, project, repo } = p;
    const addProduct = async (env: string, sku: string): Promise<void> =>
      assert.equal(await post(w.routerPort, `${env}.${project}.localhost`, '/admin/products', { sku, name: `Product ${sku}`, price: '5.00' }), 303);
    const products = async (env: string): Promise<string[]> => {
      const page = await getPage(project, env, '/products');
      assert.equal(page.status, 200, page.body);
      return skus(page.body);
    };
    const media = (env: string): string => layout.mount(project, env, 'media');

    // The parent's rows and media.
    await addProduct('integration', 'IN01');
    fs.writeFileSync(path.join(media('integration'), 'banner.txt'), 'integration banner\n');
    assert.deepEqual(await products('integration'), ['IN01', 'MT07', 'WS12', 'WT09']);

    // 1. A branch starts with them (copied in its first deployment), then diverges.
    await client.branch(project, { name: 'feature', parent: 'integration' });
    const f1 = await client.waitForDeployment(project, 'feature');
    assert.equal(f1.status, 'succeeded', f1.error);
    const f1log = client.deploymentLog(project, 'feature', f1.deployment);
    assert.match(f1log, /\[copy-data\] database mysql and mounts media, var of integration copied in: [\d.]+ MB in \d+ ms/);
    assert.match(f1log, /\[deploy-hook\] deploy mode update: the database of service mysql has application tables/);
    assert.deepEqual(await products('feature'), ['IN01', 'MT07', 'WS12', 'WT09']);
    assert.equal(fs.readFileSync(path.join(media('feature'), 'banner.txt'), 'utf8'), 'integration banner\n');
    await addProduct('feature', 'FE01');
    fs.writeFileSync(path.join(media('feature'), 'banner.txt'), 'feature banner\n');
    assert.deepEqual(await products('feature'), ['FE01', 'IN01', 'MT07', 'WS12', 'WT09']);
    assert.deepEqual(await products('integration'), ['IN01', 'MT07', 'WS12', 'WT09'], 'data never flows up');
    assert.equal(fs.readFileSync(path.join(media('integration'), 'banner.txt'), 'utf8'), 'integration banner\n');

    // Data never flows up: merging feature into integration moves its code, not its FE01 row nor its banner.
    const featureRepo = await clone(p.remote, 'feature');
    const fc = await commitAndPush(featureRepo, 'feature', { 'content/feature-note.txt': 'from feature\n' });
    assert.equal((await client.waitForDeployment(project, 'feature', { commit: fc })).status, 'succeeded');
    const merged = await client.merge(project, 'feature');
    assert.equal(merged.target, 'integration');
    const im = await client.waitForDeployment(project, 'integration', { commit: merged.commit });
    assert.equal(im.status, 'succeeded', im.error);
    assert.deepEqual(await products('integration'), ['IN01', 'MT07', 'WS12', 'WT09'], 'no FE01 in integration after the merge');
    assert.equal(fs.readFileSync(path.join(media('integration'), 'banner.txt'), 'utf8'), 'integration banner\n');
    const copyLines = client.deploymentLog(project, 'integration', im.deployment).split('\n').filter((l) => l.includes('[copy-data]'));
    assert.equal(copyLines.length, 1, copyLines.join('\n'));
    assert.match(copyLines[0]!, /\[copy-data\] skipped: no data to bring in$/, 'the merge copied no data');
    // The test's own checkout follows integration (the merge moved it).
    await repo.git.fetch('origin', 'integration');
    await repo.git.merge(['--ff-only', 'origin/integration']);

    // 2. sync --data: the parent's data back.
    const synced = await client.syncData(project, 'feature');
    const f2 = await client.waitForDeployment(project, 'feature', { after: synced.deployment - 1 });
    assert.equal(f2.status, 'succeeded', f2.error);
    assert.deepEqual(await products('feature'), ['IN01', 'MT07', 'WS12', 'WT09']);
    assert.equal(fs.readFileSync(path.join(media('feature'), 'banner.txt'), 'utf8'), 'integration banner\n');
    await assert.rejects(client.syncData(project, 'integration'), /integration has no parent to take data from/);

    // 3. Staging: its own data, snapshotted before each deployment.
    const toStaging = await client.promote(project, 'staging', 'alice');
    await client.decide(project, toStaging.ticket, { user: 'sam', decision: 'approve' });
    assert.equal((await client.waitForPromotion(toStaging.workflowId)).status, 'deployed');
    const s1 = (await client.environmentStatus(project, 'staging')).current!.deployment;
    assert.match(client.deploymentLog(project, 'staging', s1), /\[snapshot-data\] snapshot s\S+ of database mysql and mounts media, var: [\d.]+ MB in \d+ ms/);
    await addProduct('staging', 'ST01');
    const stagingBefore = await products('staging');
    assert.deepEqual(stagingBefore, ['MT07', 'ST01', 'WS12', 'WT09']);

    // A migration that changes the schema and the rows, then fails on staging's own data (its
    // ST01): integration takes it, staging's deployment fails and is undone whole.
    const bad = await commitAndPush(repo, 'integration', {
      'db/migrations/003-colors.sql': "ALTER TABLE products ADD COLUMN color VARCHAR(32);\nUPDATE products SET price = 0;\nINSERT INTO products (sku, name, price) VALUES ('ST01', 'Imported Tee', 9.00);\n",
    });
    const i2 = await client.waitForDeployment(project, 'integration', { commit: bad });
    assert.equal(i2.status, 'succeeded', i2.error);
    const again = await client.promote(project, 'staging', 'alice');
    await client.decide(project, again.ticket, { user: 'sam', decision: 'approve' });
    const failed = await client.waitForPromotion(again.workflowId);
    assert.equal(failed.status, 'failed');
    const staging = await client.environmentStatus(project, 'staging');
    assert.equal(staging.current?.deployment, s1, 'the previous release is served');
    const s2 = staging.deployments.at(-1)!;
    const s2log = client.deploymentLog(project, 'staging', s2.deployment);
    assert.match(s2log, /\[deploy-hook\] .*Duplicate entry 'ST01'/);
    assert.match(s2log, /\[deploy-hook\] database and mounts restored from snapshot s\S+ \(taken before this deployment\) in \d+ ms/);
    const db = servicePaths({ layout, project, environment: 'staging' }, 'mysql');
    const ref = { layout, project, environment: 'staging' };
    assert.equal((await mariadbQuery(ref, db, "SHOW COLUMNS FROM main.products LIKE 'color'")).trim(), '', 'the schema is back');
    assert.equal((await mariadbQuery(ref, db, "SELECT price FROM main.products WHERE sku = 'WS12'")).trim(), '22.0000', 'the rows are back');
    assert.equal((await mariadbQuery(ref, db, 'SELECT MAX(version) FROM main.schema_version')).trim(), '2');
    assert.deepEqual(await products('staging'), stagingBefore);

    // Snapshots on request: listed, taken, restored.
    const listed = client.snapshots(project, 'staging');
    assert.ok(listed.length >= 2, JSON.stringify(listed));
    assert.ok(listed.every((s) => /^before deployment #\d+$/.test(s.reason)));
    const taken = await client.snapshot(project, 'staging');
    await addProduct('staging', 'ST02');
    const restored = await client.restoreSnapshot(project, 'staging', taken.snapshot);
    assert.equal((await client.waitForDeployment(project, 'staging', { after: restored.deployment - 1 })).status, 'succeeded');
    assert.deepEqual(await products('staging'), stagingBefore, 'ST02 is gone with the snapshot');

    // rollback --with-data: the previous release, and the data as it was before the current
    // one's deployment (its snapshot had ST02, which the restore took away).
    const current = (await client.environmentStatus(project, 'staging')).current!.deployment;
    const back = await client.rollback(project, 'staging', undefined, true);
    const rb = await client.waitForDeployment(project, 'staging', { after: back.deployment - 1 });
    assert.equal(rb.status, 'succeeded', rb.error);
    assert.match(client.deploymentLog(project, 'staging', rb.deployment), new RegExp(`\\[copy-data\\] database and mounts restored from snapshot s\\S+ \\(before deployment #${current}, commit [0-9a-f]{12}\\)`));
    assert.deepEqual(await products('staging'), [...stagingBefore, 'ST02'].sort());
    const stagingNow = await products('staging');

    // 4. promote --data: a ticket of kind code-and-data; nothing copied before its approval.
    fs.writeFileSync(path.join(media('staging'), 'launch.txt'), 'from staging\n');
    const launch = await client.promote(project, 'production', 'alice', { withData: true });
    const ticket = await client.ticket(project, launch.ticket);
    assert.equal(ticket.kind, 'code-and-data');
    assert.match(ticket.title, /^Promote code and data of staging .* to production: its database and mounts replace production's \(snapshotted first\)$/);
    assert.equal((await client.environmentStatus(project, 'production')).current, undefined, 'nothing deployed before the approval');
    await client.decide(project, launch.ticket, { user: 'sue', decision: 'approve' });
    assert.equal((await client.waitForPromotion(launch.workflowId)).status, 'deployed');
    const prod = (await client.environmentStatus(project, 'production')).current!.deployment;
    const plog = client.deploymentLog(project, 'production', prod);
    assert.match(plog, /\[snapshot-data\] snapshot s\S+ of database mysql and mounts media, var/);
    assert.match(plog, /\[copy-data\] database mysql and mounts media, var of staging copied in/);
    assert.deepEqual(await products('production'), stagingNow);
    assert.equal(fs.readFileSync(path.join(media('production'), 'launch.txt'), 'utf8'), 'from staging\n');

    // 5. Staging's data refreshed from production: through a ticket of kind data-refresh.
    await addProduct('production', 'PR01');
    const before = (await client.environmentStatus(project, 'staging')).deployments.at(-1)!.deployment;
    // Asked for with the CLI's command on the engine host (as --as), then again through the API (as the token's user).
    const cliEnv = { ...process.env, SLIPWAY_HOME: layout.home };
    const refreshArgs = ['env', 'sync', project, 'staging', '--data', '--from', 'production'];
    const noRequester = await runSlipway(refreshArgs, cliEnv);
    assert.equal(noRequester.code, 2);
    assert.match(noRequester.stderr, /--from \(a data refresh ticket\) needs --as <user>/);
    const asked = await runSlipway([...refreshArgs, '--as', 'alice'], cliEnv);
    assert.equal(asked.code, 0, asked.stderr);
    const refresh = { ticket: asked.stdout.trim() };
    assert.match(refresh.ticket, /^SUP-\d+$/);
    assert.match(asked.stderr, new RegExp(`${refresh.ticket} opened: staging deploys again with production's database and mounts once a support engineer approves`));
    const remoteEnv: NodeJS.ProcessEnv = { ...process.env, SLIPWAY_API_URL: process.env.SLIPWAY_TEST_API_URL, SLIPWAY_TOKEN: 'slipway-dev-alice' };
    delete remoteEnv.SLIPWAY_HOME;
    delete remoteEnv.TEMPORAL_ADDRESS;
    const remote = await runSlipway(refreshArgs, remoteEnv);
    assert.equal(remote.code, 1, remote.stdout);
    assert.match(remote.stderr, new RegExp(`waits for ${refresh.ticket} already`));
    const rt = await client.ticket(project, refresh.ticket);
    assert.equal(rt.kind, 'data-refresh');
    assert.equal(rt.title, "Refresh staging's data from production: its database and mounts replace staging's (snapshotted first)");
    assert.ok(!(await products('staging')).includes('PR01'), 'nothing before the approval');
    await assert.rejects(client.requestDataRefresh(project, 'staging', 'production', 'alice'), new RegExp(`waits for ${refresh.ticket} already`));
    await client.decide(project, refresh.ticket, { user: 'sam', decision: 'approve' });
    const refreshed = await client.waitForDeployment(project, 'staging', { after: before });
    assert.equal(refreshed.status, 'succeeded', refreshed.error);
    assert.match(client.deploymentLog(project, 'staging', refreshed.deployment), /\[copy-data\] database mysql and mounts media, var of production copied in/);
    assert.deepEqual(await products('staging'), [...stagingNow, 'PR01'].sort());
    await assert.rejects(client.requestDataRefresh(project, 'production', 'staging', 'alice'), /only staging's data is refreshed through a ticket, from production/);

    // 6. The snapshot commands of the CLI, once each: create, list, restore, delete.
    const created = await runSlipway(['env', 'snapshot', 'create', project, 'staging'], cliEnv);
    assert.equal(created.code, 0, created.stderr);
    const cliSnap = created.stdout.trim();
    assert.match(cliSnap, /^s\d{14}-[0-9a-f]{4}$/);
    assert.match(created.stderr, new RegExp(`snapshot ${cliSnap} of staging: [\\d.]+ MB`));
    const cliList = await runSlipway(['env', 'snapshot', 'list', project, 'staging'], cliEnv);
    assert.equal(cliList.code, 0, cliList.stderr);
    assert.match(cliList.stdout, new RegExp(`^${cliSnap}  \\d{4}-\\d\\d-\\d\\dT\\S+Z\\s+[\\d.]+ MB  [0-9a-f]{12}  on request$`, 'm'));
    assert.match(cliList.stdout, /^s\S+ {2}\S+Z\s+[\d.]+ MB {2}[0-9a-f]{12} {2}before deployment #\d+$/m);
    await addProduct('staging', 'ST03');
    const cliRestore = await runSlipway(['env', 'snapshot', 'restore', project, 'staging', cliSnap], cliEnv);
    assert.equal(cliRestore.code, 0, cliRestore.stderr);
    assert.match(cliRestore.stderr, new RegExp(`snapshot ${cliSnap} restored \\(deployment #\\d+\\)`));
    assert.ok(!(await products('staging')).includes('ST03'), 'ST03 is gone with the snapshot');
    const cliDelete = await runSlipway(['env', 'snapshot', 'delete', project, 'staging', cliSnap], cliEnv);
    assert.equal(cliDelete.code, 0, cliDelete.stderr);
    assert.ok(!client.snapshots(project, 'staging').some((s) => s.id === cliSnap));
    const unknown = await runSlipway(['env', 'snapshot', 'delete', project, 'staging', cliSnap], cliEnv);
    assert.notEqual(unknown.code, 0);
    assert.match(unknown.stderr, new RegExp(`no snapshot "${cliSnap}" of ${project}/staging`));

    // 7. Staging keeps the newest N automatic snapshots (six deployments took one); the one
    // taken on request stays; each is listed with its size, time and commit.
    const kept = client.snapshots(project, 'staging');
    const automatic = kept.filter((s) => /^before deployment #\d+$/.test(s.reason));
    const staged = (await client.environmentStatus(project, 'staging')).deployments.map((d) => d.deployment);
    assert.ok(staged.length > snapshotsKept(), `${staged.length} deployments of staging`);
    assert.equal(automatic.length, snapshotsKept(), JSON.stringify(kept));
    assert.deepEqual(automatic.map((s) => s.reason), staged.slice(-snapshotsKept()).reverse().map((n) => `before deployment #${n}`), 'the newest ones');
    assert.ok(kept.some((s) => s.id === taken.snapshot && s.reason === 'on request'), 'a snapshot taken on request is not pruned');
    for (const s of kept) {
      assert.ok(s.sizeBytes > 0, JSON.stringify(s));
      assert.ok(Number.isFinite(Date.parse(s.createdAt)) && Date.now() - Date.parse(s.createdAt) < 3_600_000, s.createdAt);
      assert.match(s.commit ?? '', /^[0-9a-f]{40}$/);
    }
  });
});
