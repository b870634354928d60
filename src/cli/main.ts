/**
 * The `slipway` command line. Exit codes: 0 done, 1 refused or failed, 2 bad usage.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { SlipwayClient } from '../client';
import { SlipwayError } from '../errors';
import { Layout, resolveHome, SAMPLE_STORE } from '../home';
import { progressPrinter, untilStopped } from './output';

const program = new Command();
program
  .name('slipway')
  .description('Develop-and-deploy engine for Magento-style cloud projects, on Temporal.')
  .option('--home <dir>', 'data directory (default $SLIPWAY_HOME or ./.slipway)')
  .exitOverride()
  .showHelpAfterError();

const layout = (): Layout => new Layout(resolveHome(program.opts<{ home?: string }>().home));

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('must be a port number (0-65535)');
  return n;
}

async function withClient<T>(fn: (c: SlipwayClient) => Promise<T>): Promise<T> {
  const client = await SlipwayClient.connect({ layout: layout() });
  try {
    return await fn(client);
  } finally {
    await client.close();
  }
}

program
  .command('up')
  .description('start the embedded stack: Temporal dev server (with Web UI), worker and router; Ctrl-C stops it all')
  .option('--port <port>', 'Temporal gRPC port', port, 7233)
  .option('--ui-port <port>', 'Temporal Web UI port', port, 8233)
  .option('--router-port <port>', 'HTTP port of the router', port, 8080)
  .option('--api-port <port>', 'HTTP port of the API', port, 8081)
  .addHelpText('after', '\nExample:\n  SLIPWAY_HOME=~/slipway slipway up --router-port 8080')
  .action(async (opts: { port: number; uiPort: number; routerPort: number; apiPort: number }) => {
    const l = layout();
    // Loaded here, not at the top: a `slipway worker` process does not need the API server.
    const { startStack } = await import('../stack');
    const stack = await startStack({
      layout: l,
      temporalAddress: process.env.TEMPORAL_ADDRESS,
      temporalPort: opts.port,
      uiPort: opts.uiPort,
      routerPort: opts.routerPort,
      apiPort: opts.apiPort,
      log: (line) => console.log(line),
    });
    console.log(`Slipway is up (data in ${l.home}). Press Ctrl-C to stop.`);
    const signal = await untilStopped(stack.worker.done);
    console.log(`${signal}: stopping…`);
    await stack.stop();
    console.log('Stopped.');
  });

program
  .command('worker')
  .description("run a worker: the engine's workflows and build activities, and the deploy activities of one host")
  .option('--host <name>', 'the host whose environments this worker deploys', 'local')
  .option('--no-engine', 'deploy activities only (a web host), no workflows or builds')
  .option('--slugs <dir>', "the engine's slug store, when this host's data directory is elsewhere")
  .option('--router-port <port>', 'also serve this host\'s environments on this port (for warm-up and health checks)', port)
  .addHelpText('after', '\nExamples:\n  TEMPORAL_ADDRESS=temporal:7233 slipway worker --host web1\n  slipway --home /data/web2 worker --host web2 --no-engine --slugs /shared/slugs --router-port 8080')
  .action(async (opts: { host: string; engine: boolean; slugs?: string; routerPort?: number }) => {
    if (!/^[a-z0-9][a-z0-9-]{0,62}$/.test(opts.host)) throw new SlipwayError('--host must be a lowercase name', 2);
    // A long-lived process with two V8 heaps (this one and the workflow sandbox's thread,
    // started below, which takes the flag at its creation): V8's memory-saving mode (smaller
    // young generation, tighter old-generation growth) cut its peak RSS with 50 deployments at
    // once from ~430 to ~325 MB, at the same throughput (bench scale). Set here rather than on
    // the command line so every way of starting `slipway worker` gets it.
    setFlagsFromString('--optimize-for-size');
    const l = new Layout(layout().home, opts.slugs ? path.resolve(opts.slugs) : undefined);
    const { resolveTemporalAddress } = await import('../client');
    const { startWorker } = await import('../worker');
    const { startRouter } = await import('../router/router');
    const router = opts.routerPort === undefined ? undefined : await startRouter({ layout: l, port: opts.routerPort });
    const worker = await startWorker({
      address: resolveTemporalAddress(l),
      layout: l,
      host: opts.host,
      engine: opts.engine,
      routerPort: () => router?.port,
    });
    console.log(`Worker for host ${opts.host}${opts.engine ? ' and the engine' : ''} is running (data in ${l.home}${router ? `, router :${router.port}` : ''}).`);
    await untilStopped(worker.done);
    await router?.close();
    await worker.shutdown().catch(() => undefined);
  });

program
  .command('api')
  .description('run the HTTP API alone (the production-like setup runs it beside workers and routers)')
  .option('--port <port>', 'HTTP port', port, 8081)
  .option('--listen <address>', 'address to listen on', '127.0.0.1')
  .addHelpText('after', '\nExample:\n  TEMPORAL_ADDRESS=temporal:7233 slipway --home /data api --port 8081 --listen 0.0.0.0')
  .action(async (opts: { port: number; listen: string }) => {
    const l = layout();
    const { startApi } = await import('../api/server');
    const { hookToken } = await import('../home');
    await withClient(async (client) => {
      const { loadIdentities } = await import('../identities');
      const api = await startApi({ client, hookToken: hookToken(l), port: opts.port, host: opts.listen, identities: () => loadIdentities(l) });
      console.log(`API on ${api.url}`);
      await untilStopped();
      await api.close();
    });
  });

program
  .command('router')
  .description("run the router alone: serves this data directory's environments by host name")
  .option('--port <port>', 'HTTP port', port, 8080)
  .option('--listen <address>', 'address to listen on', '127.0.0.1')
  .addHelpText('after', '\nExample:\n  slipway --home /data router --port 8080 --listen 0.0.0.0')
  .action(async (opts: { port: number; listen: string }) => {
    const { startRouter } = await import('../router/router');
    const router = await startRouter({ layout: layout(), port: opts.port, host: opts.listen });
    console.log(`Router on :${router.port}: http://<environment>.<project>.localhost:${router.port}/`);
    await untilStopped();
    await router.close();
  });

program
  .command('demo')
  .description('create the sample store in a temporary data directory, push a change, wait for it to go live, print the URL')
  .option('--keep', 'keep the stack running after the demo (Ctrl-C stops it)', false)
  .addHelpText('after', '\nExample:\n  slipway demo --keep')
  .action(async (opts: { keep: boolean }) => {
    const { runDemo } = await import('./demo');
    await runDemo({ keep: opts.keep });
  });

const projectCmd = program.command('project').description('projects');
projectCmd
  .command('create <id>')
  .description('create a project: a Git remote with master, integration, staging and production, and deploy integration')
  .option('--from <dir>', 'directory whose files make the initial commit', SAMPLE_STORE)
  .option('--plan <plan>', 'pro (5 active integration environments) or enterprise (8)', 'pro')
  .option('--host <name>', 'the host that serves its environments (a `slipway worker --host` serves it)', 'local')
  .option('--production-approvals <n>', 'distinct support approvals a promotion to production needs: 1, or 2 for the two-person rule', '1')
  .option('--no-wait', 'do not wait for the first deployment of integration')
  .addHelpText('after', '\nExample:\n  slipway project create shop --from ./my-store --production-approvals 2\n  git clone "$(slipway project create shop)" shop')
  .action(async (id: string, opts: { from: string; plan: string; host: string; productionApprovals: string; wait: boolean }) => {
    await withClient(async (client) => {
      const info = await client.createProject({
        project: id,
        plan: opts.plan,
        host: opts.host,
        from: path.resolve(opts.from),
        productionApprovals: Number(opts.productionApprovals),
      });
      console.error(`Project ${id} created (plan ${info.plan}). Remote:`);
      console.log(info.remote);
      if (opts.wait) {
        const p = progressPrinter();
        const d = await client.waitForDeployment(id, 'integration', { onProgress: (x) => p.deployment(x) });
        p.done();
        if (d.status !== 'succeeded') throw new SlipwayError(`integration failed to deploy: ${d.error ?? ''}`);
        console.error(`integration deployed (#${d.deployment}, ${d.commit.slice(0, 12)})`);
      }
    });
  });

const envCmd = program.command('env').description('environments');
envCmd
  .command('status <project> <environment>')
  .description('current release, running and recent deployments')
  .option('--json', 'machine-readable output', false)
  .addHelpText('after', '\nExample:\n  slipway env status shop integration --json')
  .action(async (project: string, environment: string, opts: { json: boolean }) => {
    await withClient(async (client) => {
      const s = await client.environmentStatus(project, environment);
      if (opts.json) {
        console.log(JSON.stringify(s, null, 2));
        return;
      }
      console.log(`${project}/${environment}`);
      console.log(`  current:  ${s.current ? `#${s.current.deployment} ${s.current.commit.slice(0, 12)} (${s.current.release})` : 'none'}`);
      console.log(`  running:  ${s.running ? `#${s.running.deployment} ${s.running.commit.slice(0, 12)}` : 'none'}`);
      for (const d of s.deployments.slice(-10)) {
        console.log(`  #${d.deployment} ${d.commit.slice(0, 12)} ${d.status}${d.error ? `: ${d.error}` : ''}`);
      }
    });
  });
/** Waits for the next deployment of an environment (after `after`), showing progress. */
async function waitAndReport(client: SlipwayClient, project: string, environment: string, opts: { after?: number; commit?: string }): Promise<void> {
  const p = progressPrinter();
  const d = await client.waitForDeployment(project, environment, { ...opts, onProgress: (x) => p.deployment(x) });
  p.done();
  if (d.status !== 'succeeded') throw new SlipwayError(`${environment}: deployment #${d.deployment} failed: ${d.error ?? ''}`);
  console.error(`${environment}: deployment #${d.deployment} of ${d.commit.slice(0, 12)} is live`);
}

async function lastDeployment(client: SlipwayClient, project: string, environment: string): Promise<number> {
  try {
    const s = await client.environmentStatus(project, environment);
    return s.running?.deployment ?? s.deployments[s.deployments.length - 1]?.deployment ?? 0;
  } catch {
    return 0; // never started
  }
}

interface TreeNode {
  name: string;
  type: string;
  status: string;
  parent?: string;
  children: TreeNode[];
}

function environmentTree(envs: Array<{ name: string; type: string; status: string; parent?: string }>): TreeNode[] {
  const nodes = new Map(envs.map((e) => [e.name, { ...e, children: [] as TreeNode[] }]));
  const roots: TreeNode[] = [];
  for (const n of nodes.values()) {
    const parent = n.parent ? nodes.get(n.parent) : undefined;
    if (parent) parent.children.push(n);
    else roots.push(n);
  }
  const order = ['master', 'integration', 'staging', 'production'];
  roots.sort((a, b) => order.indexOf(a.name) - order.indexOf(b.name));
  return roots;
}

envCmd
  .command('list <project>')
  .description('the environments of a project as a tree: type, parent, active or inactive')
  .option('--json', 'machine-readable output', false)
  .addHelpText('after', '\nExample:\n  slipway env list shop --json')
  .action(async (project: string, opts: { json: boolean }) => {
    await withClient(async (client) => {
      const info = await client.project(project);
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
    await withClient(async (client) => {
      const e = await client.branch(project, { name, parent: opts.parent, inactive: opts.inactive });
      console.error(`${e.name} created from ${e.parent ?? ''} (${e.status})`);
      if (e.status === 'active' && opts.wait) await waitAndReport(client, project, name, {});
    });
  });

for (const [verb, description] of [
  ['activate', 'activate an environment (takes a slot of the plan) and deploy it'],
  ['deactivate', 'stop serving an environment and free its slot; its code is kept'],
  ['delete', 'delete an environment and its branch'],
  ['sync', "merge the parent's code into the environment, then deploy it"],
  ['merge', "merge the environment's code into its parent, then deploy the parent"],
] as const) {
  envCmd
    .command(`${verb} <project> <environment>`)
    .description(description)
    .option('--no-wait', 'do not wait for the resulting deployment')
    .addHelpText('after', `\nExample:\n  slipway env ${verb} shop sprint-3`)
    .action(async (project: string, name: string, opts: { wait: boolean }) => {
      await withClient(async (client) => {
        switch (verb) {
          case 'activate': {
            const before = await lastDeployment(client, project, name);
            await client.activate(project, name);
            console.error(`${name} is active`);
            if (opts.wait) await waitAndReport(client, project, name, { after: before });
            return;
          }
          case 'deactivate':
            await client.deactivate(project, name);
            console.error(`${name} is inactive: no longer served; its code is kept`);
            return;
          case 'delete':
            await client.deleteEnvironment(project, name);
            console.error(`${name} deleted, with its branch`);
            return;
          case 'sync':
          case 'merge': {
            const r = verb === 'sync' ? await client.sync(project, name) : await client.merge(project, name);
            if (!r.changed) {
              console.error(`${r.target} is up to date already: nothing to ${verb}`);
              return;
            }
            console.error(`${r.target} is now at ${r.commit.slice(0, 12)}${r.deploys ? '; deploying' : ' (inactive: not deployed)'}`);
            if (r.deploys && opts.wait) await waitAndReport(client, project, r.target, { commit: r.commit });
            return;
          }
        }
      });
    });
}

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

envCmd
  .command('ssh-keys <project> <environment>')
  .description('the SSH keys of staging or production; --add asks for one through a support ticket')
  .option('--add <public-key-file>', 'open a ticket to add this public key (recorded once approved)')
  .option('--as <user>', 'who asks (with --add)')
  .option('--json', 'machine-readable output', false)
  .addHelpText('after', '\nExamples:\n  slipway env ssh-keys shop production --add ~/.ssh/id_ed25519.pub --as alice\n  slipway env ssh-keys shop production --json')
  .action(async (project: string, environment: string, opts: { add?: string; as?: string; json: boolean }) => {
    await withClient(async (client) => {
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

const ticketCmd = program.command('ticket').description('support tickets: promotions to staging and production, SSH keys');
ticketCmd
  .command('list <project>')
  .description("the project's tickets")
  .option('--open', 'only tickets waiting for a decision', false)
  .option('--json', 'machine-readable output', false)
  .addHelpText('after', '\nExample:\n  slipway ticket list shop --open')
  .action(async (project: string, opts: { open: boolean; json: boolean }) => {
    await withClient(async (client) => {
      const tickets = await client.listTickets(project, { open: opts.open });
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
    await withClient(async (client) => {
      const t = await client.ticket(project, ticket);
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
    .requiredOption('--as <user>', 'who decides (a user of the identities file with the support role)')
    .option('--comment <text>', 'why')
    .addHelpText('after', `\nExample:\n  slipway ticket ${decision} shop SUP-3 --as sam --comment "checked on staging"`)
    .action(async (project: string, ticket: string, opts: { as: string; comment?: string }) => {
      await withClient(async (client) => {
        const t = await client.decide(project, ticket, { user: opts.as, decision, comment: opts.comment });
        console.error(`${t.id} is ${t.status}${t.status === 'open' ? ` (${t.approvals.length} of ${t.requiredApprovals} approvals)` : ''}`);
      });
    });
}

async function followDeployment(client: SlipwayClient, project: string, environment: string, n: number): Promise<void> {
  const p = progressPrinter();
  const d = await client.waitForDeployment(project, environment, { after: n - 1, onProgress: (x) => p.deployment(x) });
  p.done();
  if (d.status !== 'succeeded') throw new SlipwayError(`deployment #${d.deployment} failed: ${d.error ?? ''}`);
  console.error(`deployment #${d.deployment} of ${d.commit.slice(0, 12)} is live (slug ${d.slug ?? '?'}, no build)`);
}

envCmd
  .command('redeploy <project> <environment>')
  .description('deploy the current release again from its slug, with no build')
  .addHelpText('after', '\nExample:\n  slipway env redeploy shop integration')
  .action(async (project: string, environment: string) => {
    await withClient(async (client) => {
      const { deployment } = await client.redeploy(project, environment);
      await followDeployment(client, project, environment, deployment);
    });
  });
envCmd
  .command('cancel <project> <environment>')
  .description('stop the running deployment: its hook and every process it started; the release served before it stays served')
  .addHelpText('after', '\nExample:\n  slipway env cancel shop integration')
  .action(async (project: string, environment: string) => {
    await withClient(async (client) => {
      const d = await client.cancelDeployment(project, environment);
      if (d.status === 'cancelled') {
        const served = (await client.environmentStatus(project, environment)).current;
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
  .addHelpText('after', '\nExamples:\n  slipway env rollback shop integration\n  slipway env rollback shop integration --to 3')
  .action(async (project: string, environment: string, opts: { to?: number }) => {
    await withClient(async (client) => {
      const { deployment } = await client.rollback(project, environment, opts.to);
      await followDeployment(client, project, environment, deployment);
    });
  });

envCmd
  .command('log <project> <environment> [deployment]')
  .description('the timestamped log of a deployment (default: the newest)')
  .option('--json', 'machine-readable output: {deployment, lines}', false)
  .addHelpText('after', '\nExample:\n  slipway env log shop integration 3')
  .action(async (project: string, environment: string, deployment: string | undefined, opts: { json: boolean }) => {
    await withClient(async (client) => {
      let n = deployment === undefined ? undefined : Number(deployment);
      if (n !== undefined && (!Number.isInteger(n) || n < 1)) throw new SlipwayError('deployment must be a positive integer', 2);
      if (n === undefined) {
        const s = await client.environmentStatus(project, environment);
        n = s.running?.deployment ?? s.deployments[s.deployments.length - 1]?.deployment;
        if (n === undefined) throw new SlipwayError(`${project}/${environment} has no deployment yet`);
      }
      const log = client.deploymentLog(project, environment, n);
      if (opts.json) console.log(JSON.stringify({ deployment: n, lines: log.split('\n').filter(Boolean) }, null, 2));
      else process.stdout.write(log);
    });
  });

program
  .command('replay [workflow-ids...]')
  .description('replay live workflows (by id) or saved histories (--file) against the current workflow code')
  .option('--workflow-id <ids...>', 'workflows whose history to fetch from the server')
  .option('--file <files...>', 'history JSON files (as written by `temporal workflow show --output json` or `--save`)')
  .option('--save <dir>', 'also save the live histories as JSON files in this directory')
  .option('--json', 'machine-readable output', false)
  .addHelpText('after', '\nExamples:\n  slipway replay --workflow-id deploy/shop/integration/3 env/shop/integration\n  slipway replay --file test/histories/*.json')
  .action(async (positional: string[], opts: { workflowId?: string[]; file?: string[]; save?: string; json: boolean }) => {
    const ids = [...positional, ...(opts.workflowId ?? [])];
    const { replayFile, replayHistoryJson, fetchHistoryJson } = await import('../replay');
    const outcomes = [];
    for (const f of opts.file ?? []) outcomes.push(await replayFile(f));
    if (ids.length > 0) {
      await withClient(async (client) => {
        for (const id of ids) {
          const json = await fetchHistoryJson(client.temporal, id);
          if (opts.save) {
            fs.mkdirSync(opts.save, { recursive: true });
            fs.writeFileSync(path.join(opts.save, `${id.replace(/\//g, '_')}.json`), json);
          }
          outcomes.push(await replayHistoryJson(json, `live ${id}`, id));
        }
      });
    }
    if (outcomes.length === 0) throw new SlipwayError('nothing to replay: name workflow ids or --file', 2);
    if (opts.json) console.log(JSON.stringify(outcomes, null, 2));
    else for (const o of outcomes) console.log(`${o.ok ? 'ok  ' : 'FAIL'} ${o.source}${o.error ? `: ${o.error}` : ''}`);
    if (outcomes.some((o) => !o.ok)) throw new SlipwayError('replay found non-determinism');
  });

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
    console.error(`slipway: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    process.exitCode = 1;
  }
}

void main().then(() => process.exit(process.exitCode ?? 0));
