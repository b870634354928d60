/**
 * `slipway env snapshot create|list|restore|delete`: an environment's database and mounts,
 * saved and put back (on the engine host). Staging and production are also snapshotted before
 * every deployment (the newest SLIPWAY_SNAPSHOTS_KEPT kept, default 3).
 */
import type { Cli } from '../context';

const mb = (bytes: number): string => `${(bytes / 1e6).toFixed(1)} MB`;

export function registerSnapshotCommands({ program, withClient }: Cli): void {
  const envCmd = program.commands.find((c) => c.name() === 'env')!;
  const snap = envCmd.command('snapshot').description("an environment's database and mounts, saved and put back");
  snap
    .command('create <project> <environment>')
    .description('snapshot the database and mounts now (between deployments; the site keeps serving)')
    .addHelpText('after', '\nExample:\n  slipway env snapshot create shop integration')
    .action(async (project: string, environment: string) => {
      await withClient(async (client) => {
        const r = await client.snapshot(project, environment);
        console.log(r.snapshot);
        console.error(`snapshot ${r.snapshot} of ${environment}: ${mb(r.sizeBytes)}`);
      });
    });
  snap
    .command('list <project> <environment>')
    .description('the snapshots, newest first: id, time, size, commit, why')
    .option('--json', 'machine-readable output', false)
    .addHelpText('after', '\nExample:\n  slipway env snapshot list shop staging')
    .action(async (project: string, environment: string, opts: { json: boolean }) => {
      await withClient(async (client) => {
        await client.environmentStatus(project, environment);
        const list = client.snapshots(project, environment);
        if (opts.json) {
          console.log(JSON.stringify(list, null, 2));
          return;
        }
        if (list.length === 0) console.log(`no snapshots of ${environment}`);
        for (const s of list) console.log(`${s.id}  ${s.createdAt}  ${mb(s.sizeBytes).padStart(9)}  ${(s.commit ?? '-').slice(0, 12).padEnd(12)}  ${s.reason}`);
      });
    });
  snap
    .command('restore <project> <environment> <id>')
    .description("deploy the current release again with the snapshot's database and mounts (all or nothing)")
    .option('--no-wait', 'do not wait for the deployment')
    .addHelpText('after', '\nExample:\n  slipway env snapshot restore shop integration s20261130170102-a1b2')
    .action(async (project: string, environment: string, id: string, opts: { wait: boolean }) => {
      await withClient(async (client) => {
        const { deployment } = await client.restoreSnapshot(project, environment, id);
        console.error(`deployment #${deployment} of ${environment} restores snapshot ${id}`);
        if (!opts.wait) return;
        const d = await client.waitForDeployment(project, environment, { after: deployment - 1 });
        if (d.status !== 'succeeded') throw new Error(`deployment #${d.deployment} ${d.status}: ${d.error ?? ''}`);
        console.error(`snapshot ${id} restored (deployment #${d.deployment})`);
      });
    });
  snap
    .command('delete <project> <environment> <id>')
    .description('delete a snapshot')
    .addHelpText('after', '\nExample:\n  slipway env snapshot delete shop integration s20261130170102-a1b2')
    .action(async (project: string, environment: string, id: string) => {
      await withClient(async (client) => {
        await client.environmentStatus(project, environment);
        client.deleteSnapshot(project, environment, id);
        console.error(`snapshot ${id} deleted`);
      });
    });
}
