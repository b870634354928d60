/** `slipway project …`: projects. */
import * as path from 'node:path';
import { SlipwayError } from '../../errors';
import { SAMPLE_STORE } from '../../home';
import { pushLimitOf, setPushLimit } from '../../activities/git';
import { DEFAULT_MAX_PUSH_SIZE, formatSize, parsePushSize } from '../../domain/push-limit';
import { DEFAULT_HOST_START_TIMEOUT_SECONDS } from '../../domain/activity-timeouts';
import { checkProjectId } from '../../client-lib/checks';
import { parseHostAssignments } from '../../client-lib/projects';
import { HOST_ROLES, hostsOf } from '../../domain/project';
import type { Cli } from '../context';
import { progressPrinter } from '../output';

export function registerProjectCommands({ program, withClient, withEngine, layout, engineHostOnly }: Cli): void {
  const projectCmd = program.command('project').description('projects');
  projectCmd
    .command('create <id>')
    .description('create a project: a Git remote with master, integration, staging and production, and deploy integration (on the engine host)')
    .option('--from <dir>', 'directory whose files make the initial commit', SAMPLE_STORE)
    .option('--plan <plan>', 'pro (5 active integration environments) or enterprise (8)', 'pro')
    .option('--host <name>', 'the host that serves its environments (a `slipway worker --host` serves it)', 'local')
    .option(
      '--hosts <kind=hosts>',
      "the plan's hosts of a kind of environment (integration, staging, production), comma-separated; repeatable. Integration's branches share integration's hosts; staging and production named need dedicated hosts; production on several: each stages, all switch or none. A kind left out runs on --host",
      (value: string, previous: string[]) => [...previous, value],
      [] as string[],
    )
    .option('--host-start-timeout <seconds>', `seconds a deployment's step waits for its host to take it before the deployment fails (default ${DEFAULT_HOST_START_TIMEOUT_SECONDS})`)
    .option('--production-approvals <n>', 'distinct support approvals a promotion to production needs: 1, or 2 for the two-person rule', '1')
    .option('--no-wait', 'do not wait for the first deployment of integration')
    .addHelpText(
      'after',
      '\nExample:\n  slipway project create shop --from ./my-store --production-approvals 2\n  git clone "$(slipway project create shop)" shop\n' +
        '  slipway project create shop --hosts integration=web1 --hosts staging=web2 --hosts production=web2,web3',
    )
    .action(async (id: string, opts: { from: string; plan: string; host: string; hosts: string[]; hostStartTimeout?: string; productionApprovals: string; wait: boolean }) => {
      // Malformed --hosts are refused before anything is started.
      const hosts = opts.hosts.length > 0 ? parseHostAssignments(opts.hosts) : undefined;
      await withClient(async (client) => {
        const info = await client.createProject({
          project: id,
          plan: opts.plan,
          host: opts.host,
          ...(hosts ? { hosts } : {}),
          from: path.resolve(opts.from),
          productionApprovals: Number(opts.productionApprovals),
          ...(opts.hostStartTimeout !== undefined ? { hostStartTimeout: Number(opts.hostStartTimeout) } : {}),
        });
        console.error(`Project ${id} created (plan ${info.plan}). Remote:`);
        console.log(info.remote);
        if (info.httpRemote) console.error(`HTTP remote: ${info.httpRemote} (any user name; your API token as the password)`);
        if (opts.wait) {
          const p = progressPrinter();
          const d = await client.waitForDeployment(id, 'integration', { onProgress: (x) => p.deployment(x) });
          p.done();
          if (d.status !== 'succeeded') throw new SlipwayError(`integration failed to deploy: ${d.error ?? ''}`);
          console.error(`integration deployed (#${d.deployment}, ${d.commit.slice(0, 12)})`);
        }
      });
    });
  projectCmd
    .command('push-limit <id> [size]')
    .description(
      `show or set the largest push the project's remote accepts (default ${formatSize(DEFAULT_MAX_PUSH_SIZE)}); a larger push is refused and changes nothing. ` +
        'Run on the engine host: it writes the setting into the remote in the data directory',
    )
    .option('--json', 'print {project, bytes} as JSON')
    .addHelpText('after', '\nExamples:\n  slipway project push-limit shop\n  slipway project push-limit shop 2g')
    .action(async (id: string, size: string | undefined, opts: { json?: boolean }) => {
      engineHostOnly();
      checkProjectId(id);
      if (size !== undefined) {
        const parsed = parsePushSize(size);
        if (!parsed.ok) throw new SlipwayError(parsed.reason, 2);
        await setPushLimit(layout(), id, parsed.bytes).catch((err: unknown) => {
          throw new SlipwayError(err instanceof Error ? err.message : String(err));
        });
      }
      const bytes = await pushLimitOf(layout(), id).catch((err: unknown) => {
        throw new SlipwayError(err instanceof Error ? err.message : String(err));
      });
      if (opts.json) console.log(JSON.stringify({ project: id, bytes }));
      else console.log(`${id}: pushes up to ${formatSize(bytes)} (${bytes} bytes)`);
    });

  projectCmd
    .command('list')
    .description('the projects you may see: through the API, those your token\'s user holds a role on (all for an admin), with the roles')
    .option('--json', 'machine-readable output', false)
    .addHelpText('after', '\nExamples:\n  slipway project list\n  SLIPWAY_API_URL=http://engine:8081 SLIPWAY_TOKEN=… slipway project list --json')
    .action(async (opts: { json: boolean }) => {
      await withEngine(async (engine) => {
        const projects = await engine.listProjects();
        if (opts.json) {
          console.log(JSON.stringify(projects, null, 2));
          return;
        }
        if (projects.length === 0) console.error(engine.remote ? 'no project you hold a role on' : 'no projects');
        for (const p of projects) console.log(engine.remote ? `${p.project.padEnd(40)} ${p.roles.join(', ')}` : p.project);
      });
    });

  projectCmd
    .command('show <id>')
    .description('a project: plan, remote (and its HTTP form when an API runs), environments and the active slots of its plan')
    .option('--json', 'machine-readable output', false)
    .addHelpText('after', '\nExample:\n  slipway project show shop')
    .action(async (id: string, opts: { json: boolean }) => {
      await withEngine(async (engine) => {
        const info = await engine.project(id);
        if (opts.json) {
          console.log(JSON.stringify(info, null, 2));
          return;
        }
        console.log(`${info.project}: plan ${info.plan}, ${info.productionApprovals} approval(s) for production`);
        console.log(`  remote: ${info.remote}`);
        if (info.httpRemote) console.log(`  http remote: ${info.httpRemote}`);
        console.log(`  active integration environments: ${info.activeIntegration} of ${info.activeIntegrationLimit}`);
        // Older engines answer without hosts.
        if (info.hosts) console.log(`  hosts: ${HOST_ROLES.map((k) => `${k} ${info.hosts[k].join(', ')}`).join('; ')}`);
        for (const e of info.environments) console.log(`  ${e.name.padEnd(24)} ${e.type.padEnd(18)} ${e.status.padEnd(9)} on ${hostsOf(e).join(', ')}`);
      });
    });
}
