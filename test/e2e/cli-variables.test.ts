/**
 * `slipway env var set|get|list|unset` and `slipway project var set|get|list|unset` as a user
 * runs them: on the engine host, and through the API (SLIPWAY_API_URL, SLIPWAY_TOKEN) as the
 * token's user. --sensitive (a value read from standard input with "-" included), --no-inherit,
 * --build and --runtime, with their effects: a build-only variable is seen by the build hook and
 * not at runtime (deploy hook, PHP), a runtime-only one the reverse.
 */
import { strict as assert } from 'node:assert';
import * as crypto from 'node:crypto';
import type { SlipwayClient } from '../../src/client';
import { needlesOf, otherProjectsData, scanHistories, scanTree } from '../harness/leaks';
import { runSlipway } from '../harness/processes';
import { deployedProject, getPage } from '../harness/world';
import * as path from 'node:path';

const sha = (s: string): string => crypto.createHash('sha256').update(s).digest('hex');

/** Shows what each phase sees: plain values for the test's plain variables, a hash for the sensitive one. */
const APP = `
name: mymagento
type: php:8.2
web:
  locations:
    "/":
      root: "pub"
      passthru: "/index.php"
hooks:
  build: |
    printf 'build sees BUILD_ONLY=%s RUNTIME_ONLY=%s SECRET=%s\\n' "\${BUILD_ONLY:--}" "\${RUNTIME_ONLY:--}" "$(printf %s "\${SECRET_KEY:-}" | sha256sum | cut -c1-64)"
  deploy: |
    printf 'deploy sees BUILD_ONLY=%s RUNTIME_ONLY=%s SECRET=%s\\n' "\${BUILD_ONLY:--}" "\${RUNTIME_ONLY:--}" "$(printf %s "\${SECRET_KEY:-}" | sha256sum | cut -c1-64)"
`;
const INDEX = `<?php
header('Content-Type: text/plain');
$vars = json_decode(base64_decode(getenv('MAGENTO_CLOUD_VARIABLES')), true);
echo 'BUILD_ONLY=', getenv('BUILD_ONLY') === false ? '-' : getenv('BUILD_ONLY'), "\\n";
echo 'RUNTIME_ONLY=', getenv('RUNTIME_ONLY') === false ? '-' : getenv('RUNTIME_ONLY'), "\\n";
echo 'API_VAR=', getenv('API_VAR') === false ? '-' : getenv('API_VAR'), "\\n";
echo 'SECRET=', hash('sha256', (string) getenv('SECRET_KEY')), "\\n";
echo 'token=', hash('sha256', (string) ($vars['vendor:token'] ?? '')), "\\n";
`;

type Run = Awaited<ReturnType<typeof runSlipway>>;

/** The deployment a change started (its message on standard error), waited for until it succeeds. */
async function deployed(client: SlipwayClient, project: string, environment: string, r: Run): Promise<number> {
  const n = Number(/deployments? (?:started: )?#(\d+)/.exec(r.stderr)?.[1]);
  assert.ok(n > 0, `a deployment was started: ${r.stderr}`);
  const d = await client.waitForDeployment(project, environment, { after: n - 1 });
  assert.equal(d.status, 'succeeded', d.error);
  return n;
}

const ok = (r: Run, what: string): Run => {
  assert.equal(r.code, 0, `${what}: ${r.stderr}`);
  return r;
};

describe('slipway env var and project var', function () {
  this.timeout(300_000);

  it('set, get, list and unset with --sensitive (from stdin), --no-inherit, --build and --runtime, on the engine host', async function () {
    const p = await deployedProject('clivar', { '.magento.app.yaml': APP, 'pub/index.php': INDEX });
    const { client, project } = p;
    const env: NodeJS.ProcessEnv = { ...process.env, SLIPWAY_HOME: p.layout.home };
    delete env.TEMPORAL_ADDRESS;
    delete env.SLIPWAY_API_URL;
    const slipway = (args: string[], input?: string): Promise<Run> => runSlipway(args, env, input);
    const log = (n: number): string => client.deploymentLog(project, 'integration', n);

    // Runtime only: the same slug, the deploy hook and PHP see it.
    const runtime = ok(await slipway(['env', 'var', 'set', project, 'integration', 'env:RUNTIME_ONLY', 'r1', '--runtime']), 'set --runtime');
    assert.match(runtime.stderr, /^env:RUNTIME_ONLY set; deployment #\d+ of integration started \(the same slug\)$/m);
    let n = await deployed(client, project, 'integration', runtime);
    assert.match(log(n), /deploy sees BUILD_ONLY=- RUNTIME_ONLY=r1 /);
    assert.match((await getPage(project, 'integration', '/')).body, /RUNTIME_ONLY=r1/);

    // Build only: built again; the build hook sees it (and not the runtime-only one), the deploy hook and PHP do not.
    const build = ok(await slipway(['env', 'var', 'set', project, 'integration', 'env:BUILD_ONLY', 'b1', '--build']), 'set --build');
    assert.match(build.stderr, /^env:BUILD_ONLY set; deployment #\d+ of integration started \(built again: the build sees it\)$/m);
    n = await deployed(client, project, 'integration', build);
    assert.match(log(n), /build sees BUILD_ONLY=b1 RUNTIME_ONLY=- /);
    assert.match(log(n), /deploy sees BUILD_ONLY=- RUNTIME_ONLY=r1 /);
    const page = (await getPage(project, 'integration', '/')).body;
    assert.match(page, /^BUILD_ONLY=-$/m);
    assert.match(page, /^RUNTIME_ONLY=r1$/m);

    // Sensitive, read from standard input (its final newline dropped): never printed again.
    const secret = `cli-${crypto.randomBytes(12).toString('hex')}`;
    const sensitive = ok(await slipway(['env', 'var', 'set', project, 'integration', 'env:SECRET_KEY', '-', '--sensitive', '--no-inherit'], `${secret}\n`), 'set - --sensitive');
    assert.ok(!sensitive.stdout.includes(secret) && !sensitive.stderr.includes(secret));
    assert.match(sensitive.stderr, /built again: the build sees it/, 'build and runtime by default');
    n = await deployed(client, project, 'integration', sensitive);
    assert.match(log(n), new RegExp(`build sees BUILD_ONLY=b1 RUNTIME_ONLY=- SECRET=${sha(secret)}`));
    assert.match(log(n), new RegExp(`deploy sees BUILD_ONLY=- RUNTIME_ONLY=r1 SECRET=${sha(secret)}`));
    assert.match((await getPage(project, 'integration', '/')).body, new RegExp(`^SECRET=${sha(secret)}$`, 'm'));

    // get and list: the flags, "(sensitive)" for the value.
    assert.equal(ok(await slipway(['env', 'var', 'get', project, 'integration', 'env:SECRET_KEY']), 'get').stdout, 'env:SECRET_KEY=(sensitive)  (sensitive, not inherited)\n');
    assert.equal(ok(await slipway(['env', 'var', 'get', project, 'integration', 'env:BUILD_ONLY']), 'get').stdout, 'env:BUILD_ONLY=b1  (build only)\n');
    const listed = ok(await slipway(['env', 'var', 'list', project, 'integration']), 'list');
    assert.equal(listed.stdout, ['env:BUILD_ONLY=b1  (build only)', 'env:RUNTIME_ONLY=r1  (runtime only)', 'env:SECRET_KEY=(sensitive)  (sensitive, not inherited)', ''].join('\n'));
    const json = JSON.parse(ok(await slipway(['env', 'var', 'list', project, 'integration', '--json']), 'list --json').stdout) as Array<{ name: string; value: string; sensitive: boolean; inherit: boolean; build: boolean; runtime: boolean }>;
    assert.deepEqual(
      json.map((v) => [v.name, v.value, v.sensitive, v.inherit, v.build, v.runtime]),
      [
        ['env:BUILD_ONLY', 'b1', false, true, true, false],
        ['env:RUNTIME_ONLY', 'r1', false, true, false, true],
        ['env:SECRET_KEY', '(sensitive)', true, false, true, true],
      ],
    );
    const missing = await slipway(['env', 'var', 'get', project, 'integration', 'env:NOPE']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /no variable env:NOPE applies to integration/);

    // --no-inherit: a child sees its parent's other variables, not that one.
    await client.branch(project, { name: 'feature', parent: 'integration', inactive: true });
    assert.equal(
      ok(await slipway(['env', 'var', 'list', project, 'feature']), 'list child').stdout,
      ['env:BUILD_ONLY=b1  (build only, from integration)', 'env:RUNTIME_ONLY=r1  (runtime only, from integration)', ''].join('\n'),
    );

    // Project variables: a sensitive one from standard input, runtime only, in MAGENTO_CLOUD_VARIABLES.
    const token = `ptok-${crypto.randomBytes(12).toString('hex')}`;
    const pset = ok(await slipway(['project', 'var', 'set', project, 'vendor:token', '-', '--sensitive', '--runtime'], token), 'project var set');
    assert.ok(!pset.stdout.includes(token) && !pset.stderr.includes(token));
    assert.match(pset.stderr, new RegExp(`^vendor:token set on ${project}; deployments started: #\\d+$`, 'm'));
    await deployed(client, project, 'integration', pset);
    assert.match((await getPage(project, 'integration', '/')).body, new RegExp(`^token=${sha(token)}$`, 'm'));
    assert.equal(ok(await slipway(['project', 'var', 'get', project, 'vendor:token']), 'project var get').stdout, 'vendor:token=(sensitive)  (sensitive, runtime only)\n');
    assert.equal(ok(await slipway(['project', 'var', 'list', project]), 'project var list').stdout, 'vendor:token=(sensitive)  (sensitive, runtime only)\n');
    assert.match(ok(await slipway(['env', 'var', 'list', project, 'integration']), 'list').stdout, /^vendor:token=\(sensitive\) {2}\(sensitive, runtime only, from project\)$/m);
    const punset = ok(await slipway(['project', 'var', 'unset', project, 'vendor:token']), 'project var unset');
    assert.match(punset.stderr, new RegExp(`^vendor:token removed from ${project}; deployments started: #\\d+$`, 'm'));
    await deployed(client, project, 'integration', punset);
    assert.match((await getPage(project, 'integration', '/')).body, new RegExp(`^token=${sha('')}$`, 'm'));
    assert.equal(ok(await slipway(['project', 'var', 'list', project]), 'project var list').stdout, 'no variables\n');
    const pgone = await slipway(['project', 'var', 'get', project, 'vendor:token']);
    assert.equal(pgone.code, 1);
    assert.match(pgone.stderr, new RegExp(`project ${project} has no variable vendor:token`));

    // unset: redeployed without it.
    const unset = ok(await slipway(['env', 'var', 'unset', project, 'integration', 'env:RUNTIME_ONLY']), 'unset');
    assert.match(unset.stderr, /^env:RUNTIME_ONLY removed; deployment #\d+ of integration started \(the same slug\)$/m);
    n = await deployed(client, project, 'integration', unset);
    assert.match(log(n), /deploy sees BUILD_ONLY=- RUNTIME_ONLY=- /);
    assert.match((await getPage(project, 'integration', '/')).body, /^RUNTIME_ONLY=-$/m);
    assert.equal((await slipway(['env', 'var', 'unset', project, 'integration', 'env:RUNTIME_ONLY'])).code, 1, 'gone already');

    // Usage errors: nothing changed.
    const both = await slipway(['env', 'var', 'set', project, 'integration', 'env:X', 'x', '--build', '--runtime']);
    assert.equal(both.code, 2);
    assert.match(both.stderr, /--build and --runtime: give one of them/);
    const novalue = await slipway(['env', 'var', 'set', project, 'integration', 'env:X']);
    assert.equal(novalue.code, 2);
    assert.match(novalue.stderr, /give the value, or "-" to read it from standard input/);
    assert.equal((await client.environmentVariables(project, 'integration')).length, 2);

    // The sensitive values given on standard input: in no file of the data directory but the keys, and in no history.
    const needles = needlesOf([secret, token]);
    assert.deepEqual(scanTree(p.layout.home, needles, [path.join(p.layout.home, 'secrets'), ...otherProjectsData(p.layout.home, project)]).leaks, []);
    assert.deepEqual((await scanHistories(client.temporal, project, needles)).leaks, []);
  });

  it('through the API, as the token\'s user: set, get, list and unset (--as refused)', async function () {
    const p = await deployedProject('apivar', { '.magento.app.yaml': APP, 'pub/index.php': INDEX });
    const { client, project } = p;
    const asUser = (user: string): NodeJS.ProcessEnv => {
      const env: NodeJS.ProcessEnv = { ...process.env, SLIPWAY_API_URL: process.env.SLIPWAY_TEST_API_URL, SLIPWAY_TOKEN: `slipway-dev-${user}` };
      // Nothing of the engine host: the API is the only way in.
      delete env.SLIPWAY_HOME;
      delete env.TEMPORAL_ADDRESS;
      return env;
    };
    const alice = (args: string[], input?: string): Promise<Run> => runSlipway(args, asUser('alice'), input);

    const set = ok(await alice(['env', 'var', 'set', project, 'integration', 'env:API_VAR', 'over-http', '--runtime']), 'set through the API');
    assert.match(set.stderr, /^env:API_VAR set; deployment #\d+ of integration started \(the same slug\)$/m);
    await deployed(client, project, 'integration', set);
    assert.match((await getPage(project, 'integration', '/')).body, /^API_VAR=over-http$/m);
    const [stored] = await client.environmentVariables(project, 'integration');
    assert.equal(stored?.updatedBy, 'alice', "the token's user changed it");
    assert.equal(ok(await alice(['env', 'var', 'list', project, 'integration']), 'list').stdout, 'env:API_VAR=over-http  (runtime only)\n');
    assert.equal(ok(await alice(['env', 'var', 'get', project, 'integration', 'env:API_VAR']), 'get').stdout, 'env:API_VAR=over-http  (runtime only)\n');
    const secret = `api-${crypto.randomBytes(8).toString('hex')}`;
    const sensitive = ok(await alice(['env', 'var', 'set', project, 'integration', 'env:SECRET_KEY', '-', '--sensitive', '--runtime'], secret), 'set - --sensitive');
    await deployed(client, project, 'integration', sensitive);
    assert.match((await getPage(project, 'integration', '/')).body, new RegExp(`^SECRET=${sha(secret)}$`, 'm'));
    assert.ok(!ok(await alice(['env', 'var', 'list', project, 'integration', '--json']), 'list --json').stdout.includes(secret));
    const unset = ok(await alice(['env', 'var', 'unset', project, 'integration', 'env:API_VAR']), 'unset');
    await deployed(client, project, 'integration', unset);
    assert.equal(ok(await alice(['env', 'var', 'list', project, 'integration']), 'list').stdout, 'env:SECRET_KEY=(sensitive)  (sensitive, runtime only)\n');

    // --as is the engine host's; the API's roles apply (the project's variables are the admins').
    const as = await alice(['env', 'var', 'set', project, 'integration', 'env:X', 'x', '--as', 'bob']);
    assert.equal(as.code, 2);
    assert.match(as.stderr, /--as is accepted only on the engine host/);
    const notAdmin = await alice(['project', 'var', 'set', project, 'shared:x', 'y']);
    assert.equal(notAdmin.code, 1);
    assert.match(notAdmin.stderr, /alice needs the role admin/);
    const ada = (args: string[]): Promise<Run> => runSlipway(args, asUser('ada'));
    const pset = ok(await ada(['project', 'var', 'set', project, 'shared:greeting', 'hi', '--runtime']), 'project var set through the API');
    await deployed(client, project, 'integration', pset);
    assert.equal(ok(await ada(['project', 'var', 'get', project, 'shared:greeting']), 'project var get').stdout, 'shared:greeting=hi  (runtime only)\n');
    assert.equal(ok(await alice(['project', 'var', 'list', project]), 'project var list').stdout, 'shared:greeting=hi  (runtime only)\n');
    const punset = ok(await ada(['project', 'var', 'unset', project, 'shared:greeting']), 'project var unset');
    await deployed(client, project, 'integration', punset);
    const gone = await alice(['project', 'var', 'get', project, 'shared:greeting']);
    assert.equal(gone.code, 1);
    assert.match(gone.stderr, new RegExp(`project ${project} has no variable shared:greeting`));
  });
});
