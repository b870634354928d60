/**
 * Data follows the hierarchy (issue 17): branching with data and snapshots, on a parent
 * environment with a sample database of about 100 MB (a products table with text columns and
 * an index, generated in SQL) and about 200 MB of media files in a mount (a few hundred files).
 *
 * 1. Branching with data: `copyEnvironmentData` parent → child (a hot physical copy of the
 *    running MariaDB with mariadb-backup, `cp -a` of the mount, the switch with the child's
 *    MariaDB stopped and started again), against the usual way, `mariadb-dump | mariadb` into the
 *    child's running database alongside `rm -r` and `cp -r` of the media, measured alternately
 *    in the same run. Goal: at most half the baseline's time.
 * 2. Snapshots of the child (database and media, its services running): time to create, to
 *    restore, and the snapshot's size on disk. No goal.
 *
 * Both environments run on a data directory of their own (no Temporal involved).
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Layout } from '../../src/home';
import { copyEnvironmentData, createSnapshot, pruneSnapshots, restoreSnapshot } from '../../src/runtime/data';
import { stopAllRuntimes } from '../../src/runtime/environment-runtime';
import { mariadbQuery, servicePaths, startServices, type DeclaredServices, type EnvironmentRef } from '../../src/runtime/services';
import { chownTree } from '../../src/sandbox/ownership';
import { sandboxIdentity } from '../../src/sandbox/identity';
import { run } from '../lib/exec';
import { figure } from '../lib/results';
import { median } from '../lib/stats';
import type { Scenario } from './scenario';

const now = (): number => Number(process.hrtime.bigint()) / 1e6;
const MB = 1024 * 1024;
const services: DeclaredServices = { mysql: { type: 'mysql:10.11', kind: 'mysql' } };
const MEDIA = 'pub/media';
const ROWS = Number(process.env.SLIPWAY_BENCH_DATA_ROWS ?? 100_000);
const MEDIA_FILES = 300;
const MEDIA_FILE_BYTES = Math.round((200 * MB) / MEDIA_FILES);

/** About 1 KB a row: a description of 800 characters, a name, a SKU with an index. */
async function fillDatabase(ref: EnvironmentRef): Promise<void> {
  const p = servicePaths(ref, 'mysql');
  await mariadbQuery(
    ref,
    p,
    'CREATE TABLE product (id INT PRIMARY KEY, sku VARCHAR(32) NOT NULL, name VARCHAR(255) NOT NULL, description TEXT NOT NULL, price DECIMAL(10,2) NOT NULL, KEY sku (sku)) ENGINE=InnoDB',
  );
  const chunk = 20_000;
  for (let from = 0; from < ROWS; from += chunk) {
    const to = Math.min(ROWS, from + chunk);
    await mariadbQuery(
      ref,
      p,
      `SET SESSION max_recursive_iterations = ${chunk + 1}; INSERT INTO product WITH RECURSIVE seq(n) AS (SELECT ${from + 1} UNION ALL SELECT n + 1 FROM seq WHERE n < ${to}) ` +
        "SELECT n, CONCAT('SKU-', LPAD(n, 8, '0')), CONCAT('Product number ', n, ' ', MD5(n)), REPEAT(MD5(n * 7), 25), (n % 10000) / 100 FROM seq",
    );
  }
}

/** A few hundred files of incompressible bytes in subdirectories, the project's user's. */
async function fillMedia(ref: EnvironmentRef): Promise<void> {
  const dir = ref.layout.mount(ref.project, ref.environment, MEDIA);
  for (let i = 0; i < MEDIA_FILES; i++) {
    const sub = path.join(dir, 'catalog', 'product', String(i % 16));
    fs.mkdirSync(sub, { recursive: true });
    fs.writeFileSync(path.join(sub, `image-${i}.jpg`), crypto.randomBytes(MEDIA_FILE_BYTES));
  }
  await chownTree(dir, sandboxIdentity(ref.layout, ref.project));
}

/** Bytes of the database's files on disk (the table's .ibd: data and indexes). */
function databaseBytes(ref: EnvironmentRef): number {
  const dir = path.join(servicePaths(ref, 'mysql').data, 'main');
  return fs.readdirSync(dir).reduce((n, f) => n + fs.statSync(path.join(dir, f)).size, 0);
}

/** The usual way: a logical dump piped into the child's database, and the media copied with cp -r, side by side. */
async function baseline(parent: EnvironmentRef, child: EnvironmentRef): Promise<number> {
  const t = now();
  await run('/bin/sh', [
    '-c',
    'set -e; ( mariadb-dump --defaults-file="$1" --single-transaction --quick main | mariadb --defaults-file="$2" main ) & db=$!; ' +
      'rm -rf "$4"; cp -r "$3" "$4"; wait $db',
    'baseline',
    servicePaths(parent, 'mysql').engineClientOptions,
    servicePaths(child, 'mysql').engineClientOptions,
    parent.layout.mount(parent.project, parent.environment, MEDIA),
    child.layout.mount(child.project, child.environment, MEDIA),
  ]);
  return now() - t;
}

async function slipway(parent: EnvironmentRef, child: EnvironmentRef): Promise<number> {
  const r = await copyEnvironmentData(parent, child, { databases: ['mysql'], mounts: [MEDIA], services });
  return r.totalMs;
}

async function checkCopied(child: EnvironmentRef): Promise<void> {
  const n = Number((await mariadbQuery(child, servicePaths(child, 'mysql'), 'SELECT COUNT(*) FROM product')).trim());
  if (n !== ROWS) throw new Error(`the child has ${n} products, not ${ROWS}`);
  const files = fs.readdirSync(path.join(child.layout.mount(child.project, child.environment, MEDIA), 'catalog', 'product', '0')).length;
  if (files !== Math.ceil(MEDIA_FILES / 16)) throw new Error(`the child's media has ${files} files in catalog/product/0`);
}

export const data: Scenario = {
  name: 'data',
  title: 'Data follows the hierarchy: branching with data, snapshots',
  async run({ runs, warmup, log }) {
    const home = fs.mkdtempSync(path.join(os.tmpdir(), 'slipway-bench-data-'));
    fs.chmodSync(home, 0o711);
    const layout = new Layout(home);
    const parent: EnvironmentRef = { layout, project: 'shop', environment: 'integration' };
    const child: EnvironmentRef = { layout, project: 'shop', environment: 'sprint-1' };
    try {
      await Promise.all([startServices(parent, services), startServices(child, services)]);
      let t = now();
      await fillDatabase(parent);
      const dbBytes = databaseBytes(parent);
      log(`  data: ${ROWS} products, ${(dbBytes / MB).toFixed(0)} MB on disk (table and index), in ${((now() - t) / 1000).toFixed(1)} s`);
      t = now();
      await fillMedia(parent);
      log(`  data: ${MEDIA_FILES} media files, ${((MEDIA_FILES * MEDIA_FILE_BYTES) / MB).toFixed(0)} MB, in ${((now() - t) / 1000).toFixed(1)} s`);

      const label = (i: number): string => (i < warmup ? `warm-up ${i + 1}/${warmup}` : `run ${i - warmup + 1}/${runs}`);
      const copyMs: number[] = [];
      const dumpMs: number[] = [];
      const dbMs: number[] = [];
      const mountMs: number[] = [];
      const switchMs: number[] = [];
      for (let i = 0; i < warmup + runs; i++) {
        // Alternately first, so that neither always finds the page cache warmed by the other.
        let ours: number;
        let theirs: number;
        if (i % 2 === 0) {
          ours = await slipway(parent, child);
          await checkCopied(child);
          theirs = await baseline(parent, child);
          await checkCopied(child);
        } else {
          theirs = await baseline(parent, child);
          await checkCopied(child);
          ours = await slipway(parent, child);
          await checkCopied(child);
        }
        log(`  data branching ${label(i)}: copyEnvironmentData ${ours.toFixed(0)} ms, dump | mariadb + cp -r ${theirs.toFixed(0)} ms`);
        if (i < warmup) continue;
        copyMs.push(ours);
        dumpMs.push(theirs);
      }
      // The parts on their own, once more (the figures above are the whole).
      {
        const t1 = now();
        const r = await copyEnvironmentData(parent, child, { databases: ['mysql'], mounts: [MEDIA], services }, (l) => log(`    +${(now() - t1).toFixed(0)} ms ${l}`));
        dbMs.push(r.parts.find((p) => p.kind === 'database')!.ms);
        mountMs.push(r.parts.find((p) => p.kind === 'mount')!.ms);
        switchMs.push(r.switchMs);
        log(`  data parts: database ${dbMs[0]!.toFixed(0)} ms, media ${mountMs[0]!.toFixed(0)} ms, switch ${r.switchMs.toFixed(0)} ms`);
      }

      const createMs: number[] = [];
      const restoreMs: number[] = [];
      const sizeMb: number[] = [];
      for (let i = 0; i < warmup + runs; i++) {
        const s = await createSnapshot(child, { databases: ['mysql'], mounts: [MEDIA], reason: 'bench' });
        await mariadbQuery(child, servicePaths(child, 'mysql'), 'DELETE FROM product WHERE id % 2 = 0');
        const r = await restoreSnapshot(child, s.id, () => undefined, services);
        await checkCopied(child);
        log(`  data snapshot ${label(i)}: create ${s.durationMs.toFixed(0)} ms, restore ${r.totalMs.toFixed(0)} ms, ${(s.sizeBytes / MB).toFixed(0)} MB`);
        pruneSnapshots(child, 1);
        if (i < warmup) continue;
        createMs.push(s.durationMs);
        restoreMs.push(r.totalMs);
        sizeMb.push(s.sizeBytes / MB);
      }

      const sc = 'data';
      return {
        figures: [
          figure(sc, {
            id: 'branch-with-data',
            label: `branching with data: ${(dbBytes / MB).toFixed(0)} MB database + ${((MEDIA_FILES * MEDIA_FILE_BYTES) / MB).toFixed(0)} MB media into a running child (ratio: of dump | mariadb + cp -r)`,
            unit: 'ms',
            samples: copyMs,
            baseline: { label: 'mariadb-dump | mariadb, and cp -r of the media', samples: dumpMs },
            goal: { max: 0.5, on: 'ratio' },
          }),
          figure(sc, { id: 'snapshot-create', label: 'snapshot of the child (database and media, running): create', unit: 'ms', samples: createMs }),
          figure(sc, { id: 'snapshot-restore', label: 'snapshot of the child: restore (all or nothing, MariaDB stopped and started)', unit: 'ms', samples: restoreMs }),
          figure(sc, { id: 'snapshot-size', label: 'snapshot of the child: size on disk', unit: 'MB', samples: sizeMb }),
        ],
        notes: [
          `branching with data, its parts once more: the database's hot copy (mariadb-backup --backup, --prepare) ${median(dbMs).toFixed(0)} ms and the media's cp -a ${median(mountMs).toFixed(0)} ms side by side, ` +
            `then the switch (the child's MariaDB stopped, data switched, started, its own passwords set, checked) ${median(switchMs).toFixed(0)} ms`,
          `filesystem of the data directory: ${fsType(home)} (cp --reflink=auto copies blocks where it cannot share them)`,
        ],
      };
    } finally {
      await stopAllRuntimes(layout);
      fs.rmSync(home, { recursive: true, force: true });
    }
  },
};

function fsType(dir: string): string {
  try {
    const mounts = fs
      .readFileSync('/proc/self/mounts', 'utf8')
      .split('\n')
      .map((l) => l.split(' '))
      .filter((f) => f.length > 2 && (dir === f[1] || dir.startsWith(`${f[1] === '/' ? '' : f[1]}/`)))
      .sort((x, y) => y[1]!.length - x[1]!.length);
    return mounts[0]?.[2] ?? 'unknown';
  } catch {
    return 'unknown';
  }
}
