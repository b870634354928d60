/**
 * .magento.env.yaml against ece-tools' documented variables: every documented name accepted in
 * its stages, misspellings warned with a suggestion, Slipway's typed variables validated, and the
 * pages of WARM_UP_PAGES / TTFB_TESTED_PAGES classified.
 */
import { strict as assert } from 'node:assert';
import { stringify } from 'yaml';
import { formatIssue, type ConfigIssue } from '../../src/domain/app-config';
import { planFromProjectFiles } from '../../src/domain/project-files';
import { ECE_VARIABLES, suggestVariable, variablesOfStage, type EnvStage } from '../../src/domain/project-files/ece-variables';
import {
  classifyPage,
  ENV_FILE,
  envVariable,
  excludedThemes,
  KNOWN_ENV_VARIABLES,
  parseEnvConfig,
  type EnvConfig,
} from '../../src/domain/project-files/env-config';
import type { Parsed } from '../../src/domain/project-files/yaml-file';
import { sampleTexts } from './malformed-project-files.test';

/**
 * The names ece-tools' config/schema.yaml documents per stage, written out from the schema (not
 * from the table under test), plus SCD_EXCLUDE_THEMES and STATIC_CONTENT_SYMLINK from its last
 * PHP schema and LUA_KEY from an older revision of the YAML one.
 */
const DOCUMENTED: Record<EnvStage, string[]> = {
  global: [
    'VERBOSE_COMMANDS', 'SCD_COMPRESSION_LEVEL', 'SCD_COMPRESSION_TIMEOUT', 'SCD_STRATEGY', 'SCD_THREADS', 'SCD_MAX_EXECUTION_TIME',
    'SCD_MATRIX', 'SCD_NO_PARENT', 'SCD_USE_BALER', 'SKIP_SCD', 'SKIP_HTML_MINIFICATION', 'SCD_ON_DEMAND', 'MIN_LOGGING_LEVEL',
    'LOCK_PROVIDER', 'REDIS_USE_SLAVE_CONNECTION', 'VALKEY_USE_SLAVE_CONNECTION', 'MYSQL_USE_SLAVE_CONNECTION', 'SPLIT_DB',
    'UPDATE_URLS', 'FORCE_UPDATE_URLS', 'CLEAN_STATIC_FILES', 'ENABLE_GOOGLE_ANALYTICS', 'X_FRAME_CONFIGURATION', 'ENABLE_EVENTING',
    'ENABLE_WEBHOOKS', 'DEPLOYED_MAGENTO_VERSION_FROM_GIT', 'DEPLOY_FROM_GIT_OPTIONS', 'SCD_EXCLUDE_THEMES', 'STATIC_CONTENT_SYMLINK',
  ],
  build: [
    'VERBOSE_COMMANDS', 'SCD_COMPRESSION_LEVEL', 'SCD_COMPRESSION_TIMEOUT', 'SCD_STRATEGY', 'SCD_THREADS', 'SCD_MAX_EXECUTION_TIME',
    'SCD_MATRIX', 'SCD_NO_PARENT', 'SCD_USE_BALER', 'SKIP_SCD', 'SKIP_COMPOSER_DUMP_AUTOLOAD', 'ERROR_REPORT_DIR_NESTING_LEVEL',
    'QUALITY_PATCHES', 'SCD_EXCLUDE_THEMES',
  ],
  deploy: [
    'VERBOSE_COMMANDS', 'SCD_COMPRESSION_LEVEL', 'SCD_COMPRESSION_TIMEOUT', 'SCD_STRATEGY', 'SCD_THREADS', 'SCD_MAX_EXECUTION_TIME',
    'SCD_MATRIX', 'SCD_NO_PARENT', 'SKIP_SCD', 'LOCK_PROVIDER', 'REDIS_USE_SLAVE_CONNECTION', 'VALKEY_USE_SLAVE_CONNECTION',
    'MYSQL_USE_SLAVE_CONNECTION', 'SPLIT_DB', 'UPDATE_URLS', 'FORCE_UPDATE_URLS', 'CLEAN_STATIC_FILES', 'SEARCH_CONFIGURATION',
    'ELASTICSUITE_CONFIGURATION', 'QUEUE_CONFIGURATION', 'REDIS_BACKEND', 'VALKEY_BACKEND', 'CACHE_CONFIGURATION', 'USE_LUA',
    'USE_LUA_ON_GC', 'LUA_KEY', 'SESSION_CONFIGURATION', 'DATABASE_CONFIGURATION', 'RESOURCE_CONFIGURATION', 'CRON_CONSUMERS_RUNNER',
    'CONSUMERS_WAIT_FOR_MAX_MESSAGES', 'ENABLE_GOOGLE_ANALYTICS', 'GENERATED_CODE_SYMLINK', 'REMOTE_STORAGE', 'SCD_EXCLUDE_THEMES',
    'STATIC_CONTENT_SYMLINK',
  ],
  'post-deploy': ['VERBOSE_COMMANDS', 'WARM_UP_PAGES', 'WARM_UP_CONCURRENCY', 'TTFB_TESTED_PAGES'],
};

/** A value ece-tools would take for each documented variable (Slipway's typed ones need a valid one). */
const GOOD: Record<string, unknown> = {
  SCD_ON_DEMAND: true,
  SKIP_SCD: false,
  SCD_THREADS: 3,
  SCD_STRATEGY: 'compact',
  SCD_MATRIX: { 'Magento/backend': { language: ['en_US', 'fr_FR'] }, 'Magento/blank': [] },
  SCD_EXCLUDE_THEMES: 'Magento/luma, Vendor/theme',
  CLEAN_STATIC_FILES: false,
  STATIC_CONTENT_SYMLINK: false,
  VERBOSE_COMMANDS: '-vv',
  DEPLOY_FROM_GIT_OPTIONS: { repositories: { magento: 'https://example.test/magento.git' } },
  WARM_UP_PAGES: ['/', 'index.php', 'https://shop.example.test/sale'],
  WARM_UP_CONCURRENCY: 4,
  TTFB_TESTED_PAGES: ['/checkout'],
  // Not used by Slipway: any value ece-tools documents.
  SCD_COMPRESSION_LEVEL: 6,
  SCD_COMPRESSION_TIMEOUT: 900,
  SCD_MAX_EXECUTION_TIME: 3600,
  SCD_NO_PARENT: true,
  SCD_USE_BALER: true,
  SKIP_HTML_MINIFICATION: true,
  SKIP_COMPOSER_DUMP_AUTOLOAD: true,
  ERROR_REPORT_DIR_NESTING_LEVEL: 2,
  QUALITY_PATCHES: ['MC-31387', 'MDVA-4567'],
  MIN_LOGGING_LEVEL: 'debug',
  LOCK_PROVIDER: 'db',
  REDIS_USE_SLAVE_CONNECTION: true,
  VALKEY_USE_SLAVE_CONNECTION: true,
  MYSQL_USE_SLAVE_CONNECTION: true,
  SPLIT_DB: ['quote', 'sales'],
  UPDATE_URLS: false,
  FORCE_UPDATE_URLS: true,
  SEARCH_CONFIGURATION: { _merge: true, engine: 'opensearch' },
  ELASTICSUITE_CONFIGURATION: { _merge: true, es_client: { servers: 'search:9200' } },
  QUEUE_CONFIGURATION: { amqp: { host: 'queue', port: 5672 } },
  REDIS_BACKEND: '\\Magento\\Framework\\Cache\\Backend\\Redis',
  VALKEY_BACKEND: 'Cm_Cache_Backend_Redis',
  CACHE_CONFIGURATION: { _merge: true, frontend: { default: { backend: 'file' } } },
  USE_LUA: true,
  USE_LUA_ON_GC: false,
  LUA_KEY: false,
  SESSION_CONFIGURATION: { _merge: true, redis: { max_concurrency: 10 } },
  DATABASE_CONFIGURATION: { _merge: true, connection: { default: { engine: 'innodb' } } },
  RESOURCE_CONFIGURATION: { _merge: true, default_setup: { connection: 'default' } },
  CRON_CONSUMERS_RUNNER: { cron_run: true, max_messages: 1000, consumers: ['consumer1'] },
  CONSUMERS_WAIT_FOR_MAX_MESSAGES: true,
  REMOTE_STORAGE: { adapter: 'aws-s3', config: { bucket: 'media', region: 'us-east-1' } },
  ENABLE_GOOGLE_ANALYTICS: true,
  GENERATED_CODE_SYMLINK: false,
  X_FRAME_CONFIGURATION: 'SAMEORIGIN',
  ENABLE_EVENTING: true,
  ENABLE_WEBHOOKS: true,
  DEPLOYED_MAGENTO_VERSION_FROM_GIT: '2.4.7',
};

/** A misspelling of a name documented for each stage, and the name it should suggest. */
const MISSPELT: Record<EnvStage, [string, string]> = {
  global: ['SKIP_HTML_MINIFICATON', 'SKIP_HTML_MINIFICATION'],
  build: ['SCD_THREAD', 'SCD_THREADS'],
  deploy: ['MYSQL_USE_SLAVE_CONECTION', 'MYSQL_USE_SLAVE_CONNECTION'],
  'post-deploy': ['WARMUP_PAGES', 'WARM_UP_PAGES'],
};

function envText(stages: Partial<Record<EnvStage, Record<string, unknown>>>): string {
  return stringify({ stage: stages });
}

function ok(parsed: Parsed<EnvConfig>): EnvConfig {
  assert.ok(parsed.ok, `expected success, got ${parsed.ok ? '' : parsed.issues.map(formatIssue).join('; ')}`);
  return parsed.value;
}

/** The issues of a refused file. */
function refused(parsed: Parsed<EnvConfig>): ConfigIssue[] {
  assert.ok(!parsed.ok, 'expected the file to be refused');
  return parsed.issues;
}

/** The one value of a variable read from a stage. */
function read(stage: EnvStage, name: string, value: unknown): Parsed<EnvConfig> {
  return parseEnvConfig(envText({ [stage]: { [name]: value } }));
}

describe('ece-tools variables in .magento.env.yaml', function () {
  describe('every documented variable, per stage', function () {
    for (const stage of Object.keys(DOCUMENTED) as EnvStage[]) {
      it(`${stage}: all ${DOCUMENTED[stage].length} documented names are accepted; a misspelt one is warned with the right name`, function () {
        assert.deepEqual([...variablesOfStage(stage)].sort(), [...DOCUMENTED[stage]].sort(), 'the table matches the schema');

        const vars = Object.fromEntries(DOCUMENTED[stage].map((name) => [name, GOOD[name]]));
        const parsed = parseEnvConfig(envText({ [stage]: vars }));
        const config = ok(parsed);
        assert.deepEqual(parsed.warnings, [], 'no warning');
        const unused = DOCUMENTED[stage].filter((name) => !(name in KNOWN_ENV_VARIABLES));
        assert.deepEqual(
          parsed.notes,
          unused.map((name) => ({
            file: ENV_FILE,
            path: `stage.${stage}.${name}`,
            reason: `${name} (stage ${stage}) is not used by Slipway; it is accepted and ignored`,
          })),
        );
        for (const name of unused) assert.deepEqual(config.stage[stage][name], GOOD[name], `${name} is kept as written`);

        const [wrong, right] = MISSPELT[stage];
        const misspelt = parseEnvConfig(envText({ [stage]: { ...vars, [wrong]: GOOD[right] } }));
        ok(misspelt);
        assert.deepEqual(misspelt.warnings, [
          { file: ENV_FILE, path: `stage.${stage}.${wrong}`, reason: `unknown variable "${wrong}" in stage ${stage}; did you mean "${right}"?` },
        ]);
      });
    }

    it('every typed variable is documented, and every documented one has a good sample value here', function () {
      for (const name of Object.keys(KNOWN_ENV_VARIABLES)) assert.ok(name in ECE_VARIABLES, name);
      for (const name of Object.keys(ECE_VARIABLES)) assert.ok(name in GOOD, name);
      assert.equal(Object.keys(ECE_VARIABLES).length, 51);
    });

    it('a documented variable in a stage it does not belong to keeps the warning and is dropped', function () {
      const parsed = parseEnvConfig(envText({ build: { REDIS_BACKEND: 'Cm_Cache_Backend_Redis', WARM_UP_PAGES: ['/'] } }));
      const config = ok(parsed);
      assert.deepEqual(
        parsed.warnings.map((w) => w.reason),
        [
          'variable "REDIS_BACKEND" does not belong in stage build (only deploy); it is ignored',
          'variable "WARM_UP_PAGES" does not belong in stage build (only post-deploy); it is ignored',
        ],
      );
      assert.deepEqual(parsed.notes, []);
      assert.deepEqual(config.stage.build, {});
    });

    it('an unknown name far from every documented one is warned without a suggestion, and kept', function () {
      const parsed = parseEnvConfig(envText({ deploy: { ADMIN_EMAIL: 'admin@example.test', scd_threads: 2 } }));
      const config = ok(parsed);
      assert.deepEqual(
        parsed.warnings.map((w) => w.reason),
        ['unknown variable "ADMIN_EMAIL" in stage deploy; it is ignored', 'unknown variable "scd_threads" in stage deploy; did you mean "SCD_THREADS"?'],
      );
      assert.equal(config.stage.deploy.ADMIN_EMAIL, 'admin@example.test');
      assert.equal(envVariable(config, 'deploy', 'SCD_THREADS'), 1, 'a misspelt name sets nothing');
    });

    it('names like those of Object.prototype are unknown, not documented', function () {
      const parsed = parseEnvConfig('stage:\n  deploy:\n    constructor: 1\n    toString: 2\n');
      ok(parsed);
      assert.deepEqual(
        parsed.warnings.map((w) => w.reason),
        ['unknown variable "constructor" in stage deploy; it is ignored', 'unknown variable "toString" in stage deploy; it is ignored'],
      );
    });

    it('an unknown "__proto__" is kept as a variable and cannot stand in for the typed ones', function () {
      const parsed = parseEnvConfig('stage:\n  build:\n    __proto__: {SCD_THREADS: evil}\n');
      const config = ok(parsed);
      assert.equal(parsed.warnings.length, 1);
      assert.equal(Object.getPrototypeOf(config.stage.build), Object.prototype);
      assert.equal(envVariable(config, 'build', 'SCD_THREADS'), 1);
    });

    it('suggestVariable: the nearest documented name, ignoring case, only when close', function () {
      assert.equal(suggestVariable('SCD_THREAD'), 'SCD_THREADS');
      assert.equal(suggestVariable('scd_strategy'), 'SCD_STRATEGY');
      assert.equal(suggestVariable('Clean_Static_File'), 'CLEAN_STATIC_FILES');
      assert.equal(suggestVariable('SCD_EXCLUDE_THEME'), 'SCD_EXCLUDE_THEMES');
      assert.equal(suggestVariable('REDIS_BACKNED'), 'REDIS_BACKEND');
      assert.equal(suggestVariable('CRON_CONSUMER_RUNNERS'), 'CRON_CONSUMERS_RUNNER');
      assert.equal(suggestVariable('ADMIN_EMAIL'), undefined);
      assert.equal(suggestVariable('CRYPT_KEY'), undefined);
      assert.equal(suggestVariable('STATIC_CONTENT_THREADS'), undefined, 'more than 3 edits away');
      assert.equal(suggestVariable('X'), undefined);
      assert.equal(suggestVariable(''), undefined);
      assert.equal(suggestVariable('USE_LXX'), 'USE_LUA', 'a 7-letter name: two edits');
      assert.equal(suggestVariable('USE_XXX'), undefined, 'a 7-letter name: three edits are too many');
      assert.equal(suggestVariable('S'.repeat(100_000)), undefined, 'a huge name is dismissed');
    });
  });

  describe("Slipway's typed variables", function () {
    it('have their defaults when no stage sets them', function () {
      const empty = ok(parseEnvConfig(''));
      assert.equal(envVariable(empty, 'build', 'SCD_ON_DEMAND'), false);
      assert.equal(envVariable(empty, 'build', 'SKIP_SCD'), false);
      assert.equal(envVariable(empty, 'build', 'SCD_THREADS'), 1);
      assert.equal(envVariable(empty, 'build', 'SCD_STRATEGY'), 'quick');
      assert.deepEqual(envVariable(empty, 'build', 'SCD_MATRIX'), {});
      assert.equal(envVariable(empty, 'build', 'SCD_EXCLUDE_THEMES'), '');
      assert.equal(envVariable(empty, 'deploy', 'CLEAN_STATIC_FILES'), true);
      assert.equal(envVariable(empty, 'deploy', 'STATIC_CONTENT_SYMLINK'), true);
      assert.equal(envVariable(empty, 'deploy', 'VERBOSE_COMMANDS'), '');
      assert.deepEqual(envVariable(empty, 'deploy', 'DEPLOY_FROM_GIT_OPTIONS'), {});
      assert.deepEqual(envVariable(empty, 'post-deploy', 'WARM_UP_PAGES'), ['/']);
      assert.equal(envVariable(empty, 'post-deploy', 'WARM_UP_CONCURRENCY'), 1);
      assert.deepEqual(envVariable(empty, 'post-deploy', 'TTFB_TESTED_PAGES'), []);
    });

    it('resolve a stage, else global, else the default', function () {
      const config = ok(
        parseEnvConfig(
          envText({
            global: { STATIC_CONTENT_SYMLINK: false, SCD_STRATEGY: 'standard', VERBOSE_COMMANDS: '-v' },
            build: { SCD_STRATEGY: 'compact' },
            'post-deploy': { VERBOSE_COMMANDS: '-vvv', WARM_UP_CONCURRENCY: 8 },
          }),
        ),
      );
      assert.equal(envVariable(config, 'deploy', 'STATIC_CONTENT_SYMLINK'), false);
      assert.equal(envVariable(config, 'build', 'SCD_STRATEGY'), 'compact');
      assert.equal(envVariable(config, 'deploy', 'SCD_STRATEGY'), 'standard');
      assert.equal(envVariable(config, 'build', 'VERBOSE_COMMANDS'), '-v');
      assert.equal(envVariable(config, 'post-deploy', 'VERBOSE_COMMANDS'), '-vvv');
      assert.equal(envVariable(config, 'post-deploy', 'WARM_UP_CONCURRENCY'), 8);
    });

    // [stage, name, value, expected path, part of the reason]
    const BAD: [EnvStage, string, unknown, string, string][] = [
      ['global', 'SCD_ON_DEMAND', 'yes', 'stage.global.SCD_ON_DEMAND', 'must be true or false'],
      ['deploy', 'SKIP_SCD', 1, 'stage.deploy.SKIP_SCD', 'must be true or false'],
      ['build', 'SCD_THREADS', -1, 'stage.build.SCD_THREADS', 'must be a whole number from 1 to 64'],
      ['global', 'SCD_THREADS', 65, 'stage.global.SCD_THREADS', 'must be a whole number from 1 to 64'],
      ['deploy', 'SCD_STRATEGY', 'fast', 'stage.deploy.SCD_STRATEGY', 'must be one of standard, quick, compact'],
      ['deploy', 'CLEAN_STATIC_FILES', 'false', 'stage.deploy.CLEAN_STATIC_FILES', 'must be true or false'],
      ['global', 'STATIC_CONTENT_SYMLINK', 'no', 'stage.global.STATIC_CONTENT_SYMLINK', 'must be true or false'],
      ['post-deploy', 'VERBOSE_COMMANDS', '-vvvv', 'stage.post-deploy.VERBOSE_COMMANDS', 'must be "", "-v", "-vv" or "-vvv"'],
      ['global', 'DEPLOY_FROM_GIT_OPTIONS', ['x'], 'stage.global.DEPLOY_FROM_GIT_OPTIONS', 'must be a map'],
      ['post-deploy', 'WARM_UP_CONCURRENCY', -1, 'stage.post-deploy.WARM_UP_CONCURRENCY', 'must be a whole number of requests at a time, 1 or more, not a number'],
      ['post-deploy', 'WARM_UP_CONCURRENCY', 2.5, 'stage.post-deploy.WARM_UP_CONCURRENCY', 'must be a whole number'],
      ['post-deploy', 'WARM_UP_CONCURRENCY', '4', 'stage.post-deploy.WARM_UP_CONCURRENCY', 'not "4"'],
      ['post-deploy', 'TTFB_TESTED_PAGES', '/', 'stage.post-deploy.TTFB_TESTED_PAGES', 'must be a list of pages'],
    ];
    for (const [stage, name, value, path, reason] of BAD) {
      it(`refuse ${name} ${JSON.stringify(value)} in ${stage}, naming file, key path and reason`, function () {
        const issues = refused(read(stage, name, value));
        assert.equal(issues.length, 1, issues.map(formatIssue).join('; '));
        const [found] = issues;
        assert.equal(found?.file, ENV_FILE);
        assert.equal(found?.path, path);
        assert.ok(found?.reason.includes(reason), `"${found?.reason}" does not mention "${reason}"`);
      });
    }

    it('WARM_UP_CONCURRENCY: 0 (ece-tools\' "not set") is the default; above 64 is capped with a warning', function () {
      assert.equal(envVariable(ok(read('post-deploy', 'WARM_UP_CONCURRENCY', 0)), 'post-deploy', 'WARM_UP_CONCURRENCY'), 1);
      const many = read('post-deploy', 'WARM_UP_CONCURRENCY', 100);
      assert.equal(envVariable(ok(many), 'post-deploy', 'WARM_UP_CONCURRENCY'), 64);
      assert.deepEqual(many.warnings, [
        { file: ENV_FILE, path: 'stage.post-deploy.WARM_UP_CONCURRENCY', reason: '100 requests at a time is more than Slipway sends; it sends 64' },
      ]);
      assert.equal(envVariable(ok(read('post-deploy', 'WARM_UP_CONCURRENCY', 64)), 'post-deploy', 'WARM_UP_CONCURRENCY'), 64);
    });

    it('SCD_MATRIX: locales per theme; an empty entry leaves the theme out', function () {
      const matrix = {
        'Magento/backend': { language: ['en_US', 'fr_FR', 'af_ZA'] },
        'Vendor/china': { language: ['zh_Hans_CN', 'sr_Latn_RS'] },
        'Magento/luma': [],
        'Magento/blank': {},
        'Vendor/none': null,
        'Vendor/empty': { language: [] },
      };
      const config = ok(read('deploy', 'SCD_MATRIX', matrix));
      assert.deepEqual(envVariable(config, 'deploy', 'SCD_MATRIX'), {
        'Magento/backend': { language: ['en_US', 'fr_FR', 'af_ZA'] },
        'Vendor/china': { language: ['zh_Hans_CN', 'sr_Latn_RS'] },
        'Magento/luma': { language: [] },
        'Magento/blank': { language: [] },
        'Vendor/none': { language: [] },
        'Vendor/empty': { language: [] },
      });
      assert.deepEqual(envVariable(ok(read('build', 'SCD_MATRIX', [])), 'build', 'SCD_MATRIX'), {}, "PHP's empty array is an empty matrix");
    });

    it('SCD_MATRIX: bad themes, keys and locales are refused where they are', function () {
      const issues = refused(
        read('build', 'SCD_MATRIX', {
          backend: { language: ['en_US'] },
          'Magento/backend': { languages: ['en_US'] },
          'Magento/luma': { language: ['en-US', 'EN_us', 'en_US', 7] },
          'Magento/blank': { language: 'en_US' },
          'Vendor/theme': 'en_US',
        }),
      );
      assert.deepEqual(
        issues.map((i) => [i.path, i.reason]),
        [
          ['stage.build.SCD_MATRIX.backend', '"backend" is not a theme: use "Vendor/name", e.g. "Magento/backend"'],
          ['stage.build.SCD_MATRIX.Magento/backend.languages', 'unknown key: a theme takes only "language", its list of locale codes'],
          ['stage.build.SCD_MATRIX.Magento/luma.language.0', 'must be a locale code such as "en_US", "fr_FR" or "zh_Hans_CN", not "en-US"'],
          ['stage.build.SCD_MATRIX.Magento/luma.language.1', 'must be a locale code such as "en_US", "fr_FR" or "zh_Hans_CN", not "EN_us"'],
          ['stage.build.SCD_MATRIX.Magento/luma.language.3', 'must be a locale code such as "en_US", "fr_FR" or "zh_Hans_CN", not a number'],
          ['stage.build.SCD_MATRIX.Magento/blank.language', 'must be a list of locale codes such as [en_US, fr_FR], not a string'],
          ['stage.build.SCD_MATRIX.Vendor/theme', 'must be {language: [locale, …]}, or empty to leave the theme out, not a string'],
        ],
      );
      assert.match(refused(read('build', 'SCD_MATRIX', 'Magento/backend'))[0]?.reason ?? '', /^must be a map of theme "Vendor\/name"/);
    });

    it('SCD_EXCLUDE_THEMES: a comma-separated list of "Vendor/name" themes', function () {
      const config = ok(read('build', 'SCD_EXCLUDE_THEMES', 'Magento/luma, Vendor/theme,'));
      assert.equal(envVariable(config, 'build', 'SCD_EXCLUDE_THEMES'), 'Magento/luma, Vendor/theme,');
      assert.deepEqual(excludedThemes('Magento/luma, Vendor/theme,'), ['Magento/luma', 'Vendor/theme']);
      assert.deepEqual(excludedThemes(''), []);
      ok(read('deploy', 'SCD_EXCLUDE_THEMES', ''));

      const issues = refused(read('build', 'SCD_EXCLUDE_THEMES', 'Magento/luma, luma, Vendor/a/b'));
      assert.deepEqual(
        issues.map((i) => [i.path, i.reason]),
        [
          ['stage.build.SCD_EXCLUDE_THEMES', '"luma" is not a theme: use "Vendor/name", e.g. "Magento/luma"'],
          ['stage.build.SCD_EXCLUDE_THEMES', '"Vendor/a/b" is not a theme: use "Vendor/name", e.g. "Magento/luma"'],
        ],
      );
      assert.match(refused(read('build', 'SCD_EXCLUDE_THEMES', ['Magento/luma']))[0]?.reason ?? '', /^must be a comma-separated list of themes .*, not a list$/);
    });

    it('WARM_UP_PAGES: paths, relative pages and http(s) URLs are accepted; patterns are accepted with a warning each', function () {
      const pages = [
        '/',
        '/checkout?step=1',
        'index.php',
        'index.php/customer/account/create',
        'https://shop.example.test/sale',
        'http://shop.example.test:8080/',
        'category:*:*',
        'cms-page:|.*contact.*|:*',
        'product:sku1|sku2:default|fr',
        'store-page:/about-us:*',
      ];
      const parsed = read('post-deploy', 'WARM_UP_PAGES', pages);
      const config = ok(parsed);
      assert.deepEqual(envVariable(config, 'post-deploy', 'WARM_UP_PAGES'), pages, 'kept as written');
      assert.deepEqual(
        parsed.warnings,
        [6, 7, 8, 9].map((i) => ({
          file: ENV_FILE,
          path: `stage.post-deploy.WARM_UP_PAGES.${i}`,
          reason: `${JSON.stringify(pages[i])} is an ece-tools pattern: it needs the catalogue (a running Magento), so Slipway skips it`,
        })),
      );
      assert.deepEqual(parsed.notes, []);
    });

    it('WARM_UP_PAGES: anything else is refused, naming the entry', function () {
      const issues = refused(
        read('post-deploy', 'WARM_UP_PAGES', ['/', 'ftp://x', 'home page', '', 42, '//cdn.example.test/x', 'category:*', 'mailto:a@b.test', 'https://']),
      );
      const byEntry = issues.map((i) => [i.path.replace('stage.post-deploy.WARM_UP_PAGES.', ''), i.reason.split('; a page is ')[0]]);
      assert.deepEqual(byEntry, [
        ['1', '"ftp://x" is not an http(s) URL: only web pages can be requested'],
        ['2', '"home page" contains whitespace or control characters'],
        ['3', 'is empty: use "/" for the home page'],
        ['4', 'must be a string, not a number'],
        ['5', '"//cdn.example.test/x" starts with "//": write the URL with http:// or https://'],
        ['6', '"category:*" is not a warm-up pattern of the shape "<category|cms-page|product|store-page>:<pattern>:<store codes joined by "|", or *>"'],
        ['7', '"mailto:a@b.test" is not an http(s) URL: only web pages can be requested'],
        ['8', '"https://" is not a valid URL'],
      ]);
      for (const i of issues) assert.ok(i.reason.includes('or an ece-tools pattern such as "category:*:*"'), i.reason);
      assert.match(refused(read('post-deploy', 'WARM_UP_PAGES', '/'))[0]?.reason ?? '', /^must be a list of pages \(/);
    });

    it('TTFB_TESTED_PAGES: the same pages, but no patterns', function () {
      const config = ok(read('post-deploy', 'TTFB_TESTED_PAGES', ['/', 'index.php', 'https://shop.example.test/']));
      assert.deepEqual(envVariable(config, 'post-deploy', 'TTFB_TESTED_PAGES'), ['/', 'index.php', 'https://shop.example.test/']);
      const issues = refused(read('post-deploy', 'TTFB_TESTED_PAGES', ['/', 'product:*:*', 'ftp://x']));
      assert.deepEqual(
        issues.map((i) => i.path),
        ['stage.post-deploy.TTFB_TESTED_PAGES.1', 'stage.post-deploy.TTFB_TESTED_PAGES.2'],
      );
      assert.ok(issues[0]?.reason.startsWith('"product:*:*" is a warm-up pattern, not a page; a page is '), issues[0]?.reason);
      assert.ok(!issues[0]?.reason.includes('ece-tools pattern such as'), 'patterns are not offered');
    });
  });

  describe('the plan', function () {
    it('carries the notes of .magento.env.yaml (other files have none) and keeps WARM_UP_PAGES as written (the warm-up resolves them per route)', function () {
      const env = envText({
        deploy: { REDIS_BACKEND: 'Cm_Cache_Backend_Redis', SCD_THREADS: 2 },
        'post-deploy': { WARM_UP_PAGES: ['/', 'index.php/customer/account/create', 'category:*:*', 'https://shop.example.test/sale'] },
      });
      const plan = planFromProjectFiles({ ...sampleTexts(), [ENV_FILE]: env });
      assert.ok(plan.ok, plan.ok ? '' : plan.issues.map(formatIssue).join('; '));
      assert.deepEqual(plan.notes.map(formatIssue), [
        '.magento.env.yaml: stage.deploy.REDIS_BACKEND: REDIS_BACKEND (stage deploy) is not used by Slipway; it is accepted and ignored',
      ]);
      assert.deepEqual(plan.warnings.map((w) => w.path), ['stage.post-deploy.WARM_UP_PAGES.2']);
      assert.deepEqual(plan.manifest.warmUpPages, ['/', 'index.php/customer/account/create', 'category:*:*', 'https://shop.example.test/sale']);

      const refusedPlan = planFromProjectFiles({ ...sampleTexts(), [ENV_FILE]: `${env}  build:\n    SCD_THREADS: 0\n` });
      assert.ok(!refusedPlan.ok);
      assert.equal(refusedPlan.notes.length, 1, 'notes survive a refusal');
      assert.deepEqual(planFromProjectFiles(sampleTexts()).notes, []);
    });
  });

  describe('classifyPage', function () {
    it('tells paths, relative pages, URLs and patterns apart', function () {
      assert.deepEqual(classifyPage('/'), { kind: 'path', path: '/' });
      assert.deepEqual(classifyPage('/customer/account?x=a:b'), { kind: 'path', path: '/customer/account?x=a:b' });
      assert.deepEqual(classifyPage('index.php'), { kind: 'relative', page: 'index.php', path: '/index.php' });
      assert.deepEqual(classifyPage('index.php/customer/account/create'), {
        kind: 'relative',
        page: 'index.php/customer/account/create',
        path: '/index.php/customer/account/create',
      });
      assert.deepEqual(classifyPage('https://shop.example.test/sale?page=2#top'), {
        kind: 'url',
        url: 'https://shop.example.test/sale?page=2#top',
        host: 'shop.example.test',
        path: '/sale?page=2',
      });
      assert.deepEqual(classifyPage('HTTP://Shop.Example.test:8080'), { kind: 'url', url: 'HTTP://Shop.Example.test:8080', host: 'shop.example.test:8080', path: '/' });
      assert.deepEqual(classifyPage('category:*:*'), { kind: 'pattern', entity: 'category', pattern: '*', stores: '*' });
      assert.deepEqual(classifyPage('cms-page:|.*contact.*|:*'), { kind: 'pattern', entity: 'cms-page', pattern: '|.*contact.*|', stores: '*' });
      assert.deepEqual(classifyPage('product:sku1|sku2:default|fr'), { kind: 'pattern', entity: 'product', pattern: 'sku1|sku2', stores: ['default', 'fr'] });
      assert.deepEqual(classifyPage('store-page:/path/to/page:store1'), { kind: 'pattern', entity: 'store-page', pattern: '/path/to/page', stores: ['store1'] });
    });

    it('gives the reason for anything else, never throwing', function () {
      for (const entry of ['', ' /', 'a b', 'tab\there', 'bell\u0007', 'del\u007f', 'nbsp\u00a0', '//host/x', 'ftp://x', 'javascript:alert(1)', 'category:', 'product:*', 'store-page:a:b:c', 'http://', null, undefined, 3, {}, [], true]) {
        const page = classifyPage(entry);
        assert.equal(page.kind, 'invalid', `${JSON.stringify(entry)} → ${JSON.stringify(page)}`);
        assert.ok(page.kind === 'invalid' && page.reason.length > 0);
      }
    });

  });
});
