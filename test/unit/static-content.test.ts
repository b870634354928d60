/** The native static content deploy, run on copies of the sample store's themes. */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  deployStaticContent,
  StaticContentError,
  type StaticContentInput,
  type ThemeRef,
} from '../../src/magento/static-content';

const SAMPLE_STORE = path.resolve(__dirname, '../../../examples/sample-store');
const LUMA = 'app/design/frontend/Luma';
const STOREFRONT: ThemeRef = { area: 'frontend', vendor: 'Luma', name: 'storefront' };
const CHILD: ThemeRef = { area: 'frontend', vendor: 'Luma', name: 'child' };
const LOCALES = ['en_US', 'fr_FR'];

/** Every file each (theme, locale) of the sample store publishes, with its source in the store. */
const SAMPLE_OUTPUT: Record<string, string> = {
  'frontend/Luma/storefront/en_US/css/styles.css': `${LUMA}/storefront/web/css/styles.css`,
  'frontend/Luma/storefront/en_US/images/logo.svg': `${LUMA}/storefront/web/images/logo.svg`,
  'frontend/Luma/storefront/en_US/js/storefront.js': `${LUMA}/storefront/web/js/storefront.js`,
  'frontend/Luma/storefront/fr_FR/css/styles.css': `${LUMA}/storefront/web/css/styles.css`,
  'frontend/Luma/storefront/fr_FR/images/logo.svg': `${LUMA}/storefront/web/images/logo.svg`,
  'frontend/Luma/storefront/fr_FR/js/storefront.js': `${LUMA}/storefront/web/i18n/fr_FR/js/storefront.js`,
  'frontend/Luma/child/en_US/css/child.css': `${LUMA}/child/web/css/child.css`,
  'frontend/Luma/child/en_US/css/styles.css': `${LUMA}/storefront/web/css/styles.css`,
  'frontend/Luma/child/en_US/images/logo.svg': `${LUMA}/storefront/web/images/logo.svg`,
  'frontend/Luma/child/en_US/js/storefront.js': `${LUMA}/storefront/web/js/storefront.js`,
  'frontend/Luma/child/fr_FR/css/child.css': `${LUMA}/child/web/css/child.css`,
  'frontend/Luma/child/fr_FR/css/styles.css': `${LUMA}/storefront/web/css/styles.css`,
  'frontend/Luma/child/fr_FR/images/logo.svg': `${LUMA}/storefront/web/images/logo.svg`,
  'frontend/Luma/child/fr_FR/js/storefront.js': `${LUMA}/storefront/web/i18n/fr_FR/js/storefront.js`,
};

const made: string[] = [];
function tempDir(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `slipway-scd-${prefix}-`));
  made.push(dir);
  return dir;
}

/** A copy of the sample store with some files written (path → content). */
function sampleStore(files: Record<string, string> = {}): string {
  const dir = tempDir('app');
  fs.cpSync(SAMPLE_STORE, dir, { recursive: true });
  for (const [file, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    fs.writeFileSync(path.join(dir, file), content);
  }
  return dir;
}

/** The files under `dir`, '/'-separated and sorted. */
function listFiles(dir: string): string[] {
  return fs
    .readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)).split(path.sep).join('/'))
    .sort();
}

/** What pub/ holds besides the deployed static content: must be nothing after any deploy. */
const leftovers = (app: string): string[] => fs.readdirSync(path.join(app, 'pub')).filter((n) => n.startsWith('static.'));

const read = (app: string, file: string): string => fs.readFileSync(path.join(app, file), 'utf8');

function input(appDir: string, more: Partial<StaticContentInput> = {}): StaticContentInput {
  return { appDir, themes: [STOREFRONT, CHILD], locales: LOCALES, threads: 2, version: '1732371234', ...more };
}

/** Asserts a StaticContentError whose message matches. */
async function rejectsWith(promise: Promise<unknown>, message: RegExp): Promise<void> {
  await assert.rejects(promise, (e: unknown) => {
    assert.ok(e instanceof StaticContentError, `expected a StaticContentError, got ${String(e)}`);
    assert.match(e.message, message);
    return true;
  });
}

describe('static content deploy', function () {
  after(function () {
    for (const dir of made) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('publishes each theme for each locale: locale overrides, inheritance, no i18n/', async function () {
    const app = sampleStore();
    const lines: string[] = [];
    const result = await deployStaticContent(input(app, { log: (l) => lines.push(l) }));

    const published = listFiles(path.join(app, 'pub/static'));
    assert.deepEqual(published, [...Object.keys(SAMPLE_OUTPUT), 'deployed_version.txt'].sort());
    for (const [out, source] of Object.entries(SAMPLE_OUTPUT)) {
      assert.equal(read(app, `pub/static/${out}`), read(app, source), out);
    }
    // The French override of the script, and the default elsewhere; the child inherits both.
    const en = read(app, 'pub/static/frontend/Luma/storefront/en_US/js/storefront.js');
    const fr = read(app, 'pub/static/frontend/Luma/storefront/fr_FR/js/storefront.js');
    assert.match(en, /Welcome to our store!/);
    assert.match(fr, /Bienvenue dans notre boutique !/);
    assert.equal(read(app, 'pub/static/frontend/Luma/child/fr_FR/js/storefront.js'), fr);
    assert.equal(read(app, 'pub/static/frontend/Luma/child/en_US/js/storefront.js'), en);
    assert.ok(!published.some((f) => f.includes('i18n')));
    assert.equal(read(app, 'pub/static/deployed_version.txt'), '1732371234');
    assert.deepEqual(leftovers(app), []);

    const bytes = Object.values(SAMPLE_OUTPUT).reduce((sum, f) => sum + fs.statSync(path.join(app, f)).size, 0);
    assert.deepEqual({ ...result, durationMs: 0 }, { version: '1732371234', jobs: 4, files: 14, bytes, durationMs: 0, maxConcurrency: 2 });
    assert.equal(lines.length, 4);
    for (const l of lines) assert.match(l, /^frontend\/Luma\/(storefront|child) (en_US|fr_FR): \d+ files in \d+ ms$/);
    assert.ok(lines.some((l) => l.startsWith('frontend/Luma/child fr_FR: 4 files in ')));
    assert.ok(lines.some((l) => l.startsWith('frontend/Luma/storefront en_US: 3 files in ')));
  });

  it('deploys every theme under app/design when none is named', async function () {
    const app = sampleStore({ 'app/design/adminhtml/Slipway/backend/web/css/admin.css': 'body { margin: 0; }\n' });
    const result = await deployStaticContent(input(app, { themes: [], locales: ['en_US'] }));
    assert.equal(result.jobs, 3);
    assert.deepEqual(listFiles(path.join(app, 'pub/static')), [
      'adminhtml/Slipway/backend/en_US/css/admin.css',
      'deployed_version.txt',
      ...Object.keys(SAMPLE_OUTPUT).filter((f) => f.includes('/en_US/')).sort(),
    ]);
  });

  it('takes ThemeRef.parent over theme.xml', async function () {
    const app = sampleStore({ [`${LUMA}/plain/web/css/plain.css`]: 'p { color: black; }\n' });
    await deployStaticContent(input(app, { themes: [{ ...CHILD, parent: 'Luma/plain' }], locales: ['en_US'] }));
    assert.deepEqual(listFiles(path.join(app, 'pub/static')), [
      'deployed_version.txt',
      'frontend/Luma/child/en_US/css/child.css',
      'frontend/Luma/child/en_US/css/plain.css',
    ]);
  });

  it('runs at most `threads` jobs at once, and that many when there are enough jobs', async function () {
    // 8 themes of 20 files each, in 2 locales: 16 jobs.
    const files: Record<string, string> = {};
    for (let t = 0; t < 8; t++) {
      for (let f = 0; f < 20; f++) files[`app/design/frontend/Bench/t${t}/web/js/f${f}.js`] = `console.log(${t}, ${f});\n`;
    }
    const app = sampleStore(files);
    const themes = Array.from({ length: 8 }, (_, t): ThemeRef => ({ area: 'frontend', vendor: 'Bench', name: `t${t}` }));
    for (const threads of [1, 2, 5, 64]) {
      const result = await deployStaticContent(input(app, { themes, threads, version: `v${threads}` }));
      assert.equal(result.jobs, 16);
      assert.equal(result.files, 16 * 20);
      assert.ok(result.maxConcurrency <= threads, `threads ${threads}: ${result.maxConcurrency} at once`);
      assert.equal(result.maxConcurrency, Math.min(threads, 16), `threads ${threads}`);
    }
  });

  it('replaces a previous deploy as a whole', async function () {
    const app = sampleStore();
    await deployStaticContent(input(app, { version: 'v1' }));
    fs.writeFileSync(path.join(app, 'pub/static/frontend/Luma/child/en_US/stale.css'), '/* stale */\n');
    fs.rmSync(path.join(app, LUMA, 'child/web/css/child.css'));

    const result = await deployStaticContent(input(app, { version: 'v2' }));
    assert.equal(result.version, 'v2');
    assert.equal(read(app, 'pub/static/deployed_version.txt'), 'v2');
    const published = listFiles(path.join(app, 'pub/static'));
    assert.deepEqual(published, [
      'deployed_version.txt',
      ...Object.keys(SAMPLE_OUTPUT).filter((f) => !f.endsWith('child.css')).sort(),
    ]);
    assert.deepEqual(leftovers(app), []);
  });

  it('skips symlinks instead of following them out of the theme', async function () {
    const app = sampleStore();
    const outside = tempDir('outside');
    fs.writeFileSync(path.join(outside, 'secret.txt'), 'secret\n');
    fs.symlinkSync(path.join(outside, 'secret.txt'), path.join(app, LUMA, 'storefront/web/js/secret.js'));
    fs.symlinkSync(outside, path.join(app, LUMA, 'storefront/web/outside'));
    const lines: string[] = [];
    await deployStaticContent(input(app, { themes: [STOREFRONT], locales: ['en_US'], log: (l) => lines.push(l) }));
    assert.deepEqual(listFiles(path.join(app, 'pub/static')), [
      'deployed_version.txt',
      ...Object.keys(SAMPLE_OUTPUT).filter((f) => f.startsWith('frontend/Luma/storefront/en_US/')),
    ]);
    assert.ok(lines.includes('frontend/Luma/storefront: skipping web/js/secret.js, a symlink'), lines.join('\n'));
    assert.ok(lines.includes('frontend/Luma/storefront: skipping web/outside, a symlink'), lines.join('\n'));
  });

  describe('refuses', function () {
    it('a named theme without a directory, naming it', async function () {
      const app = sampleStore();
      await rejectsWith(
        deployStaticContent(input(app, { themes: [STOREFRONT, { ...STOREFRONT, name: 'nosuch' }] })),
        /^theme frontend\/Luma\/nosuch not found: no directory .*app\/design\/frontend\/Luma\/nosuch, and no registration\.php under vendor\/ registers it$/,
      );
      assert.deepEqual(fs.readdirSync(path.join(app, 'pub')), ['index.php'], 'nothing is written: pub/ holds only the front controller the store commits');
    });

    it('a parent cycle, naming it', async function () {
      const app = sampleStore({ [`${LUMA}/storefront/theme.xml`]: '<theme><title>Loop</title><parent>Luma/child</parent></theme>\n' });
      await rejectsWith(
        deployStaticContent(input(app, { themes: [CHILD] })),
        /^theme frontend\/Luma\/child: parent cycle frontend\/Luma\/child → frontend\/Luma\/storefront → frontend\/Luma\/child$/,
      );
      await rejectsWith(
        deployStaticContent(input(app, { themes: [{ ...STOREFRONT, parent: 'Luma/storefront' }] })),
        /parent cycle frontend\/Luma\/storefront → frontend\/Luma\/storefront$/,
      );
    });

    it('a missing parent, naming it', async function () {
      // A commented-out parent does not count.
      const xml = '<theme>\n  <!-- <parent>Luma/storefront</parent> -->\n  <parent> Luma/gone </parent>\n</theme>\n';
      const app = sampleStore({ [`${LUMA}/child/theme.xml`]: xml });
      await rejectsWith(
        deployStaticContent(input(app)),
        /^theme frontend\/Luma\/child: its parent theme frontend\/Luma\/gone is registered nowhere \(no directory .*app\/design\/frontend\/Luma\/gone, and no registration\.php under vendor\/ registers it\)$/,
      );
    });

    it('bad locales, threads and versions', async function () {
      const app = sampleStore();
      for (const locale of ['en-US', 'en_us', 'english', 'EN_US', '']) {
        await rejectsWith(deployStaticContent(input(app, { locales: ['en_US', locale] })), new RegExp(`^invalid locale "${locale}"`));
      }
      await rejectsWith(deployStaticContent(input(app, { locales: [] })), /^no locales to deploy$/);
      for (const threads of [0, -1, 1.5, 65, NaN]) {
        await rejectsWith(deployStaticContent(input(app, { threads })), /^threads must be an integer from 1 to 64, got /);
      }
      for (const version of ['', '../x', 'a b', 'x'.repeat(65)]) {
        await rejectsWith(deployStaticContent(input(app, { version })), /^invalid version /);
      }
      await rejectsWith(deployStaticContent(input(app, { themes: [{ ...CHILD, vendor: '..' }] })), /^invalid theme "frontend\/..\/child"/);
      await rejectsWith(
        deployStaticContent(input(app, { themes: [{ ...CHILD, parent: '../../etc' }] })),
        /^theme frontend\/Luma\/child: invalid parent "..\/..\/etc"/,
      );
      assert.deepEqual(fs.readdirSync(path.join(app, 'pub')), ['index.php'], 'nothing is written: pub/ holds only the front controller the store commits');
      // zh_Hans_CN and fil_PH are valid locales.
      const result = await deployStaticContent(input(app, { themes: [STOREFRONT], locales: ['zh_Hans_CN', 'fil_PH'] }));
      assert.equal(result.jobs, 2);
    });

    it('a failing job, leaving the previous deploy intact and no temporary directory', async function () {
      const app = sampleStore();
      await deployStaticContent(input(app, { version: 'v1' }));
      const before = listFiles(path.join(app, 'pub/static'));
      // A French file named `css` where the theme's css/ directory must go: the storefront fr_FR job
      // fails after the storefront en_US job has written its files.
      fs.writeFileSync(path.join(app, LUMA, 'storefront/web/i18n/fr_FR/css'), 'not a directory\n');
      await rejectsWith(
        deployStaticContent(input(app, { version: 'v2', threads: 1 })),
        new RegExp(
          '^frontend/Luma/storefront fr_FR: css is both a file and a directory ' +
            '\\(.*/storefront/web/i18n/fr_FR/css and .*/storefront/web/css/styles\\.css\\)$',
        ),
      );
      assert.deepEqual(listFiles(path.join(app, 'pub/static')), before);
      assert.equal(read(app, 'pub/static/deployed_version.txt'), 'v1');
      assert.deepEqual(leftovers(app), []);
    });
  });
});
