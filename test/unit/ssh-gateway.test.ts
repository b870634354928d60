/** The SSH gateway's generated files and its key registry, without sshd (test/e2e/ssh-gateway.test.ts runs the real one). */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Layout } from '../../src/home';
import { parseIdentities } from '../../src/identities';
import { parsePublicKey } from '../../src/ssh-keys';
import { allowedKeys, authorizedKeysFor, type KeyRegistry } from '../../src/ssh-gateway/authorized-keys';
import { authorizedKeyLine, loginUsers, passwdFile, sshdConfig, wrapperScript } from '../../src/ssh-gateway/config';

const ALICE = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIESQJ6drwFnUD4hlHkcA35Os2MLg9mBTKDXMI5c3L8W3 alice@laptop';
const ALICE_FP = 'SHA256:XXzrYr4z3PLdEgNGvDlEuGXjeDarkzRgEILducjAHMM';
const BOB = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHTx2mJ1rGm0jY8p7l5jQ9sM1o6s3Xb6u3a4b5c6d7e8 bob@desk';

describe('SSH gateway: generated files', function () {
  it('makes one uid-0 login user per environment, leaving ambiguous names out', function () {
    const users = loginUsers([
      { project: 'shop', environment: 'integration' },
      { project: 'a-b', environment: 'c' },
      { project: 'a', environment: 'b-c' },
      { project: '../x', environment: 'integration' },
      { project: 'shop', environment: 'x;id' },
    ]);
    assert.deepEqual([...users.keys()], ['shop-integration']);
    const passwd = passwdFile('root:x:0:0:root:/root:/bin/bash\nalice:x:1000:1000::/home/alice:/bin/bash\nsshd:x:106:65534::/run/sshd:/usr/sbin/nologin\n', users.keys());
    assert.equal(passwd, 'root:x:0:0:root:/root:/bin/bash\nsshd:x:106:65534::/run/sshd:/usr/sbin/nologin\nshop-integration:*:0:0:slipway ssh gateway:/:/bin/sh\n');
  });

  it("writes an sshd configuration with keys from the command only, forced commands only, no forwarding, no subsystem", function () {
    const conf = sshdConfig({ listenHost: '127.0.0.1', port: 2222, hostKey: '/d/ssh-gateway/key', pidFile: '/d/run/sshd.pid', wrapper: '/d/run/slipway-ssh' });
    for (const line of [
      'ListenAddress 127.0.0.1:2222',
      'AuthorizedKeysFile none',
      'AuthorizedKeysCommand /bin/sh /d/run/slipway-ssh ssh-authorized-keys %u %f',
      'PermitRootLogin forced-commands-only',
      'PasswordAuthentication no',
      'DisableForwarding yes',
      'PermitTunnel no',
      'PermitUserEnvironment no',
      'UsePAM no',
    ]) {
      assert.ok(conf.split('\n').includes(line), line);
    }
    assert.doesNotMatch(conf, /Subsystem|AcceptEnv/);
    assert.throws(() => sshdConfig({ listenHost: '::1', port: 1, hostKey: '/d/a b', pidFile: '/p', wrapper: '/w' }), /not a path/);
  });

  it('prints each key with restrict and its forced command, and refuses what it cannot print safely', function () {
    const key = parsePublicKey(ALICE);
    assert.equal(
      authorizedKeyLine('/d/run/slipway-ssh', 'shop', 'integration', { key, person: 'alice' }),
      `restrict,pty,command="/bin/sh /d/run/slipway-ssh ssh-session shop integration alice ${ALICE_FP}" ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIESQJ6drwFnUD4hlHkcA35Os2MLg9mBTKDXMI5c3L8W3`,
    );
    assert.throws(() => authorizedKeyLine('/d/run/slipway-ssh', 'shop', 'integration', { key, person: 'a" b' }), /refusing/);
    assert.throws(() => authorizedKeyLine('/d/"x', 'shop', 'integration', { key, person: 'alice' }), /refusing/);
  });

  it("quotes the wrapper's values for sh", function () {
    const text = wrapperScript('/usr/bin/node', '/x/main.js', { TEMPORAL_API_KEY: "a'b $c" });
    assert.match(text, /^export TEMPORAL_API_KEY='a'\\''b \$c'$/m);
    assert.match(text, /^exec '\/usr\/bin\/node' '\/x\/main.js' "\$@"$/m);
  });
});

describe('SSH gateway: who opens what', function () {
  const identities = parseIdentities(
    {
      users: {
        alice: { projects: { shop: ['developer'] }, ssh_keys: [ALICE] },
        bob: { projects: { blog: ['developer'] }, ssh_keys: [BOB] },
        sam: { projects: { '*': ['support'] }, ssh_keys: [BOB] },
        ada: { admin: true },
      },
    },
    'identities.yaml',
  );
  const registry: KeyRegistry = {
    identities: () => identities,
    approvedKeys: (project, environment) =>
      Promise.resolve(
        project === 'shop' && environment === 'production'
          ? [{ environment, type: 'ssh-ed25519', key: BOB, comment: '', fingerprint: parsePublicKey(BOB).fingerprint, requester: 'bob', ticket: 'SUP-1', approvedBy: ['sam'], addedAt: 0 }]
          : [],
      ),
  };

  it("opens integration environments to the project's developers and admins, staging and production to approved keys", async function () {
    const who = async (p: string, e: string): Promise<string[]> => (await allowedKeys(registry, p, e)).map((a) => `${a.person} ${a.key.fingerprint}`);
    assert.deepEqual(await who('shop', 'integration'), [`alice ${ALICE_FP}`]);
    assert.deepEqual(await who('shop', 'sprint-3'), [`alice ${ALICE_FP}`]);
    assert.deepEqual(await who('blog', 'integration'), [`bob ${parsePublicKey(BOB).fingerprint}`]);
    assert.deepEqual(await who('shop', 'production'), [`bob ${parsePublicKey(BOB).fingerprint}`]);
    assert.deepEqual(await who('shop', 'staging'), []);
    assert.deepEqual(await who('shop', 'master'), []);
  });

  it('answers only for environments of the data directory', async function () {
    const home = fs.mkdtempSync(path.join(os.tmpdir(), 'slipway-sshgw-'));
    fs.mkdirSync(path.join(home, 'envs', 'shop', 'integration'), { recursive: true });
    const layout = new Layout(home);
    const ok = await authorizedKeysFor(layout, registry, 'shop-integration', ALICE_FP);
    assert.equal(ok.lines.length, 1);
    assert.deepEqual((await authorizedKeysFor(layout, registry, 'shop-integration', parsePublicKey(BOB).fingerprint)).lines, []);
    for (const user of ['root', '../x', 'shop-integration;id', 'shop-staging', 'blog-integration']) {
      const r = await authorizedKeysFor(layout, registry, user, ALICE_FP);
      assert.deepEqual(r.lines, [], user);
      assert.ok(r.why, user);
    }
    fs.rmSync(home, { recursive: true, force: true });
  });

  it('names the user and the index of a bad key in identities.yaml', function () {
    assert.throws(
      () => parseIdentities({ users: { alice: { projects: { shop: ['developer'] }, ssh_keys: [ALICE, 'ssh-ed25519 not*base64'] } } }, 'identities.yaml'),
      /users\.alice\.ssh_keys\.1: the key data is not base64/,
    );
    assert.throws(() => parseIdentities({ users: { alice: { admin: true, ssh_keys: 'x' } } }, 'identities.yaml'), /users\.alice\.ssh_keys: must be a list/);
  });
});
