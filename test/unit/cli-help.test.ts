/** Every command's --help shows an example; every read command takes --json; bad usage exits 2. */
import { strict as assert } from 'node:assert';
import { execFileSync, spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { advertiseUrl, defaultAdvertised } from '../../src/cli/commands/processes';

const BIN = path.resolve(__dirname, '../../../bin/slipway.js');
/** Each command's --help, run once (discovering the commands reads them all already). */
const helps = new Map<string, string>();
const help = (...args: string[]): string => {
  const key = args.join(' ');
  if (!helps.has(key)) helps.set(key, execFileSync(process.execPath, [BIN, ...args, '--help'], { encoding: 'utf8' }));
  return helps.get(key)!;
};

function commands(prefix: string[] = []): string[][] {
  const text = help(...prefix);
  const section = text.split(/^Commands:$/m)[1] ?? '';
  const names = [...section.matchAll(/^ {2}([a-z-]+)/gm)].map((m) => m[1]!).filter((n) => n !== 'help');
  return names.flatMap((n) => {
    const sub = [...prefix, n];
    return /^Commands:$/m.test(help(...sub)) ? commands(sub) : [sub];
  });
}

describe('the slipway command line', function () {
  const all = commands();

  it('has the commands the product names', function () {
    const names = all.map((c) => c.join(' '));
    for (const c of ['up', 'setup', 'worker', 'api', 'router', 'demo', 'project create', 'project list', 'project show', 'project push-limit', 'env list', 'env branch', 'env activate', 'env deactivate', 'env delete', 'env sync', 'env merge', 'env redeploy', 'env rollback', 'env status', 'env log', 'env crons', 'promote', 'ticket list', 'ticket show', 'ticket approve', 'ticket reject', 'replay']) {
      assert.ok(names.includes(c), `slipway ${c}`);
    }
  });

  it('shows an example in every command\'s --help', function () {
    for (const c of all) assert.match(help(...c), /Examples?:\n {2}\S/, `slipway ${c.join(' ')} --help`);
  });

  it('takes --json on every read command', function () {
    for (const c of [['project', 'list'], ['project', 'show'], ['project', 'push-limit'], ['env', 'list'], ['env', 'status'], ['env', 'log'], ['env', 'crons'], ['env', 'ssh-keys'], ['ticket', 'list'], ['ticket', 'show'], ['replay']]) {
      assert.match(help(...c), /--json/, `slipway ${c.join(' ')}`);
    }
  });

  it('exits 2 on bad usage, naming what is wrong', function () {
    const unknown = spawnSync(process.execPath, [BIN, 'deploy-everything'], { encoding: 'utf8' });
    assert.equal(unknown.status, 2);
    assert.match(unknown.stderr, /unknown command 'deploy-everything'/);
    const missing = spawnSync(process.execPath, [BIN, 'env', 'branch', 'shop'], { encoding: 'utf8' });
    assert.equal(missing.status, 2);
    assert.match(missing.stderr, /missing required argument 'name'/);
    for (const [advertise, why] of [
      ['ftp://api:21', /must be an http:\/\/ or https:\/\/ URL/],
      ['api:8081', /must be an http:\/\/ or https:\/\/ URL|not a URL/],
      ['http://api:8081/v1', /base URL only/],
      ['http://user:pw@api:8081', /base URL only/],
    ] as const) {
      const bad = spawnSync(process.execPath, [BIN, 'api', '--advertise', advertise], { encoding: 'utf8' });
      assert.equal(bad.status, 2, `--advertise ${advertise}: ${bad.stderr}`);
      assert.match(bad.stderr, why);
    }
  });

  it("derives the API's advertised address from --listen and the port", function () {
    assert.equal(defaultAdvertised('0.0.0.0', 8081), 'http://127.0.0.1:8081');
    assert.equal(defaultAdvertised('::', 8081), 'http://127.0.0.1:8081');
    assert.equal(defaultAdvertised('10.0.0.5', 9000), 'http://10.0.0.5:9000');
    assert.equal(defaultAdvertised('::1', 9000), 'http://[::1]:9000');
    assert.equal(advertiseUrl('https://api.example/'), 'https://api.example');
    assert.equal(advertiseUrl('http://api:8081'), 'http://api:8081');
  });
});
