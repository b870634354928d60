/**
 * The SSH gateway (src/ssh-gateway/): `slipway ssh-gateway` runs it alone (`slipway up` runs it
 * too, `--ssh-port`), and the two hidden commands sshd runs through the gateway's wrapper:
 * `ssh-authorized-keys` (its AuthorizedKeysCommand) and `ssh-session` (every key's forced command).
 */
import type { SlipwayClient } from '../../client';
import { port, type Cli } from '../context';
import { untilStopped } from '../output';

export function registerSshCommands({ program, layout }: Cli): void {
  program
    .command('ssh-gateway')
    .description("run the SSH gateway alone: `ssh -p <port> <project>-<environment>@<host>` opens a shell in that environment's sandbox (keys: docs/operations.md)")
    .option('--port <port>', 'SSH port', port, 2222)
    .option('--listen <address>', 'address to listen on', '127.0.0.1')
    .addHelpText('after', '\nExample:\n  SLIPWAY_HOME=/data slipway ssh-gateway --port 2222 --listen 0.0.0.0')
    .action(async (opts: { port: number; listen: string }) => {
      const l = layout();
      const { resolveTemporalAddress } = await import('../../client');
      const { startSshGateway } = await import('../../ssh-gateway/gateway');
      const gateway = await startSshGateway({ layout: l, port: opts.port, listenHost: opts.listen, temporalAddress: resolveTemporalAddress(l) });
      console.log(`SSH gateway on :${gateway.port}: ssh -p ${gateway.port} <project>-<environment>@${opts.listen === '0.0.0.0' ? '<host>' : opts.listen}`);
      await untilStopped();
      await gateway.close();
    });

  program
    .command('ssh-authorized-keys <user> [fingerprint]', { hidden: true })
    .description("sshd's AuthorizedKeysCommand for the SSH gateway: the keys that open the environment <user> names, with their forced command")
    .action(async (user: string, fingerprint: string | undefined) => {
      const l = layout();
      const { SlipwayClient } = await import('../../client');
      const { loadIdentities } = await import('../../identities');
      const { authorizedKeysFor } = await import('../../ssh-gateway/authorized-keys');
      let client: SlipwayClient | undefined;
      try {
        const { lines, why } = await authorizedKeysFor(l, {
          identities: () => loadIdentities(l),
          approvedKeys: async (project, environment) => {
            client ??= await SlipwayClient.connect({ layout: l });
            return client.sshKeys(project, environment);
          },
        }, user, fingerprint);
        if (why) console.error(`slipway ssh gateway: ${why}`);
        if (lines.length > 0) process.stdout.write(`${lines.join('\n')}\n`);
      } finally {
        await client?.close();
      }
    });

  program
    .command('ssh-session <project> <environment> <person> <fingerprint>', { hidden: true })
    .description('the forced command of every key the SSH gateway lets in: the session, in the environment\'s sandbox')
    .action(async (project: string, environment: string, person: string, fingerprint: string) => {
      const l = layout();
      const { SlipwayClient } = await import('../../client');
      const { runSshSession, SessionRefused } = await import('../../ssh-gateway/session');
      const command = process.env.SSH_ORIGINAL_COMMAND;
      let code: number;
      let client: SlipwayClient | undefined;
      try {
        client = await SlipwayClient.connect({ layout: l });
        code = await runSshSession(l, client.temporal, {
          project,
          environment,
          person,
          fingerprint,
          ...(command !== undefined ? { command } : {}),
          terminal: !!process.env.SSH_TTY,
          ...(process.env.TERM ? { term: process.env.TERM } : {}),
        });
      } catch (err) {
        process.stderr.write(`slipway: ${err instanceof SessionRefused || err instanceof Error ? err.message : String(err)}\n`);
        code = 1;
      } finally {
        await client?.close().catch(() => undefined);
      }
      process.exit(code);
    });
}
