/** Which slugs the store keeps (domain/slug-pruning) and how a push size limit is read (domain/push-limit). */
import { strict as assert } from 'node:assert';
import { DEFAULT_SLUGS_KEPT, newestPerEnvironment, slugsKeptFrom, slugsToPrune, type SlugUse } from '../../src/domain/slug-pruning';
import { DEFAULT_MAX_PUSH_SIZE, formatSize, parsePushSize, sizeInBytes } from '../../src/domain/push-limit';

const use = (environment: string, slug: string, deployment: number, project = 'shop'): SlugUse => ({ project, environment, slug, deployment });

describe('slug pruning', function () {
  it('prunes what no release references past the newest N of each environment', function () {
    const uses = [1, 2, 3, 4, 5, 6].map((n) => use('integration', `s${n}`, n));
    const d = slugsToPrune({ stored: ['s1', 's2', 's3', 's4', 's5', 's6'], referenced: ['s2'], uses, keepPerEnvironment: 3 });
    assert.deepEqual(d.prune, ['s1', 's3']);
    assert.equal(d.kept.get('s2'), 'a release references it');
    assert.equal(d.kept.get('s6'), 'among the newest 3 of shop/integration');
    assert.deepEqual([...d.kept.keys()].sort(), ['s2', 's4', 's5', 's6']);
  });

  it('orders an environment by deployment number, not by slug name or record order', function () {
    const uses = [use('integration', 'zz', 9), use('integration', 'aa', 2), use('integration', 'mm', 5)];
    assert.deepEqual([...newestPerEnvironment(uses, 2).keys()].sort(), ['mm', 'zz']);
  });

  it('keeps the newest N of every environment and every project separately', function () {
    const uses = [
      use('integration', 'a1', 1),
      use('integration', 'a2', 2),
      use('staging', 'a1', 7), // promoted: the old integration slug is staging's newest
      use('integration', 'b1', 1, 'other'),
      use('integration', 'b2', 2, 'other'),
    ];
    const d = slugsToPrune({ stored: ['a1', 'a2', 'b1', 'b2'], referenced: [], uses, keepPerEnvironment: 1 });
    assert.deepEqual(d.prune, ['b1']);
    assert.match(d.kept.get('a1') ?? '', /shop\/staging/);
  });

  it('prunes a stored slug that nothing records (an environment deleted, or a version before records), unless referenced', function () {
    const d = slugsToPrune({ stored: ['old', 'live'], referenced: new Set(['live', 'not-stored']), uses: [], keepPerEnvironment: 5 });
    assert.deepEqual(d.prune, ['old']);
    assert.deepEqual([...d.kept.keys()], ['live'], 'only stored slugs are reported as kept');
  });

  it('keeps at least one per environment, whatever N says', function () {
    const d = slugsToPrune({ stored: ['a', 'b'], referenced: [], uses: [use('e', 'a', 1), use('e', 'b', 2)], keepPerEnvironment: 0 });
    assert.deepEqual(d.prune, ['a']);
  });

  it('reads N from SLIPWAY_SLUGS_KEPT, a whole number of at least 1', function () {
    assert.deepEqual(slugsKeptFrom(undefined), { n: DEFAULT_SLUGS_KEPT });
    assert.deepEqual(slugsKeptFrom(' 12 '), { n: 12 });
    for (const bad of ['0', '-1', '2.5', 'many']) {
      const r = slugsKeptFrom(bad);
      assert.equal(r.n, DEFAULT_SLUGS_KEPT);
      assert.match(r.warning ?? '', /SLIPWAY_SLUGS_KEPT=.* is not a whole number of at least 1/);
    }
  });
});

describe('push size limit', function () {
  it('reads sizes as git does, in binary units', function () {
    assert.equal(sizeInBytes('1073741824'), DEFAULT_MAX_PUSH_SIZE);
    assert.equal(sizeInBytes('1g'), DEFAULT_MAX_PUSH_SIZE);
    assert.equal(sizeInBytes('512M'), 512 * 1024 ** 2);
    assert.equal(sizeInBytes('2GiB'), 2 * 1024 ** 3);
    assert.equal(sizeInBytes('64kb'), 65536);
    assert.equal(sizeInBytes('1.5g'), undefined);
    assert.equal(sizeInBytes('-1'), undefined);
    assert.equal(sizeInBytes(''), undefined);
    assert.equal(sizeInBytes('99999999999999999g'), undefined);
  });

  it('refuses what is no size, or too small to let any push through', function () {
    assert.deepEqual(parsePushSize('2g'), { ok: true, bytes: 2 * 1024 ** 3 });
    const r = parsePushSize('ten');
    assert.ok(!r.ok);
    assert.match(r.reason, /"ten" is not a size: use bytes or a number with k, m or g/);
    const tiny = parsePushSize('100');
    assert.ok(!tiny.ok);
    assert.match(tiny.reason, /would refuse every push: use at least 1k/);
  });

  it('says sizes as a person reads them', function () {
    assert.equal(formatSize(DEFAULT_MAX_PUSH_SIZE), '1 GiB');
    assert.equal(formatSize(65536), '64 KiB');
    assert.equal(formatSize(1536), '1.5 KiB');
    assert.equal(formatSize(100), '100 bytes');
  });
});
