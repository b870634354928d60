/**
 * The dev server cannot be given port 0 and say which port it took, so Slipway chooses free
 * ports and hands them over; another process can bind one in between (it happened in a full
 * run: `slipway up --port 0` exited with "bind: address already in use"). A port Slipway chose
 * is then replaced and the server started again; a port the caller gave is not, and the error
 * names the cause before the panic that follows it.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { Connection } from '@temporalio/client';
import { freePort, startDevServer } from '../../src/temporal/dev-server';
import { tempDir } from '../harness/world';

describe('the dev server on ports Slipway chooses', function () {
  let busy: net.Server;
  let taken = 0;
  before(async function () {
    busy = net.createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    taken = (busy.address() as net.AddressInfo).port;
  });
  after(function () {
    busy.close();
  });

  it('starts on another port when one it chose is taken before the server binds it', async function () {
    const log = path.join(tempDir('devserver-ports'), 'temporal.log');
    const chosen: number[] = [];
    const server = await startDevServer({
      ui: false,
      logFile: log,
      choosePort: async () => {
        const port = chosen.length === 0 ? taken : await freePort();
        chosen.push(port);
        return port;
      },
    });
    try {
      assert.equal(chosen[0], taken);
      assert.equal(chosen.length, 2);
      assert.equal(server.address, `127.0.0.1:${chosen[1]}`);
      assert.match(fs.readFileSync(log, 'utf8'), new RegExp(`127\\.0\\.0\\.1:${taken}: bind: address already in use`));
      const conn = await Connection.connect({ address: server.address });
      try {
        await conn.workflowService.describeNamespace({ namespace: 'default' });
      } finally {
        await conn.close();
      }
    } finally {
      await server.stop();
    }
  });

  it('does not replace a port it was given: the error names the port in use first', async function () {
    const log = path.join(tempDir('devserver-ports'), 'temporal.log');
    await assert.rejects(
      startDevServer({ ui: false, port: taken, logFile: log }),
      new RegExp(`^Error: the Temporal dev server exited \\(\\d+\\) while starting:\\n.*127\\.0\\.0\\.1:${taken}: bind: address already in use`),
    );
  });
});
