/**
 * The stack the benchmark measures, as `slipway up` runs it but with the worker in a process
 * of its own (so its memory can be read): a Temporal dev server on a SQLite file, `slipway
 * worker --router-port` as a child process (the engine, host "local" and the router that
 * serves the environments, warm-up and health checks included), and the HTTP API in this
 * process for the remotes' git hooks. Everything lives in a temporary SLIPWAY_HOME.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { startApi, type RunningApi } from '../../src/api/server';
import { SlipwayClient } from '../../src/client';
import { hookToken, Layout, PACKAGE_ROOT, writeRuntimeInfo } from '../../src/home';
import { loadIdentities } from '../../src/identities';
import { freePort, startDevServer, type RunningDevServer } from '../../src/temporal/dev-server';
import { ACTIVITY_TIMINGS_ENV } from '../../src/activities/lib/timings';
import { stopAllRuntimes } from '../../src/runtime/environment-runtime';
import { setActivityTimingsFile } from './history';

export const SLIPWAY_BIN = path.join(PACKAGE_ROOT, 'bin', 'slipway.js');

export interface BenchStack {
  home: string;
  /** The worker's activity timings (bench/lib/history reads them). */
  timingsFile: string;
  layout: Layout;
  client: SlipwayClient;
  temporalAddress: string;
  temporalSource: string;
  routerPort: number;
  workerPid: number;
  stop(): Promise<void>;
}

function waitForLine(child: ChildProcess, pattern: RegExp, output: () => string, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`worker not ready in ${timeoutMs} ms:\n${output()}`)), timeoutMs);
    const check = (): void => {
      if (pattern.test(output())) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout?.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`worker exited (${code}) before it was ready:\n${output()}`));
    });
  });
}

/** A Temporal server started elsewhere (the cluster scenario's), stopped with the stack. */
export interface ExternalTemporal {
  address: string;
  source: string;
  stop(): Promise<void>;
}

export interface BenchStackOptions {
  ephemeral?: boolean;
  /** Run on this server instead of starting a dev server. */
  temporal?: ExternalTemporal;
  /** The worker's activity timings go to this file (default: one in the stack's home). */
  timingsFile?: string;
}

export async function startBenchStack(log: (line: string) => void, options: BenchStackOptions = {}): Promise<BenchStack> {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'slipway-bench-'));
  const layout = new Layout(home);
  const server: RunningDevServer | ExternalTemporal =
    options.temporal ??
    (await startDevServer({
      // `slipway up` keeps Temporal's state in a SQLite file: so does the benchmark, unless told.
      dbFile: options.ephemeral ? undefined : layout.temporalDb,
      ui: false,
      logFile: path.join(home, 'temporal.log'),
      locate: { progress: log },
    }));
  let worker: ChildProcess | undefined;
  let api: RunningApi | undefined;
  let client: SlipwayClient | undefined;
  const stop = async (): Promise<void> => {
    await api?.close();
    await client?.close();
    if (worker && worker.exitCode === null && worker.signalCode === null) {
      const exited = new Promise((r) => worker!.once('exit', r));
      worker.kill('SIGTERM');
      const timer = setTimeout(() => worker!.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    }
    // The environments' processes (services, nginx, PHP-FPM) outlive workers by design: once the
    // worker (and its supervisor, which would restart them) is gone, they are stopped.
    await stopAllRuntimes(layout).catch((err: unknown) => log(`stack: could not stop the environments' processes: ${err instanceof Error ? err.message : String(err)}`));
    await server.stop();
    if (!process.env.SLIPWAY_BENCH_KEEP) fs.rmSync(home, { recursive: true, force: true });
  };
  try {
    const routerPort = await freePort();
    const timingsFile = options.timingsFile ?? path.join(home, 'activity-timings.jsonl');
    let out = '';
    worker = spawn(process.execPath, [SLIPWAY_BIN, '--home', home, 'worker', '--router-port', String(routerPort)], {
      env: { ...process.env, TEMPORAL_ADDRESS: server.address, SLIPWAY_HOME: home, [ACTIVITY_TIMINGS_ENV]: timingsFile },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const collect = (c: Buffer): void => {
      out = (out + c.toString('utf8')).slice(-20_000);
    };
    worker.stdout!.on('data', collect);
    worker.stderr!.on('data', collect);
    await waitForLine(worker, /is running/, () => out, 120_000);
    setActivityTimingsFile(timingsFile);
    client = await SlipwayClient.connect({ layout, address: server.address });
    api = await startApi({ client, hookToken: hookToken(layout), port: 0, identities: () => loadIdentities(layout) });
    // The remotes' post-receive hooks post to this API, as under `slipway up`.
    writeRuntimeInfo(layout, { temporalAddress: server.address, namespace: 'default', apiUrl: api.url, routerPort, pid: process.pid });
    log(`stack: Temporal ${server.address} (${server.source}), worker pid ${worker.pid} with router :${routerPort}, API ${api.url}, home ${home}`);
    return {
      home,
      timingsFile,
      layout,
      client,
      temporalAddress: server.address,
      temporalSource: server.source,
      routerPort,
      workerPid: worker.pid!,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
