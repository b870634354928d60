/** `slipway demo`: the sample store end to end (see ../demo). */
import type { Cli } from '../context';

export function registerDemoCommand({ program }: Cli): void {
  program
    .command('demo')
    .description('create the sample store in a temporary data directory, push a change, wait for it to go live, print the URL')
    .option('--keep', 'keep the stack running after the demo (Ctrl-C stops it)', false)
    .addHelpText('after', '\nExample:\n  slipway demo --keep')
    .action(async (opts: { keep: boolean }) => {
      const { runDemo } = await import('../demo');
      await runDemo({ keep: opts.keep });
    });
}
