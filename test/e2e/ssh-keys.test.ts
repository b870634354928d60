/** SSH keys for staging and production go through a support ticket and count only once approved. */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runSlipway } from '../harness/processes';
import { createProject, getWorld, tempDir } from '../harness/world';

// Public keys only (made with ssh-keygen -t ed25519); their fingerprints as ssh-keygen -lf prints them.
const ALICE = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIESQJ6drwFnUD4hlHkcA35Os2MLg9mBTKDXMI5c3L8W3 alice@laptop';
const ALICE_FP = 'SHA256:XXzrYr4z3PLdEgNGvDlEuGXjeDarkzRgEILducjAHMM';
const BOB = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHTx2mJ1rGm0jY8p7l5jQ9sM1o6s3Xb6u3a4b5c6d7e8 bob@desk';

describe('SSH keys through tickets', function () {
  it('validates the key, records it only after approval, and lists it', async function () {
    const { client, layout } = await getWorld();
    const project = (await createProject('sshkeys')).project;
    const { ticket, fingerprint } = await client.requestSshKey(project, 'production', ALICE, 'alice');
    assert.equal(fingerprint, ALICE_FP);
    assert.deepEqual(await client.sshKeys(project, 'production'), [], 'not recorded before approval');
    await assert.rejects(client.requestSshKey(project, 'production', ALICE, 'alice'), new RegExp(`refused: the key ${ALICE_FP.replace(/[+/]/g, '\\$&')} waits for ${ticket} already`));

    await client.decide(project, ticket, { user: 'sam', decision: 'approve' });
    let keys = await client.sshKeys(project, 'production');
    for (let i = 0; i < 50 && keys.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 100));
      keys = await client.sshKeys(project, 'production');
    }
    assert.equal(keys.length, 1);
    assert.deepEqual([keys[0]!.fingerprint, keys[0]!.ticket, keys[0]!.approvedBy, keys[0]!.requester], [ALICE_FP, ticket, ['sam'], 'alice']);
    assert.deepEqual(await client.sshKeys(project, 'staging'), []);
    await assert.rejects(client.requestSshKey(project, 'production', ALICE, 'ada'), /refused: production has the key .* already/);
    for (let i = 0; i < 30 && !(await client.ticket(project, ticket)).outcome; i++) await new Promise((r) => setTimeout(r, 100));
    assert.equal((await client.ticket(project, ticket)).outcome, `key ${ALICE_FP} added to production`);

    // Rejected: never recorded.
    const keyFile = path.join(tempDir('key'), 'id.pub');
    fs.writeFileSync(keyFile, `${BOB}\n`);
    const env = { ...process.env, SLIPWAY_HOME: layout.home };
    const cli = await runSlipway(['env', 'ssh-keys', project, 'staging', '--add', keyFile, '--as', 'ada'], env);
    assert.equal(cli.code, 0, cli.stderr);
    const bobTicket = cli.stdout.trim();
    assert.match(bobTicket, /^SUP-\d+$/);
    assert.match(cli.stderr, /the key is added to staging once a support engineer approves/);
    await client.decide(project, bobTicket, { user: 'sue', decision: 'reject', comment: 'use the bastion' });
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual(await client.sshKeys(project, 'staging'), [], 'a rejected key is never recorded');
    const list = await runSlipway(['env', 'ssh-keys', project, 'production', '--json'], env);
    assert.equal(list.code, 0, list.stderr);
    assert.deepEqual((JSON.parse(list.stdout) as Array<{ fingerprint: string }>).map((k) => k.fingerprint), [ALICE_FP]);
    const noAs = await runSlipway(['env', 'ssh-keys', project, 'staging', '--add', keyFile], env);
    assert.equal(noAs.code, 2);
  });

  it('refuses what is not a public key, and environments other than staging and production', async function () {
    const { client } = await getWorld();
    const project = (await createProject('sshbad')).project;
    await assert.rejects(client.requestSshKey(project, 'staging', '-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n-----END OPENSSH PRIVATE KEY-----', 'alice'), /this is a private key: give the public one/);
    await assert.rejects(client.requestSshKey(project, 'staging', 'hello', 'alice'), /not an OpenSSH public key/);
    await assert.rejects(client.requestSshKey(project, 'staging', 'ssh-dss AAAAB3NzaC1kc3M= old', 'alice'), /unsupported key type "ssh-dss"/);
    await assert.rejects(client.requestSshKey(project, 'staging', 'ssh-ed25519 not*base64', 'alice'), /not base64/);
    await assert.rejects(client.requestSshKey(project, 'integration', ALICE, 'alice'), /refused: SSH keys go through a ticket for staging and production only/);
    await assert.rejects(client.requestSshKey(project, 'staging', ALICE, 'mallory'), /refused: unknown user "mallory"/);
  });
});
