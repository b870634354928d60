/**
 * The leak scanner of the variables tests (test/harness/leaks.ts): a secret is found in clear and
 * inside base64 text wherever it starts in the encoded bytes, by plain substring search.
 */
import { strict as assert } from 'node:assert';
import * as crypto from 'node:crypto';
import { leakIn, needlesOf } from '../harness/leaks';

describe('the leak scanner', function () {
  it('finds a secret in clear and inside base64 at every byte offset, and nothing where it is not', function () {
    for (let round = 0; round < 50; round++) {
      const secret = `s3cr3t-${crypto.randomBytes(6 + (round % 7)).toString('hex')}`;
      const needles = needlesOf([secret]);
      for (let before = 0; before < 6; before++) {
        const json = JSON.stringify({ pad: 'x'.repeat(before), KEY: secret, after: crypto.randomBytes(round % 5).toString('hex') });
        const encoded = Buffer.from(json).toString('base64');
        assert.ok(leakIn(`env[MAGENTO_CLOUD_VARIABLES] = "${encoded}"`, needles), `round ${round}, ${before} bytes before: not found in ${encoded}`);
        assert.ok(leakIn(`x ${json} y`, needles), 'in clear');
        const other = Buffer.from(json.replace(secret, `s3cr3t-${crypto.randomBytes(6 + (round % 7)).toString('hex')}`)).toString('base64');
        assert.equal(leakIn(other, needles), undefined, `round ${round}: another value taken for the secret`);
      }
    }
  });

  it('refuses a secret too short to be looked for inside base64', function () {
    assert.throws(() => needlesOf(['short']), /12 bytes at least/);
  });
});
