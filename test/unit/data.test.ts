/**
 * An environment's data copied and snapshotted for real (src/runtime/data/): MariaDB processes
 * in their namespaces and sandboxes, mounts with hostile content. Copies between environments
 * carry rows and files, leave the source running and untouched, and give the target its own
 * credentials; snapshots come back whole; a failure leaves the target as it was.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Layout } from '../../src/home';
import { copyEnvironmentData, createSnapshot, deleteSnapshot, listSnapshots, pruneSnapshots, restoreSnapshot } from '../../src/runtime/data';
import { stopAllRuntimes } from '../../src/runtime/environment-runtime';
import { mariadbQuery, servicePaths, startServices, stopService, type DeclaredServices, type EnvironmentRef } from '../../src/runtime/services';
import { environmentNetns, serviceCgroupName } from '../../src/runtime/services/environment';
import { netnsExists } from '../../src/runtime/netns';
import { bootstrapMariadb } from '../../src/runtime/services/mariadb';
import { sandboxIdentity } from '../../src/sandbox/identity';
import { sandboxServicePids } from '../../src/sandbox/sandbox';
import { SlipwayError } from '../../src/errors';
import { restoreAfterFailureIn, snapshotBefore, snapshotDataIn } from '../../src/activities/data-steps';
import { StepLog } from '../../src/activities/lib/step-log';
import type { SlugManifest } from '../../src/domain/project-files';
import { tempDir } from '../harness/world';

const services: DeclaredServices = { mysql: { type: 'mysql:10.11', kind: 'mysql' } };
const MEDIA = 'pub/media';

function sql(ref: EnvironmentRef, text: string): Promise<string> {
  return mariadbQuery(ref, servicePaths(ref, 'mysql'), text);
}

/** Writes a mount file as its project's user would own it. */
function mountFile(ref: EnvironmentRef, rel: string, text: string): void {
  const dir = ref.layout.mount(ref.project, ref.environment, MEDIA);
  const id = sandboxIdentity(ref.layout, ref.project);
  const file = path.join(dir, rel);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text);
  for (let p = file; p.startsWith(dir); p = path.dirname(p)) fs.lchownSync(p, id.uid, id.gid);
}

describe("an environment's data: copies and snapshots", function () {
  this.timeout(180_000);
  let layout: Layout;
  let a: EnvironmentRef;
  let b: EnvironmentRef;
  let other: EnvironmentRef;

  before(async function () {
    layout = new Layout(tempDir('data-home'));
    fs.chmodSync(layout.home, 0o711);
    a = { layout, project: 'shop', environment: 'integration' };
    b = { layout, project: 'shop', environment: 'sprint' };
    other = { layout, project: 'blog', environment: 'integration' };
    await Promise.all([startServices(a, services), startServices(b, services)]);
    await sql(a, "CREATE TABLE product (sku VARCHAR(20) PRIMARY KEY, name TEXT); INSERT INTO product VALUES ('A-1', 'anchor'), ('A-2', 'buoy')");
    mountFile(a, 'catalog/anchor.jpg', 'anchor image');
    mountFile(b, 'old.jpg', 'only in sprint');
  });

  after(async function () {
    await stopAllRuntimes(layout);
    for (const ref of [a, b, other, { layout, project: 'shop', environment: 'legacy' }]) {
      assert.equal(netnsExists(environmentNetns(ref)), false);
      assert.deepEqual(sandboxServicePids(serviceCgroupName(ref, 'mysql')), []);
    }
    fs.rmSync(layout.home, { recursive: true, force: true });
  });

  it("copies a mount's links as links, never following them; odd names are plain files", async function () {
    const media = layout.mount('shop', 'integration', MEDIA);
    const otherData = servicePaths(b, 'mysql').data;
    fs.symlinkSync('/etc/shadow', path.join(media, 'shadow'));
    fs.symlinkSync(otherData, path.join(media, 'their-data'));
    fs.symlinkSync('../../../../../../..', path.join(media, 'up'));
    const shop = sandboxIdentity(layout, 'shop');
    for (const l of ['shadow', 'their-data', 'up']) fs.lchownSync(path.join(media, l), shop.uid, shop.gid);
    mountFile(a, '--help', 'not an option');
    mountFile(a, 'new\nline.txt', 'a newline in my name');
    const target = layout.mount('shop', 'sprint', MEDIA);
    const before = fs.statSync(target).ino;

    const r = await copyEnvironmentData(a, b, { databases: [], mounts: [MEDIA] });

    assert.equal(r.parts.length, 1);
    assert.equal(fs.readlinkSync(path.join(target, 'shadow')), '/etc/shadow');
    assert.ok(fs.lstatSync(path.join(target, 'shadow')).isSymbolicLink());
    assert.equal(fs.readlinkSync(path.join(target, 'their-data')), otherData);
    assert.ok(fs.lstatSync(path.join(target, 'up')).isSymbolicLink());
    assert.equal(fs.readFileSync(path.join(target, '--help'), 'utf8'), 'not an option');
    assert.equal(fs.readFileSync(path.join(target, 'new\nline.txt'), 'utf8'), 'a newline in my name');
    assert.equal(fs.readFileSync(path.join(target, 'catalog/anchor.jpg'), 'utf8'), 'anchor image');
    assert.equal(fs.existsSync(path.join(target, 'old.jpg')), false, "the target's files are replaced");
    assert.equal(fs.statSync(target).ino, before, "the mount's directory is kept (a running application binds it)");
    const uid = sandboxIdentity(layout, 'shop').uid;
    assert.equal(fs.lstatSync(path.join(target, 'shadow')).uid, uid);
    assert.equal(fs.lstatSync(path.join(target, 'catalog/anchor.jpg')).uid, uid);
    // Nothing was read through the links: /etc/shadow is not in the tree's bytes.
    assert.ok(r.parts[0]!.bytes < 100_000, String(r.parts[0]!.bytes));
    for (const f of ['shadow', 'their-data', 'up', '--help', 'new\nline.txt']) fs.rmSync(path.join(media, f));
  });

  it('refuses a mount whose storage, or a directory above it, is a link', async function () {
    const mounts = layout.mount('shop', 'integration', '');
    fs.symlinkSync('/etc', path.join(mounts, 'etc-link'));
    fs.mkdirSync(path.join(mounts, 'var'));
    fs.symlinkSync('/etc', path.join(mounts, 'var', 'log'));
    try {
      await assert.rejects(copyEnvironmentData(a, b, { databases: [], mounts: ['etc-link'] }), /etc-link is not a directory \(a link is never followed\)/);
      await assert.rejects(copyEnvironmentData(a, b, { databases: [], mounts: ['var/log'] }), /var\/log is not a directory/);
      await assert.rejects(copyEnvironmentData(a, b, { databases: [], mounts: ['../sprint'] }), /invalid mount source/);
      assert.equal(fs.existsSync(layout.mount('shop', 'sprint', 'etc-link')), false);
      assert.equal(fs.readFileSync(path.join(layout.mount('shop', 'sprint', MEDIA), 'catalog/anchor.jpg'), 'utf8'), 'anchor image');
    } finally {
      fs.rmSync(path.join(mounts, 'etc-link'));
      fs.rmSync(path.join(mounts, 'var'), { recursive: true });
    }
  });

  it('copies rows and media into a running target, which keeps its own password; the source keeps running', async function () {
    const sourcePids = sandboxServicePids(serviceCgroupName(a, 'mysql')).sort();
    await sql(b, "CREATE TABLE mine (x INT); INSERT INTO mine VALUES (1)");
    const lines: string[] = [];
    const r = await copyEnvironmentData(a, b, { databases: ['mysql'], mounts: [MEDIA] }, (l) => lines.push(l));
    assert.deepEqual(
      r.parts.map((p) => [p.kind, p.name, p.method]),
      [
        ['database', 'mysql', 'mariadb-backup'],
        ['mount', MEDIA, 'copy'],
      ].sort((x, y) => (r.parts.findIndex((p) => p.kind === x[0]) - r.parts.findIndex((p) => p.kind === y[0]))),
    );
    assert.ok(r.parts.every((p) => p.bytes > 0 && p.ms > 0) && r.totalMs >= r.switchMs);
    // Over b's own client options (b's password, different from a's).
    assert.notEqual(fs.readFileSync(servicePaths(a, 'mysql').enginePasswordFile, 'utf8'), fs.readFileSync(servicePaths(b, 'mysql').enginePasswordFile, 'utf8'));
    assert.equal((await sql(b, 'SELECT sku, name FROM product ORDER BY sku')).trim(), 'A-1\tanchor\nA-2\tbuoy');
    await assert.rejects(sql(b, 'SELECT * FROM mine'), /doesn't exist/);
    // The source's password, which the copied mysql.user held, no longer opens the target.
    const foreign = path.join(layout.home, 'foreign.cnf');
    fs.writeFileSync(foreign, fs.readFileSync(servicePaths(a, 'mysql').engineClientOptions, 'utf8').replace(servicePaths(a, 'mysql').socket, servicePaths(b, 'mysql').socket), { mode: 0o600 });
    await assert.rejects(mariadbQuery(b, { ...servicePaths(b, 'mysql'), engineClientOptions: foreign }, 'SELECT 1'), /Access denied/);
    assert.equal(fs.readFileSync(path.join(layout.mount('shop', 'sprint', MEDIA), 'catalog/anchor.jpg'), 'utf8'), 'anchor image');
    // The source ran throughout, with the same processes.
    assert.deepEqual(sandboxServicePids(serviceCgroupName(a, 'mysql')).sort(), sourcePids);
    // The target diverges; the source does not see it.
    await sql(b, "INSERT INTO product VALUES ('B-1', 'sail'); UPDATE product SET name = 'rope' WHERE sku = 'A-1'");
    mountFile(b, 'catalog/sail.jpg', 'sail');
    assert.equal((await sql(a, 'SELECT sku, name FROM product ORDER BY sku')).trim(), 'A-1\tanchor\nA-2\tbuoy');
    assert.equal(fs.existsSync(path.join(layout.mount('shop', 'integration', MEDIA), 'catalog/sail.jpg')), false);
    // No work directory left behind.
    assert.deepEqual(fs.readdirSync(layout.environment('shop', 'sprint')).filter((d) => d.startsWith('data-work-')), []);
  });

  it("copies into another project's environment that never ran, handed to that project's user", async function () {
    await copyEnvironmentData(a, other, { databases: ['mysql'], mounts: [MEDIA] });
    const uid = sandboxIdentity(layout, 'blog').uid;
    assert.notEqual(uid, sandboxIdentity(layout, 'shop').uid);
    assert.equal(fs.statSync(servicePaths(other, 'mysql').data).uid, uid);
    assert.equal(fs.lstatSync(path.join(layout.mount('blog', 'integration', MEDIA), 'catalog/anchor.jpg')).uid, uid);
    // Started later as its own, with its own password.
    await startServices(other, services);
    assert.equal((await sql(other, 'SELECT COUNT(*) FROM product')).trim(), '2');
  });

  it('restores a snapshot: rows and files back; the environment kept running to take it', async function () {
    const pids = sandboxServicePids(serviceCgroupName(b, 'mysql')).sort();
    const snap = await createSnapshot(b, { databases: ['mysql'], mounts: [MEDIA], commit: 'abc123', reason: 'before the sale' });
    assert.match(snap.id, /^s\d{14}-[0-9a-f]{4}$/);
    assert.deepEqual(sandboxServicePids(serviceCgroupName(b, 'mysql')).sort(), pids, 'taking a snapshot stops nothing');
    assert.ok(snap.sizeBytes > 0 && snap.databases[0]!.bytes > 0 && snap.mounts[0]!.bytes > 0);
    const dir = path.join(layout.snapshots('shop', 'sprint'), snap.id);
    assert.equal(fs.statSync(layout.snapshots('shop', 'sprint')).mode & 0o777, 0o700);
    assert.equal(fs.statSync(path.join(layout.home, 'snapshots')).mode & 0o777, 0o700);
    assert.deepEqual(listSnapshots(b).map((s) => [s.id, s.commit, s.reason]), [[snap.id, 'abc123', 'before the sale']]);
    assert.ok(fs.existsSync(path.join(dir, 'snapshot.json')));

    await sql(b, "DELETE FROM product; INSERT INTO product VALUES ('C-1', 'gone soon')");
    mountFile(b, 'catalog/sail.jpg', 'changed');
    mountFile(b, 'later.jpg', 'added after');
    const r = await restoreSnapshot(b, snap.id);
    assert.ok(r.totalMs > 0);
    assert.equal((await sql(b, 'SELECT sku, name FROM product ORDER BY sku')).trim(), 'A-1\trope\nA-2\tanchor\nB-1\tsail'.replace('A-2\tanchor', 'A-2\tbuoy'));
    const media = layout.mount('shop', 'sprint', MEDIA);
    assert.equal(fs.readFileSync(path.join(media, 'catalog/sail.jpg'), 'utf8'), 'sail');
    assert.equal(fs.existsSync(path.join(media, 'later.jpg')), false);
    assert.ok(sandboxServicePids(serviceCgroupName(b, 'mysql')).length > 0, 'running again after the restore');
  });

  it('a restore that fails midway leaves the environment as it was, and says why', async function () {
    const [snap] = listSnapshots(b);
    await sql(b, "INSERT INTO product VALUES ('D-1', 'kept')");
    mountFile(b, 'kept.jpg', 'kept');
    const ibdata = path.join(layout.snapshots('shop', 'sprint'), snap!.id, 'databases', 'mysql', 'ibdata1');
    const good = fs.readFileSync(ibdata);
    fs.writeFileSync(ibdata, Buffer.alloc(good.length, 0x5a));
    try {
      await assert.rejects(restoreSnapshot(b, snap!.id), (err: unknown) => {
        assert.ok(err instanceof SlipwayError);
        assert.match(err.message, /snapshot s\d{14}-[0-9a-f]{4} of shop\/sprint failed before anything changed/);
        assert.match(err.message, /MariaDB service mysql/);
        return true;
      });
    } finally {
      fs.writeFileSync(ibdata, good);
    }
    assert.equal((await sql(b, "SELECT name FROM product WHERE sku = 'D-1'")).trim(), 'kept');
    assert.equal(fs.readFileSync(path.join(layout.mount('shop', 'sprint', MEDIA), 'kept.jpg'), 'utf8'), 'kept');
    assert.equal(fs.readFileSync(path.join(layout.mount('shop', 'sprint', MEDIA), 'catalog/sail.jpg'), 'utf8'), 'sail');
  });

  it('a switch that fails after the stop puts the old data back and starts the service again', async function () {
    const [snap] = listSnapshots(b);
    // The staged copy is damaged once it has passed its bootstrap, just before the switch: the
    // service does not start on it, after the old data was moved aside and the mount switched.
    const envDir = layout.environment('shop', 'sprint');
    const restore = restoreSnapshot(b, snap!.id, (l) => {
      if (!/stopping shop\/sprint's MariaDB/.test(l)) return;
      const work = fs.readdirSync(envDir).find((d) => d.startsWith('data-work-'))!;
      for (const f of ['ibdata1', 'ib_logfile0']) {
        const file = path.join(envDir, work, 'db-mysql', f);
        if (fs.existsSync(file)) fs.writeFileSync(file, Buffer.alloc(fs.statSync(file).size, 0x5a));
      }
    });
    await assert.rejects(restore, /switching the copied data into shop\/sprint failed, and its data was put back as it was: the MariaDB service mysql of shop\/sprint did not serve/);
    assert.ok(sandboxServicePids(serviceCgroupName(b, 'mysql')).length > 0, 'started again on its old data');
    assert.equal((await sql(b, "SELECT name FROM product WHERE sku = 'D-1'")).trim(), 'kept');
    assert.equal(fs.readFileSync(path.join(layout.mount('shop', 'sprint', MEDIA), 'kept.jpg'), 'utf8'), 'kept');
  });

  it('a copy that fails midway (after the stop) leaves the target as it was: rows, mounts, its MariaDB running; the error says why', async function () {
    // The path of sync --data, promote --data and the refresh: the copy is damaged once staged,
    // just before the switch, so the target's MariaDB does not start on it.
    mountFile(a, 'only-in-integration.jpg', 'never in sprint');
    const envDir = layout.environment('shop', 'sprint');
    const copy = copyEnvironmentData(a, b, { databases: ['mysql'], mounts: [MEDIA] }, (l) => {
      if (!/stopping shop\/sprint's MariaDB/.test(l)) return;
      const work = fs.readdirSync(envDir).find((d) => d.startsWith('data-work-'))!;
      for (const f of ['ibdata1', 'ib_logfile0']) {
        const file = path.join(envDir, work, 'db-mysql', f);
        if (fs.existsSync(file)) fs.writeFileSync(file, Buffer.alloc(fs.statSync(file).size, 0x5a));
      }
    });
    await assert.rejects(copy, (err: unknown) => {
      assert.ok(err instanceof SlipwayError);
      assert.match(err.message, /^copying shop\/integration's data into shop\/sprint: switching the copied data into shop\/sprint failed, and its data was put back as it was: /);
      assert.match(err.message, /the MariaDB service mysql of shop\/sprint did not serve on the copied data/);
      return true;
    });
    assert.ok(sandboxServicePids(serviceCgroupName(b, 'mysql')).length > 0, 'started again on its old data');
    assert.equal((await sql(b, 'SELECT sku, name FROM product ORDER BY sku')).trim(), 'A-1\trope\nA-2\tbuoy\nB-1\tsail\nD-1\tkept');
    const media = layout.mount('shop', 'sprint', MEDIA);
    assert.equal(fs.readFileSync(path.join(media, 'kept.jpg'), 'utf8'), 'kept');
    assert.equal(fs.readFileSync(path.join(media, 'catalog/sail.jpg'), 'utf8'), 'sail');
    assert.equal(fs.existsSync(path.join(media, 'only-in-integration.jpg')), false);
    assert.deepEqual(fs.readdirSync(envDir).filter((d) => d.startsWith('data-work-')), [], 'no work directory left');
    // The source was only read.
    assert.equal((await sql(a, "SELECT name FROM product WHERE sku = 'A-1'")).trim(), 'anchor');
    fs.rmSync(path.join(layout.mount('shop', 'integration', MEDIA), 'only-in-integration.jpg'));
  });

  it('prunes all but the newest N; deletes one by id; refuses unknown ids', async function () {
    const made = [];
    for (let i = 0; i < 3; i++) made.push((await createSnapshot(b, { databases: [], mounts: [MEDIA], reason: `n${i}` })).id);
    const all = listSnapshots(b).map((s) => s.id);
    assert.equal(all.length, 4);
    assert.deepEqual(all, [...all].sort().reverse(), 'newest first');
    const deleted = pruneSnapshots(b, 2);
    assert.deepEqual(deleted, all.slice(2).reverse());
    assert.deepEqual(listSnapshots(b).map((s) => s.id), all.slice(0, 2));
    deleteSnapshot(b, all[1]!);
    assert.deepEqual(listSnapshots(b).map((s) => s.id), [all[0]]);
    assert.throws(() => deleteSnapshot(b, 's20000101000000-abcd'), /no snapshot "s20000101000000-abcd" of shop\/sprint/);
    assert.throws(() => deleteSnapshot(b, '../../etc'), /no snapshot/);
    assert.deepEqual(listSnapshots(a), [], 'none taken of the source');
  });

  it("an older MariaDB without the engine's account: a hot copy says so; its next start adds the account", async function () {
    const legacy: EnvironmentRef = { layout, project: 'shop', environment: 'legacy' };
    await startServices(legacy, services);
    await sql(legacy, "CREATE TABLE t (x INT); INSERT INTO t VALUES (42)");
    const p = servicePaths(legacy, 'mysql');
    // As a data directory initialised by an earlier engine: no account of the engine's, no marker.
    await stopService(legacy, 'mysql');
    await bootstrapMariadb({ ref: legacy, name: 'mysql', identity: sandboxIdentity(layout, 'shop'), dataDir: p.data, sql: "FLUSH PRIVILEGES;\nDROP USER 'slipway'@'localhost';\n", what: 'test' }, () => {});
    await startServices(legacy, services);
    fs.rmSync(p.adminMarker);
    await assert.rejects(copyEnvironmentData(legacy, other, { databases: ['mysql'], mounts: [] }), /the MariaDB service mysql of shop\/legacy was initialised before the engine had its own account/);
    assert.equal((await sql(other, 'SELECT COUNT(*) FROM product')).trim(), '2', 'the target is untouched');
    await stopService(legacy, 'mysql');
    await startServices(legacy, services);
    assert.ok(fs.existsSync(p.adminMarker));
    await copyEnvironmentData(legacy, other, { databases: ['mysql'], mounts: [] });
    assert.equal((await sql(other, 'SELECT x FROM t')).trim(), '42');
  });
  it("the snapshot step of a deployment run again (a worker died in it) reuses the first attempt's snapshot; its restore gives the data before the deployment", async function () {
    const key = { project: 'shop', environment: 'sprint', number: 7 };
    const input = { ...key, commit: 'c0ffee'.padEnd(40, '0'), manifest: { services, mounts: { '/pub/media': MEDIA } } as unknown as SlugManifest };
    const log = new StepLog(layout, key);
    const before = (await sql(b, 'SELECT sku, name FROM product ORDER BY sku')).trim();
    const first = await snapshotDataIn(layout, input, log);
    const count = listSnapshots(b).length;
    // The first attempt's deploy hook half-migrates, then its worker dies: the rows and media changed.
    await sql(b, "ALTER TABLE product ADD COLUMN color TEXT; UPDATE product SET name = 'half-migrated'");
    mountFile(b, 'kept.jpg', 'half-migrated');
    const second = await snapshotDataIn(layout, input, log);
    assert.equal(second.id, first.id, 'the first snapshot is kept');
    assert.equal(listSnapshots(b).length, count, 'no new snapshot');
    assert.equal(snapshotBefore(layout, key, 7)?.id, first.id, 'rollback --with-data finds the first one');
    assert.match(fs.readFileSync(log.file, 'utf8'), new RegExp(`\\[snapshot-data\\] snapshot ${first.id} of database mysql and mount pub/media reused: an earlier attempt of deployment #7 took it`));
    // Its later failure restores the data as it was before the deployment.
    await restoreAfterFailureIn(layout, input, second, log, 'deploy-hook');
    assert.equal((await sql(b, 'SELECT sku, name FROM product ORDER BY sku')).trim(), before);
    assert.equal((await sql(b, "SHOW COLUMNS FROM product LIKE 'color'")).trim(), '');
    assert.equal(fs.readFileSync(path.join(layout.mount('shop', 'sprint', MEDIA), 'kept.jpg'), 'utf8'), 'kept');
    // Another deployment (or another commit under the same number) takes its own.
    const other = await snapshotDataIn(layout, { ...input, number: 8 }, log);
    assert.notEqual(other.id, first.id);
  });

  it('keeps the newest N automatic snapshots; those taken on request are not pruned by them', async function () {
    const onRequest = await createSnapshot(b, { databases: [], mounts: [MEDIA], reason: 'on request' });
    const saved = process.env.SLIPWAY_SNAPSHOTS_KEPT;
    process.env.SLIPWAY_SNAPSHOTS_KEPT = '2';
    try {
      const manifest = { services: {}, mounts: { '/pub/media': MEDIA } } as unknown as SlugManifest;
      for (const number of [20, 21, 22]) await snapshotDataIn(layout, { project: 'shop', environment: 'sprint', number, commit: 'a'.repeat(40), manifest }, new StepLog(layout, { project: 'shop', environment: 'sprint', number }));
    } finally {
      if (saved === undefined) delete process.env.SLIPWAY_SNAPSHOTS_KEPT;
      else process.env.SLIPWAY_SNAPSHOTS_KEPT = saved;
    }
    const list = listSnapshots(b);
    assert.deepEqual(list.filter((s) => /^before deployment/.test(s.reason)).map((s) => s.reason), ['before deployment #22', 'before deployment #21']);
    assert.ok(list.some((s) => s.id === onRequest.id));
  });
});
