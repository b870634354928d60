/** Where the Temporal server of the production-like suite is looked for, and the error when it cannot be built. */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { locateTemporalServer, serverToolsDir, TemporalServerNotFoundError } from '../../src/temporal/server-build';
import { tempDir } from '../harness/world';

function fakeTools(dir: string, options: { schema?: boolean } = {}): string {
  fs.mkdirSync(dir, { recursive: true });
  for (const name of ['server', 'sql']) fs.writeFileSync(path.join(dir, name), '#!/bin/sh\necho fake\n', { mode: 0o755 });
  if (options.schema !== false) fs.mkdirSync(path.join(dir, 'schema', 'postgresql', 'v12', 'temporal', 'versioned'), { recursive: true });
  return path.join(dir, 'server');
}

describe('locating the Temporal server (production-like suite)', function () {
  it('takes SLIPWAY_TEMPORAL_SERVER first, with the schema tool beside it', async function () {
    const named = fakeTools(tempDir('named'));
    const tools = tempDir('tools');
    fakeTools(serverToolsDir(tools));
    const found = await locateTemporalServer({ env: { SLIPWAY_TEMPORAL_SERVER: named, PATH: '' }, toolsDir: tools, allowBuild: false });
    assert.equal(found.server, named);
    assert.equal(found.sqlTool, path.join(path.dirname(named), 'sql'));
    assert.equal(found.source, '$SLIPWAY_TEMPORAL_SERVER');
  });

  it('refuses a SLIPWAY_TEMPORAL_SERVER that is not an executable, naming it', async function () {
    await assert.rejects(
      locateTemporalServer({ env: { SLIPWAY_TEMPORAL_SERVER: '/nonexistent/server', PATH: '' }, allowBuild: false }),
      (e: unknown) => e instanceof TemporalServerNotFoundError && /SLIPWAY_TEMPORAL_SERVER=\/nonexistent\/server: not an executable file/.test(e.message),
    );
  });

  it('then the tools directory', async function () {
    const tools = tempDir('tools');
    const server = fakeTools(serverToolsDir(tools));
    const found = await locateTemporalServer({ env: { PATH: '' }, toolsDir: tools, allowBuild: false });
    assert.equal(found.server, server);
    assert.equal(found.postgresSchema, path.join(path.dirname(server), 'schema', 'postgresql', 'v12'));
  });

  it('names the ways out when the server is not built and may not be built here', async function () {
    const tools = tempDir('tools');
    await assert.rejects(
      locateTemporalServer({ env: { PATH: tempDir('empty-path') }, toolsDir: tools, allowBuild: false }),
      (e: unknown) =>
        e instanceof TemporalServerNotFoundError &&
        /Cannot find or build the Temporal server 1\.25\.2: .*not built/.test(e.message) &&
        /set SLIPWAY_TEMPORAL_SERVER/.test(e.message) &&
        /install Go/.test(e.message),
    );
  });
});
