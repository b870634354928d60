/** `slipway promote`: a promotion behind a support ticket. */
import { SlipwayError } from '../../errors';
import type { Cli } from '../context';
import { progressPrinter } from '../output';

export function registerPromoteCommand({ program, withClient }: Cli): void {
  program
    .command('promote <project> <target>')
    .description("promote the source's live release (integration → staging, staging → production) behind a support ticket")
    .requiredOption('--as <user>', 'who asks (a developer or admin of the identities file)')
    .option('--wait', 'wait for the decision and the deployment', false)
    .addHelpText('after', '\nExamples:\n  slipway promote shop staging --as alice\n  slipway ticket approve shop SUP-1 --as sam\n  slipway promote shop production --as alice --wait')
    .action(async (project: string, target: string, opts: { as: string; wait: boolean }) => {
      await withClient(async (client) => {
        const { ticket, workflowId } = await client.promote(project, target, opts.as);
        console.log(ticket);
        console.error(`${ticket} opened: a support engineer decides it (slipway ticket approve ${project} ${ticket} --as <user>)`);
        if (!opts.wait) return;
        const p = progressPrinter();
        const r = await client.waitForPromotion(workflowId, ({ promotion, ticket, deployment }) => {
          if (deployment) p.deployment(deployment);
          else if (ticket) p.show(`${ticket.id} waiting for a decision (${ticket.approvals.length} of ${ticket.requiredApprovals} approvals)`);
          else p.show(`promotion to ${promotion.target} ${promotion.status}`);
        });
        p.done();
        if (r.status !== 'deployed') throw new SlipwayError(`promotion to ${target} ${r.status}${r.error ? `: ${r.error}` : ''}`);
        console.error(`${target} runs slug ${r.slug} (deployment #${r.deployment ?? '?'})${r.masterUpdated ? '; master updated' : ''}`);
      });
    });
}
