/** `slipway ticket …`: support tickets and their decisions. */
import type { Cli } from '../context';

export function registerTicketCommands({ program, withEngine }: Cli): void {
  const ticketCmd = program.command('ticket').description('support tickets: promotions to staging and production, SSH keys');
  ticketCmd
    .command('list <project>')
    .description("the project's tickets")
    .option('--open', 'only tickets waiting for a decision', false)
    .option('--json', 'machine-readable output', false)
    .addHelpText('after', '\nExample:\n  slipway ticket list shop --open')
    .action(async (project: string, opts: { open: boolean; json: boolean }) => {
      await withEngine(async (engine) => {
        const tickets = await engine.listTickets(project, { open: opts.open });
        if (opts.json) {
          console.log(JSON.stringify(tickets, null, 2));
          return;
        }
        if (tickets.length === 0) console.log(opts.open ? 'no open tickets' : 'no tickets');
        for (const t of tickets) {
          console.log(`${t.id.padEnd(8)} ${t.status.padEnd(9)} ${t.kind.padEnd(9)} ${t.target.padEnd(10)} by ${t.requester}: ${t.title}`);
        }
      });
    });
  ticketCmd
    .command('show <project> <ticket>')
    .description('a ticket with its decisions and every attempt')
    .option('--json', 'machine-readable output', false)
    .addHelpText('after', '\nExample:\n  slipway ticket show shop SUP-3')
    .action(async (project: string, ticket: string, opts: { json: boolean }) => {
      await withEngine(async (engine) => {
        const t = await engine.ticket(project, ticket);
        if (opts.json) {
          console.log(JSON.stringify(t, null, 2));
          return;
        }
        console.log(`${t.id} ${t.status}: ${t.title}`);
        console.log(`  requested by ${t.requester} on ${new Date(t.openedAt).toISOString()}; expires ${new Date(t.expiresAt).toISOString()}`);
        console.log(`  approvals ${t.approvals.length} of ${t.requiredApprovals}${t.closedReason ? `; ${t.closedReason}` : ''}`);
        if (t.settingsChange) console.log(`  changes deployment settings: ${t.settingsChange.files.join(', ')}\n${t.settingsChange.diff}`);
        for (const a of t.attempts) {
          console.log(`  ${new Date(a.at).toISOString()} ${a.user} ${a.decision} via ${a.via}: ${a.accepted ? 'accepted' : `refused (${a.refusal ?? ''})`}`);
        }
      });
    });
  for (const decision of ['approve', 'reject'] as const) {
    ticketCmd
      .command(`${decision} <project> <ticket>`)
      .description(`${decision} a ticket as a support engineer (never your own request)`)
      .option('--as <user>', 'who decides, on the engine host (a support engineer of the project); through the API, the user of SLIPWAY_TOKEN')
      .option('--comment <text>', 'why')
      .addHelpText('after', `\nExample:\n  slipway ticket ${decision} shop SUP-3 --as sam --comment "checked on staging"`)
      .action(async (project: string, ticket: string, opts: { as?: string; comment?: string }) => {
        await withEngine(async (engine) => {
          const t = await engine.decide(project, ticket, { decision, comment: opts.comment });
          console.error(`${t.id} is ${t.status}${t.status === 'open' ? ` (${t.approvals.length} of ${t.requiredApprovals} approvals)` : ''}`);
        }, { as: opts.as, asNeeded: `${decision === 'approve' ? 'approving' : 'rejecting'} a ticket` });
      });
  }
}
