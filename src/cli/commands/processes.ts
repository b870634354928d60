/**
 * The long-running processes: `up` (the whole embedded stack), `worker`, `api` and `router`
 * (each alone, as the production-like setup runs them).
 */
import { DEFAULT_SLUGS_KEPT } from '../../domain/slug-pruning';
import * as path from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { SlipwayError } from '../../errors';
import { Layout } from '../../home';
import type { Command } from 'commander';
import { port, type Cli } from '../context';
import { untilStopped } from '../output';

/** The engine's setting read from its environment, in the help of the commands that run it. */
const SLUGS_KEPT_HELP = `\nEnvironment:\n  SLIPWAY_SLUGS_KEPT  slugs kept per environment beside those a release uses (default ${DEFAULT_SLUGS_KEPT}); the others are pruned`;

export function registerProcessCommands({ program, layout, withClient }: Cli): void {
  program
    .command('up')
    .description("start the embedded stack: Temporal dev server (with Web UI), worker and router; Ctrl-C stops it (the environments' processes keep running: `slipway down`)")
    .option('--port <port>', 'Temporal gRPC port', port, 7233)
    .option('--ui-port <port>', 'Temporal Web UI port', port, 8233)
    .option('--router-port <port>', 'HTTP port of the router', port, 8080)
    .option('--api-port <port>', 'HTTP port of the API', port, 8081)
    .option('--ssh-port <port>', 'port of the SSH gateway (0: none)', port, 2222)
    .addHelpText('after', `\nExample:\n  SLIPWAY_HOME=~/slipway slipway up --router-port 8080\n${SLUGS_KEPT_HELP}`)
    .action(async (opts: { port: number; uiPort: number; routerPort: number; apiPort: number; sshPort: number }) => {
      const l = layout();
      // Loaded here, not at the top: a `slipway worker` process does not need the API server.
      const { startStack } = await import('../../stack');
      const stack = await startStack({
        layout: l,
        temporalAddress: process.env.TEMPORAL_ADDRESS,
        temporalPort: opts.port,
        uiPort: opts.uiPort,
        routerPort: opts.routerPort,
        apiPort: opts.apiPort,
        sshPort: opts.sshPort,
        log: (line) => console.log(line),
      });
      console.log(`Slipway is up (data in ${l.home}). Press Ctrl-C to stop.`);
      const signal = await untilStopped(stack.worker.done);
      console.log(`${signal}: stopping…`);
      await stack.stop();
      console.log('Stopped.');
    });

  program
    .command('worker')
    .description("run a worker: the engine's workflows and build activities, and the deploy activities of one host")
    .option('--host <name>', 'the host whose environments this worker deploys', 'local')
    .option('--no-engine', 'deploy activities only (a web host), no workflows or builds')
    .option('--slugs <dir>', "the engine's slug store, when this host's data directory is elsewhere")
    .option('--logs <dir>', "the engine's log store (its data directory's logs/), when this host's data directory is elsewhere: this host's steps are written there, each line labelled with the host, so `env log` shows them")
    .option('--router-port <port>', 'also serve this host\'s environments on this port (for warm-up and health checks)', port)
    .addHelpText('after', `\nExamples:\n  TEMPORAL_ADDRESS=temporal:7233 slipway worker --host web1\n  slipway --home /data/web2 worker --host web2 --no-engine --slugs /shared/slugs --logs /shared/logs --router-port 8080\n${SLUGS_KEPT_HELP}`)
    .action(async (opts: { host: string; engine: boolean; slugs?: string; logs?: string; routerPort?: number }) => {
      if (!/^[a-z0-9][a-z0-9-]{0,62}$/.test(opts.host)) throw new SlipwayError('--host must be a lowercase name', 2);
      // A long-lived process with two V8 heaps (this one and the workflow sandbox's thread,
      // started below, which takes the flag at its creation): V8's memory-saving mode (smaller
      // young generation, tighter old-generation growth) cut its peak RSS with 50 deployments at
      // once from ~430 to ~325 MB, at the same throughput (bench scale). Set here rather than on
      // the command line so every way of starting `slipway worker` gets it.
      setFlagsFromString('--optimize-for-size');
      const l = new Layout(
        layout().home,
        opts.slugs ? path.resolve(opts.slugs) : undefined,
        opts.logs ? { logsDir: path.resolve(opts.logs), host: opts.host } : undefined,
      );
      const { resolveTemporalAddress } = await import('../../client');
      const { startWorker } = await import('../../worker');
      const { startRouter } = await import('../../router/router');
      const router = opts.routerPort === undefined ? undefined : await startRouter({ layout: l, port: opts.routerPort });
      const worker = await startWorker({
        address: resolveTemporalAddress(l),
        layout: l,
        host: opts.host,
        engine: opts.engine,
        routerPort: () => router?.port,
      });
      console.log(`Worker for host ${opts.host}${opts.engine ? ' and the engine' : ''} is running (data in ${l.home}${router ? `, router :${router.port}` : ''}).`);
      await untilStopped(worker.done);
      await router?.close();
      await worker.shutdown().catch(() => undefined);
    });

  program
    .command('down')
    .description("stop every environment's processes in this data directory (web servers, PHP, services); data is kept, and the next worker starts them again")
    .addHelpText('after', '\nExample:\n  SLIPWAY_HOME=~/slipway slipway down')
    .action(async () => {
      const { stopAllRuntimes } = await import('../../runtime/environment-runtime');
      const n = await stopAllRuntimes(layout());
      console.log(`${n} process group(s) stopped; the environments' data is kept.`);
    });

  listening(program, 'api', 'run the HTTP API alone (the production-like setup runs it beside workers and routers)', 8081, 'TEMPORAL_ADDRESS=temporal:7233 slipway --home /data api --port 8081 --listen 0.0.0.0')
    .action(async (opts: { port: number; listen: string }) => {
      const l = layout();
      const { startApi } = await import('../../api/server');
      const { hookToken } = await import('../../home');
      await withClient(async (client) => {
        const { loadIdentities } = await import('../../identities');
        const api = await startApi({ client, hookToken: hookToken(l), port: opts.port, host: opts.listen, identities: () => loadIdentities(l) });
        console.log(`API on ${api.url}`);
        await untilStopped();
        await api.close();
      });
    });

  listening(program, 'router', "run the router alone (nginx on the port, the router behind it): serves this data directory's environments by host name", 8080, 'slipway --home /data router --port 8080 --listen 0.0.0.0')
    .action(async (opts: { port: number; listen: string }) => {
      const { startRouter } = await import('../../router/router');
      const router = await startRouter({ layout: layout(), port: opts.port, host: opts.listen });
      console.log(`Router on :${router.port}: http://<environment>.<project>.localhost:${router.port}/`);
      await untilStopped();
      await router.close();
    });
}

/** A command that runs a server on its own: --port and --listen, and an example. */
function listening(program: Command, name: string, description: string, defaultPort: number, example: string): Command {
  return program
    .command(name)
    .description(description)
    .option('--port <port>', 'HTTP port', port, defaultPort)
    .option('--listen <address>', 'address to listen on', '127.0.0.1')
    .addHelpText('after', `\nExample:\n  ${example}`);
}
