/** The control plane's secrets are the engine user's only; the data directory can be crossed (by the sandboxes' users) but not listed. */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { hookToken, Layout, protectControlPlane } from '../../src/home';
import { tempDir } from '../harness/world';

const mode = (p: string): number => fs.statSync(p).mode & 0o777;

describe('the control plane on disk', function () {
  it('makes the hook token, identities and Temporal database 0600 and the data directory 0711, whatever made them', function () {
    const layout = new Layout(path.join(tempDir('control'), 'home'));
    fs.mkdirSync(layout.home, { mode: 0o755 });
    hookToken(layout);
    for (const f of [path.join(layout.home, 'identities.yaml'), layout.temporalDb, `${layout.temporalDb}-wal`]) fs.writeFileSync(f, 'x', { mode: 0o644 });
    fs.chmodSync(layout.hookTokenFile, 0o644);
    protectControlPlane(layout);
    for (const f of [layout.hookTokenFile, layout.hookAuthFile, path.join(layout.home, 'identities.yaml'), layout.temporalDb, `${layout.temporalDb}-wal`]) {
      assert.equal(mode(f).toString(8), '600', f);
    }
    assert.equal(mode(layout.home).toString(8), '711', 'searchable, not listable');
    protectControlPlane(layout);
    assert.equal(mode(layout.home).toString(8), '711', 'idempotent');
  });
});
