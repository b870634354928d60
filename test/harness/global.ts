/**
 * Mocha global fixtures: one Temporal dev server per test run, the workflow code bundled once,
 * one worker and one router, all on a temporary data directory. Test files reach them through
 * the environment variables set here (so they work in mocha's parallel mode too).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { hookToken, Layout, writeRuntimeInfo } from '../../src/home';
import { startApi, type RunningApi } from '../../src/api/server';
import { SlipwayClient } from '../../src/client';
import { loadIdentities } from '../../src/identities';
import { startDevServer, type RunningDevServer } from '../../src/temporal/dev-server';
import { startRouter, type RunningRouter } from '../../src/router/router';
import { startWorker, type RunningWorker } from '../../src/worker';
import { stopAllRuntimes } from '../../src/runtime/environment-runtime';

export const CONTINUE_AS_NEW_AFTER_EVENTS = 60;
let server: RunningDevServer | undefined;
let worker: RunningWorker | undefined;
let router: RunningRouter | undefined;
let home: string | undefined;
let api: RunningApi | undefined;
let apiClient: SlipwayClient | undefined;

export async function mochaGlobalSetup(): Promise<void> {
  try {
    await setUp();
  } catch (err) {
    // What did start (the dev server, the router's edge) is stopped: mocha runs no teardown then.
    await mochaGlobalTeardown().catch(() => undefined);
    throw err;
  }
}

async function setUp(): Promise<void> {
  const t0 = Date.now();
  home = fs.mkdtempSync(path.join(os.tmpdir(), 'slipway-test-'));
  const layout = new Layout(home);
  server = await startDevServer({
    ui: false,
    // Entity workflows are told to continue-as-new after a few dozen events instead of
    // thousands, so every test also exercises continue-as-new and the state it carries.
    dynamicConfig: { 'limit.historyCount.suggestContinueAsNew': CONTINUE_AS_NEW_AFTER_EVENTS },
    logFile: path.join(home, 'temporal.log'),
    locate: { progress: (m) => console.log(m) },
  });
  router = await startRouter({ layout, port: 0 });
  worker = await startWorker({ address: server.address, layout, routerPort: () => router?.port });
  apiClient = await SlipwayClient.connect({ layout, address: server.address });
  api = await startApi({ client: apiClient, hookToken: hookToken(layout), port: 0, identities: () => loadIdentities(layout) });
  // The remotes' git hooks find the server the way they do under `slipway up`.
  writeRuntimeInfo(layout, {
    temporalAddress: server.address,
    namespace: 'default',
    routerPort: router.port,
    apiUrl: api.url,
    pid: process.pid,
  });
  process.env.SLIPWAY_TEST_API_URL = api.url;
  // The process of the engine's worker, API and router: a test file may run in another (mocha's parallel mode).
  process.env.SLIPWAY_TEST_ENGINE_PID = String(process.pid);
  process.env.SLIPWAY_TEST_HOME = home;
  process.env.SLIPWAY_TEST_TEMPORAL_ADDRESS = server.address;
  process.env.SLIPWAY_TEST_ROUTER_PORT = String(router.port);
  console.log(`Test harness: Temporal ${server.address} (${server.source}), router :${router.port}, home ${home}, ready in ${Date.now() - t0} ms`);
}

export async function mochaGlobalTeardown(): Promise<void> {
  await api?.close();
  await apiClient?.close();
  await router?.close();
  await worker?.shutdown();
  // The environments' services and web servers outlive workers by design: stopped here.
  if (home) await stopAllRuntimes(new Layout(home));
  await server?.stop();
  if (home && !process.env.SLIPWAY_TEST_KEEP) fs.rmSync(home, { recursive: true, force: true });
}
