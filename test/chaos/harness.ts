/**
 * The fault-injection harness: a Temporal dev server on a SQLite file (so it can be restarted
 * with its state), the router and the API in this process, and the worker in a child process
 * that a test can kill with SIGKILL and start again. One stack per test file.
 */
import * as fs from 'node:fs';
import { stopAllRuntimes } from '../../src/runtime/environment-runtime';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { startApi, type RunningApi } from '../../src/api/server';
import { SlipwayClient } from '../../src/client';
import { hookToken, Layout, writeRuntimeInfo } from '../../src/home';
import { loadIdentities } from '../../src/identities';
import { startRouter, type RunningRouter } from '../../src/router/router';
import { freePort, startDevServer, type RunningDevServer } from '../../src/temporal/dev-server';
import { workflowBundle } from '../../src/temporal/workflow-bundle';

let bundlePath: Promise<string> | undefined;

/** The workflow code as a file every worker process loads: the prebuilt bundle, or one made here once. */
function workflowBundleFile(): Promise<string> {
  bundlePath ??= (async () => {
    const bundle = await workflowBundle();
    if ('codePath' in bundle) return bundle.codePath;
    if (!('code' in bundle)) throw new Error('unexpected workflow bundle');
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'slipway-bundle-')), 'workflows.js');
    fs.writeFileSync(file, bundle.code);
    return file;
  })();
  return bundlePath;
}

export interface ChaosStack {
  layout: Layout;
  client: SlipwayClient;
  address: string;
  routerPort: number;
  /** Environment for `slipway` commands run against this stack. */
  cliEnv: NodeJS.ProcessEnv;
  worker: WorkerProcess;
  /** Stops the dev server and starts it again on the same port and SQLite file. */
  restartServer(downMs?: number): Promise<void>;
  stop(): Promise<void>;
}

export interface WorkerProcess {
  pid(): number | undefined;
  start(): Promise<void>;
  /** SIGKILL: no shutdown, no cleanup, activities in flight are lost with it. */
  kill9(): Promise<void>;
  stop(): Promise<void>;
  starts: number;
}

function workerProcess(env: NodeJS.ProcessEnv, logFile: string): WorkerProcess {
  let child: ChildProcess | undefined;
  let exited: Promise<void> | undefined;
  const script = path.join(__dirname, 'worker-process.js');
  const w: WorkerProcess = {
    starts: 0,
    pid: () => child?.pid,
    async start() {
      const out = fs.openSync(logFile, 'a');
      const c = spawn(process.execPath, [script], { env, stdio: ['ignore', 'pipe', out] });
      fs.closeSync(out);
      child = c;
      w.starts++;
      exited = new Promise((resolve) => c.once('exit', () => resolve()));
      await new Promise<void>((resolve, reject) => {
        let text = '';
        c.stdout!.on('data', (d: Buffer) => {
          text += d.toString();
          fs.appendFileSync(logFile, d);
          if (/running/.test(text)) resolve();
        });
        c.once('exit', (code) => reject(new Error(`worker exited (${code}) before it ran; see ${logFile}`)));
      });
    },
    async kill9() {
      if (!child || child.exitCode !== null) return;
      child.kill('SIGKILL');
      await exited;
    },
    async stop() {
      if (!child || child.exitCode !== null) return;
      child.kill('SIGTERM');
      const t = setTimeout(() => child?.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(t);
    },
  };
  return w;
}

export async function startChaosStack(name: string): Promise<ChaosStack> {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), `slipway-chaos-${name}-`));
  const layout = new Layout(home);
  const port = await freePort();
  const dbFile = path.join(home, 'temporal.db');
  const serverOptions = { ui: false, port, dbFile, logFile: path.join(home, 'temporal.log'), locate: { progress: (m: string) => console.log(m) } };
  let server: RunningDevServer = await startDevServer(serverOptions);
  const router: RunningRouter = await startRouter({ layout, port: 0 });
  const client = await SlipwayClient.connect({ layout, address: server.address });
  const api: RunningApi = await startApi({ client, hookToken: hookToken(layout), port: 0, identities: () => loadIdentities(layout) });
  writeRuntimeInfo(layout, { temporalAddress: server.address, namespace: 'default', routerPort: router.port, apiUrl: api.url, pid: process.pid });
  const cliEnv: NodeJS.ProcessEnv = { ...process.env, SLIPWAY_HOME: home };
  delete cliEnv.TEMPORAL_ADDRESS;
  const worker = workerProcess(
    {
      ...cliEnv,
      SLIPWAY_CHAOS_ADDRESS: server.address,
      SLIPWAY_CHAOS_BUNDLE: await workflowBundleFile(),
      SLIPWAY_CHAOS_ROUTER_PORT: String(router.port),
    },
    path.join(home, 'worker.log'),
  );
  await worker.start();
  return {
    layout,
    client,
    address: server.address,
    routerPort: router.port,
    cliEnv,
    worker,
    async restartServer(downMs = 1000) {
      await server.stop();
      await new Promise((r) => setTimeout(r, downMs));
      server = await startDevServer(serverOptions);
    },
    async stop() {
      await worker.stop();
      await api.close();
      await client.close();
      await router.close();
      await server.stop();
      // The environments' processes outlive workers by design: stopped with the data directory.
      await stopAllRuntimes(new Layout(home));
      if (!process.env.SLIPWAY_TEST_KEEP) fs.rmSync(home, { recursive: true, force: true });
    },
  };
}

/** A small seeded random generator (mulberry32), so a failing run can be repeated. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
