/**
 * Property-based tests (fast-check): for any input, the name rules, the YAML project-file
 * schemas and the config.php reader either accept it or refuse it with a clear, located error;
 * they never throw anything else. Accepted names are safe as ids, path segments and DNS labels;
 * PHP arrays made from any JSON value read back as that value.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import fc from 'fast-check';
import { stringify } from 'yaml';
import type { ConfigIssue } from '../../src/domain/app-config';
import { ENVIRONMENT_NAME_MAX, environmentNameProblem } from '../../src/domain/environment-names';
import { CONFIG_PHP, parseMagentoConfig } from '../../src/domain/magento-config';
import { environmentHostname, workflowIds } from '../../src/domain/names';
import { projectIdSchema } from '../../src/domain/schemas';
import { parsePhpReturnArray, PhpParseError, type PhpValue } from '../../src/domain/php-array';
import { APP_FILE, planFromProjectFiles } from '../../src/domain/project-files';
import { ENV_FILE, parseEnvConfig } from '../../src/domain/project-files/env-config';
import { parseRoutes, ROUTES_FILE } from '../../src/domain/project-files/routes';
import { parseServices, SERVICES_FILE } from '../../src/domain/project-files/services';
import { sampleTexts } from './malformed-project-files.test';

const RUNS = { numRuns: 300 };
/** What the pre-receive hook (src/activities/git.ts) lets through as a new branch. */
const HOOK_BRANCH = /^[a-z0-9]([a-z0-9-]{0,38}[a-z0-9])?$/;
/** Messages that betray a crash rather than a refusal. */
const CRASH = /Cannot read propert|is not a function|is not iterable|undefined \(reading|Maximum call stack|\[object Object\]/;

/** Strings of the characters that matter in names, plus anything at all. */
const nameLike = fc.oneof(
  fc.string({ unit: fc.constantFrom(...'abcxyz019-_.:/ AZé\u0000\n'.split('')), maxLength: 45 }),
  fc.stringMatching(/^[a-z0-9][a-z0-9-]{0,45}$/),
  fc.string({ unit: 'binary', maxLength: 50 }),
);

function assertClearIssues(issues: ConfigIssue[], file: string | RegExp): void {
  assert.ok(issues.length > 0, 'a refusal has at least one issue');
  for (const i of issues) {
    if (typeof file === 'string') assert.equal(i.file, file);
    else assert.match(i.file, file);
    assert.equal(typeof i.path, 'string');
    assert.ok(i.reason.length > 0, 'a reason');
    assert.doesNotMatch(i.reason, CRASH);
  }
}

describe('properties', function () {
  this.timeout(60_000);

  describe('names', function () {
    it('an environment name is accepted or refused with a reason, never a throw; accepted names are safe ids, path segments and DNS labels', function () {
      fc.assert(
        fc.property(nameLike, (name) => {
          const problem = environmentNameProblem(name);
          assert.equal(HOOK_BRANCH.test(name), problem === undefined, `the pre-receive hook and the workflows agree on ${JSON.stringify(name)}`);
          if (problem !== undefined) {
            assert.equal(typeof problem, 'string');
            assert.ok(problem.length > 0 && problem.length < 200, problem);
            return;
          }
          assert.ok(name.length >= 1 && name.length <= ENVIRONMENT_NAME_MAX);
          const id = workflowIds.environment('shop', name);
          assert.deepEqual(id.split('/'), ['env', 'shop', name], 'the workflow id round-trips');
          const base = path.join('/srv', 'envs', 'shop');
          const dir = path.join(base, name);
          assert.equal(path.dirname(dir), base, 'a path segment that stays where it is put');
          assert.equal(path.basename(dir), name);
          const host = environmentHostname('shop', name);
          assert.deepEqual(host.split('.'), [name, 'shop', 'localhost']);
          assert.match(name, /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/, 'a DNS label');
        }),
        RUNS,
      );
    });

    it('a non-string environment name is refused, not thrown on', function () {
      fc.assert(
        fc.property(fc.anything().filter((v) => typeof v !== 'string'), (v) => {
          assert.equal(environmentNameProblem(v), 'an environment name must be a string');
        }),
        { numRuns: 100 },
      );
    });

    it('a project id is accepted or refused by its schema; accepted ids round-trip into workflow ids', function () {
      fc.assert(
        fc.property(fc.oneof(nameLike, fc.anything()), (id) => {
          const r = projectIdSchema.safeParse(id);
          if (!r.success) {
            assert.ok(r.error.issues.every((i) => /^project id must be/.test(i.message)), JSON.stringify(r.error.issues));
            return;
          }
          assert.match(r.data, /^[a-z][a-z0-9-]{2,39}$/);
          assert.deepEqual(workflowIds.project(r.data).split('/'), ['project', r.data]);
          assert.deepEqual(workflowIds.environment(r.data, 'integration').split('/'), ['env', r.data, 'integration']);
        }),
        RUNS,
      );
    });
  });

  describe('YAML project files', function () {
    /** Text that looks like YAML: keys, indentation, flow collections, anchors, tags, quotes. */
    const yamlish = fc
      .array(
        fc.oneof(
          fc.constantFrom('a', 'type', 'disk', 'stage', 'build', 'deploy', 'SCD_THREADS', 'upstream', 'mysql:10.6', '"http://{default}/"', '{all}'),
          fc.constantFrom(':', ': ', '\n', '\n  ', '\n    ', '- ', '[', ']', '{', '}', ',', '&x ', '*x', '!!str ', '!!binary ', '"', "'", '#', '|', '>', '? ', '---\n', '...\n', '%YAML 1.2\n', '\t', '\u0000', '\uFEFF'),
          fc.string({ maxLength: 8 }),
          fc.integer().map(String),
        ),
        { maxLength: 60 },
      )
      .map((parts) => parts.join(''));
    const text = fc.oneof(yamlish, fc.string({ maxLength: 200 }), fc.string({ unit: 'binary', maxLength: 200 }));
    /** Any JSON value as YAML, at the top or under a key the schema knows. */
    const json = fc.jsonValue({ maxDepth: 4 });

    const parsers: Array<[string, (t: string) => { ok: boolean; issues?: ConfigIssue[] }]> = [
      [SERVICES_FILE, (t) => parseServices(t)],
      [ROUTES_FILE, (t) => parseRoutes(t, { appName: 'mymagento' })],
      [ENV_FILE, (t) => parseEnvConfig(t)],
    ];

    for (const [file, parse] of parsers) {
      it(`${file}: any text or JSON value is read or refused with issues that name the file; nothing throws`, function () {
        fc.assert(
          fc.property(fc.oneof(text, json.map((v) => stringify(v))), (t) => {
            const r = parse(t);
            if (!r.ok) assertClearIssues(r.issues ?? [], file);
          }),
          RUNS,
        );
      });
    }

    it('.magento.app.yaml and the whole plan: any value under any known key is accepted or refused at that key', function () {
      const keys = ['name', 'type', 'disk', 'relationships', 'mounts', 'hooks', 'hooks.build', 'web.locations', 'variables.env', 'crons'];
      const base = sampleTexts();
      fc.assert(
        fc.property(fc.constantFrom(...keys), json, (key, value) => {
          const doc: Record<string, unknown> = { name: 'mymagento', type: 'php:8.3' };
          const [head, tail] = key.split('.') as [string, string | undefined];
          doc[head] = tail === undefined ? value : { [tail]: value };
          const plan = planFromProjectFiles({ ...base, [APP_FILE]: stringify(doc) });
          if (plan.ok) return;
          assertClearIssues(plan.issues, /^(\.magento\.app\.yaml|\.magento\/routes\.yaml)$/);
          // The routes name the application: a bad name is reported there too.
          assert.ok(
            plan.issues.some((i) => i.path === '' || i.path.startsWith(head) || i.file === ROUTES_FILE),
            `an issue at ${head}: ${JSON.stringify(plan.issues)}`,
          );
        }),
        RUNS,
      );
    });

    it('the whole plan: any text in any project file is accepted or refused, never thrown on', function () {
      const base = sampleTexts();
      const files = [APP_FILE, SERVICES_FILE, ROUTES_FILE, ENV_FILE] as const;
      fc.assert(
        fc.property(fc.constantFrom(...files), text, (file, t) => {
          const plan = planFromProjectFiles({ ...base, [file]: t });
          if (!plan.ok) assertClearIssues(plan.issues, /^(\.magento\.app\.yaml|\.magento\/services\.yaml|\.magento\/routes\.yaml|\.magento\.env\.yaml)$/);
        }),
        RUNS,
      );
    });
  });

  describe('config.php', function () {
    const SAMPLE_CONFIG = fs.readFileSync(path.resolve(__dirname, '../../../examples/sample-store/app/etc/config.php'), 'utf8');

    /** The reader's only refusal is a PhpParseError with a line and column; parseMagentoConfig never throws. */
    function check(source: string): void {
      try {
        parsePhpReturnArray(source);
      } catch (e) {
        assert.ok(e instanceof PhpParseError, `not a PhpParseError: ${String(e)}`);
        assert.ok(e.line >= 1 && e.column >= 1);
        assert.doesNotMatch(e.reason, CRASH);
      }
      const r = parseMagentoConfig(source);
      if (!r.ok) assertClearIssues(r.issues, CONFIG_PHP);
    }

    it('any string is read or refused at a line and column', function () {
      const phpish = fc
        .array(
          fc.oneof(
            fc.constantFrom('<?php ', 'return ', '[', ']', 'array(', ')', '=>', ',', ';', "'", '"', '\\', '$x', '${', '{$', '/*', '*/', '//', '#', '?>', '<<<EOT', '0x', '0b', '1e5', '-', '.', 'true', 'null', 'new ', 'declare(strict_types=1);', '\n'),
            fc.string({ maxLength: 6 }),
          ),
          { maxLength: 50 },
        )
        .map((p) => p.join(''));
      fc.assert(fc.property(fc.oneof(phpish, fc.string({ maxLength: 300 }), fc.string({ unit: 'binary', maxLength: 300 })), check), RUNS);
    });

    it('a mutated valid config.php is read or refused, never thrown on', function () {
      const edit = fc.record({
        at: fc.nat({ max: SAMPLE_CONFIG.length }),
        remove: fc.nat({ max: 5 }),
        insert: fc.oneof(fc.constantFrom('', '[', ']', "'", '"', ',', '=>', ';', '$', '(', ')', '?>', '/*', '\\'), fc.string({ maxLength: 4 })),
      });
      fc.assert(
        fc.property(fc.array(edit, { minLength: 1, maxLength: 4 }), (edits) => {
          let s = SAMPLE_CONFIG;
          for (const e of edits) s = s.slice(0, e.at) + e.insert + s.slice(e.at + e.remove);
          check(s);
        }),
        RUNS,
      );
    });

    /** A JSON value as a PHP array literal. */
    function toPhp(v: unknown): string {
      if (v === null) return 'null';
      if (typeof v === 'boolean') return v ? 'true' : 'false';
      if (typeof v === 'number') return String(v);
      if (typeof v === 'string') return `'${v.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
      if (Array.isArray(v)) return `[${v.map(toPhp).join(', ')}]`;
      return `[${Object.entries(v as Record<string, unknown>).map(([k, x]) => `${toPhp(k)} => ${toPhp(x)}`).join(', ')}]`;
    }

    /** What PHP makes of it: integer-like keys become integers; an array keyed 0..n-1 is a list. */
    function asPhp(v: unknown): PhpValue {
      if (typeof v === 'number') return Object.is(v, -0) ? 0 : v;
      if (v === null || typeof v !== 'object') return v as PhpValue;
      if (Array.isArray(v)) return v.map(asPhp);
      const entries = new Map<string | number, PhpValue>();
      for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
        entries.set(/^(0|-?[1-9]\d*)$/.test(k) && Number.isSafeInteger(Number(k)) ? Number(k) : k, asPhp(x));
      }
      let i = 0;
      if ([...entries.keys()].every((k) => k === i++)) return [...entries.values()];
      const o: Record<string, PhpValue> = {};
      for (const [k, x] of entries) Object.defineProperty(o, String(k), { value: x, enumerable: true, writable: true, configurable: true });
      return o;
    }

    it('a PHP array made from any JSON value reads back as that value', function () {
      fc.assert(
        fc.property(fc.oneof(fc.array(fc.jsonValue({ maxDepth: 4 })), fc.dictionary(fc.string({ maxLength: 6 }), fc.jsonValue({ maxDepth: 4 }))), (v) => {
          const source = `<?php\nreturn ${toPhp(v)};\n`;
          assert.deepStrictEqual(parsePhpReturnArray(source), asPhp(v), source);
          check(source);
        }),
        RUNS,
      );
    });
  });
});
