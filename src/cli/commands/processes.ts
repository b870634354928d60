/**
 * The long-running processes: `up` (the whole embedded stack), `worker`, `api` and `router`
 * (each alone, as the production-like setup runs them).
 */
import { DEFAULT_SLUGS_KEPT } from '../../domain/slug-pruning';
import * as path from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { SlipwayError } from '../../errors';
import { Layout } from '../../home';
import { InvalidArgumentError, type Command } from 'commander';
import { port, type Cli } from '../context';
import { untilStopped } from '../output';

/** The engine's setting read from its environment, in the help of the commands that run it. */
const SLUGS_KEPT_HELP = `\nEnvironment:\n  SLIPWAY_SLUGS_KEPT  slugs kept per environment beside those a release uses (default ${DEFAULT_SLUGS_KEPT}); the others are pruned`;

export function registerProcessCommands({ program, layout, withClient }: Cli): void {
  program
    .command('up')
    .description("start the embedded stack: Temporal dev server (with Web UI), worker and router; Ctrl-C stops it (the environments' processes keep running: `slipway down`)")
    .option('--port <port>', 'Temporal gRPC port (0: any free port; the one taken is printed)', port, 7233)
    .option('--ui-port <port>', 'Temporal Web UI port (0: any free port)', port, 8233)
    .option('--router-port <port>', 'HTTP port of the router (0: any free port)', port, 8080)
    .option('--api-port <port>', 'HTTP port of the API (0: any free port)', port, 8081)
    .option('--ssh-port <port>', 'port of the SSH gateway (0: none)', port, 2222)
    .addHelpText('after', `\nExamples:\n  SLIPWAY_HOME=~/slipway slipway up --router-port 8080\n  slipway up --port 0 --ui-port 0 --router-port 0 --api-port 0 --ssh-port 0   # free ports, printed\n${SLUGS_KEPT_HELP}`)
    .action(async (opts: { port: number; uiPort: number; routerPort: number; apiPort: number; sshPort: number }) => {
      const l = layout();
      // Loaded here, not at the top: a `slipway worker` process does not need the API server.
      const { checkPortsFree, startStack } = await import('../../stack');
      const external = process.env.TEMPORAL_ADDRESS;
      await checkPortsFree([
        ...(external ? [] : [{ port: opts.port, option: '--port' }, { port: opts.uiPort, option: '--ui-port' }]),
        { port: opts.routerPort, option: '--router-port' },
        { port: opts.apiPort, option: '--api-port' },
        { port: opts.sshPort, option: '--ssh-port' },
      ]);
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
    .option('--variables-from <dir>', "the engine's data directory as mounted on this host (read-only is enough), when this host's data directory is elsewhere: the projects' variables and their key are read there")
    .option('--router-port <port>', 'also serve this host\'s environments on this port (for warm-up and health checks)', port)
    .option('--registry <dir>', "a directory shared with the front routers (`slipway router --front`): this host's router is advertised there (needs --router-port)")
    .option('--advertise <url>', "the URL the front routers reach this host's router at (default http://127.0.0.1:<router port>)")
    .addHelpText(
      'after',
      `\nExamples:\n  TEMPORAL_ADDRESS=temporal:7233 slipway worker --host web1\n  slipway --home /data/web2 worker --host web2 --no-engine --slugs /shared/slugs --logs /shared/logs --variables-from /engine --router-port 8080\n` +
        `  slipway --home /data/web3 worker --host web3 --no-engine --slugs /shared/slugs --logs /shared/logs --router-port 8080 --registry /shared/registry --advertise http://10.0.0.3:8080\n${SLUGS_KEPT_HELP}`,
    )
    .action(async (opts: { host: string; engine: boolean; slugs?: string; logs?: string; variablesFrom?: string; routerPort?: number; registry?: string; advertise?: string }) => {
      if (!/^[a-z0-9][a-z0-9-]{0,62}$/.test(opts.host)) throw new SlipwayError('--host must be a lowercase name', 2);
      if (opts.registry !== undefined && opts.routerPort === undefined) throw new SlipwayError('--registry needs --router-port: it advertises this host\'s router', 2);
      if (opts.advertise !== undefined && opts.registry === undefined) throw new SlipwayError('--advertise needs --registry: the directory it is advertised in', 2);
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
        opts.variablesFrom ? path.resolve(opts.variablesFrom) : undefined,
      );
      const { resolveTemporalAddress } = await import('../../client');
      const { startWorker } = await import('../../worker');
      const { startRouter } = await import('../../router/router');
      const address = resolveTemporalAddress(l);
      await prepareTemporal(l, address);
      const router = opts.routerPort === undefined ? undefined : await startRouter({ layout: l, port: opts.routerPort });
      const worker = await startWorker({
        address,
        layout: l,
        host: opts.host,
        engine: opts.engine,
        routerPort: () => router?.port,
      });
      let advertised: string | undefined;
      if (opts.registry !== undefined && router) {
        const { advertiseHost, advertisementSchema } = await import('../../router/front');
        const ad = advertisementSchema.safeParse({ host: opts.host, router: opts.advertise ?? `http://127.0.0.1:${router.port}` });
        if (!ad.success) throw new SlipwayError(`--advertise ${opts.advertise ?? ''}: ${ad.error.issues.map((i) => i.message).join('; ')}`, 2);
        advertised = advertiseHost(path.resolve(opts.registry), ad.data);
      }
      console.log(
        `Worker for host ${opts.host}${opts.engine ? ' and the engine' : ''} is running (data in ${l.home}${router ? `, router :${router.port}` : ''}${advertised ? `, advertised in ${advertised}` : ''}).`,
      );
      await untilStopped(worker.done);
      await router?.close();
      await worker.shutdown().catch(() => undefined);
    });

  program
    .command('setup')
    .description(
      "prepare a Temporal server that Slipway did not start (TEMPORAL_ADDRESS) once: check that its namespace exists and register Slipway's search attributes; " +
        'idempotent (every worker and API does the same when it starts), and records the address in the data directory for the remotes\' hooks',
    )
    .addHelpText('after', '\nExamples:\n  TEMPORAL_ADDRESS=temporal:7233 slipway --home /data setup\n  docker compose run --rm worker setup')
    .action(async () => {
      const l = layout();
      const { resolveTemporalAddress } = await import('../../client');
      const { ensureSearchAttributes } = await import('../../temporal/search-attributes');
      const { hookToken, protectControlPlane, recordTemporalAddress } = await import('../../home');
      const { SEARCH_ATTRIBUTES } = await import('../../domain/search-attributes');
      const address = resolveTemporalAddress(l);
      const added = await ensureSearchAttributes(address);
      recordTemporalAddress(l, address);
      hookToken(l);
      protectControlPlane(l);
      const all = Object.keys(SEARCH_ATTRIBUTES);
      console.log(`Temporal at ${address}: namespace default exists`);
      console.log(
        added.length > 0
          ? `Search attributes registered: ${added.join(', ')}${added.length < all.length ? ` (the others were there already)` : ''}`
          : `Search attributes: all ${all.length} were registered already (${all.join(', ')})`,
      );
      console.log(`Data directory ${l.home} ready (hook token, Temporal address). Setup done.`);
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

  listening(program, 'api', 'run the HTTP API alone (the production-like setup runs it beside workers and routers): the platform API, the web interface and the Git remotes over HTTP', 8081, [
    'TEMPORAL_ADDRESS=temporal:7233 slipway --home /data api --port 8081 --listen 0.0.0.0 --advertise http://api:8081',
    'git clone -b integration http://alice:$SLIPWAY_TOKEN@api:8081/git/shop.git',
  ])
    .option('--advertise <url>', "the URL the remotes' git hooks reach this API at, also shown as the projects' HTTP remotes (default http://<--listen>:<port>, 127.0.0.1 when listening on every address)")
    .action(async (opts: { port: number; listen: string; advertise?: string }) => {
      const l = layout();
      const advertised = opts.advertise === undefined ? undefined : advertiseUrl(opts.advertise);
      const { startApi } = await import('../../api/server');
      const { hookToken, writeRuntimeInfo, removeRuntimeInfo } = await import('../../home');
      const { resolveTemporalAddress } = await import('../../client');
      const address = resolveTemporalAddress(l);
      await prepareTemporal(l, address);
      await withClient(async (client) => {
        const { loadIdentities } = await import('../../identities');
        const api = await startApi({ client, hookToken: hookToken(l), port: opts.port, host: opts.listen, identities: () => loadIdentities(l) });
        const apiUrl = advertised ?? defaultAdvertised(opts.listen, api.port);
        // What `slipway up` writes: the remotes' hooks post pushes to apiUrl.
        writeRuntimeInfo(l, { temporalAddress: address, namespace: 'default', apiUrl, pid: process.pid });
        try {
          console.log(`API on ${api.url} (advertised to the remotes' hooks as ${apiUrl}; Git over HTTP at ${apiUrl}/git/<project>.git)`);
          await untilStopped();
        } finally {
          removeRuntimeInfo(l, process.pid);
          await api.close();
        }
      });
    });

  listening(
    program,
    'router',
    "run the router alone (nginx on the port, the router behind it): serves this data directory's environments by host name; with --front, the router in front of the hosts' routers instead",
    8080,
    'slipway --home /data router --port 8080 --listen 0.0.0.0\n  slipway router --front --registry /shared/registry --port 80 --listen 0.0.0.0',
  )
    .option('--front', "send each request to a healthy host that serves its environment (hosts advertised in --registry by `slipway worker --registry`); a GET or HEAD whose host fails before answering goes to another", false)
    .option('--registry <dir>', 'with --front: the directory the hosts advertise their routers in')
    .option('--check-every <ms>', 'with --front: how often each host is health-checked (100 to 60000)', milliseconds, 500)
    .action(async (opts: { port: number; listen: string; front: boolean; registry?: string; checkEvery: number }) => {
      if (opts.front) {
        if (opts.registry === undefined) throw new SlipwayError('--front needs --registry <dir>: where the hosts advertise their routers', 2);
        const { startFrontRouter } = await import('../../router/front');
        const front = await startFrontRouter({
          registry: path.resolve(opts.registry),
          port: opts.port,
          host: opts.listen,
          checkEveryMs: opts.checkEvery,
          log: (line) => console.log(line),
        });
        const hosts = front.hosts();
        console.log(`Front router on :${front.port} for ${hosts.length} host(s)${hosts.length ? `: ${hosts.map((h) => `${h.host}${h.healthy ? '' : ' (out)'}`).join(', ')}` : ''}`);
        await untilStopped();
        await front.close();
        return;
      }
      if (opts.registry !== undefined) throw new SlipwayError('--registry is for --front', 2);
      const { startRouter } = await import('../../router/router');
      const router = await startRouter({ layout: layout(), port: opts.port, host: opts.listen });
      console.log(`Router on :${router.port}: http://<environment>.<project>.localhost:${router.port}/`);
      await untilStopped();
      await router.close();
    });
}

function milliseconds(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 100 || n > 60_000) throw new InvalidArgumentError('must be milliseconds, 100 to 60000');
  return n;
}

/** A command that runs a server on its own: --port and --listen, and examples. */
function listening(program: Command, name: string, description: string, defaultPort: number, example: string | string[]): Command {
  const examples = typeof example === 'string' ? [example] : example;
  return program
    .command(name)
    .description(description)
    .option('--port <port>', 'HTTP port', port, defaultPort)
    .option('--listen <address>', 'address to listen on', '127.0.0.1')
    .addHelpText('after', `\n${examples.length > 1 ? 'Examples' : 'Example'}:\n${examples.map((e) => `  ${e}`).join('\n')}`);
}

/**
 * What a process that talks to a Temporal server needs of it before it starts: the namespace,
 * Slipway's search attributes (registered if missing; several processes may race for it), and
 * the address recorded for the remotes' hooks and the CLI of this data directory.
 */
async function prepareTemporal(l: Layout, address: string): Promise<void> {
  const { ensureSearchAttributes } = await import('../../temporal/search-attributes');
  const { recordTemporalAddress } = await import('../../home');
  const added = await ensureSearchAttributes(address);
  if (added.length > 0) console.log(`Temporal at ${address}: registered search attributes ${added.join(', ')}`);
  recordTemporalAddress(l, address);
}

/** --advertise: an http(s) URL without path, query or fragment (a trailing slash is dropped). */
export function advertiseUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new SlipwayError(`--advertise ${JSON.stringify(value)}: not a URL (e.g. http://api.example:8081)`, 2);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new SlipwayError(`--advertise ${value}: must be an http:// or https:// URL`, 2);
  if (url.username || url.password || url.search || url.hash || (url.pathname !== '/' && url.pathname !== '')) {
    throw new SlipwayError(`--advertise ${value}: give the API's base URL only (scheme, host, port), with no path, credentials, query or fragment`, 2);
  }
  return `${url.protocol}//${url.host}`;
}

/** The API's URL as the hooks on this host reach it: the listen address, loopback for a wildcard. */
export function defaultAdvertised(listen: string, actualPort: number): string {
  const host = listen === '0.0.0.0' || listen === '::' || listen === '' ? '127.0.0.1' : listen;
  return `http://${host.includes(':') ? `[${host}]` : host}:${actualPort}`;
}
