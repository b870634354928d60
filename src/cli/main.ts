/**
 * The `slipway` command line. Exit codes: 0 done, 1 refused or failed, 2 bad usage.
 * Each command group registers itself (./commands/); the order here is the order of --help.
 */
import { CommanderError } from 'commander';
import { SlipwayError } from '../errors';
import { registerDemoCommand } from './commands/demo';
import { registerEnvCommands } from './commands/env';
import { registerProcessCommands } from './commands/processes';
import { registerProjectCommands } from './commands/project';
import { registerVariableCommands } from './commands/variables';
import { registerSnapshotCommands } from './commands/snapshots';
import { registerPromoteCommand } from './commands/promote';
import { registerReplayCommand } from './commands/replay';
import { registerSshCommands } from './commands/ssh';
import { registerTicketCommands } from './commands/ticket';
import { createCli } from './context';

const cli = createCli();
const { program } = cli;
registerProcessCommands(cli);
registerDemoCommand(cli);
registerProjectCommands(cli);
registerEnvCommands(cli);
registerVariableCommands(cli);
registerSnapshotCommands(cli);
registerPromoteCommand(cli);
registerTicketCommands(cli);
registerReplayCommand(cli);
registerSshCommands(cli);

async function main(): Promise<void> {
  try {
    await program.parseAsync(process.argv);
    process.exitCode = 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      process.exitCode = err.exitCode === 0 ? 0 : 2;
      return;
    }
    if (err instanceof SlipwayError) {
      console.error(`slipway: ${err.message}`);
      process.exitCode = err.exitCode;
      return;
    }
    // A port taken meanwhile (after `up` checked it): one line, as the check would have said.
    if ((err as NodeJS.ErrnoException | undefined)?.code === 'EADDRINUSE') {
      console.error(`slipway: ${(err as Error).message}`);
      process.exitCode = 1;
      return;
    }
    console.error(`slipway: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    process.exitCode = 1;
  }
}

void main().then(() => process.exit(process.exitCode ?? 0));
