/** `slipway env …`: environments, their deployments, logs and SSH keys. */
import * as fs from 'node:fs';
import { InvalidArgumentError } from 'commander';
import { SlipwayError } from '../../errors';
import { hostsOf } from '../../domain/project';
import { environmentTree, type TreeNode } from '../../domain/environment-tree';
import type { Cli } from '../context';
import type { Engine } from '../engine';
import { progressPrinter } from '../output';

export function registerEnvCommands({ program, withClient, withEngine }: Cli): void {
  const envCmd = program.command('env').description('environments');
  envCmd
    .command('status <project> <environment>')
    .description('current release, running and recent deployments')
    .option('--json', 'machine-readable output', false)
    .addHelpText('after', '\nExample:\n  slipway env status shop integration --json')
    .action(async (project: string, environment: string, opts: { json: boolean }) => {
      await withEngine(async (engine) => {
        const s = await engine.environmentStatus(project, environment);
        if (opts.json) {
          console.log(JSON.stringify(s, null, 2));
          return;
        }
        console.log(`${project}/${environment}`);
        console.log(`  hosts:    ${hostsOf(s).join(', ')}`);
        console.log(`  current:  ${s.current ? `#${s.current.deployment} ${s.current.commit.slice(0, 12)} (${s.current.release})` : 'none'}`);
        console.log(`  running:  ${s.running ? `#${s.running.deployment} ${s.running.commit.slice(0, 12)}` : 'none'}`);
        console.log(`  host:     ${s.hostLiveness?.summary ?? s.host}`);
        for (const d of s.deployments.slice(-10)) {
          console.log(`  #${d.deployment} ${d.commit.slice(0, 12)} ${d.status}${d.error ? `: ${d.error}` : ''}`);
        }
        if (s.runtime) {
          const app = s.runtime.application;
          console.log(`  runtime:  ${s.runtime.wanted ?? 'none'}${app.release ? `, serving ${app.release}` : ''}`);
          for (const p of app.processes) console.log(`    ${p.name.padEnd(12)} ${p.running ? `running (${p.pids} processes)` : 'stopped'}`);
          for (const sv of s.runtime.services) {
            console.log(`    ${sv.name.padEnd(12)} ${sv.type.padEnd(16)} ${sv.state}${sv.port ? ` on 127.0.0.1:${sv.port}` : ''}${sv.reason ? `: ${sv.reason}` : ''}`);
          }
        }
        for (const r of s.restarts ?? []) console.log(`  restarted ${new Date(r.at).toISOString()} on ${r.host}: ${r.process} (${r.reason})`);
      });
    });

  program
    .command('hosts')
    .description("every host that has run a worker, and whether it answers (its supervisor's heartbeats; its task queue's pollers)")
    .option('--json', 'machine-readable output', false)
    .addHelpText('after', '\nExample:\n  slipway hosts\n  web1: live (heartbeat 2 s ago)\n  web2: not answering since 2026-01-01T10:00:00.000Z (last heartbeat 95 s ago)')
    .action(async (opts: { json: boolean }) => {
      await withEngine(async (engine) => {
        const hosts = await engine.listHosts();
        if (opts.json) {
          console.log(JSON.stringify(hosts, null, 2));
          return;
        }
        if (hosts.length === 0) console.log('no host has run a worker yet');
        for (const h of hosts) console.log(h.summary);
      });
    });

  envCmd
    .command('crons <project> <environment>')
    .description("the environment's crons (each a Temporal Schedule): spec, command, paused or running, last and next run")
    .option('--json', 'machine-readable output', false)
    .addHelpText('after', '\nExample:\n  slipway env crons shop integration')
    .action(async (project: string, environment: string, opts: { json: boolean }) => {
      await withEngine(async (engine) => {
        const crons = await engine.crons(project, environment);
        if (opts.json) {
          console.log(JSON.stringify(crons, null, 2));
          return;
        }
        if (crons.length === 0) console.error(`${project}/${environment} has no crons (crons: in .magento.app.yaml of its live release)`);
        for (const c of crons) {
          console.log(`${c.name}  ${c.spec}  ${c.paused ? `paused${c.note ? ` (${c.note})` : ''}` : 'running'}`);
          console.log(`  cmd:  ${c.cmd}`);
          console.log(`  last: ${c.lastRun ? `${c.lastRun.at} (${c.lastRun.workflowId})` : 'never'}`);
          console.log(`  next: ${c.nextRun ?? '-'}`);
        }
      });
    });

  envCmd
    .command('list <project>')
    .description('the environments of a project as a tree: type, parent, active or inactive')
    .option('--json', 'machine-readable output', false)
    .addHelpText('after', '\nExample:\n  slipway env list shop --json')
    .action(async (project: string, opts: { json: boolean }) => {
      await withEngine(async (engine) => {
        const info = await engine.project(project);
        const tree = environmentTree(info.environments);
        if (opts.json) {
          console.log(JSON.stringify({ project: info.project, plan: info.plan, activeIntegration: info.activeIntegration, activeIntegrationLimit: info.activeIntegrationLimit, environments: info.environments, tree }, null, 2));
          return;
        }
        console.log(`${info.project} (plan ${info.plan}; ${info.activeIntegration} of ${info.activeIntegrationLimit} active integration environments)`);
        const print = (n: TreeNode, depth: number): void => {
          console.log(`${'  '.repeat(depth + 1)}${n.name.padEnd(24 - depth * 2)} ${n.type.padEnd(18)} ${n.status}`);
          for (const c of n.children) print(c, depth + 1);
        };
        for (const r of tree) print(r, 0);
      });
    });

  envCmd
    .command('branch <project> <name>')
    .description("create an environment: a branch from its parent's head, activated and deployed unless --inactive")
    .option('--parent <environment>', 'the parent environment', 'integration')
    .option('--inactive', 'create it inactive: it keeps code, is not deployed and takes no slot', false)
    .option('--no-wait', 'do not wait for its deployment')
    .addHelpText('after', '\nExamples:\n  slipway env branch shop sprint-3\n  slipway env branch shop feature1 --parent sprint-3 --inactive')
    .action(async (project: string, name: string, opts: { parent: string; inactive: boolean; wait: boolean }) => {
      await withEngine(async (engine) => {
        const e = await engine.branch(project, { name, parent: opts.parent, inactive: opts.inactive });
        console.error(`${e.name} created from ${e.parent ?? ''} (${e.status})`);
        if (e.status === 'active' && opts.wait) await waitAndReport(engine, project, name, {});
      });
    });

  for (const [verb, description] of [
    ['activate', 'activate an environment (takes a slot of the plan) and deploy it'],
    ['deactivate', 'stop serving an environment and free its slot; its code is kept'],
    ['delete', 'delete an environment and its branch'],
    ['sync', "pull the parent's code (default), data (--data: its database and mounts replace the environment's) or both into the environment, then deploy it"],
    ['merge', "merge the environment's code into its parent, then deploy the parent (code only: data never flows up)"],
  ] as const) {
    const cmd = envCmd
      .command(`${verb} <project> <environment>`)
      .description(description)
      .option('--no-wait', 'do not wait for the resulting deployment')
      .addHelpText('after', `\nExample:\n  slipway env ${verb} shop sprint-3${verb === 'sync' ? '\n  slipway env sync shop sprint-3 --data\n  slipway env sync shop sprint-3 --code --data\n  slipway env sync shop staging --data --from production --as alice' : ''}`);
    if (verb === 'sync') {
      cmd
        .option('--code', "the parent's code (the default without --data)")
        .option('--data', "the parent's database and mounts")
        .option('--from <environment>', "staging only: refresh its data from production, through a support ticket (as --as on the engine host, as the token's user through the API)")
        .option('--as <user>', 'on the engine host: who asks for the ticket (with --from)');
    }
    cmd.action(async (project: string, name: string, opts: { wait: boolean; code?: boolean; data?: boolean; from?: string; as?: string }) => {
      if (verb === 'sync' && opts.from !== undefined) {
        if (!opts.data || opts.code) throw new SlipwayError('--from refreshes data only: give --data, without --code', 2);
        await withEngine(
          async (engine) => {
            const { ticket } = await engine.requestDataRefresh(project, name, opts.from!);
            console.log(ticket);
            console.error(`${ticket} opened: ${name} deploys again with ${opts.from}'s database and mounts once a support engineer approves`);
          },
          { as: opts.as, asNeeded: '--from (a data refresh ticket)' },
        );
        return;
      }
        await withEngine(async (engine) => {
          switch (verb) {
            case 'activate': {
              const before = await lastDeployment(engine, project, name);
              await engine.activate(project, name);
              console.error(`${name} is active`);
              if (opts.wait) await waitAndReport(engine, project, name, { after: before });
              return;
            }
            case 'deactivate':
              await engine.deactivate(project, name);
              console.error(`${name} is inactive: no longer served; its code is kept`);
              return;
            case 'delete':
              await engine.deleteEnvironment(project, name);
              console.error(`${name} deleted, with its branch`);
              return;
            case 'sync':
            case 'merge': {
              if (verb === 'sync' && opts.data && !opts.code) {
                const { deployment } = await engine.syncData(project, name);
                console.error(`deployment #${deployment} of ${name} deploys its release again with the parent's database and mounts`);
                if (opts.wait) await waitAndReport(engine, project, name, { after: deployment - 1 });
                return;
              }
              const r = verb === 'sync' ? await engine.sync(project, name) : await engine.merge(project, name);
              if (verb === 'sync' && opts.data) {
                if (r.deploys) await waitAndReport(engine, project, r.target, { commit: r.commit });
                const { deployment } = await engine.syncData(project, name);
                console.error(`deployment #${deployment} of ${name} brings the parent's database and mounts`);
                if (opts.wait) await waitAndReport(engine, project, name, { after: deployment - 1 });
                return;
              }
              if (!r.changed) {
                console.error(`${r.target} is up to date already: nothing to ${verb}`);
                return;
              }
              console.error(`${r.target} is now at ${r.commit.slice(0, 12)}${r.deploys ? '; deploying' : ' (inactive: not deployed)'}`);
              if (r.deploys && opts.wait) await waitAndReport(engine, project, r.target, { commit: r.commit });
              return;
            }
          }
        });
      });
  }

  envCmd
    .command('ssh-keys <project> <environment>')
    .description('the SSH keys of staging or production; --add and --remove go through a support ticket (on the engine host only)')
    .option('--add <public-key-file>', 'open a ticket to add this public key (recorded once approved)')
    .option('--remove <fingerprint>', 'open a ticket to take this key away (its SSH sessions end once approved)')
    .option('--as <user>', 'who asks (with --add)')
    .option('--json', 'machine-readable output', false)
    .addHelpText('after', '\nExamples:\n  slipway env ssh-keys shop production --add ~/.ssh/id_ed25519.pub --as alice\n  slipway env ssh-keys shop production --remove SHA256:XXzrYr4z3PLdEgNGvDlEuGXjeDarkzRgEILducjAHMM --as alice\n  slipway env ssh-keys shop production --json')
    .action(async (project: string, environment: string, opts: { add?: string; remove?: string; as?: string; json: boolean }) => {
      await withClient(async (client) => {
        if (opts.remove) {
          if (!opts.as) throw new SlipwayError('--remove needs --as <user>', 2);
          const r = await client.requestSshKeyRemoval(project, environment, opts.remove, opts.as);
          console.log(r.ticket);
          console.error(`${r.ticket} opened: ${opts.remove} is taken away from ${environment}, and its SSH sessions end, once a support engineer approves`);
          return;
        }
        if (opts.add) {
          if (!opts.as) throw new SlipwayError('--add needs --as <user>', 2);
          let text: string;
          try {
            text = fs.readFileSync(opts.add, 'utf8');
          } catch {
            throw new SlipwayError(`cannot read ${opts.add}`, 2);
          }
          const r = await client.requestSshKey(project, environment, text, opts.as);
          console.log(r.ticket);
          console.error(`${r.ticket} opened for ${r.fingerprint}: the key is added to ${environment} once a support engineer approves`);
          return;
        }
        const keys = await client.sshKeys(project, environment);
        if (opts.json) {
          console.log(JSON.stringify(keys, null, 2));
          return;
        }
        if (keys.length === 0) console.log(`no SSH keys on ${environment}`);
        for (const k of keys) console.log(`${k.fingerprint} ${k.type} ${k.comment} (${k.ticket}, approved by ${k.approvedBy.join(', ')})`);
      });
    });

  envCmd
    .command('redeploy <project> <environment>')
    .description('deploy the current release again from its slug, with no build')
    .addHelpText('after', '\nExample:\n  slipway env redeploy shop integration')
    .action(async (project: string, environment: string) => {
      await withEngine(async (engine) => {
        const { deployment } = await engine.redeploy(project, environment);
        await followDeployment(engine, project, environment, deployment);
      });
    });
  envCmd
    .command('cancel <project> <environment>')
    .description('stop the running deployment: its hook and every process it started; the release served before it stays served')
    .addHelpText('after', '\nExample:\n  slipway env cancel shop integration')
    .action(async (project: string, environment: string) => {
      await withEngine(async (engine) => {
        const d = await engine.cancelDeployment(project, environment);
        if (d.status === 'cancelled') {
          const served = (await engine.environmentStatus(project, environment)).current;
          console.error(`deployment #${d.deployment} cancelled; ${served ? `${served.release} (deployment #${served.deployment}) is served` : 'nothing was live'}`);
          return;
        }
        throw new SlipwayError(`deployment #${d.deployment} ended (${d.status}) before it could be cancelled`);
      });
    });
  envCmd
    .command('rollback <project> <environment>')
    .description('deploy an earlier release again (default: the previous one), with no build')
    .option('--to <deployment>', 'the deployment number whose release to deploy again', (v) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a deployment number (1, 2, …)');
      return n;
    })
    .option('--with-data', "the database and mounts too, as they were before the current release's deployment (its snapshot: staging and production)", false)
    .addHelpText('after', '\nExamples:\n  slipway env rollback shop integration\n  slipway env rollback shop integration --to 3\n  slipway env rollback shop production --with-data')
    .action(async (project: string, environment: string, opts: { to?: number; withData: boolean }) => {
      await withEngine(async (engine) => {
        const { deployment } = await engine.rollback(project, environment, opts.to, opts.withData);
        await followDeployment(engine, project, environment, deployment);
      });
    });

  envCmd
    .command('log <project> <environment> [deployment]')
    .description('the timestamped log of a deployment (default: the newest)')
    .option('--json', 'machine-readable output: {deployment, lines}', false)
    .addHelpText('after', '\nExample:\n  slipway env log shop integration 3')
    .action(async (project: string, environment: string, deployment: string | undefined, opts: { json: boolean }) => {
      await withEngine(async (engine) => {
        let n = deployment === undefined ? undefined : Number(deployment);
        if (n !== undefined && (!Number.isInteger(n) || n < 1)) throw new SlipwayError('deployment must be a positive integer', 2);
        if (n === undefined) {
          const s = await engine.environmentStatus(project, environment);
          n = s.running?.deployment ?? s.deployments[s.deployments.length - 1]?.deployment;
          if (n === undefined) throw new SlipwayError(`${project}/${environment} has no deployment yet`);
        }
        const log = await engine.deploymentLog(project, environment, n);
        if (opts.json) console.log(JSON.stringify({ deployment: n, lines: log.split('\n').filter(Boolean) }, null, 2));
        else process.stdout.write(log);
      });
    });
}

/** Waits for the next deployment of an environment (after `after`), showing progress. */
async function waitAndReport(engine: Engine, project: string, environment: string, opts: { after?: number; commit?: string }): Promise<void> {
  const p = progressPrinter();
  const d = await engine.waitForDeployment(project, environment, { ...opts, onProgress: (x) => p.deployment(x) });
  p.done();
  if (d.status !== 'succeeded') throw new SlipwayError(`${environment}: deployment #${d.deployment} failed: ${d.error ?? ''}`);
  console.error(`${environment}: deployment #${d.deployment} of ${d.commit.slice(0, 12)} is live`);
}

async function lastDeployment(engine: Engine, project: string, environment: string): Promise<number> {
  try {
    const s = await engine.environmentStatus(project, environment);
    return s.running?.deployment ?? s.deployments[s.deployments.length - 1]?.deployment ?? 0;
  } catch {
    return 0; // never started
  }
}

async function followDeployment(engine: Engine, project: string, environment: string, n: number): Promise<void> {
  const p = progressPrinter();
  const d = await engine.waitForDeployment(project, environment, { after: n - 1, onProgress: (x) => p.deployment(x) });
  p.done();
  if (d.status !== 'succeeded') throw new SlipwayError(`deployment #${d.deployment} failed: ${d.error ?? ''}`);
  console.error(`deployment #${d.deployment} of ${d.commit.slice(0, 12)} is live (slug ${d.slug ?? '?'}, no build)`);
}
