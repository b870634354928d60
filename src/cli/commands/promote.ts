/** `slipway promote`: a promotion behind a support ticket. */
import { SlipwayError } from '../../errors';
import type { Cli } from '../context';
import { progressPrinter } from '../output';

export function registerPromoteCommand({ program, withEngine }: Cli): void {
  program
    .command('promote <project> <target>')
    .description("promote the source's live release (integration → staging, staging → production) behind a support ticket")
    .option('--as <user>', 'who asks, on the engine host (a developer of the project, or an admin); through the API, the user of SLIPWAY_TOKEN')
    .option('--wait', 'wait for the decision and the deployment', false)
    .option('--data', "code and data: the source's database and mounts replace the target's (the target is snapshotted first)", false)
    .addHelpText(
      'after',
      '\nExamples:\n  slipway promote shop staging --as alice\n  slipway promote shop production --data --as alice   # the launch migration: code and data\n  slipway ticket approve shop SUP-1 --as sam\n  slipway promote shop production --as alice --wait\n' +
        '  SLIPWAY_API_URL=http://engine:8081 SLIPWAY_TOKEN=… slipway promote shop staging',
    )
    .action(async (project: string, target: string, opts: { as?: string; wait: boolean; data: boolean }) => {
      await withEngine(async (engine) => {
        const started = await engine.promote(project, target, { withData: opts.data });
        const { ticket } = started;
        console.log(ticket);
        console.error(`${ticket} opened: a support engineer decides it (slipway ticket approve ${project} ${ticket}${engine.remote ? '' : ' --as <user>'})`);
        if (!opts.wait) return;
        const p = progressPrinter();
        const r = await engine.waitForPromotion(started, ({ promotion, ticket, deployment }) => {
          if (deployment) p.deployment(deployment);
          else if (ticket) p.show(`${ticket.id} waiting for a decision (${ticket.approvals.length} of ${ticket.requiredApprovals} approvals)`);
          else p.show(`promotion to ${promotion.target} ${promotion.status}`);
        });
        p.done();
        if (r.status !== 'deployed') throw new SlipwayError(`promotion to ${target} ${r.status}${r.error ? `: ${r.error}` : ''}`);
        console.error(`${target} runs slug ${r.slug} (deployment #${r.deployment ?? '?'})${r.masterUpdated ? '; master updated' : ''}`);
      }, { as: opts.as, asNeeded: 'promote' });
    });
}
