/** How Slipway's processes authenticate to a Temporal server of one's own: mTLS files and an API key, from the Temporal CLI's variables. */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { temporalConnectionOptions } from '../../src/temporal/connection-options';
import { tempDir } from '../harness/world';

describe('Temporal connection options', function () {
  const dir = tempDir('tls');
  const file = (name: string, text: string): string => {
    const f = path.join(dir, name);
    fs.writeFileSync(f, text, { mode: 0o600 });
    return f;
  };

  it('plain gRPC when nothing is set (the dev server on loopback)', function () {
    assert.deepEqual(temporalConnectionOptions({}), {});
  });

  it('mTLS from TEMPORAL_TLS_CERT/KEY/CA/SERVER_NAME, and the authorizer token from TEMPORAL_API_KEY', function () {
    const o = temporalConnectionOptions({
      TEMPORAL_TLS_CERT: file('c.crt', 'CERT'),
      TEMPORAL_TLS_KEY: file('c.key', 'KEY'),
      TEMPORAL_TLS_CA: file('ca.crt', 'CA'),
      TEMPORAL_TLS_SERVER_NAME: 'temporal.internal',
      TEMPORAL_API_KEY: 'jwt',
    });
    assert.equal(o.tls?.clientCertPair?.crt.toString(), 'CERT');
    assert.equal(o.tls?.clientCertPair?.key.toString(), 'KEY');
    assert.equal(o.tls?.serverRootCACertificate?.toString(), 'CA');
    assert.equal(o.tls?.serverNameOverride, 'temporal.internal');
    assert.equal(o.apiKey, 'jwt');
  });

  it('refuses half a client certificate and unreadable files, naming the variable', function () {
    assert.throws(() => temporalConnectionOptions({ TEMPORAL_TLS_CERT: file('only.crt', 'CERT') }), /TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY go together/);
    assert.throws(() => temporalConnectionOptions({ TEMPORAL_TLS_CA: path.join(dir, 'missing.crt') }), /TEMPORAL_TLS_CA=.*missing\.crt: cannot read it \(ENOENT\)/);
  });
});
