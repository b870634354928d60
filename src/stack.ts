/**
 * The embedded stack of `slipway up` and `slipway demo`: a Temporal dev server as a child
 * process (unless TEMPORAL_ADDRESS names one), the worker, the router, the API and the SSH
 * gateway (sshd, a child), in one process.
 */
import * as fs from 'node:fs';
import { startApi, type RunningApi } from './api/server';
import { SlipwayClient } from './client';
import { SlipwayError } from './errors';
import { loadIdentities } from './identities';
import { hookToken, Layout, removeRuntimeInfo, writeRuntimeInfo } from './home';
import { portTaken, startDevServer, type RunningDevServer } from './temporal/dev-server';
import { ensureSearchAttributes } from './temporal/search-attributes';
import { startRouter, type RunningRouter } from './router/router';
import { startSshGateway, type RunningSshGateway } from './ssh-gateway/gateway';
import { startWorker, type RunningWorker } from './worker';

export interface StackOptions {
  layout: Layout;
  /** Connect to this server instead of starting one (TEMPORAL_ADDRESS). */
  temporalAddress?: string;
  temporalPort?: number;
  uiPort?: number;
  routerPort: number;
  apiPort: number;
  /** The SSH gateway's port (0 or absent: no gateway). */
  sshPort?: number;
  /** Keep Temporal's state in memory instead of the data directory's SQLite file. */
  ephemeral?: boolean;
  log?: (line: string) => void;
}

export interface RunningStack {
  temporalAddress: string;
  uiUrl?: string;
  router: RunningRouter;
  api: RunningApi;
  server?: RunningDevServer;
  worker: RunningWorker;
  sshGateway?: RunningSshGateway;
  stop(): Promise<void>;
}

/**
 * Refuses, in one line each, ports that something else holds, before anything starts (0: a
 * free one is chosen later, nothing to check).
 */
export async function checkPortsFree(ports: { port: number; option: string }[]): Promise<void> {
  for (const { port, option } of ports) {
    if (port !== 0 && (await portTaken(port))) {
      throw new SlipwayError(`port ${port} (${option}) is in use: stop what listens there, or choose another port (${option} 0: any free port)`);
    }
  }
}

export async function startStack(options: StackOptions): Promise<RunningStack> {
  const { layout } = options;
  const log = options.log ?? (() => {});
  fs.mkdirSync(layout.home, { recursive: true });
  let server: RunningDevServer | undefined;
  let worker: RunningWorker | undefined;
  let router: RunningRouter | undefined;
  let api: RunningApi | undefined;
  let client: SlipwayClient | undefined;
  let sshGateway: RunningSshGateway | undefined;

  const stop = async (): Promise<void> => {
    removeRuntimeInfo(layout, process.pid);
    // Before Temporal: its sessions record their end in their environment's history.
    await sshGateway?.close();
    await api?.close();
    await client?.close();
    await router?.close();
    await worker?.shutdown().catch(() => {});
    await server?.stop();
  };

  try {
    let address = options.temporalAddress;
    if (address) {
      log(`Temporal: using the server at ${address} (TEMPORAL_ADDRESS); no server started`);
      const added = await ensureSearchAttributes(address);
      if (added.length > 0) log(`Temporal: registered search attributes ${added.join(', ')}`);
    } else {
      server = await startDevServer({
        dbFile: options.ephemeral ? undefined : layout.temporalDb,
        port: options.temporalPort,
        uiPort: options.uiPort,
        logFile: `${layout.home}/temporal.log`,
        locate: { progress: log },
      });
      address = server.address;
      log(`Temporal: dev server at ${address} (${server.source}), Web UI ${server.uiUrl ?? 'off'}`);
    }
    router = await startRouter({ layout, port: options.routerPort });
    log(`Router: http://<environment>.<project>.localhost:${router.port}/`);
    worker = await startWorker({ address, layout, routerPort: () => router?.port });
    log('Worker: running the engine and host "local"');
    client = await SlipwayClient.connect({ layout, address });
    api = await startApi({ client, hookToken: hookToken(layout), port: options.apiPort, identities: () => loadIdentities(layout) });
    log(`API: ${api.url} (OpenAPI at ${api.url}/openapi.json)`);
    log(`Web interface: ${api.url}/ui (sign in with an API token, e.g. slipway-dev-alice)`);
    if (options.sshPort) {
      sshGateway = await startSshGateway({ layout, port: options.sshPort, temporalAddress: address }).catch((err: unknown) => {
        throw new SlipwayError(`${err instanceof Error ? err.message : String(err)} (another port: --ssh-port <port>; no SSH gateway: --ssh-port 0)`);
      });
      log(`SSH gateway on :${sshGateway.port}: ssh -p ${sshGateway.port} <project>-<environment>@localhost`);
    }
    writeRuntimeInfo(layout, {
      temporalAddress: address,
      namespace: 'default',
      uiUrl: server?.uiUrl,
      apiUrl: api.url,
      routerPort: router.port,
      pid: process.pid,
    });
    return { temporalAddress: address, uiUrl: server?.uiUrl, router, api, server, worker, sshGateway, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
