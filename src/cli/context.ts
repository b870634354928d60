/**
 * What every command group of the `slipway` command line shares: the program (with its global
 * `--home` option), the data directory it names, a connected client, the port argument.
 */
import { Command, InvalidArgumentError } from 'commander';
import { SlipwayClient } from '../client';
import { Layout, resolveHome } from '../home';

export interface Cli {
  program: Command;
  /** The data directory: --home, else $SLIPWAY_HOME, else ./.slipway. */
  layout: () => Layout;
  /** Runs `fn` with a client connected to the engine, closed afterwards. */
  withClient: <T>(fn: (c: SlipwayClient) => Promise<T>) => Promise<T>;
}

export function createCli(): Cli {
  const program = new Command();
  program
    .name('slipway')
    .description('Develop-and-deploy engine for Magento-style cloud projects, on Temporal.')
    .option('--home <dir>', 'data directory (default $SLIPWAY_HOME or ./.slipway)')
    .exitOverride()
    .showHelpAfterError();

  const layout = (): Layout => new Layout(resolveHome(program.opts<{ home?: string }>().home));

  async function withClient<T>(fn: (c: SlipwayClient) => Promise<T>): Promise<T> {
    const client = await SlipwayClient.connect({ layout: layout() });
    try {
      return await fn(client);
    } finally {
      await client.close();
    }
  }

  return { program, layout, withClient };
}

/** An option's value as a port number (0-65535). */
export function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('must be a port number (0-65535)');
  return n;
}
