/**
 * A hostile tenant, against the real sandbox: a project whose build, deploy and post-deploy
 * hooks try every escape the issue reproduced before the sandbox existed, knowing the engine's
 * real paths and ports: reading the hook token, Temporal's database, the data directory,
 * another project's remote, /etc/shadow and the engine's environment; writing into another
 * project's live release and mount; reaching Temporal, the API and the router; approving its
 * own ticket through the API; pushing to production as the engine; writing an identities file;
 * leaving a daemon behind. Each hook writes one line per attempt; every line must say
 * "blocked", and afterwards nothing of the engine or of the other project has changed.
 */
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { minimalApp } from '../fixtures/app-yaml';
import { snapshot } from '../harness/trees';
import { commitOnly, deployedProject, enginePid, getPage, getWorld, push } from '../harness/world';

const ATTEMPTS = [
  'read-hook-token',
  'read-temporal-db',
  'list-data-directory',
  'read-other-remote',
  'read-shadow',
  'read-engine-environment',
  'write-other-release',
  'write-other-mount',
  'reach-temporal',
  'reach-api',
  'reach-router',
  'approve-own-ticket',
  'push-as-engine',
  'write-identities',
  'signal-engine',
] as const;

interface Targets {
  home: string;
  token: string;
  temporalDb: string;
  otherRemote: string;
  ownRemote: string;
  otherRelease: string;
  otherMount: string;
  temporalPort: string;
  apiUrl: string;
  routerPort: string;
  ticketPath: string;
  marker: string;
  enginePid: number;
}

/** The attacks, as a hook: one line per attempt in `$REPORT`. */
function attackScript(t: Targets, report: string): string {
  const api = new URL(t.apiUrl);
  return `
REPORT=${report}
mkdir -p "$(dirname "$REPORT")"
: > "$REPORT"
try() { name=$1; shift; if out=$("$@" 2>/dev/null) && [ -n "$out" ]; then echo "ESCAPED $name: $(echo "$out" | head -c 80)" >> "$REPORT"; else echo "blocked $name" >> "$REPORT"; fi; }
port_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null && echo open; }
try read-hook-token cat ${t.token}
try read-temporal-db head -c 16 ${t.temporalDb}
try list-data-directory ls -A ${t.home}
try read-other-remote git --git-dir=${t.otherRemote} log -1 --format=%H
try read-shadow cat /etc/shadow
try read-engine-environment sh -c 'cat /proc/*/environ 2>/dev/null | tr "\\0" "\\n" | grep -E "^(SLIPWAY_|TEMPORAL|npm_|NODE_)" | grep -v "^SLIPWAY_DEPLOY_MODE="'
try write-other-release sh -c 'echo pwned > ${t.otherRelease}/pub/pwned.html && cat ${t.otherRelease}/pub/pwned.html'
try write-other-mount sh -c 'echo pwned > ${t.otherMount}/pwned && cat ${t.otherMount}/pwned'
try reach-temporal port_open 127.0.0.1 ${t.temporalPort}
try reach-api port_open ${api.hostname} ${api.port}
try reach-router port_open 127.0.0.1 ${t.routerPort}
try approve-own-ticket curl -sf -m 5 -X POST -H 'authorization: Bearer slipway-dev-sam' -H 'content-type: application/json' -d '{"decision":"approve"}' ${t.apiUrl}${t.ticketPath}
try push-as-engine sh -c 'cd /tmp && rm -rf x && git init -q x && cd x && git -c user.name=x -c user.email=x@x commit -q --allow-empty -m x && SLIPWAY_ENGINE_PUSH=$(cat ${t.token}) git push -q ${t.ownRemote} HEAD:refs/heads/production && echo pushed'
try write-identities sh -c 'printf "users:\\n  mallory: { roles: [admin], token_sha256: ${'0'.repeat(64)} }\\n" > ${t.home}/identities.yaml && echo written'
try signal-engine sh -c 'kill -0 ${t.enginePid} && echo "can signal ${t.enginePid}"'
setsid sleep ${t.marker} >/dev/null 2>&1 < /dev/null &
nohup sleep ${t.marker} >/dev/null 2>&1 &
echo "attempts made: $(wc -l < "$REPORT")"
`;
}

const sha = (file: string): string => (fs.existsSync(file) ? crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex') : 'absent');

function running(pattern: string): string {
  try {
    return execFileSync('pgrep', ['-af', pattern], { encoding: 'utf8' }).trim();
  } catch {
    return '';
  }
}

describe('a hostile tenant, against the real sandbox', function () {
  this.timeout(180_000);

  it('every escape fails, from the build, deploy and post-deploy hooks, and nothing of the engine or of another project changes', async function () {
    const w = await getWorld();
    const victim = await deployedProject('victim');
    const attacker = await deployedProject('attacker');
    const { layout, client } = attacker;
    const victimRelease = (await client.environmentStatus(victim.project, 'integration')).current!.release;
    const promotion = await client.promote(attacker.project, 'staging', 'alice');
    const targets: Targets = {
      home: layout.home,
      token: layout.hookTokenFile,
      temporalDb: fs.existsSync(layout.temporalDb) ? layout.temporalDb : path.join(layout.home, 'temporal.log'),
      otherRemote: victim.remote,
      ownRemote: attacker.remote,
      otherRelease: layout.release(victim.project, 'integration', victimRelease),
      otherMount: layout.mount(victim.project, 'integration', 'var'),
      temporalPort: w.address.split(':').pop()!,
      apiUrl: process.env.SLIPWAY_TEST_API_URL!,
      routerPort: String(w.routerPort),
      ticketPath: `/v1/projects/${attacker.project}/tickets/${promotion.ticket}/decision`,
      marker: `4${process.pid % 1000}3.75`,
      enginePid: enginePid(),
    };
    const before = {
      token: sha(layout.hookTokenFile),
      identities: sha(path.join(layout.home, 'identities.yaml')),
      victimRelease: snapshot(targets.otherRelease),
      victimMount: snapshot(targets.otherMount),
      victimPage: (await getPage(victim.project, 'integration')).body,
      production: execFileSync('git', ['--git-dir', attacker.remote, 'rev-parse', 'refs/heads/production'], { encoding: 'utf8' }).trim(),
    };

    const attack = (report: string): string => attackScript(targets, report);
    const app = minimalApp(
      { build: `${attack('pub/build-report.txt')}\necho '<html><title>attacker</title></html>' > pub/index.html`, deploy: attack('var/deploy-report.txt') },
      'mounts:\n  "var": "shared:files/var"\n',
    ).replace(/$/, `  post_deploy: |\n${attack('var/post-deploy-report.txt').split('\n').map((l) => `    ${l}`).join('\n')}\n`);
    const commit = await commitOnly(attacker.repo, { '.magento.app.yaml': app });
    await push(attacker.repo, 'integration');
    const d = await client.waitForDeployment(attacker.project, 'integration', { commit, after: attacker.first.deployment });
    assert.equal(d.status, 'succeeded', d.error);

    // Every attempt of every hook was made, and failed.
    const release = (await client.environmentStatus(attacker.project, 'integration')).current!.release;
    const reports = {
      build: path.join(layout.release(attacker.project, 'integration', release), 'pub', 'build-report.txt'),
      deploy: path.join(layout.mount(attacker.project, 'integration', 'var'), 'deploy-report.txt'),
      'post-deploy': path.join(layout.mount(attacker.project, 'integration', 'var'), 'post-deploy-report.txt'),
    };
    for (const [hook, file] of Object.entries(reports)) {
      const lines = fs.readFileSync(file, 'utf8').trim().split('\n');
      assert.deepEqual(lines, ATTEMPTS.map((a) => `blocked ${a}`), `${hook} hook: ${lines.filter((l) => !l.startsWith('blocked')).join('; ')}`);
      assert.ok(fs.statSync(file).uid >= 1000, `the ${hook} hook's report belongs to the project's own user, not root`);
    }

    // Nothing changed: the engine's secrets, the other project, the ticket, production.
    assert.equal(sha(layout.hookTokenFile), before.token, 'the hook token');
    assert.equal(sha(path.join(layout.home, 'identities.yaml')), before.identities, 'the identities file');
    assert.deepEqual(snapshot(targets.otherRelease), before.victimRelease, "the other project's live release");
    assert.deepEqual(snapshot(targets.otherMount), before.victimMount, "the other project's mount");
    assert.equal((await getPage(victim.project, 'integration')).body, before.victimPage);
    assert.equal((await getPage(victim.project, 'integration', '/pwned.html')).status, 404);
    const ticket = await client.ticket(attacker.project, promotion.ticket);
    assert.equal(ticket.status, 'open', 'the promotion ticket is still open');
    assert.deepEqual(ticket.approvals, [], 'and nobody approved it');
    assert.equal(
      execFileSync('git', ['--git-dir', attacker.remote, 'rev-parse', 'refs/heads/production'], { encoding: 'utf8' }).trim(),
      before.production,
      'production did not move',
    );
    assert.equal(running(`sleep ${targets.marker}`), '', 'no daemon a hook started is left running');
    await client.decide(attacker.project, promotion.ticket, { user: 'sam', decision: 'reject', comment: 'test over' });
  });
});
