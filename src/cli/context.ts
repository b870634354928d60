/**
 * What every command group of the `slipway` command line shares: the program (with its global
 * `--home` option), the data directory it names, the engine (through the API when
 * SLIPWAY_API_URL is set, else on the engine host through Temporal), the port argument.
 */
import { Command, InvalidArgumentError } from 'commander';
import { SlipwayClient } from '../client';
import { SlipwayError } from '../errors';
import { Layout, resolveHome } from '../home';
import { apiFromEnvironment, onEngineHost, throughApi, type Engine } from './engine';

export interface Cli {
  program: Command;
  /** The data directory: --home, else $SLIPWAY_HOME, else ./.slipway. */
  layout: () => Layout;
  /**
   * Runs `fn` with a client connected to Temporal, closed afterwards: for the commands that
   * need the engine host. Refused when SLIPWAY_API_URL is set.
   */
  /** Throws unless the CLI is on the engine host (no SLIPWAY_API_URL). */
  engineHostOnly: () => void;
  withClient: <T>(fn: (c: SlipwayClient) => Promise<T>) => Promise<T>;
  /**
   * Runs `fn` with the engine: through the API as the token's user when SLIPWAY_API_URL is set
   * (`as` refused), else on the engine host as `as`. `asNeeded` names what needs a user, so that
   * a missing --as is reported before anything is done.
   */
  withEngine: <T>(fn: (e: Engine) => Promise<T>, who?: { as?: string; asNeeded?: string }) => Promise<T>;
}

export function createCli(): Cli {
  const program = new Command();
  program
    .name('slipway')
    .description('Develop-and-deploy engine for Magento-style cloud projects, on Temporal.')
    .option('--home <dir>', 'data directory (default $SLIPWAY_HOME or ./.slipway)')
    .exitOverride()
    .showHelpAfterError()
    .addHelpText(
      'after',
      '\nRemote engine: set SLIPWAY_API_URL (the engine\'s API, e.g. http://engine:8081) and SLIPWAY_TOKEN (your API token);\n' +
        'commands then act through the API as the token\'s user, with that user\'s roles per project, and --as is refused.\n' +
        'Without SLIPWAY_API_URL, commands talk to Temporal on the engine host, where --as names who asks or decides.\n' +
        'Git remotes over HTTP: <API>/git/<project>.git (e.g. git clone http://you:$SLIPWAY_TOKEN@engine:8081/git/shop.git), your API token as the password.',
    );

  /** The command being run ("env ssh-keys"), for messages. */
  let running = '';
  program.hook('preAction', (_top, action) => {
    const names: string[] = [];
    for (let c: Command | null = action; c && c !== program; c = c.parent) names.unshift(c.name());
    running = names.join(' ');
  });

  const layout = (): Layout => new Layout(resolveHome(program.opts<{ home?: string }>().home));

  /** Refuses a command that acts on the engine directly when the CLI talks to a remote engine. */
  function engineHostOnly(): void {
    if (process.env.SLIPWAY_API_URL) {
      throw new SlipwayError(
        `\`slipway ${running}\` runs only on the engine host (it acts on the engine directly; the API has no route for it): run it there, without SLIPWAY_API_URL`,
        2,
      );
    }
  }

  async function withClient<T>(fn: (c: SlipwayClient) => Promise<T>): Promise<T> {
    engineHostOnly();
    const client = await SlipwayClient.connect({ layout: layout() });
    try {
      return await fn(client);
    } finally {
      await client.close();
    }
  }

  async function withEngine<T>(fn: (e: Engine) => Promise<T>, who: { as?: string; asNeeded?: string } = {}): Promise<T> {
    const api = apiFromEnvironment();
    if (api) return fn(throughApi(api, who.as));
    if (who.asNeeded && who.as === undefined) {
      throw new SlipwayError(`${who.asNeeded} needs --as <user> on the engine host (through the API, SLIPWAY_TOKEN says who you are)`, 2);
    }
    return withClient((client) => fn(onEngineHost(client, who.as)));
  }

  return { program, layout, engineHostOnly, withClient, withEngine };
}

/** An option's value as a port number (0-65535). */
export function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('must be a port number (0-65535)');
  return n;
}
