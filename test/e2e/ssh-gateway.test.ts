/**
 * The SSH gateway (issue 17, item 5) with the real OpenSSH: sshd started by Slipway, the real
 * `ssh` client, keys from identities.yaml and from approved tickets, sessions in the
 * environment's sandbox and recorded in its workflow's history, revocation.
 */
import { strict as assert } from 'node:assert';
import { spawn, execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as YAML from 'yaml';
import { workflowIds } from '../../src/domain/names';
import type { SshSessionEvent } from '../../src/domain/environment';
import { PACKAGE_ROOT } from '../../src/home';
import { freePort } from '../../src/temporal/dev-server';
import { sandboxIdentity } from '../../src/sandbox/identity';
import { allowedKeys } from '../../src/ssh-gateway/authorized-keys';
import { startSshGateway, type RunningSshGateway } from '../../src/ssh-gateway/gateway';
import { gatewayCgroupName, gatewayRunDir } from '../../src/ssh-gateway/paths';
import { closeSshSessions, openSessions } from '../../src/ssh-gateway/session';
import { loadIdentitiesFile } from '../../src/identities';
import { SandboxCgroup } from '../../src/sandbox/cgroup';
import { deployedProject, getWorld, tempDir } from '../harness/world';

interface Key {
  file: string;
  pub: string;
  fingerprint: string;
}

function makeKey(dir: string, name: string): Key {
  const file = path.join(dir, name);
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', `${name}@test`, '-f', file]);
  const pub = fs.readFileSync(`${file}.pub`, 'utf8').trim();
  const fingerprint = execFileSync('ssh-keygen', ['-lf', `${file}.pub`], { encoding: 'utf8' }).split(' ')[1]!;
  return { file, pub, fingerprint };
}

interface SshResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

function ssh(port: number, key: Key, user: string, command?: string, extra: string[] = [], input?: string): { done: Promise<SshResult> } {
  const args = [
    '-p', String(port), '-i', key.file,
    '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'BatchMode=yes', '-o', 'IdentitiesOnly=yes', '-o', 'LogLevel=ERROR',
    ...extra, `${user}@127.0.0.1`, ...(command !== undefined ? [command] : []),
  ];
  const child = spawn('ssh', args, { stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'], env: { ...process.env, TERM: 'xterm' } });
  if (input !== undefined) child.stdin!.end(input);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  return { done: new Promise((resolve) => child.once('close', (code) => resolve({ code, stdout, stderr }))) };
}

const run = (port: number, key: Key, user: string, command?: string, extra: string[] = []): Promise<SshResult> => ssh(port, key, user, command, extra).done;

async function sessionEvents(project: string, environment: string): Promise<SshSessionEvent[]> {
  const { client } = await getWorld();
  const events: SshSessionEvent[] = [];
  // Every run of the environment's workflow: it continues as new (after 60 events in the tests).
  const id = workflowIds.environment(project, environment);
  // The list is eventually consistent: the newest run (just continued as new) may be missing from it.
  const runs = new Set([(await client.temporal.workflow.getHandle(id).describe()).runId]);
  for await (const wf of client.temporal.workflow.list({ query: `WorkflowId = "${id}"` })) runs.add(wf.runId);
  for (const runId of runs) {
    const history = await client.temporal.workflow.getHandle(id, runId).fetchHistory();
    for (const e of history.events ?? []) {
      const s = e.workflowExecutionSignaledEventAttributes;
      if (s?.signalName !== 'sshSession') continue;
      const data = s.input?.payloads?.[0]?.data;
      if (data) events.push(JSON.parse(Buffer.from(data).toString('utf8')) as SshSessionEvent);
    }
  }
  return events.sort((a, b) => a.at - b.at);
}

describe('SSH gateway', function () {
  this.timeout(180_000);
  let gateway: RunningSshGateway | undefined;

  after(async function () {
    await gateway?.close();
  });

  it('opens integration to its developers, in the sandbox, records sessions, refuses the rest, and closes revoked keys', async function () {
    const t0 = Date.now();
    const { layout, address, client } = await getWorld();
    // With its services: the session is in the environment's network namespace, where they listen.
    const p = await deployedProject('ssh', {}, { services: true });
    const project = p.project;
    const user = `${project}-integration`;
    // A variable set by a user (runtime only: redeployed, no build): the session sees it.
    const greeting = await client.setEnvironmentVariable(project, 'integration', { name: 'env:SSH_GREETING', value: 'hello from a variable', build: false, by: 'alice' });
    assert.ok(greeting.applied && greeting.deployment !== undefined, JSON.stringify(greeting));
    assert.equal((await client.waitForDeployment(project, 'integration', { after: greeting.deployment - 1 })).status, 'succeeded');
    const dir = tempDir('ssh');
    const dev = makeKey(dir, 'dev');
    const other = makeKey(dir, 'other');
    const prod = makeKey(dir, 'prod');

    // The sample users, plus a developer of this project and one of another project, with keys.
    const identities = YAML.parse(fs.readFileSync(path.join(PACKAGE_ROOT, 'examples', 'identities.yaml'), 'utf8')) as { users: Record<string, unknown> };
    identities.users.dev = { projects: { [project]: ['developer'] }, ssh_keys: [dev.pub] };
    identities.users.other = { projects: { 'another-project': ['developer'] }, ssh_keys: [other.pub] };
    const identitiesFile = path.join(dir, 'identities.yaml');
    fs.writeFileSync(identitiesFile, YAML.stringify(identities));
    assert.equal(loadIdentitiesFile(identitiesFile).sshKeys.get('dev')?.[0]?.fingerprint, dev.fingerprint);

    const port = await freePort('127.0.0.1');
    gateway = await startSshGateway({ layout, port, temporalAddress: address, identitiesFile });

    // A command, without a tty: in the live release, as the project's uid, with the environment's variables.
    const uid = sandboxIdentity(layout, project).uid;
    const marker = `slipway-ssh-marker-${process.pid}`;
    const live = fs.readlinkSync(layout.current(project, 'integration'));
    const r = await run(
      port,
      dev,
      user,
      `php -r 'echo getenv("MAGENTO_CLOUD_ENVIRONMENT"), "\\n";'; id -u; pwd; ls /releases; cat /etc/shadow 2>/dev/null || echo no-shadow; tty || true; touch /tmp/${marker}; echo $(echo sub)shell; echo "$SSH_GREETING"`,
    );
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split('\n'), ['integration', String(uid), '/app', path.basename(live), 'no-shadow', 'not a tty', 'subshell', 'hello from a variable']);
    assert.ok(!fs.existsSync(`/tmp/${marker}`), 'the command ran in the sandbox, not on the host');
    const db = await run(
      port,
      dev,
      user,
      `php -r '$r = json_decode(base64_decode(getenv("MAGENTO_CLOUD_RELATIONSHIPS")), true); echo $r["database"][0]["host"], ":", $r["database"][0]["port"], "\n";'; (echo > /dev/tcp/127.0.0.1/3306) 2>/dev/null && echo reachable; touch /app/x 2>/dev/null || echo read-only; touch /app/var/from-ssh && echo mount-writable`,
    );
    assert.equal(db.code, 0, db.stderr);
    assert.deepEqual(db.stdout.trim().split('\n'), ['127.0.0.1:3306', 'reachable', 'read-only', 'mount-writable']);

    // An exit status comes back; a pty when asked for.
    assert.equal((await run(port, dev, user, 'exit 7')).code, 7);
    const t = await run(port, dev, user, 'tty; echo $TERM', ['-tt']);
    assert.equal(t.code, 0, t.stderr);
    // bubblewrap shows the session's pty as the sandbox's /dev/console.
    assert.match(t.stdout, /^\/dev\/(pts\/\d+|console)\r?\nxterm\r?\n/);
    // No command: an interactive shell on the pty, with job control.
    const shell = await ssh(port, dev, user, undefined, ['-tt'], 'echo interactive-$((40+2)) $PWD\nexit 3\n').done;
    assert.equal(shell.code, 3, shell.stdout + shell.stderr);
    assert.match(shell.stdout, /interactive-42 \/app/);
    assert.doesNotMatch(shell.stdout + shell.stderr, /no job control|cannot set terminal process group/);

    // Refused: another project's developer, unknown or hostile users, forwarding, a subsystem.
    const refused = (res: SshResult, what: string): void => {
      assert.equal(res.code, 255, `${what}: ${res.stdout} ${res.stderr}`);
    };
    refused(await run(port, other, user, 'id'), "another project's developer");
    for (const u of ['root', 'sshd', '../x', `${user};id`, `${project}-nope`, `${project}-staging`]) refused(await run(port, dev, u, 'id'), u);
    refused(await run(port, dev, user, 'true', ['-o', 'ExitOnForwardFailure=yes', '-R', '0:127.0.0.1:22']), 'a remote forwarding');
    const sftp = await run(port, dev, user, 'sftp', ['-s']);
    assert.notEqual(sftp.code, 0, 'no subsystem');

    // A key approved for production opens production, not integration nor staging.
    const { ticket } = await client.requestSshKey(project, 'production', prod.pub, 'alice');
    await client.decide(project, ticket, { user: 'sam', decision: 'approve' });
    for (let i = 0; i < 50 && (await client.sshKeys(project, 'production')).length === 0; i++) await new Promise((res) => setTimeout(res, 100));
    const registry = { identities: () => loadIdentitiesFile(identitiesFile), approvedKeys: (pr: string, e: string) => client.sshKeys(pr, e) };
    assert.deepEqual((await allowedKeys(registry, project, 'production')).map((a) => [a.person, a.key.fingerprint]), [['alice', prod.fingerprint]]);
    assert.deepEqual(await allowedKeys(registry, project, 'staging'), []);
    assert.deepEqual((await allowedKeys(registry, project, 'integration')).map((a) => a.person), ['dev']);
    refused(await run(port, prod, user, 'id'), 'a production key on integration');

    // Sessions recorded in the environment's history: start and end, with person and key.
    const events = await sessionEvents(project, 'integration');
    const starts = events.filter((e) => e.event === 'start');
    const ends = events.filter((e) => e.event === 'end');
    assert.equal(starts.length, 5);
    assert.ok(events.every((e) => e.user === 'dev' && e.fingerprint === dev.fingerprint));
    assert.deepEqual(ends.map((e) => [e.command, e.exitCode]).slice(2), [['exit 7', 7], ['tty; echo $TERM', 0], ['shell', 3]]);

    // closeSshSessions ends an open session at once.
    const long = ssh(port, dev, user, 'sleep 60');
    for (let i = 0; i < 100 && openSessions(layout).length === 0; i++) await new Promise((res) => setTimeout(res, 100));
    assert.equal(openSessions(layout).length, 1);
    assert.equal(await closeSshSessions(layout, { project, environment: 'integration', fingerprint: other.fingerprint }), 0);
    const closing = Date.now();
    assert.equal(await closeSshSessions(layout, { project, environment: 'integration', fingerprint: dev.fingerprint }), 1);
    const ended = await long.done;
    assert.ok(Date.now() - closing < 5000, `closed in ${Date.now() - closing} ms`);
    assert.notEqual(ended.code, 0);
    assert.deepEqual(openSessions(layout), []);
    const last = (await sessionEvents(project, 'integration')).slice(-1)[0]!;
    assert.equal(last.event, 'end', `${ended.stderr} ${JSON.stringify(await sessionEvents(project, 'integration'))}`);
    assert.equal(last.command, 'sleep 60');

    // A client that vanishes (no pty, so no hangup): its session ends with sshd's process for it.
    const vanishing = spawn('ssh', ['-p', String(port), '-i', dev.file, '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'BatchMode=yes', '-o', 'LogLevel=ERROR', `${user}@127.0.0.1`, 'sleep 60'], { stdio: 'ignore' });
    for (let i = 0; i < 100 && openSessions(layout).length === 0; i++) await new Promise((res) => setTimeout(res, 100));
    assert.equal(openSessions(layout).length, 1);
    vanishing.kill('SIGKILL');
    for (let i = 0; i < 100 && openSessions(layout).length > 0; i++) await new Promise((res) => setTimeout(res, 100));
    assert.deepEqual(openSessions(layout), [], 'the session of a vanished client ended');

    // The key removed from identities: refused at the next login.
    identities.users.dev = { projects: { [project]: ['developer'] } };
    fs.writeFileSync(identitiesFile, YAML.stringify(identities));
    refused(await run(port, dev, user, 'id'), 'a removed key');

    // Stopped: sshd and everything it forked are gone.
    const pid = Number(fs.readFileSync(path.join(gatewayRunDir(layout), 'sshd.pid'), 'utf8'));
    await gateway.close();
    gateway = undefined;
    assert.throws(() => process.kill(pid, 0));
    assert.ok(!SandboxCgroup.named(gatewayCgroupName(layout))?.exists());
    console.log(`      (ssh gateway test: ${Date.now() - t0} ms)`);
  });

  it('opens production to a key approved by its ticket, and nothing else to it', async function () {
    const t0 = Date.now();
    const { layout, address, client } = await getWorld();
    const p = await deployedProject('sshprod');
    const project = p.project;
    for (const target of ['staging', 'production']) {
      const { ticket, workflowId } = await client.promote(project, target, 'alice');
      await client.decide(project, ticket, { user: 'sam', decision: 'approve' });
      assert.equal((await client.waitForPromotion(workflowId)).status, 'deployed');
    }
    const dir = tempDir('sshprod');
    const prod = makeKey(dir, 'prod');
    const { ticket } = await client.requestSshKey(project, 'production', prod.pub, 'alice');
    await client.decide(project, ticket, { user: 'sue', decision: 'approve' });
    for (let i = 0; i < 50 && (await client.sshKeys(project, 'production')).length === 0; i++) await new Promise((res) => setTimeout(res, 100));

    // A developer of the project, whose key opens integration, never approved for production.
    const dev = makeKey(dir, 'dev');
    const identities = YAML.parse(fs.readFileSync(path.join(PACKAGE_ROOT, 'examples', 'identities.yaml'), 'utf8')) as { users: Record<string, unknown> };
    identities.users.dev = { projects: { [project]: ['developer'] }, ssh_keys: [dev.pub] };
    const identitiesFile = path.join(dir, 'identities.yaml');
    fs.writeFileSync(identitiesFile, YAML.stringify(identities));

    const port = await freePort('127.0.0.1');
    gateway = await startSshGateway({ layout, port, temporalAddress: address, identitiesFile });
    // The command, exactly: MAGENTO_CLOUD_ENVIRONMENT holds the environment's name.
    const exact = await run(port, prod, `${project}-production`, 'php -r "echo getenv(\\"MAGENTO_CLOUD_ENVIRONMENT\\");"');
    assert.equal(exact.code, 0, exact.stderr);
    assert.equal(exact.stdout, 'production');
    const r = await run(port, prod, `${project}-production`, 'php -r "echo getenv(\\"MAGENTO_CLOUD_ENVIRONMENT\\"), PHP_EOL;"; id -u');
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split('\n'), ['production', String(sandboxIdentity(layout, project).uid)]);
    for (const env of ['staging', 'integration']) assert.equal((await run(port, prod, `${project}-${env}`, 'id')).code, 255, env);
    // The developer's key: integration opens, production refuses it, and nothing runs there.
    assert.equal((await run(port, dev, `${project}-integration`, 'true')).code, 0, 'the key itself works');
    const varMount = layout.mount(project, 'production', 'var');
    const denied = await run(port, dev, `${project}-production`, 'touch /app/var/developer-was-here; echo ran');
    assert.equal(denied.code, 255, `${denied.stdout} ${denied.stderr}`);
    assert.equal(denied.stdout, '');
    assert.ok(!fs.existsSync(path.join(varMount, 'developer-was-here')), 'nothing ran in production');
    const events = await sessionEvents(project, 'production');
    assert.deepEqual(events.map((e) => [e.event, e.user, e.fingerprint]), [['start', 'alice', prod.fingerprint], ['end', 'alice', prod.fingerprint], ['start', 'alice', prod.fingerprint], ['end', 'alice', prod.fingerprint]]);

    // Revoked through its ticket (env ssh-keys --remove): the open session ends within seconds
    // of the approval, and the key opens nothing any more.
    const open = ssh(port, prod, `${project}-production`, 'sleep 60');
    for (let i = 0; i < 100 && openSessions(layout).length === 0; i++) await new Promise((res) => setTimeout(res, 100));
    assert.equal(openSessions(layout).length, 1);
    const removal = await client.requestSshKeyRemoval(project, 'production', prod.fingerprint, 'alice');
    assert.match((await client.ticket(project, removal.ticket)).title, new RegExp(`^Remove SSH key ${prod.fingerprint.replace(/[+/]/g, '\\$&')} \\(.+\\) from production$`));
    assert.equal((await client.sshKeys(project, 'production')).length, 1, 'kept until approved');
    await client.decide(project, removal.ticket, { user: 'sue', decision: 'approve' });
    const approvedAt = Date.now();
    const ended = await open.done;
    assert.notEqual(ended.code, 0, 'the session was ended');
    assert.ok(Date.now() - approvedAt < 10_000, `ended ${Date.now() - approvedAt} ms after the approval`);
    assert.deepEqual(await client.sshKeys(project, 'production'), []);
    assert.equal((await run(port, prod, `${project}-production`, 'id')).code, 255, 'a removed key opens nothing');
    await assert.rejects(client.requestSshKeyRemoval(project, 'production', prod.fingerprint, 'alice'), /refused: production has no key/);
    await gateway.close();
    gateway = undefined;
    console.log(`      (ssh gateway production test: ${Date.now() - t0} ms)`);
  });
});
